"""Searches and cross-validation on a Dask cluster give the results of the same search run
in one process: the same scores, the same best parameters and the same fitted networks,
whichever worker fitted what and whatever it fitted before."""

import joblib
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_digits, make_s_curve
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

# One worker starts the Dask cluster that several tests share.

SCORE_KEYS = ("mean_test_score", "std_test_score", "rank_test_score")


@pytest.fixture(scope="module")
def client():
    # Only this fixture needs distributed: the BLAS test below runs without it.
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def wide():
    """An S-curve lifted to 784 dimensions (MNIST's width) by a fixed smooth map, float32.

    At this width PCA takes its randomized solver, whose BLAS products round differently
    with one thread and with several.
    """
    points, _ = make_s_curve(240, random_state=0)
    points = (points - points.mean(axis=0)) / points.std(axis=0)
    rng = np.random.RandomState(0)
    X = np.sin(3 * points @ rng.normal(size=(3, 784)) + rng.uniform(0, 2 * np.pi, 784))
    return (X + 0.05 * rng.normal(size=X.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def small_digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:240]), y[:240]


def _autoencoder(**params):
    defaults = {"n_components": 4, "hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    return KerasAutoencoderTransformer(**{**defaults, **params})


def _supervised(**params):
    defaults = {
        "n_components": 2,
        "hidden_layer_sizes": (16,),
        "epochs": 4,
        "cv": None,
        "random_state": 0,
    }
    return SupervisedEmbeddingTransformer(**{**defaults, **params})


def _on_dask(search, *args, **kwargs):
    with joblib.parallel_backend("dask"):
        return search(*args, **kwargs)


def _assert_same_search(local, distributed, X):
    results = local.cv_results_
    split_keys = [key for key in results if key.startswith("split") and key.endswith("_score")]
    assert split_keys
    for key in (*split_keys, *SCORE_KEYS):
        np.testing.assert_array_equal(distributed.cv_results_[key], results[key], err_msg=key)
    assert distributed.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        distributed.best_estimator_.transform(X), local.best_estimator_.transform(X)
    )


def test_autoencoder_start_does_not_depend_on_blas_threads(wide):
    # Dask and loky workers run BLAS on one thread, a plain process on every core: the
    # PCA start of the network differed in its last bits, and the codes by about 1e-5.
    codes = []
    for n_threads in (1, 2):
        with threadpool_limits(limits=n_threads, user_api="blas"):
            codes.append(_autoencoder(epochs=2).fit(wide).transform(wide))
    np.testing.assert_array_equal(codes[0], codes[1])


def test_grid_search_on_dask_equals_one_process(client, wide):
    grid = {"hidden_layer_sizes": [(8,), (16,)], "learning_rate": [1e-3, 1e-2]}

    def search(n_jobs):
        return GridSearchCV(_autoencoder(), grid, cv=2, n_jobs=n_jobs)

    local = search(1).fit(wide)
    distributed = _on_dask(search(-1).fit, wide)
    _assert_same_search(local, distributed, wide)
    # Distinct scores, or equal results would prove nothing.
    assert len(set(local.cv_results_["mean_test_score"])) > 1


def test_randomized_search_on_dask_equals_one_process(client, small_digits):
    X, y = small_digits
    distributions = {"learning_rate": loguniform(1e-3, 3e-2), "dropout": [0.0, 0.2]}

    def search(n_jobs):
        return RandomizedSearchCV(
            _supervised(), distributions, n_iter=2, cv=2, random_state=0, n_jobs=n_jobs
        )

    local = search(1).fit(X, y)
    distributed = _on_dask(search(-1).fit, X, y)
    _assert_same_search(local, distributed, X)
    assert len(set(local.cv_results_["mean_test_score"])) > 1


def _custom_network():
    import keras

    inputs = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(12, activation="relu", name="hidden")(inputs)
    hidden = keras.layers.Dropout(0.2)(hidden)
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


def _embedding(estimator, X):
    """The output of the ae_reduce step, alone or in front of a classifier."""
    if isinstance(estimator, Pipeline):
        return estimator[:-1].transform(X)
    return estimator.transform(X)


@pytest.mark.parametrize(
    "make_estimator",
    [
        lambda: make_pipeline(_autoencoder(), LogisticRegression()),
        lambda: _supervised(model=_custom_network(), epochs=3),
    ],
    ids=["autoencoder-pipeline", "supervised-custom-network"],
)
def test_cross_validate_returns_worker_fitted_estimators(client, small_digits, make_estimator):
    # The estimators come back pickled from the workers: their networks must be whole.
    X, y = small_digits
    local = cross_validate(make_estimator(), X, y, cv=2, return_estimator=True)
    distributed = _on_dask(
        cross_validate, make_estimator(), X, y, cv=2, return_estimator=True, n_jobs=-1
    )
    np.testing.assert_array_equal(distributed["test_score"], local["test_score"])
    for here, there in zip(local["estimator"], distributed["estimator"], strict=True):
        np.testing.assert_array_equal(_embedding(there, X), _embedding(here, X))
        np.testing.assert_array_equal(there.predict(X), here.predict(X))


def _fit_after_others(X):
    # A worker keeps a compiled network per architecture, trained last on other rows
    # with another learning rate: a fit must depend on neither.
    _autoencoder(hidden_layer_sizes=(16,)).fit(X)
    _autoencoder(learning_rate=0.05).fit(X[::2])
    return _autoencoder().fit(X).transform(X)


def test_worker_that_fitted_before_gives_the_same_numbers(client, wide):
    expected = _autoencoder().fit(wide).transform(wide)
    worker = sorted(client.scheduler_info()["workers"])[0]
    codes = client.submit(_fit_after_others, wide, workers=[worker], pure=False).result()
    np.testing.assert_array_equal(codes, expected)
