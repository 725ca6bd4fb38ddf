"""The map page that :func:`export_html` wrote, shown inline in a notebook."""

import html
import os
from pathlib import Path


class Map:
    """An HTML map written by :func:`export_html`: its path, shown inline in notebooks.

    A Map stands for the file it was written to. It behaves as that path did before
    maps had a class of their own: ``os.fspath(map)`` and ``str(map)`` give the path,
    a Map equals its :class:`pathlib.Path` (and hashes alike), and the attributes
    of :class:`pathlib.Path` (``name``, ``read_text``, ``exists``, ...) are the path's.

    In Jupyter (and any front end that shows ``_repr_html_``), a cell whose value is a
    Map draws the map in the output, in a sandboxed ``<iframe>`` whose ``srcdoc``
    holds the whole page: no request goes to the network or to a server, and the
    notebook keeps working when the file is moved. The file is read each time the map
    is shown, so a file rewritten since shows as it is now.

    Parameters
    ----------
    path : str or path-like
        The page.

    height : int, default=600
        Height of the inline frame in CSS pixels; it spans the output's width.

    Attributes
    ----------
    path : pathlib.Path
        The page.

    height : int
        Height of the inline frame in CSS pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import export_html
    >>> Z = np.random.default_rng(0).normal(size=(100, 2))
    >>> page = export_html(Z, "map.html")  # doctest: +SKIP
    >>> page  # doctest: +SKIP
    Map('map.html')
    """

    def __init__(self, path, height=600):
        self.path = Path(path)
        self.height = int(height)

    def __fspath__(self):
        return os.fspath(self.path)

    def __str__(self):
        return str(self.path)

    def __repr__(self):
        return f"Map({str(self.path)!r})"

    def __eq__(self, other):
        if isinstance(other, Map):
            return self.path == other.path
        if isinstance(other, Path):
            return self.path == other
        return NotImplemented

    def __hash__(self):
        return hash(self.path)

    def __getattr__(self, name):
        # Only reached for names a Map lacks: the path's own attributes.
        if name == "path":
            raise AttributeError(name)
        return getattr(self.path, name)

    def _repr_html_(self):
        """The page in a sandboxed frame, or a line saying why it cannot be shown."""
        try:
            page = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            where = html.escape(str(self.path))
            return f"<p>The map {where} cannot be read: {html.escape(reason)}</p>"
        # allow-scripts draws the map; without allow-same-origin the page cannot reach
        # the notebook; allow-downloads keeps the CSV download of a selection working.
        return (
            '<iframe sandbox="allow-scripts allow-downloads" '
            f'title="{html.escape(self.path.name)}" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #ddd;" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>'
        )
