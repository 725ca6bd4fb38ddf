"""t-SNE maps in scikit-learn pipelines: a thin adapter over openTSNE and a pipeline helper.

openTSNE already offers a scikit-learn style estimator, ``openTSNE.sklearn.TSNE``. It
works in a pipeline for the common case, but it breaks several of scikit-learn's rules
(see the user guide, "Why an adapter"). :class:`TSNE` keeps openTSNE's algorithm and
its ``TSNEEmbedding`` untouched and adds only what scikit-learn expects of an estimator:
parameters stored as given, validation in ``fit``, ``n_features_in_``, a
``NotFittedError`` before ``fit``, feature names out, and outputs that do not move.

openTSNE is an optional dependency (the ``tsne`` extra); it is imported inside ``fit``.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from .._io.validation import frame_without_columns_as_array
from .._utils.atomic import atomic_fit
from .._utils.docstrings import fill_docstrings
from .._utils.progress import announce_stage, neighbours_stage
from .._utils.warnings import caller_stacklevel

_FFT_METHODS = frozenset({"fft", "FFT", "interpolation"})
_BH_METHODS = frozenset({"bh", "BH", "barnes-hut"})

#: Largest distance between rows that t-SNE is given. openTSNE fits each row's Gaussian
#: to its neighbours' distances in float64, but adds machine epsilon to the Gaussian's
#: sum, which is about 1 / distance: the affinities' relative error grows in proportion
#: to the neighbours' distances. Measured: 1e-4 at 1e10, 1% at 1e12, 20% at 1e14, NaN
#: from about 1e17 (every Gaussian underflows); from about 1e154 the squared distances
#: overflow and the neighbour search breaks. The check bounds the largest distance,
#: which exceeds the neighbours' distances, so typical data fares far better than 1%.
_MAX_DISTANCE = 1e12

#: Smallest perplexity openTSNE can use: it searches ``int(3 * perplexity)`` neighbours
#: of each row, none below 1/3. In floating point ``3 * (1 / 3)`` rounds to exactly 1,
#: and every smaller float gives 0, so the bound is exact.
SMALLEST_PERPLEXITY = 1 / 3

#: scikit-learn's ``n_jobs``: None, or a nonzero int (-1 all processors, -2 all but one).
N_JOBS_CONSTRAINT = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


def largest_perplexity(n_samples):
    """openTSNE's bound: three neighbours per unit of perplexity, among the other rows."""
    return (n_samples - 1) / 3


def _largest_distance(lower, upper, metric, metric_params):
    """Distance between the opposite corners ``lower`` and ``upper`` of a box of rows.

    For Euclidean and the other Minkowski metrics no two rows inside the box are further
    apart; scale-free metrics (cosine, correlation) stay small whatever the data's scale.
    Returns None where scikit-learn cannot evaluate the metric.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(metric, str) and metric in ("euclidean", "l2"):
            # hypot does not overflow where the sum of squares would.
            return float(np.hypot.reduce(upper - lower))
        from sklearn.metrics import pairwise_distances

        try:
            distance = pairwise_distances(
                lower[np.newaxis], upper[np.newaxis], metric=metric, **(metric_params or {})
            )[0, 0]
        except (ValueError, TypeError):
            return None
    return None if np.isnan(distance) else float(distance)


def effective_perplexity(perplexity, n_rows, rows="samples", count="n_samples"):
    """``perplexity``, lowered with a warning to openTSNE's bound for ``n_rows`` rows.

    ``rows`` and ``count`` name the rows and their number in the warning.
    """
    largest = largest_perplexity(n_rows)
    if perplexity <= largest:
        return float(perplexity)
    warnings.warn(
        f"perplexity={perplexity:g} is too large for {n_rows} {rows}; using "
        f"{largest:g}, the largest value that fits ({count} - 1) / 3.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    return float(largest)


def check_distances(lower, upper, metric, metric_params, name):
    """Refuse rows within the box ``lower``..``upper`` that may lie too far apart for
    openTSNE's affinities (see :data:`_MAX_DISTANCE`); ``name`` names them."""
    distance = _largest_distance(lower, upper, metric, metric_params)
    if distance is None or distance <= _MAX_DISTANCE:
        return
    metric = metric if isinstance(metric, str) else "metric"
    where = "apart" if name == "X" else "from the training rows or each other"
    raise ValueError(
        f"{name} contains values too large for t-SNE's distance computations: rows "
        f"may lie up to {distance:.4g} {where} ({metric} distance), more than the "
        f"{_MAX_DISTANCE:.0e} up to which openTSNE's affinities are accurate. Scale "
        "the data first, for example with StandardScaler."
    )


#: Largest power of two (either way) by which rows are rescaled: the rescaled
#: first-layer weights of a fitted ParametricTSNE network stay far within float32's range.
_LARGEST_SCALE_EXPONENT = 100

#: Metrics whose affinities do not change when every row is multiplied by one positive
#: factor: openTSNE's neighbour search gets the rescaled rows for these (its approximate
#: searches compute in float32, where tiny distances underflow), the rows as given for
#: any other metric.
SCALE_FREE_METRICS = frozenset(
    {
        "euclidean",
        "l2",
        "sqeuclidean",
        "manhattan",
        "cityblock",
        "l1",
        "taxicab",
        "chebyshev",
        "infinity",
        "minkowski",
        "cosine",
        "correlation",
        "canberra",
        "braycurtis",
    }
)

#: TSNE rescales rows whose typical size is outside these powers of two; rows of
#: ordinary size are given to openTSNE as they are, so their maps do not change.
_ORDINARY_SCALES = (2.0**-30, 2.0**30)


def input_scale(rows):
    """Power of two that brings the root mean square of ``rows`` to within [0.7, 1.4].

    Rows times this factor are of a typical size near 1, whatever the data's units, and
    a power of two changes no digit of their float32 or float64 values. ParametricTSNE
    trains its network on them (its weights start at a fixed size and its optimizer
    takes steps of a fixed size: tiny rows leave it where it starts, large rows make it
    diverge) and folds the factor into its first layers afterwards; TSNE gives them to
    openTSNE's neighbour search, which computes in float32, where the distances of tiny
    rows underflow. Accumulated in float64, where the squares of tiny float32 values do
    not underflow.
    """
    total = 0.0
    for start in range(0, len(rows), 4096):
        block = rows[start : start + 4096].astype(np.float64)
        total += float(np.einsum("ij,ij->", block, block))
    mean_square = total / rows.size if rows.size else 0.0
    if not (0 < mean_square < math.inf):
        return 1.0
    exponent = -round(math.log2(mean_square) / 2)
    exponent = max(-_LARGEST_SCALE_EXPONENT, min(_LARGEST_SCALE_EXPONENT, exponent))
    return 2.0**exponent


def check_cosine_rows(X, metric, name):
    """Refuse all-zero rows of ``X`` under the cosine metric, naming them.

    The cosine distance divides by each row's length, so it is undefined for a row of
    zeros; openTSNE's neighbour searches give NaN for it, or an arbitrary neighbour.
    ``name`` names ``X`` in the message.
    """
    if not (isinstance(metric, str) and metric == "cosine"):
        return
    zero = np.flatnonzero(~np.any(X, axis=1))
    if not len(zero):
        return
    shown = ", ".join(str(row) for row in zero[:5]) + (", ..." if len(zero) > 5 else "")
    rows = "row" if len(zero) == 1 else "rows"
    raise ValueError(
        f"{name} has {len(zero)} all-zero {rows} ({rows} {shown}): the cosine distance is "
        "undefined for a row of zeros. Remove those rows or choose another metric."
    )


def import_opentsne():
    try:
        import openTSNE
    except ImportError as error:
        raise ImportError(
            "ae_reduce.TSNE needs openTSNE, an optional dependency. Install it with "
            "pip install 'ae-reduce[tsne]' (or pip install openTSNE)."
        ) from error
    return openTSNE


def _check_positions(positions, method):
    if not np.isfinite(positions).all():
        raise ValueError(
            f"openTSNE's {method} gave NaN or infinite positions; check the scale of the "
            "data, and scale it first if need be, for example with StandardScaler."
        )


def check_callbacks(callbacks):
    """``callbacks`` as a new list of callables, or a TypeError naming the odd item.

    Parameters
    ----------
    callbacks : callable, list of callable or None
        An estimator's ``callbacks`` parameter.

    Returns
    -------
    callbacks : list of callable
        Empty for None.
    """
    if callbacks is None:
        return []
    callbacks = [callbacks] if callable(callbacks) else list(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(
                "callbacks must be a callable or a list of callables, got an item of "
                f"type {type(callback).__name__}: {callback!r}."
            )
    return callbacks


class _CallbackRunner:
    """The user's callbacks as one openTSNE callback that notes where they stopped.

    When a callback returns True, openTSNE ends the whole optimisation but keeps neither
    the iteration nor the divergence; this records both, and the phase, which openTSNE
    announces by calling ``optimization_about_to_start`` on every callback.
    """

    def __init__(self, callbacks):
        self.callbacks = check_callbacks(callbacks)
        self.phase = 0
        self.stopped_at = None

    def optimization_about_to_start(self):
        self.phase += 1
        for callback in self.callbacks:
            getattr(callback, "optimization_about_to_start", lambda: None)()

    def __call__(self, iteration, kl_divergence, embedding):
        for callback in self.callbacks:
            # Like openTSNE: the first callback that says stop ends the round.
            if callback(iteration, kl_divergence, embedding):
                self.stopped_at = (self.phase, iteration, kl_divergence)
                return True
        return False


@fill_docstrings()
class TSNE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """t-SNE map that can place new points, as a scikit-learn transformer.

    A thin adapter over openTSNE: :meth:`fit` runs ``openTSNE.TSNE(...).fit(X)`` and
    keeps the resulting ``openTSNE.TSNEEmbedding`` as ``embedding_``; :meth:`transform`
    places new rows on that fixed map with ``embedding_.transform``, optimising each new
    point against the training points only. Unlike :class:`sklearn.manifold.TSNE`, a
    fitted map can therefore embed rows it has not seen, which is what a pipeline's
    ``transform`` and ``predict`` need.

    The adapter exists because openTSNE's own scikit-learn estimator does not follow
    all of scikit-learn's rules; the user guide lists what differs. The algorithm and
    its defaults are openTSNE's.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the map: 1, 2 or 3. Three dimensions need the Barnes-Hut
        gradient (``negative_gradient_method="bh"`` or ``"auto"``).

    perplexity : float, default=30.0
        Roughly the number of neighbours whose distances the map preserves. At least
        1/3: openTSNE searches ``int(3 * perplexity)`` neighbours of each row. At most
        ``(n_samples - 1) / 3``, openTSNE's bound; a larger value is lowered to that
        bound with a warning, and the value used is kept as ``perplexity_``.

    learning_rate : "auto" or float, default="auto"
        Step size of the optimisation. ``"auto"`` uses ``n_samples / exaggeration``
        (Belkina et al., 2019), which suits any data size.

    early_exaggeration_iter : int, default=250
        Iterations of the early-exaggeration phase, which lets clusters form.

    early_exaggeration : "auto" or float, default="auto"
        Exaggeration of the attractive forces in the first phase. ``"auto"`` means 12,
        or ``exaggeration`` when that is larger.

    n_iter : int, default=500
        Iterations of the second, normal phase.

    exaggeration : float, default=None
        Exaggeration in the second phase. None means 1 (plain t-SNE); values around 2
        to 4 give more compact clusters, which helps on large data sets.

    dof : float, default=1.0
        Degrees of freedom of the Student-t kernel. Values below 1 give heavier tails
        and reveal finer clusters (Kobak et al., 2019).

    initialization : {"pca", "spectral", "random"} or ndarray, default="pca"
        Initial positions of the training points. ``"pca"`` (the first principal
        components, rescaled) preserves global structure better than ``"random"``. An
        array must have shape ``(n_samples, n_components)`` and a small spread.

    metric : str or callable, default="euclidean"
        Distance between input rows used for the neighbour search. With ``"cosine"``
        no row may be all zeros, for which the cosine distance is undefined.

    metric_params : dict, default=None
        Extra keyword arguments of the metric.

    neighbors : {"auto", "exact", "annoy", "approx", "pynndescent", "hnsw"}, \
default="auto"
        Nearest-neighbour search. ``"auto"`` searches exactly below 1,000 rows and uses
        Annoy above. ``"pynndescent"`` and ``"hnsw"`` need those packages installed.
        Every choice pickles.

    negative_gradient_method : {"auto", "fft", "bh"}, default="auto"
        Approximation of the repulsive forces: Barnes-Hut (``"bh"``) for small data,
        FFT interpolation (``"fft"``) for large; ``"auto"`` switches at 10,000 rows.

    transform_params : dict, default=None
        Keyword arguments of ``openTSNE.TSNEEmbedding.transform`` used by
        :meth:`transform`, such as ``perplexity`` (default 5, lowered to
        ``perplexity_`` if that is smaller; at least 1/3), ``n_iter`` (default 250) or
        ``learning_rate`` (default 0.1).

    n_jobs : int, default=None
        Threads for the neighbour search and the gradient: a nonzero int. None means
        1, -1 all processors, -2 all but one.

    callbacks : callable or list of callable, default=None
        Functions called as ``callback(iteration, kl_divergence, embedding)`` every
        ``callbacks_every_iters`` iterations during :meth:`fit`, where ``iteration``
        counts from 1 within each phase. One that returns True ends the whole
        optimisation there, before that iteration's step: the rest of the phase, and
        the normal phase too when it returns True during early exaggeration, are
        skipped, and the map is kept as it is (``n_iter_`` and ``kl_divergence_``
        describe it). They are not kept in the fitted model. A callback with a
        ``stage`` method is also called as ``callback.stage(description)`` before the
        neighbour search and affinities, which come before the first iteration.

    callbacks_every_iters : int, default=50
        Iterations between calls of ``callbacks``.

    random_state : int, RandomState instance or None, default=None
        Seeds the neighbour search and the initialisation. An int gives the same map
        on every fit. See :term:`Glossary <random_state>`.

    verbose : int, default=0
        Whether openTSNE prints the progress of each phase (on standard output).

    Attributes
    ----------
    embedding_ : openTSNE.TSNEEmbedding
        The fitted map, an ndarray subclass of shape (n_samples, n_components) holding
        the training points' positions, centred on the origin, together with the
        neighbour index and affinities used to place new points.

    perplexity_ : float
        Perplexity used for the fit: ``perplexity``, lowered for small data.

    kl_divergence_ : float
        Kullback-Leibler divergence of the fitted map, t-SNE's objective.

    n_iter_ : int
        Number of optimisation steps run in both phases:
        ``early_exaggeration_iter + n_iter``, or fewer when a callback stopped the fit.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    make_tsne_pipeline : Scaler, reducer and t-SNE in one pipeline, sized for the data.
    sklearn.manifold.TSNE : scikit-learn's t-SNE, which cannot place new points.

    Notes
    -----
    t-SNE depends only on the distances between rows, but openTSNE computes its
    affinities accurately only for distances up to about 1e12: :meth:`fit` and
    :meth:`transform` raise a ValueError for data whose rows may lie further apart
    (scale it first, for example with :class:`~sklearn.preprocessing.StandardScaler`).
    When :meth:`fit` raises, an estimator fitted before keeps its earlier map.

    ``fit_transform(X)`` returns the optimised training positions, whereas
    ``fit(X).transform(X)`` places the rows of `X` again as if they were new, so the
    two differ (as for any non-parametric map).

    The fitted model holds openTSNE's neighbour index and a copy of the training
    data, so its pickle grows with the data: a few megabytes per thousand rows of 64
    features.

    References
    ----------
    Poličar, Stražar and Zupan (2024), "openTSNE: A Modular Python Library for t-SNE
    Dimensionality Reduction and Embedding", Journal of Statistical Software 109(3).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from ae_reduce import TSNE
    >>> X, _ = load_digits(return_X_y=True)
    >>> tsne = TSNE(n_iter=100, random_state=0).fit(X[:500])
    >>> tsne.transform(X[500:510]).shape
    (10, 2)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, 3, closed="both")],
        "perplexity": [Interval(Real, SMALLEST_PERPLEXITY, None, closed="left")],
        "learning_rate": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "early_exaggeration_iter": [Interval(Integral, 0, None, closed="left")],
        "early_exaggeration": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "exaggeration": [Interval(Real, 0, None, closed="neither"), None],
        "dof": [Interval(Real, 0, None, closed="neither")],
        "initialization": [StrOptions({"pca", "spectral", "random"}), np.ndarray],
        "metric": [str, callable],
        "metric_params": [dict, None],
        "neighbors": [StrOptions({"auto", "exact", "annoy", "approx", "pynndescent", "hnsw"})],
        "negative_gradient_method": [StrOptions({"auto"} | _FFT_METHODS | _BH_METHODS)],
        "transform_params": [dict, None],
        "n_jobs": N_JOBS_CONSTRAINT,
        "callbacks": [callable, list, None],
        "callbacks_every_iters": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        perplexity=30.0,
        learning_rate="auto",
        early_exaggeration_iter=250,
        early_exaggeration="auto",
        n_iter=500,
        exaggeration=None,
        dof=1.0,
        initialization="pca",
        metric="euclidean",
        metric_params=None,
        neighbors="auto",
        negative_gradient_method="auto",
        transform_params=None,
        n_jobs=None,
        callbacks=None,
        callbacks_every_iters=50,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.perplexity = perplexity
        self.learning_rate = learning_rate
        self.early_exaggeration_iter = early_exaggeration_iter
        self.early_exaggeration = early_exaggeration
        self.n_iter = n_iter
        self.exaggeration = exaggeration
        self.dof = dof
        self.initialization = initialization
        self.metric = metric
        self.metric_params = metric_params
        self.neighbors = neighbors
        self.negative_gradient_method = negative_gradient_method
        self.transform_params = transform_params
        self.n_jobs = n_jobs
        self.callbacks = callbacks
        self.callbacks_every_iters = callbacks_every_iters
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the t-SNE map of `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Compute the t-SNE map of `X` and return the training points' positions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; at least 4 rows.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Positions of the training points on the map. A copy: later calls of
            :meth:`transform` do not change it.
        """
        return np.array(self._fit(X))

    # validate_data sets n_features_in_ at once and openTSNE can fail late (a callback
    # may raise): an error puts back the estimator exactly as it was, so a fitted map
    # stays usable and an unfitted estimator stays unfitted.
    @atomic_fit
    def _fit(self, X):
        X = validate_data(
            self, frame_without_columns_as_array(X), dtype=np.float64, ensure_min_samples=4
        )
        openTSNE = import_opentsne()
        n_samples, n_features = X.shape
        bounds = (X.min(axis=0), X.max(axis=0))
        self._check_distances(*bounds, "X")
        check_cosine_rows(X, self.metric, "X")
        perplexity = self._effective_perplexity(n_samples)
        initialization = self.initialization
        if isinstance(initialization, str) and initialization == "pca":
            # PCA cannot give more components than there are features, and openTSNE
            # divides PCA's positions by their spread, which identical rows do not have.
            if n_features < self.n_components or np.array_equal(*bounds):
                initialization = "spectral"
        runner = None if self.callbacks is None else _CallbackRunner(self.callbacks)
        tsne = openTSNE.TSNE(
            n_components=self.n_components,
            perplexity=perplexity,
            learning_rate=self.learning_rate,
            early_exaggeration_iter=self.early_exaggeration_iter,
            early_exaggeration=self.early_exaggeration,
            n_iter=self.n_iter,
            exaggeration=self.exaggeration,
            dof=self.dof,
            initialization=initialization,
            metric=self.metric,
            metric_params=self.metric_params,
            neighbors=self.neighbors,
            negative_gradient_method=self._gradient_method(),
            n_jobs=1 if self.n_jobs is None else self.n_jobs,
            callbacks=runner,
            callbacks_every_iters=self.callbacks_every_iters,
            random_state=int(check_random_state(self.random_state).randint(2**31 - 1)),
            verbose=bool(self.verbose),
        )
        # openTSNE's approximate neighbour searches compute in float32, where the
        # distances of rows near 1e-30 underflow; such rows are mapped times a power of
        # two, which the affinities of a scale-free metric do not see.
        scale = input_scale(X) if self.metric in SCALE_FREE_METRICS else 1.0
        if _ORDINARY_SCALES[0] <= scale <= _ORDINARY_SCALES[1]:
            scale = 1.0
        if runner is not None:
            announce_stage(runner.callbacks, neighbours_stage(n_samples, perplexity))
        embedding = tsne.fit(X * scale if scale != 1 else X)
        _check_positions(embedding, "fit")
        # openTSNE's transform re-centres the map in place before placing new points.
        # Centring once here makes that a no-op, so the training positions returned by
        # fit_transform and the positions of new points share one coordinate frame.
        embedding -= (embedding.max(axis=0) + embedding.min(axis=0)) / 2
        # User callbacks may not pickle and belong to this fit only.
        embedding.gradient_descent_params["callbacks"] = None
        embedding.gradient_descent_params["use_callbacks"] = False
        n_iter = self.early_exaggeration_iter + self.n_iter
        kl_divergence = embedding.kl_divergence
        if runner is not None and runner.stopped_at is not None:
            phase, iteration, kl_divergence = runner.stopped_at
            # openTSNE stops before the step of the iteration whose callback said so.
            n_iter = iteration - 1 + (self.early_exaggeration_iter if phase == 2 else 0)
        self.embedding_ = embedding
        self.perplexity_ = perplexity
        self.kl_divergence_ = float(kl_divergence)
        self.n_iter_ = int(n_iter)
        self._bounds = bounds
        self._input_scale = scale
        return embedding

    def _effective_perplexity(self, n_samples):
        # openTSNE lowers a too-large perplexity itself, but only in a log message;
        # lower it here, visibly, and keep the value used.
        return effective_perplexity(self.perplexity, n_samples)

    def _check_distances(self, lower, upper, name):
        check_distances(lower, upper, self.metric, self.metric_params, name)

    def _gradient_method(self):
        method = self.negative_gradient_method
        if self.n_components <= 2:
            return method
        if method in _FFT_METHODS:
            raise ValueError(
                f"negative_gradient_method={method!r} supports at most 2 components, got "
                f"n_components={self.n_components}. Use negative_gradient_method='bh'."
            )
        return "bh"

    def transform(self, X):
        """Place new rows on the fitted map.

        Each row is positioned among its nearest training points and optimised against
        the fixed training map, independently of the other new rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data, with the features seen in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Positions of the new rows on the map.
        """
        check_is_fitted(self, "embedding_")
        X = validate_data(self, frame_without_columns_as_array(X), dtype=np.float64, reset=False)
        lower, upper = X.min(axis=0), X.max(axis=0)
        # Maps pickled before the training rows' bounds were kept check the new rows only.
        if hasattr(self, "_bounds"):
            lower, upper = np.minimum(lower, self._bounds[0]), np.maximum(upper, self._bounds[1])
        self._check_distances(lower, upper, "X passed to transform")
        check_cosine_rows(X, self.metric, "X passed to transform")
        params = {"perplexity": min(5.0, self.perplexity_), **(self.transform_params or {})}
        perplexity = params["perplexity"]
        if not (isinstance(perplexity, Real) and perplexity >= SMALLEST_PERPLEXITY):
            # openTSNE would search int(3 * perplexity) = 0 neighbours and fail inside.
            raise ValueError(
                "The 'perplexity' of transform_params must be a float in the range "
                f"[{SMALLEST_PERPLEXITY}, inf). Got {perplexity!r} instead."
            )
        scale = getattr(self, "_input_scale", 1.0)
        placed = np.array(self.embedding_.transform(X * scale if scale != 1 else X, **params))
        _check_positions(placed, "transform")
        return placed

    @property
    def _n_features_out(self):
        # An AttributeError before fit is what makes get_feature_names_out say "not fitted".
        return self.embedding_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
