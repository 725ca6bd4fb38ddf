"""Checks and point styles that the static and the HTML maps share."""

import math
import numbers

import numpy as np

from .._utils.targets import is_missing_label

#: Colours of matplotlib's "tab10" and "tab20" palettes, so that the static pictures and
#: the interactive map agree without the map needing matplotlib.
TAB10 = ("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf").split()


_TAB20 = (
    "#1f77b4 #aec7e8 #ff7f0e #ffbb78 #2ca02c #98df8a #d62728 #ff9896 #9467bd #c5b0d5 "
    "#8c564b #c49c94 #e377c2 #f7b6d2 #7f7f7f #c7c7c7 #bcbd22 #dbdb8d #17becf #9edae5"
).split()


def _hls_to_hex(hue, lightness, saturation):
    import colorsys

    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in (red, green, blue)))


def _placed_objects(values):
    """Booleans of an object array that holds booleans and the integers 0 and 1."""
    flags = np.empty(len(values), dtype=bool)
    for row, value in enumerate(values):
        if is_missing_label(value):
            raise ValueError(
                f"placed has a missing value ({value!r}) at row {row}; it must say for "
                "every row whether it was placed on an existing map."
            )
        if isinstance(value, bool | np.bool_):
            flags[row] = value
        elif isinstance(value, numbers.Integral) and value in (0, 1):
            flags[row] = value == 1
        else:
            raise ValueError(_not_placed_flag(value, row))
    return flags


def _not_placed_flag(value, row):
    return (
        "placed must hold booleans (True for rows placed on an existing map) or the "
        f"integers 0 and 1, got {value!r} ({type(value).__name__}) at row {row}."
    )


def class_colors(n_classes):
    """Distinct colours for `n_classes` classes, as hex strings.

    Up to 10 classes get "tab10", up to 20 "tab20"; more get hues spaced by the golden
    angle with alternating lightness, so that neighbouring class indices differ.
    """
    if n_classes <= 10:
        return TAB10[:n_classes]
    if n_classes <= 20:
        return _TAB20[:n_classes]
    colors = []
    for index in range(n_classes):
        hue = (index * 0.618033988749895) % 1.0
        lightness = (0.42, 0.58, 0.5)[index % 3]
        colors.append(_hls_to_hex(hue, lightness, 0.65))
    return colors


def point_alpha(n_points):
    """Opacity of `n_points` points, shared by the pictures and the interactive map."""
    n_points = max(int(n_points), 1)
    return float(np.clip(1.05 - 0.15 * math.log10(n_points), 0.25, 0.9))


def check_embedding(Z, name="Z"):
    """Return `Z` as a finite float array of shape (n_samples, 2) or raise ValueError."""
    Z = np.asarray(Z)
    if Z.ndim != 2 or Z.shape[1] != 2:
        raise ValueError(
            f"{name} must have shape (n_samples, 2), got an array of shape {Z.shape}. "
            "Reduce to two components first, for example with n_components=2."
        )
    if Z.shape[0] == 0:
        raise ValueError(f"{name} has no rows.")
    if np.iscomplexobj(Z):
        raise ValueError(f"Complex data not supported: {name} has dtype {Z.dtype}.")
    try:
        Z = Z.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold numbers: {error}") from None
    if not np.all(np.isfinite(Z)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return Z


def check_values(values, n_samples, name):
    """Return per-point `values` as a 1-D array of length `n_samples` or raise ValueError.

    Sequences without a dtype (lists, tuples) become object arrays, so that each value
    keeps its type: numpy would turn ``[1, "a"]`` into two strings and ``[1, True]``
    into two equal integers.
    """
    dtype = getattr(values, "dtype", None)
    if dtype is not None and str(dtype) == "category":
        values = np.asarray(values.astype(object))
    elif dtype is None and not isinstance(values, str):
        values = np.asarray(values, dtype=object)
    else:
        values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}.")
    if len(values) != n_samples:
        raise ValueError(f"{name} has {len(values)} values but Z has {n_samples} rows.")
    return values


def check_placed(placed, n_samples):
    """Return `placed` as a boolean array of length `n_samples`, or None if no row is placed.

    Booleans and the integers 0 and 1 are accepted. Anything else is refused, floats
    included: a float column may hold NaN for rows whose status is unknown, and
    strings such as ``"False"`` would otherwise count as placed.
    """
    if placed is None:
        return None
    values = check_values(placed, n_samples, "placed")
    kind = values.dtype.kind
    if kind == "O":
        values = _placed_objects(values)
    elif kind == "f":
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            raise ValueError(
                f"placed contains NaN (first at row {missing[0]}); it must say for every "
                "row whether it was placed on an existing map."
            )
    if values.dtype.kind in "iu":
        wrong = np.flatnonzero((values != 0) & (values != 1))
        if wrong.size:
            raise ValueError(_not_placed_flag(values[wrong[0]].item(), wrong[0]))
        values = values.astype(bool)
    elif values.dtype.kind != "b":
        raise ValueError(
            "placed must hold booleans (True for rows placed on an existing map) or the "
            f"integers 0 and 1, got values of dtype {values.dtype} such as {values[0].item()!r}."
        )
    return values if values.any() else None
