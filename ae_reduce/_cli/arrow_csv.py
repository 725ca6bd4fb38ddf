"""How the batch reader reads a CSV file through Arrow as pandas reads it whole.

The same column names, missing values and booleans (:class:`CsvFile`,
:func:`convert_options`), the same lines of whitespace skipped and lines with the wrong
number of fields refused (:class:`LineCheck`), lines of any length (:class:`CsvFile`
grows its blocks), and the first value that is not a number found and said in the same
words (:func:`not_numeric_in_csv`).
"""

import contextlib
import re

from .csv_files import compression, open_binary, positions, read_csv, unreadable_message
from .errors import InputError
from .table_text import (
    BOOLEAN_KIND,
    BOOLEAN_TEXT,
    FALSE_TEXT,
    NA_VALUES,
    NUMBER_KIND,
    NUMBER_PATTERN,
    TRUE_TEXT,
    ColumnCheck,
    earliest_problem,
    first_malformed_line,
    malformed_line_message,
    not_numeric_message,
    physical_line,
)

#: Arrow's words for a CSV value that does not convert to its column's type.
CSV_CONVERSION = re.compile(r"CSV conversion error")

#: Arrow's words for a CSV line longer than its block: the header line, or any other.
_LONG_LINE = re.compile(r"straddl|header is larger than block size")

#: Arrow's CSV block size to begin with (Arrow's default). Arrow guesses a CSV file's
#: column types from its first block, and no line may be longer than a block.
_BLOCK_BYTES = 2**20

#: The largest block the batch reader reads, and so its longest line.
_MAX_BLOCK_BYTES = 2**28


class NotNumbers(Exception):
    """A CSV column read as text holds a value that is not a number."""


class LongLine(Exception):
    """A CSV line is longer than Arrow's block: the file is read again in larger blocks."""


def refuse_long_line(error):
    """Raise :class:`LongLine` when `error` is Arrow's about a line longer than its block."""
    if isinstance(error, ValueError) and _LONG_LINE.search(str(error)):
        raise LongLine(str(error)) from error


class CsvFile:
    """How the batch reader reads a CSV file.

    Parameters
    ----------
    path : str
        The file, compressed or not (see :mod:`.csv_files`).
    no_header : bool, default=False
        Whether its first line is data (``--no-header``).

    Attributes
    ----------
    names : list of str
        Its columns, named as pandas names them (see :func:`_csv_header`), or by
        position, ``"0"`` to ``"n-1"``, when the file has no header.
    block_size : int
        The bytes that Arrow reads at a time, each a whole number of lines: at least 8
        times the header line (the lines of a wide file are about as long), so that a
        batch holds several rows, and grown by :meth:`grow` when a longer line is met.
    one_column : bool
        Whether the file has one column, which is read as text (see
        :class:`TextColumns`).
    """

    def __init__(self, path, no_header=False):
        self.path = path
        self.no_header = no_header
        try:
            self.names = positions(path) if no_header else _csv_header(path)
            length, closed = _header_line(path)
        except (OSError, EOFError) as error:
            raise InputError(unreadable_message(path, error)) from None
        if not closed and not no_header:
            # A header line without a line end is the whole file, and Arrow, which
            # skips the header line to name the columns as pandas does, cannot skip it.
            raise InputError(
                f"{path} has no data rows (only a header: {', '.join(self.names[:10])})"
            )
        self.block_size = _BLOCK_BYTES
        while self.block_size < 8 * length and self.block_size < _MAX_BLOCK_BYTES:
            self.block_size *= 2
        self.one_column = len(self.names) == 1

    def grow(self):
        """Double the block size, as Arrow met a line longer than a block."""
        if self.block_size >= _MAX_BLOCK_BYTES:
            raise InputError(
                f"{self.path} has a line longer than {_MAX_BLOCK_BYTES >> 20} MiB, more than "
                "the batch reader of large files reads at a time"
            )
        self.block_size *= 2

    def options(self, lines):
        """Arrow's read and parse options.

        The columns are named as pandas names them, so that --drop-columns "Unnamed: 0"
        (the index column that DataFrame.to_csv writes) and a repeated name ("a.1") mean
        what they mean to the whole-file reader; Arrow refuses repeated names. Lines
        with the wrong number of fields go to `lines`, a :class:`LineCheck`.
        """
        import pyarrow.csv as pcsv

        read_options = pcsv.ReadOptions(
            column_names=self.names,
            skip_rows=0 if self.no_header else 1,
            block_size=self.block_size,
        )
        return read_options, pcsv.ParseOptions(invalid_row_handler=lines)


def _header_line(path):
    """The length in bytes of a CSV file's header line, its line end included, and
    whether a line end closes it (a line end between quotes is part of a name)."""
    length, quoted = 0, False
    with open_binary(path) as handle:
        while chunk := handle.read(2**16):
            for match in re.finditer(rb'["\r\n]', chunk):
                if match.group() == b'"':
                    quoted = not quoted
                elif not quoted:
                    return length + match.end(), True
            length += len(chunk)
    return length, False


def _csv_header(path):
    """The column names of a CSV file as ``pandas.read_csv`` gives them."""
    import warnings

    import pandas as pd

    try:
        # With a data row: pandas takes a time that grows as the square of the number
        # of columns to read a header alone (two minutes for 150,000 columns).
        # index_col=False names the columns after the header even when the data lines
        # are longer (which is refused later, in Arrow's words, not pandas' warning).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            columns = read_csv(path, nrows=1, index_col=False).columns
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} holds no table: not even a header line") from None
    except pd.errors.ParserError:
        columns = read_csv(path, nrows=0).columns
    return [str(column) for column in columns]


class CsvStream:
    """A compressed CSV file, read through Arrow's streaming CSV reader from a stream
    decompressed as its extension says, in any case (``.csv.gz``, ``.csv.bz2``,
    ``.csv.zst``; Arrow's datasets do not read the last).

    It offers what the batch reader uses of a ``pyarrow.dataset.Dataset``: ``schema``
    (Arrow's guess from the first block, read when it is made, so that an error there
    is met as a dataset meets it) and ``to_batches``, which reads the file from its
    start at each call.

    Parameters
    ----------
    path : str
        The file.
    read_options, parse_options, convert_options
        Arrow's options.
    """

    def __init__(self, path, read_options, parse_options, convert_options):
        self.path = path
        self.options = read_options, parse_options, convert_options
        with self._open() as reader:
            self.schema = reader.schema

    @contextlib.contextmanager
    def _open(self):
        import pyarrow as pa
        import pyarrow.csv as pcsv

        # The compression is named rather than left to Arrow, which knows the
        # extensions in lower case only: data.CSV.GZ would be read as text.
        codec = compression(self.path)
        with pa.input_stream(str(self.path), compression=codec) as source:
            with pcsv.open_csv(source, *self.options) as reader:
                yield reader

    def to_batches(self, columns=None, **_):
        """The file's record batches, of `columns` (all of them when None), in order.

        The other arguments of ``Dataset.to_batches`` (batch size, read-ahead) are taken
        and ignored: Arrow's blocks make the batches.
        """
        try:
            with self._open() as reader:
                for batch in reader:
                    yield batch if columns is None else batch.select(list(columns))
        except (OSError, EOFError) as error:
            raise InputError(unreadable_message(self.path, error)) from None


def convert_options(**options):
    """Arrow's conversion options that read missing values and booleans as pandas reads
    them.

    Arrow also reads 1 and 0 as booleans, and so a column of 1 and 0 with one "True" as
    a column of booleans, which pandas reads as text: here 1 and 0 are numbers only.
    """
    import pyarrow.csv as pcsv

    return pcsv.ConvertOptions(
        null_values=list(NA_VALUES),
        true_values=list(TRUE_TEXT),
        false_values=list(FALSE_TEXT),
        strings_can_be_null=True,
        **options,
    )


class LineCheck:
    """Arrow's handler of the CSV lines whose number of fields is not the header's.

    A line of spaces or tabs only is skipped, as pandas skips it (Arrow skips empty
    lines on its own). Any other such line stops the reading, and the earliest one is
    kept for the message: Arrow may parse blocks ahead of the one being read.
    """

    def __init__(self):
        self.first = None

    def __call__(self, row):
        if not row.text.strip():
            return "skip"
        earlier = self.first is None or (
            row.number is not None and (self.first.number is None or row.number < self.first.number)
        )
        if earlier:
            self.first = row
        return "error"


def read_error(path, error, lines, no_header=False):
    """The message about an error of Arrow's while reading `path`: the line with the
    wrong number of fields that `lines` (a :class:`LineCheck`, or None) met, else
    Arrow's own words. `no_header` says that the file's first line is data."""
    row = None if lines is None else lines.first
    if row is not None:
        found = None
        if row.number is not None:
            found = physical_line(path, row.number), row.expected_columns, row.actual_columns
        else:
            found = first_malformed_line(path)
        if found is not None:
            return malformed_line_message(path, *found, no_header)
    return unreadable_message(path, error)


class TextColumns:
    """Converts the feature columns of record batches of a CSV file that are read as
    text to numbers, as :class:`ColumnCheck` reads them: numbers or booleans, as the
    column's first value that is not missing says.

    Two kinds of columns are read so: the column of a file of one column, so that its
    lines of whitespace can be skipped (see :func:`_without_blank_lines`), and columns
    whose values in Arrow's first block are all missing, which Arrow cannot tell
    numbers from booleans in. One is made for each pass over the file.

    Parameters
    ----------
    names : set of str
        The columns read as text.
    one_column : bool
        Whether the file has one column.
    """

    def __init__(self, names, one_column):
        self.names = names
        self.one_column = one_column
        self.kinds = {}

    def __call__(self, batch):
        import pyarrow as pa

        if self.one_column:
            batch = _without_blank_lines(batch)
        if not batch.num_rows:
            return batch
        arrays = [
            self._numbers(name, column) if name in self.names else column
            for name, column in zip(batch.schema.names, batch.columns, strict=True)
        ]
        return pa.record_batch(arrays, names=batch.schema.names)

    def _numbers(self, name, column):
        import pyarrow as pa
        import pyarrow.compute as pc

        present = pc.is_valid(column)
        booleans = pc.is_in(column, value_set=pa.array(BOOLEAN_TEXT))
        numbers = pc.match_substring_regex(column, f"^(?:{NUMBER_PATTERN})$", ignore_case=True)
        if name not in self.kinds and pc.any(present).as_py():
            first = pc.index(present, True).as_py()
            if booleans[first].as_py():
                self.kinds[name] = BOOLEAN_KIND
            elif numbers[first].as_py():
                self.kinds[name] = NUMBER_KIND
        kind = self.kinds.get(name)
        accepted = booleans if kind == BOOLEAN_KIND else numbers
        if not pc.all(pc.or_(pc.invert(present), pc.fill_null(accepted, False))).as_py():
            raise NotNumbers()
        if kind == BOOLEAN_KIND:
            values = pc.is_in(column, value_set=pa.array(TRUE_TEXT))
            return pc.if_else(present, values, None).cast(pa.float64())
        return pc.cast(pc.utf8_trim_whitespace(column), pa.float64())


def _without_blank_lines(batch):
    """The rows of a batch of a one-column CSV file, read as text, that are not lines of
    whitespace.

    pandas skips such a line, as both readers skip it in a file of several columns
    (see :class:`LineCheck`), but in a file of one column Arrow reads it as a value.
    """
    import pyarrow.compute as pc

    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(batch.column(0)), ""), False)
    return batch.filter(pc.invert(blank)) if pc.any(blank).as_py() else batch


def earliest_non_number(batches, columns, start=0, csv=True):
    """:func:`earliest_problem` of `columns`, read from record `batches` in the file's
    order.

    Each column is converted as pandas converts it, so that both readers see the same
    values. The rows before `start` are numbers or missing values (they converted to
    numbers already), and are passed over.
    """
    checks = {column: ColumnCheck() for column in columns}
    offset = 0
    for batch in batches:
        skip = min(max(start - offset, 0), batch.num_rows)
        for position, check in enumerate(checks.values()):
            values = batch.column(position)
            if skip:
                check.pass_over(values.slice(0, skip).to_pandas())
            check(values.slice(skip).to_pandas())
        offset += batch.num_rows
        # The rows after the batch with the first value refused come after it.
        if any(check.found is not None for check in checks.values()):
            break
    return earliest_problem(checks, csv)


def not_numeric_in_csv(csv, columns, start=0):
    """The message about the first value of `columns` of a CSV file (a :class:`CsvFile`),
    from data row `start` (counting from 0) on, that is not a number.

    The columns are read as text, one batch at a time. A line with the wrong number of
    fields met on the way is the message instead, as the whole-file reader reports
    such a line before any value.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    lines = LineCheck()
    read_options, parse_options = csv.options(lines)
    convert_options = pcsv.ConvertOptions(
        include_columns=columns,
        column_types={column: pa.string() for column in columns},
        null_values=list(NA_VALUES),
        strings_can_be_null=True,
    )
    try:
        with pcsv.open_csv(csv.path, read_options, parse_options, convert_options) as reader:
            batches = reader
            if csv.one_column:
                batches = map(_without_blank_lines, reader)
            found = earliest_non_number(batches, columns, start)
    except (OSError, ValueError) as error:
        refuse_long_line(error)
        if lines.first is not None:
            return read_error(csv.path, error, lines, csv.no_header)
        found = None
    column, found = found if found is not None else (columns[0], None)
    return not_numeric_message(column, csv.path, found)
