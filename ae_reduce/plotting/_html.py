"""An interactive map of an embedding in one self-contained HTML file.

The page (``_assets/map.html``) draws the points on a canvas with its own inline
script: no network access, no JavaScript library and no matplotlib are needed.
"""

import base64
import html
import json
import numbers
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np

from .._utils.files import write_text
from .._utils.targets import class_name, encode_classes, is_missing_label
from ._checks import check_embedding, check_placed, check_values, class_colors
from ._map import Map

#: Colours of the agreement mode: agreeing points recede, disagreeing points stand out.
AGREE_COLOR = "#9aabbd"
DISAGREE_COLOR = "#e8202a"

#: Rings drawn around flagged rows (`issues`), selected rows and search matches.
FLAGGED_COLOR = "#111111"
SELECTED_COLOR = "#00a2ff"
MATCH_COLOR = "#ff00c8"

#: Colour of missing values in a column drawn with a colour ramp.
MISSING_COLOR = "#c4c4c4"

#: Matplotlib's "viridis" sampled at 33 evenly spaced points; the page interpolates
#: linearly between them (within 3/255 of viridis itself).
VIRIDIS = (
    "#440154 #470d60 #48186a #482374 #472d7b #453781 #424086 #3e4989 #3b528b #375b8d "
    "#33638d #2f6b8e #2c728e #297a8e #26828e #23898e #21918c #1f988b #1fa088 #22a785 "
    "#28ae80 #32b67a #3fbc73 #4ec36b #5ec962 #70cf57 #84d44b #98d83e #addc30 #c2df23 "
    "#d8e219 #ece51b #fde725"
).split()

#: Most classes the legend of the page can list.
MAX_CLASSES = 1000

#: Numeric columns of whole numbers with at most this many distinct values are drawn as
#: classes with a legend; other numeric columns get a colour ramp.
MAX_NUMBER_CLASSES = 20

#: Columns whose values the hover text lists, in the order given.
HOVER_COLUMNS = 8

#: Largest number of thumbnail pixel bytes (n_samples x height x width x channels).
MAX_IMAGE_BYTES = 100_000_000

#: Names of the page's own colour modes, which no column may take.
BUILT_IN_MODES = ("label", "prediction", "agreement", "points")

#: Levels of a colour ramp; one more code marks a missing value.
_RAMP_LEVELS = 255

_PLACEHOLDER = re.compile(r"__AE_(TITLE|DATA)__")
#: UTF-16 halves of a character: alone in a Python string they cannot be written as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def export_html(
    Z,
    path,
    labels=None,
    predictions=None,
    hover=None,
    *,
    title="Embedding map",
    placed=None,
    ids=None,
    columns=None,
    issues=None,
    images=None,
    prediction_description=None,
):
    """Write an interactive, zoomable scatter plot of an embedding to one HTML file.

    The file holds the data and the drawing code, so it opens offline in any modern
    browser and can be sent as an attachment. Points are drawn on a canvas from typed
    arrays and found under the cursor with a spatial grid, so pan, zoom and hover stay
    smooth for 100,000 points.

    The page is made for finding problems in a data set. It colours the points by
    label, by prediction, by whether the two agree (where a model disagrees with the
    label is where label errors hide), or by any column passed in `columns`. Clicking
    an entry of the legend shows or hides its points. Hovering a point shows its id,
    its text, its column values and its thumbnail. A search box finds rows by id or
    hover text; box and lasso selection (toolbar, or shift-drag and alt-drag) pick
    rows whose ids can be downloaded as a CSV file. Rows flagged in `issues` are
    ringed in every colouring mode and can be shown alone.

    Parameters
    ----------
    Z : array-like of shape (n_samples, 2)
        The embedding, finite real numbers within float32's range (the page stores
        coordinates as float32).

    path : str or path-like
        File to write, usually ending in ``.html``. An existing file is replaced only
        once the new one is complete: the page is written to a temporary file in the
        same folder, then renamed.

    labels : array-like of shape (n_samples,), default=None
        Class labels (for example the true classes). A class is one value of one type:
        ``1`` and ``1.0`` are one class, but labels that mix strings, numbers and
        booleans are refused rather than shown as classes named alike. Missing values
        (None, NaN) form a class of their own.

    predictions : array-like of shape (n_samples,), default=None
        Predicted classes, compared with `labels` by value. Labels and predictions
        share one list of classes, so a class has the same colour in both modes.

    hover : array-like of str of shape (n_samples,), default=None
        Text shown when hovering each point, and searched by the search box. None
        shows the point's index (or id), label and prediction.

    title : str, default="Embedding map"
        Title of the page. Characters that cannot be written as UTF-8 (such as those
        of a file name that is not valid UTF-8) show as U+FFFD.

    placed : array-like of bool of shape (n_samples,), default=None
        True for rows placed on an existing map rather than drawn with it (new rows
        that ``transform`` placed, as :class:`TSNE` does). Booleans and the integers 0
        and 1 are accepted; other values, missing ones included, raise a ValueError.
        Placed rows are drawn as crosses on top of the map's dots in every colouring
        mode, their hover text says that they were placed, and the side panel
        explains the two markers. The page stores one bit per row. None, or no True
        value, draws every row as a map row.

    ids : array-like of shape (n_samples,), default=None
        An identifier of each row: strings or integers (not booleans or floats), each
        row's different from every other's, none missing. Given, the hover text starts
        with ``id: <id>``; the search box finds the row whose id is the text typed
        (ignoring case), or else every row whose id or hover text contains it; and the
        CSV file of a selection lists the ids. None identifies each row by its
        index (0 to n_samples - 1); the hover text then starts with ``point <index>``
        unless `hover` is given.

    columns : dict of str to array-like of shape (n_samples,) or pandas.DataFrame, \
default=None
        More values to colour the points by, one entry of the "colour by" menu per
        column, in the order given. A column of strings, booleans, a pandas
        categorical, or whole numbers with at most 20 distinct values is drawn as
        classes with a legend (at most 1,000 classes; missing values form a class of
        their own). Other numbers are drawn with the viridis colour ramp, and a colour
        bar shows their minimum, middle and maximum. Where the 1st to 99th
        percentiles span less than half of that range (a few extreme values, as an
        outlier score has), the ramp spans those percentiles instead, the rows beyond
        take its end colours, and the colour bar's ends read "≤" and "≥". Missing
        values (NaN, None) are drawn grey and counted as "missing" in the side panel.
        The hover text lists the values of the first 8 columns and says how many
        more there are. Names are strings (integer names, as in a DataFrame of
        pixels, are turned into strings) and may not be one of the page's own modes,
        ``"label"``, ``"prediction"``, ``"agreement"`` or ``"points"``: such a column
        is refused rather than renamed. Each column costs the page about one byte per
        row (two for classes), and eight more for a ramp column listed in the hover
        text.

    issues : array-like of shape (n_samples,) of bool, or array-like of int, \
default=None
        Rows flagged as possible label issues: a boolean mask with one value per row,
        or row indices (an integer array, most suspicious first, as label-issue
        finders return them). Flagged rows are drawn on top with a dark ring in every
        colouring mode, their hover text says "flagged as a possible label issue"
        (with their rank when indices are given), and the side panel counts them and
        can show them alone. Indices out of range or repeated, floats, and masks of
        the wrong length are refused. An empty array flags no row but still shows
        the count (0).

    images : array-like of shape (n_samples, height, width) or \
(n_samples, height, width, 3), default=None
        A picture of each row (grey, or RGB with the channels last), shown in the
        hover text, enlarged without smoothing to about 96 pixels. The values are
        scaled over the whole array from its minimum (black) to its maximum (white),
        and stored as one byte per pixel and channel; a constant array shows mid-grey.
        The page grows by about 4/3 of ``n_samples * height * width`` bytes (times 3
        for RGB); more than 100 MB of pixels is refused. NaN and infinite values are
        refused.

    prediction_description : str, default=None
        What the predictions are, shown in the side panel after "prediction: "
        whenever `predictions` are given; for example "the class out-of-fold
        cross-validated models gave each row". None shows "the classes passed as
        predictions" (and that the agreement mode compares them with the labels).
        Refused without `predictions`.

    Returns
    -------
    map : Map
        The file written. It behaves as the path (``str``, ``os.fspath``, equality
        with the path and the attributes of :class:`pathlib.Path`), and shows the map
        inline in a Jupyter notebook.

    Raises
    ------
    ValueError
        If `Z` is not of shape (n_samples, 2), holds NaN, infinite or complex values or
        values beyond float32's range, if `labels`, `predictions`, `hover`, `placed`,
        `ids`, a column, `issues` or `images` do not have one value per row, if the
        labels mix types or hold more than 1,000 classes, if `placed` holds anything
        but booleans or the integers 0 and 1, if `ids` repeat or are missing, if a
        column's name is taken or its values are infinite, if `issues` holds row
        indices out of range or twice, if `images` have the wrong shape, hold NaN or
        infinite values or more than 100 MB of pixels, or if `prediction_description`
        is given without `predictions`.
    TypeError
        If `ids` are not strings or integers, if `columns` is not a dict or a
        DataFrame, if `issues` is neither booleans nor integers, if `images` do not
        hold numbers, or if `prediction_description` is not a string.

    See Also
    --------
    plot_embedding : A static picture with matplotlib.

    Notes
    -----
    Dots shrink and lighten as the points get more numerous: the radius is
    ``13 / n_samples ** 0.2`` CSS pixels (within 1 to 6) and the opacity
    ``1.25 - 0.16 * log10(n_samples)`` (within 0.3 to 0.95): 5,000 points are drawn
    2.4 pixels wide at opacity 0.66. Flagged rows and search matches are drawn
    opaque, a pixel larger (3 at the least), with a white gap before their ring.
    Long class names end in an ellipsis in the legend and show whole on hover.

    In a Jupyter notebook, the returned :class:`~ae_reduce.plotting.Map` shows the map
    in the cell's output, in a sandboxed frame that holds the whole page.

    The page exposes ``window.aeMap`` for scripts: ``setMode(name)``, ``toggle(key)``,
    ``hovered()``, ``screenPosition(index)``, ``isPlaced(index)``, ``search(text)``,
    ``matches()``, ``selectBox(x0, y0, x1, y1)`` and ``selectLasso(points)`` (in data
    coordinates), ``selected()``, ``selectionCsv()``, ``isFlagged(index)``,
    ``setOnlyFlagged(on)`` and a few more read the state of the map or act on it as a
    user would.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import export_html
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(500, 2))
    >>> labels = rng.integers(0, 3, 500)
    >>> export_html(Z, "map.html", labels=labels, predictions=labels).name  # doctest: +SKIP
    'map.html'

    Colour by a measured value as well, and ring the rows a label check flagged:

    >>> export_html(
    ...     Z, "map.html", labels=labels, columns={"loss": rng.random(500)},
    ...     issues=[17, 3, 250],
    ... ).name  # doctest: +SKIP
    'map.html'
    """
    Z = check_embedding(Z)
    largest = float(np.abs(Z).max())
    if largest > float(np.finfo(np.float32).max):
        raise ValueError(
            f"Z contains values too large for float32 (largest absolute value "
            f"{largest:.3g}), the precision in which the page stores coordinates. Scale "
            "the embedding first."
        )
    n_samples = Z.shape[0]
    placed = check_placed(placed, n_samples)
    classified = {}
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None:
            classified[name] = check_values(values, n_samples, name)
    if hover is not None:
        hover = [str(text) for text in check_values(hover, n_samples, "hover")]
    prediction_note = _prediction_note(prediction_description, predictions, labels)
    ids = _check_ids(ids, n_samples)
    named_columns = _check_columns(columns, n_samples)
    issues, ranked = _check_issues(issues, n_samples)
    thumbnails = _check_images(images, n_samples)

    what = " and ".join(classified)
    codes, classes = encode_classes(*classified.values(), what=what) if classified else ([], [])
    if len(classes) > MAX_CLASSES:
        raise ValueError(
            f"labels and predictions hold {len(classes)} distinct values; the map colours "
            f"by class and takes at most {MAX_CLASSES}. For continuous values use "
            "plot_embedding, or bin them first (for example with numpy.digitize)."
        )
    encoded = dict(zip(classified, codes, strict=True))
    radius, alpha = point_style(n_samples)
    payload = {
        "n": n_samples,
        "xy": _base64(Z.astype(np.float32)),
        "labels": _base64(encoded["labels"]) if "labels" in encoded else None,
        "predictions": _base64(encoded["predictions"]) if "predictions" in encoded else None,
        "classes": classes,
        "colors": class_colors(max(len(classes), 1)),
        "agreeColor": AGREE_COLOR,
        "disagreeColor": DISAGREE_COLOR,
        "hover": hover,
        "radius": radius,
        "alpha": alpha,
        "placed": None,
    }
    if placed is not None:
        n_placed = int(placed.sum())
        # Crosses need a few pixels to read as crosses; fewer placed rows may be larger
        # and more opaque than the map's dots, as in plot_embedding.
        payload["placed"] = _base64(np.packbits(placed, bitorder="little"))
        placed_radius, placed_alpha = point_style(n_placed)
        payload["placedRadius"] = max(radius, placed_radius, 2.0)
        payload["placedAlpha"] = max(alpha, placed_alpha)
    payload.update(
        ids=ids,
        columns=[
            _encode_column(name, values, is_category=is_category, in_hover=position < HOVER_COLUMNS)
            for position, (name, values, is_category) in enumerate(named_columns)
        ],
        issues=None if issues is None else _base64(issues),
        issuesRanked=ranked,
        images=None if thumbnails is None else _base64(thumbnails),
        imageShape=None if thumbnails is None else _image_shape(thumbnails),
        predictionNote=prediction_note,
        ramp=VIRIDIS,
        missingColor=MISSING_COLOR,
        flaggedColor=FLAGGED_COLOR,
        selectedColor=SELECTED_COLOR,
        matchColor=MATCH_COLOR,
        hoverColumns=HOVER_COLUMNS,
    )
    pieces = {"TITLE": html.escape(_printable(str(title))), "DATA": _script_json(payload)}
    template = resources.files("ae_reduce").joinpath("_assets/map.html").read_text("utf-8")
    page = _PLACEHOLDER.sub(lambda match: pieces[match.group(1)], template)
    path = Path(path)
    write_text(path, page)
    return Map(path)


def point_style(n_points):
    """Radius (CSS pixels) and opacity of the page's dots for `n_points` points.

    Both fall as the points get more numerous, so that a few points are large and
    opaque and dense maps still show where points pile up: the radius is
    ``13 / n ** 0.2`` within 1 to 6 pixels, and the opacity ``1.25 - 0.16 * log10(n)``
    within 0.3 to 0.95. 100 points get 5.2 pixels at 0.93, 5,000 points 2.4 pixels at
    0.66, 50,000 points 1.5 pixels at 0.5. Zooming in makes the points larger and more
    opaque still.
    """
    n_points = max(int(n_points), 1)
    radius = float(np.clip(13.0 / n_points**0.2, 1.0, 6.0))
    alpha = float(np.clip(1.25 - 0.16 * np.log10(n_points), 0.3, 0.95))
    return radius, alpha


def _prediction_note(description, predictions, labels):
    """The line that says what the predictions are, or None without predictions."""
    if description is not None and not isinstance(description, str):
        raise TypeError(
            "prediction_description must be a str saying what the predictions are, got "
            f"{type(description).__name__}."
        )
    if predictions is None:
        if description is not None:
            raise ValueError(
                "prediction_description was given without predictions; it describes "
                "the predictions, so pass them too (or leave it out)."
            )
        return None
    if description is None:
        description = "the classes passed as predictions"
        if labels is not None:
            description += ", compared with the labels in the agreement mode"
    return description


def _check_ids(ids, n_samples):
    """Return the ids as a list of unique strings, or None to use the row indices."""
    if ids is None:
        return None
    values = check_values(ids, n_samples, "ids")
    kind = values.dtype.kind
    if kind in "iu":
        texts = [str(value) for value in values.tolist()]
    elif kind == "U":
        texts = values.tolist()
    elif kind == "O":
        texts = [_id_text(value, row) for row, value in enumerate(values)]
    else:
        raise TypeError(
            "ids must be strings or integers, got an array of dtype "
            f"{values.dtype} (such as {values[0].item()!r})."
        )
    first_row = {}
    for row, text in enumerate(texts):
        earlier = first_row.setdefault(text, row)
        if earlier != row:
            raise ValueError(
                f"ids must be unique, but rows {earlier} and {row} both have the id {text!r}."
            )
    return texts


def _id_text(value, row):
    if is_missing_label(value):
        raise ValueError(f"ids has a missing value ({value!r}) at row {row}.")
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return str(int(value))
    raise TypeError(
        f"ids must be strings or integers, got {value!r} ({type(value).__name__}) at row {row}."
    )


def _check_columns(columns, n_samples):
    """Return `columns` as a list of (name, values, is_category) with checked names.

    ``is_category`` says that the values were a pandas categorical, drawn as classes
    even when they are numbers; `check_values` turns them into an object array.
    """
    if columns is None:
        return []
    if isinstance(columns, Mapping):
        items = list(columns.items())
    elif hasattr(columns, "columns") and hasattr(columns, "iloc"):
        # A DataFrame: items() keeps columns that share a name apart, to be refused.
        items = list(columns.items())
    else:
        raise TypeError(
            "columns must be a dict of column name to values, or a pandas DataFrame, "
            f"got {type(columns).__name__}."
        )
    checked = []
    for name, values in items:
        if isinstance(name, numbers.Integral) and not isinstance(name, bool | np.bool_):
            name = str(int(name))
        if not isinstance(name, str):
            raise TypeError(f"columns names must be strings, got {name!r} ({type(name).__name__}).")
        if name in BUILT_IN_MODES:
            raise ValueError(
                f"columns has a column named {name!r}, the name of one of the page's own "
                f"colour modes ({', '.join(BUILT_IN_MODES)}). Rename it, or pass it as "
                "labels or predictions instead."
            )
        if not name:
            raise ValueError("columns has a column with an empty name.")
        if any(name == earlier for earlier, _, _ in checked):
            raise ValueError(f"columns has two columns named {name!r}.")
        is_category = str(getattr(values, "dtype", None)) == "category"
        checked.append((name, check_values(values, n_samples, f"columns[{name!r}]"), is_category))
    return checked


def _encode_column(name, values, *, is_category, in_hover):
    """What the page needs to colour by one column and to list it in the hover text."""
    what = f"columns[{name!r}]"
    measured = None if is_category else _as_numbers(values, what)
    if measured is not None:
        present = measured[~np.isnan(measured)]
        if np.isinf(present).any():
            raise ValueError(
                f"{what} contains infinite values; the colour ramp needs finite numbers "
                "(NaN marks a missing value)."
            )
        distinct = np.unique(present)
        if len(distinct) > MAX_NUMBER_CLASSES or not np.all(distinct == np.round(distinct)):
            return _ramp_column(name, measured, present, in_hover=in_hover)
    if values.dtype.kind in "biuU":
        # Values of one type: numpy sorts them as encode_classes would, much faster.
        distinct, codes = np.unique(values, return_inverse=True)
        classes = [class_name(value) for value in distinct.tolist()]
    else:
        (codes,), classes = encode_classes(values, what=what)
    if len(classes) > MAX_CLASSES:
        raise ValueError(
            f"{what} holds {len(classes)} distinct values; the map colours by class and "
            f"takes at most {MAX_CLASSES}. Pass numbers for a colour ramp, or pass the "
            "values as ids or hover text."
        )
    return {
        "name": name,
        "kind": "classes",
        "codes": _base64(codes.reshape(-1).astype(np.uint16)),
        "classes": classes,
        "colors": class_colors(len(classes)),
    }


def _as_numbers(values, what):
    """`values` as floats with NaN for missing values, or None if they are not numbers."""
    kind = values.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {what} has dtype {values.dtype}.")
    if kind in "iuf":
        return values.astype(np.float64)
    if kind in "mM":
        raise TypeError(
            f"{what} holds dates or durations (dtype {values.dtype}); convert them to "
            "numbers or strings first."
        )
    if kind != "O":
        return None
    measured = np.empty(len(values), dtype=np.float64)
    for row, value in enumerate(values):
        if is_missing_label(value):
            measured[row] = np.nan
        elif isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
            measured[row] = value
        else:
            return None
    return measured


def _ramp_column(name, measured, present, *, in_hover):
    # Where a few extreme values (the outliers a score is meant to find) would squeeze
    # every other row into a sliver of the ramp, it spans the 1st to 99th percentiles
    # instead; rows beyond take the end colours and the colour bar says so.
    smallest, largest = float(present.min()), float(present.max())
    low, high = (float(value) for value in np.percentile(present, [1, 99]))
    if not (high > low and high / 2 - low / 2 < (largest / 2 - smallest / 2) / 2):
        low, high = smallest, largest
    missing = np.isnan(measured)
    codes = np.full(len(measured), _RAMP_LEVELS, dtype=np.uint8)
    if high > low:
        # Halves keep the span finite for values near float64's limits.
        fraction = (measured[~missing] / 2 - low / 2) / (high / 2 - low / 2)
        fraction = np.clip(fraction, 0.0, 1.0)
        codes[~missing] = np.rint(fraction * (_RAMP_LEVELS - 1)).astype(np.uint8)
    else:
        codes[~missing] = (_RAMP_LEVELS - 1) // 2
    return {
        "name": name,
        "kind": "values",
        "codes": _base64(codes),
        "values": _base64(measured) if in_hover else None,
        "min": ("≤ " if smallest < low else "") + _number_text(low),
        "mid": _number_text(low / 2 + high / 2),
        "max": ("≥ " if largest > high else "") + _number_text(high),
    }


def _number_text(value):
    return f"{value:.4g}"


def _check_issues(issues, n_samples):
    """Return the flagged rows as int32 indices and whether their order is a ranking."""
    if issues is None:
        return None, False
    array = np.asarray(issues)
    if array.ndim != 1:
        raise ValueError(
            "issues must be one-dimensional, a boolean mask or row indices, got shape "
            f"{array.shape}."
        )
    if array.size == 0:
        return np.empty(0, dtype=np.int32), False
    kind = array.dtype.kind
    if kind == "b":
        if len(array) != n_samples:
            raise ValueError(
                f"issues is a boolean mask of {len(array)} values but Z has {n_samples} rows."
            )
        return np.flatnonzero(array).astype(np.int32), False
    if kind not in "iu":
        raise TypeError(
            "issues must be a boolean mask or an array of integer row indices, got "
            f"dtype {array.dtype} (such as {array[0].item()!r})."
        )
    outside = np.flatnonzero((array < 0) | (array >= n_samples))
    if outside.size:
        raise ValueError(
            f"issues holds the row index {array[outside[0]].item()} (at position "
            f"{outside[0]}), out of range for Z's {n_samples} rows (0 to {n_samples - 1})."
        )
    rows, counts = np.unique(array, return_counts=True)
    if (counts > 1).any():
        raise ValueError(
            f"issues holds the row index {rows[counts > 1][0].item()} more than once; row "
            "indices must be unique (for a mask of 0 and 1, pass issues.astype(bool))."
        )
    return array.astype(np.int32), True


def _check_images(images, n_samples):
    """Return the images as uint8, scaled from their minimum to their maximum."""
    if images is None:
        return None
    images = np.asarray(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] != 3):
        raise ValueError(
            "images must have shape (n_samples, height, width) or (n_samples, height, "
            f"width, 3), got an array of shape {images.shape}."
        )
    if len(images) != n_samples:
        raise ValueError(f"images has {len(images)} images but Z has {n_samples} rows.")
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f"images are empty: shape {images.shape}.")
    kind = images.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: images has dtype {images.dtype}.")
    if kind not in "biuf":
        raise TypeError(f"images must hold numbers, got dtype {images.dtype}.")
    if images.size > MAX_IMAGE_BYTES:
        raise ValueError(
            f"images hold {images.size / 1e6:.0f} MB of pixels (one byte per pixel and "
            f"channel); the page takes at most {MAX_IMAGE_BYTES / 1e6:.0f} MB, which "
            "already makes a file about a third larger. Pass fewer rows, or smaller "
            "images."
        )
    # Chunks of rows keep the float copies small for large image arrays.
    step = max(1, 2**22 // max(1, images[0].size))
    low, high = np.inf, -np.inf
    for start in range(0, n_samples, step):
        chunk = images[start : start + step].astype(np.float64)
        finite = np.isfinite(chunk)
        if not finite.all():
            bad = start + int(np.flatnonzero(~finite.reshape(len(chunk), -1).all(axis=1))[0])
            raise ValueError(f"images contain NaN or infinite values (first in image {bad}).")
        low, high = min(low, chunk.min()), max(high, chunk.max())
    pixels = np.empty(images.shape, dtype=np.uint8)
    if high == low:
        pixels.fill(128)
        return pixels
    for start in range(0, n_samples, step):
        chunk = images[start : start + step].astype(np.float64)
        fraction = (chunk / 2 - low / 2) / (high / 2 - low / 2)
        pixels[start : start + step] = np.rint(fraction * 255)
    return pixels


def _image_shape(pixels):
    height, width = pixels.shape[1:3]
    return [height, width, 1 if pixels.ndim == 3 else 3]


def _printable(text):
    """`text` with each lone surrogate replaced by U+FFFD, so that it encodes as UTF-8.

    HTML has no escape for a lone surrogate (``&#xdcff;`` reads as U+FFFD anyway).
    """
    return _SURROGATE.sub("\ufffd", text)


def _base64(array):
    # Typed arrays in the page read little-endian bytes.
    little_endian = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return base64.b64encode(little_endian.tobytes()).decode("ascii")


def _script_json(payload):
    """JSON that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where their ``\\u`` escapes
    mean the same, so no text can close the element or open a comment. Lone surrogates
    (hover text from a file name that is not UTF-8, say) are escaped the same way: the
    page's strings then hold them as the user's did, and the file stays valid UTF-8.
    """
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for character in "<>&\u2028\u2029":
        text = text.replace(character, f"\\u{ord(character):04x}")
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
