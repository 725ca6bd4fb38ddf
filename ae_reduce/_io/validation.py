"""Input checks shared by every estimator: arrays, frames, memory maps and Arrow data."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from .source import Source, check_file_in_chunks, check_float32_range, file_backing, range_of


def frame_without_columns_as_array(X):
    """An empty array in place of a data frame without columns; anything else as given.

    Converting a frame without columns fails inside numpy with "at least one array or
    dtype is required"; an empty array gets scikit-learn's message about the shape.
    The estimators that call this keep every row in memory: a pyarrow Dataset, which
    may be larger than memory, is refused with a ``TypeError`` that says how to read it.
    """
    from .arrow import is_dataset

    if is_dataset(X):
        raise TypeError(
            "X is a pyarrow Dataset, which this estimator cannot read batch by batch: it "
            "keeps every row in memory. Read the rows into memory first, for example with "
            "dataset.to_table(), or use an estimator that reads datasets batch by batch "
            "(KerasAutoencoderTransformer, SupervisedEmbeddingTransformer)."
        )
    if hasattr(X, "columns") and hasattr(X, "shape") and len(X.columns) == 0:
        return np.empty(X.shape)
    return X


def check_input(estimator, X, *, reset, name="X"):
    """Validate ``X`` as scikit-learn does and wrap it in a :class:`Source`.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator; ``n_features_in_`` and ``feature_names_in_`` are set on it when
        ``reset`` is true and checked against otherwise.
    X : array-like, sparse matrix, numpy.memmap, pyarrow.Table or pyarrow.dataset.Dataset \
of shape (n_samples, n_features)
        The data. A Table is checked and converted through numpy. A Dataset is read
        batch by batch (see :mod:`ae_reduce._io.arrow`): with ``reset`` into a temporary
        float32 file, otherwise as it is iterated.
    reset : bool
        True in ``fit``, False afterwards.
    name : str, default="X"
        Name of the input in error messages.

    Returns
    -------
    source : Source
        The validated data. Use it as a context manager in ``fit``, so that the
        temporary file of a dataset is deleted when ``fit`` ends, however it ends.
    """
    from . import arrow as _arrow

    if _arrow.is_dataset(X):
        return _arrow.dataset_source(estimator, X, reset=reset, name=name)
    if _arrow.is_table(X):
        return _arrow.table_source(estimator, X, reset=reset, name=name)
    X = frame_without_columns_as_array(X)
    file = file_backing(X)
    data = validate_data(
        estimator,
        X,
        reset=reset,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        ensure_all_finite=file is None,
    )
    source = Source(data, file=file)
    if file is not None:
        # Checking a large memory map through the mapping would pull every page in.
        check_file_in_chunks(estimator, source, name)
    else:
        values = data.data if sp.issparse(data) else data
        low, high = range_of(values)
        if sp.issparse(data) and data.nnz < data.shape[0] * data.shape[1]:
            # The zeros a sparse matrix does not store count too.
            low, high = min(low, 0.0), max(high, 0.0)
        check_float32_range(max(high, -low), values.dtype, name)
        source.value_range = (low, high)
    return source


def held_out_count(n_samples, validation_split):
    """Rows that :func:`split_indices` holds out of ``n_samples``.

    ``validation_split`` of the rows, rounded, and none when either part would be empty.
    """
    n_validation = round(n_samples * validation_split)
    if n_validation < 1 or n_samples - n_validation < 1:
        return 0
    return n_validation


def split_indices(n_samples, validation_split, random_state, stratify=None):
    """Split row indices into a training and a validation part.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    validation_split : float
        Fraction of rows held out; rounded, and dropped to none when either part would be
        empty (one or two rows).
    random_state : numpy.random.RandomState
        Source of the permutation.
    stratify : array-like or None
        Class labels to keep in proportion in both parts, when possible.

    Returns
    -------
    train : ndarray of int
        Sorted training rows.
    validation : ndarray of int
        Sorted validation rows, possibly empty.
    """
    n_validation = held_out_count(n_samples, validation_split)
    if n_validation == 0:
        return np.arange(n_samples), np.arange(0)
    if stratify is not None:
        from sklearn.model_selection import StratifiedShuffleSplit

        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=n_validation, random_state=random_state
        )
        try:
            train, validation = next(splitter.split(np.zeros(n_samples), stratify))
            return np.sort(train), np.sort(validation)
        except ValueError:
            pass  # a class too small to split: fall back to a plain random split
    permutation = random_state.permutation(n_samples)
    return np.sort(permutation[n_validation:]), np.sort(permutation[:n_validation])
