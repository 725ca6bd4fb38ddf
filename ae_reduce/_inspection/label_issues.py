"""Rows whose label a cross-fitted classifier confidently disagrees with.

How many rows are mislabelled is estimated as in confident learning (Northcutt,
Jiang and Chuang, 2021): each class gets a threshold, the mean probability that the
models give that class on the rows labelled with it, and the rows that clear another
class's threshold, counted per pair of classes and calibrated, estimate the noise.
That many rows, those with the lowest label-quality scores, are flagged, and so are,
for each pair of classes, the rows that the estimate of that pair points at.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import (
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
    cross_val_predict,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from .._preprocessing.scaling import SCALER_NAMES, make_scaler
from .._utils.folds import check_partition
from .._utils.targets import check_label_types, missing_rows, python_value, user_labels
from .._utils.warnings import caller_stacklevel


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "cv": ["cv_object"],
        "groups": ["array-like", None],
        # None or a nonzero int: joblib has no meaning for 0.
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "random_state": ["random_state"],
        "return_scores": ["boolean"],
        "rank_by": [StrOptions({"self_confidence", "normalized_margin"})],
        "scaler": [StrOptions(set(SCALER_NAMES)), HasMethods(["fit", "transform"]), None],
    },
    prefer_skip_nested_validation=True,
)
def find_label_issues(
    X,
    y,
    *,
    estimator=None,
    cv=5,
    groups=None,
    n_jobs=None,
    random_state=None,
    return_scores=False,
    rank_by="self_confidence",
    scaler="auto",
):
    """Find rows whose label is probably wrong, most suspicious first.

    Each row's class probabilities come from a model that did not see the row
    (cross-fitting, with :func:`~sklearn.model_selection.cross_val_predict`). The
    number of mislabelled rows is estimated with the per-class thresholds of
    confident learning: the threshold of a class is the mean probability the models
    give that class on the rows labelled with it, so a class the models find hard is
    not flagged wholesale, and a row counts as belonging to another class when that
    class clears its threshold. That many rows, those with the lowest label-quality
    scores, are flagged. So are, for each given class ``i`` and other class ``j``, as
    many rows of class ``i`` as the estimate counts in that pair, those whose
    probability of ``j`` most exceeds that of ``i`` (pruning by noise rate): a
    systematic confusion, where every wrong label of one class points at one other
    class, is found pair by pair better than by score alone. The flagged rows are
    returned most suspicious first.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The rows, as the estimator takes them.

    y : array-like of shape (n_samples,)
        The given labels: a binary or multiclass target, each class with at least
        ``cv`` rows.

    estimator : classifier, default=None
        Any estimator with ``fit`` and ``predict_proba``; it is cloned for each fold.
        None uses `scaler` followed by :class:`SupervisedEmbeddingTransformer` with
        ``task="classification"``, seeded with `random_state`.

    cv : int, cross-validation generator, iterable or None, default=5
        Folds of the cross-fitting. An int (None means 5) gives stratified folds,
        shuffled with `random_state` (with `groups`, stratified group folds:
        :class:`~sklearn.model_selection.StratifiedGroupKFold`); a splitter or an
        iterable of (train, test) index arrays is used as it is. The folds must be a
        partition (each row in exactly one test fold, as with ``KFold``, ``GroupKFold``
        or ``LeaveOneGroupOut``), since each row gets one out-of-fold prediction:
        ``ShuffleSplit`` and repeated splitters are refused. The training rows of every
        fold must hold every class.

    groups : array-like of shape (n_samples,), default=None
        Group of each row (a patient, a session, a source), passed to the splitter, so
        that rows of one group are never both trained on and predicted: a model that
        has seen a row's near twin would otherwise be confident about it, wrong label
        or not. Needed by group splitters such as
        :class:`~sklearn.model_selection.GroupKFold`.

    n_jobs : int, default=None
        Folds fitted in parallel, as in
        :func:`~sklearn.model_selection.cross_val_predict`: None (one at a time) or a
        nonzero int, -1 meaning all processors.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the folds and the default estimator. A given
        estimator keeps its own ``random_state``.

    return_scores : bool, default=False
        Whether to also return the label-quality score of every row.

    rank_by : {"self_confidence", "normalized_margin"}, default="self_confidence"
        The label-quality score. ``"self_confidence"`` is the probability of the
        given label. ``"normalized_margin"`` is ``(p_given - p_other + 1) / 2``, where
        ``p_other`` is the most probable other class: it also looks at which class the
        row seems to belong to. Self-confidence ranked flipped labels better in
        ``benchmarks/bench_label_issues.py``.

    scaler : {"auto", "standard", "minmax", "none"}, estimator or None, default="auto"
        The first step of the default estimator, as in :func:`make_tsne_pipeline`:
        ``"auto"`` is an :class:`AutoScaler` (columns that share a range scaled by
        that one range to [0, 1], columns in different units standardised). Ignored when `estimator`
        is given. On pixels, a per-column ``"standard"`` scaler gives rarely inked
        pixels z-scores above 20, and the network becomes confidently wrong about
        clean rows where they are inked.

    Returns
    -------
    issues : ndarray of shape (n_issues,)
        Indices of the flagged rows, most suspicious first.

    scores : ndarray of shape (n_samples,)
        Only with ``return_scores=True``: the label-quality score (`rank_by`) of
        every row, in [0, 1], lower for rows more likely mislabelled. Sorting all
        rows by it ranks them beyond the flagged ones.

    Warns
    -----
    NoSignalWarning
        When the out-of-fold probabilities give a row's label more than that label's
        share of the rows on no more than half the rows, plus two standard errors:
        the model learned nothing that could tell a wrong label from a right one, and
        no row is flagged (`scores` are still returned).

    Raises
    ------
    ValueError
        If `y` is not a binary or multiclass target, has missing labels, mixes label
        types (such as ``1`` and ``"1"``), holds a single class, or a class has fewer
        rows than folds or is missing from the training rows of a fold of a given
        `cv`.

    See Also
    --------
    SupervisedEmbeddingTransformer : The default classifier.
    export_html : A map on which the flagged rows can be highlighted.

    Notes
    -----
    The probabilities are out of fold, so a model cannot have memorised a wrong
    label. Better probabilities find more issues: a classifier that fits the data
    well (and is calibrated enough that its probabilities rank rows) matters more
    than the choice of score.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from ae_reduce import find_label_issues
    >>> X, y = load_iris(return_X_y=True)
    >>> y_noisy = y.copy()
    >>> y_noisy[[0, 60, 120]] = [2, 0, 1]
    >>> issues = find_label_issues(X, y_noisy, estimator=LogisticRegression(max_iter=1000),
    ...                            random_state=0)
    >>> sorted(issues[:3].tolist())
    [0, 60, 120]
    """
    probabilities, _, codes = cross_fitted_probabilities(
        X,
        y,
        estimator=estimator,
        cv=cv,
        groups=groups,
        n_jobs=n_jobs,
        random_state=random_state,
        scaler=scaler,
    )
    issues, scores = rank_label_issues(probabilities, codes, rank_by)
    return (issues, scores) if return_scores else issues


def cross_fitted_probabilities(
    X, y, *, estimator=None, cv=5, groups=None, n_jobs=None, random_state=None, scaler="auto"
):
    """Out-of-fold class probabilities, as :func:`find_label_issues` computes them.

    Returns
    -------
    probabilities : ndarray of shape (n_samples, n_classes)
        Columns in the order of `classes`.
    classes : ndarray of shape (n_classes,)
        The sorted distinct labels.
    codes : ndarray of shape (n_samples,)
        Each row's label as an index into `classes`.
    """
    y = _check_labels(y)
    groups = _check_groups(groups, len(y))
    kind = type_of_target(y, input_name="y")
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"find_label_issues needs class labels: a binary or multiclass target, got "
            f"a {kind} one. Unknown label type: {kind}"
        )
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"y holds a single class ({python_value(classes[0])!r}); label issues are rows "
            "that belong to another class, so at least 2 classes are needed"
        )
    rng = check_random_state(random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    if estimator is None:
        estimator = default_estimator(seed, scaler)
    if cv is None:
        cv = 5
    if isinstance(cv, Integral):
        counts = np.bincount(codes)
        if counts.min() < cv:
            rare = classes[np.argmin(counts)]
            raise ValueError(
                f"class {python_value(rare)!r} has {counts.min()} row(s), fewer than the "
                f"cv={cv} folds: every class needs a row in each fold to be predicted out of "
                "fold. Use fewer folds or drop the rare class"
            )
        if groups is None:
            cv = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
        else:
            cv = StratifiedGroupKFold(n_splits=cv, shuffle=True, random_state=seed)
    cv = _folds_with_every_class(cv, X, y, groups, classes, codes)
    probabilities = cross_val_predict(
        clone(estimator), X, y, cv=cv, n_jobs=n_jobs, method="predict_proba"
    )
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if not np.isfinite(probabilities).all():
        raise ValueError(
            "the estimator's predict_proba returned NaN or infinite probabilities; "
            "its training diverged on some fold"
        )
    return probabilities, classes, codes


def _check_groups(groups, n_samples):
    if groups is None:
        return None
    groups = column_or_1d(np.asarray(groups), warn=False)
    if len(groups) != n_samples:
        raise ValueError(
            f"groups has {len(groups)} rows but y has {n_samples}: they must describe the same rows"
        )
    if missing_rows(groups).any():
        raise ValueError(
            f"groups has missing values, the first in row "
            f"{int(np.flatnonzero(missing_rows(groups))[0])}; every row needs a group"
        )
    return groups


def _folds_with_every_class(cv, X, y, groups, classes, codes):
    """The folds of `cv` as a list, refusing folds that are not a partition of the rows
    or whose training rows lack a class.

    cross_val_predict gives a class missing from the training rows probability 0 with
    only a warning, and every row of it would then be flagged.
    """
    splitter = check_cv(cv, y, classifier=True)
    if groups is None and _needs_groups(splitter):
        raise ValueError(
            f"cv={splitter!r} splits the rows by group: pass groups=, the group of each row"
        )
    folds = list(splitter.split(X, y, groups))
    for number, (train, _) in enumerate(folds):
        absent = np.setdiff1d(np.arange(len(classes)), codes[train])
        if absent.size:
            raise ValueError(
                f"fold {number} of cv trains on no row of class "
                f"{python_value(classes[absent[0]])!r}, so every row of that class would look "
                "mislabelled; each fold's training rows need every class. Use stratified "
                "folds, such as StratifiedKFold(shuffle=True), or an int cv"
            )
    check_partition(folds, len(y), cv)
    return folds


def _needs_groups(splitter):
    """Whether `splitter` is one of scikit-learn's splitters that split by group."""
    from sklearn import model_selection

    group_splitters = tuple(
        getattr(model_selection, name)
        for name in (
            "GroupKFold",
            "GroupShuffleSplit",
            "LeaveOneGroupOut",
            "LeavePGroupsOut",
            "StratifiedGroupKFold",
        )
    )
    return isinstance(splitter, group_splitters)


def _check_labels(y):
    """`y` as a numpy array of one label type, refusing missing labels by name."""
    y = np.asarray(user_labels(y))
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    if y.ndim in (1, 2):
        missing = missing_rows(y)
        if missing.any():
            raise ValueError(
                f"y has {int(missing.sum())} missing label(s) (None, NaN or NA), the "
                f"first in row {int(np.flatnonzero(missing)[0])}; every row needs a "
                "label to be checked against the others: drop those rows or fill them in"
            )
        y = check_label_types(y)
    return y


def rank_label_issues(probabilities, codes, rank_by="self_confidence"):
    """Flag and rank rows from out-of-fold probabilities and integer label codes.

    Two selections are flagged together: the rows with the lowest scores, as many as
    the calibrated confident joint estimates to be mislabelled
    (:func:`estimate_issue_count`), and for each pair of given class ``i`` and
    apparent class ``j``, the joint's count of rows of class ``i`` whose probability
    of ``j`` most exceeds that of ``i`` (:func:`pairwise_issues`). The second finds
    systematic confusions (class ``i`` labelled ``j`` throughout) that a ranking by
    score alone misses.

    Returns
    -------
    issues : ndarray of int
        Flagged rows, lowest score first.
    scores : ndarray of float of shape (n_samples,)
        Label-quality scores in [0, 1].
    """
    scores = label_quality_scores(probabilities, codes, rank_by)
    order = np.argsort(scores, kind="stable")
    if not _has_signal(probabilities, codes):
        return order[:0], scores
    joint = confident_joint(probabilities, codes)
    flagged = pairwise_issues(probabilities, codes, joint)
    flagged[order[: _off_diagonal(joint)]] = True
    return order[flagged[order]], scores


def _has_signal(probabilities, codes):
    """Whether the out-of-fold probabilities tell more about the labels than chance.

    A model that learned something gives a row's label more probability than that
    label's share of the rows (what a model that learned nothing gives it) on most
    rows. A model that learned nothing (labels unrelated to the features) does so on
    about half of them or fewer, and confident learning would then flag a large share
    of the rows at random. The share must exceed one half by more than two standard
    errors; otherwise a warning says so and no row is flagged. Unlike accuracy against
    the largest class's share, this holds on unbalanced labels too, where a good
    model is right little more often than always answering the largest class.
    """
    n_samples, n_classes = probabilities.shape
    rows = np.arange(n_samples)
    shares = np.bincount(codes, minlength=n_classes) / n_samples
    given = probabilities[rows, codes]
    # A relative margin keeps the fold-to-fold rounding of a prior from counting.
    above = float(np.mean(given > shares[codes] * (1 + 1e-6) + 1e-12))
    needed = 0.5 + 1.0 / np.sqrt(n_samples)
    if above > needed:
        return True
    accuracy = float(np.mean(probabilities.argmax(axis=1) == codes))
    warnings.warn(
        f"the cross-fitted model has no signal: it gives the given label more probability "
        f"than that label's share of the rows on only {above:.1%} of the rows ({needed:.1%} "
        f"needed; out-of-fold accuracy {accuracy:.3f}, largest class {shares.max():.3f}), so its "
        "disagreements with the labels say nothing about them and no row is flagged. "
        "Use a model that fits these features, or check that the labels belong to them",
        NoSignalWarning,
        stacklevel=caller_stacklevel(),
    )
    return False


class NoSignalWarning(UserWarning):
    """The classifier behind :func:`find_label_issues` learned nothing about the labels."""


def label_quality_scores(probabilities, codes, rank_by="self_confidence"):
    """Each row's score in [0, 1]: low when the probabilities favour another class."""
    rows = np.arange(len(codes))
    given = probabilities[rows, codes]
    if rank_by == "self_confidence":
        return np.clip(given, 0.0, 1.0)
    others = _other_classes(probabilities, codes)
    return np.clip((given - others.max(axis=1) + 1.0) / 2.0, 0.0, 1.0)


def suggested_classes(probabilities, codes):
    """Each row's most probable class other than its given one.

    Parameters
    ----------
    probabilities : ndarray of shape (n_samples, n_classes)
        Out-of-fold class probabilities.
    codes : ndarray of shape (n_samples,)
        The given labels as class codes (columns of `probabilities`).

    Returns
    -------
    suggested : ndarray of shape (n_samples,)
        Class codes, never the row's given one (with two classes or more).
    """
    return _other_classes(probabilities, codes).argmax(axis=1)


def _other_classes(probabilities, codes):
    """`probabilities` with each row's given class set to minus infinity."""
    others = np.array(probabilities, copy=True)
    others[np.arange(len(codes)), codes] = -np.inf
    return others


def confident_joint(probabilities, codes):
    """The calibrated confident joint: estimated rows per (given class, true class).

    A row counts for the class whose threshold (the mean probability of that class on
    the rows labelled with it) its probability clears, the most probable such class
    when several do; rows that clear none are not counted. The counts are then
    rescaled so that each given class keeps its number of rows and the total is the
    number of rows.
    """
    n_samples, n_classes = probabilities.shape
    rows = np.arange(n_samples)
    counts = np.bincount(codes, minlength=n_classes)
    thresholds = np.bincount(codes, weights=probabilities[rows, codes], minlength=n_classes)
    thresholds /= np.maximum(counts, 1)
    cleared = probabilities >= thresholds
    confident = np.where(cleared, probabilities, -np.inf).argmax(axis=1)
    counted = cleared.any(axis=1)
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (codes[counted], confident[counted]), 1.0)
    joint *= (counts / np.maximum(joint.sum(axis=1), 1.0))[:, None]
    joint *= n_samples / max(joint.sum(), 1.0)
    return joint


def _off_diagonal(joint):
    return int(np.round(joint.sum() - np.trace(joint)))


def estimate_issue_count(probabilities, codes):
    """How many rows are mislabelled: the mass off the diagonal of the confident joint."""
    return _off_diagonal(confident_joint(probabilities, codes))


def pairwise_issues(probabilities, codes, joint):
    """Rows flagged pair by pair of classes, as a boolean mask.

    For each given class ``i`` and other class ``j``, the rows of class ``i`` with the
    largest margin ``p_j - p_i``, as many as the joint's rounded entry ``(i, j)``; a
    row whose given label is its most probable class is never flagged. This is
    pruning by noise rate (Northcutt, Jiang and Chuang, 2021).
    """
    n_samples, n_classes = probabilities.shape
    flagged = np.zeros(n_samples, dtype=bool)
    counts = np.rint(joint).astype(int)
    for given in range(n_classes):
        members = np.flatnonzero(codes == given)
        for other in range(n_classes):
            if other == given or counts[given, other] <= 0:
                continue
            margin = probabilities[members, other] - probabilities[members, given]
            flagged[members[np.argsort(-margin, kind="stable")[: counts[given, other]]]] = True
    flagged &= probabilities.argmax(axis=1) != codes
    return flagged


def default_estimator(seed, scaler="auto"):
    """The classifier :func:`find_label_issues` cross-fits when given none.

    `scaler` (a name of :data:`SCALER_NAMES`, an estimator or None) and then a
    :class:`SupervisedEmbeddingTransformer` seeded with `seed`.
    """
    from sklearn.pipeline import make_pipeline

    from .._neural.supervised import SupervisedEmbeddingTransformer

    network = SupervisedEmbeddingTransformer(task="classification", random_state=seed)
    scaler = make_scaler(scaler)
    return make_pipeline(network) if scaler is None else make_pipeline(scaler, network)
