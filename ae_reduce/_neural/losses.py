"""Losses of the supervised networks, as named callables Keras can save."""


def sigmoid_crossentropy(y_true, y_pred, label_smoothing=0.0):
    """Binary cross-entropy of 0/1 targets against logits, averaged over columns."""
    import keras

    return keras.losses.binary_crossentropy(
        y_true, y_pred, from_logits=True, label_smoothing=label_smoothing
    )


def softmax_crossentropy(y_true, y_pred, label_smoothing=0.0):
    """Categorical cross-entropy of integer class codes against logits."""
    import keras

    if not label_smoothing:
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
    one_hot = keras.ops.one_hot(keras.ops.cast(y_true, "int32"), keras.ops.shape(y_pred)[-1])
    return keras.losses.categorical_crossentropy(
        one_hot, y_pred, from_logits=True, label_smoothing=label_smoothing
    )


class LogitCrossentropy:
    """Cross-entropy against logits, with label smoothing, as a Keras loss function.

    A named callable with a configuration rather than a ``functools.partial``, so that
    Keras can save a model compiled with it (``keras.callbacks.ModelCheckpoint`` saves
    the whole model), and with a ``repr`` that identifies it, which the cache of
    compiled models keys on.

    Parameters
    ----------
    kind : {"sigmoid", "softmax"}
        Independent 0/1 outputs, or one class out of several (integer codes).
    label_smoothing : float
        Passed to Keras's cross-entropy.
    """

    def __init__(self, kind, label_smoothing):
        self.kind = kind
        self.label_smoothing = label_smoothing
        self.__name__ = f"{kind}_crossentropy"

    def __call__(self, y_true, y_pred):
        function = sigmoid_crossentropy if self.kind == "sigmoid" else softmax_crossentropy
        return function(y_true, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {"kind": self.kind, "label_smoothing": self.label_smoothing}

    def __repr__(self):
        return f"LogitCrossentropy({self.kind!r}, label_smoothing={self.label_smoothing!r})"
