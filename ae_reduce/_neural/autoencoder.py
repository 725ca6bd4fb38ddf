"""KerasAutoencoderTransformer: an autoencoder that behaves like scikit-learn's PCA."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_random_state

from .._io.source import RECONSTRUCT, Source
from .._io.validation import check_input
from .._keras.runtime import single_blas_thread
from .._utils.atomic import atomic_fit
from .._utils.docstrings import fill_docstrings
from .base import ACTIVATIONS, BaseNeuralEstimator

#: Most rows that the PCA initialisation reads from a sparse matrix or a memory map.
_PCA_ROWS = 20_000


#: Most features for which the PCA start falls back on the covariance matrix (8 bytes
#: times its square: 200 MB) when ARPACK fails on sparse input.
_COVARIANCE_FEATURES = 5000

#: Output activations whose values stay in [0, 1], as binary cross-entropy needs.
_PROBABILITY_OUTPUTS = frozenset({"sigmoid", "hard_sigmoid"})


@fill_docstrings()
class KerasAutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNeuralEstimator
):
    """Nonlinear dimensionality reduction with a dense autoencoder that starts as PCA.

    The encoder maps each row to a code of ``n_components`` units; a decoder maps the
    code back to the input space. The network is trained to reconstruct its input, so
    no labels are needed. :meth:`transform` returns the code and
    :meth:`inverse_transform` decodes it, as :class:`~sklearn.decomposition.PCA` does
    with its components.

    By default (``init="pca"``) the code is PCA's projection of the input plus a
    nonlinear branch through ``hidden_layer_sizes``, and the reconstruction a linear
    map of the code plus a mirrored nonlinear branch. The linear parts start as PCA's
    projection and reconstruction and the branches start at zero, so the untrained
    network *is* PCA and training, with early stopping on held-out rows, only moves
    from there when it reconstructs better. The projection itself is kept fixed, so
    distances between codes keep PCA's geometry plus the learned corrections.

    Training uses Keras 3 with the TensorFlow backend, on a GPU when one is visible.
    Scale the input first (for example with :class:`~sklearn.preprocessing.StandardScaler`):
    the network, like any gradient-trained model, converges poorly on raw units.

    Parameters
    ----------
    n_components : int, default=2
        Width of the code: the number of output features of :meth:`transform`. At most
        the number of input features.

    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers, from the input towards the code. The
        decoder uses the same widths in reverse. An empty tuple gives a linear
        autoencoder (with ``init="pca"``, one that starts as PCA).

    {activation}

    output_activation : str, default="auto"
        Activation of the reconstruction layer. ``"auto"`` is ``"clip"`` when every
        value of the training rows lies in [0, 1] (pixels scaled by
        :class:`AutoScaler` or :class:`~sklearn.preprocessing.MinMaxScaler`), else
        ``"linear"``; the one used is stored in ``output_activation_``. ``"clip"`` is
        the identity clipped to [0, 1]: the PCA start then reconstructs at least as
        well as PCA (clipping to the data's box only brings values closer), and the
        network can set blank pixels to exactly 0. On 5,000 real MNIST digits the
        held-out error fell from 0.79x PCA's with a linear output to 0.58x.
        ``"linear"`` suits standardised data; ``"sigmoid"`` suits data in [0, 1] with
        ``loss="binary_crossentropy"``, which requires ``"sigmoid"`` or
        ``"hard_sigmoid"``.

    {dropout}

    {batch_normalization}

    l1 : float, default=0.0
        L1 penalty on the code activations; a positive value gives a sparse
        autoencoder.

    {l2}

    noise_stddev : float, default=0.0
        Standard deviation of the Gaussian noise added to the input during training; a
        positive value gives a denoising autoencoder. It is in the units of the input.

    init : {"pca", "random"}, default="pca"
        How the network starts. ``"pca"``: linear paths initialised with PCA of the
        training rows (centring, projection on the top components, their transpose and
        the mean back) beside nonlinear residual branches whose last layers start at
        zero; the untrained network equals PCA (exactly so with
        ``output_activation="linear"``). The encoder's projection stays fixed
        (trainable only when ``hidden_layer_sizes`` is empty, a linear autoencoder).
        Sparse matrices and memory maps take the PCA of at most 20,000 randomly drawn
        rows. ``"random"``: a plain stack of randomly
        initialised layers through the code, and a mirrored decoder.

    loss : {"mse", "mae", "huber", "binary_crossentropy"}, default="mse"
        Reconstruction loss minimised during training. ``"binary_crossentropy"`` treats
        each feature as a probability: it needs ``X`` in [0, 1] and an
        ``output_activation`` that stays in [0, 1] (``"sigmoid"`` or ``"hard_sigmoid"``);
        ``fit`` raises a ``ValueError`` otherwise.

    {optimizer}

    {learning_rate}

    {learning_rate_schedule}

    {batch_size}

    {epochs}

    validation_split : float, default=0.1
        Fraction of the rows, chosen at random, held out to measure ``val_loss`` for
        early stopping. With 0, or too few rows to hold any out, the training loss is
        monitored instead.

    {early_stopping}

    patience : int, default=20
        Epochs without improvement before early stopping.

    {min_delta}

    {callbacks}

    {device}

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split, dropout, noise and shuffling. An int
        makes :meth:`fit` reproducible on the CPU: same data and seed, identical
        embeddings, whatever ran before in the process and in other threads, and in
        a Dask or joblib worker as in the main process. No global generator
        (Python's, numpy's, TensorFlow's) is seeded or changed. See
        :term:`Glossary <random_state>`.

    {verbose}

    Attributes
    ----------
    encoder_ : keras.Model
        Network from the input to the code.

    decoder_ : keras.Model
        Network from the code to the reconstruction.

    history_ : dict of str to list of float
        Per-epoch ``"loss"``, ``"val_loss"`` (when rows were held out) and
        ``"learning_rate"``.

    n_epochs_ : int
        Number of epochs trained. When all ``epochs`` ran while the monitored loss was
        still improving (within ``patience`` epochs), :meth:`fit` warns with a
        :class:`~sklearn.exceptions.ConvergenceWarning`.

    {batch_size_}

    output_activation_ : str
        Activation of the reconstruction layer used in training
        (``output_activation`` resolved).

    best_epoch_ : int
        Epoch (counting from 1) with the lowest monitored loss, or 0 when no epoch
        improved on the starting weights (measured before training). With
        ``early_stopping`` the fitted weights are those of this epoch, so a fit never
        returns weights that do worse on the monitored rows than where it started: with
        ``init="pca"``, than PCA. 0 with ``early_stopping`` means that the start was
        kept: with ``init="pca"`` the fitted network is PCA, its code PCA's
        coordinates.

    initial_loss_ : float
        Monitored loss of the starting weights, measured before training: on the
        validation rows when any were held out (comparable with
        ``history_["val_loss"]``), else on the training rows. Epochs compete with it
        for ``best_epoch_``; :func:`plot_history` draws it at epoch 0.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    SupervisedEmbeddingTransformer : An embedding trained on labels instead.

    Notes
    -----
    Keras computes in float32. :meth:`transform`, :meth:`inverse_transform` and
    :meth:`score_samples` return float32 for float32 input and float64 otherwise, with
    float32 precision. Inference runs on blocks of a fixed number of rows, so a row's
    output does not depend on the other rows it is passed with.

    Dense data in memory is trained in whole epochs compiled into one TensorFlow graph,
    which removes most of ``keras.Model.fit``'s per-epoch cost on small tables. Keras
    callbacks receive the epoch-level calls (``on_epoch_end`` with ``loss`` and
    ``val_loss``, ...); a callback that overrides a per-batch hook switches training to
    ``keras.Model.fit``, as do sparse matrices and memory maps.

    Sparse matrices are densified one mini-batch at a time, and a file-backed
    ``numpy.memmap`` is read from its file batch by batch; neither is copied whole
    into memory. Their mini-batches are shuffled by this estimator rather than by
    Keras, so their fits differ from a fit on the same data in memory.

    A ``pyarrow.dataset.Dataset`` is read in order, batch by batch, with every batch
    checked: :meth:`fit` copies it to a temporary float32 file (in
    :func:`tempfile.gettempdir`, so ``TMPDIR`` moves it) and trains from that file
    exactly as from a float32 memory map of the same numbers, and the other methods
    map over the dataset's batches. Its column names become ``feature_names_in_``,
    as a data frame's do. A ``pyarrow.Table`` is converted through numpy. See
    :ref:`scaling_files`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from ae_reduce import KerasAutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> reducer = make_pipeline(
    ...     StandardScaler(),
    ...     KerasAutoencoderTransformer(n_components=2, epochs=5, random_state=0),
    ... )
    >>> reducer.fit_transform(X).shape
    (1797, 2)
    """

    _keras_attributes = ("encoder_", "decoder_")

    _parameter_constraints: dict = {
        **BaseNeuralEstimator._parameter_constraints,
        "output_activation": [StrOptions(ACTIVATIONS | {"auto", "clip"})],
        "noise_stddev": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"pca", "random"})],
        "loss": [StrOptions({"mse", "mae", "huber", "binary_crossentropy"})],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        output_activation="auto",
        dropout=0.0,
        batch_normalization=False,
        l1=0.0,
        l2=0.0,
        noise_stddev=0.0,
        init="pca",
        loss="mse",
        optimizer="adam",
        learning_rate=3e-3,
        learning_rate_schedule="plateau",
        batch_size="auto",
        epochs=200,
        validation_split=0.1,
        early_stopping=True,
        patience=20,
        min_delta=0.0,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.l1 = l1
        self.l2 = l2
        self.noise_stddev = noise_stddev
        self.init = init
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_delta = min_delta
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _network_builder(self):
        from .._keras.networks import build_autoencoder

        return build_autoencoder

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Training data. A file-backed ``numpy.memmap`` is read batch by batch. A
            ``pyarrow.dataset.Dataset`` (Parquet, Arrow IPC or CSV files) is read once,
            batch by batch, into a temporary float32 file that training reads instead
            and that is deleted when the fit ends; see :ref:`scaling_files`.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # A dataset is copied to a temporary file for training: the block deletes it.
        with check_input(self, X, reset=True) as source:
            self._fit_source(source)
        return self

    def _fit_source(self, source):
        self._check_n_components(source.n_features)
        output_activation = self._output_activation(source)
        self._check_loss(source, output_activation)
        self.output_activation_ = output_activation
        self._network_config = {
            "n_features": source.n_features,
            "n_components": self.n_components,
            "hidden_layer_sizes": self._hidden_layer_sizes(),
            "activation": self.activation,
            "output_activation": self.output_activation_,
            "dropout": self.dropout,
            "batch_normalization": self.batch_normalization,
            "l1": self.l1,
            "l2": self.l2,
            "noise_stddev": self.noise_stddev,
            "init": self.init,
        }
        initial = self._principal_components(source) if self.init == "pca" else None
        _, self.encoder_, self.decoder_ = self._train(
            source, targets=[RECONSTRUCT], loss=self.loss, initial=initial
        )

    def _output_activation(self, source):
        """``"clip"`` for ``"auto"`` when the training rows lie in [0, 1], else linear."""
        if self.output_activation != "auto":
            return self.output_activation
        if self.loss == "binary_crossentropy":
            return "sigmoid"
        low, high = range_of(source)
        return "clip" if low >= 0 and high <= 1 else "linear"

    def _check_loss(self, source, output_activation):
        """Cross-entropy compares probabilities: outputs and inputs must lie in [0, 1]."""
        if self.loss != "binary_crossentropy":
            return
        if output_activation not in _PROBABILITY_OUTPUTS:
            raise ValueError(
                f"loss='binary_crossentropy' needs reconstructions in [0, 1], but "
                f"output_activation={output_activation!r} is not bounded to it; use "
                "output_activation='sigmoid', or loss='mse' for unbounded data."
            )
        low, high = range_of(source)
        if low < 0 or high > 1:
            raise ValueError(
                "loss='binary_crossentropy' needs X in [0, 1], but X ranges from "
                f"{low:.3g} to {high:.3g}; scale it with MinMaxScaler, or use loss='mse'."
            )

    def _principal_components(self, source):
        """PCA's mean and ``n_components`` directions: the network's starting point.

        Dense data in memory gets the exact PCA of every row. Sparse matrices stay sparse
        (scikit-learn's ARPACK solver centres them implicitly), and memory maps and
        sparse matrices of more than ``_PCA_ROWS`` rows contribute that many rows drawn
        at random. When there are fewer rows or features than ``n_components``, the
        missing directions are zero: those code units are left to the residual branch.
        """
        from sklearn.decomposition import PCA

        random_state = check_random_state(self.random_state)
        data = source.data
        if source.n_samples > _PCA_ROWS and not source.in_memory_dense:
            picked = np.sort(random_state.choice(source.n_samples, _PCA_ROWS, replace=False))
            data = data[picked] if sp.issparse(data) else source.take(picked)
        elif source.file is not None:
            data = source.rows(0, source.n_samples)
        n_found = min(self.n_components, *data.shape)
        solver = "auto"
        if sp.issparse(data):
            if n_found < min(data.shape):
                solver = "arpack"
            else:  # ARPACK needs fewer components than rows and columns: a tiny matrix
                data = data.toarray()
        # One row or constant columns have no variance to explain: the explained
        # variance ratio divides by zero, which does not matter here.
        with single_blas_thread(), np.errstate(divide="ignore", invalid="ignore"):
            try:
                pca = PCA(n_found, svd_solver=solver, random_state=random_state).fit(data)
            except ArpackError:
                # ARPACK fails when the centred data is zero (every column constant)
                # and on float32 values too large for its factorisation. The
                # covariance solver (sparse-aware, n_features squared in memory) does
                # neither; beyond its size limit no principal direction is used.
                if source.n_features > _COVARIANCE_FEATURES:
                    mean = np.asarray(data.mean(axis=0), dtype=np.float64).ravel()
                    return {"mean": mean, "components": np.zeros((self.n_components, mean.size))}
                pca = PCA(n_found, svd_solver="covariance_eigh").fit(data.astype(np.float64))
        components = np.zeros((self.n_components, source.n_features))
        components[:n_found] = pca.components_
        return {"mean": pca.mean_, "components": components}

    def transform(self, X):
        """Encode `X` into the code space.

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The codes.
        """
        self._check_fitted()
        source = check_input(self, X, reset=False)
        return self._apply(self.encoder_, source)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : {array-like, pyarrow.dataset.Dataset} of shape (n_samples, n_components)
            Codes, such as the output of :meth:`transform`. A dataset is read batch by
            batch; its column names are not checked.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The reconstructions.
        """
        from .._io.arrow import is_dataset, unnamed_dataset_source

        self._check_fitted()
        if is_dataset(X):
            source = unnamed_dataset_source(self, X)
        else:
            source = Source(check_array(X, dtype=[np.float64, np.float32], input_name="X"))
        if source.n_features != self._n_features_out:
            raise ValueError(
                f"X has {source.n_features} features, but {type(self).__name__}."
                f"inverse_transform is expecting {self._n_features_out} features "
                "(n_components) as input."
            )
        return self._apply(self.decoder_, source)

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each row.

        Rows the autoencoder reconstructs badly get low scores, which makes this an
        outlier score.

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the mean over features of the squared reconstruction error.
        """
        self._check_fitted()
        source = check_input(self, X, reset=False)
        scores = []
        for chunk in source.chunks(dtype=np.float64):
            reconstruction = self._apply((self.encoder_, self.decoder_), Source(chunk), np.float64)
            scores.append(-np.mean((chunk - reconstruction) ** 2, axis=1))
        return np.concatenate(scores).astype(source.dtype, copy=False)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error over all of `X`.

        Higher is better, so :class:`~sklearn.model_selection.GridSearchCV` can choose
        an architecture without labels. The error is the squared error whatever the
        training ``loss``, so scores are comparable across settings.

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Data to reconstruct.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Minus the mean squared reconstruction error.
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        # An AttributeError before fit is what makes get_feature_names_out say "not fitted".
        return int(self.encoder_.output_shape[-1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def range_of(source):
    """The smallest and largest value of a data source.

    The input check measured them for arrays, sparse matrices and memory maps; other
    sources (Arrow data) take one pass.
    """
    if source.value_range is not None:
        return source.value_range
    low, high = np.inf, -np.inf
    for chunk in source.chunks():  # one pass: a memory map is read once
        if chunk.shape[0]:
            low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return low, high
