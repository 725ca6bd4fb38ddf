"""``ae-reduce embed`` on files larger than memory.

Two independent choices keep memory flat without changing the result:

* **Reading.** A ``.csv`` or ``.parquet`` file of at least ``_cli.STREAM_BYTES`` is read
  batch by batch through ``pyarrow.dataset`` (when pyarrow is installed and no t-SNE map
  is asked for) instead of whole through pandas. Both readers give the same numbers,
  apply the same checks in the same words, skip the same blank lines of a CSV file,
  refuse the same lines with the wrong number of fields, and read the label and id
  columns alike (through pandas, those columns only).
* **Training.** Features larger than ``_cli.IN_MEMORY_BYTES`` as float32, whichever
  reader read them, are scaled block by block into a temporary float32 file that
  the network trains from, and the embedding is written block by block. Smaller
  features are trained in memory, as before, whichever reader read them. The
  temporary file has no name where the system allows it (see :func:`_scratch_file`), so
  that not even a killed process leaves it behind.

So the embedding of a file depends on its numbers only, never on the reader.
"""

import contextlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ._data import CHUNK_ROWS, Source, _file_backing

#: Rows embedded and written at a time when training from a file.
OUTPUT_ROWS = 16 * CHUNK_ROWS

#: Text that pandas reads as a missing value; the streaming reader reads it so too.
_NA_VALUES = (
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
_BOOLEAN_TEXT = ("True", "TRUE", "true", "False", "FALSE", "false")

#: Arrow's words for a CSV value that does not convert to its column's type.
_CSV_CONVERSION = re.compile(r"CSV conversion error")


def streams(args, suffix):
    """Whether ``embed`` reads its input batch by batch (see the module's docstring)."""
    import importlib.util

    from . import _cli

    if suffix not in (".csv", ".parquet") or args.tsne:
        return False
    if importlib.util.find_spec("pyarrow") is None:
        return False
    return Path(args.input).stat().st_size >= _cli.STREAM_BYTES


def trains_from_file(args, X):
    """Whether the features are too large to train in memory (never with t-SNE)."""
    from . import _cli

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
    """

    dtype = np.dtype(np.float64)

    def __init__(self, dataset, path, names, lines=None):
        self.dataset = dataset
        self.path = path
        self.names = names
        self.lines = lines
        self.shape = (0, len(names))
        #: The scaling, fitted by the reading pass that counts the rows (None for none).
        self.scaler = None

    def blocks(self):
        """C-ordered float64 blocks of :data:`CHUNK_ROWS` rows, in order; nulls are NaN."""
        from . import _arrow
        from ._cli import InputError

        done = 0
        try:
            for _, block in _arrow.blocks(self.dataset, np.float64, columns=self.names):
                yield block
                done += len(block)
        except ValueError as error:
            if not _CSV_CONVERSION.search(str(error)):
                raise InputError(_read_error(self.path, error, self.lines)) from error
            # Arrow guessed the column's type from the file's first block and names
            # the value that did not convert; the message shows the first value that
            # is not a number, found as the whole-file reader finds it. The rows read
            # so far converted, so the search starts after them.
            message = _not_numeric_in_csv(self.path, self.names, start=done)
            raise InputError(message) from None


def not_numeric_message(column, path, found):
    """The message about a feature `column` of `path` that is not numeric.

    Parameters
    ----------
    column : str
        The column.
    path : str
        The file.
    found : tuple of (int, object) or None
        The position of the first value that is not a number among the data rows,
        counting from 0, and that value, as :func:`first_non_number` finds them; None
        when no value could be pointed at.
    """
    where = ""
    if found is not None:
        row, value = found
        # Text as itself; other values (dates, decimals) as both readers print them.
        text = value if isinstance(value, str) else str(value)
        where = f": {text!r} in data row {row + 1} is not a number"
    return (
        f"column {column!r} of {path} is not numeric{where}. Encode it as numbers, leave "
        "it out with --drop-columns, or name it with --label-column or --id-column."
    )


def first_non_number(values):
    """The first of `values` that is neither missing nor a number, and its position.

    Numbers, booleans and text that pandas would read as one of them count as numbers,
    so that a column that both readers refuse as a whole is pointed at by the value
    that made it fail.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        A column's values, as pandas gives them (text as ``str``, missing values as
        None or NaN).

    Returns
    -------
    found : tuple of (int, object) or None
        The position (from 0) and the value, or None when every value is a number or
        missing.
    """
    import pandas as pd

    if hasattr(values, "to_numpy"):
        values = values.to_numpy(dtype=object)
    values = np.asarray(values, dtype=object)
    numbers = (bool, int, float, np.bool_, np.integer, np.floating)
    # Block by block: a typo is usually found in the first block, and a block of text
    # costs its own size in memory only.
    for start in range(0, len(values), CHUNK_ROWS):
        part = values[start : start + CHUNK_ROWS]
        # 1 for text, 2 for a number, 0 for anything else (a date, a decimal, a list).
        kind = np.fromiter(
            (
                1 if isinstance(value, str) else 2 if isinstance(value, numbers) else 0
                for value in part
            ),
            dtype=np.int8,
            count=len(part),
        )
        text = pd.Series(np.where(kind == 1, part, None), dtype=object)
        reads = pd.to_numeric(text, errors="coerce").notna() | text.isin(_BOOLEAN_TEXT)
        bad = ~pd.isna(part) & (kind != 2) & ~((kind == 1) & reads.to_numpy())
        if bad.any():
            position = int(np.argmax(bad))
            return start + position, part[position]
    return None


def _earliest_non_number(batches, columns, start=0):
    """The column and :func:`first_non_number` of the earliest row, from row `start` on,
    that holds a value that is not a number (the leftmost such column of that row).

    `batches` are record batches of `columns`, in the file's order; each column is
    converted as pandas converts it, so that both readers see the same values.
    """
    offset = 0
    for batch in batches:
        skip = min(max(start - offset, 0), batch.num_rows)
        found = None
        for position, column in enumerate(columns):
            values = batch.column(position).slice(skip).to_pandas()
            hit = first_non_number(values)
            if hit is not None and (found is None or hit[0] < found[1][0]):
                found = column, hit
        if found is not None:
            column, (row, value) = found
            return column, (offset + skip + row, value)
        offset += batch.num_rows
    return None


def _not_numeric_in_csv(path, columns, start=0):
    """The message about the first value of `columns` of a CSV file, from data row
    `start` (counting from 0) on, that is not a number.

    The columns are read as text, one batch at a time. A line with the wrong number of
    fields met on the way is the message instead, as the whole-file reader reports
    such a line before any value.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    lines = _LineCheck()
    read_options, parse_options = _csv_options(path, lines)
    convert_options = pcsv.ConvertOptions(
        include_columns=columns,
        column_types={column: pa.string() for column in columns},
        null_values=list(_NA_VALUES),
        strings_can_be_null=True,
    )
    try:
        with pcsv.open_csv(path, read_options, parse_options, convert_options) as reader:
            found = _earliest_non_number(reader, columns, start)
    except (OSError, ValueError) as error:
        if lines.first is not None:
            return _read_error(path, error, lines)
        found = None
    column, found = found if found is not None else (columns[0], None)
    return not_numeric_message(column, path, found)


def _not_numeric_in_parquet(dataset, path, columns):
    """The message about the first value of `columns` of a Parquet dataset that is not a
    number."""
    found = _earliest_non_number(dataset.to_batches(columns=columns), columns)
    column, found = found if found is not None else (columns[0], None)
    return not_numeric_message(column, path, found)


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
            found = _physical_line(path, row.number), row.expected_columns, row.actual_columns
        else:
            found = first_malformed_line(path)
        if found is not None:
            return malformed_line_message(path, *found)
    return f"could not read {path}: {error}"


def _physical_line(path, row):
    """The line of the file that holds Arrow's CSV row `row`.

    Arrow counts rows from 1, the header's included, and leaves out empty lines; a
    text editor counts every line.
    """
    seen = 0
    with open(path, "rb") as handle:
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
        The file, in UTF-8.
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
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
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
    except csv.Error:
        pass  # text that pandas and Arrow read otherwise, if at all: nothing to point at
    return None


def malformed_line_message(path, line, expected, found):
    """The message about a line of a CSV file with the wrong number of fields."""
    return (
        f"line {line} of {path} has {found} field(s) where the header has {expected}: "
        "every row needs one field per column. Correct or remove that line"
    )


def _array_blocks(X):
    """C-ordered float64 blocks of :data:`CHUNK_ROWS` rows of an array or memory map."""
    for block in Source(X, file=_file_backing(X)).chunks(CHUNK_ROWS, dtype=np.float64):
        yield np.ascontiguousarray(block)


def _csv_options(path, lines):
    """Arrow's read and parse options for a CSV file.

    The columns are named as pandas names them, so that --drop-columns "Unnamed: 0"
    (the index column that DataFrame.to_csv writes) and a repeated name ("a.1") mean
    what they mean to the whole-file reader; Arrow refuses repeated names. Lines with
    the wrong number of fields go to `lines`, a :class:`_LineCheck`.
    """
    import pyarrow.csv as pcsv

    read_options = pcsv.ReadOptions(column_names=_csv_header(path), skip_rows=1)
    return read_options, pcsv.ParseOptions(invalid_row_handler=lines)


def _open_dataset(path, suffix, label_column, id_column, lines=None):
    """A dataset over the file whose feature columns convert as pandas converts them.

    CSV types are guessed by Arrow from the file's first block: numeric columns are read
    as float64, so that a decimal point further down is not a conversion error; the
    label and id columns are read as text (the features are all that this reads).
    `lines` (a :class:`_LineCheck`) handles a CSV file's lines whose number of fields
    is not the header's.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.dataset as ds

    if suffix == ".parquet":
        return ds.dataset(path, format="parquet")
    read_options, parse_options = _csv_options(path, _LineCheck() if lines is None else lines)
    guessed = ds.dataset(
        path, format=ds.CsvFileFormat(read_options=read_options, parse_options=parse_options)
    )
    types = {}
    for field in guessed.schema:
        kind = field.type
        if field.name in (label_column, id_column):
            types[field.name] = pa.string()
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
            types[field.name] = pa.float64()
    options = pcsv.ConvertOptions(
        column_types=types, null_values=list(_NA_VALUES), strings_can_be_null=True
    )
    return ds.dataset(
        path,
        format=ds.CsvFileFormat(
            read_options=read_options, parse_options=parse_options, convert_options=options
        ),
    )


def _csv_header(path):
    """The column names of a CSV file as ``pandas.read_csv`` gives them."""
    import pandas as pd

    from ._cli import InputError

    try:
        columns = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} holds no table: not even a header line") from None
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
    from ._cli import InputError

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
    import pyarrow as pa

    from . import _cli
    from ._cli import InputError

    lines = _LineCheck() if suffix == ".csv" else None
    try:
        dataset = _open_dataset(path, suffix, label_column, id_column, lines)
    except (OSError, ValueError) as error:
        raise InputError(_read_error(path, error, lines)) from error
    index = _index_columns(dataset.schema)
    columns = [name for name in dataset.schema.names if name not in index]
    _cli.check_column_names(columns, path, label_column, id_column, drop_columns)
    taken = {label_column, id_column, *drop_columns}
    names = [name for name in columns if name not in taken]

    def numeric(name):
        kind = dataset.schema.field(name).type
        return any(
            test(kind) for test in (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)
        ) or pa.types.is_null(kind)

    bad = [name for name in names if not numeric(name)]
    if bad:
        if suffix == ".csv":
            raise InputError(_not_numeric_in_csv(path, bad))
        raise InputError(_not_numeric_in_parquet(dataset, path, bad))
    if not names:
        raise InputError(
            f"{path} has no feature columns left"
            + (" once --drop-columns are dropped" if drop_columns else "")
        )
    X = _first_pass(Columns(dataset, path, names, lines), path, scaler)
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


def _first_pass(columns, path, scaler):
    """Count the rows and refuse missing values; keep the rows if they are few enough.

    The same pass fits the scaling (`scaler`, a name of ``--scaler``) that training
    from a file needs, which spares a pass over a large file.
    """
    from ._cli import IN_MEMORY_BYTES, InputError, _missing_message
    from ._scaling import make_scaler

    n_features = len(columns.names)
    finite = np.ones(n_features, dtype=bool)
    kept, n_rows = [], 0
    scaler = make_scaler(scaler)
    for block in columns.blocks():
        finite &= np.isfinite(block).all(axis=0)
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
        raise InputError(_missing_message(columns.names, finite, path))
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

    from ._cli import _prepare_maps

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
    from ._files import replacing

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
        from ._cli import _embedding_frame
        from ._spreadsheet import spreadsheet_safe_frame

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
