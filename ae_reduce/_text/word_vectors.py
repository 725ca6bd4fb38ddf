"""MeanWordVectorVectorizer: documents as the mean of their words' pretrained vectors.

Vectors come from a GloVe or word2vec text file (optionally gzip-compressed), a dict
or a ``(words, matrix)`` pair. A file is read by :meth:`MeanWordVectorVectorizer.fit`,
kept in memory once per process while a fitted vectorizer uses it, and left out of
pickles.
"""

import copy
import dataclasses
import gzip
import hashlib
import os
import threading
import warnings
import weakref
import zlib
from collections.abc import Mapping
from itertools import chain, repeat

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils.atomic import atomic_fit
from .._utils.warnings import caller_stacklevel

#: Documents tokenised at once; bounds the memory that token strings take.
_DOCUMENTS_PER_CHUNK = 4096

#: Lines of a vector file converted to numbers at once.
_LINES_PER_CHUNK = 2048

#: Unknown or duplicate words quoted in a message.
_EXAMPLES = 5

_GZIP_MAGIC = b"\x1f\x8b"

_UTF8_BOM = b"\xef\xbb\xbf"


@dataclasses.dataclass(eq=False)
class _WordVectors:
    """Words, their rows in a read-only float32 matrix, and a fingerprint of both."""

    words: list
    index: dict
    matrix: np.ndarray
    fingerprint: str


def _fingerprint(words, matrix):
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
        fingerprint=_fingerprint(words, matrix),
    )


def _quote(items):
    return ", ".join(repr(item) for item in items[:_EXAMPLES]) + (
        ", ..." if len(items) > _EXAMPLES else ""
    )


def _warn_duplicates(duplicates, source):
    if duplicates:
        warnings.warn(
            f"{source} holds {len(duplicates)} duplicate word(s) ({_quote(duplicates)}); "
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


def _load_vectors(vectors):
    if isinstance(vectors, (str, os.PathLike)):
        return _load_file(os.fspath(vectors))
    if isinstance(vectors, Mapping):
        return _from_mapping(vectors)
    return _from_pair(vectors)


# -- documents ------------------------------------------------------------------------------


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    # pandas.NA and pandas.NaT, without importing pandas.
    return type(value).__name__ in {"NAType", "NaTType"}


def _row_name(X, position):
    if hasattr(X, "iloc"):
        label = X.index[position]
        if label != position:
            return f"document {position} (index {label!r})"
    return f"document {position}"


def _check_documents(X):
    """The documents of `X` as a list of str, refusing anything that is not one."""
    if isinstance(X, str):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    if isinstance(X, bytes):
        raise ValueError("Iterable over raw text documents expected, bytes object received.")
    ndim = getattr(X, "ndim", None)
    if ndim is not None and ndim != 1:
        shape = getattr(X, "shape", None)
        hint = (
            " Select the text column, for example X['text'] (in a ColumnTransformer, name "
            "the column as a string, not a list, so that it passes a Series)."
            if hasattr(X, "columns")
            else " Pass one string per document, for example X.ravel() for an (n, 1) array."
        )
        raise ValueError(
            "Iterable over raw text documents expected: a 1-D collection of str (a list, "
            f"a 1-D array or a pandas Series), got a {type(X).__name__} of shape {shape}.{hint}"
        )
    if sp.issparse(X):
        raise ValueError("Iterable over raw text documents expected, sparse matrix received.")
    try:
        documents = list(X)
    except TypeError:
        raise TypeError(
            f"Iterable over raw text documents expected, {type(X).__name__} object received."
        ) from None
    if all(map(isinstance, documents, repeat(str))):
        return documents
    for position, document in enumerate(documents):
        if isinstance(document, str):
            continue
        name = _row_name(X, position)
        if _is_missing(document):
            raise ValueError(
                f"{document!r} is an invalid document ({name}); expected a str. Replace "
                "missing documents with '' first, for example X.fillna('')."
            )
        if isinstance(document, bytes):
            raise TypeError(
                f"{name} is bytes; decode documents to str first, for example "
                "document.decode('utf-8')."
            )
        raise TypeError(f"{name} is a {type(document).__name__}, not a str: {document!r:.80}.")
    return documents  # pragma: no cover


class MeanWordVectorVectorizer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Represent each document by the mean of its words' pretrained vectors.

    A document is split into words, the words are looked up in a table of pretrained
    word vectors (GloVe, word2vec, fastText text files, or vectors in memory), and the
    vectors of the words found are averaged into one fixed-length feature vector.
    This carries what the vectors learnt from a large corpus into any scikit-learn
    pipeline, for example text classification with a few hundred labelled documents.

    Parameters
    ----------
    vectors : str, path-like, dict or (words, matrix) pair
        The word vectors, one of:

        - the path to a GloVe text file (``word v1 v2 ...`` per line) or a word2vec
          text file (the same lines after a first line ``n_words vector_size``),
          optionally gzip-compressed (detected from the file's first bytes, whatever
          its name). It is read by :meth:`fit`, not when the vectorizer is created;
        - a dict that maps each word (str) to a 1-D array-like of numbers, all of the
          same length;
        - a pair ``(words, matrix)``: a sequence of n str and an (n, vector_size)
          array whose row i is the vector of ``words[i]`` (for example gensim's
          ``(kv.index_to_key, kv.vectors)``).

    tokenizer : callable, default=None
        Splits a document (after lowercasing, when ``lowercase=True``) into a list of
        words. None uses scikit-learn's default token pattern ``(?u)\\b\\w\\w+\\b``,
        exactly as :class:`~sklearn.feature_extraction.text.CountVectorizer` does:
        runs of two or more word characters, so punctuation and one-letter words
        (such as "a" or "I") are dropped. A tokenizer that returns a str is refused,
        since iterating a str yields its characters, not its words.

    lowercase : bool, default=True
        Convert documents to lowercase before splitting them. The vectors' words are
        never changed: GloVe's words are lowercase, so the default matches them; with
        case-sensitive vectors (word2vec's GoogleNews, fastText) use
        ``lowercase=False``, since a lowercased document never matches "Paris".

    weighting : {"tfidf"} or None, default=None
        None averages the vectors of the words found, each occurrence counting once.
        ``"tfidf"`` weights each occurrence of a word by its inverse document
        frequency in the documents given to :meth:`fit`, as
        :class:`~sklearn.feature_extraction.text.TfidfTransformer` computes it with
        its defaults (``smooth_idf=True``): ``idf(w) = ln((1 + n) / (1 + df(w))) + 1``
        for n documents, ``df(w)`` of which contain ``w``. A word that has a vector
        but did not occur during fit gets the largest weight, ``ln(1 + n) + 1``. The
        result is the weighted mean of the known words' vectors, so frequent words
        such as "the" count less.

    oov : {"ignore", "warn", "error"}, default="ignore"
        What to do with words that have no vector (out of vocabulary). They are always
        left out of the mean; ``"warn"`` also issues a warning that counts them and
        quotes a few, ``"error"`` raises a ValueError instead of returning. The share
        of unknown words among those seen by :meth:`fit` is ``oov_fraction_``.

    Attributes
    ----------
    n_words_ : int
        Number of words with a vector, after duplicate words are dropped.

    vector_size_ : int
        Length of the vectors, and so the number of output features.

    idf_ : ndarray of shape (`n_words_`,)
        Inverse document frequency of each word, in the order of the vectors' words.
        Only present when ``weighting="tfidf"``.

    oov_fraction_ : float
        Share of the words (token occurrences) of the documents given to :meth:`fit`
        that have no vector; 0.0 when those documents hold no word at all.

    See Also
    --------
    sklearn.feature_extraction.text.TfidfVectorizer : Sparse TF-IDF features, without
        pretrained vectors.
    sklearn.feature_extraction.text.CountVectorizer : The tokenisation used here.

    Notes
    -----
    **Output.** :meth:`transform` returns a dense float32 array of shape
    (n_documents, ``vector_size_``); a document without any word that has a vector (an
    empty one included) is a row of zeros. Vectors are stored in float32, the
    precision in which GloVe and word2vec publish them, which halves the memory of a
    large table; the mean of each document is summed in float32 too, and summed
    again in float64 where a float32 sum overflows, so the mean is finite whenever the
    vectors are, even near float32's largest value.

    **Reading files.** Lines are split at ASCII white space. A first line of exactly
    two whole numbers is read as a word2vec header, and the number of vector lines
    must then match it (so a GloVe file of one-dimensional vectors whose first word is
    a number cannot be read). Blank lines, and a UTF-8 byte order mark at the start of
    the file, are skipped. A line with fields beyond the vector size is read as a
    word containing spaces (as in GloVe's 840B file) when those extra fields are not
    numbers, and refused otherwise. Every other problem
    raises a ValueError that names the file and the line: a row with the wrong number
    of values, a value that is not a number or not finite in float32, a word that is
    not UTF-8 (binary word2vec files are not read), a header that does not match the
    file, an empty file. A word listed more than once keeps its first vector, with a
    warning that counts the duplicates; the same holds for a ``(words, matrix)`` pair.

    **Persistence.** A vectorizer built from a path pickles the path, not the vectors:
    its pickle stays small (kilobytes, plus ``idf_`` for the words seen during fit)
    however large the file. After loading, the first :meth:`transform` reads the file
    again and checks, with a digest of its words and values taken at fit, that it
    holds the same vectors; a missing or changed file raises an error rather than
    giving different features. To move the file, point the loaded vectorizer at the
    copy with ``set_params(vectors=new_path)``: the digest check accepts a copy with
    the same words and values, even in another format or compressed. A vectorizer
    built from a dict or a pair pickles them, since they are its parameter. Large
    vectors are best given as a path, which also keeps
    :func:`~sklearn.base.clone` (used by grid searches) from copying them.

    **Reading once.** A file is read by the first :meth:`fit` that needs it, and
    the vectors are shared by every vectorizer of this process that reads the same
    unchanged file while one of them is alive: keep one fitted vectorizer while a grid
    search fits clones of it, and the file is read once. Vectors from a
    ``(words, matrix)`` pair whose matrix is already float32 and C-ordered are used
    without a copy; do not change that array afterwards.

    **Speed.** Documents are tokenised by CountVectorizer's analyzer and all their
    words looked up in one pass; each document's mean is then a sparse matrix of word
    occurrences times the vector matrix. On 2 CPU cores this transforms about 35,000
    documents of 65 words per second, 1.7 to 2 times a plain Python loop of dictionary
    lookups and ``numpy.mean``, and about as fast as
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer`'s transform of the same
    documents; tokenising takes most of the time. Reading a file runs at about 40 MB
    per second (numpy's text parser), so a 1 GB GloVe file takes about 25 s (see
    ``benchmarks/bench_text.py``).

    Examples
    --------
    >>> from ae_reduce import MeanWordVectorVectorizer
    >>> vectors = {"good": [1.0, 0.0], "bad": [-1.0, 0.0], "movie": [0.0, 1.0]}
    >>> vectorizer = MeanWordVectorVectorizer(vectors)
    >>> vectorizer.fit_transform(["A good movie", "BAD!", "nothing known"])
    array([[ 0.5,  0.5],
           [-1. ,  0. ],
           [ 0. ,  0. ]], dtype=float32)
    >>> vectorizer.get_feature_names_out().tolist()
    ['meanwordvectorvectorizer0', 'meanwordvectorvectorizer1']
    """

    _parameter_constraints: dict = {
        "vectors": [str, os.PathLike, Mapping, tuple, list],
        "tokenizer": [callable, None],
        "lowercase": ["boolean"],
        "weighting": [StrOptions({"tfidf"}), None],
        "oov": [StrOptions({"ignore", "warn", "error"})],
    }

    def __init__(self, vectors, *, tokenizer=None, lowercase=True, weighting=None, oov="ignore"):
        self.vectors = vectors
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.weighting = weighting
        self.oov = oov

    # -- fitting ----------------------------------------------------------------------

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the vectors and, with ``weighting="tfidf"``, learn the idf of `X`.

        Parameters
        ----------
        X : iterable of str
            Documents: a list, 1-D array or pandas Series of str.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted vectorizer.
        """
        self._fit(X)
        return self

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit to `X` and return its documents' mean vectors, tokenising `X` once.

        Parameters
        ----------
        X : iterable of str
            Documents: a list, 1-D array or pandas Series of str.

        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray of shape (n_documents, `vector_size_`)
            Mean word vector of each document, float32.
        """
        encoded = self._fit(X)
        return self._mean_vectors(encoded)

    def _fit(self, X):
        documents = _check_documents(X)
        if not documents:
            raise ValueError(
                "Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is "
                "required by MeanWordVectorVectorizer."
            )
        vectors = _load_vectors(self.vectors)
        self._word_vectors = vectors
        self._fingerprint = vectors.fingerprint
        self.n_words_, self.vector_size_ = vectors.matrix.shape
        encoded = self._encode(documents, vectors)
        n_tokens = encoded.n_known + encoded.n_unknown
        self.oov_fraction_ = encoded.n_unknown / n_tokens if n_tokens else 0.0
        if self.weighting == "tfidf":
            self.idf_ = self._idf(encoded, len(documents))
        elif hasattr(self, "idf_"):
            del self.idf_
        return encoded

    def _idf(self, encoded, n_documents):
        # A word counts once per document that holds it: deduplicate (document, word).
        document_of = np.repeat(np.arange(n_documents), np.diff(encoded.indptr))
        pairs = np.unique(document_of.astype(np.int64) * self.n_words_ + encoded.ids)
        document_frequency = np.bincount(pairs % self.n_words_, minlength=self.n_words_)
        return np.log((1 + n_documents) / (1 + document_frequency)) + 1.0

    # -- transforming -----------------------------------------------------------------

    def transform(self, X):
        """Return the mean vector of the words of each document of `X`.

        Parameters
        ----------
        X : iterable of str
            Documents: a list, 1-D array or pandas Series of str.

        Returns
        -------
        X_new : ndarray of shape (n_documents, `vector_size_`)
            Mean word vector of each document (the ``idf_``-weighted mean with
            ``weighting="tfidf"``), float32; zeros for a document none of whose words
            has a vector.
        """
        check_is_fitted(self)
        documents = _check_documents(X)
        return self._mean_vectors(self._encode(documents, self._fitted_vectors()))

    def _fitted_vectors(self):
        """The vectors of fit, read again after unpickling and checked against fit's."""
        vectors = getattr(self, "_word_vectors", None)
        if vectors is not None:
            return vectors
        source = self.vectors
        try:
            vectors = _load_vectors(source)
        except FileNotFoundError as error:
            raise FileNotFoundError(
                error.errno,
                f"The word vectors file {os.fspath(source)!r} of this fitted "
                "MeanWordVectorVectorizer is missing. Restore it, or point the "
                "vectorizer at a copy with set_params(vectors=path_of_the_copy).",
                error.filename,
            ) from None
        if vectors.fingerprint != self._fingerprint:
            where = (
                f"the file {os.fspath(source)!r}"
                if isinstance(source, (str, os.PathLike))
                else "the vectors parameter"
            )
            raise ValueError(
                f"The word vectors in {where} differ from those this "
                "MeanWordVectorVectorizer was fitted with (changed since fit). Fit it "
                "again, or point it at the original vectors with set_params(vectors=...)."
            )
        self._word_vectors = vectors
        return vectors

    def _analyzer(self):
        # Without a tokenizer, CountVectorizer's default token pattern applies; with
        # one, the pattern is unset so that CountVectorizer does not warn it is unused.
        pattern = {} if self.tokenizer is None else {"token_pattern": None}
        analyze = CountVectorizer(
            lowercase=self.lowercase, tokenizer=self.tokenizer, **pattern
        ).build_analyzer()
        if self.tokenizer is None:
            return analyze

        def analyze_checked(document):
            tokens = analyze(document)
            if isinstance(tokens, str):
                raise TypeError(
                    "tokenizer must return a list of words, but it returned a str; "
                    "iterating a str yields its characters, not its words."
                )
            tokens = tokens if isinstance(tokens, list) else list(tokens)
            # Checked here, for every token: a token that is not a str would otherwise
            # be caught only among the first unknown ones.
            for token in tokens:
                if not isinstance(token, str):
                    raise TypeError(
                        f"tokenizer must return str words; it returned {token!r} "
                        f"({type(token).__name__})."
                    )
            return tokens

        return analyze_checked

    def _encode(self, documents, vectors):
        """Look up every word of `documents`: the known ones' rows, per document."""
        analyze = self._analyzer()
        lookup = vectors.index.get
        ids, counts, unknown = [], [], []
        n_unknown = 0
        for start in range(0, len(documents), _DOCUMENTS_PER_CHUNK):
            token_lists = [analyze(doc) for doc in documents[start : start + _DOCUMENTS_PER_CHUNK]]
            tokens = list(chain.from_iterable(token_lists))
            try:
                rows = np.fromiter(
                    map(lookup, tokens, repeat(-1)), dtype=np.int64, count=len(tokens)
                )
            except TypeError as error:
                raise TypeError(f"tokenizer must return str words: {error}") from None
            lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
            known = rows >= 0
            if not known.all():
                missing = np.flatnonzero(~known)
                n_unknown += len(missing)
                for position in missing[: _EXAMPLES * 4]:
                    token = tokens[position]
                    if not isinstance(token, str):
                        raise TypeError(
                            f"tokenizer must return str words; it returned {token!r} "
                            f"({type(token).__name__})."
                        )
                    if len(unknown) < _EXAMPLES and token not in unknown:
                        unknown.append(token)
            ids.append(rows[known])
            ends = np.cumsum(lengths)
            known_before = np.concatenate([[0], np.cumsum(known)])
            counts.append(np.diff(known_before[np.concatenate([[0], ends])]))
        encoded = _Encoded(
            ids=np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64),
            indptr=np.concatenate([[0], np.cumsum(np.concatenate(counts))])
            if counts
            else np.zeros(1, dtype=np.int64),
            n_unknown=n_unknown,
            unknown_examples=unknown,
        )
        self._report_unknown(encoded)
        return encoded

    def _report_unknown(self, encoded):
        if not encoded.n_unknown or self.oov == "ignore":
            return
        n_words = encoded.n_known + encoded.n_unknown
        message = (
            f"{encoded.n_unknown} of {n_words} words ({encoded.n_unknown / n_words:.1%}) "
            f"in the documents have no word vector, for example "
            f"{_quote(encoded.unknown_examples)}; they are left out of the means."
        )
        if self.oov == "error":
            raise ValueError(
                message.replace("; they are left out of the means.", ".")
                + " Set oov='ignore' to leave unknown words out of the means."
            )
        warnings.warn(message, UserWarning, stacklevel=caller_stacklevel())

    def _mean_vectors(self, encoded):
        vectors = self._fitted_vectors()
        n_documents = len(encoded.indptr) - 1
        if getattr(self, "idf_", None) is not None:
            weights = self.idf_[encoded.ids].astype(np.float32)
        else:
            weights = np.ones(len(encoded.ids), dtype=np.float32)
        # One entry per word occurrence: the product sums repeated words, as counts.
        occurrences = sp.csr_matrix(
            (weights, encoded.ids, encoded.indptr), shape=(n_documents, self.n_words_)
        )
        sums = np.asarray(occurrences @ vectors.matrix, dtype=np.float32)
        overflowed = ~np.isfinite(sums).all(axis=1)
        if overflowed.any():
            # Words near float32's largest value overflow a float32 sum although their
            # mean is finite: those documents are summed again in float64, from the
            # rows of their own words only.
            rows = occurrences[overflowed].astype(np.float64)
            used = np.unique(rows.indices)
            wide = rows[:, used] @ vectors.matrix[used].astype(np.float64)
        if getattr(self, "idf_", None) is not None:
            documents = np.repeat(np.arange(n_documents), np.diff(encoded.indptr))
            totals = np.bincount(documents, weights=weights, minlength=n_documents)
        else:
            totals = np.diff(encoded.indptr)
        # A document without a known word has zero sums; dividing by 1 keeps it zero.
        totals = np.maximum(totals, 1)
        sums /= totals.astype(np.float32)[:, np.newaxis]
        if overflowed.any():
            sums[overflowed] = (wide / totals[overflowed, np.newaxis]).astype(np.float32)
        return sums

    # -- scikit-learn conventions -------------------------------------------------------

    @property
    def _n_features_out(self):
        return self.vector_size_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    # -- persistence --------------------------------------------------------------------

    def __getstate__(self):
        state = dict(super().__getstate__())
        # The vectors come back from the parameter (a path, dict or pair) on first use.
        state.pop("_word_vectors", None)
        idf = state.pop("idf_", None)
        if idf is not None:
            # Words unseen during fit share the largest idf; storing only the others
            # keeps the pickle proportional to the fit vocabulary, not the file's.
            largest = idf.max()
            seen = np.flatnonzero(idf != largest)
            state["_idf_seen"] = (len(idf), largest, seen.astype(np.int64), idf[seen])
        return state

    def __setstate__(self, state):
        state = dict(state)
        seen = state.pop("_idf_seen", None)
        if seen is not None:
            size, largest, rows, values = seen
            idf = np.full(size, largest)
            idf[rows] = values
            state["idf_"] = idf
        super().__setstate__(state)

    def __deepcopy__(self, memo):
        # A copy shares the loaded vectors (read-only) instead of reading the file again.
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        for name, value in self.__dict__.items():
            shared = name == "_word_vectors"
            copied.__dict__[name] = value if shared else copy.deepcopy(value, memo)
        return copied


@dataclasses.dataclass
class _Encoded:
    """Rows of the known words of each document, in CSR layout, and the unknown ones."""

    ids: np.ndarray
    indptr: np.ndarray
    n_unknown: int
    unknown_examples: list

    @property
    def n_known(self):
        return len(self.ids)
