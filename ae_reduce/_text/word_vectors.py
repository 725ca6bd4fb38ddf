"""MeanWordVectorVectorizer: documents as the mean of their words' pretrained vectors.

Vectors come from a GloVe or word2vec text file (optionally gzip-compressed), a dict
or a ``(words, matrix)`` pair. A file is read by :meth:`MeanWordVectorVectorizer.fit`,
kept in memory once per process while a fitted vectorizer uses it, and left out of
pickles.
"""

import copy
import dataclasses
import os
import warnings
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
from .._utils.targets import is_missing_label
from .._utils.warnings import caller_stacklevel
from .vectors import EXAMPLES, load_vectors, quote

#: Documents tokenised at once; bounds the memory that token strings take.
_DOCUMENTS_PER_CHUNK = 4096

# -- documents ------------------------------------------------------------------------------


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
        if is_missing_label(document):
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
        vectors = load_vectors(self.vectors)
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
            vectors = load_vectors(source)
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
                for position in missing[: EXAMPLES * 4]:
                    token = tokens[position]
                    if not isinstance(token, str):
                        raise TypeError(
                            f"tokenizer must return str words; it returned {token!r} "
                            f"({type(token).__name__})."
                        )
                    if len(unknown) < EXAMPLES and token not in unknown:
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
            f"{quote(encoded.unknown_examples)}; they are left out of the means."
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
