"""Pretrained word vectors: read from GloVe or word2vec files, or given in memory.

A file (optionally gzip-compressed) is read once per process while a fitted
vectorizer uses it; vectors are checked (finite, one row per word) and fingerprinted
so that pickles can leave them out and still recognise them.
"""

import dataclasses
import gzip
import hashlib
import os
import threading
import warnings
import weakref
import zlib
from collections.abc import Mapping

import numpy as np

from .._utils.warnings import caller_stacklevel

#: Lines of a vector file converted to numbers at once.
_LINES_PER_CHUNK = 2048

#: Unknown or duplicate words quoted in a message.
EXAMPLES = 5

_GZIP_MAGIC = b"\x1f\x8b"

_UTF8_BOM = b"\xef\xbb\xbf"


@dataclasses.dataclass(eq=False)
class _WordVectors:
    """Words, their rows in a read-only float32 matrix, and a fingerprint of both."""

    words: list
    index: dict
    matrix: np.ndarray
    fingerprint: str


def fingerprint(words, matrix):
    """A digest of the words, in order, and of the matrix's float32 values."""
    digest = hashlib.blake2b(digest_size=16)
    encoded = [word.encode("utf-8", "surrogatepass") for word in words]
    digest.update(np.array(matrix.shape, dtype=np.int64).tobytes())
    # The lengths make the digest tell ["ab", "c"] from ["a", "bc"].
    digest.update(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)).tobytes())
    digest.update(b"".join(encoded))
    digest.update(memoryview(np.ascontiguousarray(matrix)).cast("B"))
    return digest.hexdigest()


def _assemble(words, matrix):
    matrix.flags.writeable = False
    return _WordVectors(
        words=words,
        index={word: row for row, word in enumerate(words)},
        matrix=matrix,
        fingerprint=fingerprint(words, matrix),
    )


def quote(items):
    return ", ".join(repr(item) for item in items[:EXAMPLES]) + (
        ", ..." if len(items) > EXAMPLES else ""
    )


def _warn_duplicates(duplicates, source):
    if duplicates:
        warnings.warn(
            f"{source} holds {len(duplicates)} duplicate word(s) ({quote(duplicates)}); "
            "the first vector of each word is kept and the later ones are ignored.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


# -- reading files ----------------------------------------------------------------------


def _open_binary(path):
    """Open `path` for reading bytes, through gzip when its first bytes say so."""
    handle = open(path, "rb")
    if handle.read(2) == _GZIP_MAGIC:
        handle.close()
        return gzip.open(path, "rb")
    handle.seek(0)
    return handle


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _word2vec_header(fields):
    """``(n_words, vector_size)`` when the first line is a word2vec header, else None."""
    if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
        return int(fields[0]), int(fields[1])
    return None


class _VectorFileReader:
    """Parse one GloVe or word2vec text file into words and a float32 matrix.

    Lines are taken in chunks. A chunk of plain lines (a word, one space, the values)
    is parsed by numpy's C reader; any other chunk (blank lines, tabs, words with
    spaces, a bad line) goes line by line, which finds the line to name in an error.
    """

    def __init__(self, path):
        self.path = path
        self.words = []
        self.index = {}
        self.duplicates = []
        self.blocks = []
        self.vector_size = None
        self.size_from = None
        self.declared_words = None
        self.n_vector_lines = 0

    def error(self, line_number, message):
        return ValueError(f"Word vectors file {self.path!r}, line {line_number}: {message}")

    def read(self, handle):
        chunk, first_number = [], None
        for line_number, line in enumerate(handle, start=1):
            if self.vector_size is None:
                if line_number == 1 and line.startswith(_UTF8_BOM):
                    # Files saved by some Windows editors start with one; left in
                    # place, it would become part of the first word.
                    line = line[len(_UTF8_BOM) :]
                # bytes.split() splits at ASCII white space only, so a word holding a
                # non-breaking or other Unicode space stays one word.
                fields = line.split()
                if fields and not self.first_line(fields, line_number):
                    self.add_lines([line], line_number)
                continue
            if not chunk:
                first_number = line_number
            chunk.append(line)
            if len(chunk) == _LINES_PER_CHUNK:
                self.add_lines(chunk, first_number)
                chunk = []
        if chunk:
            self.add_lines(chunk, first_number)
        return self.finish()

    def first_line(self, fields, line_number):
        """Take the vector size from the first line; True when that line is a header."""
        header = _word2vec_header(fields)
        if header is not None:
            self.declared_words, self.vector_size = header
            self.size_from = "the word2vec header on line 1"
            if self.vector_size < 1:
                raise self.error(line_number, "the header declares vectors of size 0.")
            return True
        if len(fields) < 2:
            raise self.error(line_number, "expected a word followed by its values.")
        self.vector_size = len(fields) - 1
        self.size_from = f"line {line_number}"
        return False

    def add_lines(self, lines, first_number):
        parsed = self.parse_plain(lines)
        if parsed is None:
            words, values, numbers = self.parse_line_by_line(lines, first_number)
        else:
            words, values = parsed
            numbers = range(first_number, first_number + len(lines))
        self.n_vector_lines += len(words)
        keep = np.ones(len(words), dtype=bool)
        for row, word in enumerate(words):
            if word in self.index:
                self.duplicates.append(word)
                keep[row] = False
            else:
                self.index[word] = len(self.index)
        if not keep.all():
            values = values[keep]
            words = [word for word, kept in zip(words, keep, strict=True) if kept]
            numbers = [number for number, kept in zip(numbers, keep, strict=True) if kept]
        finite = np.isfinite(values).all(axis=1)
        if not finite.all():
            row = int(np.flatnonzero(~finite)[0])
            raise self.error(
                numbers[row],
                f"the vector of {words[row]!r} holds a value that is not finite in float32 "
                "(nan, inf, or beyond +-3.4e38).",
            )
        self.words.extend(words)
        self.blocks.append(values)

    def parse_plain(self, lines):
        """Words and values of lines that are all ``word value value ...``, else None."""
        parts = [line.partition(b" ") for line in lines]
        try:
            words = [word.decode("utf-8") for word, _, _ in parts]
            with warnings.catch_warnings(), np.errstate(over="ignore"):
                warnings.simplefilter("ignore")  # loadtxt's "input contained no data"
                values = np.loadtxt(
                    [rest for _, _, rest in parts], dtype=np.float32, comments=None, ndmin=2
                )
        except ValueError:  # UnicodeDecodeError included
            return None
        if values.shape != (len(lines), self.vector_size):
            return None  # blank lines, or a row of another length
        if not all(word and not word.isspace() and len(word.split()) == 1 for word in words):
            return None  # a line that starts with white space, or a tab after the word
        return words, values

    def parse_line_by_line(self, lines, first_number):
        words, values, numbers = [], [], []
        for line_number, line in enumerate(lines, start=first_number):
            fields = line.split()
            if fields:
                words.append(self.word(fields, line_number))
                values.append(self.values(fields, line_number))
                numbers.append(line_number)
        return words, np.array(values, dtype=np.float32).reshape(-1, self.vector_size), numbers

    def word(self, fields, line_number):
        size = self.vector_size
        if len(fields) != size + 1:
            word_fields = fields[: len(fields) - size]
            # A few large GloVe files hold words with spaces (". . ."); their extra
            # fields are not numbers, while a row with extra values has numbers there.
            if len(fields) < size + 1 or any(map(_is_number, word_fields[1:])):
                raise self.error(
                    line_number,
                    f"expected a word and {size} values (the size that {self.size_from} "
                    f"gives), found {len(fields) - 1} fields after the first.",
                )
            word = b" ".join(word_fields)
        else:
            word = fields[0]
        try:
            return word.decode("utf-8")
        except UnicodeDecodeError as error:
            raise self.error(
                line_number,
                "the word is not UTF-8 text. Only the text formats of GloVe and word2vec "
                "are read (convert a binary word2vec file to text first).",
            ) from error

    def values(self, fields, line_number):
        try:
            with np.errstate(over="ignore"):
                return np.array(fields[-self.vector_size :], dtype=np.float32)
        except ValueError:
            for value in fields[-self.vector_size :]:
                if not _is_number(value):
                    raise self.error(
                        line_number, f"{value.decode(errors='replace')!r} is not a number."
                    ) from None
            raise

    def finish(self):
        if self.declared_words is not None and self.declared_words != self.n_vector_lines:
            raise ValueError(
                f"Word vectors file {self.path!r}: its word2vec header declares "
                f"{self.declared_words} words, but {self.n_vector_lines} vector lines "
                "follow it (a truncated file, or a wrong header)."
            )
        if not self.words:
            raise ValueError(f"Word vectors file {self.path!r} holds no word vectors.")
        _warn_duplicates(self.duplicates, f"Word vectors file {self.path!r}")
        matrix = np.concatenate(self.blocks) if len(self.blocks) > 1 else self.blocks[0]
        return _assemble(self.words, matrix)


def _read_vector_file(path):
    try:
        handle = _open_binary(path)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            error.errno, f"Word vectors file not found: {path!r}", error.filename
        ) from None
    with handle:
        try:
            return _VectorFileReader(path).read(handle)
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise ValueError(
                f"Word vectors file {path!r} is not a readable gzip file: {error}"
            ) from error


#: Vector files loaded in this process, kept while some fitted vectorizer holds them.
_LOADED_FILES = weakref.WeakValueDictionary()
_LOADED_FILES_LOCK = threading.Lock()


def _load_file(path):
    """The vectors of `path`, shared with any vectorizer that loaded the same file."""
    try:
        status = os.stat(path)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            error.errno, f"Word vectors file not found: {path!r}", error.filename
        ) from None
    key = (
        os.path.realpath(path),
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
    )
    with _LOADED_FILES_LOCK:
        loaded = _LOADED_FILES.get(key)
    if loaded is None:
        loaded = _read_vector_file(path)
        with _LOADED_FILES_LOCK:
            _LOADED_FILES[key] = loaded
    return loaded


# -- vectors given in memory --------------------------------------------------------------


def _check_words(words, source):
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"{source} must be str; found {word!r} ({type(word).__name__}).")


def _from_mapping(mapping):
    words = list(mapping)
    if not words:
        raise ValueError("vectors is an empty dict; it needs at least one word and its vector.")
    _check_words(words, "The words (keys) of vectors")
    rows = [np.asarray(row) for row in mapping.values()]
    shape = rows[0].shape
    for word, row in zip(words, rows, strict=True):
        if row.ndim != 1 or row.size == 0:
            raise ValueError(
                f"Every vector in vectors must be 1-D and non-empty, but vectors[{word!r}] "
                f"has shape {row.shape}."
            )
        if row.shape != shape:
            raise ValueError(
                "Every vector in vectors must be 1-D and of the same length: "
                f"vectors[{words[0]!r}] has shape {shape} and vectors[{word!r}] has shape "
                f"{row.shape}."
            )
        if not (np.issubdtype(row.dtype, np.number) or row.dtype == bool):
            raise ValueError(f"vectors[{word!r}] is not numeric (dtype {row.dtype}).")
        if np.iscomplexobj(row):
            # float32 would keep the real part only, with no more than numpy's warning.
            raise ValueError(f"vectors[{word!r}] is complex (dtype {row.dtype}); vectors are real.")
    with np.errstate(over="ignore"):
        matrix = np.array(rows, dtype=np.float32)
    _check_finite_rows(matrix, words, "vectors[{word!r}]")
    return _assemble(words, matrix)


def _from_pair(pair):
    if len(pair) != 2:
        raise ValueError(
            f"vectors given as a sequence must be a (words, matrix) pair; got {len(pair)} items."
        )
    words, matrix = pair
    if isinstance(words, str):
        raise TypeError("The words of a (words, matrix) pair must be a sequence of str, not a str.")
    words = list(words)
    _check_words(words, "The words of a (words, matrix) pair")
    matrix = np.asarray(matrix)
    if (
        matrix.ndim != 2
        or not (np.issubdtype(matrix.dtype, np.number) or matrix.dtype == bool)
        or np.iscomplexobj(matrix)
    ):
        raise ValueError(
            "The matrix of a (words, matrix) pair must be a 2-D array of real numbers; got "
            f"{matrix.ndim} dimension(s) of dtype {matrix.dtype}."
        )
    if len(words) != matrix.shape[0]:
        raise ValueError(
            f"vectors is a (words, matrix) pair with {len(words)} words but "
            f"{matrix.shape[0]} matrix rows; it needs one row per word."
        )
    if not words or matrix.shape[1] == 0:
        raise ValueError(f"vectors is a (words, matrix) pair of shape {matrix.shape}; it is empty.")
    first = {}
    for row, word in enumerate(words):
        first.setdefault(word, row)
    if len(first) < len(words):
        rows = np.fromiter(first.values(), dtype=np.intp, count=len(first))
        duplicates = [word for row, word in enumerate(words) if first[word] != row]
        _warn_duplicates(duplicates, "The (words, matrix) pair")
        words, matrix = list(first), matrix[rows]
    with np.errstate(over="ignore"):
        # Used without a copy when already float32 and C-ordered, as a fitted estimator
        # keeps its training array; the view keeps the read-only flag off the caller's.
        matrix = np.asarray(matrix, dtype=np.float32, order="C").view()
    _check_finite_rows(matrix, words, "The vector of {word!r} in the (words, matrix) pair")
    return _assemble(words, matrix)


def _check_finite_rows(matrix, words, name):
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        word = words[int(np.flatnonzero(~finite)[0])]
        raise ValueError(
            f"{name.format(word=word)} holds a value that is not finite in float32 "
            "(nan, inf, or beyond +-3.4e38)."
        )


def load_vectors(vectors):
    if isinstance(vectors, (str, os.PathLike)):
        return _load_file(os.fspath(vectors))
    if isinstance(vectors, Mapping):
        return _from_mapping(vectors)
    return _from_pair(vectors)
