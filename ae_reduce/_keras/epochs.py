"""Whole training epochs compiled into one TensorFlow graph, for data held in memory.

``keras.Model.fit`` spends 60-70 ms per epoch on its iterators, callbacks and
validation whatever the model's work, which dominates small fits: on 1,800 rows a
100-epoch fit costs seconds where the arithmetic costs a fraction of one. Here the data
is converted to tensors once per fit, and each epoch (shuffle, mini-batch steps,
running loss) is a single call of a ``tf.function`` that is traced once per compiled
model and reused by every later fit of the same architecture.

Imported only from ``fit``: it loads TensorFlow at import time.
"""

import functools

import numpy as np

from .backend import import_keras
from .inputs import take_rows

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras has configured TensorFlow)

#: Rows per evaluation step; evaluation holds no gradients, so larger blocks are cheap.
_EVALUATION_ROWS = 4096


def loss_functions(loss):
    """Per-output Keras loss objects, reduced as ``keras.Model.compile`` reduces them.

    Parameters
    ----------
    loss : str, callable or list of those
        One loss per model output, as given to ``compile``.

    Returns
    -------
    losses : list of keras.losses.Loss
    """
    entries = loss if isinstance(loss, list | tuple) else [loss]
    return [
        _PerRowLoss(keras.losses.get(entry) if isinstance(entry, str) else entry)
        for entry in entries
    ]


class _PerRowLoss(keras.losses.Loss):
    """A per-row loss function, weighted and averaged over the batch by Keras.

    The estimators give targets the rank of the outputs they are compared with (or class
    codes for the sparse cross-entropy), so no reshaping is needed here.
    """

    def __init__(self, function):
        super().__init__(reduction="sum_over_batch_size")
        self.function = function

    def call(self, y_true, y_pred):
        return self.function(y_true, y_pred)


class CompiledEpochs:
    """Train and evaluate a compiled Keras model one whole epoch per graph call.

    Parameters
    ----------
    model : keras.Model
        A compiled model (its optimizer is used); it is trained in place.
    loss : str, callable or list of those
        The loss of each output.
    reconstruct : tuple of bool
        For each output, whether its target is the input itself.
    """

    def __init__(self, model, loss, reconstruct):
        self.model = model
        self.losses = loss_functions(loss)
        self.reconstruct = reconstruct
        # Partials, not bound methods: TensorFlow counts traces per code object, so every
        # new architecture's first trace would add up to a "frequent retracing" warning
        # across instances, although each instance traces only once or twice.
        self._train_epoch = tf.function(functools.partial(self._epoch), reduce_retracing=True)
        self._evaluate = tf.function(functools.partial(self._evaluation), reduce_retracing=True)

    # -- graph bodies -----------------------------------------------------------------

    def _batch_loss(self, x, targets, weights, training):
        outputs = self.model(x, training=training)
        if len(self.losses) == 1:
            outputs = [outputs]
        total = 0.0
        for i, (loss, output) in enumerate(zip(self.losses, outputs, strict=True)):
            target = x if self.reconstruct[i] else targets[i]
            weight = None if weights is None else weights[i]
            total += loss(target, output, sample_weight=weight)
        if self.model.losses:
            total += tf.add_n(self.model.losses)
        return total

    def _gather(self, x, targets, weights, rows):
        x_rows = tf.gather(x, rows)
        targets_rows = [None if t is None else tf.gather(t, rows) for t in targets]
        weights_rows = None if weights is None else [tf.gather(w, rows) for w in weights]
        return x_rows, targets_rows, weights_rows

    def _epoch(self, x, targets, weights, batch_size, seed):
        n_rows = tf.shape(x)[0]
        order = tf.argsort(tf.random.stateless_uniform([n_rows], seed=seed))
        variables = self.model.trainable_variables
        total = tf.constant(0.0)
        for start in tf.range(0, n_rows, batch_size):
            rows = order[start : tf.minimum(start + batch_size, n_rows)]
            x_rows, targets_rows, weights_rows = self._gather(x, targets, weights, rows)
            with tf.GradientTape() as tape:
                loss = self._batch_loss(x_rows, targets_rows, weights_rows, training=True)
            gradients = tape.gradient(loss, variables)
            self.model.optimizer.apply_gradients(zip(gradients, variables, strict=True))
            total += loss * tf.cast(tf.shape(rows)[0], tf.float32)
        return total / tf.cast(n_rows, tf.float32)

    def _evaluation(self, x, targets, weights):
        n_rows = tf.shape(x)[0]
        total = tf.constant(0.0)
        for start in tf.range(0, n_rows, _EVALUATION_ROWS):
            rows = tf.range(start, tf.minimum(start + _EVALUATION_ROWS, n_rows))
            x_rows, targets_rows, weights_rows = self._gather(x, targets, weights, rows)
            loss = self._batch_loss(x_rows, targets_rows, weights_rows, training=False)
            total += loss * tf.cast(tf.shape(rows)[0], tf.float32)
        return total / tf.cast(n_rows, tf.float32)

    # -- Python side ------------------------------------------------------------------

    def tensors(self, source, targets, sample_weight, rows):
        """Device tensors of the given rows: inputs, targets and weights.

        Targets that are the input itself are passed as None and read from the input
        rows inside the graph, so the data is held once.
        """
        x, picked, weights = take_rows(source, targets, sample_weight, rows)
        as_tensor = tf.convert_to_tensor
        target_tensors = [
            None if reconstruct else as_tensor(target)
            for target, reconstruct in zip(picked, self.reconstruct, strict=True)
        ]
        weight_tensors = None
        if weights is not None:
            weight_tensors = [as_tensor(np.asarray(w, dtype=np.float32)) for w in weights]
        return as_tensor(x), target_tensors, weight_tensors

    def train_epoch(self, data, batch_size, seed):
        """Run one shuffled epoch of mini-batch steps; return the mean training loss."""
        x, targets, weights = data
        return float(self._train_epoch(x, targets, weights, tf.constant(batch_size), seed))

    def evaluate(self, data):
        """Mean loss over the rows of ``data``, without training."""
        x, targets, weights = data
        return float(self._evaluate(x, targets, weights))
