"""``ae-reduce embed`` on files larger than memory.

Two independent choices keep memory flat without changing the result:

* **Reading.** A ``.csv`` or ``.parquet`` file of at least ``_cli.STREAM_BYTES`` is read
  batch by batch through ``pyarrow.dataset`` (when pyarrow is installed and no t-SNE map
  is asked for) instead of whole through pandas. Both readers give the same numbers,
  apply the same checks, and read the label and id columns alike (through pandas, those
  columns only).
* **Training.** Features larger than ``_cli.IN_MEMORY_BYTES`` as float32, whichever
  reader read them, are scaled block by block into a temporary float32 file that
  the network trains from, and the embedding is written block by block. Smaller
  features are trained in memory, as before, whichever reader read them.

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

_CSV_CONVERSION = re.compile(r"In CSV column #(\d+):.*invalid value '(.*)'", re.DOTALL)


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
    """

    dtype = np.dtype(np.float64)

    def __init__(self, dataset, path, names):
        self.dataset = dataset
        self.path = path
        self.names = names
        self.shape = (0, len(names))
        #: The scaling, fitted by the reading pass that counts the rows (None for none).
        self.scaler = None

    def blocks(self):
        """C-ordered float64 blocks of :data:`CHUNK_ROWS` rows, in order; nulls are NaN."""
        from . import _arrow
        from ._cli import InputError

        try:
            for _, block in _arrow.blocks(self.dataset, np.float64, columns=self.names):
                yield block
        except ValueError as error:
            found = _CSV_CONVERSION.search(str(error))
            if found is None:
                raise InputError(f"could not read {self.path}: {error}") from error
            column = self.dataset.schema.names[int(found.group(1))]
            raise InputError(_not_numeric(column, self.path, found.group(2))) from None


def _not_numeric(column, path, example, n_bad=1, bad=()):
    # The message of the in-memory reader, word for word.
    return (
        f"column {column!r} of {path} is not numeric (for example {example!r}); "
        + (f"{n_bad} such columns: {', '.join(bad[:10])}. " if n_bad > 1 else "")
        + "Encode it as numbers, leave it out with --drop-columns, or name it with "
        "--label-column or --id-column."
    )


def _array_blocks(X):
    """C-ordered float64 blocks of :data:`CHUNK_ROWS` rows of an array or memory map."""
    for block in Source(X, file=_file_backing(X)).chunks(CHUNK_ROWS, dtype=np.float64):
        yield np.ascontiguousarray(block)


def _open_dataset(path, suffix, label_column, id_column):
    """A dataset over the file whose feature columns convert as pandas converts them.

    CSV types are guessed by Arrow from the file's first block: numeric columns are read
    as float64, so that a decimal point further down is not a conversion error; the
    label and id columns are read as text (the features are all that this reads).
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.dataset as ds

    if suffix == ".parquet":
        return ds.dataset(path, format="parquet")
    # The columns are named as pandas names them, so that --drop-columns "Unnamed: 0"
    # (the index column that DataFrame.to_csv writes) and a repeated name ("a.1")
    # mean what they mean to the in-memory reader; Arrow refuses repeated names.
    read_options = pcsv.ReadOptions(column_names=_csv_header(path), skip_rows=1)
    guessed = ds.dataset(path, format=ds.CsvFileFormat(read_options=read_options))
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
        path, format=ds.CsvFileFormat(read_options=read_options, convert_options=options)
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


def _first_value(dataset, column):
    for batch in dataset.to_batches(columns=[column]):
        values = batch.column(0).drop_null()
        if len(values):
            return values[0].as_py()
    return None


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

    try:
        dataset = _open_dataset(path, suffix, label_column, id_column)
    except (OSError, ValueError) as error:
        raise InputError(f"could not read {path}: {error}") from error
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
        example = _first_value(dataset, bad[0])
        raise InputError(_not_numeric(bad[0], path, example, len(bad), bad))
    if not names:
        raise InputError(
            f"{path} has no feature columns left"
            + (" once --drop-columns are dropped" if drop_columns else "")
        )
    X = _first_pass(Columns(dataset, path, names), path, scaler)
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
    with tempfile.TemporaryDirectory(prefix="ae-reduce-") as temporary:
        path = os.path.join(temporary, "scaled.float32")
        with open(path, "wb") as handle:
            for block in blocks():
                if scaler is not None:
                    block = scaler.transform(block)
                handle.write(np.ascontiguousarray(block, dtype=np.float32))
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
