"""Folds of cross-fitting: each row held out exactly once."""

import numpy as np


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
