"""What the text of a CSV or Parquet table holds: numbers, booleans, and well-formed lines.

Both readers of ``ae-reduce embed`` (pandas for the whole file, Arrow batch by batch
for a large one) decide here, in the same way and the same words, whether a feature
column is numeric:

* **Values.** Which text is a missing value (:data:`NA_VALUES`), a boolean
  (:data:`BOOLEAN_TEXT`) or a number (:data:`NUMBER_PATTERN`); :class:`ColumnCheck`
  finds the first value that makes a column not numeric, :func:`earliest_problem` the
  one of several columns to show, :func:`not_numeric_message` says it, and
  :func:`to_numbers` converts a column it accepts.
* **Header.** :func:`first_line_is_data` tells whether a header line looks like a
  row of data, and :func:`no_header_hint` advises ``--no-header`` when it does.
* **Lines.** :func:`first_malformed_line` finds the first line of a CSV file whose
  number of fields is not the header's, :func:`physical_line` numbers Arrow's rows as
  a text editor numbers lines, and :func:`malformed_line_message` says it.
"""

import re

import numpy as np

from .._io.source import CHUNK_ROWS
from .csv_files import first_fields, open_binary, open_text

#: Text that pandas reads as a missing value; the streaming reader reads it so too.
NA_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)

#: Text that pandas reads as booleans, which a feature column may hold as numbers.
TRUE_TEXT = ("True", "TRUE", "true")
FALSE_TEXT = ("False", "FALSE", "false")
BOOLEAN_TEXT = TRUE_TEXT + FALSE_TEXT

#: What both readers count as a number written as text: a decimal number, "inf",
#: "infinity" or "nan" in any case, each with an optional sign and spaces or tabs
#: around. It holds the numbers that pandas or Arrow read and the other one does not:
#: pandas leaves "1e400" (which overflows to infinity), an integer beyond 64 bits and
#: "NAN" as text, where Arrow reads numbers. Hexadecimal ("0x10") and digit groups
#: ("1_000"), which Python's float() reads, are not numbers to either.
NUMBER_PATTERN = (
    r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)[ \t]*"
)
_NUMBER = re.compile(NUMBER_PATTERN, re.IGNORECASE | re.ASCII)


def not_numeric_message(column, path, found):
    """The message about a feature `column` of `path` that is not numeric.

    Parameters
    ----------
    column : str
        The column.
    path : str
        The file.
    found : tuple of (int, object, str) or None
        The position of the value to show among the data rows, counting from 0, the
        value, and what it is not (see :class:`ColumnCheck`), as
        :func:`earliest_problem` gives them; None when no value could be pointed at.
    """
    where = ""
    if found is not None:
        row, value, problem = found
        # Text as itself; other values (dates, decimals) as both readers print them.
        text = value if isinstance(value, str) else str(value)
        if problem == _STORED_AS_TEXT:
            where = f": it stores numbers as text, such as {text!r} in data row {row + 1}"
        else:
            where = f": {text!r} in data row {row + 1} is not {problem}"
    return (
        f"column {column!r} of {path} is not numeric{where}. Encode it as numbers, leave "
        "it out with --drop-columns, or name it with --label-column or --id-column."
    )


#: What :func:`not_numeric_message` says of a value in a column of numbers, of one in a
#: column of booleans, and of a Parquet column that stores its numbers as text.
_NOT_A_NUMBER = "a number"
_NOT_A_BOOLEAN = "True or False, as the column's first value is"
_STORED_AS_TEXT = "text"

#: Kinds of values (see :class:`ColumnCheck`).
_MISSING, NUMBER_KIND, BOOLEAN_KIND, _OTHER = range(4)


def _kind(value):
    """The kind of a value that is not missing: a number, a boolean or something else."""
    if isinstance(value, str):
        if value in BOOLEAN_TEXT:
            return BOOLEAN_KIND
        return NUMBER_KIND if _NUMBER.fullmatch(value) else _OTHER
    if isinstance(value, (bool, np.bool_)):
        return BOOLEAN_KIND
    if isinstance(value, (int, float, np.integer, np.floating)):
        return NUMBER_KIND
    return _OTHER  # a date, a decimal, a list


def _is_text(value):
    return isinstance(value, str)


def _object_values(values):
    """`values` (a pandas Series or an array) as an object array."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy(dtype=object)
    return np.asarray(values, dtype=object)


class ColumnCheck:
    """Finds the first value of a feature column, read part after part, that makes the
    column not numeric to both readers.

    A feature column holds numbers or booleans, and missing values. Numbers may be
    written as text (see :data:`_NUMBER`), booleans as True or False (see
    :data:`BOOLEAN_TEXT`). The column's first value that is not missing tells which of
    the two it holds, and a value of the other kind is refused: pandas reads a column
    that mixes them as text, and the batch reader has Arrow read 1 and 0 as numbers
    only, so that it reads such a column as text too.

    Attributes
    ----------
    found : tuple of (int, object, str) or None
        The position of the first value refused (from 0, over every part checked),
        the value, and what it is not (:data:`_NOT_A_NUMBER` or :data:`_NOT_A_BOOLEAN`).
    text : tuple of (int, object) or None
        The position and value of the first value that is text.
    """

    def __init__(self):
        self.kind = None
        self.seen = 0
        self.found = None
        self.text = None

    def __call__(self, values):
        """Check the next part of the column; return :attr:`found`.

        Parameters
        ----------
        values : array-like of shape (n_values,)
            The values, as pandas gives them (text as ``str``, missing values as None or
            NaN). Parts after the one where a value was refused are not checked.
        """
        import pandas as pd

        values = _object_values(values)
        # Block by block: a typo is usually found in the first block.
        for start in range(0, len(values), CHUNK_ROWS):
            if self.found is not None:
                break
            part = values[start : start + CHUNK_ROWS]
            kinds = np.fromiter(map(_kind, part), dtype=np.int8, count=len(part))
            kinds[pd.isna(part)] = _MISSING
            present = np.flatnonzero(kinds != _MISSING)
            if self.kind is None and len(present) and kinds[present[0]] != _OTHER:
                self.kind = kinds[present[0]]
            if self.text is None:
                text = np.fromiter(map(_is_text, part), dtype=bool, count=len(part))
                text[kinds == _MISSING] = False
                if text.any():
                    position = int(np.argmax(text))
                    self.text = self.seen + start + position, part[position]
            bad = np.flatnonzero((kinds != _MISSING) & (kinds != self.kind))
            if len(bad):
                what = _NOT_A_BOOLEAN if self.kind == BOOLEAN_KIND else _NOT_A_NUMBER
                self.found = self.seen + start + int(bad[0]), part[bad[0]], what
        self.seen += len(values)
        return self.found

    def pass_over(self, values):
        """Count the next part of the column as checked, without checking it.

        For values that converted to numbers already: only the first that is not
        missing is looked at, as it tells the column's kind.
        """
        import pandas as pd

        values = _object_values(values)
        if self.kind is None:
            present = np.flatnonzero(~pd.isna(values))
            if len(present) and _kind(values[present[0]]) != _OTHER:
                self.kind = _kind(values[present[0]])
        self.seen += len(values)


def earliest_problem(checks, csv=True):
    """The column, and the value to show, that makes columns not numeric to both readers.

    Parameters
    ----------
    checks : dict of str to ColumnCheck
        The checks of the columns, in the file's order, each having checked its column
        up to the value it refused, if any (and through, when it refused none).
    csv : bool, default=True
        Whether the columns come from a CSV file, where text is how numbers are written.
        A Parquet column that stores numbers as text is refused too (both readers read
        it as text), pointing at its first value, when no value is refused.

    Returns
    -------
    problem : tuple of (str, tuple of (int, object, str)) or None
        The column and the value, as :func:`not_numeric_message` takes them: the value
        refused in the earliest row (in the leftmost column of that row); None when no
        column is refused.
    """
    columns = list(checks.items())
    found = [
        (check.found[0], index, column, check.found)
        for index, (column, check) in enumerate(columns)
        if check.found is not None
    ]
    if not found and not csv:
        found = [
            (check.text[0], index, column, (*check.text, _STORED_AS_TEXT))
            for index, (column, check) in enumerate(columns)
            if check.text is not None
        ]
    if not found:
        return None
    _, _, column, problem = min(found, key=lambda item: item[:2])
    return column, problem


def to_numbers(values):
    """A column that :class:`ColumnCheck` accepts, as float64 (booleans as 1 and 0, and
    missing values as NaN).

    Text is read by Python's float(), which reads whatever :data:`_NUMBER` matches as
    Arrow reads it: to the nearest float64, a number too large for one as infinity.
    """
    import pandas as pd

    values = _object_values(values)
    missing = pd.isna(values)

    def number(value):
        if isinstance(value, str):
            return 1.0 if value in TRUE_TEXT else 0.0 if value in FALSE_TEXT else float(value)
        return float(value)

    return np.fromiter(
        (np.nan if gone else number(value) for value, gone in zip(values, missing, strict=True)),
        dtype=np.float64,
        count=len(values),
    )


def physical_line(path, row):
    """The line of the file that holds Arrow's CSV row `row`.

    Arrow counts rows from 1, the header's included, and leaves out empty lines; a
    text editor counts every line.
    """
    seen = 0
    with open_binary(path) as handle:
        for number, line in enumerate(handle, 1):
            if line.strip(b"\r\n"):
                seen += 1
                if seen == row:
                    return number
    return row


def first_malformed_line(path, last_row=None):
    """The first line of a CSV file whose number of fields is not the header's.

    Blank lines, and lines of spaces or tabs only, are passed over, as both readers
    skip them.

    Parameters
    ----------
    path : str
        The file, in UTF-8, compressed or not.
    last_row : int, default=None
        The search ends after this data row (counting from 0); None searches the whole
        file.

    Returns
    -------
    found : tuple of (int, int, int) or None
        The line's number as a text editor shows it (from 1, the header's line
        included), the number of fields of the header, and the line's; None when every
        line has the header's number of fields.
    """
    import csv

    expected, row = None, -1
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            for fields in reader:
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                if expected is None:
                    expected = len(fields)
                    continue
                row += 1
                if len(fields) != expected:
                    return reader.line_num, expected, len(fields)
                if last_row is not None and row >= last_row:
                    break
    except (csv.Error, OSError, EOFError):
        # Text that pandas and Arrow read otherwise, if at all, or a compressed file
        # that ends early: nothing to point at.
        pass
    return None


def malformed_line_message(path, line, expected, found, no_header=False):
    """The message about a line of a CSV file with the wrong number of fields;
    `no_header` says that the file's first line is data, not a header."""
    first = "the first line" if no_header else "the header"
    return (
        f"line {line} of {path} has {found} field(s) where {first} has {expected}: "
        "every row needs one field per column. Correct or remove that line"
    )


def first_line_is_data(path):
    """Whether every field of the first line of a CSV file is a number: a row of data
    rather than a header, most likely (column names such as wavelengths are numbers too,
    which is why this only warns)."""
    fields = first_fields(path)
    return bool(fields) and all(_NUMBER.fullmatch(field) for field in fields)


def no_header_hint(path, no_header=False):
    """The advice to pass --no-header when the first line of the CSV file `path` looks
    like data, or None when it does not or when `no_header` (``--no-header``) is given."""
    if no_header or not first_line_is_data(path):
        return None
    return (
        f"the first line of {path} looks like data (every field is a number); if the file "
        "has no header, pass --no-header, which names the columns by position, 0 to n-1"
    )
