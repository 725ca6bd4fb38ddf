"""Sizes that decide how ``embed`` reads and trains; read at call time, as
``settings.NAME``, so that tests can make a small file take the paths of a large one."""

from .._io.source import CHUNK_ROWS

#: ``embed`` reads a .csv or .parquet file of at least this many bytes batch by batch.
STREAM_BYTES = 64 * 2**20

#: ``embed`` trains from a temporary file when the features take more than this many
#: bytes as float32.
IN_MEMORY_BYTES = 128 * 2**20

#: Rows embedded and written at a time when training from a file.
OUTPUT_ROWS = 16 * CHUNK_ROWS
