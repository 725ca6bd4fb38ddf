"""EmbeddingIndex: neighbours as NearestNeighbors finds them, approximate recall,
transformers, kNN outlier scores, persistence and bad input."""

import io
import pickle
import sys

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

import ae_reduce._neighbors.index
from ae_reduce import EmbeddingIndex, KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

faiss = pytest.importorskip("faiss")

NETWORK = {"n_components": 4, "hidden_layer_sizes": (8,), "epochs": 2, "random_state": 0}


def _random(n_samples, n_features=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n_samples, n_features))


@pytest.fixture(scope="module")
def clustered():
    """5,000 rows in 16 dimensions around 40 centres of different spreads, plus queries."""
    X, _ = make_blobs(
        5200, n_features=16, centers=40, cluster_std=np.linspace(0.5, 2.0, 40), random_state=0
    )
    return X[:5000], X[5000:]


def _recall(found, true):
    return np.mean([len(np.intersect1d(f, t)) / len(t) for f, t in zip(found, true, strict=True)])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("query", ["new rows", "indexed rows"])
def test_exact_backend_finds_what_nearest_neighbors_finds(metric, query):
    X, Q = _random(300), _random(40, seed=1)
    Q = None if query == "indexed rows" else Q
    index = EmbeddingIndex(n_neighbors=7, metric=metric, backend="exact").fit(X)
    expected = NearestNeighbors(n_neighbors=7, metric=metric).fit(X)
    distances, indices = index.kneighbors(Q)
    true_distances, true_indices = expected.kneighbors(Q)
    np.testing.assert_array_equal(indices, true_indices)
    np.testing.assert_allclose(distances, true_distances)
    np.testing.assert_array_equal(
        index.kneighbors(Q, 3, return_distance=False), true_indices[:, :3]
    )
    assert index.backend_ == "exact" and isinstance(index.index_, NearestNeighbors)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_approximate_backend_recalls_the_true_neighbours(metric, clustered):
    X, Q = clustered
    index = EmbeddingIndex(metric=metric, backend="approximate").fit(X)
    assert index.backend_ == "approximate"
    expected = NearestNeighbors(n_neighbors=10, metric=metric).fit(X)
    for query in (Q, None):
        distances, indices = index.kneighbors(query)
        true_distances, true_indices = expected.kneighbors(query)
        assert _recall(indices, true_indices) >= 0.95
        assert np.all(np.diff(distances, axis=1) >= 0), "neighbours are nearest first"
        # Where the neighbour is the true one, so is its distance (float32 precision).
        same = indices == true_indices
        np.testing.assert_allclose(distances[same], true_distances[same], rtol=1e-4, atol=1e-5)
    assert not np.any(index.kneighbors(return_distance=False) == np.arange(len(X))[:, None])


def test_approximate_backend_drops_each_row_from_its_own_neighbours_like_sklearn():
    # Twelve copies of one row: with 3 neighbours, a copy may miss itself in its list.
    X = np.vstack([np.zeros((12, 3)), _random(40, 3)])
    index = EmbeddingIndex(n_neighbors=3, backend="approximate").fit(X)
    distances, indices = index.kneighbors()
    true_distances, _ = NearestNeighbors(n_neighbors=3).fit(X).kneighbors()
    np.testing.assert_allclose(distances, true_distances, atol=1e-6)
    assert indices.shape == (52, 3)
    assert not np.any(indices == np.arange(52)[:, None])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_approximate_backend_returns_every_neighbour_asked_for(metric):
    # Half the rows coincide: a graph search for nearly all rows then comes back short.
    X = _random(300, 3)
    X[:150] = [1.0, 0.0, 0.0]
    index = EmbeddingIndex(metric=metric, backend="approximate").fit(X)
    expected = NearestNeighbors(metric=metric).fit(X)
    for query, n_neighbors in ((None, 299), (X[140:160], 300)):
        distances, indices = index.kneighbors(query, n_neighbors)
        true_distances, _ = expected.kneighbors(query, n_neighbors)
        np.testing.assert_allclose(distances, true_distances, atol=1e-6)
        assert all(len(np.unique(row)) == n_neighbors for row in indices)
        assert indices.min() >= 0


@pytest.mark.parametrize("backend", ["exact", "approximate"])
def test_fits_and_queries_are_deterministic(backend, clustered):
    X, Q = clustered
    threads = faiss.omp_get_max_threads()
    first = EmbeddingIndex(backend=backend).fit(X)
    second = EmbeddingIndex(backend=backend).fit(X)
    assert faiss.omp_get_max_threads() == threads
    for query in (Q, None):
        a, b = first.kneighbors(query), second.kneighbors(query)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_auto_backend_chooses_by_size_faiss_and_sparsity(monkeypatch):
    X = _random(120)
    assert EmbeddingIndex().fit(X).backend_ == "exact"
    monkeypatch.setattr(ae_reduce._neighbors.index, "APPROXIMATE_FROM", 100)
    assert EmbeddingIndex().fit(X).backend_ == "approximate"
    assert EmbeddingIndex().fit(sp.csr_matrix(X)).backend_ == "exact"
    assert EmbeddingIndex(backend="exact").fit(X).backend_ == "exact"
    monkeypatch.setitem(sys.modules, "faiss", None)
    assert EmbeddingIndex().fit(X).backend_ == "exact"


def test_approximate_backend_without_faiss_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ImportError, match=r"pip install 'ae-reduce\[ann\]'"):
        EmbeddingIndex(backend="approximate").fit(_random(20))


def test_loading_an_approximate_index_without_faiss_names_the_extra(monkeypatch):
    payload = pickle.dumps(EmbeddingIndex(backend="approximate").fit(_random(20)))
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ImportError, match=r"ae-reduce\[ann\]"):
        pickle.loads(payload)


@pytest.mark.parametrize("backend", ["exact", "approximate"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_pickle_and_joblib_round_trips_give_identical_results(backend, metric):
    X, Q = _random(500), _random(30, seed=1)
    index = EmbeddingIndex(metric=metric, backend=backend).fit(X)
    buffer = io.BytesIO()
    joblib.dump(index, buffer)
    buffer.seek(0)
    for restored in (pickle.loads(pickle.dumps(index)), joblib.load(buffer)):
        assert restored.backend_ == backend
        for query in (Q, None):
            for got, expected in zip(
                restored.kneighbors(query), index.kneighbors(query), strict=True
            ):
                np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(restored.score_samples(), index.score_samples())


@pytest.mark.parametrize("backend", ["exact", "approximate"])
def test_skops_round_trip(backend):
    sio = pytest.importorskip("skops.io")
    X = _random(200, n_features=20)
    index = EmbeddingIndex(backend=backend).fit(X)
    payload = sio.dumps(index)
    untrusted = sio.get_untrusted_types(data=payload)
    assert untrusted == ["ae_reduce._index.EmbeddingIndex"]
    restored = sio.loads(payload, trusted=untrusted)
    np.testing.assert_array_equal(restored.kneighbors()[1], index.kneighbors()[1])


def test_a_fitted_transformer_embeds_without_being_trained(digits):
    X, _ = digits
    X = X[:300]
    autoencoder = KerasAutoencoderTransformer(**NETWORK).fit(X)
    weights = autoencoder.encoder_.get_weights()
    index = EmbeddingIndex(autoencoder, n_neighbors=5).fit(X)
    for before, after in zip(weights, autoencoder.encoder_.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    # A copy, so that refitting the caller's transformer cannot move the index's space.
    assert index.transformer_ is not autoencoder
    codes = autoencoder.transform(X)
    np.testing.assert_array_equal(index.transformer_.transform(X), codes)
    expected = NearestNeighbors(n_neighbors=5).fit(codes)
    np.testing.assert_array_equal(index.kneighbors(X[:20])[1], expected.kneighbors(codes[:20])[1])
    np.testing.assert_array_equal(index.kneighbors()[1], expected.kneighbors()[1])
    assert index.n_features_in_ == 64


def test_an_unfitted_transformer_is_cloned_and_fitted_with_the_labels(digits):
    X, y = digits
    X, y = X[:300], y[:300]
    embedder = SupervisedEmbeddingTransformer(cv=None, **NETWORK)
    index = EmbeddingIndex(embedder, n_neighbors=5).fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(embedder)
    check_is_fitted(index.transformer_)
    assert index.transformer_ is not embedder
    codes = index.transformer_.transform(X)
    assert codes.shape == (300, 4)
    expected = NearestNeighbors(n_neighbors=5).fit(codes).kneighbors()[1]
    np.testing.assert_array_equal(index.kneighbors()[1], expected)


@pytest.mark.parametrize("backend", ["exact", "approximate"])
def test_score_samples_ranks_planted_outliers_lowest(backend):
    rng = np.random.default_rng(0)
    inliers, _ = make_blobs(600, n_features=8, centers=5, cluster_std=1.0, random_state=0)
    outliers = rng.uniform(inliers.min() - 5, inliers.max() + 5, size=(20, 8))
    X = np.vstack([inliers, outliers])
    is_outlier = np.r_[np.zeros(600), np.ones(20)]
    index = EmbeddingIndex(backend=backend).fit(X)
    scores = index.score_samples()
    assert roc_auc_score(is_outlier, -scores) > 0.95
    np.testing.assert_allclose(scores, -index.kneighbors()[0].mean(axis=1))
    # New rows are scored against all indexed rows.
    new_scores = index.score_samples(np.vstack([inliers[:5] + 0.01, outliers[:5] + 0.01]))
    assert new_scores[:5].min() > new_scores[5:].max()
    assert scores.dtype == np.float64 and scores.shape == (620,)


def test_sparse_rows_are_searched_exactly_and_refused_by_the_approximate_backend():
    X = sp.random(100, 30, density=0.2, format="csr", random_state=0)
    index = EmbeddingIndex(n_neighbors=4).fit(X)
    expected = NearestNeighbors(n_neighbors=4).fit(X)
    np.testing.assert_array_equal(index.kneighbors()[1], expected.kneighbors()[1])
    with pytest.raises(TypeError, match=r"Sparse data was passed.*backend='exact'"):
        EmbeddingIndex(backend="approximate").fit(X)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"metric": "manhattan"}, "'metric' parameter of EmbeddingIndex must be a str among"),
        ({"backend": "hnsw"}, "'backend' parameter of EmbeddingIndex must be a str among"),
        ({"n_neighbors": 0}, "'n_neighbors' parameter of EmbeddingIndex must be an int"),
        ({"transformer": object()}, "'transformer' parameter of EmbeddingIndex must be"),
    ],
)
def test_bad_parameters_are_refused_in_scikit_learns_words(params, message):
    with pytest.raises(ValueError, match=message):
        EmbeddingIndex(**params).fit(_random(20))


@pytest.mark.parametrize("backend", ["exact", "approximate"])
def test_too_many_neighbours_are_refused_as_nearest_neighbors_does(backend):
    X = _random(8)
    index = EmbeddingIndex(n_neighbors=3, backend=backend).fit(X)
    sklearn_index = NearestNeighbors().fit(X)
    for query, n_neighbors in ((X[:2], 9), (None, 8)):
        with pytest.raises(ValueError) as expected:
            sklearn_index.kneighbors(query, n_neighbors)
        with pytest.raises(ValueError) as got:
            index.kneighbors(query, n_neighbors)
        assert str(got.value) == str(expected.value)
    with pytest.raises(ValueError, match="Expected n_neighbors < n_samples_fit"):
        EmbeddingIndex(n_neighbors=8, backend=backend).fit(X).score_samples()
    with pytest.raises(ValueError, match=r"Expected n_neighbors > 0\. Got 0"):
        index.kneighbors(X, 0)
    with pytest.raises(TypeError, match="enter integer value"):
        index.kneighbors(X, 2.5)


@pytest.mark.parametrize("backend", ["exact", "approximate"])
def test_bad_queries_are_refused_clearly(backend):
    index = EmbeddingIndex(n_neighbors=3, backend=backend).fit(_random(30))
    with pytest.raises(ValueError, match="X has 4 features, but EmbeddingIndex is expecting 6"):
        index.kneighbors(_random(5, n_features=4))
    with_nan = _random(5)
    with_nan[2, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        index.score_samples(with_nan)
    with pytest.raises(NotFittedError):
        EmbeddingIndex().kneighbors(_random(5))


def test_values_beyond_float32_are_refused_by_the_approximate_backend():
    X = _random(30)
    X[0, 0] = 1e300
    with pytest.raises(ValueError, match=r"too large for float32.*backend='exact'"):
        EmbeddingIndex(backend="approximate").fit(X)


@pytest.mark.parametrize("backend", ["exact", "approximate"])
def test_a_failed_fit_keeps_the_earlier_index(backend):
    X = _random(50)
    index = EmbeddingIndex(n_neighbors=3, backend=backend).fit(X)
    before = index.kneighbors()
    with_nan = _random(60)
    with_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        index.fit(with_nan)
    assert index.n_samples_fit_ == 50
    for got, expected in zip(index.kneighbors(), before, strict=True):
        np.testing.assert_array_equal(got, expected)
    unfitted = EmbeddingIndex(backend=backend)
    with pytest.raises(ValueError, match="NaN"):
        unfitted.fit(with_nan)
    assert not hasattr(unfitted, "index_")


def test_a_transformer_that_learns_from_labels_needs_y():
    # Without y, the clone's fit failed with a raw "missing 1 required positional
    # argument: 'y'".
    from ae_reduce import SupervisedEmbeddingTransformer

    X = np.random.default_rng(0).normal(size=(30, 4))
    index = EmbeddingIndex(SupervisedEmbeddingTransformer())
    with pytest.raises(
        ValueError, match=r"SupervisedEmbeddingTransformer requires y .*\.fit\(X, y\)"
    ):
        index.fit(X)
    assert not hasattr(index, "index_")


def test_token_ids_of_another_length_can_be_searched():
    # The columns of token ids are positions: TokenEmbeddingTransformer embeds
    # documents padded to any width, and so must the index built on it.
    from ae_reduce import TokenEmbeddingTransformer

    rng = np.random.default_rng(0)
    ids, labels = rng.integers(1, 20, size=(40, 6)), np.arange(40) % 2
    transformer = TokenEmbeddingTransformer(
        n_components=2, embedding_dim=4, epochs=3, cv=None, random_state=0
    ).fit(ids, labels)
    index = EmbeddingIndex(transformer, n_neighbors=3).fit(ids)
    padded = np.hstack([ids[:2], np.zeros((2, 3), dtype=ids.dtype)])
    for got, expected in zip(index.kneighbors(padded), index.kneighbors(ids[:2]), strict=True):
        np.testing.assert_array_equal(got, expected)
