"""``ae-reduce embed`` on files larger than memory.

Two independent choices keep memory flat without changing the result:

* **Reading.** A ``.csv`` or ``.parquet`` file of at least ``_cli.STREAM_BYTES`` is read
  batch by batch through ``pyarrow.dataset`` (when pyarrow is installed and no t-SNE map
  is asked for) instead of whole through pandas. Both readers give the same numbers,
  apply the same checks in the same words, count the same text as numbers (see
  :class:`ae_reduce._cli.table_text.ColumnCheck`), skip the same blank lines of a CSV
  file, refuse the same lines with the wrong number of fields, read lines of any length
  (see :class:`_CsvFile`), and read the label and id columns alike (through pandas,
  those columns only).
* **Training.** Features larger than ``_cli.IN_MEMORY_BYTES`` as float32, whichever
  reader read them, are scaled block by block into a temporary float32 file that
  the network trains from, and the embedding is written block by block. Smaller
  features are trained in memory, as before, whichever reader read them. The
  temporary file has no name where the system allows it (see :func:`_scratch_file`), so
  that not even a killed process leaves it behind.

So the embedding of a file depends on its numbers only, never on the reader.
"""

import contextlib
import functools
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .._io.source import CHUNK_ROWS, Source, file_backing
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

#: Rows embedded and written at a time when training from a file.
OUTPUT_ROWS = 16 * CHUNK_ROWS

#: Arrow's words for a CSV value that does not convert to its column's type.
_CSV_CONVERSION = re.compile(r"CSV conversion error")

#: Arrow's words for a CSV line longer than its block: the header line, or any other.
_LONG_LINE = re.compile(r"straddl|header is larger than block size")

#: Arrow's CSV block size to begin with (Arrow's default). Arrow guesses a CSV file's
#: column types from its first block, and no line may be longer than a block.
_BLOCK_BYTES = 2**20

#: The largest block the batch reader reads, and so its longest line.
_MAX_BLOCK_BYTES = 2**28


def streams(args, suffix):
    """Whether ``embed`` reads its input batch by batch (see the module's docstring)."""
    import importlib.util

    from .. import _cli

    if suffix not in (".csv", ".parquet") or args.tsne:
        return False
    if importlib.util.find_spec("pyarrow") is None:
        return False
    return Path(args.input).stat().st_size >= _cli.STREAM_BYTES


def trains_from_file(args, X):
    """Whether the features are too large to train in memory (never with t-SNE)."""
    from .. import _cli

    if args.tsne:
        return False
    n_rows, n_features = X.shape
    return isinstance(X, Columns) or n_rows * n_features * 4 > _cli.IN_MEMORY_BYTES


class Columns:
    """The feature columns of a file, read batch by batch through ``pyarrow.dataset``.

    Parameters
    ----------
    dataset : pyarrow.dataset.Dataset
        The file.
    path : str
        Its name, for messages.
    names : list of str
        The feature columns, in order.
    lines : _LineCheck, default=None
        The handler of a CSV file's lines that have the wrong number of fields.
    csv : _CsvFile, default=None
        How a CSV file is read; None for a Parquet file.
    prepare : callable, default=None
        Makes, for each pass, what turns each record batch into numeric columns (see
        :class:`_TextColumns` and :func:`_empty_as_numbers`); None when Arrow's types
        are numeric already.
    """

    dtype = np.dtype(np.float64)

    def __init__(self, dataset, path, names, lines=None, csv=None, prepare=None):
        self.dataset = dataset
        self.path = path
        self.names = names
        self.lines = lines
        self.csv = csv
        self.prepare = prepare
        self.shape = (0, len(names))
        #: The scaling, fitted by the reading pass that counts the rows (None for none).
        self.scaler = None

    def blocks(self):
        """C-ordered float64 blocks of :data:`CHUNK_ROWS` rows, in order; nulls are NaN."""
        from .._io import arrow as _arrow
        from . import InputError

        prepare = None if self.prepare is None else self.prepare()
        done = 0
        try:
            for _, block in _arrow.blocks(
                self.dataset, np.float64, columns=self.names, prepare=prepare
            ):
                yield block
                done += len(block)
        except (_NotNumbers, ValueError) as error:
            _refuse_long_line(error)
            if not isinstance(error, _NotNumbers) and not _CSV_CONVERSION.search(str(error)):
                raise InputError(_read_error(self.path, error, self.lines)) from error
            # Arrow guessed the column's type from the file's first block and names
            # the value that did not convert (or a column read as text holds a value
            # that is not a number); the message shows the first value that is not a
            # number, found as the whole-file reader finds it. The rows read so far
            # converted, so the search starts after them.
            message = _not_numeric_in_csv(self.csv, self.names, start=done)
            raise InputError(message) from None


class _NotNumbers(Exception):
    """A CSV column read as text holds a value that is not a number."""


class _LongLine(Exception):
    """A CSV line is longer than Arrow's block: the file is read again in larger blocks."""


def _refuse_long_line(error):
    """Raise :class:`_LongLine` when `error` is Arrow's about a line longer than its block."""
    if isinstance(error, ValueError) and _LONG_LINE.search(str(error)):
        raise _LongLine(str(error)) from error


def _earliest_non_number(batches, columns, start=0, csv=True):
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


def _not_numeric_in_csv(csv, columns, start=0):
    """The message about the first value of `columns` of a CSV file (a :class:`_CsvFile`),
    from data row `start` (counting from 0) on, that is not a number.

    The columns are read as text, one batch at a time. A line with the wrong number of
    fields met on the way is the message instead, as the whole-file reader reports
    such a line before any value.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    lines = _LineCheck()
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
            found = _earliest_non_number(batches, columns, start)
    except (OSError, ValueError) as error:
        _refuse_long_line(error)
        if lines.first is not None:
            return _read_error(csv.path, error, lines)
        found = None
    column, found = found if found is not None else (columns[0], None)
    return not_numeric_message(column, csv.path, found)


def _not_numeric_in_parquet(dataset, path, columns):
    """The message about the first value of `columns` of a Parquet dataset that makes them
    not numeric, or None when they hold missing values only."""
    problem = _earliest_non_number(dataset.to_batches(columns=columns), columns, csv=False)
    if problem is None:
        return None
    column, found = problem
    return not_numeric_message(column, path, found)


def _without_blank_lines(batch):
    """The rows of a batch of a one-column CSV file, read as text, that are not lines of
    whitespace.

    pandas skips such a line, as both readers skip it in a file of several columns
    (see :class:`_LineCheck`), but in a file of one column Arrow reads it as a value.
    """
    import pyarrow.compute as pc

    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(batch.column(0)), ""), False)
    return batch.filter(pc.invert(blank)) if pc.any(blank).as_py() else batch


class _TextColumns:
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
            raise _NotNumbers()
        if kind == BOOLEAN_KIND:
            values = pc.is_in(column, value_set=pa.array(TRUE_TEXT))
            return pc.if_else(present, values, None).cast(pa.float64())
        return pc.cast(pc.utf8_trim_whitespace(column), pa.float64())


def _empty_as_numbers(empty):
    """What makes, for each pass, the converter of record batches whose columns `empty`
    hold no value but are not of a numeric type: they become missing values, as
    pandas reads them."""

    def prepare():
        import pyarrow as pa

        def convert(batch):
            arrays = [
                pa.nulls(batch.num_rows, pa.float64()) if name in empty else column
                for name, column in zip(batch.schema.names, batch.columns, strict=True)
            ]
            return pa.record_batch(arrays, names=batch.schema.names)

        return convert

    return prepare


class _LineCheck:
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


def _read_error(path, error, lines):
    """The message about an error of Arrow's while reading `path`: the line with the
    wrong number of fields that `lines` (a :class:`_LineCheck`, or None) met, else
    Arrow's own words."""
    row = None if lines is None else lines.first
    if row is not None:
        found = None
        if row.number is not None:
            found = physical_line(path, row.number), row.expected_columns, row.actual_columns
        else:
            found = first_malformed_line(path)
        if found is not None:
            return malformed_line_message(path, *found)
    return f"could not read {path}: {error}"


def _array_blocks(X):
    """C-ordered float64 blocks of :data:`CHUNK_ROWS` rows of an array or memory map."""
    for block in Source(X, file=file_backing(X)).chunks(CHUNK_ROWS, dtype=np.float64):
        yield np.ascontiguousarray(block)


class _CsvFile:
    """How the batch reader reads a CSV file.

    Parameters
    ----------
    path : str
        The file.

    Attributes
    ----------
    names : list of str
        Its columns, named as pandas names them (see :func:`_csv_header`).
    block_size : int
        The bytes that Arrow reads at a time, each a whole number of lines: at least 8
        times the header line (the lines of a wide file are about as long), so that a
        batch holds several rows, and grown by :meth:`grow` when a longer line is met.
    one_column : bool
        Whether the file has one column, which is read as text (see
        :class:`_TextColumns`).
    """

    def __init__(self, path):
        from . import InputError

        self.path = path
        self.names = _csv_header(path)
        length, closed = _header_line(path)
        if not closed:
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
        from . import InputError

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
        with the wrong number of fields go to `lines`, a :class:`_LineCheck`.
        """
        import pyarrow.csv as pcsv

        read_options = pcsv.ReadOptions(
            column_names=self.names, skip_rows=1, block_size=self.block_size
        )
        return read_options, pcsv.ParseOptions(invalid_row_handler=lines)


def _header_line(path):
    """The length in bytes of a CSV file's header line, its line end included, and
    whether a line end closes it (a line end between quotes is part of a name)."""
    length, quoted = 0, False
    with open(path, "rb") as handle:
        while chunk := handle.read(2**16):
            for match in re.finditer(rb'["\r\n]', chunk):
                if match.group() == b'"':
                    quoted = not quoted
                elif not quoted:
                    return length + match.end(), True
            length += len(chunk)
    return length, False


def _convert_options(**options):
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


def _open_dataset(path, suffix, text_columns=(), lines=None, csv=None):
    """A dataset over the file whose feature columns convert as pandas converts them.

    CSV types are guessed by Arrow from the file's first block: numeric columns are read
    as float64, so that a decimal point further down is not a conversion error; the
    `text_columns` (the label, id and dropped columns) are read as text (the features
    are all that this reads). `lines` (a :class:`_LineCheck`) handles a CSV file's lines
    whose number of fields is not the header's; `csv` is the :class:`_CsvFile`.

    Returns
    -------
    dataset : pyarrow.dataset.Dataset
        The file.
    converted : set of str
        The other columns read as text, that :class:`_TextColumns` converts: the column
        of a file of one column, and those that are all missing in the first block.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    if suffix == ".parquet":
        return ds.dataset(path, format="parquet"), set()
    read_options, parse_options = csv.options(_LineCheck() if lines is None else lines)
    guessed = ds.dataset(
        path,
        format=ds.CsvFileFormat(
            read_options=read_options,
            parse_options=parse_options,
            convert_options=_convert_options(),
        ),
    )
    types, converted = {}, set()
    for field in guessed.schema:
        kind = field.type
        if field.name in text_columns:
            types[field.name] = pa.string()
        elif csv.one_column or pa.types.is_null(kind):
            types[field.name] = pa.string()
            converted.add(field.name)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
            types[field.name] = pa.float64()
    dataset = ds.dataset(
        path,
        format=ds.CsvFileFormat(
            read_options=read_options,
            parse_options=parse_options,
            convert_options=_convert_options(column_types=types),
        ),
    )
    return dataset, converted


def _csv_header(path):
    """The column names of a CSV file as ``pandas.read_csv`` gives them."""
    import warnings

    import pandas as pd

    from . import InputError

    try:
        # With a data row: pandas takes a time that grows as the square of the number
        # of columns to read a header alone (two minutes for 150,000 columns).
        # index_col=False names the columns after the header even when the data lines
        # are longer (which is refused later, in Arrow's words, not pandas' warning).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            columns = pd.read_csv(path, nrows=1, index_col=False).columns
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} holds no table: not even a header line") from None
    except pd.errors.ParserError:
        columns = pd.read_csv(path, nrows=0).columns
    return [str(column) for column in columns]


def _index_columns(schema):
    """Columns that pandas writes to Parquet for a data frame's index, and reads back as
    the index, not as columns."""
    try:
        metadata = schema.pandas_metadata or {}
    except (ValueError, TypeError):
        return set()
    return {name for name in metadata.get("index_columns", []) if isinstance(name, str)}


def _read_columns(path, suffix, columns, id_column):
    """The label and id columns, read by pandas as the in-memory reader reads them."""
    from . import InputError

    try:
        import pandas as pd
    except ImportError as error:
        raise InputError(f"reading {suffix} files needs pandas: pip install pandas") from error

    if suffix == ".csv":
        return pd.read_csv(
            path, usecols=columns, dtype=None if id_column is None else {id_column: str}
        )
    return pd.read_parquet(path, columns=columns)


def read(path, suffix, label_column, id_column, drop_columns, scaler="auto"):
    """Read and check a large input as ``_load_data`` does, keeping the features on disk.

    `scaler` (a name of ``--scaler``) is fitted by the pass that counts the rows.

    Returns
    -------
    data : ae_reduce._cli._Data
        ``X`` is a :class:`Columns` when the features are larger than
        ``_cli.IN_MEMORY_BYTES`` as float32, else the features in memory, laid out as
        pandas lays them out (column-major) so that the two readers compute the same.
    """
    from .. import _cli

    csv = _CsvFile(path) if suffix == ".csv" else None
    while True:
        try:
            X, names = _read_features(path, csv, label_column, id_column, drop_columns, scaler)
            break
        except _LongLine:
            # Arrow reads no line longer than its block, and says so only on meeting
            # one, which may be far into the file: the file is read again.
            csv.grow()
    labels = ids = None
    wanted = [column for column in (label_column, id_column) if column is not None]
    if wanted:
        frame = _read_columns(path, suffix, wanted, id_column)
        if label_column is not None:
            labels = frame[label_column].to_numpy()
            if suffix == ".csv" and frame[label_column].dtype.kind in "iu":
                _cli._refuse_merged_spellings(path, label_column, frame[label_column])
            labels = _cli._check_labels(labels, label_column, path)
        if id_column is not None:
            ids = _cli._check_ids(frame[id_column].to_numpy(), id_column, path)
    return _cli._Data(X, labels, names, ids)


def _read_features(path, csv, label_column, id_column, drop_columns, scaler):
    """Check the columns of a CSV (`csv`, a :class:`_CsvFile`) or Parquet (`csv` None)
    file and make the first pass (see :func:`_first_pass`) over its features.

    Returns
    -------
    X : Columns or ndarray
        See :func:`read`.
    names : list of str
        The feature columns.
    """
    import pyarrow as pa

    from .. import _cli
    from . import InputError

    lines = None if csv is None else _LineCheck()
    taken = {label_column, id_column, *drop_columns}
    suffix = ".parquet" if csv is None else ".csv"
    try:
        dataset, converted = _open_dataset(path, suffix, taken - {None}, lines, csv)
    except (OSError, ValueError) as error:
        _refuse_long_line(error)
        if csv is None or not _CSV_CONVERSION.search(str(error)):
            raise InputError(_read_error(path, error, lines)) from error
        # A value of the first block that Arrow read as a number (such as "0x10" in a
        # column of integers) but that does not convert to float64.
        dataset = None
    if dataset is None:
        columns = csv.names
    else:
        index = _index_columns(dataset.schema)
        columns = [name for name in dataset.schema.names if name not in index]
    _cli.check_column_names(columns, path, label_column, id_column, drop_columns)
    names = [name for name in columns if name not in taken]
    if dataset is None:
        raise InputError(_not_numeric_in_csv(csv, names))

    def numeric(name):
        kind = dataset.schema.field(name).type
        return any(
            test(kind) for test in (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)
        ) or pa.types.is_null(kind)

    prepare = None
    bad = [name for name in names if name not in converted and not numeric(name)]
    if bad and csv is not None:
        raise InputError(_not_numeric_in_csv(csv, bad))
    if bad:
        message = _not_numeric_in_parquet(dataset, path, bad)
        if message is not None:
            raise InputError(message)
        # Columns without a value, which pandas reads as missing values.
        prepare = _empty_as_numbers(set(bad))
    converted &= set(names)
    if converted:
        prepare = functools.partial(_TextColumns, converted, csv.one_column)
    if not names:
        raise InputError(
            f"{path} has no feature columns left"
            + (" once --drop-columns are dropped" if drop_columns else "")
        )
    X = _first_pass(Columns(dataset, path, names, lines, csv, prepare), path, scaler)
    return X, names


def _first_pass(columns, path, scaler):
    """Count the rows and refuse missing values; keep the rows if they are few enough.

    The same pass fits the scaling (`scaler`, a name of ``--scaler``) that training
    from a file needs, which spares a pass over a large file.
    """
    from .._preprocessing.scaling import make_scaler
    from . import IN_MEMORY_BYTES, InputError, _missing_message

    n_features = len(columns.names)
    finite = np.ones(n_features, dtype=bool)
    kept, n_rows = [], 0
    first = None  # the row and column of the first missing value
    scaler = make_scaler(scaler)
    for block in columns.blocks():
        missing = ~np.isfinite(block)
        if first is None and missing.any():
            row = int(np.argmax(missing.any(axis=1)))
            first = n_rows + row, int(np.argmax(missing[row]))
        finite &= ~missing.any(axis=0)
        # A pass that finds missing values ends in an error.
        if finite.all() and scaler is not None:
            scaler.partial_fit(block)
        n_rows += len(block)
        if kept is not None:
            kept.append(block)
            if n_rows * n_features * 4 > IN_MEMORY_BYTES:
                kept = None
    if n_rows == 0:
        header = ", ".join(columns.dataset.schema.names[:10])
        raise InputError(f"{path} has no data rows (only a header: {header})")
    if not finite.all():
        raise InputError(_missing_message(columns.names, finite, path, first))
    if kept is None:
        columns.shape = (n_rows, n_features)
        columns.scaler = scaler
        return columns
    X = np.empty((n_rows, n_features), dtype=np.float64, order="F")
    start = 0
    for block in kept:
        X[start : start + len(block)] = block
        start += len(block)
    return X


def embed_from_file(args, progress, X, labels, ids, pipeline, names):
    """Scale `X` into a temporary file, train from it and write the embedding.

    Returns
    -------
    Z : ndarray or None
        The embedding when ``--plot`` or ``--html`` need it in memory.
    prepared : object
        What :func:`ae_reduce._cli._prepare_maps` returned.
    """
    from sklearn.base import clone

    from . import _prepare_maps

    n_rows, n_features = X.shape
    blocks = X.blocks if isinstance(X, Columns) else (lambda: _array_blocks(X))
    out_dtype = np.float32 if X.dtype == np.float32 else np.float64
    # Fitted by the reading pass of a Columns; None there means --scaler none.
    scaler = getattr(X, "scaler", None)
    if not isinstance(X, Columns) and "scaler" in pipeline.named_steps:
        scaler = clone(pipeline["scaler"])
        for block in blocks():
            scaler.partial_fit(block)
    folder = tempfile.gettempdir()
    progress(
        f"{'copying' if scaler is None else 'scaling'} the features into a temporary file in "
        f"{folder} "
        f"({n_rows * n_features * 4 / 1e9:.2f} GB), which training reads in batches"
    )
    with _scratch_file() as (handle, path):
        for block in blocks():
            if scaler is not None:
                block = scaler.transform(block)
            handle.write(np.ascontiguousarray(block, dtype=np.float32))
        handle.flush()
        # Mapped by path, so that training reads its rows from the file rather than
        # through the mapping, whose pages would count against memory.
        scaled = np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, n_features))
        reducer = pipeline["reducer"]
        y = labels if args.supervised else None
        if args.supervised:
            whole = reducer.fit_transform(scaled, y)
            pieces = (whole[s : s + OUTPUT_ROWS] for s in range(0, n_rows, OUTPUT_ROWS))
        else:
            reducer.fit(scaled)
            pieces = (
                reducer.transform(scaled[s : s + OUTPUT_ROWS])
                for s in range(0, n_rows, OUTPUT_ROWS)
            )
        progress(f"writing the embedding of {n_rows} rows to {args.output}")
        kept = [] if (args.plot or args.html) else None
        with embedding_writer(args, names, labels, ids, n_rows, out_dtype) as writer:
            for piece in pieces:
                piece = piece.astype(out_dtype, copy=False)
                writer.write(piece)
                if kept is not None:
                    kept.append(piece)
            Z = None if kept is None else np.concatenate(kept)
            # Before the embedding is renamed into place: everything that can fail is
            # done before the first file is written.
            prepared = _prepare_maps(args, Z, labels)
        del scaled
    return Z, prepared


#: Where a process opens its own open files by descriptor (Linux).
_DESCRIPTORS = "/proc/self/fd"


@contextlib.contextmanager
def _scratch_file():
    """Yield an empty temporary file, open for writing, and a path that opens it.

    Where a process can open its own files by descriptor (Linux), the file has no name
    in the temporary folder: the system frees it when the process ends, however it
    ends, killed (SIGKILL) or crashed too. Elsewhere it is a named file in a folder of
    its own, removed when the block ends, however it ends (the command line turns
    SIGTERM into an exception to that end).
    """
    if os.path.isdir(_DESCRIPTORS):
        with tempfile.TemporaryFile(prefix="ae-reduce-", suffix=".float32") as handle:
            path = f"{_DESCRIPTORS}/{handle.fileno()}"
            try:
                open(path, "rb").close()
            except OSError:
                pass  # a system that does not reopen descriptors: a named file below
            else:
                yield handle, path
                return
    with tempfile.TemporaryDirectory(prefix="ae-reduce-") as folder:
        path = os.path.join(folder, "scaled.float32")
        with open(path, "w+b") as handle:
            yield handle, path


@contextlib.contextmanager
def embedding_writer(args, names, labels, ids, n_rows, dtype):
    """Yield a writer of the embedding block by block, to a temporary file renamed to
    ``--output`` when the block ends and every row was written.

    Each row is written as ``_write_embedding`` writes it whole: a ``.npy`` array, or
    a table with the id column first and the label column last.
    """
    from .._utils.files import replacing

    path = args.output
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    suffix = Path(path).suffix.lower()
    with replacing(path) as temporary:
        if suffix == ".npy":
            writer = _NpyWriter(temporary, (n_rows, len(names)), dtype)
        else:
            writer = _TableWriter(
                temporary, suffix, names, labels, args.label_column, ids, args.id_column
            )
        with contextlib.closing(writer):
            yield writer
        if writer.n_written != n_rows:
            raise OSError(f"wrote {writer.n_written} rows of the embedding, expected {n_rows}")


class _NpyWriter:
    def __init__(self, path, shape, dtype):
        self.handle = open(path, "wb")
        self.n_written = 0
        header = {
            "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
            "fortran_order": False,
            "shape": shape,
        }
        np.lib.format.write_array_header_1_0(self.handle, header)

    def write(self, block):
        self.handle.write(np.ascontiguousarray(block))
        self.n_written += len(block)

    def close(self):
        self.handle.close()


class _TableWriter:
    def __init__(self, path, suffix, names, labels, label_column, ids, id_column):
        self.path = path
        self.csv = suffix == ".csv"
        self.names = names
        self.labels, self.label_column = labels, label_column
        self.ids, self.id_column = ids, id_column
        self.n_written = 0
        self.handle = open(path, "w", newline="", encoding="utf-8") if self.csv else None
        self.parquet = None

    def write(self, block):
        from .._utils.spreadsheet import spreadsheet_safe_frame
        from . import _embedding_frame

        rows = slice(self.n_written, self.n_written + len(block))
        frame = _embedding_frame(
            block,
            self.names,
            None if self.labels is None else self.labels[rows],
            self.label_column,
            None if self.ids is None else self.ids[rows],
            self.id_column,
        )
        if self.csv:
            spreadsheet_safe_frame(frame).to_csv(
                self.handle, index=False, header=self.n_written == 0
            )
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.path, table.schema)
            self.parquet.write_table(table)
        self.n_written += len(block)

    def close(self):
        if self.handle is not None:
            self.handle.close()
        if self.parquet is not None:
            self.parquet.close()
