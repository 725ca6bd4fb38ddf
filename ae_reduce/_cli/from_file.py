"""Training from a temporary file: ``embed`` on features too large to train in memory.

The features are scaled block by block into a temporary float32 file that the network
trains from, and the embedding is written block by block. The temporary file has no
name where the system allows it (see :func:`_scratch_file`), so that not even a killed
process leaves it behind.
"""

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from .._io.source import CHUNK_ROWS, Source, file_backing
from . import settings
from .csv_files import compression, open_for_writing
from .outputs import embedding_frame, prepare_maps
from .streaming import Columns


def embed_from_file(args, progress, X, labels, ids, pipeline, names):
    """Scale `X` into a temporary file, train from it and write the embedding.

    Returns
    -------
    Z : ndarray or None
        The embedding when ``--plot`` or ``--html`` need it in memory.
    prepared : object
        What :func:`ae_reduce._cli.outputs.prepare_maps` returned.
    """
    from sklearn.base import clone

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
        step = settings.OUTPUT_ROWS
        if args.supervised:
            whole = reducer.fit_transform(scaled, y)
            pieces = (whole[s : s + step] for s in range(0, n_rows, step))
        else:
            reducer.fit(scaled)
            pieces = (reducer.transform(scaled[s : s + step]) for s in range(0, n_rows, step))
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
            prepared = prepare_maps(args, Z, labels)
        del scaled
    return Z, prepared


def _array_blocks(X):
    """C-ordered float64 blocks of :data:`CHUNK_ROWS` rows of an array or memory map."""
    for block in Source(X, file=file_backing(X)).chunks(CHUNK_ROWS, dtype=np.float64):
        yield np.ascontiguousarray(block)


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

    Each row is written as ``write_embedding`` writes it whole: a ``.npy`` array, or
    a table with the id column first and the label column last.
    """
    from .._utils.files import replacing

    path = args.output
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    codec = compression(path)
    suffix = ".csv" if codec is not None else Path(path).suffix.lower()
    with replacing(path) as temporary:
        if suffix == ".npy":
            writer = _NpyWriter(temporary, (n_rows, len(names)), dtype)
        else:
            writer = _TableWriter(
                temporary, suffix, names, labels, args.label_column, ids, args.id_column, codec
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
    def __init__(self, path, suffix, names, labels, label_column, ids, id_column, codec=None):
        self.path = path
        self.csv = suffix == ".csv"
        self.names = names
        self.labels, self.label_column = labels, label_column
        self.ids, self.id_column = ids, id_column
        self.n_written = 0
        # A .csv file, compressed as `codec` says (None for not at all).
        self.files = contextlib.ExitStack()
        self.handle = self.files.enter_context(open_for_writing(path, codec)) if self.csv else None
        self.parquet = None

    def write(self, block):
        from .._utils.spreadsheet import spreadsheet_safe_frame

        rows = slice(self.n_written, self.n_written + len(block))
        frame = embedding_frame(
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
        self.files.close()
        if self.parquet is not None:
            self.parquet.close()
