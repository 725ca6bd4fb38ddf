"""Opening a CSV file: compressed or not, with a header line or without.

A ``.csv`` file may be compressed with gzip (``.csv.gz``), bzip2 (``.csv.bz2``) or
Zstandard (``.csv.zst``): Python's own modules read and write the first two, pyarrow (the
``arrow`` extra) the third. Both readers of ``ae-reduce embed`` open such a file here,
or through Arrow, which reads the three by their extension, so that they see the same
text; a ``.csv`` output so named is written compressed (:func:`open_for_writing`).
Parquet files compress their columns themselves (snappy, gzip, zstd, brotli) and are
read as they are.

A file without a header line (``--no-header``) has its columns named by position,
``0`` to ``n - 1``, as a ``.npy`` file has.
"""

import contextlib
from pathlib import Path

from .errors import InputError

#: The extension of a compressed CSV file, and the name of its compression to Arrow.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}

#: The compressed CSV files that both readers read.
COMPRESSED_CSV = tuple(f".csv{suffix}" for suffix in COMPRESSIONS)

#: The compressions as users know them, for messages.
_KNOWN_AS = {"gzip": "gzip", "bz2": "bzip2", "zstd": "Zstandard"}


def compression(path):
    """The compression of a ``.csv.gz``, ``.csv.bz2`` or ``.csv.zst`` file (Arrow's name
    for it: ``"gzip"``, ``"bz2"`` or ``"zstd"``), or None for any other file."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes[-2:]]
    if len(suffixes) == 2 and suffixes[0] == ".csv":
        return COMPRESSIONS.get(suffixes[1])
    return None


#: The first bytes of a file of each compression.
_MAGIC = {"gzip": b"\x1f\x8b", "bz2": b"BZh", "zstd": b"\x28\xb5\x2f\xfd"}


def unreadable_message(path, error):
    """The message about `error`, met while reading `path`: for a compressed file, that
    it is not compressed as its name says when its first bytes are not those of its
    compression, else the question of whether it is whole, as a truncated file is the
    usual cause."""
    codec = compression(path)
    if codec is not None and not _starts_as(path, codec):
        extension = Path(path).suffix
        return (
            f"could not read {path}: it is not a {_KNOWN_AS[codec]} file, as its "
            f"extension {extension} says (if it is plain text, name it .csv)"
        )
    message = f"could not read {path}: {error}"
    if codec is not None:
        message += f" (is it a complete {_KNOWN_AS[codec]} file?)"
    return message


def _starts_as(path, codec):
    """Whether the file at `path` begins with the bytes of `codec`'s files."""
    magic = _MAGIC[codec]
    try:
        with open(path, "rb") as handle:
            return handle.read(len(magic)) == magic
    except OSError:
        return True


def _pyarrow_for(path):
    try:
        import pyarrow
    except ImportError:
        raise InputError(
            f"{path}: Zstandard compression needs pyarrow: pip install 'ae-reduce[arrow]'"
        ) from None
    return pyarrow


def check_codec(path):
    """Refuse, in one line, a compressed file whose library is missing."""
    if compression(path) == "zstd":
        _pyarrow_for(path)


@contextlib.contextmanager
def open_binary(path):
    """The bytes of a CSV file, decompressed when it is compressed."""
    import bz2
    import gzip

    codec = compression(path)
    if codec == "gzip":
        handle = gzip.open(path, "rb")
    elif codec == "bz2":
        handle = bz2.open(path, "rb")
    elif codec == "zstd":
        handle = _pyarrow_for(path).input_stream(str(path), compression="zstd")
    else:
        handle = open(path, "rb")
    with handle:
        yield handle


@contextlib.contextmanager
def open_text(path):
    """The text of a CSV file, decompressed, as the :mod:`csv` module reads it: UTF-8
    with or without a byte-order mark, undecodable bytes replaced."""
    import io

    with open_binary(path) as handle:
        yield io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")


@contextlib.contextmanager
def open_for_writing(path, codec=None):
    """A text file, in UTF-8, at `path`, compressed with `codec` (a value of
    :data:`COMPRESSIONS`, or None for none).

    A gzip file records no name and no time, so that the same rows make the same bytes
    (the file is written under a temporary name and renamed).
    """
    import bz2
    import gzip
    import io

    if codec == "zstd":
        raw = _pyarrow_for(path).output_stream(str(path), compression="zstd")
    else:
        raw = open(path, "wb")
    with contextlib.ExitStack() as stack:
        stack.enter_context(raw)
        stream = raw
        if codec == "gzip":
            stream = stack.enter_context(gzip.GzipFile("", "wb", fileobj=raw, mtime=0))
        elif codec == "bz2":
            stream = stack.enter_context(bz2.BZ2File(raw, "wb"))
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        try:
            yield text
            text.flush()
        finally:
            # Let go of, so that the stack closes the streams beneath it, in order.
            with contextlib.suppress(ValueError, OSError):
                text.detach()


def first_fields(path):
    """The fields of the first line of a CSV file that is not blank, or None when it has
    none.

    Raises
    ------
    InputError
        When the file cannot be decompressed.
    """
    import csv

    try:
        with open_text(path) as text:
            for fields in csv.reader(text):
                if fields and not (len(fields) == 1 and not fields[0].strip()):
                    return fields
    except csv.Error:
        return None
    except (OSError, EOFError, ValueError) as error:
        raise InputError(unreadable_message(path, error)) from None
    return None


def positions(path):
    """The names of the columns of a CSV file without a header: ``"0"`` to ``"n-1"``, n
    being the number of fields of its first line."""
    fields = first_fields(path)
    if fields is None:
        raise InputError(f"{path} holds no table: not even one line")
    return [str(index) for index in range(len(fields))]


def read_csv(path, no_header=False, **options):
    """``pandas.read_csv`` of a CSV file, compressed or not, with or without a header.

    Parameters
    ----------
    path : str
        The file.
    no_header : bool, default=False
        Whether the first line is data; the columns are then named by position.
    **options
        Passed to ``pandas.read_csv``.
    """
    import pandas as pd

    if no_header:
        options = {"header": None, "names": positions(path), **options}
    if compression(path) is None:
        return pd.read_csv(path, **options)
    with open_binary(path) as handle:
        return pd.read_csv(handle, **options)
