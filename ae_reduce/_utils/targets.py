"""Targets for supervised networks: validation, the task they imply, and their encoding.

A target is read once in ``fit``: missing labels are found, the task (classification or
regression, one or several outputs) is inferred with scikit-learn's ``type_of_target``,
and the labels are turned into what a Keras output layer trains on. Nothing here
imports Keras.
"""

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array

#: ``type_of_target`` kinds that are classification problems.
CLASSIFICATION_KINDS = frozenset({"binary", "multiclass", "multilabel-indicator"})

#: ``type_of_target`` kinds that are regression problems.
REGRESSION_KINDS = frozenset({"continuous", "continuous-multioutput"})


@dataclass
class Target:
    """A validated, encoded target.

    Attributes
    ----------
    kind : str
        ``"binary"``, ``"multiclass"``, ``"multilabel-indicator"``, ``"continuous"`` or
        ``"continuous-multioutput"``.
    encoded : ndarray
        What the network trains on: float32 0/1 columns for binary and multilabel
        targets, int32 class codes for multiclass ones, standardised float32 columns for
        regression. Missing labels hold 0 (their task weight is 0).
    labelled : ndarray of bool
        Whether each row has a label.
    n_outputs : int
        Width of the network's task output.
    classes : ndarray or None
        The user's labels, sorted (classification only).
    codes : ndarray of int or None
        Class code of each row, -1 where the label is missing (single-output
        classification only).
    mean, scale : ndarray or None
        Per-column standardisation of a regression target.
    shape_2d : bool
        Whether a regression target was given as a 2-D array (predictions keep it so).
    """

    kind: str
    encoded: np.ndarray
    labelled: np.ndarray
    n_outputs: int
    classes: np.ndarray | None = None
    codes: np.ndarray | None = None
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    shape_2d: bool = False

    @property
    def stratify(self):
        """Labels for stratified splits: class codes, with missing labels as one group."""
        return self.codes


def missing_rows(y):
    """Rows of ``y`` that hold NaN, None or pandas' NA in any column."""
    values = y.reshape(len(y), -1)
    if values.dtype.kind == "f":
        return np.isnan(values).any(axis=1)
    if values.dtype.kind == "O":
        import pandas as pd

        return np.asarray(pd.isna(values)).any(axis=1)
    return np.zeros(len(y), dtype=bool)


def _as_array(y, n_samples):
    if y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None. Pass the "
            "labels or values the embedding should be trained to predict."
        )
    y = user_labels(y)
    y = check_array(
        y,
        ensure_2d=False,
        ensure_all_finite=False,
        dtype=None,
        ensure_min_samples=0,
        input_name="y",
    )
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {y.shape}.")
    if len(y) != n_samples:
        raise ValueError(
            f"y has {len(y)} rows but X has {n_samples}: they must describe the same samples."
        )
    if y.dtype.kind == "f" and np.isinf(y).any():
        raise ValueError("Input y contains infinity; targets must be finite.")
    return y


def user_labels(y):
    """`y` as given, with pandas' dtypes turned into numpy's, and mixed label types in a
    list or tuple refused.

    numpy would turn ``[1, "a"]`` into strings and ``[True, 2]`` into numbers, merging
    classes, before the types could be checked.
    """
    y = _from_pandas(y)
    if isinstance(y, list | tuple):
        check_label_types(np.asarray(y, dtype=object))
    return y


def _from_pandas(y):
    """A pandas target as numpy, keeping the user's label values and types.

    scikit-learn's ``check_array`` turns pandas' nullable dtypes (``"boolean"``,
    ``"Int64"``, ...) into floats, which would make ``classes_`` ``[0., 1.]`` for a
    boolean target. They become their numpy dtype when nothing is missing, and objects
    with None for the missing labels otherwise; categoricals become their labels.
    """
    dtype = getattr(y, "dtype", None)
    if dtype is None or not hasattr(y, "to_numpy"):
        return y
    if getattr(dtype, "name", "") == "category":
        return np.asarray(y.astype(object))
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if numpy_dtype is None or not hasattr(dtype, "na_value"):
        return y
    if not y.isna().to_numpy().any():
        return y.to_numpy(dtype=numpy_dtype)
    if numpy_dtype.kind == "f":
        return y.to_numpy(dtype=numpy_dtype, na_value=np.nan)
    return y.to_numpy(dtype=object, na_value=None)


def is_missing_label(value):
    """Whether a label is missing: None, NaN, NaT or pandas' NA (without importing pandas)."""
    # Only floats can be NaN; math.isnan of a huge Python int would overflow.
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return True
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return type(value).__name__ in ("NAType", "NaTType")


def label_kind(value):
    """The kind of a label that decides whether two labels may share a class:
    ``"boolean"``, ``"string"``, ``"number"`` or the name of another type."""
    if isinstance(value, bool | np.bool_):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, numbers.Number):
        return "number"
    return type(value).__name__


def check_label_types(values):
    """Refuse labels of mixed types, which would otherwise compare equal (``1`` and
    ``True``) or not at all (``"a"`` and ``1``); give homogeneous objects their dtype."""
    if values.dtype.kind != "O":
        return values
    types = sorted({label_kind(v) for v in values.ravel() if not is_missing_label(v)})
    if len(types) > 1:
        raise ValueError(
            f"Mix of label input types ({' and '.join(types)}) in y: labels such as 1, "
            "True and '1' would be confused. Convert y to a single type, for example "
            "with y.astype(str)."
        )
    if types == ["boolean"]:
        return values.astype(bool)
    if types == ["number"]:
        return np.asarray(values.tolist())
    return values


def _kind(values, task):
    # type_of_target casts floats to int to spot whole numbers; huge values overflow there
    # harmlessly (they are continuous either way).
    with np.errstate(invalid="ignore", over="ignore"):
        kind = type_of_target(values, input_name="y")
    if kind in CLASSIFICATION_KINDS and task == "regression":
        return (
            "continuous-multioutput" if values.ndim == 2 and values.shape[1] > 1 else "continuous"
        )
    if kind in REGRESSION_KINDS and task == "classification":
        raise ValueError(
            f"Unknown label type: {kind}. task='classification' needs discrete labels; use "
            "task='regression' (or 'auto') to predict continuous values."
        )
    if kind == "unknown" or kind not in CLASSIFICATION_KINDS | REGRESSION_KINDS:
        raise ValueError(
            f"Unknown label type: {kind}. y must hold class labels (binary, multiclass or "
            "a multilabel indicator matrix) or continuous values (one or several columns)."
        )
    return kind


def check_target(y, n_samples, *, task, allow_missing, can_reconstruct=True):
    """Validate ``y``, infer its task and encode it for a network.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The target. Labels may be numbers, strings or a pandas categorical.
    n_samples : int
        Number of rows of ``X``.
    task : {"auto", "classification", "regression"}
        The estimator's ``task`` parameter.
    allow_missing : bool
        Whether rows without a label are allowed (semi-supervised training): NaN, None
        or pandas' NA, and -1 in an integer classification target.
    can_reconstruct : bool, default=True
        Whether the estimator has ``reconstruction_weight``, which messages then offer
        as the way to train on unlabelled rows.

    Returns
    -------
    target : Target
        The validated, encoded target.
    """
    y = _as_array(y, n_samples)
    missing = missing_rows(y)
    if missing.any() and not allow_missing:
        raise ValueError(
            f"Input y contains NaN or missing labels ({int(missing.sum())} rows). Drop "
            "those rows"
            + (
                ", or set reconstruction_weight > 0 to let unlabelled rows train the "
                "embedding through the reconstruction loss."
                if can_reconstruct
                else "; every row needs a label."
            )
        )
    if y.ndim == 2 and y.shape[1] == 1 and task != "regression":
        kind = type_of_target(y[~missing], input_name="y") if (~missing).any() else "unknown"
        if kind in {"binary", "multiclass"}:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
    if allow_missing and task != "regression" and y.ndim == 1 and y.dtype.kind in "iu":
        # scikit-learn's semi-supervised estimators mark unlabelled rows with -1.
        missing = missing | (y == -1)
    if missing.all():
        raise ValueError("y has no labelled row: at least some rows need a label.")
    labelled = ~missing
    values = y[labelled]
    if values.dtype.kind == "O" and task == "regression":
        values = _to_float(values)
    values = check_label_types(values)
    kind = _kind(values, task)
    if kind in REGRESSION_KINDS:
        return _encode_regression(y, labelled, kind)
    return _encode_classes(y, labelled, values, kind, can_reconstruct)


#: Smallest standard deviation whose variance is a normal float64 (not underflowed).
_SMALLEST_SCALE = float(np.sqrt(np.finfo(np.float64).tiny))


def _to_float(values):
    try:
        return values.astype(np.float64)
    except OverflowError:
        raise ValueError(
            "y holds numbers too large for float64; rescale y, for example in other units "
            "or with a log, before fitting."
        ) from None
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Unknown label type: task='regression' needs numeric y ({error})."
        ) from None


def _encode_regression(y, labelled, kind):
    shape_2d = y.ndim == 2
    values = _to_float(y.reshape(len(y), -1).astype(object) if y.dtype.kind == "O" else y)
    values = values.reshape(len(y), -1)
    # Computed on the values over each column's largest magnitude: the squares of
    # values above about 1e154 overflow float64 although their spread may not.
    size = np.abs(values[labelled]).max(axis=0, initial=0.0)
    size = np.where(size > 0, size, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = (values[labelled] / size).mean(axis=0) * size
        scale = (values[labelled] / size).std(axis=0) * size
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        largest = float(np.abs(values[labelled]).max())
        raise ValueError(
            f"y holds values too large to standardise (the largest absolute value is "
            f"{largest:.3g}; its spread overflows float64). Rescale y, for example in "
            "other units or with a log, before fitting."
        )
    constant = (values[labelled] == values[labelled][:1]).all(axis=0)
    if (scale[~constant] < _SMALLEST_SCALE).any():
        smallest = float(np.min(np.ptp(values[labelled], axis=0)[~constant]))
        raise ValueError(
            f"y holds values too close together to standardise (the smallest range of a "
            f"column is {smallest:.3g}; its variance underflows float64). Rescale y, for "
            "example in other units, before fitting."
        )
    scale[constant] = 1.0
    with np.errstate(over="ignore"):
        # In units of the largest magnitude too: values minus the mean can overflow.
        standardised = (values / size - mean / size) / (scale / size)
    encoded = np.where(labelled[:, None], standardised, 0.0).astype(np.float32)
    return Target(
        kind=kind,
        encoded=encoded,
        labelled=labelled,
        n_outputs=values.shape[1],
        mean=mean,
        scale=scale,
        shape_2d=shape_2d,
    )


def _encode_classes(y, labelled, values, kind, can_reconstruct=True):
    if kind == "multilabel-indicator":
        values = values.astype(np.float64)
        encoded = np.zeros(y.shape, dtype=np.float32)
        encoded[labelled] = values
        n_labels = y.shape[1]
        return Target(
            kind=kind,
            encoded=encoded,
            labelled=labelled,
            n_outputs=n_labels,
            classes=np.arange(n_labels),
        )
    classes = np.unique(values)
    if len(classes) < 2:
        raise ValueError(
            f"y contains only one class ({classes[0].tolist()!r}); a classifier needs at "
            "least 2 classes to learn from."
            + (
                " (With reconstruction_weight > 0, -1 in an integer y marks an unlabelled row.)"
                if can_reconstruct
                else ""
            )
        )
    codes = np.full(len(y), -1, dtype=np.int64)
    codes[labelled] = np.searchsorted(classes, values)
    if kind == "binary":
        encoded = np.maximum(codes, 0).astype(np.float32).reshape(-1, 1)
        n_outputs = 1
    else:
        encoded = np.maximum(codes, 0).astype(np.int32)
        n_outputs = len(classes)
    return Target(
        kind=kind,
        encoded=encoded,
        labelled=labelled,
        n_outputs=n_outputs,
        classes=classes,
        codes=codes,
    )


def python_value(value):
    """A numpy scalar as the Python value it holds, so that messages show ``1``, not
    ``np.int64(1)``."""
    return value.item() if isinstance(value, np.generic) else value


# -- class labels of maps -------------------------------------------------------------


def is_continuous(values):
    """Whether per-point values are measurements (floats) rather than class labels.

    Only arrays (or pandas objects) of a floating dtype count as measurements; lists,
    integers, booleans, strings and categoricals are class labels.
    """
    dtype = getattr(values, "dtype", None)
    if dtype is None or str(dtype) == "category":
        return False
    return np.issubdtype(np.asarray(values).dtype, np.floating)


def encode_classes(*columns, what="labels"):
    """Encode columns of class labels with one shared list of classes.

    A class is one value of one type: ``1`` and ``1.0`` are the same class (as in
    numpy and scikit-learn), but strings, numbers and booleans are never mixed, so
    that ``"1"``, ``1`` and ``True`` cannot merge into one class or show as three
    entries named alike.

    Parameters
    ----------
    *columns : sequence of array-like of shape (n_samples,)
        Labels; equal values get the same code across all columns. Missing values
        (``None``, NaN, NaT or pandas' NA) become a class of their own, named
        ``"missing"``.
    what : str, default="labels"
        What the columns are, in error messages.

    Returns
    -------
    codes : list of ndarray of int32
        One array of class indices per column.
    names : list of str
        Class names, sorted when the labels can be sorted, else in order of appearance.

    Raises
    ------
    ValueError
        If the labels mix strings, numbers, booleans or other types, or cannot be
        compared for equality (hashed).
    """
    objects = [np.asarray(column, dtype=object) for column in columns]
    missing = object()
    index = {}
    try:
        for column in objects:
            for value in column:
                index.setdefault(_class_key(value, missing), None)
    except TypeError:
        raise ValueError(
            f"{what} must be values such as strings or numbers, got "
            f"{type(value).__name__} (for example {value!r})."
        ) from None
    present = [key for key in index if key is not missing]
    examples = {}
    for kind, value in present:
        examples.setdefault(kind, value)
    if len(examples) > 1:
        kinds = list(examples)
        raise ValueError(
            f"Mix of label input types ({_enumerate(kinds)}) in {what}, for example "
            f"{_enumerate([repr(examples[kind]) for kind in kinds])}. A class is one value "
            "of one type; convert the labels to one type first, for example every label "
            "to str."
        )
    try:
        present = sorted(present)
    except TypeError:
        pass
    keys = present + ([missing] if missing in index else [])
    position = {key: code for code, key in enumerate(keys)}
    codes = [
        np.fromiter(
            (position[_class_key(value, missing)] for value in column),
            dtype=np.int32,
            count=len(column),
        )
        for column in objects
    ]
    names = [class_name(value) for _, value in present]
    if missing in index:
        missing_name = "missing"
        while missing_name in names:
            missing_name = f"({missing_name})"
        names.append(missing_name)
    return codes, names


def _enumerate(words):
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _class_key(value, missing):
    """The class of `value`: its kind and its value, or `missing`."""
    if is_missing_label(value):
        return missing
    kind = label_kind(value)
    if isinstance(value, np.generic):
        value = value.item()
    return kind, value


def class_name(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
