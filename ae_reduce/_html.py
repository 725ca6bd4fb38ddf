"""An interactive map of an embedding in one self-contained HTML file.

The page (``_assets/map.html``) draws the points on a canvas with its own inline
script: no network access, no JavaScript library and no matplotlib are needed.
"""

import base64
import html
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np

from ._files import write_text
from .plotting import (
    _check_embedding,
    _check_placed,
    _check_values,
    _class_colors,
    _encode_classes,
    _point_alpha,
)

#: Colours of the agreement mode: agreeing points recede, disagreeing points stand out.
AGREE_COLOR = "#9aabbd"
DISAGREE_COLOR = "#e8202a"

#: Most classes the legend of the page can list.
MAX_CLASSES = 1000

_PLACEHOLDER = re.compile(r"__AE_(TITLE|DATA)__")
#: UTF-16 halves of a character: alone in a Python string they cannot be written as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def export_html(
    Z, path, labels=None, predictions=None, hover=None, *, title="Embedding map", placed=None
):
    """Write an interactive, zoomable scatter plot of an embedding to one HTML file.

    The file holds the data and the drawing code, so it opens offline in any modern
    browser and can be sent as an attachment. Points are drawn on a canvas from typed
    arrays and found under the cursor with a spatial grid, so pan, zoom and hover stay
    smooth for 100,000 points.

    The page can colour the points by label, by prediction, or by whether the two
    agree: where a model disagrees with the label is where label errors hide. Clicking
    an entry of the legend shows or hides its points. Hovering a point shows its text.

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
        Text shown when hovering each point. None shows the point's index, label and
        prediction.

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

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If `Z` is not of shape (n_samples, 2), holds NaN, infinite or complex values or
        values beyond float32's range, if `labels`, `predictions`, `hover` or `placed`
        do not have one value per row, if the labels mix types or hold more than 1,000
        classes, or if `placed` holds anything but booleans or the integers 0 and 1.

    See Also
    --------
    plot_embedding : A static picture with matplotlib.

    Notes
    -----
    The page exposes ``window.aeMap`` for scripts: ``setMode(name)``, ``toggle(key)``,
    ``hovered()``, ``screenPosition(index)``, ``isPlaced(index)`` and a few more read
    the state of the map or act on it as a user would.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import export_html
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(500, 2))
    >>> labels = rng.integers(0, 3, 500)
    >>> export_html(Z, "map.html", labels=labels, predictions=labels).name  # doctest: +SKIP
    'map.html'
    """
    Z = _check_embedding(Z)
    largest = float(np.abs(Z).max())
    if largest > float(np.finfo(np.float32).max):
        raise ValueError(
            f"Z contains values too large for float32 (largest absolute value "
            f"{largest:.3g}), the precision in which the page stores coordinates. Scale "
            "the embedding first."
        )
    n_samples = Z.shape[0]
    placed = _check_placed(placed, n_samples)
    columns = {}
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None:
            columns[name] = _check_values(values, n_samples, name)
    if hover is not None:
        hover = [str(text) for text in _check_values(hover, n_samples, "hover")]

    what = " and ".join(columns)
    codes, classes = _encode_classes(*columns.values(), what=what) if columns else ([], [])
    if len(classes) > MAX_CLASSES:
        raise ValueError(
            f"labels and predictions hold {len(classes)} distinct values; the map colours "
            f"by class and takes at most {MAX_CLASSES}. For continuous values use "
            "plot_embedding, or bin them first (for example with numpy.digitize)."
        )
    encoded = dict(zip(columns, codes, strict=True))
    # Radius in CSS pixels: large for a few points, one pixel beyond about 20,000.
    radius = float(np.clip(12.0 / n_samples**0.25, 1.0, 5.0))
    payload = {
        "n": n_samples,
        "xy": _base64(Z.astype(np.float32)),
        "labels": _base64(encoded["labels"]) if "labels" in encoded else None,
        "predictions": _base64(encoded["predictions"]) if "predictions" in encoded else None,
        "classes": classes,
        "colors": _class_colors(max(len(classes), 1)),
        "agreeColor": AGREE_COLOR,
        "disagreeColor": DISAGREE_COLOR,
        "hover": hover,
        "radius": radius,
        "alpha": _point_alpha(n_samples),
        "placed": None,
    }
    if placed is not None:
        n_placed = int(placed.sum())
        # Crosses need a few pixels to read as crosses; fewer placed rows may be larger
        # and more opaque than the map's dots, as in plot_embedding.
        payload["placed"] = _base64(np.packbits(placed, bitorder="little"))
        payload["placedRadius"] = max(radius, float(np.clip(12.0 / n_placed**0.25, 2.0, 5.0)))
        payload["placedAlpha"] = max(payload["alpha"], _point_alpha(n_placed))
    pieces = {"TITLE": html.escape(_printable(str(title))), "DATA": _script_json(payload)}
    template = resources.files("ae_reduce").joinpath("_assets/map.html").read_text("utf-8")
    page = _PLACEHOLDER.sub(lambda match: pieces[match.group(1)], template)
    path = Path(path)
    write_text(path, page)
    return path


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
