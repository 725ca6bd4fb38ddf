"""Text cells that a spreadsheet opens as text, never as a formula.

Excel and LibreOffice run a CSV cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some versions, a tab or a carriage return) as a formula, so ids or labels
taken from user data can run commands when the file is opened. A leading apostrophe
makes such a cell plain text (the advice of OWASP on CSV injection). Every CSV file the
package writes from user data passes through :func:`spreadsheet_safe_frame`; the HTML
map's selection download applies the same rule in its script.
"""

import re

import numpy as np

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Text that a spreadsheet reads as a plain number, which is harmless and kept as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe_text(value):
    """`value` with an apostrophe in front if a spreadsheet would run it as a formula.

    Parameters
    ----------
    value : object
        A cell. Anything other than a string (numbers, booleans, missing values) is
        returned unchanged, and so is a string that is a plain number such as ``"-1.5"``.

    Returns
    -------
    value : object
        The cell, safe to write to a CSV file.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def spreadsheet_safe_frame(frame):
    """A copy of a DataFrame whose text cells and column names are safe to open.

    Numeric and boolean columns are kept as they are, so numbers are written as
    numbers; cells of text columns (object, string or categorical) and the column
    names go through :func:`spreadsheet_safe_text`.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table about to be written to a CSV file.

    Returns
    -------
    frame : pandas.DataFrame
        The table to write instead.
    """
    import pandas as pd

    safe = frame.copy()
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        elif column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
            continue
        values = column.to_numpy(dtype=object)
        cells = np.array([spreadsheet_safe_text(value) for value in values], dtype=object)
        safe.isetitem(position, cells)
    safe.columns = [spreadsheet_safe_text(name) for name in safe.columns]
    return safe
