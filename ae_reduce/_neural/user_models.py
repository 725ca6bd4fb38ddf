"""Networks users bring: checks, the embedding layer, and pickling by architecture."""

import sys

from .._utils.targets import CLASSIFICATION_KINDS

#: Output activations that make a model's outputs probabilities rather than logits.
PROBABILITY_ACTIVATIONS = frozenset({"sigmoid", "softmax"})

#: Key of a Keras model's architecture, as JSON, in a pickled ``model`` parameter.
ARCHITECTURE = "keras_model_json"


def is_keras_model(value):
    """Whether ``value`` is a Keras model, without importing Keras."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


def model_from_json(architecture):
    """Rebuild a custom Keras model (fresh weights) from its JSON architecture."""
    from .._keras.backend import import_keras

    keras = import_keras()
    from .._keras.networks import keras_default_seeds

    try:
        # Its fresh weights are never used, but building must not consume the
        # caller's random stream.
        with keras_default_seeds(0):
            return keras.models.model_from_json(architecture)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "The custom Keras model of this SupervisedEmbeddingTransformer cannot be "
            f"rebuilt from its architecture ({error}). Custom layers must be registered "
            "with keras.saving.register_keras_serializable and imported before loading."
        ) from error


def check_user_network(network, n_features, target, embedding_layer):
    """Refuse a user's model that cannot be trained on ``target`` or embed from its layer.

    Returns
    -------
    two_unit_binary : bool
        Whether a binary target is learnt by two softmax units.
    outputs_probabilities : bool
        Whether the model ends with a sigmoid or softmax (rather than logits).
    """
    if len(network.inputs) != 1 or len(network.outputs) != 1:
        raise ValueError(
            f"model must have one input and one output; it has {len(network.inputs)} "
            f"inputs and {len(network.outputs)} outputs."
        )
    input_shape = tuple(network.inputs[0].shape)
    if len(input_shape) != 2 or input_shape[1] != n_features:
        raise ValueError(
            f"model takes inputs of shape {input_shape}, but X has {n_features} "
            f"features: its input must be keras.Input(shape=({n_features},))."
        )
    width = network.outputs[0].shape[-1]
    accepted = {target.n_outputs} | ({2} if target.kind == "binary" else set())
    if len(network.outputs[0].shape) != 2 or width not in accepted:
        raise ValueError(
            f"model's output has shape {tuple(network.outputs[0].shape)}, but y "
            f"({target.kind}) needs {target.n_outputs} output unit(s)"
            + (" (or 2 for a softmax)" if target.kind == "binary" else "")
            + "."
        )
    two_unit_binary = target.kind == "binary" and width == 2
    activation = output_activation(network)
    outputs_probabilities = activation in PROBABILITY_ACTIVATIONS
    if outputs_probabilities and target.kind not in CLASSIFICATION_KINDS:
        raise ValueError(
            f"model ends with a {activation} activation, but y is {target.kind}: a "
            "regression output needs a linear activation."
        )
    if activation == "softmax" and width == 1:
        raise ValueError(
            "model ends with a softmax over a single unit, which is always 1; use a "
            "sigmoid for one unit or give the output 2 units."
        )
    if embedding_layer is not None:
        names = [layer.name for layer in network.layers]
        if embedding_layer not in names:
            raise ValueError(
                f"model has no layer named {embedding_layer!r} (embedding_layer); "
                f"its layers are {names!r}."
            )
    return two_unit_binary, outputs_probabilities


def output_activation(network):
    """The name of the activation that ends ``network``, or None."""
    layer = network.layers[-1]
    activation = getattr(layer, "activation", None)
    if activation is None:
        return "softmax" if type(layer).__name__ == "Softmax" else None
    return getattr(activation, "__name__", None)


def default_embedding_layer(network):
    """The name of the layer that feeds the output: the default embedding layer."""
    history = getattr(network.layers[-1].input, "_keras_history", None)
    layer = getattr(history, "operation", None)
    if layer is None or type(layer).__name__ == "InputLayer":
        raise ValueError(
            "model has no hidden layer before its output to take the embedding from; "
            "add one, or name the layer with embedding_layer."
        )
    return layer.name
