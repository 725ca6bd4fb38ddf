"""TokenSequencer: raw text documents to padded arrays of word ids."""

import warnings
from collections import Counter
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils.warnings import caller_stacklevel

#: The id of padding, the positions after (or before) a document's last word.
PADDING_ID = 0

#: The id of a word that is not in the vocabulary.
UNKNOWN_ID = 1


class TokenSequencer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Turn text documents into fixed-width arrays of word ids, padded with zeros.

    :meth:`fit` splits the documents into words, as
    :class:`~sklearn.feature_extraction.text.CountVectorizer` does, and numbers the
    words by frequency: the most frequent word gets id 2, the next id 3, and so on.
    Two ids are reserved: **0 is padding** and **1 is a word outside the vocabulary**
    (unseen in fit, rarer than ``min_frequency``, or beyond the ``max_tokens`` most
    frequent). :meth:`transform` writes each document as the ids of its words in order,
    one row per document, padded with zeros to ``max_length_`` columns.

    This is the input that :class:`TokenEmbeddingTransformer` takes::

        make_pipeline(TokenSequencer(), TokenEmbeddingTransformer())

    Parameters
    ----------
    max_length : int, default=None
        Width of the output: the number of word positions kept per document. ``None``
        uses the longest document seen in :meth:`fit` (at least 1), so that no word of
        the training documents is cut; :meth:`transform` then warns when it cuts a
        longer document. A document with more words is truncated, as ``truncating``
        says; a shorter one is padded, as ``padding`` says.

    max_tokens : int, default=None
        Largest number of words in the vocabulary, not counting the two reserved ids:
        only the most frequent are kept, the others become the unknown id 1. ``None``
        keeps every word that passes ``min_frequency``.

    min_frequency : int, default=1
        Words that occur fewer times than this in the training documents (counting
        every occurrence) are left out of the vocabulary.

    lowercase : bool, default=True
        Convert the documents to lower case before splitting them.

    tokenizer : callable, default=None
        A function from a (lower-cased, with ``lowercase``) document to its list of
        words. ``None`` uses CountVectorizer's word pattern, runs of two or more word
        characters (``r"(?u)\\b\\w\\w+\\b"``). A tokenizer that returns a str is refused,
        since iterating a str yields its characters, not its words.

    padding : {"post", "pre"}, default="post"
        Where the zeros of a short document go: after its words or before them.

    truncating : {"post", "pre"}, default="post"
        Which words of a long document are dropped: those at the end (``"post"``, the
        first ``max_length`` words are kept) or those at the start (``"pre"``).

    Attributes
    ----------
    vocabulary_ : dict of str to int
        The id of each word in the vocabulary, from 2 up.

    vocabulary_size_ : int
        Number of ids in use, the two reserved ones included:
        ``len(vocabulary_) + 2``. Ids run from 0 to ``vocabulary_size_ - 1``.

    max_length_ : int
        Width of the output of :meth:`transform` (``max_length`` resolved).

    See Also
    --------
    TokenEmbeddingTransformer : A network over these id arrays.
    sklearn.feature_extraction.text.CountVectorizer : Word counts instead of
        sequences.

    Notes
    -----
    Words are ordered by their number of occurrences in the training documents, most
    frequent first; words that occur equally often are ordered alphabetically, so the
    ids do not depend on the order of the documents.

    Examples
    --------
    >>> from ae_reduce import TokenSequencer
    >>> sequencer = TokenSequencer().fit(["the cat sat", "the dog sat down"])
    >>> sequencer.vocabulary_
    {'sat': 2, 'the': 3, 'cat': 4, 'dog': 5, 'down': 6}
    >>> sequencer.transform(["the cat ran down"])
    array([[3, 4, 1, 6]], dtype=int32)
    """

    _parameter_constraints: dict = {
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "max_tokens": [Interval(Integral, 1, None, closed="left"), None],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "lowercase": ["boolean"],
        "tokenizer": [callable, None],
        "padding": [StrOptions({"post", "pre"})],
        "truncating": [StrOptions({"post", "pre"})],
    }

    def __init__(
        self,
        *,
        max_length=None,
        max_tokens=None,
        min_frequency=1,
        lowercase=True,
        tokenizer=None,
        padding="post",
        truncating="post",
    ):
        self.max_length = max_length
        self.max_tokens = max_tokens
        self.min_frequency = min_frequency
        self.lowercase = lowercase
        self.tokenizer = tokenizer
        self.padding = padding
        self.truncating = truncating

    def _analyzer(self):
        """CountVectorizer's word analyzer: decoding, lower case, splitting."""
        vectorizer = CountVectorizer(
            lowercase=self.lowercase,
            tokenizer=self.tokenizer,
            # Given a tokenizer, CountVectorizer warns about an unused pattern.
            token_pattern=None if self.tokenizer is not None else r"(?u)\b\w\w+\b",
        )
        return vectorizer.build_analyzer()

    def _split(self, raw_documents):
        """The words of every document, after checking that they are documents."""
        if isinstance(raw_documents, str | bytes):
            # CountVectorizer's message: iterating over one string gives its letters.
            raise ValueError("Iterable over raw text documents expected, string object received.")
        if getattr(raw_documents, "ndim", 1) != 1:
            raise ValueError(
                f"{type(self).__name__} expects a one-dimensional sequence of text "
                f"documents; got an array of shape {raw_documents.shape}. Pass a list of "
                "strings or one column of a data frame."
            )
        analyze = self._analyzer()
        words = []
        for row, document in enumerate(raw_documents):
            if not isinstance(document, str | bytes):
                raise ValueError(
                    f"{type(self).__name__} expects text documents (str); document "
                    f"{row} is {type(document).__name__} {document!r}."
                )
            tokens = analyze(document)
            if isinstance(tokens, str | bytes):
                kind = "a str" if isinstance(tokens, str) else "bytes"
                raise TypeError(
                    f"tokenizer must return a list of words, but it returned {kind}; "
                    f"iterating {kind} yields its characters, not its words."
                )
            if self.tokenizer is None:
                words.append(tokens)
                continue
            # A generator of words is a list of words read once.
            tokens = list(tokens)
            for token in tokens:
                if not isinstance(token, str):
                    raise TypeError(
                        f"tokenizer must return words (str), but for document {row} it "
                        f"returned {token!r} of type {type(token).__name__}."
                    )
            words.append(tokens)
        return words

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, raw_documents, y=None):
        """Learn the vocabulary and the output width from the documents.

        Parameters
        ----------
        raw_documents : iterable of str
            Text documents (``bytes`` are decoded as UTF-8).

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted sequencer.
        """
        self._fit(self._split(raw_documents))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, raw_documents, y=None):
        """Fit to the documents and return their ids, reading the documents once.

        Parameters
        ----------
        raw_documents : iterable of str
            Text documents; a generator is consumed once.

        y : None
            Ignored.

        Returns
        -------
        ids : ndarray of shape (n_documents, `max_length_`), dtype int32
            The ids of the documents' words, as :meth:`transform` writes them.
        """
        # TransformerMixin's fit(X).transform(X) would find a generator already used up.
        words = self._split(raw_documents)
        self._fit(words)
        return self._ids(words)

    def _fit(self, words):
        if not words:
            raise ValueError(f"{type(self).__name__} needs at least one document to fit.")
        counts = Counter(word for document in words for word in document)
        kept = [word for word, count in counts.items() if count >= self.min_frequency]
        kept.sort(key=lambda word: (-counts[word], word))
        if self.max_tokens is not None:
            kept = kept[: self.max_tokens]
        if not kept:
            # As CountVectorizer: every document would be padding alone.
            reason = (
                f"no word occurs min_frequency={self.min_frequency} times"
                if counts
                else "the tokenizer found no word in the documents"
                + (" (runs of two or more word characters)" if self.tokenizer is None else "")
            )
            raise ValueError(f"empty vocabulary: {reason}, so every document would be empty.")
        self.vocabulary_ = {word: i for i, word in enumerate(kept, start=UNKNOWN_ID + 1)}
        self.vocabulary_size_ = len(kept) + 2
        if self.max_length is None:
            self.max_length_ = max(1, max(map(len, words)))
        else:
            self.max_length_ = int(self.max_length)

    def transform(self, raw_documents):
        """Write each document as the ids of its words, padded with zeros.

        Parameters
        ----------
        raw_documents : iterable of str
            Text documents.

        Returns
        -------
        ids : ndarray of shape (n_documents, `max_length_`), dtype int32
            One row per document: the id of each word in order (1 for words outside
            the vocabulary), padded with 0 and truncated to ``max_length_`` columns
            (with a ``UserWarning`` when ``max_length`` is None).
        """
        check_is_fitted(self, "vocabulary_")
        return self._ids(self._split(raw_documents))

    def _ids(self, words):
        width = self.max_length_
        ids = np.full((len(words), width), PADDING_ID, dtype=np.int32)
        n_cut = 0
        for row, document in enumerate(words):
            sequence = [self.vocabulary_.get(word, UNKNOWN_ID) for word in document]
            if len(sequence) > width:
                n_cut += 1
                sequence = sequence[:width] if self.truncating == "post" else sequence[-width:]
            if not sequence:
                continue
            if self.padding == "post":
                ids[row, : len(sequence)] = sequence
            else:
                ids[row, width - len(sequence) :] = sequence
        if n_cut and self.max_length is None:
            # The width came from the training documents, not from the user: say so.
            warnings.warn(
                f"{n_cut} of {len(words)} documents have more words than the longest "
                f"training document (max_length_={width}) and were cut to {width} words "
                f"(truncating={self.truncating!r}). Set max_length to choose the width.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return ids

    @property
    def _n_features_out(self):
        # An AttributeError before fit is what makes get_feature_names_out say "not fitted".
        return self.max_length_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
