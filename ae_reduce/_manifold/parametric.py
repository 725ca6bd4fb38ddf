"""ParametricTSNE: a network trained with t-SNE's objective, mapping rows to a map."""

import functools
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_random_state

from .._io.validation import check_input, split_indices
from .._keras.runtime import single_blas_thread
from .._neural.base import BaseNeuralEstimator
from .._utils.atomic import atomic_fit
from .._utils.docstrings import fill_docstrings
from .._utils.progress import IterationProgress, announce_stage, neighbours_stage
from .tsne import (
    N_JOBS_CONSTRAINT,
    SCALE_FREE_METRICS,
    SMALLEST_PERPLEXITY,
    check_callbacks,
    check_cosine_rows,
    check_distances,
    effective_perplexity,
    import_opentsne,
    input_scale,
)

#: Fewest rows t-SNE can map: openTSNE needs three neighbours per unit of perplexity.
MIN_ROWS = 4

_AUTO = StrOptions({"auto"})

#: Rows whose nearest-neighbour distances set the scale of the input noise.
_NOISE_ROWS = 2000


@fill_docstrings()
class ParametricTSNE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNeuralEstimator):
    """t-SNE map drawn by a network that then places new rows with one forward pass.

    :meth:`fit` computes openTSNE's affinities between the training rows (the sparse,
    symmetric ``P`` of t-SNE over each row's nearest neighbours) and trains a dense
    network, mapping each row to ``n_components`` coordinates, to minimise t-SNE's
    objective on that ``P``. :meth:`transform` is then the network: it places new rows
    at the speed of a forward pass, without the training data, and a row's position
    does not depend on the other rows passed with it.

    The loss is estimated on mini-batches: each step draws ``batch_size`` neighbour
    pairs with probability ``p_ij`` for the attraction and estimates t-SNE's
    normalisation from the pairs of a first row (one of the first 256) and the second
    row of another pair, so a step costs the same however many rows there are, and
    training runs on a GPU when one is visible. The number of steps and the batch size
    follow the number of rows (``n_iter="auto"``, ``batch_size="auto"``). The network
    trains on the rows' leading principal components (``pca_components``), a
    projection folded into its first layers afterwards. Gaussian noise on its inputs,
    scaled to the typical distance between neighbours, teaches the network to place a
    row near the rows it resembles rather than only the rows it has seen. A fraction
    of the rows (``validation_split``) is held out of the map: early stopping watches
    t-SNE's loss for those rows placed against the others, the measure of how well new
    rows will be placed.

    Scale the input first (for example with
    :class:`~sklearn.preprocessing.StandardScaler`): the neighbours are found by
    ``metric`` distance on the columns as given.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the map.

    perplexity : float, default=30.0
        Roughly the number of neighbours whose distances the map preserves, as in
        :class:`TSNE`. At least 1/3 (openTSNE searches ``int(3 * perplexity)``
        neighbours of each row). At most ``(n_train - 1) / 3`` for ``n_train`` training
        rows; a larger value is lowered to that bound with a warning and the value used
        is kept as ``perplexity_``.

    hidden_layer_sizes : tuple of int, default=(256, 256, 256)
        Widths of the network's hidden layers.

    pca_components : int or None, default=50
        Number of principal components of the training rows that the network is
        trained on, scaled together to a variance of 1 per component on average. The
        projection is then folded into the network's first layers,
        so that :meth:`transform` takes the columns as given and the fitted network
        has the usual width. Training on the leading components is cheaper per step
        than training on many columns, and it keeps the network from fitting the
        directions in which the rows hardly vary. None, or a number at least the
        number of columns (or of training rows), trains on the columns themselves.

    {activation}

    {dropout}

    {l2}

    noise : float, default=0.8
        Gaussian noise added to the inputs during training (the principal components
        with ``pca_components``), as a fraction of the median distance from a
        training row to its nearest neighbour: the noise added to a row has about
        that length. 0 adds none. The noise makes the network
        smooth between neighbouring rows, which is what places new rows well.

    init : {"pca", "tsne", "random"}, default="pca"
        How the network starts. ``"pca"``: a linear projection, starting as PCA's,
        plus a nonlinear branch that starts at zero, so the untrained map is the PCA
        map (as openTSNE starts from PCA). ``"tsne"``: openTSNE first draws its own map
        on the same affinities, and the network (started as with ``"pca"``) is trained
        to reproduce it during the first ``early_exaggeration_iter`` iterations, then
        refined with t-SNE's objective; the fit then costs openTSNE's fit on top.
        ``"random"``: a plain stack of randomly initialised layers.

    reconstruction_weight : float, default=0.0
        Weight of an autoencoder's reconstruction loss added as a regulariser: a
        decoder (the hidden layers in reverse) is trained to reconstruct each row from
        its position, and the mean squared error, divided by the mean variance of the
        features, is added to the loss with this weight. The decoder is not kept.

    early_exaggeration : float, default=4.0
        Factor on the attractive forces during the first ``early_exaggeration_iter``
        iterations, which lets clusters form before they spread.

    early_exaggeration_iter : int or "auto", default="auto"
        Iterations (mini-batch steps) of the exaggerated phase, or of the regression
        onto openTSNE's map with ``init="tsne"``. ``"auto"``: a quarter of the
        normal phase's ``n_iter`` (see ``n_iter``).

    n_iter : int or "auto", default="auto"
        Largest number of iterations of the normal phase. With ``early_stopping`` the
        fit may end sooner. ``"auto"`` follows the number of training rows ``n``:
        ``min(max(3 * n // 4, 500), 5000)``, so that each row takes part in about as
        many steps whatever the size of the data, up to a bound that keeps large fits
        within minutes on a CPU.

    batch_size : int or "auto", default="auto"
        Neighbour pairs per iteration, at least 2; the normalisation is estimated from
        the pairs of a first row (one of the first 256) and the second row of another
        pair.
        ``"auto"``: ``n // 4`` for ``n`` training rows, within [128, 1024].

    {optimizer}

    learning_rate : float, default=2e-3
        Learning rate of the optimizer.

    validation_split : float, default=0.0
        Fraction of the rows, drawn at random, held out of the map to monitor how well
        the network places rows it has not seen. With 0, or too few rows, the training
        loss is monitored instead. Held-out rows are positioned by the network like
        any row, so :meth:`fit_transform` returns positions for every row, but they do
        not shape the map: on 1,257 digits, holding out 10 % lowered the map's
        10-neighbour accuracy by about 0.01.

    early_stopping : bool, default=False
        Stop when the monitored loss (evaluated every 50 iterations) has not improved
        for ``patience`` iterations, and keep the weights with the lowest monitored
        loss. The exaggerated phase is not monitored. By default every iteration of
        the budget runs, as openTSNE runs all of its iterations: the ``"auto"`` budget
        is sized for the map to settle, and stopping on a noisy loss ended fits that
        were still improving.

    patience : int or "auto", default="auto"
        Iterations without improvement before early stopping. ``"auto"``: a quarter
        of the normal phase's ``n_iter``, at least 50.

    metric : str, default="euclidean"
        Distance between input rows used for the neighbour search (a metric openTSNE
        supports). With ``"cosine"`` no row may be all zeros, for which the cosine
        distance is undefined.

    neighbors : {"auto", "exact", "annoy", "approx", "pynndescent", "hnsw"}, \
default="auto"
        openTSNE's nearest-neighbour search, as for :class:`TSNE`.

    n_jobs : int, default=None
        Threads for the neighbour search: a nonzero int. None means 1, -1 all
        processors, -2 all but one.

    device : {"auto", "cpu", "gpu"}, default="auto"
        Where to train. ``"auto"`` uses a GPU when TensorFlow sees one.

    random_state : int, RandomState instance or None, default=None
        Seeds the neighbour search, the split, the weights, dropout, the noise and the
        pairs drawn. An int makes :meth:`fit` reproducible on the CPU, whatever ran
        before in the process; no global generator is seeded or changed.

    callbacks : callable or list of callable, default=None
        Functions called as ``callback(iteration, n_iterations, logs)`` every 50
        iterations during :meth:`fit`, where ``iteration`` counts the iterations of
        both phases run so far, ``n_iterations`` is the most that can run
        (``early_exaggeration_iter + n_iter``) and ``logs`` is a dict with the mean
        training ``"loss"`` since the previous call and, with held-out rows, the
        monitored ``"val_loss"``. One that returns True ends training there; with
        ``early_stopping``, the weights with the lowest monitored loss so far are
        kept. A callback with a ``stage`` method is also called as
        ``callback.stage(description)`` as each step of :meth:`fit` begins (the
        neighbour search and affinities, the starting map of ``init="tsne"``, the
        training), since the steps before the first iteration can take a while.

    verbose : int, default=0
        Whether to print progress every 50 iterations: the iteration, the losses and
        an estimate of the time left (an upper bound, as early stopping may end the
        fit sooner).

    Attributes
    ----------
    network_ : keras.Model
        Network from the input to the map.

    perplexity_ : float
        Perplexity used: ``perplexity``, lowered for small data.

    noise_stddev_ : float
        Standard deviation of the noise added to each input of the network in
        training (each principal component, with ``pca_components``), in the units of
        the data.

    history_ : dict of str to list of float
        ``"iteration"``, ``"loss"`` (mean t-SNE loss of the training batches since the
        previous entry) and, with held-out rows, ``"val_loss"`` (t-SNE's loss of the
        held-out rows placed against the training rows), every 50 iterations.

    n_iter_ : int
        Number of iterations run in both phases.

    max_iter_ : int
        Iterations of both phases that the budget allowed:
        ``early_exaggeration_iter + n_iter``, after resolving ``"auto"``.

    batch_size_ : int
        Neighbour pairs per iteration, after resolving ``"auto"``.

    best_iteration_ : int
        Iteration with the lowest monitored loss; with ``early_stopping``, the weights
        are those of this iteration. 0 when no normal-phase iteration ran.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    TSNE : openTSNE's map, which places new rows by optimising each against the
        training rows.
    make_tsne_pipeline : With ``parametric=True``, a scaler and this map.

    Notes
    -----
    openTSNE computes the affinities (its ``PerplexityBasedNN``) and, with
    ``init="tsne"``, the map the network starts from; openTSNE is needed only for
    :meth:`fit`. The fitted estimator holds only the network's weights, so its pickle
    does not grow with the data, and :meth:`transform` needs neither the training rows
    nor openTSNE.

    Unlike :class:`TSNE`, ``fit(X).transform(X)`` equals ``fit_transform(X)``: every
    row's position is the network's output.

    Keras computes in float32; :meth:`transform` returns float32 for float32 input and
    float64 otherwise. The network trains on the rows multiplied by the power of two
    that brings their root mean square nearest to 1, a factor then folded into its
    first layers, so that the data's units hardly matter: multiplying every column by
    one power of two gives the very same map, by any other factor nearly the same map.

    References
    ----------
    van der Maaten (2009), "Learning a Parametric Embedding by Preserving Local
    Structure", AISTATS.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import StandardScaler
    >>> from ae_reduce import ParametricTSNE
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> tsne = ParametricTSNE(n_iter=100, random_state=0).fit(X[:500])
    >>> tsne.transform(X[500:510]).shape
    (10, 2)
    """

    _keras_attributes = ("network_",)

    _parameter_constraints: dict = {
        **{
            name: BaseNeuralEstimator._parameter_constraints[name]
            for name in (
                "n_components",
                "hidden_layer_sizes",
                "activation",
                "dropout",
                "l2",
                "optimizer",
                "learning_rate",
                "validation_split",
                "early_stopping",
                "random_state",
                "verbose",
            )
        },
        # The map's own training loop runs on one device.
        "device": [StrOptions({"auto", "cpu", "gpu"})],
        "perplexity": [Interval(Real, SMALLEST_PERPLEXITY, None, closed="left")],
        "pca_components": [Interval(Integral, 1, None, closed="left"), None],
        "noise": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"pca", "tsne", "random"})],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "early_exaggeration": [Interval(Real, 0, None, closed="neither")],
        "early_exaggeration_iter": [Interval(Integral, 0, None, closed="left"), _AUTO],
        "n_iter": [Interval(Integral, 0, None, closed="left"), _AUTO],
        "batch_size": [Interval(Integral, 2, None, closed="left"), _AUTO],
        "patience": [Interval(Integral, 1, None, closed="left"), _AUTO],
        "metric": [str],
        "neighbors": [StrOptions({"auto", "exact", "annoy", "approx", "pynndescent", "hnsw"})],
        "n_jobs": N_JOBS_CONSTRAINT,
        "callbacks": [callable, list, None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        perplexity=30.0,
        hidden_layer_sizes=(256, 256, 256),
        pca_components=50,
        activation="relu",
        dropout=0.0,
        l2=0.0,
        noise=0.8,
        init="pca",
        reconstruction_weight=0.0,
        early_exaggeration=4.0,
        early_exaggeration_iter="auto",
        n_iter="auto",
        batch_size="auto",
        optimizer="adam",
        learning_rate=2e-3,
        validation_split=0.0,
        early_stopping=False,
        patience="auto",
        metric="euclidean",
        neighbors="auto",
        n_jobs=None,
        device="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.perplexity = perplexity
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pca_components = pca_components
        self.activation = activation
        self.dropout = dropout
        self.l2 = l2
        self.noise = noise
        self.init = init
        self.reconstruction_weight = reconstruction_weight
        self.early_exaggeration = early_exaggeration
        self.early_exaggeration_iter = early_exaggeration_iter
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.metric = metric
        self.neighbors = neighbors
        self.n_jobs = n_jobs
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def _network_builder(self):
        from .._keras.networks import build_map_network

        return build_map_network

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network to draw the t-SNE map of `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; at least 4 rows.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X)
        return self

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Train the network on `X` and return the map of `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; at least 4 rows.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Positions of the rows on the map, the same as ``transform(X)`` gives.
        """
        source = self._fit(X)
        return self._apply(self.network_, source)

    def _fit(self, X):
        source = check_input(self, X, reset=True)
        if source.n_samples < MIN_ROWS:
            raise ValueError(
                f"Found array with {source.n_samples} sample(s) (shape="
                f"{(source.n_samples, source.n_features)}) while a minimum of {MIN_ROWS} "
                f"is required by {type(self).__name__}."
            )
        callbacks = check_callbacks(self.callbacks)
        if self.verbose:
            callbacks.append(IterationProgress(type(self).__name__))
        openTSNE = import_opentsne()
        rows, given, scale = self._scaled_rows(source)
        random_state = check_random_state(self.random_state)
        train, held_out = split_indices(source.n_samples, self.validation_split, random_state)
        if len(train) < MIN_ROWS:  # keep enough rows for the map
            train, held_out = np.arange(source.n_samples), np.arange(0)
        X_train = rows[train]
        perplexity = effective_perplexity(
            self.perplexity, len(train), rows="training rows", count="n_train"
        )
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        announce_stage(callbacks, neighbours_stage(len(train), perplexity))
        affinities = openTSNE.affinity.PerplexityBasedNN(
            given[train],
            perplexity=perplexity,
            method=self.neighbors,
            metric=self.metric,
            n_jobs=1 if self.n_jobs is None else self.n_jobs,
            random_state=seed,
            verbose=bool(self.verbose),
        )
        validation = None
        if len(held_out):
            to_train = affinities.to_new(given[held_out], perplexity=perplexity)
            validation = (rows[held_out], normalize(to_train.tocsr(), norm="l1"))
        budget = self._budget(len(train))
        projection = self._projection(X_train, seed)
        if projection is not None:
            X_train = _project(X_train, *projection)
            if validation is not None:
                validation = (_project(validation[0], *projection), validation[1])
        noise_stddev = self.noise * _neighbour_distance(X_train, affinities.P, random_state)
        noise_stddev /= np.sqrt(X_train.shape[1])
        if self.init == "tsne":
            announce_stage(callbacks, "drawing the openTSNE map that the network starts from")
        initial, targets = self._start(X_train, affinities, seed, openTSNE)
        total = budget["early_exaggeration_iter"] + budget["n_iter"]
        announce_stage(
            callbacks,
            f"training the network, at most {total} iterations "
            f"({budget['early_exaggeration_iter']} of early exaggeration, then "
            f"{budget['n_iter']}); the first also build the graph",
        )

        models, result = self._train_network(
            X_train,
            affinities,
            validation,
            (initial, targets),
            budget,
            noise_stddev,
            seed,
            callbacks,
        )
        # The decoder only regularised training; unpickling rebuilds the network alone.
        self._network_config = {
            **self._network_config,
            "n_features": source.n_features,
            "reconstruction": False,
        }
        network = models[1]
        if projection is not None:
            network = self._build_networks(seed=seed)[1]
            _copy_projected(models[1], network, *projection)
        if scale != 1:
            _fold_input_scale(network, scale)
        self.network_ = network
        self.perplexity_ = perplexity
        # In the data's units: the projection divided the components by their spread.
        unit = 1.0 if projection is None else 1.0 / np.linalg.norm(projection[1][0])
        self.noise_stddev_ = float(noise_stddev * unit / scale)
        self.history_ = result["history"]
        self.n_iter_ = result["n_iter"]
        self.batch_size_ = budget["batch_size"]
        self.max_iter_ = budget["early_exaggeration_iter"] + budget["n_iter"]
        self.best_iteration_ = result["best_iteration"]
        return source

    def _scaled_rows(self, source):
        """The rows, checked; the rows the affinities see; and the factor applied."""
        rows = source.rows(0, source.n_samples)
        check_distances(rows.min(axis=0), rows.max(axis=0), self.metric, None, "X")
        check_cosine_rows(rows, self.metric, "X")
        # The network trains on rows of a typical size near 1, whatever the data's units;
        # the factor is folded into its first layers afterwards (see input_scale).
        scale = input_scale(rows)
        given = rows
        if scale != 1:
            rows = rows * np.float32(scale)
        if self.metric in SCALE_FREE_METRICS:
            given = rows
        return rows, given, scale

    def _train_network(
        self, X_train, affinities, validation, start, budget, noise_stddev, seed, callbacks
    ):
        """Build the seeded networks and train them on the map; return them and the result."""
        initial, targets = start
        from .._keras.backend import import_keras, resolve_device

        import_keras(verbose=self.verbose)
        device = resolve_device(self.device)
        from .._keras.map_training import MapConfig, train_map

        reconstruction = self.reconstruction_weight > 0
        self._network_config = {
            "n_features": X_train.shape[1],
            "n_components": self.n_components,
            "hidden_layer_sizes": self._hidden_layer_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
            "l2": self.l2,
            "init": "pca" if self.init in ("pca", "tsne") else "random",
            "reconstruction": reconstruction,
        }
        build = functools.partial(self._build_networks, **initial)
        config = tuple(sorted(self._network_config.items(), key=lambda item: item[0]))
        models = build(seed=seed)
        settings = MapConfig(
            early_exaggeration=self.early_exaggeration,
            **budget,
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            noise=noise_stddev,
            reconstruction_weight=self.reconstruction_weight,
            early_stopping=self.early_stopping,
            seed=seed,
            device=device,
            callbacks=callbacks,
            estimator_name=type(self).__name__,
            noise_parameter=self.noise,
        )
        result = train_map(
            settings,
            build=build,
            models=models,
            X=X_train,
            affinities=affinities.P,
            cache_key=(device, type(self).__name__, repr(config), self.optimizer),
            validation=validation,
            targets=targets,
        )
        return models, result

    def _budget(self, n_train):
        """The iterations, batch size and patience used for ``n_train`` training rows."""
        budget = default_budget(n_train)
        given = {
            "batch_size": self.batch_size,
            "n_iter": self.n_iter,
            "early_exaggeration_iter": self.early_exaggeration_iter,
            "patience": self.patience,
        }
        if self.n_iter != "auto":
            budget["early_exaggeration_iter"] = self.n_iter // 4
            budget["patience"] = max(self.n_iter // 4, 50)
        budget.update({name: value for name, value in given.items() if value != "auto"})
        return budget

    def _projection(self, X_train, seed):
        """``(mean, components)`` of the principal components to train on, or None.

        The components are scaled so that the projected rows have a variance of 1 per
        component on average.
        """
        n_rows, n_features = X_train.shape
        if self.pca_components is None or self.pca_components >= min(n_rows, n_features):
            return None
        from sklearn.decomposition import PCA

        # One BLAS thread: the same projection in a Dask or joblib worker.
        with single_blas_thread():
            pca = PCA(self.pca_components, random_state=seed).fit(X_train)
        # Components of unit variance on average: inputs of the same typical size
        # whatever the data, for which the learning rate and initialisation are set.
        spread = np.sqrt(np.mean(pca.explained_variance_))
        return pca.mean_, pca.components_ / (spread if spread > 0 else 1.0)

    def _start(self, X_train, affinities, seed, openTSNE):
        """The network's starting projection and, for ``init="tsne"``, openTSNE's map."""
        if self.init == "random":
            return {}, None
        from sklearn.decomposition import PCA

        n_found = min(self.n_components, *X_train.shape)
        # One BLAS thread: the same start in a Dask or joblib worker as in the main process.
        with single_blas_thread():
            pca = PCA(n_found, random_state=seed).fit(X_train)
        components = np.zeros((self.n_components, X_train.shape[1]))
        spread = np.sqrt(pca.explained_variance_[0]) if n_found else 0.0
        if spread > 0:
            # Unit spread along the first axis: a scale from which t-SNE's forces
            # grow the map, whatever the units of the data.
            components[:n_found] = pca.components_ / spread
        initial = {"mean": pca.mean_, "components": components}
        if self.init != "tsne":
            return initial, None
        if X_train.shape[1] >= self.n_components:
            with single_blas_thread():
                start = openTSNE.initialization.pca(
                    X_train, n_components=self.n_components, random_state=seed
                )
        else:
            start = openTSNE.initialization.random(
                X_train, n_components=self.n_components, random_state=seed
            )
        embedding = openTSNE.TSNEEmbedding(
            start,
            affinities,
            n_jobs=1 if self.n_jobs is None else self.n_jobs,
            random_state=seed,
            negative_gradient_method="bh" if self.n_components > 2 else "auto",
        )
        embedding = embedding.optimize(250, exaggeration=12, momentum=0.5)
        embedding = embedding.optimize(500, momentum=0.8)
        return initial, np.asarray(embedding)

    def transform(self, X):
        """Place rows on the map: the network's output.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to place. A file-backed ``numpy.memmap`` is read block by block.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Positions on the map.
        """
        self._check_fitted()
        source = check_input(self, X, reset=False)
        return self._apply(self.network_, source)

    @property
    def _n_features_out(self):
        # An AttributeError before fit is what makes get_feature_names_out say "not fitted".
        return int(self.network_.output_shape[-1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def default_budget(n_train):
    """``ParametricTSNE``'s ``"auto"`` settings for ``n_train`` training rows.

    Parameters
    ----------
    n_train : int
        Rows the map is drawn from.

    Returns
    -------
    budget : dict
        ``n_iter``, ``early_exaggeration_iter``, ``batch_size`` and ``patience``.
    """
    n_iter = min(max(3 * n_train // 4, 500), 5000)
    return {
        "n_iter": n_iter,
        "early_exaggeration_iter": n_iter // 4,
        "batch_size": min(max(n_train // 4, 128), 1024),
        "patience": max(n_iter // 4, 50),
    }


def _input_layers(network):
    """The layers of ``network`` that read its input: Dense layers, or a TypeError."""
    from .._keras.backend import import_keras

    keras = import_keras()
    layers = []
    for layer in network.layers:
        if isinstance(layer, keras.layers.InputLayer) or layer.input is not network.inputs[0]:
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise TypeError(f"cannot rescale the input of layer {layer.name!r}")
        layers.append(layer)
    return layers


def _project(X, mean, components):
    """Rows ``X`` on the principal ``components``, float32."""
    return ((X - mean) @ components.T).astype(np.float32)


def _copy_projected(trained, network, mean, components):
    """Give ``network`` the weights of ``trained``, which read the rows' projections.

    ``network`` reads the rows themselves: each layer reading the input gets the kernel
    ``components.T @ kernel`` and the bias that subtracts ``mean`` first (computed in
    float64); every other layer is copied as it is.
    """
    reading = {layer.name for layer in _input_layers(trained)}
    for source, target in zip(trained.layers, network.layers, strict=True):
        weights = source.get_weights()
        if source.name in reading:
            kernel, *bias = weights
            folded = components.T.astype(np.float64) @ kernel.astype(np.float64)
            weights = [folded.astype(kernel.dtype)]
            if bias:
                shift = bias[0].astype(np.float64) - mean.astype(np.float64) @ folded
                weights.append(shift.astype(bias[0].dtype))
        target.set_weights(weights)


def _fold_input_scale(network, scale):
    """Make ``network`` take rows as given after training on rows times ``scale``.

    Every layer reading the input is a Dense layer; multiplying its kernel by a power of
    two gives, bit for bit, the outputs it gave for the rescaled rows.
    """
    for layer in _input_layers(network):
        kernel, *others = layer.get_weights()
        layer.set_weights([kernel * np.asarray(scale, dtype=kernel.dtype), *others])


def _neighbour_distance(X, affinities, random_state):
    """Median Euclidean distance from a row to its nearest other row among its neighbours."""
    affinities = affinities.tocsr()
    n_rows = X.shape[0]
    picked = np.arange(n_rows)
    if n_rows > _NOISE_ROWS:
        picked = random_state.choice(n_rows, _NOISE_ROWS, replace=False)
    nearest = []
    for row in picked:
        neighbours = affinities.indices[affinities.indptr[row] : affinities.indptr[row + 1]]
        neighbours = neighbours[neighbours != row]
        if len(neighbours):
            gaps = X[neighbours].astype(np.float64) - X[row]
            nearest.append(np.sqrt(np.min(np.einsum("ij,ij->i", gaps, gaps))))
    return float(np.median(nearest)) if nearest else 0.0
