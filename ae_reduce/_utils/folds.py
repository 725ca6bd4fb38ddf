"""Folds of cross-fitting: each row held out exactly once."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.validation import check_random_state


def check_partition(folds, n_samples, cv, result="out-of-fold prediction"):
    """Refuse folds that do not hold out each of `n_samples` rows exactly once.

    Cross-fitting gives each row one `result`, from a model trained on the other
    folds; a row held out by no fold would get none, and a row held out by several
    would get the last one. scikit-learn's ``cross_val_predict`` refuses such folds too.

    Parameters
    ----------
    folds : list of tuple of ndarray
        The (train, test) index arrays, as ``cv.split`` yields them.
    n_samples : int
        Rows of the data.
    cv : object
        The ``cv`` parameter as the user gave it, for the message.
    result : str, default="out-of-fold prediction"
        What each row gets from its fold, for the message.

    Raises
    ------
    ValueError
        If there are no folds, a fold has no training or no held-out rows, or the
        held-out rows are not a partition of the rows.
    """
    if not folds:
        raise ValueError(
            f"cv={cv!r} gave no folds (an iterator of folds can be used only once); "
            "pass an int, a splitter such as KFold, or a list of (train, test) index arrays"
        )
    tested = []
    for number, (train, test) in enumerate(folds):
        train, test = np.asarray(train), np.asarray(test)
        for name, rows in (("training", train), ("held-out", test)):
            if rows.size == 0:
                raise ValueError(f"fold {number} of cv={cv!r} has no {name} rows")
            if rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= n_samples:
                raise ValueError(
                    f"fold {number} of cv={cv!r} has {name} rows that are not indices "
                    f"of the {n_samples} rows (0 to {n_samples - 1})"
                )
        tested.append(test.ravel())
    times = np.bincount(np.concatenate(tested), minlength=n_samples)
    if (times != 1).any():
        row = int(np.flatnonzero(times != 1)[0])
        raise ValueError(
            f"cv must split the rows into a partition, each row held out by exactly one "
            f"fold, so that each gets one {result}; row {row} is held out by {times[row]} "
            f"folds of cv={cv!r} ({int((times == 0).sum())} row(s) by none, "
            f"{int((times > 1).sum())} by several). Use KFold, StratifiedKFold, GroupKFold "
            "or an int cv instead of ShuffleSplit or a repeated splitter"
        )


def cross_fitting_folds(cv, n_samples, stratify, random_state):
    """Training and held-out rows of each fold of a ``cv`` parameter.

    An int gives shuffled folds, stratified when ``stratify`` (class codes, -1 for a
    missing label) has every class in at least ``cv`` rows; a splitter or an iterable of
    folds is used as given. The folds must partition the rows.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    if isinstance(cv, Integral):
        if cv > n_samples:
            raise ValueError(
                f"cv={cv} folds need at least {cv} rows, got {n_samples}; lower cv or "
                "set cv=None to turn cross-fitting off."
            )
        if stratify is not None and np.bincount(stratify + 1).max() >= cv:
            splitter = StratifiedKFold(cv, shuffle=True, random_state=seed)
        else:
            splitter = KFold(cv, shuffle=True, random_state=seed)
    else:
        splitter = cv
    if hasattr(splitter, "split"):
        labels = stratify if stratify is not None else np.zeros(n_samples)
        folds = list(splitter.split(np.zeros((n_samples, 1)), labels))
    else:
        folds = list(splitter)
    check_partition(folds, n_samples, cv, result="out-of-fold embedding")
    return folds
