"""Pure Keras network builders: sizes in, uncompiled Keras models out.

Nothing here knows about scikit-learn. Every builder is deterministic for a given
``seed``: initialisers and stochastic layers receive explicit seeds.
"""

import numpy as np

from .backend import import_keras
from .runtime import keras_default_seeds

# Through the package's loader, so that whichever module loads Keras first (unpickling
# in a serving process, say) sets the log level and GPU memory growth before TensorFlow
# starts.
keras = import_keras()

#: Activations for which He initialisation keeps the variance of ReLU-like units stable.
RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "relu6"})


def _initializer(activation, seed):
    if isinstance(activation, str) and activation in RELU_FAMILY:
        if activation == "selu":
            return keras.initializers.LecunNormal(seed=seed)
        return keras.initializers.HeNormal(seed=seed)
    return keras.initializers.GlorotUniform(seed=seed)


def _regularizer(l1, l2):
    if l1 == 0 and l2 == 0:
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def dense_block(x, units, *, activation, dropout, batch_normalization, l2, seed, name, dtype):
    """Append Dense -> (BatchNormalization) -> activation -> (Dropout) to ``x``.

    Parameters
    ----------
    x : KerasTensor
        Input of the block.
    units : int
        Width of the dense layer.
    activation : str or callable
        Activation applied after the optional batch normalisation.
    dropout : float
        Dropout rate after the activation; 0 adds no dropout layer.
    batch_normalization : bool
        Whether to normalise the pre-activations.
    l2 : float
        L2 penalty on the kernel.
    seed : int
        Seed for the kernel initialiser and the dropout mask.
    name : str
        Prefix of the layer names.
    dtype : str
        Dtype of the layers' variables and computations.

    Returns
    -------
    x : KerasTensor
        Output of the block.
    """
    x = keras.layers.Dense(
        units,
        kernel_initializer=_initializer(activation, seed),
        kernel_regularizer=_regularizer(0.0, l2),
        use_bias=not batch_normalization,
        name=f"{name}_dense",
        dtype=dtype,
    )(x)
    if batch_normalization:
        x = keras.layers.BatchNormalization(name=f"{name}_bn", dtype=dtype)(x)
    x = keras.layers.Activation(activation, name=f"{name}_act", dtype=dtype)(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, seed=seed + 7919, name=f"{name}_dropout", dtype=dtype)(x)
    return x


def _block_options(activation, dropout, batch_normalization, l2, dtype):
    return {
        "activation": activation,
        "dropout": dropout,
        "batch_normalization": batch_normalization,
        "l2": l2,
        "dtype": dtype,
    }


def _linear_code(x, n_components, *, l1, l2, seed, name, dtype):
    """The linear bottleneck (or embedding) layer, with the L1 penalty on its output."""
    return keras.layers.Dense(
        n_components,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 101),
        kernel_regularizer=_regularizer(0.0, l2),
        activity_regularizer=_regularizer(l1, 0.0),
        name=name,
        dtype=dtype,
    )(x)


def _output_layer(output_activation, name, dtype):
    """The reconstruction's activation as a layer; ``"clip"`` is the identity clipped to
    [0, 1], a ReLU capped at 1."""
    if output_activation == "clip":
        return keras.layers.ReLU(max_value=1.0, name=name, dtype=dtype)
    return keras.layers.Activation(output_activation, name=name, dtype=dtype)


def _mirrored_decoder(y, hidden_layer_sizes, n_features, *, output_activation, seed, block):
    """Dense blocks with the hidden widths in reverse, then the reconstruction layer."""
    for i, units in enumerate(reversed(hidden_layer_sizes)):
        y = dense_block(y, units, seed=seed + 201 + i, name=f"decoder_{i}", **block)
    linear = output_activation == "clip"
    y = keras.layers.Dense(
        n_features,
        activation="linear" if linear else output_activation,
        kernel_initializer=_initializer("linear" if linear else output_activation, seed + 301),
        kernel_regularizer=_regularizer(0.0, block["l2"]),
        name="reconstruction_dense" if linear else "reconstruction",
        dtype=block["dtype"],
    )(y)
    if linear:
        y = _output_layer("clip", "reconstruction", block["dtype"])(y)
    return y


def build_autoencoder(
    n_features,
    n_components,
    *,
    hidden_layer_sizes,
    activation="relu",
    output_activation="linear",
    dropout=0.0,
    batch_normalization=False,
    l1=0.0,
    l2=0.0,
    noise_stddev=0.0,
    init="random",
    seed,
    dtype="float32",
    mean=None,
    components=None,
):
    """Build a dense autoencoder with a linear bottleneck and a mirrored decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Width of the linear code layer.
    hidden_layer_sizes : tuple of int
        Widths of the encoder's hidden layers; the decoder uses them in reverse.
    activation : str or callable, default="relu"
        Activation of the hidden layers.
    output_activation : str or callable, default="linear"
        Activation of the reconstruction layer; ``"clip"`` is the identity clipped to
        [0, 1].
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    batch_normalization : bool, default=False
        Whether hidden layers use batch normalisation.
    l1 : float, default=0.0
        L1 penalty on the code activations (a sparse autoencoder).
    l2 : float, default=0.0
        L2 penalty on all kernels.
    noise_stddev : float, default=0.0
        Standard deviation of Gaussian noise added to the input during training (a
        denoising autoencoder); 0 adds none.
    init : {"random", "pca"}, default="random"
        ``"random"``: the hidden layers lead to the code and from it, all randomly
        initialised. ``"pca"``: the code is a linear projection of the input plus a
        residual branch through the hidden layers, and the reconstruction a linear map
        of the code plus a mirrored residual branch. The residual branches' last layers
        start at zero, so with ``mean`` and ``components`` the untrained network is
        exactly PCA. With hidden layers the projection is not trained: the code is
        PCA's projection plus what the nonlinear branch learns to add.
    seed : int
        Seed of every initialiser and stochastic layer.
    dtype : str, default="float32"
        Dtype of every layer.
    mean : ndarray of shape (n_features,), default=None
        With ``init="pca"``, the centre of the data.
    components : ndarray of shape (n_components, n_features), default=None
        With ``init="pca"``, orthonormal directions (PCA's ``components_``). The linear
        encoder starts as ``(x - mean) @ components.T`` and the linear decoder as
        ``code @ components + mean``. Without them those layers start randomly.

    Returns
    -------
    autoencoder : keras.Model
        Input to reconstruction, the model that is trained.
    encoder : keras.Model
        Input to code; shares its layers with ``autoencoder``.
    decoder : keras.Model
        Code to reconstruction; shares its layers with ``autoencoder``.
    """
    block = _block_options(activation, dropout, batch_normalization, l2, dtype)

    inputs = keras.Input(shape=(n_features,), name="input", dtype=dtype)
    x = inputs
    if noise_stddev > 0:
        x = keras.layers.GaussianNoise(noise_stddev, seed=seed, name="input_noise", dtype=dtype)(x)
    if init == "pca":
        # The projection stays PCA's: reconstruction alone does not pin down the code's
        # linear geometry (the decoder can undo any mixing of its units), and a drifting
        # projection made a worse input for distance-based methods such as t-SNE.
        code = _residual_sum(
            x, hidden_layer_sizes, n_components, "code", seed, block, trainable=False
        )
        if l1 > 0:
            code = keras.layers.ActivityRegularization(l1=l1, name="code_l1", dtype=dtype)(code)
    else:
        for i, units in enumerate(hidden_layer_sizes):
            x = dense_block(x, units, seed=seed + 1 + i, name=f"encoder_{i}", **block)
        code = _linear_code(x, n_components, l1=l1, l2=l2, seed=seed, name="code", dtype=dtype)
    encoder = keras.Model(inputs, code, name="encoder")

    code_input = keras.Input(shape=(n_components,), name="code_input", dtype=dtype)
    if init == "pca":
        summed = _residual_sum(
            code_input, hidden_layer_sizes[::-1], n_features, "reconstruction", seed + 200, block
        )
        reconstruction = _output_layer(output_activation, "reconstruction", dtype)(summed)
    else:
        reconstruction = _mirrored_decoder(
            code_input,
            hidden_layer_sizes,
            n_features,
            output_activation=output_activation,
            seed=seed,
            block=block,
        )
    decoder = keras.Model(code_input, reconstruction, name="decoder")

    if init == "pca" and components is not None:
        components = np.asarray(components, dtype=dtype)
        mean = np.asarray(mean, dtype=dtype)
        encoder.get_layer("code_linear").set_weights([components.T, -mean @ components.T])
        decoder.get_layer("reconstruction_linear").set_weights([components, mean])

    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    return autoencoder, encoder, decoder


def _residual_sum(x, hidden_layer_sizes, units, name, seed, block, trainable=True):
    """A linear map of ``x`` plus a zero-initialised nonlinear branch through hidden blocks.

    The linear layer is ``{name}_linear``; without hidden layers it is the whole map and
    always trainable, otherwise ``trainable`` says whether it trains.
    """
    linear = keras.layers.Dense(
        units,
        trainable=trainable or not hidden_layer_sizes,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 101),
        kernel_regularizer=_regularizer(0.0, block["l2"]),
        name=f"{name}_linear",
        dtype=block["dtype"],
    )(x)
    if not hidden_layer_sizes:
        return linear
    branch = x
    for i, width in enumerate(hidden_layer_sizes):
        branch = dense_block(branch, width, seed=seed + 1 + i, name=f"{name}_branch_{i}", **block)
    # Starting at zero, the branch adds nothing until training finds something to add.
    branch = keras.layers.Dense(
        units,
        kernel_initializer="zeros",
        kernel_regularizer=_regularizer(0.0, block["l2"]),
        name=f"{name}_residual",
        dtype=block["dtype"],
    )(branch)
    return keras.layers.Add(name=f"{name}_sum", dtype=block["dtype"])([linear, branch])


def _hidden_stack(x, hidden_layer_sizes, *, skip_connections, seed, name, block):
    """Dense blocks from ``x``; with skip connections each block (and the result) sees the
    concatenation of ``x`` and every earlier block's output."""
    earlier = [x]
    for i, units in enumerate(hidden_layer_sizes):
        if skip_connections and len(earlier) > 1:
            x = keras.layers.Concatenate(name=f"{name}_{i}_skip", dtype=block["dtype"])(earlier)
        x = dense_block(x, units, seed=seed + i, name=f"{name}_{i}", **block)
        earlier.append(x)
    if skip_connections and len(earlier) > 1:
        x = keras.layers.Concatenate(name=f"{name}_skip", dtype=block["dtype"])(earlier)
    return x


def _embedding_and_head(
    x, n_components, n_outputs, *, hidden_layer_sizes, skip_connections, l1, l2, seed, block, dtype
):
    """Hidden layers, the linear embedding layer and the task head on top of `x`.

    Returns the embedding and the head's output (logits or standardised values).
    """
    x = _hidden_stack(
        x,
        hidden_layer_sizes,
        skip_connections=skip_connections,
        seed=seed + 1,
        name="hidden",
        block=block,
    )
    embedding = _linear_code(
        x, n_components, l1=l1, l2=l2, seed=seed, name="embedding", dtype=dtype
    )
    head = keras.layers.Dense(
        n_outputs,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 151),
        kernel_regularizer=_regularizer(0.0, l2),
        name="task",
        dtype=dtype,
    )(embedding)
    return embedding, head


def build_supervised_network(
    n_features,
    n_components,
    n_outputs,
    *,
    hidden_layer_sizes,
    activation,
    dropout,
    batch_normalization,
    l1,
    l2,
    skip_connections,
    reconstruct,
    noise_stddev=0.0,
    seed,
    dtype="float32",
):
    """Build a dense network with a linear embedding layer right before its task head.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_components : int
        Width of the linear embedding layer.
    n_outputs : int
        Width of the task head, whose outputs are logits or standardised values (no
        activation: the losses apply the link function).
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers between the input and the embedding.
    activation : str or callable
        Activation of the hidden layers.
    dropout : float
        Dropout rate after each hidden layer.
    batch_normalization : bool
        Whether hidden layers use batch normalisation.
    l1 : float
        L1 penalty on the embedding activations.
    l2 : float
        L2 penalty on all kernels.
    skip_connections : bool
        Whether every hidden layer and the embedding also receive the input and the
        outputs of all earlier hidden layers (concatenated).
    reconstruct : bool
        Whether to add a decoder from the embedding back to the input, trained as a
        second output.
    noise_stddev : float, default=0.0
        Standard deviation of Gaussian noise added to the input during training; 0 adds
        none.
    seed : int
        Seed of every initialiser and stochastic layer.
    dtype : str, default="float32"
        Dtype of every layer: float32 to train, float64 for batch-independent inference.

    Returns
    -------
    trained : keras.Model
        The model that is trained: input to task output, plus the reconstruction as a
        second output when ``reconstruct`` is true.
    predictor : keras.Model
        Input to task output; shares its layers with ``trained``.
    encoder : keras.Model
        Input to embedding; shares its layers with ``trained``.
    """
    block = _block_options(activation, dropout, batch_normalization, l2, dtype)

    inputs = keras.Input(shape=(n_features,), name="input", dtype=dtype)
    x = inputs
    if noise_stddev > 0:
        x = keras.layers.GaussianNoise(noise_stddev, seed=seed, name="input_noise", dtype=dtype)(x)
    embedding, head = _embedding_and_head(
        x,
        n_components,
        n_outputs,
        hidden_layer_sizes=hidden_layer_sizes,
        skip_connections=skip_connections,
        l1=l1,
        l2=l2,
        seed=seed,
        block=block,
        dtype=dtype,
    )
    encoder = keras.Model(inputs, embedding, name="encoder")
    predictor = keras.Model(inputs, head, name="predictor")
    if not reconstruct:
        return predictor, predictor, encoder

    reconstruction = _mirrored_decoder(
        embedding,
        hidden_layer_sizes,
        n_features,
        output_activation="linear",
        seed=seed,
        block=block,
    )
    trained = keras.Model(inputs, [head, reconstruction], name="supervised_autoencoder")
    return trained, predictor, encoder


def clone_user_network(model, *, embedding_layer, seed=0, dtype="float32"):
    """Rebuild a user's Keras model with fresh weights and the given dtype.

    The original model is left untouched. Every initialiser and stochastic layer that
    has no seed of its own gets one derived from ``seed`` and the layer's position, so
    the clone's weights never depend on Keras's process-wide generator.

    Parameters
    ----------
    model : keras.Model
        A single-input, single-output model.
    embedding_layer : str
        Name of the layer whose output is the embedding.
    seed : int, default=0
        Seed of the initialisers and stochastic layers that do not set their own.
    dtype : str, default="float32"
        Dtype of every layer of the clone.

    Returns
    -------
    predictor : keras.Model
        The clone: input to output.
    encoder : keras.Model
        Input to the output of ``embedding_layer``; shares its layers with ``predictor``.
    """

    positions = {id(layer): i for i, layer in enumerate(model.layers)}

    def with_dtype(layer):
        config = _seed_unseeded(layer.get_config(), seed + 1009 * positions.get(id(layer), 0))
        config["dtype"] = dtype
        return layer.__class__.from_config(config)

    input_shape = tuple(model.inputs[0].shape[1:])
    inputs = keras.Input(shape=input_shape, dtype=dtype, name="input")
    with keras_default_seeds(seed):
        clone = keras.models.clone_model(model, input_tensors=inputs, clone_function=with_dtype)
    # Rewrapped so that both models take a single tensor rather than a list of one.
    predictor = keras.Model(inputs, clone.outputs[0], name=model.name)
    encoder = keras.Model(inputs, clone.get_layer(embedding_layer).output, name="encoder")
    return predictor, encoder


def copy_architecture(model):
    """A copy of ``model``'s layers and wiring, for checking and storing its design.

    Like ``keras.models.clone_model``, but initialisers and stochastic layers without a
    seed get fixed ones, so that copying draws nothing from Keras's global generator
    (which is Python's ``random``, the caller's).
    """
    with keras_default_seeds(0):
        return keras.models.clone_model(
            model,
            clone_function=lambda layer: layer.__class__.from_config(
                _seed_unseeded(layer.get_config(), 0)
            ),
        )


def _seed_unseeded(config, seed):
    """``config`` with every ``"seed": None`` (initialisers, dropout, noise) set, each
    to a different value derived from ``seed``."""
    counter = iter(range(seed, seed + 1_000_000))

    def visit(value):
        if isinstance(value, dict):
            return {
                key: next(counter) if key == "seed" and item is None else visit(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(visit(item) for item in value)
        return value

    return visit(config)


def build_map_network(
    n_features,
    n_components,
    *,
    hidden_layer_sizes,
    activation="relu",
    dropout=0.0,
    l2=0.0,
    init="random",
    reconstruction=False,
    seed,
    dtype="float32",
    mean=None,
    components=None,
):
    """Build the network of a parametric map: rows in, map coordinates out.

    The design is the autoencoder's encoder (:func:`build_autoencoder`), with a
    projection that trains: a map's axes have no meaning of their own, and the
    neighbourhood objective, unlike a reconstruction, pins the geometry down.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_components : int
        Dimension of the map.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers.
    activation : str or callable, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    l2 : float, default=0.0
        L2 penalty on every kernel.
    init : {"random", "pca"}, default="random"
        ``"random"``: a plain stack of hidden layers and a linear output layer.
        ``"pca"``: a linear projection of the input plus a nonlinear branch through the
        hidden layers whose last layer starts at zero; with ``mean`` and
        ``components`` the untrained network is the (scaled) PCA projection.
    reconstruction : bool, default=False
        Whether to build a decoder from the map back to the input (mirrored hidden
        layers), for a reconstruction loss that regularises the map.
    seed : int
        Seed of every initialiser and stochastic layer.
    dtype : str, default="float32"
        Dtype of every layer.
    mean : ndarray of shape (n_features,), default=None
        With ``init="pca"``, the centre of the data.
    components : ndarray of shape (n_components, n_features), default=None
        With ``init="pca"``, the starting projection: the network starts as
        ``(x - mean) @ components.T``.

    Returns
    -------
    network : keras.Model
        Input to map coordinates, the model that is trained (returned twice, as the
        trained model and as the fitted network).
    network : keras.Model
        The same model.
    decoder : keras.Model
        Map coordinates to reconstruction; only with ``reconstruction=True``.
    """
    block = _block_options(activation, dropout, False, l2, dtype)
    inputs = keras.Input(shape=(n_features,), name="input", dtype=dtype)
    if init == "pca":
        position = _residual_sum(inputs, hidden_layer_sizes, n_components, "map", seed, block)
    else:
        x = inputs
        for i, units in enumerate(hidden_layer_sizes):
            x = dense_block(x, units, seed=seed + 1 + i, name=f"map_{i}", **block)
        position = _linear_code(x, n_components, l1=0.0, l2=l2, seed=seed, name="map", dtype=dtype)
    network = keras.Model(inputs, position, name="map_network")
    if init == "pca" and components is not None:
        components = np.asarray(components, dtype=dtype)
        mean = np.asarray(mean, dtype=dtype)
        network.get_layer("map_linear").set_weights([components.T, -mean @ components.T])
    if not reconstruction:
        return network, network
    position_input = keras.Input(shape=(n_components,), name="position_input", dtype=dtype)
    reconstructed = _mirrored_decoder(
        position_input,
        hidden_layer_sizes,
        n_features,
        output_activation="linear",
        seed=seed,
        block=block,
    )
    decoder = keras.Model(position_input, reconstructed, name="decoder")
    return network, network, decoder


@keras.saving.register_keras_serializable(package="ae_reduce")
class PaddedTokenEmbedding(keras.layers.Embedding):
    """A ``keras.layers.Embedding`` whose output is exactly zero wherever the id is 0.

    Multiplying by the mask, rather than relying on row 0 of the table staying at zero,
    keeps padding out of every sum whatever the optimizer does to that row.
    """

    def call(self, inputs):
        vectors = super().call(inputs)
        present = keras.ops.cast(keras.ops.not_equal(inputs, 0), vectors.dtype)
        return vectors * keras.ops.expand_dims(present, -1)


@keras.saving.register_keras_serializable(package="ae_reduce")
class MaskedPooling(keras.layers.Layer):
    """Mean or maximum of token vectors over the positions that the mask keeps.

    The mean is a sum over the kept positions, in their order, divided by their count:
    a segment sum that never sees a padded position, so the result does not depend on
    where the padding is or how much of it there is. (A plain sum over the whole row
    measured differently, by a few units in the last place, when the padding came
    first.) A row without any token pools to zeros, never to NaN (mean) or to the
    lowest float (maximum). The output carries no mask.

    Parameters
    ----------
    pooling : {"mean", "max"}
        How token vectors are combined.
    """

    def __init__(self, pooling="mean", **kwargs):
        super().__init__(**kwargs)
        self.pooling = pooling
        self.supports_masking = True

    def call(self, inputs, mask=None):
        ops = keras.ops
        n_rows, length = ops.shape(inputs)[0], ops.shape(inputs)[1]
        if mask is None:
            mask = ops.ones((n_rows, length), dtype="bool")
        count = ops.sum(ops.cast(mask, inputs.dtype), axis=1, keepdims=True)
        if self.pooling == "max":
            lowest = float(np.finfo(keras.backend.standardize_dtype(inputs.dtype)).min)
            largest = ops.max(ops.where(ops.expand_dims(mask, -1), inputs, lowest), axis=1)
            return ops.where(count > 0, largest, ops.zeros_like(largest))
        # Padded positions go to one extra segment, which is dropped.
        rows = ops.broadcast_to(ops.expand_dims(ops.arange(n_rows), 1), (n_rows, length))
        segments = ops.where(mask, rows, n_rows)
        total = ops.segment_sum(
            ops.reshape(inputs, (-1, ops.shape(inputs)[2])),
            ops.reshape(segments, (-1,)),
            num_segments=n_rows + 1,
        )[:n_rows]
        return total / ops.maximum(count, 1.0)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "pooling": self.pooling}


def build_token_network(
    vocabulary_size,
    embedding_dim,
    n_components,
    n_outputs,
    *,
    pooling,
    hidden_layer_sizes,
    activation,
    dropout,
    batch_normalization,
    l1,
    l2,
    skip_connections,
    seed,
    dtype="float32",
):
    """Build a network over padded token-id sequences with an embedding before its head.

    Ids are looked up in a table of token vectors (id 0, padding, gives a zero vector and
    is masked), the vectors of each sequence are pooled over its real tokens, and dense
    layers lead to a linear embedding layer and the task head, as in
    :func:`build_supervised_network`. The input takes sequences of any length.

    Parameters
    ----------
    vocabulary_size : int
        Number of ids, padding included: ids run from 0 to ``vocabulary_size - 1``. The
        table has one more row, ``vocabulary_size``, for unknown tokens; it starts at
        zero.
    embedding_dim : int
        Width of the token vectors.
    n_components : int
        Width of the linear embedding layer.
    n_outputs : int
        Width of the task head (logits or standardised values).
    pooling : {"mean", "max"}
        How a sequence's token vectors are combined.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers between the pooled vector and the embedding.
    activation : str or callable
        Activation of the hidden layers.
    dropout : float
        Dropout rate after each hidden layer.
    batch_normalization : bool
        Whether hidden layers use batch normalisation.
    l1 : float
        L1 penalty on the embedding activations.
    l2 : float
        L2 penalty on the dense layers' kernels (not on the token vectors).
    skip_connections : bool
        Whether every hidden layer and the embedding also receive the pooled vector and
        the outputs of all earlier hidden layers (concatenated).
    seed : int
        Seed of every initialiser and stochastic layer.
    dtype : str, default="float32"
        Dtype of every layer and of the input.

    Returns
    -------
    trained : keras.Model
        Ids to task output, the model that is trained.
    predictor : keras.Model
        The same model.
    encoder : keras.Model
        Ids to embedding; shares its layers with ``trained``.
    """
    block = _block_options(activation, dropout, batch_normalization, l2, dtype)
    inputs = keras.Input(shape=(None,), name="token_ids", dtype=dtype)
    table = PaddedTokenEmbedding(
        vocabulary_size + 1,
        embedding_dim,
        embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed + 11),
        mask_zero=True,
        name="token_embedding",
        dtype=dtype,
    )
    vectors = table(inputs)
    x = MaskedPooling(pooling, name=f"{pooling}_pooling", dtype=dtype)(vectors)
    embedding, head = _embedding_and_head(
        x,
        n_components,
        n_outputs,
        hidden_layer_sizes=hidden_layer_sizes,
        skip_connections=skip_connections,
        l1=l1,
        l2=l2,
        seed=seed,
        block=block,
        dtype=dtype,
    )
    # No training id reaches the unknown row, so it never receives a gradient: at zero,
    # an unknown token adds nothing to a sum (it still counts in the mean's divisor).
    unknown_row = keras.ops.expand_dims(keras.ops.arange(vocabulary_size + 1) == vocabulary_size, 1)
    table.embeddings.assign(keras.ops.where(unknown_row, 0.0, table.embeddings))
    encoder = keras.Model(inputs, embedding, name="encoder")
    predictor = keras.Model(inputs, head, name="predictor")
    return predictor, predictor, encoder
