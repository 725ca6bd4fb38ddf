"""Data feeding: arrays, data frames, memory maps and sparse matrices to float32 batches.

Keras computes in float32, so every source hands out float32 rows. Dense in-memory data
goes to ``keras.Model.fit`` as arrays (the fastest path); sparse matrices and file-backed
memory maps are read batch by batch through a ``keras.utils.PyDataset`` and are never
densified or loaded whole.
"""

import contextlib
import mmap
import os

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite

#: Rows per block when data is read in pieces for inference or checks.
CHUNK_ROWS = 8192

#: Largest subset of a file-backed source (a cross-fitting fold), in float32 bytes, that
#: is read into memory rather than read from the file batch by batch.
IN_MEMORY_SUBSET_BYTES = 64 * 2**20

#: Stand-in for "the target is the input itself" (autoencoders).
RECONSTRUCT = "reconstruct"


class Source:
    """Validated input data that hands out float32 rows.

    Parameters
    ----------
    data : ndarray or scipy.sparse.csr_matrix
        The validated data. For a file-backed source this stands in for the file's
        rows and is used only for its shape and dtype.
    file : tuple of (str, int) or None
        Path and byte offset of a C-ordered file that backs ``data``; rows are then read
        with ``os.pread`` so that the mapping's pages never count against memory.
    dtype : numpy dtype, default=None
        dtype of what is computed from the rows (embeddings, scores). By default
        float32 for float32 data and float64 otherwise, as scikit-learn's transformers
        do.
    handle : file object, default=None
        An open file (a temporary one, which may have no name) read instead of the path
        in ``file``. It belongs to this source: :meth:`close` closes it.
    """

    def __init__(self, data, file=None, *, dtype=None, handle=None):
        self.data = data
        self.file = file
        self.handle = handle
        self.n_samples, self.n_features = data.shape
        if dtype is None:
            dtype = np.float32 if data.dtype == np.float32 else np.float64
        self.dtype = dtype
        # Rows of the file that this source stands for, in order; None for all of them.
        self._index = None
        #: The smallest and largest value, where the input check measured them; None
        #: elsewhere (a subset, an Arrow source).
        self.value_range = None
        self._owns_handle = handle is not None

    @property
    def in_memory_dense(self):
        """Whether the data is a dense array that can be given to Keras whole."""
        return self.file is None and not sp.issparse(self.data)

    def rows(self, start, stop, dtype=np.float32):
        """Return rows ``start:stop`` as a dense array of ``dtype``."""
        if self.file is not None:
            if self._index is None:
                return self._read(start, stop).astype(dtype, copy=False)
            return self._gather(self._index[start:stop]).astype(dtype, copy=False)
        block = self.data[start:stop]
        if sp.issparse(block):
            block = block.toarray()
        return np.asarray(block, dtype=dtype)

    def take(self, indices):
        """Return the rows at ``indices``, in that order, as a dense float32 array."""
        indices = np.asarray(indices, dtype=np.intp)
        if self.file is None:
            block = self.data[indices]
            if sp.issparse(block):
                block = block.toarray()
            return np.asarray(block, dtype=np.float32)
        if self._index is not None:
            indices = self._index[indices]
        return self._gather(indices).astype(np.float32, copy=False)

    def subset(self, rows):
        """Return a :class:`Source` of the given rows.

        Rows in memory are copied, and so are the rows of a file up to
        :data:`IN_MEMORY_SUBSET_BYTES` as float32: they then train in whole-epoch graphs,
        far faster on small data than ``keras.Model.fit``. A larger subset of a file is
        a view that reads the given rows from the same file, so that it is never loaded
        whole.
        """
        if self.file is None:
            return Source(self.data[rows])
        if len(rows) * self.n_features * 4 <= IN_MEMORY_SUBSET_BYTES:
            return Source(self.take(rows), dtype=self.dtype)
        view = Source(self.data, self.file, dtype=self.dtype, handle=self.handle)
        rows = np.asarray(rows, dtype=np.intp)
        view._index = rows if self._index is None else self._index[rows]
        view.n_samples = len(view._index)
        view._owns_handle = False
        return view

    def chunks(self, size=CHUNK_ROWS, dtype=np.float32):
        """Yield consecutive dense blocks of at most ``size`` rows, as ``dtype``."""
        for start in range(0, self.n_samples, size):
            yield self.rows(start, min(start + size, self.n_samples), dtype)

    def close(self):
        """Close the file that this source owns, if any (a temporary file is deleted)."""
        if self._owns_handle:
            self.handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()

    @contextlib.contextmanager
    def _descriptor(self):
        if self.handle is not None:
            yield self.handle.fileno()
            return
        with open(self.file[0], "rb") as opened:
            yield opened.fileno()

    def _read(self, start, stop):
        """Rows ``start:stop`` of the file, in its own dtype."""
        out = np.empty((stop - start, self.n_features), dtype=self.data.dtype)
        with self._descriptor() as descriptor:
            self._fill(descriptor, out, start)
        return out

    def _gather(self, indices):
        """The file's rows at ``indices``, in that order and in the file's own dtype.

        Each run of consecutive rows is read straight into the output with one system
        call: a shuffled mini-batch costs one call per row and no intermediate copies.
        """
        out = np.empty((len(indices), self.n_features), dtype=self.data.dtype)
        if not len(indices):
            return out
        breaks = np.flatnonzero(np.diff(indices) != 1) + 1
        starts = np.concatenate([[0], breaks]).tolist()
        stops = np.concatenate([breaks, [len(indices)]]).tolist()
        with self._descriptor() as descriptor:
            for begin, end, row in zip(starts, stops, indices[starts].tolist(), strict=True):
                self._fill(descriptor, out[begin:end], row)
        return out

    def _fill(self, descriptor, out, first_row):
        """Read rows from ``first_row`` on into the C-contiguous array ``out``."""
        path, offset = self.file
        view = memoryview(out).cast("B")
        position = offset + first_row * out.itemsize * self.n_features
        done = 0
        # One call returns at most about 2 GB on Linux: a large read takes several.
        while done < len(view):
            count = _read_into(descriptor, view[done:], position + done)
            if count == 0:
                raise OSError(f"{path} is shorter than its memory map says; was it truncated?")
            done += count


def _read_into(descriptor, buffer, position):
    if hasattr(os, "preadv"):
        return os.preadv(descriptor, [buffer], position)
    data = os.pread(descriptor, len(buffer), position)
    buffer[: len(data)] = data
    return len(data)


#: numpy.memmap modes whose pages are the file's: reading the file reads the array.
_SHARED_MODES = frozenset({"r", "r+", "w+"})


def _maps_file(address, path):
    """Whether the mapping at ``address`` is still the file now at ``path``.

    A file replaced since it was mapped (renamed over, as atomic writers do) keeps the
    old contents in the mapping; the file at ``path`` would then be the wrong data.
    Linux's ``/proc/self/maps`` names the mapped inode; elsewhere the path is trusted.
    """
    try:
        status = os.stat(path)
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                start, stop = (int(bound, 16) for bound in fields[0].split("-"))
                if start <= address < stop:
                    return int(fields[4]) == status.st_ino
    except (OSError, ValueError, IndexError):
        return True
    return True


def file_backing(X):
    """Return ``(path, byte_offset)`` of a C-ordered file-backed memmap, else None."""
    mapping = getattr(X, "_mmap", None)
    path = getattr(X, "filename", None)
    if not isinstance(X, np.memmap) or mapping is None or path is None:
        return None
    if X.ndim != 2 or not X.flags.c_contiguous or X.dtype not in (np.float32, np.float64):
        return None
    # A copy-on-write map ("c") holds the caller's edits in private pages that the file
    # never sees: its values must be read through the mapping.
    if getattr(X, "mode", None) not in _SHARED_MODES:
        return None
    try:
        mapping_address = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
    except (TypeError, ValueError):  # a closed mapping
        return None
    if not _maps_file(mapping_address, path):
        return None
    # numpy maps from the allocation boundary below the requested offset; a row slice of
    # a memmap starts further in. Both are recovered from the addresses.
    mapped_from = X.offset - X.offset % mmap.ALLOCATIONGRANULARITY
    return os.fspath(path), mapped_from + (X.ctypes.data - mapping_address)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def largest_magnitude(values):
    # max and -min spare the copy that np.abs would make of a large array.
    return float(max(values.max(), -values.min())) if values.size else 0.0


def range_of(values):
    """The smallest and largest value of an array, (0, 0) when it is empty."""
    return (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)


def check_float32_range(largest, dtype, name):
    """Reject finite values that float32, the network's precision, would make infinite."""
    if dtype == np.float64 and largest > FLOAT32_MAX:
        raise ValueError(
            f"Input {name} contains values too large for float32 (largest absolute value "
            f"{largest:.3g}, float32 holds up to {FLOAT32_MAX:.3g}); the network "
            "computes in float32. Scale the data, for example with StandardScaler."
        )


def check_file_in_chunks(estimator, source, name):
    """The checks ``validate_data`` would make, a block of rows at a time.

    Blocks are read in the file's own precision, so that a finite float64 value beyond
    float32's range is reported as such and not as the infinity a cast would make of it.
    """
    low, high = np.inf, -np.inf
    for start in range(0, source.n_samples, CHUNK_ROWS):
        block = source._read(start, min(start + CHUNK_ROWS, source.n_samples))
        assert_all_finite(block, estimator_name=type(estimator).__name__, input_name=name)
        block_low, block_high = range_of(block)
        low, high = min(low, block_low), max(high, block_high)
    check_float32_range(max(high, -low), source.data.dtype, name)
    source.value_range = (low, high)
