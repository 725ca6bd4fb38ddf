"""Apache Arrow input: pyarrow Tables in memory, pyarrow Datasets read batch by batch.

pyarrow is optional (the ``arrow`` extra) and is never imported to find out whether an
input is an Arrow object: the module of its type tells, and whoever holds an Arrow
object has imported pyarrow already.

A Dataset given to ``fit`` is read once, in order and batch by batch, each batch
checked, into a temporary float32 file in :func:`tempfile.gettempdir` (``TMPDIR``).
Training then reads that file as it reads a file-backed memory map: shuffled
mini-batches need rows in random order, and decompressing Parquet row groups for every
mini-batch would be slow. The file has no name in the file system where the platform
allows it, and is deleted when ``fit`` ends, however it ends. ``transform`` and the
other methods that read rows once, in order, iterate over the dataset's batches.
"""

import errno
import shutil
import tempfile

import numpy as np
from sklearn.utils.validation import validate_data

from .source import CHUNK_ROWS, FLOAT32_MAX, Source, largest_magnitude

#: Record batches that a scan reads ahead of the one in use, and files it opens ahead.
#: Arrow's defaults (16 and 4) hold about twenty batches in memory at once; these keep
#: two or three, at little cost in speed with two to sixteen cores.
_BATCH_READAHEAD = 2
_FRAGMENT_READAHEAD = 1

#: Bytes read at a time from each column of a Parquet file. Arrow's dataset scanner
#: reads whole row groups: scanning 512 float32 columns raised the peak memory by
#: 0.6 GB for row groups of 65,536 rows (1.4 GB with its pre-buffering) and 1.3 GB for
#: one of 524,288 rows, against 0.2 GB for both when each file is read with this buffer.
_PARQUET_BUFFER = 64 * 1024

#: Formats whose files record their number of rows, so that counting reads no data.
_COUNTED_FORMATS = frozenset({"ParquetFileFormat", "IpcFileFormat", "FeatherFileFormat"})


def _defined_in(X, module, names):
    return any(cls.__module__ == module and cls.__name__ in names for cls in type(X).__mro__)


def is_dataset(X):
    """Whether `X` is a ``pyarrow.dataset.Dataset``, without importing pyarrow."""
    return _defined_in(X, "pyarrow._dataset", {"Dataset"})


def is_table(X):
    """Whether `X` is a ``pyarrow.Table`` or ``pyarrow.RecordBatch``, without importing
    pyarrow."""
    return _defined_in(X, "pyarrow.lib", {"Table", "RecordBatch"})


def _estimator_name(estimator):
    return type(estimator).__name__


def numeric_dtype(schema, estimator, name="X"):
    """The output dtype for columns of `schema`, which must all be numeric.

    Integer, floating-point and boolean columns are accepted, as scikit-learn accepts
    them in a data frame; float32 is kept when every column is float32, anything else
    gives float64.

    Raises
    ------
    ValueError
        Naming the first column of another type.
    """
    import pyarrow as pa

    for field in schema:
        kind = field.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            continue
        if pa.types.is_boolean(kind) or pa.types.is_null(kind):
            continue  # a column of nulls only is refused, by row, when it is read
        raise ValueError(
            f"Column {field.name!r} of {name} has type {kind}, which is not numeric: "
            f"{_estimator_name(estimator)} needs numbers (integers, floats or booleans) "
            "in every column. Encode the column as numbers, or leave it out of the "
            "dataset's schema, for example with "
            "pyarrow.dataset.dataset(source, schema=schema_without_it)."
        )
    if len(schema) and all(field.type == pa.float32() for field in schema):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _check_names(estimator, schema, reset):
    """Set or check ``n_features_in_`` and ``feature_names_in_`` as for a data frame.

    An empty table with the dataset's schema carries its column names and count, and
    lets scikit-learn's own checks (and messages) apply without reading any row.
    """
    validate_data(estimator, schema.empty_table(), reset=reset, skip_check_array=True)


def _refuse_nulls(batch, first_row, name, estimator):
    for position, column in enumerate(batch.columns):
        if column.null_count:
            missing = column.is_null().to_numpy(zero_copy_only=False)
            row = first_row + int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"Input {name} contains missing values (nulls): column "
                f"{batch.schema.names[position]!r}, first in row {row}. "
                f"{_estimator_name(estimator)} does not accept missing values; impute "
                "them, or drop the rows that have them, first."
            )


def _to_array(batch, dtype):
    """A record batch as a C-ordered 2-D array of `dtype`; nulls become NaN."""
    import pyarrow as pa

    kinds = set(batch.schema.types)
    if len(kinds) == 1 and kinds <= {pa.float32(), pa.float64()} and hasattr(batch, "to_tensor"):
        # Arrow's own row-major copy: 7 times faster than filling the rows column by
        # column on 512 float32 columns (older pyarrow has no to_tensor).
        tensor = batch.to_tensor(null_to_nan=True, row_major=True)
        return tensor.to_numpy().astype(dtype, copy=False)
    # Filled by columns, each a contiguous write, then copied to rows once.
    out = np.empty((batch.num_rows, batch.num_columns), dtype=dtype, order="F")
    for position, column in enumerate(batch.columns):
        if column.null_count:
            column = column.cast(pa.float64(), safe=False).fill_null(np.nan)
        out[:, position] = column.to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(out)


def check_values(block, first_row, columns, name, estimator):
    """Refuse NaN, infinity, and values that float32 would make infinite.

    The message names the first offending row (counting from 0 over the whole input)
    and its column.
    """
    finite = np.isfinite(block)
    if not finite.all():
        row, position = divmod(int(np.argmin(finite)), block.shape[1])
        what = "NaN" if np.isnan(block[row, position]) else "infinity"
        raise ValueError(
            f"Input {name} contains {what}: column {columns[position]!r}, first in row "
            f"{first_row + row}. {_estimator_name(estimator)} needs finite values; "
            "impute or drop them first."
        )
    if block.dtype == np.float64 and largest_magnitude(block) > FLOAT32_MAX:
        large = np.abs(block) > FLOAT32_MAX
        row, position = divmod(int(np.argmax(large)), block.shape[1])
        raise ValueError(
            f"Input {name} contains values too large for float32: column "
            f"{columns[position]!r}, first in row {first_row + row} "
            f"({block[row, position]:.3g}; float32 holds up to {FLOAT32_MAX:.3g}); the "
            "network computes in float32. Scale the data, for example with "
            "StandardScaler."
        )


def scan(dataset, columns=None, batch_rows=CHUNK_ROWS):
    """Record batches of `dataset`'s `columns`, in the dataset's order, in little memory.

    Parquet files whose columns are stored as the dataset types them are read file by
    file with a small read buffer (see :data:`_PARQUET_BUFFER`); other datasets
    (partitioned ones, other formats) through Arrow's scanner with little read-ahead.
    """
    import pyarrow.dataset as ds

    columns = dataset.schema.names if columns is None else list(columns)
    fragments = _plain_parquet_fragments(dataset, columns)
    if fragments is not None:
        return _read_parquet(dataset, fragments, columns, batch_rows)
    options = {}
    if type(getattr(dataset, "format", None)).__name__ == "ParquetFileFormat":
        options["fragment_scan_options"] = ds.ParquetFragmentScanOptions(pre_buffer=False)
    return dataset.to_batches(
        columns=columns,
        batch_size=batch_rows,
        batch_readahead=_BATCH_READAHEAD,
        fragment_readahead=_FRAGMENT_READAHEAD,
        **options,
    )


def _plain_parquet_fragments(dataset, columns):
    """The files of a dataset of Parquet files that store `columns` with the dataset's
    types, or None when the dataset is anything else."""
    if type(dataset).__name__ != "FileSystemDataset":
        return None
    if type(dataset.format).__name__ != "ParquetFileFormat":
        return None
    fragments = list(dataset.get_fragments())
    for fragment in fragments:
        stored = fragment.physical_schema
        for name in columns:
            if stored.get_field_index(name) < 0:
                return None  # a partition key, or a column some files lack
            if stored.field(name).type != dataset.schema.field(name).type:
                return None  # the scanner would cast it
    return fragments


def _read_parquet(dataset, fragments, columns, batch_rows):
    import pyarrow.parquet as pq

    for fragment in fragments:
        row_groups = [group.id for group in fragment.row_groups]
        with dataset.filesystem.open_input_file(fragment.path) as source:
            reader = pq.ParquetFile(source, pre_buffer=False, buffer_size=_PARQUET_BUFFER)
            yield from reader.iter_batches(
                batch_size=batch_rows, columns=columns, row_groups=row_groups
            )


def blocks(dataset, dtype, *, columns=None, rows=CHUNK_ROWS, check_batch=None, prepare=None):
    """Yield ``(first_row, array)``: `dataset` in order, in blocks of exactly `rows` rows.

    The last block may be shorter. Block boundaries do not depend on how the files are
    cut into row groups or batches, so sums over blocks come out the same whichever
    reader produced the rows.

    Parameters
    ----------
    dataset : pyarrow.dataset.Dataset
        The data; every column read must be numeric.
    dtype : numpy dtype
        dtype of the blocks; nulls become NaN.
    columns : list of str, default=None
        Columns to read, in this order; None reads the dataset's schema.
    rows : int, default=CHUNK_ROWS
        Rows per block.
    check_batch : callable, default=None
        Called as ``check_batch(batch, first_row)`` on every record batch before it is
        converted.
    prepare : callable, default=None
        Called as ``prepare(batch)`` on every record batch first; returns the batch to
        use instead, whose columns are numeric (it may leave rows out).
    """
    pending, n_pending, first_row = [], 0, 0
    seen = 0
    for batch in scan(dataset, columns, rows):
        if prepare is not None:
            batch = prepare(batch)
        if not batch.num_rows:
            continue
        if check_batch is not None:
            check_batch(batch, seen)
        seen += batch.num_rows
        pending.append(_to_array(batch, dtype))
        n_pending += batch.num_rows
        while n_pending >= rows:
            joined = pending[0] if len(pending) == 1 else np.concatenate(pending)
            yield first_row, joined[:rows]
            first_row += rows
            rest = joined[rows:]
            pending, n_pending = ([rest], len(rest)) if len(rest) else ([], 0)
    if n_pending:
        yield first_row, pending[0] if len(pending) == 1 else np.concatenate(pending)


def _empty_message(estimator, n_features):
    return (
        f"Found array with 0 sample(s) (shape=(0, {n_features})) while a minimum of 1 is "
        f"required by {_estimator_name(estimator)}."
    )


def _checked_blocks(estimator, dataset, dtype, name, rows=CHUNK_ROWS):
    """:func:`blocks` with every batch and block checked as ``validate_data`` checks."""
    columns = dataset.schema.names

    def refuse_nulls(batch, first_row):
        _refuse_nulls(batch, first_row, name, estimator)

    n_rows = 0
    for first_row, block in blocks(dataset, dtype, rows=rows, check_batch=refuse_nulls):
        check_values(block, first_row, columns, name, estimator)
        n_rows += len(block)
        yield block
    if n_rows == 0:
        raise ValueError(_empty_message(estimator, len(columns)))


def _counted_rows(dataset):
    """The number of rows when the files record it (Parquet, Arrow IPC), else None."""
    fmt = getattr(dataset, "format", None)
    if type(dataset).__name__ == "InMemoryDataset" or type(fmt).__name__ in _COUNTED_FORMATS:
        return dataset.count_rows()
    return None


def _space_message(folder, needed, free, n_features):
    return (
        f"fit copies the dataset's {n_features} columns to a temporary float32 file in "
        f"{folder}, which needs about {needed / 1e9:.2f} GB, but only {free / 1e9:.2f} "
        "GB are free there. Point the TMPDIR environment variable (before Python "
        "starts) or tempfile.tempdir at a folder with enough space."
    )


def _copy_to_temporary_file(estimator, dataset, dtype, name):
    """Read `dataset` once, checking it, into a temporary float32 file; return its Source."""
    folder = tempfile.gettempdir()
    n_features = len(dataset.schema)
    expected = _counted_rows(dataset)
    if expected is not None:
        needed, free = expected * n_features * 4, shutil.disk_usage(folder).free
        if needed > free:
            raise OSError(errno.ENOSPC, _space_message(folder, needed, free, n_features))
    handle = tempfile.TemporaryFile(prefix="ae_reduce-", suffix=".float32")
    n_rows = 0
    try:
        for block in _checked_blocks(estimator, dataset, dtype, name):
            handle.write(np.ascontiguousarray(block, dtype=np.float32))
            n_rows += len(block)
        handle.flush()
    except OSError as error:
        handle.close()
        if error.errno == errno.ENOSPC:
            written = n_rows * n_features * 4
            raise OSError(
                errno.ENOSPC,
                f"The disk filled up after {written / 1e9:.2f} GB: "
                + _space_message(folder, max(written, 1), 0, n_features),
            ) from error
        raise
    except BaseException:
        handle.close()
        raise
    # Stands for the file's rows: its shape and dtype, and no memory.
    stand_in = np.broadcast_to(np.zeros((), dtype=np.float32), (n_rows, n_features))
    return Source(
        stand_in, file=(f"{folder}/(temporary copy of {name})", 0), dtype=dtype, handle=handle
    )


class DatasetSource:
    """A dataset's rows, in order, read batch by batch whenever they are iterated.

    Offers what inference needs of a :class:`~ae_reduce._io.source.Source`: ``chunks``,
    ``dtype`` and ``n_features``. Every batch is checked as it is read.

    Parameters
    ----------
    estimator : BaseEstimator
        Named in error messages.
    dataset : pyarrow.dataset.Dataset
        The rows.
    dtype : numpy dtype
        dtype of what is computed from the rows.
    name : str
        Name of the input in error messages.
    """

    in_memory_dense = False
    file = None

    def __init__(self, estimator, dataset, dtype, name):
        self.estimator = estimator
        self.dataset = dataset
        self.dtype = dtype
        self.name = name
        self.n_features = len(dataset.schema)
        self._n_samples = None

    @property
    def n_samples(self):
        """Number of rows (counting them reads a CSV file through)."""
        if self._n_samples is None:
            self._n_samples = self.dataset.count_rows()
        return self._n_samples

    def chunks(self, size=CHUNK_ROWS, dtype=np.float32):
        """Yield consecutive checked blocks of at most ``size`` rows, as ``dtype``."""
        read_as = np.float64 if self.dtype == np.float64 else np.float32
        for block in _checked_blocks(self.estimator, self.dataset, read_as, self.name, size):
            yield block.astype(dtype, copy=False)

    def close(self):
        """Nothing to release: the dataset's files are the user's."""

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def dataset_source(estimator, dataset, *, reset, name="X"):
    """Check a dataset's columns and wrap it for ``fit`` (``reset``) or inference.

    Parameters
    ----------
    estimator : BaseEstimator
        ``n_features_in_`` and ``feature_names_in_`` are set on it when ``reset`` is
        true and checked against otherwise, as for a data frame.
    dataset : pyarrow.dataset.Dataset
        The data.
    reset : bool
        True in ``fit``: the rows are copied, checked, to a temporary float32 file.
        False afterwards: they are read as they are used.
    name : str, default="X"
        Name of the input in error messages.

    Returns
    -------
    source : Source or DatasetSource
        The rows.
    """
    dtype = numeric_dtype(dataset.schema, estimator, name)
    if not len(dataset.schema):
        raise ValueError(
            f"Found array with 0 feature(s) (shape=({dataset.count_rows()}, 0)) while a "
            f"minimum of 1 is required by {_estimator_name(estimator)}."
        )
    _check_names(estimator, dataset.schema, reset)
    if reset:
        return _copy_to_temporary_file(estimator, dataset, dtype, name)
    return DatasetSource(estimator, dataset, dtype, name)


def unnamed_dataset_source(estimator, dataset, name="X"):
    """A dataset's rows for inference, without the checks of feature names and width
    that :func:`dataset_source` makes (codes, for example, have names of their own)."""
    return DatasetSource(estimator, dataset, numeric_dtype(dataset.schema, estimator, name), name)


def table_source(estimator, table, *, reset, name="X"):
    """Check an in-memory table's columns and rows, and convert it through numpy.

    Non-numeric columns, nulls and non-finite values are refused by column and first
    row. The column names become ``feature_names_in_`` as a data frame's do, and
    float32 columns stay float32.

    Returns
    -------
    source : Source
        The rows, in memory.
    """
    dtype = numeric_dtype(table.schema, estimator, name)
    n_rows, n_features = table.num_rows, table.num_columns
    if not n_features:
        raise ValueError(
            f"Found array with 0 feature(s) (shape=({n_rows}, 0)) while a minimum of 1 is "
            f"required by {_estimator_name(estimator)}."
        )
    if not n_rows:
        raise ValueError(_empty_message(estimator, n_features))
    _check_names(estimator, table.schema, reset)
    batches = table.to_batches(CHUNK_ROWS) if hasattr(table, "to_batches") else [table]
    out = np.empty((n_rows, n_features), dtype=dtype)
    first_row = 0
    for batch in batches:
        _refuse_nulls(batch, first_row, name, estimator)
        block = _to_array(batch, dtype)
        check_values(block, first_row, table.schema.names, name, estimator)
        out[first_row : first_row + len(block)] = block
        first_row += len(block)
    return Source(out)
