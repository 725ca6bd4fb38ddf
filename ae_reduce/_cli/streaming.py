"""``ae-reduce embed`` on files larger than memory.

Two independent choices keep memory flat without changing the result:

* **Reading.** A ``.csv`` (compressed or not) or ``.parquet`` file of at least
  ``settings.STREAM_BYTES`` on disk is read batch by batch through ``pyarrow.dataset``
  or, compressed, Arrow's streaming CSV reader (when pyarrow is installed and no t-SNE
  map is asked for) instead of whole through pandas. Both readers give the same
  numbers, apply the same checks in the same words, count the same text as numbers (see
  :class:`ae_reduce._cli.table_text.ColumnCheck`), skip the same blank lines of a CSV
  file, refuse the same lines with the wrong number of fields, read lines of any length
  (see :mod:`.arrow_csv`), and read the label and id columns alike (through pandas,
  those columns only).
* **Training.** Features larger than ``settings.IN_MEMORY_BYTES`` as float32, whichever
  reader read them, are trained from a temporary file (see :mod:`.from_file`). Smaller
  features are trained in memory, as before, whichever reader read them.

So the embedding of a file depends on its numbers only, never on the reader.
"""

import functools
from pathlib import Path

import numpy as np

from . import settings
from .arrow_csv import (
    CSV_CONVERSION,
    CsvFile,
    CsvStream,
    LineCheck,
    LongLine,
    NotNumbers,
    TextColumns,
    convert_options,
    earliest_non_number,
    not_numeric_in_csv,
    read_error,
    refuse_long_line,
)
from .checks import (
    check_column_names,
    check_ids,
    check_labels,
    missing_message,
    refuse_merged_spellings,
)
from .csv_files import compression, read_csv
from .errors import InputError
from .inputs import Data
from .table_text import no_header_hint, not_numeric_message


def streams(args, suffix):
    """Whether ``embed`` reads its input batch by batch (see the module's docstring)."""
    import importlib.util

    if suffix not in (".csv", ".parquet") or args.tsne:
        return False
    if importlib.util.find_spec("pyarrow") is None:
        return False
    return Path(args.input).stat().st_size >= settings.STREAM_BYTES


def trains_from_file(args, X):
    """Whether the features are too large to train in memory (never with t-SNE)."""
    if args.tsne:
        return False
    n_rows, n_features = X.shape
    return isinstance(X, Columns) or n_rows * n_features * 4 > settings.IN_MEMORY_BYTES


class Columns:
    """The feature columns of a file, read batch by batch through ``pyarrow.dataset``.

    Parameters
    ----------
    dataset : pyarrow.dataset.Dataset or CsvStream
        The file (a :class:`CsvStream` for a compressed CSV file).
    path : str
        Its name, for messages.
    names : list of str
        The feature columns, in order.
    lines : LineCheck, default=None
        The handler of a CSV file's lines that have the wrong number of fields.
    csv : CsvFile, default=None
        How a CSV file is read; None for a Parquet file.
    prepare : callable, default=None
        Makes, for each pass, what turns each record batch into numeric columns (see
        :class:`TextColumns` and :func:`_empty_as_numbers`); None when Arrow's types
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

        prepare = None if self.prepare is None else self.prepare()
        done = 0
        try:
            for _, block in _arrow.blocks(
                self.dataset, np.float64, columns=self.names, prepare=prepare
            ):
                yield block
                done += len(block)
        except (NotNumbers, ValueError) as error:
            refuse_long_line(error)
            if not isinstance(error, NotNumbers) and not CSV_CONVERSION.search(str(error)):
                no_header = self.csv is not None and self.csv.no_header
                message = read_error(self.path, error, self.lines, no_header)
                raise InputError(message) from error
            # Arrow guessed the column's type from the file's first block and names
            # the value that did not convert (or a column read as text holds a value
            # that is not a number); the message shows the first value that is not a
            # number, found as the whole-file reader finds it. The rows read so far
            # converted, so the search starts after them.
            message = not_numeric_in_csv(self.csv, self.names, start=done)
            raise InputError(message) from None


def read(path, suffix, label_column, id_column, drop_columns, scaler="auto", no_header=False):
    """Read and check a large input as ``load_data`` does, keeping the features on disk.

    `scaler` (a name of ``--scaler``) is fitted by the pass that counts the rows.
    `no_header` says that the first line of a CSV file is data.

    Returns
    -------
    data : ae_reduce._cli.inputs.Data
        ``X`` is a :class:`Columns` when the features are larger than
        ``settings.IN_MEMORY_BYTES`` as float32, else the features in memory, laid out as
        pandas lays them out (column-major) so that the two readers compute the same.
    """
    csv = CsvFile(path, no_header) if suffix == ".csv" else None
    while True:
        try:
            X, names = _read_features(path, csv, label_column, id_column, drop_columns, scaler)
            break
        except LongLine:
            # Arrow reads no line longer than its block, and says so only on meeting
            # one, which may be far into the file: the file is read again.
            csv.grow()
    labels = ids = None
    wanted = [column for column in (label_column, id_column) if column is not None]
    if wanted:
        frame = _read_columns(path, suffix, wanted, id_column, no_header)
        if label_column is not None:
            labels = frame[label_column].to_numpy()
            if suffix == ".csv" and frame[label_column].dtype.kind in "iu":
                refuse_merged_spellings(path, label_column, frame[label_column], no_header)
            labels = check_labels(labels, label_column, path)
        if id_column is not None:
            ids = check_ids(frame[id_column].to_numpy(), id_column, path)
    return Data(X, labels, names, ids)


def _read_columns(path, suffix, columns, id_column, no_header=False):
    """The label and id columns, read by pandas as the in-memory reader reads them."""
    try:
        import pandas as pd
    except ImportError as error:
        raise InputError(f"reading {suffix} files needs pandas: pip install pandas") from error

    if suffix == ".csv":
        dtype = None if id_column is None else {id_column: str}
        return read_csv(path, no_header, usecols=columns, dtype=dtype)
    return pd.read_parquet(path, columns=columns)


def _read_features(path, csv, label_column, id_column, drop_columns, scaler):
    """Check the columns of a CSV (`csv`, a :class:`CsvFile`) or Parquet (`csv` None)
    file and make the first pass (see :func:`_first_pass`) over its features.

    Returns
    -------
    X : Columns or ndarray
        See :func:`read`.
    names : list of str
        The feature columns.
    """
    import pyarrow as pa

    lines = None if csv is None else LineCheck()
    taken = {label_column, id_column, *drop_columns}
    suffix = ".parquet" if csv is None else ".csv"
    try:
        dataset, converted = _open_dataset(path, suffix, taken - {None}, lines, csv)
    except (OSError, ValueError) as error:
        refuse_long_line(error)
        if csv is None or not CSV_CONVERSION.search(str(error)):
            no_header = csv is not None and csv.no_header
            raise InputError(read_error(path, error, lines, no_header)) from error
        # A value of the first block that Arrow read as a number (such as "0x10" in a
        # column of integers) but that does not convert to float64.
        dataset = None
    if dataset is None:
        columns = csv.names
    else:
        index = _index_columns(dataset.schema)
        columns = [name for name in dataset.schema.names if name not in index]
    hint = None if csv is None else no_header_hint(path, csv.no_header)
    check_column_names(columns, path, label_column, id_column, drop_columns, hint)
    names = [name for name in columns if name not in taken]
    if dataset is None:
        raise InputError(not_numeric_in_csv(csv, names))

    def numeric(name):
        kind = dataset.schema.field(name).type
        return any(
            test(kind) for test in (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)
        ) or pa.types.is_null(kind)

    prepare = None
    bad = [name for name in names if name not in converted and not numeric(name)]
    if bad and csv is not None:
        raise InputError(not_numeric_in_csv(csv, bad))
    if bad:
        message = _not_numeric_in_parquet(dataset, path, bad)
        if message is not None:
            raise InputError(message)
        # Columns without a value, which pandas reads as missing values.
        prepare = _empty_as_numbers(set(bad))
    converted &= set(names)
    if converted:
        prepare = functools.partial(TextColumns, converted, csv.one_column)
    if not names:
        raise InputError(
            f"{path} has no feature columns left"
            + (" once --drop-columns are dropped" if drop_columns else "")
        )
    X = _first_pass(Columns(dataset, path, names, lines, csv, prepare), path, scaler)
    return X, names


def _open_dataset(path, suffix, text_columns=(), lines=None, csv=None):
    """A dataset over the file whose feature columns convert as pandas converts them.

    CSV types are guessed by Arrow from the file's first block: numeric columns are read
    as float64, so that a decimal point further down is not a conversion error; the
    `text_columns` (the label, id and dropped columns) are read as text (the features
    are all that this reads). `lines` (a :class:`LineCheck`) handles a CSV file's lines
    whose number of fields is not the header's; `csv` is the :class:`CsvFile`.

    Returns
    -------
    dataset : pyarrow.dataset.Dataset or CsvStream
        The file (a :class:`CsvStream` for a compressed CSV file, which Arrow's datasets
        do not all read).
    converted : set of str
        The other columns read as text, that :class:`TextColumns` converts: the column
        of a file of one column, and those that are all missing in the first block.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    if suffix == ".parquet":
        return ds.dataset(path, format="parquet"), set()
    read_options, parse_options = csv.options(LineCheck() if lines is None else lines)

    def open_csv(options):
        if compression(path) is not None:
            return CsvStream(path, read_options, parse_options, options)
        return ds.dataset(
            path,
            format=ds.CsvFileFormat(
                read_options=read_options, parse_options=parse_options, convert_options=options
            ),
        )

    guessed = open_csv(convert_options())
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
    return open_csv(convert_options(column_types=types)), converted


def _index_columns(schema):
    """Columns that pandas writes to Parquet for a data frame's index, and reads back as
    the index, not as columns."""
    try:
        metadata = schema.pandas_metadata or {}
    except (ValueError, TypeError):
        return set()
    return {name for name in metadata.get("index_columns", []) if isinstance(name, str)}


def _not_numeric_in_parquet(dataset, path, columns):
    """The message about the first value of `columns` of a Parquet dataset that makes them
    not numeric, or None when they hold missing values only."""
    problem = earliest_non_number(dataset.to_batches(columns=columns), columns, csv=False)
    if problem is None:
        return None
    column, found = problem
    return not_numeric_message(column, path, found)


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


def _first_pass(columns, path, scaler):
    """Count the rows and refuse missing values; keep the rows if they are few enough.

    The same pass fits the scaling (`scaler`, a name of ``--scaler``) that training
    from a file needs, which spares a pass over a large file.
    """
    from .._preprocessing.scaling import make_scaler

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
            if n_rows * n_features * 4 > settings.IN_MEMORY_BYTES:
                kept = None
    if n_rows == 0:
        header = ", ".join(columns.dataset.schema.names[:10])
        raise InputError(f"{path} has no data rows (only a header: {header})")
    if not finite.all():
        raise InputError(missing_message(columns.names, finite, path, first))
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
