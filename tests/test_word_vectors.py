"""MeanWordVectorVectorizer: means of words (not characters), every source of vectors,
unknown words, TF-IDF weights, tokenisation, bad input, persistence and pipelines."""

import copy
import gzip
import os
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from ae_reduce import MeanWordVectorVectorizer

# Values that are multiples of 1/8 survive text files and float32 exactly, so every
# source of the same vectors must give bit-identical results.
VECTORS = {
    "cat": [1.0, 0.0, 0.5],
    "dog": [0.0, 1.0, -0.5],
    "sat": [0.25, 0.25, 0.0],
    "mat": [-1.0, 2.0, 0.125],
    "the": [0.5, 0.5, 0.5],
    # Single characters with vectors of their own: averaging a word's characters
    # instead of the word gives a different, wrong vector.
    "c": [9.0, 9.0, 9.0],
    "a": [-7.0, 3.0, 1.0],
    "t": [4.0, -4.0, 2.0],
}
WORDS = list(VECTORS)
MATRIX = np.array(list(VECTORS.values()))


def _write(path, lines):
    text = "".join(line + "\n" for line in lines).encode("utf-8")
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(text)
    else:
        path.write_bytes(text)
    return path


def _rows(words, matrix):
    return [
        " ".join([word, *(repr(float(value)) for value in row)])
        for word, row in zip(words, matrix, strict=True)
    ]


def write_glove(path, words=WORDS, matrix=MATRIX):
    return _write(path, _rows(words, matrix))


def write_word2vec(path, words=WORDS, matrix=MATRIX):
    return _write(path, [f"{len(words)} {np.shape(matrix)[1]}", *_rows(words, matrix)])


def _mean(*words):
    return np.mean([VECTORS[word] for word in words], axis=0)


# -- what a document's vector is ---------------------------------------------------------


def test_a_document_is_the_mean_of_its_words_not_of_its_characters():
    vectorizer = MeanWordVectorVectorizer(VECTORS).fit(["cat"])
    result = vectorizer.transform(["the cat sat", "cat cat dog", "cat"])
    expected = [_mean("the", "cat", "sat"), _mean("cat", "cat", "dog"), _mean("cat")]
    np.testing.assert_allclose(result, expected, rtol=1e-6)
    # What iterating over the string's characters would have given for "cat".
    per_character = _mean("c", "a", "t")
    assert not np.allclose(result[2], per_character)
    assert result.dtype == np.float32 and result.shape == (3, 3)


@pytest.mark.parametrize(
    "source",
    ["glove", "glove.gz", "word2vec", "word2vec.gz", "gzip named .txt", "pathlib", "dict", "pair"],
)
def test_every_source_of_the_same_vectors_gives_identical_results(source, tmp_path):
    documents = ["The cat sat on the mat.", "dog, dog and CAT", "", "nothing known here"]
    if source == "dict":
        vectors = VECTORS
    elif source == "pair":
        vectors = (WORDS, MATRIX)
    elif source == "gzip named .txt":
        # gzip is recognised from the file's first bytes, not from its name.
        vectors = str(write_glove(tmp_path / "vectors.txt.gz"))
        os.rename(vectors, tmp_path / "vectors.txt")
        vectors = str(tmp_path / "vectors.txt")
    elif source == "pathlib":
        vectors = write_glove(tmp_path / "vectors.txt")
    else:
        kind, _, compressed = source.partition(".")
        writer = write_glove if kind == "glove" else write_word2vec
        vectors = str(writer(tmp_path / f"vectors.txt{'.gz' if compressed else ''}"))
    result = MeanWordVectorVectorizer(vectors).fit_transform(documents)
    expected = MeanWordVectorVectorizer((WORDS, MATRIX.astype(np.float32))).fit_transform(documents)
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_allclose(result[0], _mean("the", "cat", "sat", "the", "mat"), rtol=1e-6)


def test_unknown_words_are_ignored_and_a_document_without_known_words_is_zeros():
    vectorizer = MeanWordVectorVectorizer(VECTORS).fit(["cat zebra", "unicorn"])
    result = vectorizer.transform(["cat zebra", "zebra unicorn", "", "cat"])
    np.testing.assert_array_equal(result[0], result[3])
    np.testing.assert_array_equal(result[1:3], 0.0)
    assert vectorizer.oov_fraction_ == pytest.approx(2 / 3)


def test_oov_warn_and_error_count_and_quote_the_unknown_words():
    documents = ["cat zebra zebra", "unicorn"]
    with pytest.warns(UserWarning, match=r"3 of 4 words \(75.0%\).*'zebra', 'unicorn'"):
        warned = MeanWordVectorVectorizer(VECTORS, oov="warn").fit_transform(documents)
    np.testing.assert_array_equal(
        warned, MeanWordVectorVectorizer(VECTORS).fit_transform(documents)
    )
    fitted = MeanWordVectorVectorizer(VECTORS, oov="error").fit(["cat dog"])
    with pytest.raises(ValueError, match=r"3 of 4 words.*'zebra', 'unicorn'.*oov='ignore'"):
        fitted.transform(documents)
    with pytest.raises(ValueError, match="have no word vector"):
        MeanWordVectorVectorizer(VECTORS, oov="error").fit(documents)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MeanWordVectorVectorizer(VECTORS, oov="warn").fit_transform(["cat dog"])


def test_tfidf_weighting_is_the_idf_weighted_mean_of_known_words():
    corpus = ["the cat sat", "the dog", "the the mat cat", "zebra"]
    vectorizer = MeanWordVectorVectorizer(VECTORS, weighting="tfidf").fit(corpus)
    n = len(corpus)
    document_frequency = {"the": 3, "cat": 2, "sat": 1, "dog": 1, "mat": 1}
    idf = {word: np.log((1 + n) / (1 + df)) + 1 for word, df in document_frequency.items()}
    unseen = np.log(1 + n) + 1
    # "the the mat cat": each occurrence weighted by its word's idf.
    weights = np.array([idf["the"], idf["the"], idf["mat"], idf["cat"]])
    rows = np.array([VECTORS[word] for word in ["the", "the", "mat", "cat"]])
    expected = weights @ rows / weights.sum()
    result = vectorizer.transform(["the the mat cat", "dog", "zebra", "cat dog"])
    np.testing.assert_allclose(result[0], expected, rtol=1e-6)
    np.testing.assert_allclose(result[1], VECTORS["dog"])
    np.testing.assert_array_equal(result[2], 0.0)
    cat_dog = (idf["cat"] * np.array(VECTORS["cat"]) + idf["dog"] * np.array(VECTORS["dog"])) / (
        idf["cat"] + idf["dog"]
    )
    np.testing.assert_allclose(result[3], cat_dog, rtol=1e-6)
    # The idf is scikit-learn's: TfidfTransformer's on the counts of the known words.
    counts = CountVectorizer(vocabulary=WORDS).transform(corpus)
    np.testing.assert_allclose(vectorizer.idf_, TfidfTransformer().fit(counts).idf_)
    assert vectorizer.idf_[WORDS.index("c")] == pytest.approx(unseen)


def test_a_custom_tokenizer_replaces_the_token_pattern():
    # The default pattern drops one-letter words; splitting at spaces keeps them.
    default = MeanWordVectorVectorizer(VECTORS).fit_transform(["a cat"])
    spaces = MeanWordVectorVectorizer(VECTORS, tokenizer=str.split).fit_transform(["a cat"])
    np.testing.assert_allclose(default[0], _mean("cat"))
    np.testing.assert_allclose(spaces[0], _mean("a", "cat"))


@pytest.mark.parametrize(
    ("tokenizer", "message"),
    [
        (str.lower, "returned a str.*characters"),
        (lambda doc: [1, 2], "str words.*1"),
        # A number after 25 unknown words was not checked.
        (lambda doc: ["zz"] * 25 + [5, "cat"], r"str words; it returned 5 \(int\)"),
    ],
    ids=["returns a str", "returns numbers", "a number after many unknown words"],
)
def test_a_tokenizer_that_does_not_return_words_is_refused(tokenizer, message):
    with pytest.raises(TypeError, match=message):
        MeanWordVectorVectorizer(VECTORS, tokenizer=tokenizer).fit_transform(["cat dog"])


def test_lowercase_changes_the_documents_and_never_the_vectors():
    vectors = {"Paris": [1.0, 0.0], "paris": [0.0, 1.0]}
    lowered = MeanWordVectorVectorizer(vectors).fit_transform(["Paris", "PARIS"])
    kept = MeanWordVectorVectorizer(vectors, lowercase=False).fit_transform(["Paris", "PARIS"])
    np.testing.assert_array_equal(lowered, [[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(kept, [[1.0, 0.0], [0.0, 0.0]])


# -- bad documents --------------------------------------------------------------------------


def test_a_string_instead_of_a_list_of_documents_is_refused_in_scikit_learns_words():
    vectorizer = MeanWordVectorVectorizer(VECTORS)
    message = "Iterable over raw text documents expected, string object received."
    with pytest.raises(ValueError, match=message):
        vectorizer.fit("the cat sat")
    vectorizer.fit(["the cat sat"])
    with pytest.raises(ValueError, match=message):
        vectorizer.transform("the cat sat")
    with pytest.raises(ValueError, match="bytes object received"):
        vectorizer.transform(b"the cat sat")


def test_documents_that_are_not_str_are_named_by_row():
    pd = pytest.importorskip("pandas")
    vectorizer = MeanWordVectorVectorizer(VECTORS).fit(["cat"])
    with pytest.raises(ValueError, match=r"None is an invalid document \(document 1\).*fillna"):
        vectorizer.transform(["cat", None])
    series = pd.Series(["cat", np.nan], index=["first", "second"])
    with pytest.raises(ValueError, match=r"document 1 \(index 'second'\)"):
        vectorizer.transform(series)
    with pytest.raises(ValueError, match="invalid document"):
        vectorizer.transform(pd.Series(["cat", pd.NA], dtype="string"))
    with pytest.raises(TypeError, match="document 2 is a int, not a str"):
        vectorizer.transform(["cat", "dog", 3])
    with pytest.raises(TypeError, match="document 0 is bytes; decode"):
        vectorizer.transform([b"cat"])
    with pytest.raises(TypeError, match="document 0 is a list"):
        vectorizer.transform([["cat", "dog"]])


def test_two_dimensional_input_is_refused_and_a_series_works():
    pd = pytest.importorskip("pandas")
    vectorizer = MeanWordVectorVectorizer(VECTORS).fit(["cat"])
    frame = pd.DataFrame({"text": ["cat", "dog"]})
    with pytest.raises(ValueError, match=r"DataFrame of shape \(2, 1\).*X\['text'\]"):
        vectorizer.transform(frame)
    with pytest.raises(ValueError, match=r"shape \(2, 1\).*ravel"):
        vectorizer.transform(np.array([["cat"], ["dog"]]))
    np.testing.assert_array_equal(
        vectorizer.transform(frame["text"]), vectorizer.transform(np.array(["cat", "dog"]))
    )


def test_fit_on_no_documents_is_refused_and_transform_of_none_is_empty():
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        MeanWordVectorVectorizer(VECTORS).fit([])
    result = MeanWordVectorVectorizer(VECTORS).fit(["cat"]).transform([])
    assert result.shape == (0, 3) and result.dtype == np.float32


# -- bad files and bad vectors ------------------------------------------------------------


def test_nothing_is_read_before_fit(tmp_path):
    vectorizer = MeanWordVectorVectorizer(str(tmp_path / "missing.txt"))
    with pytest.raises(NotFittedError):
        vectorizer.transform(["cat"])
    with pytest.raises(FileNotFoundError, match=r"Word vectors file not found.*missing\.txt"):
        vectorizer.fit(["cat"])


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["cat 1 2", "dog 1 2 3", "mat 1 2"], r"line 2: expected a word and 2 values.*line 1"),
        (["cat 1 2", "dog 1"], r"line 2: expected a word and 2 values.*found 1"),
        (["3 2", "cat 1 2", "dog 1 2 3", "mat 1 2"], r"line 3:.*the word2vec header on line 1"),
        (["cat 1 2", "dog 1 x"], r"line 2: 'x' is not a number"),
        (["cat 1 2", "", "dog nan 2"], r"line 3: the vector of 'dog'.*not finite"),
        (["cat 1 2", "dog 1e39 2"], r"line 2: the vector of 'dog'.*not finite in float32"),
        (["cat 1 2", "dog -inf 2"], r"line 2:.*not finite"),
        ([], "holds no word vectors"),
        (["", "  "], "holds no word vectors"),
        (["0 5"], "holds no word vectors"),
        (["3 2", "cat 1 2", "dog 1 2"], "header declares 3 words, but 2 vector lines"),
        (["1 2", "cat 1 2", "dog 1 2"], "header declares 1 words, but 2 vector lines"),
        (["cat"], "line 1: expected a word followed by its values"),
    ],
    ids=[
        "too many values",
        "too few values",
        "ragged after header",
        "not a number",
        "nan",
        "float32 overflow",
        "inf",
        "empty file",
        "blank lines only",
        "header only",
        "header says more",
        "header says fewer",
        "no values",
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_line(lines, message, tmp_path):
    path = _write(tmp_path / "bad.txt", lines)
    with pytest.raises(ValueError, match=message) as raised:
        MeanWordVectorVectorizer(str(path)).fit(["cat"])
    assert "bad.txt" in str(raised.value)


def test_a_file_that_is_not_text_or_not_gzip_is_refused(tmp_path):
    binary = tmp_path / "vectors.bin"
    binary.write_bytes(b"2 2\n\xff\xfe\x00\x01 1 2\n")
    with pytest.raises(ValueError, match=r"line 2: the word is not UTF-8.*binary word2vec"):
        MeanWordVectorVectorizer(str(binary)).fit(["cat"])
    truncated = tmp_path / "vectors.txt.gz"
    write_glove(truncated)
    truncated.write_bytes(truncated.read_bytes()[:-20])
    with pytest.raises(ValueError, match="not a readable gzip file"):
        MeanWordVectorVectorizer(str(truncated)).fit(["cat"])


def test_duplicate_words_keep_their_first_vector_with_a_warning(tmp_path):
    path = _write(tmp_path / "dup.txt", ["cat 1 2", "dog 3 4", "cat 5 6", "dog 7 8", "cat 9 9"])
    with pytest.warns(UserWarning, match=r"dup.txt' holds 3 duplicate word\(s\) \('cat', 'dog'"):
        vectorizer = MeanWordVectorVectorizer(str(path)).fit(["cat"])
    np.testing.assert_array_equal(vectorizer.transform(["cat", "dog"]), [[1, 2], [3, 4]])
    assert vectorizer.n_words_ == 2
    with pytest.warns(UserWarning, match=r"pair holds 1 duplicate word\(s\) \('cat'\)"):
        pair = MeanWordVectorVectorizer((["cat", "dog", "cat"], [[1, 2], [3, 4], [5, 6]]))
        np.testing.assert_array_equal(pair.fit_transform(["cat"]), [[1, 2]])


def test_words_with_spaces_of_large_glove_files_are_read(tmp_path):
    # GloVe's 840B file holds words such as ". . ." whose spaces split them in fields.
    path = _write(tmp_path / "spaces.txt", ["cat 1 2", ". . . 3 4", "at name@domain.com 5 6"])
    vectorizer = MeanWordVectorVectorizer(str(path), tokenizer=lambda doc: [doc]).fit(["x"])
    np.testing.assert_array_equal(
        vectorizer.transform([". . .", "at name@domain.com"]), [[3, 4], [5, 6]]
    )
    assert vectorizer.n_words_ == 3


def test_plain_and_irregular_lines_give_the_same_float32_values(tmp_path):
    # Plain lines are parsed in bulk; a tab or blank line sends its chunk line by line.
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((40, 6)) * 10.0 ** rng.integers(-6, 6, size=(40, 6))
    words = [f"w{i}" for i in range(40)]
    rows = _rows(words, matrix)
    plain = _write(tmp_path / "plain.txt", rows)
    irregular = _write(tmp_path / "irregular.txt", [rows[0].replace(" ", "\t", 1), "", *rows[1:]])
    documents = [" ".join(words), *words]
    expected = np.array(matrix, dtype=np.float32)
    for path in (plain, irregular):
        vectorizer = MeanWordVectorVectorizer(str(path), tokenizer=str.split).fit(["w0"])
        np.testing.assert_array_equal(vectorizer.transform(documents)[1:], expected)


def test_a_byte_order_mark_is_not_part_of_the_first_word(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_bytes(b"\xef\xbb\xbfcat 1 2\ndog 3 4\n")
    result = MeanWordVectorVectorizer(glove).fit_transform(["cat", "dog"])
    np.testing.assert_array_equal(result, [[1, 2], [3, 4]])
    word2vec = tmp_path / "w2v.txt"
    word2vec.write_bytes(b"\xef\xbb\xbf2 2\r\ncat 1 2\r\ndog 3 4\r\n")
    result = MeanWordVectorVectorizer(word2vec).fit_transform(["cat", "dog"])
    np.testing.assert_array_equal(result, [[1, 2], [3, 4]])


def test_a_word2vec_header_and_tabs_and_trailing_spaces_are_read(tmp_path):
    path = tmp_path / "w2v.txt"
    path.write_bytes(b"2 2\r\ncat\t1 2 \r\ndog  3 4\r\n\r\n")
    result = MeanWordVectorVectorizer(str(path)).fit_transform(["cat dog"])
    np.testing.assert_array_equal(result, [[2, 3]])


@pytest.mark.parametrize(
    ("vectors", "error", "message"),
    [
        ({"cat": [1, 2], "dog": [1, 2, 3]}, ValueError, r"vectors\['dog'\] has shape \(3,\)"),
        ({"cat": [[1, 2]]}, ValueError, "must be 1-D"),
        ({"cat": []}, ValueError, "must be 1-D"),
        ({"cat": 1.0}, ValueError, r"1-D and non-empty, but vectors\['cat'\] has shape \(\)\.$"),
        ({}, ValueError, "empty dict"),
        ({"cat": [1, 2], 3: [1, 2]}, TypeError, r"keys\) of vectors must be str; found 3"),
        ({"cat": [1, np.nan]}, ValueError, r"vectors\['cat'\] holds a value that is not finite"),
        ({"cat": ["a", "b"]}, ValueError, r"vectors\['cat'\] is not numeric"),
        ((["cat", "dog"], np.ones((3, 2))), ValueError, "2 words but 3 matrix rows"),
        ((["cat"], np.ones(2)), ValueError, "must be a 2-D array of real numbers"),
        ((["cat"], np.ones((1, 0))), ValueError, "it is empty"),
        (("cat", np.ones((3, 2))), TypeError, "sequence of str, not a str"),
        (([1], np.ones((1, 2))), TypeError, "must be str; found 1"),
        ((["cat"], [[np.inf, 1.0]]), ValueError, "vector of 'cat'.*not finite"),
        ((["cat"], [[1.0]], "extra"), ValueError, r"\(words, matrix\) pair; got 3 items"),
        ({"cat": [1 + 1j, 2]}, ValueError, r"vectors\['cat'\] is complex"),
        ((["cat"], [[1 + 1j]]), ValueError, "2-D array of real numbers.*complex128"),
    ],
    ids=[
        "ragged dict",
        "2-D value",
        "empty value",
        "scalar value",
        "empty dict",
        "non-str key",
        "nan in dict",
        "strings in dict",
        "pair lengths differ",
        "1-D matrix",
        "no columns",
        "str words",
        "non-str word",
        "inf in pair",
        "three items",
        "complex in dict",
        "complex pair",
    ],
)
def test_bad_vectors_in_memory_are_refused(vectors, error, message):
    with pytest.raises(error, match=message):
        MeanWordVectorVectorizer(vectors).fit(["cat"])


def test_the_caller_s_matrix_stays_writable_and_is_used_without_a_copy():
    matrix = MATRIX.astype(np.float32)
    vectorizer = MeanWordVectorVectorizer((WORDS, matrix)).fit(["cat"])
    held = vectorizer._word_vectors.matrix
    assert np.shares_memory(held, matrix)
    assert not held.flags.writeable
    matrix[0, 0] = 5.0  # still writable: the read-only flag is on the vectorizer's view
    assert held[0, 0] == 5.0


def test_a_failed_refit_leaves_the_fitted_vectorizer_as_it_was(tmp_path):
    vectorizer = MeanWordVectorVectorizer(VECTORS).fit(["cat"])
    before = vectorizer.transform(["cat dog"])
    vectorizer.set_params(vectors={"cat": [1.0, np.nan]})
    with pytest.raises(ValueError, match="not finite"):
        vectorizer.fit(["cat"])
    np.testing.assert_array_equal(vectorizer.transform(["cat dog"]), before)


# -- persistence ------------------------------------------------------------------------


@pytest.fixture
def large_file(tmp_path):
    """2,000 words of 50 values: a file of about 1 MB."""
    rng = np.random.default_rng(0)
    words = [f"word{i}" for i in range(2000)]
    matrix = rng.integers(-1000, 1000, size=(2000, 50)) / 64
    return write_glove(tmp_path / "large.txt", words, matrix), words


@pytest.mark.parametrize("weighting", [None, "tfidf"])
def test_a_pickle_holds_the_path_not_the_vectors_and_round_trips(large_file, weighting):
    path, words = large_file
    documents = [" ".join(words[i : i + 7]) for i in range(0, 300, 3)]
    vectorizer = MeanWordVectorVectorizer(str(path), weighting=weighting).fit(documents)
    payload = pickle.dumps(vectorizer)
    # The idf of words unseen during fit is not stored either.
    assert len(payload) < 8_000 < os.path.getsize(path) / 100
    restored = pickle.loads(payload)
    np.testing.assert_array_equal(restored.transform(documents), vectorizer.transform(documents))
    if weighting:
        np.testing.assert_array_equal(restored.idf_, vectorizer.idf_)


def test_vectors_in_memory_are_pickled_with_the_vectorizer():
    vectorizer = MeanWordVectorVectorizer(dict(VECTORS)).fit(["cat"])
    restored = pickle.loads(pickle.dumps(vectorizer))
    np.testing.assert_array_equal(
        restored.transform(["cat dog"]), vectorizer.transform(["cat dog"])
    )


def test_a_missing_or_changed_file_is_refused_after_loading_and_a_copy_is_accepted(tmp_path):
    path = write_glove(tmp_path / "vectors.txt")
    vectorizer = MeanWordVectorVectorizer(str(path)).fit(["cat"])
    expected = vectorizer.transform(["cat dog"])
    payload = pickle.dumps(vectorizer)

    moved = tmp_path / "moved.txt.gz"
    write_word2vec(moved)  # the same vectors in another format
    path.unlink()
    with pytest.raises(FileNotFoundError, match=r"vectors.txt' of this fitted.*set_params"):
        pickle.loads(payload).transform(["cat"])
    restored = pickle.loads(payload).set_params(vectors=str(moved))
    np.testing.assert_array_equal(restored.transform(["cat dog"]), expected)

    changed = MATRIX.copy()
    changed[1, 1] = 3.0
    write_glove(path, WORDS, changed)
    with pytest.raises(ValueError, match=r"vectors.txt' differ from those.*fitted with"):
        pickle.loads(payload).transform(["cat"])


def test_skops_round_trip(tmp_path):
    sio = pytest.importorskip("skops.io")
    path = write_glove(tmp_path / "vectors.txt")
    vectorizer = MeanWordVectorVectorizer(str(path), weighting="tfidf").fit(["cat dog", "cat"])
    payload = sio.dumps(vectorizer)
    restored = sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    np.testing.assert_array_equal(
        restored.transform(["cat dog"]), vectorizer.transform(["cat dog"])
    )


def test_copies_and_vectorizers_of_the_same_file_read_it_once(tmp_path):
    path = str(write_glove(tmp_path / "vectors.txt"))
    first = MeanWordVectorVectorizer(path).fit(["cat"])
    second = MeanWordVectorVectorizer(path, weighting="tfidf").fit(["dog"])
    copied = copy.deepcopy(first)
    assert second._word_vectors is first._word_vectors is copied._word_vectors
    np.testing.assert_array_equal(copied.transform(["cat dog"]), first.transform(["cat dog"]))


# -- scikit-learn conventions ----------------------------------------------------------------


def test_set_output_pandas_and_feature_names():
    pd = pytest.importorskip("pandas")
    vectorizer = MeanWordVectorVectorizer(VECTORS).set_output(transform="pandas")
    series = pd.Series(["cat", "dog sat"], index=[10, 20])
    frame = vectorizer.fit_transform(series)
    assert list(frame.columns) == [f"meanwordvectorvectorizer{i}" for i in range(3)]
    assert list(frame.index) == [10, 20]
    np.testing.assert_allclose(frame.loc[20], _mean("dog", "sat"))
    assert list(vectorizer.get_feature_names_out()) == list(frame.columns)


def test_pipelines_column_transformers_and_grid_search(tmp_path):
    pd = pytest.importorskip("pandas")
    path = str(write_glove(tmp_path / "vectors.txt"))
    texts = ["cat sat", "the cat", "cat mat", "dog sat", "the dog", "dog mat"] * 3
    labels = [0, 0, 0, 1, 1, 1] * 3
    pipeline = make_pipeline(MeanWordVectorVectorizer(path), LogisticRegression())
    assert pipeline.fit(texts, labels).score(["a cat", "big dog"], [0, 1]) == 1.0

    frame = pd.DataFrame({"text": texts, "number": np.arange(18.0)})
    columns = ColumnTransformer(
        [("words", MeanWordVectorVectorizer(path), "text"), ("n", "passthrough", ["number"])]
    )
    assert columns.fit_transform(frame).shape == (18, 4)

    search = GridSearchCV(pipeline, {"meanwordvectorvectorizer__weighting": [None, "tfidf"]}, cv=3)
    search.fit(texts, labels)
    # Every candidate was cloned and fitted: the vectors parameter (a path) clones.
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_score_ > 0.8
    assert clone(MeanWordVectorVectorizer(VECTORS)).vectors == VECTORS


def test_results_are_deterministic_and_do_not_depend_on_the_batch():
    documents = [f"the cat {'dog ' * i}sat on the mat" for i in range(50)]
    vectorizer = MeanWordVectorVectorizer(VECTORS, weighting="tfidf").fit(documents)
    together = vectorizer.transform(documents)
    alone = np.vstack([vectorizer.transform([document]) for document in documents])
    np.testing.assert_array_equal(together, alone)
    again = MeanWordVectorVectorizer(VECTORS, weighting="tfidf").fit_transform(documents)
    np.testing.assert_array_equal(together, again)


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_mixin_order,
        estimator_checks.check_valid_tag_types,
    ],
    ids=lambda check: check.__name__,
)
def test_scikit_learn_api_checks_that_need_no_numeric_data(check):
    # parametrize_with_checks runs only the cloning check on estimators of text
    # (its other checks feed numeric arrays), as for scikit-learn's own vectorizers.
    check("MeanWordVectorVectorizer", MeanWordVectorVectorizer(VECTORS))


def test_fit_returns_self_sets_no_parameters_and_refits_the_same():
    vectorizer = MeanWordVectorVectorizer(VECTORS, weighting="tfidf")
    params = vectorizer.get_params()
    assert vectorizer.fit(["cat dog"]) is vectorizer
    assert vectorizer.get_params() == params
    first = vectorizer.transform(["cat dog"])
    vectorizer.fit(["cat dog"])
    np.testing.assert_array_equal(vectorizer.transform(["cat dog"]), first)
    vectorizer.set_params(weighting=None).fit(["cat"])
    assert not hasattr(vectorizer, "idf_")


@pytest.mark.parametrize("weighting", [None, "tfidf"])
def test_a_mean_of_values_near_the_float32_limit_stays_finite(tmp_path, weighting):
    # Summed in float32, two words of 3e38 gave inf although their mean is 3e38.
    path = tmp_path / "vectors.txt"
    path.write_text("aa 3e38 1\nbb 3e38 -1\ncc -3e38 0\n")
    vectorizer = MeanWordVectorVectorizer(str(path), weighting=weighting)
    means = vectorizer.fit_transform(["aa bb", "aa aa bb cc", "dd", "", "aa"])
    assert means.dtype == np.float32
    assert np.isfinite(means).all()
    np.testing.assert_allclose(means[0, 0], 3e38, rtol=1e-6)
    np.testing.assert_array_equal(means[2:4], 0)
    np.testing.assert_allclose(means[4], [3e38, 1], rtol=1e-6)
