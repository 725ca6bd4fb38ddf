"""Behaviour of TokenSequencer and TokenEmbeddingTransformer that users rely on."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from ae_reduce import TokenEmbeddingTransformer, TokenSequencer

TINY = {
    "n_components": 3,
    "embedding_dim": 8,
    "hidden_layer_sizes": (8,),
    "epochs": 5,
    "learning_rate": 0.05,
    "validation_split": 0.0,
    "cv": None,
    "random_state": 0,
}

N_TOPICS = 3
VOCABULARY = 30  # ids 1..29; each topic owns 5 ids, the rest are shared background


def embedder(**params):
    return TokenEmbeddingTransformer(**{**TINY, **params})


def topic_documents(n_documents, seed=0):
    """Documents of 2 to 10 ids, post-padded to width 12, and their topics."""
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, N_TOPICS, n_documents)
    lengths = rng.integers(2, 11, n_documents)
    ids = np.zeros((n_documents, 12), dtype=np.int64)
    for row, (topic, length) in enumerate(zip(topics, lengths, strict=True)):
        own = rng.integers(1 + 5 * topic, 6 + 5 * topic, length)
        background = rng.integers(16, VOCABULARY, length)
        ids[row, :length] = np.where(rng.random(length) < 0.5, own, background)
    return ids, topics


def repad(ids, width, side):
    """The same documents with their padding moved to ``side`` in ``width`` columns."""
    out = np.zeros((len(ids), width), dtype=ids.dtype)
    for row, sequence in enumerate(ids):
        tokens = sequence[sequence != 0]
        if len(tokens):
            if side == "post":
                out[row, : len(tokens)] = tokens
            else:
                out[row, width - len(tokens) :] = tokens
    return out


@pytest.fixture(scope="module")
def documents():
    return topic_documents(150)


@pytest.fixture(scope="module", params=["mean", "max"])
def fitted(request, documents):
    ids, topics = documents
    return embedder(pooling=request.param).fit(ids, topics)


def token_vectors(estimator, ids):
    """The output of the token-embedding layer for ``ids``."""
    import keras

    layer = estimator.encoder_.get_layer("token_embedding")
    probe = keras.Model(estimator.encoder_.inputs[0], layer.output)
    return keras.ops.convert_to_numpy(probe(ids.astype(np.float32)))


# -- TokenEmbeddingTransformer: padding --------------------------------------------------


def test_padding_does_not_change_the_embedding(fitted, documents):
    ids, _ = documents
    expected = fitted.transform(ids)
    # A plain sum over the row differed in the last bits for the pre-padded widths (with 8
    # or more components).
    for width, side in [(12, "pre"), (13, "post"), (40, "pre"), (11, "post"), (100, "pre")]:
        np.testing.assert_array_equal(fitted.transform(repad(ids, width, side)), expected)
        np.testing.assert_array_equal(
            fitted.predict_proba(repad(ids, width, side)), fitted.predict_proba(ids)
        )


def test_padding_embeds_to_zeros(fitted, documents):
    ids, _ = documents
    vectors = token_vectors(fitted, ids)
    assert vectors.shape == (*ids.shape, 8)
    np.testing.assert_array_equal(vectors[ids == 0], 0.0)
    assert np.all(np.abs(vectors[ids != 0]).max(axis=1) > 0)


def test_a_row_of_padding_embeds_as_an_empty_document(fitted):
    import keras

    pooled = fitted.encoder_.get_layer(f"{fitted.pooling}_pooling")
    probe = keras.Model(fitted.encoder_.inputs[0], pooled.output)
    for width in (1, 12, 50):
        padding = np.zeros((2, width))
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(probe(padding)), 0.0)
        embedding = fitted.transform(padding)
        assert np.isfinite(embedding).all()
        np.testing.assert_array_equal(embedding, fitted.transform(np.zeros((2, 5))))


def test_ids_beyond_the_vocabulary_share_the_zero_unknown_row(fitted, documents):
    ids, _ = documents
    assert fitted.vocabulary_size_ == VOCABULARY
    table = fitted.encoder_.get_layer("token_embedding").get_weights()[0]
    assert table.shape == (VOCABULARY + 1, 8)
    np.testing.assert_array_equal(table[VOCABULARY], 0.0)
    unknown = ids.copy()
    unknown[:, 0] = VOCABULARY
    for large in (VOCABULARY + 1, 10**12):
        beyond = ids.copy()
        beyond[:, 0] = large
        np.testing.assert_array_equal(fitted.transform(beyond), fitted.transform(unknown))
    as_floats = unknown.astype(np.float64)
    as_floats[:, 0] = 1e30
    np.testing.assert_array_equal(fitted.transform(as_floats), fitted.transform(unknown))
    unsigned = ids.astype(np.uint64)
    unsigned[:, 0] = 2**63 + 5  # beyond int64
    np.testing.assert_array_equal(fitted.transform(unsigned), fitted.transform(unknown))


def test_ids_no_training_row_holds_keep_zero_vectors(documents):
    # Such ids (TokenSequencer's unknown id 1 when every training word is in its
    # vocabulary, the padding id) kept their random starting vectors: an unseen word
    # added noise that depended on random_state.
    ids, topics = documents
    ids = ids.copy()
    ids[ids == 7] = 9  # id 7 is below vocabulary_size_ but in no training row
    for seed in (0, 1):
        fitted = embedder(random_state=seed).fit(ids, topics)
        table = fitted.encoder_.get_layer("token_embedding").get_weights()[0]
        np.testing.assert_array_equal(table[[0, 7]], 0.0)
        assert (np.abs(table[[2, 9]]).max(axis=1) > 0).all()
        # A document of an unseen id embeds as an empty one, and an unseen id in a
        # document counts as a token that adds nothing.
        np.testing.assert_array_equal(fitted.transform([[7, 7]]), fitted.transform([[0]]))
    # Cross-fitting: each fold's network zeroes what its own training rows lack.
    cross = embedder(cv=3).fit_transform(ids, topics)
    assert np.isfinite(cross).all()


def test_a_wide_row_of_few_tokens_is_embedded_without_its_padding(fitted, documents):
    # Inference runs in blocks of a fixed number of rows; a row padded to 40,000 columns
    # (TokenSequencer pads to the longest training document) took gigabytes and
    # seconds for 5 tokens.
    import resource

    ids, _ = documents
    wide = np.zeros((1, 40_000), dtype=np.int64)
    wide[0, 1000:1005] = ids[0, :5]
    narrow = ids[:1, :5]
    fitted.transform(narrow)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    embedding = fitted.transform(wide)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    np.testing.assert_array_equal(embedding, fitted.transform(narrow))
    assert grown_mb < 300


# -- TokenEmbeddingTransformer: learning -------------------------------------------------


def test_learns_topics_above_chance(fitted):
    ids, topics = topic_documents(150, seed=1)
    assert fitted.score(ids, topics) > 0.8
    assert fitted.transform(ids).shape == (150, 3)
    assert fitted.classes_.tolist() == [0, 1, 2]


def test_whole_floats_are_the_same_ids(fitted, documents):
    ids, _ = documents
    expected = fitted.transform(ids)
    np.testing.assert_array_equal(fitted.transform(ids.astype(np.float64)), expected)
    np.testing.assert_array_equal(fitted.transform(ids.astype(np.int32)), expected)
    float32 = fitted.transform(ids.astype(np.float32))
    assert float32.dtype == np.float32
    np.testing.assert_array_equal(float32, expected.astype(np.float32))


def test_vocabulary_size_reserves_rows(documents):
    ids, topics = documents
    model = embedder(vocabulary_size=100, epochs=1).fit(ids, topics)
    assert model.vocabulary_size_ == 100
    assert model.encoder_.get_layer("token_embedding").get_weights()[0].shape == (101, 8)


def test_fits_are_deterministic(documents):
    ids, topics = documents
    first = embedder(epochs=2).fit(ids, topics).transform(ids)
    np.testing.assert_array_equal(embedder(epochs=2).fit(ids, topics).transform(ids), first)


def test_fit_transform_is_out_of_fold_unless_cv_is_none(documents):
    ids, topics = documents
    crossed = embedder(epochs=2, cv=3)
    out_of_fold = crossed.fit_transform(ids, topics)
    assert out_of_fold.shape == (150, 3)
    assert not np.allclose(out_of_fold, crossed.transform(ids))
    plain = embedder(epochs=2)
    np.testing.assert_array_equal(plain.fit_transform(ids, topics), plain.transform(ids))


def test_pickle_round_trip(fitted, documents):
    ids, _ = documents
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(ids), fitted.transform(ids))
    np.testing.assert_array_equal(restored.predict(repad(ids, 20, "pre")), fitted.predict(ids))
    assert restored.get_params() == fitted.get_params()
    assert restored.vocabulary_size_ == fitted.vocabulary_size_


# -- TokenEmbeddingTransformer: bad input ------------------------------------------------


@pytest.mark.parametrize(
    "X, error, match",
    [
        ([[1, 2, -1]], ValueError, r"Negative values in data .* X\[0, 2\] is -1"),
        ([[1, 2.5, 0]], ValueError, r"whole-number token ids, but X\[0, 1\] is 2\.5"),
        ([[1, np.nan, 0]], ValueError, "Input X contains NaN"),
        ([[1, np.inf, 0]], ValueError, "Input X contains infinity"),
        (sp.csr_matrix([[1, 2, 0]]), TypeError, "Sparse data was passed"),
        ([["a", "b"]], ValueError, "not text; put a TokenSequencer in front"),
        ([[1, 2], [3]], ValueError, "different lengths; pad them with 0 to one length"),
        ([[2**24, 1]], ValueError, r"token id 16777216; ids must stay below 2\*\*24"),
        (
            np.array([[2**63 + 5, 1]], dtype=np.uint64),
            ValueError,
            r"token id 9223372036854775813; ids must stay below 2\*\*24",
        ),
        (["a cat", "a dog"], ValueError, "not text; put a TokenSequencer in front"),
        # A raw UFuncTypeError, and durations silently taken as ids.
        (np.ones((1, 2), "datetime64[D]"), ValueError, r"X holds dates \(dtype datetime64"),
        (np.ones((1, 2), "timedelta64[D]"), ValueError, r"X holds durations \(dtype timedelta"),
    ],
)
def test_bad_ids_are_refused_in_fit(X, error, match):
    with pytest.raises(error, match=match):
        embedder().fit(X, [0])


def test_bad_ids_are_refused_in_transform(fitted):
    with pytest.raises(ValueError, match=r"Negative values in data .* X\[1, 0\] is -3"):
        fitted.transform([[1, 2], [-3, 0]])
    # Text in a pandas Series, or after a missing document, got numpy's or
    # scikit-learn's words instead of the advice to tokenize first.
    import pandas as pd

    for text in (pd.Series(["a cat", "a dog"]), [None, "a dog"]):
        with pytest.raises(ValueError, match="not text; put a TokenSequencer in front"):
            fitted.transform(text)
    with pytest.raises(ValueError, match="whole-number token ids"):
        fitted.predict([[1.5, 2]])


def test_ids_beyond_a_given_vocabulary_size_are_refused_in_fit(documents):
    ids, topics = documents
    with pytest.raises(
        ValueError, match=r"token id 29, but vocabulary_size=20 allows ids up to 19"
    ):
        embedder(vocabulary_size=20).fit(ids, topics)


def test_parameters_of_the_supervised_network_that_ids_lack():
    parameters = TokenEmbeddingTransformer().get_params()
    for absent in ("noise_stddev", "reconstruction_weight", "model", "embedding_layer"):
        assert absent not in parameters
        with pytest.raises(ValueError, match="Invalid parameter"):
            TokenEmbeddingTransformer().set_params(**{absent: 1})
    with pytest.raises(ValueError, match="'pooling' parameter"):
        embedder(pooling="sum").fit([[1, 2]], [0])
    # Messages about labels do not offer reconstruction_weight, which this estimator
    # does not have.
    for labels, message in (([None, 1, 0], "every row needs a label"), ([1, 1, 1], "one class")):
        with pytest.raises(ValueError, match=message) as error:
            embedder().fit([[1, 2], [2, 3], [3, 1]], labels)
        assert "reconstruction_weight" not in str(error.value)


# -- TokenSequencer ----------------------------------------------------------------------

TEXTS = ["The cat sat.", "The dog sat down; the dog ran!", "A cat, a dog."]


def test_sequencer_numbers_words_by_frequency():
    sequencer = TokenSequencer().fit(TEXTS)
    # Single letters fall outside CountVectorizer's default pattern; ties go alphabetically.
    assert sequencer.vocabulary_ == {
        "dog": 2,
        "the": 3,
        "cat": 4,
        "sat": 5,
        "down": 6,
        "ran": 7,
    }
    assert sequencer.vocabulary_size_ == 8
    assert sequencer.max_length_ == 7
    ids = sequencer.transform(TEXTS)
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(
        ids, [[3, 4, 5, 0, 0, 0, 0], [3, 2, 5, 6, 3, 2, 7], [4, 2, 0, 0, 0, 0, 0]]
    )


def test_sequencer_unknown_words_and_empty_documents():
    sequencer = TokenSequencer().fit(TEXTS)
    np.testing.assert_array_equal(
        sequencer.transform(["the bird sat", "", "!!"]),
        [[3, 1, 5, 0, 0, 0, 0], [0] * 7, [0] * 7],
    )
    assert sequencer.transform([]).shape == (0, 7)


def test_sequencer_min_frequency_and_max_tokens():
    assert set(TokenSequencer(min_frequency=2).fit(TEXTS).vocabulary_) == {
        "dog",
        "the",
        "cat",
        "sat",
    }
    limited = TokenSequencer(max_tokens=2).fit(TEXTS)
    assert limited.vocabulary_ == {"dog": 2, "the": 3}
    np.testing.assert_array_equal(limited.transform(["the cat"]), [[3, 1, 0, 0, 0, 0, 0]])


@pytest.mark.parametrize(
    "padding, truncating, expected",
    [
        ("post", "post", [[3, 2, 5], [4, 5, 0]]),
        ("pre", "post", [[3, 2, 5], [0, 4, 5]]),
        ("post", "pre", [[3, 2, 1], [4, 5, 0]]),
        ("pre", "pre", [[3, 2, 1], [0, 4, 5]]),
    ],
)
def test_sequencer_padding_and_truncation(padding, truncating, expected):
    sequencer = TokenSequencer(max_length=3, padding=padding, truncating=truncating)
    ids = sequencer.fit(TEXTS).transform(["the dog sat the dog bird", "cat sat"])
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_array_equal(
        sequencer.get_feature_names_out(), ["tokensequencer0", "tokensequencer1", "tokensequencer2"]
    )


def test_sequencer_warns_when_it_cuts_a_document_it_chose_the_width_for():
    sequencer = TokenSequencer().fit(["one two", "three"])
    with pytest.warns(UserWarning, match=r"1 of 2 documents .*\(max_length_=2\) and were cut"):
        ids = sequencer.transform(["one two three", "two"])
    np.testing.assert_array_equal(ids, [[2, 4], [4, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TokenSequencer(max_length=2).fit(["one"]).transform(["one two three"])


def test_sequencer_options_of_count_vectorizer():
    assert "The" in TokenSequencer(lowercase=False).fit(TEXTS).vocabulary_
    split_on_spaces = TokenSequencer(tokenizer=str.split).fit(["a b b", "c"])
    assert split_on_spaces.vocabulary_ == {"b": 2, "a": 3, "c": 4}
    assert TokenSequencer().fit([b"caf\xc3\xa9 au lait"]).vocabulary_ == {
        "au": 2,
        "café": 3,
        "lait": 4,
    }


def test_sequencer_refuses_what_is_not_a_list_of_documents():
    with pytest.raises(
        ValueError, match=r"^Iterable over raw text documents expected, string object received\.$"
    ):
        TokenSequencer().fit("one document")
    fitted = TokenSequencer().fit(TEXTS)
    with pytest.raises(ValueError, match="string object received"):
        fitted.transform("one document")
    with pytest.raises(ValueError, match=r"document 1 is float nan"):
        TokenSequencer().fit(["fine", np.nan])
    with pytest.raises(ValueError, match=r"document 2 is int 3"):
        fitted.transform(["fine", "also fine", 3])
    with pytest.raises(ValueError, match=r"one-dimensional .* shape \(3, 1\)"):
        TokenSequencer().fit(np.array(TEXTS).reshape(-1, 1))
    with pytest.raises(ValueError, match="at least one document"):
        TokenSequencer().fit([])
    # As CountVectorizer, a vocabulary without a word is refused: every document
    # would have been padding alone, and a network downstream would learn a constant.
    with pytest.raises(ValueError, match="empty vocabulary: the tokenizer found no word"):
        TokenSequencer().fit(["!!", "a", "?"])
    with pytest.raises(ValueError, match="empty vocabulary: no word occurs min_frequency=3"):
        TokenSequencer(min_frequency=3).fit(["ab cd", "ab"])
    with pytest.raises(NotFittedError):
        TokenSequencer().transform(TEXTS)
    with pytest.raises(NotFittedError):
        TokenSequencer().get_feature_names_out()
    with pytest.raises(ValueError, match="'max_length' parameter"):
        TokenSequencer(max_length=0).fit(TEXTS)


def test_sequencer_fit_transform_reads_a_generator_once():
    expected = TokenSequencer().fit(TEXTS).transform(TEXTS)
    ids = TokenSequencer().fit_transform(text for text in TEXTS)
    np.testing.assert_array_equal(ids, expected)
    frame = TokenSequencer().set_output(transform="pandas").fit_transform(iter(TEXTS))
    np.testing.assert_array_equal(frame.to_numpy(), expected)


def test_sequencer_refuses_a_tokenizer_that_returns_a_str():
    with pytest.raises(TypeError, match=r"tokenizer must return a list of words.*a str"):
        TokenSequencer(tokenizer=str.lower).fit(TEXTS)
    # Bytes were iterated as integers, which became the "words"; a token that is not
    # a str failed when the words were sorted.
    with pytest.raises(TypeError, match=r"list of words, but it returned bytes"):
        TokenSequencer(tokenizer=str.encode).fit(TEXTS)
    with pytest.raises(TypeError, match=r"document 0 it returned b'the' of type bytes"):
        TokenSequencer(tokenizer=lambda text: text.encode().split()).fit(TEXTS)
    with pytest.raises(TypeError, match=r"document 0 it returned 3 of type int"):
        TokenSequencer(tokenizer=lambda text: [*text.split(), 3]).fit(TEXTS)


def test_sequencer_takes_a_tokenizer_that_yields_words():
    # Regression: "object of type 'generator' has no len()".
    expected = TokenSequencer(tokenizer=str.split).fit_transform(TEXTS)
    ids = TokenSequencer(tokenizer=lambda text: iter(text.split())).fit_transform(TEXTS)
    np.testing.assert_array_equal(ids, expected)


@pytest.mark.parametrize(
    "check",
    [
        check_parameters_default_constructible,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_sequencer_passes_scikit_learns_checks_that_need_no_data(check):
    # scikit-learn 1.9 runs none of its estimator checks on estimators of text, whose
    # input is not a 2-D array; these are the ones that do not feed data.
    check("TokenSequencer", TokenSequencer())


def test_sequencer_pickles_and_clones():
    fitted = TokenSequencer(max_tokens=3).fit(TEXTS)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(TEXTS), fitted.transform(TEXTS))
    assert not hasattr(clone(fitted), "vocabulary_")


# -- both, on raw text -------------------------------------------------------------------

WORDS = {0: "goal match team score", 1: "vote party law court", 2: "cell gene virus lab"}


def topic_texts(n_documents, seed=0):
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, 3, n_documents)
    filler = "the of and to in it is was".split()
    texts = []
    for topic in topics:
        words = list(rng.choice(WORDS[topic].split(), 3)) + list(rng.choice(filler, 4))
        texts.append(" ".join(rng.permutation(words)))
    return texts, np.array(["sport", "politics", "science"])[topics]


def test_pipeline_on_raw_strings_pickles_and_grid_searches():
    texts, labels = topic_texts(90)
    pipeline = make_pipeline(TokenSequencer(), embedder())
    pipeline.fit(texts, labels)
    new_texts, new_labels = topic_texts(30, seed=1)
    assert pipeline.score(new_texts, new_labels) > 0.8
    assert pipeline.transform(new_texts).shape == (30, 3)
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.transform(new_texts), pipeline.transform(new_texts))
    search = GridSearchCV(
        make_pipeline(TokenSequencer(), embedder(epochs=2)),
        {"tokenembeddingtransformer__embedding_dim": [2, 4]},
        cv=2,
    ).fit(texts, labels)
    assert search.best_params_["tokenembeddingtransformer__embedding_dim"] in (2, 4)
    assert search.predict(new_texts).shape == (30,)
