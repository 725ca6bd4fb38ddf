"""An interactive map of an embedding in one self-contained HTML file.

The page (``_assets/map.html``) draws the points on a canvas with its own inline
script: no network access, no JavaScript library and no matplotlib are needed.
"""

import base64
import html
import json
import math
import re
from importlib import resources
from pathlib import Path

import numpy as np

from .plotting import check_embedding, check_values, class_colors, encode_classes

#: Colours of the agreement mode: agreeing points recede, disagreeing points stand out.
AGREE_COLOR = "#9aabbd"
DISAGREE_COLOR = "#e8202a"

#: Most classes the legend of the page can list.
MAX_CLASSES = 1000

_PLACEHOLDER = re.compile(r"__AE_(TITLE|DATA)__")


def export_html(Z, path, labels=None, predictions=None, hover=None, *, title="Embedding map"):
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
        The embedding, finite numbers.

    path : str or path-like
        File to write, usually ending in ``.html``. It is overwritten.

    labels : array-like of shape (n_samples,), default=None
        Class labels (for example the true classes).

    predictions : array-like of shape (n_samples,), default=None
        Predicted classes, compared with `labels` by value. Labels and predictions
        share one list of classes, so a class has the same colour in both modes.

    hover : array-like of str of shape (n_samples,), default=None
        Text shown when hovering each point. None shows the point's index, label and
        prediction.

    title : str, default="Embedding map"
        Title of the page.

    Returns
    -------
    path : pathlib.Path
        The file written.

    See Also
    --------
    plot_embedding : A static picture with matplotlib.

    Notes
    -----
    The page exposes ``window.aeMap`` for scripts: ``setMode(name)``, ``toggle(key)``,
    ``hovered()``, ``screenPosition(index)`` and a few more read the state of the map
    or act on it as a user would.

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
    Z = check_embedding(Z)
    n_samples = Z.shape[0]
    columns = {}
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None:
            columns[name] = check_values(values, n_samples, name)
    if hover is not None:
        hover = [str(text) for text in check_values(hover, n_samples, "hover")]

    codes, classes = encode_classes(*columns.values()) if columns else ([], [])
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
        "colors": class_colors(max(len(classes), 1)),
        "agreeColor": AGREE_COLOR,
        "disagreeColor": DISAGREE_COLOR,
        "hover": hover,
        "radius": radius,
        "alpha": float(np.clip(1.05 - 0.15 * math.log10(n_samples), 0.3, 0.85)),
    }
    pieces = {"TITLE": html.escape(str(title)), "DATA": _script_json(payload)}
    template = resources.files("ae_reduce").joinpath("_assets/map.html").read_text("utf-8")
    page = _PLACEHOLDER.sub(lambda match: pieces[match.group(1)], template)
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def _base64(array):
    # Typed arrays in the page read little-endian bytes.
    little_endian = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return base64.b64encode(little_endian.tobytes()).decode("ascii")


def _script_json(payload):
    """JSON that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where their ``\\u`` escapes
    mean the same, so no text can close the element or open a comment.
    """
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for character in "<>&\u2028\u2029":
        text = text.replace(character, f"\\u{ord(character):04x}")
    return text
