"""Input scaling for the pipelines the package builds: a rule that suits the data.

Per-column standardisation, the usual choice for tables whose columns carry different
units, harms data whose columns share one unit. On pixels, a pixel inked in a few
rows gets a tiny standard deviation, and those rows z-scores above 20: a t-SNE map
of 5,000 real MNIST digits behind a ``StandardScaler`` scored 0.898 (10-NN accuracy)
against 0.941 behind a ``MinMaxScaler``, and a classifier behind it became
confidently wrong on the rows where such a pixel is inked. :class:`AutoScaler`
looks at the columns' ranges: when they agree (pixels, counts bounded by one
maximum, answers on one rating scale) it scales all of them by one common range to
[0, 1]; when they differ (a table of lengths, weights and ages, or genes expressed at
different levels) it standardises each.
"""

import copy
from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.sparsefuncs import inplace_column_scale, min_max_axis
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._utils.atomic import atomic_fit
from .._utils.docstrings import fill_docstrings

#: The names ``scaler=`` takes wherever the package builds a pipeline.
SCALER_NAMES = ("auto", "standard", "minmax", "none")


@fill_docstrings()
class AutoScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale columns that share a range by one common range, else standardise them.

    The rule looks at each column's range (its largest value minus its smallest) in
    the rows seen by ``fit``. When the widest range is at most `max_range_ratio`
    times the lower quartile of the non-constant columns' ranges, the columns are
    taken to share a unit, and all of them are scaled by one affine map that takes
    the smallest value of the data to 0 and the largest to 1: their relative sizes
    are kept, so a pixel inked in few rows stays as faint as it is, and a new row
    inked where no training row was stays within [0, 1]. Otherwise the columns carry
    different units, and each is standardised as by
    :class:`~sklearn.preprocessing.StandardScaler`. Sparse input keeps its zeros: the
    common scale divides by the largest absolute value, and the standardisation does
    not centre.

    Parameters
    ----------
    max_range_ratio : float, default=2.0
        How many times wider than the lower quartile of the non-constant columns'
        ranges the widest column's range may be for the columns to count as sharing a
        unit.

    Attributes
    ----------
    kind_ : {"shared", "standard"}
        The scaling the rule chose: one range shared by every column, or each column
        standardised.

    center_ : ndarray of shape (n_features,)
        What ``transform`` subtracts from each column: the data's smallest value
        (``"shared"``) or the column's mean (``"standard"``); zeros for sparse input.

    scale_ : ndarray of shape (n_features,)
        The factor of each column once centred: ``transform`` returns
        ``(X - center_) * scale_``.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    sklearn.preprocessing.StandardScaler : Per-column standardisation.
    sklearn.preprocessing.MinMaxScaler : Each column to [0, 1] on its own.
    make_tsne_pipeline : Puts this scaler first by default (``scaler="auto"``).

    Notes
    -----
    On pixels and counts bounded by one maximum the ranges agree; on tables of
    measurements in different units (lengths in millimetres and weights in grams)
    they differ by orders of magnitude. The widest range divided by the lower
    quartile is 1.0 on 5,000 real MNIST digits and 1.07 on scikit-learn's 8x8 digits,
    against 158 on the four measurements of the Palmer penguins, 514 on wine and
    26,800 on breast cancer. Log-expression of 765 genes in 700 blood cells gives 2.6
    and is standardised: genes are not one unit the way pixels are, and there a t-SNE
    map of standardised genes placed cell types better (10-NN accuracy 0.814) than one
    of genes scaled to [0, 1] (0.779).

    One range for all columns rather than one per column
    (:class:`~sklearn.preprocessing.MinMaxScaler`): a pixel that training rows ink
    faintly or never gets a tiny or no range of its own, and a new row inked there
    would be scaled far beyond 1 (up to 255 for a column that was constant), which
    swamped the held-out reconstruction errors of every model on real digits.
    ``benchmarks/bench_tsne.py`` and ``benchmarks/bench_label_issues.py`` measure the
    choice on real data sets of each kind.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import AutoScaler
    >>> pixels = np.array([[0, 255, 3, 200, 10], [128, 0, 0, 0, 250], [255, 64, 0, 90, 0]])
    >>> scaler = AutoScaler().fit(pixels)
    >>> scaler.kind_
    'shared'
    >>> scaler.transform(pixels)[0].round(3)
    array([0.   , 1.   , 0.012, 0.784, 0.039])
    >>> table = np.array([[39.1, 3750.0], [39.5, 3800.0], [40.3, 3250.0]])
    >>> AutoScaler().fit(table).kind_
    'standard'
    """

    _parameter_constraints: dict = {
        "max_range_ratio": [Interval(Real, 1, None, closed="left")],
    }

    def __init__(self, max_range_ratio=2.0):
        self.max_range_ratio = max_range_ratio

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Choose the scaling from the columns' ranges and fit it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to scale.

        y : None
            Ignored.

        Returns
        -------
        self : AutoScaler
            This estimator, fitted.
        """
        return self._update(X, reset=True)

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the ranges and statistics with a batch of rows, then choose again.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of rows, sparse if and only if the first batch was.

        y : None
            Ignored.

        Returns
        -------
        self : AutoScaler
            This estimator, fitted on every batch seen so far.
        """
        return self._update(X, reset=not hasattr(self, "kind_"))

    def _update(self, X, reset):
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        is_sparse = sparse.issparse(X)
        if reset:
            standard = StandardScaler(with_mean=not is_sparse)
        else:
            if is_sparse != self._sparse:
                fitted, given = ("sparse", "dense") if self._sparse else ("dense", "sparse")
                raise ValueError(
                    f"AutoScaler was fitted on {fitted} rows and cannot add a {given} batch: "
                    "centring differs between the two; give every batch in one form"
                )
            standard = copy.deepcopy(self._standard)
        # Statistics in float64 whatever the input, so that float32 data does not
        # lose the small spread of values far from zero.
        standard.partial_fit(X.astype(np.float64))
        low, high = min_max_axis(X, axis=0) if is_sparse else (X.min(axis=0), X.max(axis=0))
        low, high = low.astype(np.float64), high.astype(np.float64)
        if not reset:
            low, high = np.minimum(self._low, low), np.maximum(self._high, high)
        with np.errstate(over="ignore"):
            ranges = high - low
        if not np.isfinite(ranges).all():
            column = int(np.flatnonzero(~np.isfinite(ranges))[0])
            raise ValueError(
                f"column {column} spans {low[column]:.3g} to {high[column]:.3g}, a range too "
                "wide for a float64; divide the data by a large constant first"
            )
        n_features = X.shape[1]
        if shares_range(ranges, self.max_range_ratio):
            kind = "shared"
            if is_sparse:
                span = max(abs(low.min()), abs(high.max()))
                center = np.zeros(n_features)
            else:
                span = high.max() - low.min()
                center = np.full(n_features, low.min())
            with np.errstate(divide="ignore", over="ignore"):
                scale = np.full(n_features, 1.0 / span)
        else:
            kind = "standard"
            center = np.zeros(n_features) if is_sparse else standard.mean_.copy()
            with np.errstate(divide="ignore", over="ignore"):
                scale = 1.0 / standard.scale_
        if not (np.isfinite(scale).all() and (scale > 0).all()):
            column = int(np.flatnonzero(~(np.isfinite(scale) & (scale > 0)))[0])
            what = "range" if kind == "shared" else "standard deviation"
            raise ValueError(
                f"the {what} of column {column} ({high[column] - low[column]:.3g} from "
                f"{low[column]:.3g} to {high[column]:.3g}) is too small or too large to "
                "scale by in float64; multiply or divide the data by a constant first"
            )
        # Every fitted attribute is replaced, never changed in place.
        self._sparse, self._standard, self._low, self._high = is_sparse, standard, low, high
        self.kind_, self.center_, self.scale_ = kind, center, scale
        return self

    def transform(self, X):
        """Scale `X`: ``(X - center_) * scale_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to scale. Sparse rows need a fit on sparse rows, or a shared
            range whose smallest value is 0 (nothing to subtract).

        Returns
        -------
        X_scaled : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The scaled rows, of the same float type as `X` (float64 for other types).
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32), reset=False
        )
        if sparse.issparse(X):
            self._refuse_centring_sparse()
            X = X.copy()
            inplace_column_scale(X, self.scale_.astype(X.dtype))
            return X
        # In float64, cast back at the end: float32 values far from zero keep the
        # precision of their small differences.
        return ((X - self.center_) * self.scale_).astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Undo the scaling.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Scaled rows.

        Returns
        -------
        X_original : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The rows in the units of the data ``fit`` saw.
        """
        check_is_fitted(self)
        X = check_array(X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32))
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but AutoScaler is expecting "
                f"{self.n_features_in_} features as input."
            )
        if sparse.issparse(X):
            self._refuse_centring_sparse()
            X = X.copy()
            inplace_column_scale(X, (1.0 / self.scale_).astype(X.dtype))
            return X
        return (X / self.scale_ + self.center_).astype(X.dtype, copy=False)

    def _refuse_centring_sparse(self):
        if np.any(self.center_ != 0):
            raise ValueError(
                "AutoScaler was fitted on dense rows and subtracts a centre from them, which "
                "would make a sparse matrix dense; fit it on sparse rows, or pass dense ones"
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def shares_range(ranges, max_range_ratio=2.0):
    """Whether columns with these ranges look like they share a unit.

    The widest range must be at most `max_range_ratio` times the lower quartile of
    the non-constant columns' ranges (the smallest range of a table of up to four
    columns). Constant columns are left out, so the blank border of an image does not
    count against it, and so is the narrowest quarter, so a few faint pixels at an
    image's edge do not either.
    """
    ranges = np.asarray(ranges, dtype=np.float64)
    varying = ranges[np.isfinite(ranges) & (ranges > 0)]
    if varying.size == 0:
        return False
    quartile = np.quantile(varying, 0.25, method="lower")
    return bool(varying.max() <= max_range_ratio * quartile)


def make_scaler(scaler):
    """The first step of a pipeline the package builds, from ``scaler=``.

    Parameters
    ----------
    scaler : {"auto", "standard", "minmax", "none"}, estimator or None
        A name, an estimator used as given, or None for no scaling.

    Returns
    -------
    step : estimator or None
        An unfitted scaler, the given estimator, or None for no step.
    """
    if scaler is None:
        return None
    if isinstance(scaler, str):
        if scaler == "auto":
            return AutoScaler()
        if scaler == "standard":
            return StandardScaler()
        if scaler == "minmax":
            return MinMaxScaler()
        if scaler == "none":
            return None
        raise ValueError(
            f"scaler must be one of {', '.join(repr(name) for name in SCALER_NAMES)}, an "
            f"estimator with fit and transform, or None; got {scaler!r}."
        )
    if isinstance(scaler, type):
        raise TypeError(
            f"scaler must be an instance, such as {scaler.__name__}(), not the class "
            f"{scaler.__name__}."
        )
    if not (hasattr(scaler, "fit") and hasattr(scaler, "transform")):
        raise TypeError(
            "scaler must be one of "
            f"{', '.join(repr(name) for name in SCALER_NAMES)}, an estimator with fit and "
            f"transform, or None; got {type(scaler).__name__}, which lacks fit or transform."
        )
    return scaler
