"""The t-SNE adapter and the pipeline helper."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from ae_reduce import TSNE, KerasAutoencoderTransformer, ParametricTSNE, make_tsne_pipeline

pytest.importorskip("openTSNE")

FAST = {"n_iter": 100, "early_exaggeration_iter": 50}

# fit_transform returns the optimised training positions; transform places the same
# rows again as new points. They agree only roughly, as for any non-parametric map.
EXPECTED_FAILURES = {
    "check_transformer_general": "fit_transform and fit().transform() differ by design",
    "check_transformer_data_not_an_array": "fit_transform and fit().transform() differ",
}


@parametrize_with_checks(
    [TSNE(perplexity=5, n_iter=20, early_exaggeration_iter=10, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILURES,
)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def raw_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(X))[:500]
    return X[order], y[order]


@pytest.fixture(scope="module")
def fitted_pipeline(raw_digits):
    X, _ = raw_digits
    pipeline = make_pipeline(
        StandardScaler(),
        KerasAutoencoderTransformer(
            n_components=16, hidden_layer_sizes=(16,), epochs=5, random_state=0
        ),
        TSNE(random_state=0, **FAST),
    )
    Z = pipeline.fit_transform(X[:400])
    return pipeline, Z


def test_pipeline_fit_transform_draws_the_map(fitted_pipeline):
    pipeline, Z = fitted_pipeline
    assert Z.shape == (400, 2)
    assert np.isfinite(Z).all()
    assert pipeline.get_feature_names_out().tolist() == ["tsne0", "tsne1"]


def test_transform_places_new_rows_near_their_neighbours(fitted_pipeline, raw_digits):
    pipeline, Z = fitted_pipeline
    X, _ = raw_digits
    placed = pipeline.transform(X[400:])
    assert placed.shape == (100, 2)
    # Each new row should land next to one of the training rows nearest to it in the
    # autoencoder's code (by chance that happens for 10 in 400, 2.5%).
    codes = pipeline[:-1].transform(X)
    code_neighbours = NearestNeighbors(n_neighbors=10).fit(codes[:400]).kneighbors(codes[400:])[1]
    map_neighbour = NearestNeighbors(n_neighbors=1).fit(Z).kneighbors(placed)[1][:, 0]
    hits = [map_neighbour[i] in code_neighbours[i] for i in range(len(placed))]
    assert np.mean(hits) > 0.8


def test_transform_does_not_move_the_training_map(raw_digits):
    X, _ = raw_digits
    tsne = TSNE(random_state=0, **FAST)
    Z = tsne.fit_transform(X[:300])
    before = Z.copy()
    tsne.transform(X[300:320])
    np.testing.assert_array_equal(Z, before)
    np.testing.assert_allclose(np.asarray(tsne.embedding_), before, atol=1e-12)


def test_fit_is_reproducible_with_a_seed(raw_digits):
    X, _ = raw_digits
    first = TSNE(random_state=3, **FAST).fit_transform(X[:300])
    second = TSNE(random_state=3, **FAST).fit_transform(X[:300])
    np.testing.assert_array_equal(first, second)


def test_pipeline_clones_with_all_parameters(fitted_pipeline):
    pipeline, _ = fitted_pipeline
    copy = clone(pipeline)
    assert copy.get_params()["tsne__n_iter"] == 100
    assert copy.get_params()["tsne__early_exaggeration"] == "auto"
    assert not hasattr(copy[-1], "embedding_")


def test_pickle_round_trip_gives_the_same_transform(fitted_pipeline, raw_digits):
    pipeline, _ = fitted_pipeline
    X, _ = raw_digits
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_allclose(restored.transform(X[400:]), pipeline.transform(X[400:]))


def test_callbacks_run_during_fit_and_are_not_kept(raw_digits):
    X, _ = raw_digits
    calls = []
    tsne = TSNE(random_state=0, callbacks=lambda *args: calls.append(args[0]), **FAST)
    tsne.fit(X[:200])
    assert calls
    pickle.dumps(tsne.embedding_)  # a lambda would not pickle if the map kept it


def _stop_at_call(number):
    calls = []

    def callback(iteration, kl_divergence, embedding):
        calls.append(iteration)
        return len(calls) == number

    return callback


@pytest.mark.parametrize(
    "stop_at_call, steps",
    [
        # Every 10 iterations: calls 1-5 fall in the 50 early-exaggeration iterations.
        (2, {"early_exaggeration_iter": 19, "n_iter": 0}),
        (7, {"early_exaggeration_iter": 50, "n_iter": 19}),
    ],
)
def test_callback_returning_true_stops_the_whole_fit(raw_digits, stop_at_call, steps):
    # Regression: a callback returning True made fit fail with a TypeError, and n_iter_
    # reported the configured iterations instead of those run.
    X, _ = raw_digits
    stopped = TSNE(
        random_state=0, callbacks=_stop_at_call(stop_at_call), callbacks_every_iters=10, **FAST
    )
    Z = stopped.fit_transform(X[:100])
    assert stopped.n_iter_ == steps["early_exaggeration_iter"] + steps["n_iter"]
    # openTSNE stops before the step of the stopping iteration, and skips every later
    # phase: the map is the one of a fit that ran exactly n_iter_ steps.
    reference = TSNE(random_state=0, **steps)
    np.testing.assert_allclose(Z, reference.fit_transform(X[:100]), atol=1e-9)
    assert stopped.kl_divergence_ == pytest.approx(reference.kl_divergence_, rel=1e-6)
    assert stopped.transform(X[100:103]).shape == (3, 2)


def test_n_iter_counts_both_phases_without_a_stop(raw_digits):
    X, _ = raw_digits
    tsne = TSNE(random_state=0, callbacks=[lambda *args: False], **FAST).fit(X[:100])
    assert tsne.n_iter_ == 150


def test_callbacks_hear_when_each_phase_starts(raw_digits):
    X, _ = raw_digits

    class Counter:
        starts = 0

        def optimization_about_to_start(self):
            self.starts += 1

        def __call__(self, iteration, kl_divergence, embedding):
            return False

    counter = Counter()
    TSNE(random_state=0, callbacks=[counter], **FAST).fit(X[:100])
    assert counter.starts == 2


def test_callbacks_must_be_callable(raw_digits):
    X, _ = raw_digits
    with pytest.raises(TypeError, match="callbacks must be a callable or a list of callables"):
        TSNE(callbacks=[print, 3], **FAST).fit(X[:100])


def _snapshot(tsne):
    return {name: value for name, value in vars(tsne).items() if name.endswith("_")}


def _raise_at_first_call(*args):
    raise RuntimeError("callback failed")


@pytest.mark.parametrize(
    "bad_fit",
    [
        lambda tsne, X: tsne.fit(np.where(np.eye(100, 64) == 1, np.nan, X[:100])),
        lambda tsne, X: tsne.fit_transform(X[:100] * 1e20),
        lambda tsne, X: tsne.fit(X[:3]),
        lambda tsne, X: tsne.set_params(callbacks=_raise_at_first_call).fit(X[:100, :10]),
    ],
    ids=["nan", "too-large", "too-few-rows", "callback-raises"],
)
def test_failed_fit_keeps_the_earlier_state(raw_digits, bad_fit):
    pd = pytest.importorskip("pandas")
    X, _ = raw_digits
    frame = pd.DataFrame(X[:150], columns=[f"pixel{i}" for i in range(64)])
    tsne = TSNE(random_state=0, **FAST).fit(frame.iloc[:100])
    before = _snapshot(tsne)
    placed = tsne.transform(frame.iloc[100:105])
    with pytest.raises((ValueError, RuntimeError)):
        bad_fit(tsne, X)
    after = _snapshot(tsne)
    assert after.keys() == before.keys()
    assert after["embedding_"] is before["embedding_"]
    assert tsne.n_features_in_ == 64
    assert list(tsne.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(tsne.transform(frame.iloc[100:105]), placed)


@pytest.mark.parametrize(
    "data, params",
    [
        (np.full((100, 64), np.nan), {}),
        (np.ones((100, 64)) * np.arange(100)[:, None] * 1e20, {}),
        (None, {"callbacks": _raise_at_first_call}),
    ],
    ids=["nan", "too-large", "callback-raises"],
)
def test_failed_fit_leaves_an_unfitted_estimator_unfitted(raw_digits, data, params):
    X, _ = raw_digits
    tsne = TSNE(random_state=0, **FAST, **params)
    with pytest.raises((ValueError, RuntimeError)):
        tsne.fit(X[:100] if data is None else data)
    assert _snapshot(tsne) == {}
    with pytest.raises(NotFittedError):
        tsne.transform(X[:5])


def test_too_large_perplexity_is_lowered_with_a_warning(raw_digits):
    X, _ = raw_digits
    with pytest.warns(UserWarning, match="perplexity=30 is too large for 40 samples"):
        tsne = TSNE(random_state=0, **FAST).fit(X[:40])
    assert tsne.perplexity_ == pytest.approx(13.0)
    assert tsne.transform(X[40:45]).shape == (5, 2)


@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_perplexity_warning_points_at_the_callers_line(raw_digits, method):
    X, _ = raw_digits
    with pytest.warns(UserWarning, match="perplexity=30 is too large") as record:
        getattr(TSNE(random_state=0, **FAST), method)(X[:40])
    assert record[0].filename == __file__


@pytest.mark.parametrize("n_samples", [5, 6, 40, 61])
def test_helper_picks_the_perplexity_bound_that_fit_uses(raw_digits, n_samples):
    # Regression: the helper's bound was one below fit's, (n_samples - 1) / 3, and its
    # floor of 2 made fit lower the helper's own choice with a warning on tiny data.
    X, _ = raw_digits
    pipeline = make_tsne_pipeline(None, shape=(n_samples, 64), tsne_params=FAST)
    assert pipeline["tsne"].perplexity == pytest.approx((n_samples - 1) / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline.fit(X[:n_samples])
    assert pipeline["tsne"].perplexity_ == pipeline["tsne"].perplexity
    with pytest.warns(UserWarning, match="perplexity=1000 is too large"):
        largest = TSNE(perplexity=1000, **FAST).fit(X[:n_samples]).perplexity_
    assert largest == pytest.approx(pipeline["tsne"].perplexity)


@pytest.mark.parametrize("scale", [1e13, 1e20, 1e200])
@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_values_too_large_for_distances_raise(raw_digits, scale, method):
    # Regression: 1e20 gave an all-NaN map, 1e200 a reshape error inside openTSNE.
    X, _ = raw_digits
    match = "too large for t-SNE's distance computations.*StandardScaler"
    with pytest.raises(ValueError, match=match):
        getattr(TSNE(random_state=0, **FAST), method)(X[:100] * scale)


def test_large_but_accurate_scales_still_fit(raw_digits):
    X, _ = raw_digits
    Z = TSNE(random_state=0, **FAST).fit_transform(X[:100] / 16 * 1e9)
    assert np.isfinite(Z).all()


@pytest.mark.parametrize("rows", ["scaled", "offset"])
def test_transform_rejects_rows_too_far_for_distances(raw_digits, rows):
    # Regression: transform returned NaN for such rows.
    X, _ = raw_digits
    tsne = TSNE(random_state=0, **FAST).fit(X[:100])
    new = X[100:105] * 1e20 if rows == "scaled" else X[100:105] + 1e13
    with pytest.raises(ValueError, match="X passed to transform contains values too large"):
        tsne.transform(new)
    assert np.isfinite(tsne.transform(X[100:105])).all()


def test_data_frame_without_columns_names_the_shape(raw_digits):
    pd = pytest.importorskip("pandas")
    X, _ = raw_digits
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(10, 0\)\)"):
        TSNE(**FAST).fit(pd.DataFrame(index=range(10)))
    tsne = TSNE(random_state=0, **FAST).fit(X[:100])
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(3, 0\)\)"):
        tsne.transform(pd.DataFrame(index=range(3)))


def test_identical_rows_give_a_finite_map():
    # Regression: openTSNE's PCA start divides by the rows' spread, giving NaN.
    X = np.ones((20, 3))
    tsne = TSNE(perplexity=3, random_state=0, **FAST)
    assert np.isfinite(tsne.fit_transform(X)).all()
    assert np.isfinite(tsne.transform(X[:2])).all()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"perplexity": 0}, "perplexity"),
        ({"n_components": 4}, "n_components"),
        ({"neighbors": "kdtree"}, "neighbors"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"n_components": 3, "negative_gradient_method": "fft"}, "at most 2 components"),
    ],
)
def test_invalid_parameters_raise_at_fit(raw_digits, params, match):
    X, _ = raw_digits
    tsne = TSNE(**params)  # __init__ accepts anything, as scikit-learn requires
    with pytest.raises(ValueError, match=match):
        tsne.fit(X[:100])


@pytest.mark.parametrize("perplexity", [0.2, 1e-6, np.nextafter(1 / 3, 0)])
def test_perplexity_below_one_third_is_refused(raw_digits, perplexity):
    # Regression: openTSNE searched int(3 * perplexity) = 0 neighbours and failed with
    # "Expected n_neighbors > 0. Got 0".
    X, _ = raw_digits
    message = r"The 'perplexity' parameter of TSNE must be a float in the range \[0\.333"
    with pytest.raises(ValueError, match=message):
        TSNE(perplexity=perplexity, **FAST).fit(X[:50])
    assert np.isfinite(TSNE(perplexity=1 / 3, random_state=0, **FAST).fit_transform(X[:50])).all()


def test_transform_perplexity_below_one_third_is_refused(raw_digits):
    X, _ = raw_digits
    tsne = TSNE(perplexity=5, random_state=0, transform_params={"perplexity": 0.2}, **FAST).fit(
        X[:50]
    )
    with pytest.raises(ValueError, match=r"'perplexity' of transform_params .* \[0\.333"):
        tsne.transform(X[50:52])
    tsne.set_params(transform_params={"perplexity": 1 / 3})
    assert np.isfinite(tsne.transform(X[50:52])).all()


@pytest.mark.parametrize("neighbors", ["exact", "annoy"])
def test_cosine_metric_refuses_all_zero_rows_by_index(raw_digits, neighbors):
    # Regression: the exact search reported "Input X contains NaN", Annoy placed the
    # rows arbitrarily.
    X, _ = raw_digits
    X = X[:60].copy()
    X[[3, 10]] = 0
    tsne = TSNE(perplexity=5, metric="cosine", neighbors=neighbors, random_state=0, **FAST)
    message = r"X has 2 all-zero rows \(rows 3, 10\): the cosine distance is undefined"
    with pytest.raises(ValueError, match=message):
        tsne.fit(X)
    X[:8] = 0
    with pytest.raises(ValueError, match=r"9 all-zero rows \(rows 0, 1, 2, 3, 4, \.\.\.\)"):
        tsne.fit(X)
    tsne.fit(X[11:])
    with pytest.raises(ValueError, match=r"X passed to transform has 1 all-zero row \(row 1\)"):
        tsne.transform(X[9:11])
    assert np.isfinite(tsne.transform(X[11:13])).all()


def test_n_jobs_must_not_be_zero(raw_digits):
    # Regression: n_jobs=0 passed validation and failed inside joblib.
    X, _ = raw_digits
    message = (
        r"The 'n_jobs' parameter of TSNE must be an int in the range \(-inf, -1\], an int in "
        r"the range \[1, inf\) or None\. Got 0 instead\."
    )
    with pytest.raises(ValueError, match=message):
        TSNE(n_jobs=0, **FAST).fit(X[:50])
    assert np.isfinite(
        TSNE(perplexity=5, n_jobs=-1, random_state=0, **FAST).fit_transform(X[:50])
    ).all()


def test_transform_checks_fit_and_features(raw_digits):
    X, _ = raw_digits
    with pytest.raises(NotFittedError):
        TSNE().transform(X[:5])
    tsne = TSNE(random_state=0, **FAST).fit(X[:100])
    with pytest.raises(ValueError, match="features"):
        tsne.transform(X[:5, :10])


def test_three_components_use_barnes_hut(raw_digits):
    X, _ = raw_digits
    assert TSNE(n_components=3, random_state=0, **FAST).fit_transform(X[:150]).shape == (150, 3)


def test_helper_builds_the_usual_chain():
    pipeline = make_tsne_pipeline("pca", shape=(60_000, 784), random_state=0)
    assert isinstance(pipeline, Pipeline)
    assert [name for name, _ in pipeline.steps] == ["scaler", "reducer", "tsne"]
    assert isinstance(pipeline["reducer"], PCA)
    assert pipeline["reducer"].n_components == 50
    assert pipeline["tsne"].perplexity == 30


def test_helper_sizes_the_defaults_to_the_data():
    small = make_tsne_pipeline("autoencoder", shape=(60, 10))
    assert small["reducer"].n_components == 5
    assert small["reducer"].hidden_layer_sizes == (128, 64)
    assert small["reducer"].batch_size == "auto"
    assert small["tsne"].perplexity < 30
    wide = make_tsne_pipeline("autoencoder", shape=(200_000, 784), random_state=1)
    assert wide["reducer"].n_components == 32
    # (512, 256) branches drew no better a map of real MNIST digits, in twice the time.
    assert wide["reducer"].hidden_layer_sizes == (128, 64)
    supervised = make_tsne_pipeline("supervised", shape=(200_000, 784))
    assert supervised["reducer"].hidden_layer_sizes == (512, 256)
    assert wide["reducer"].batch_size == "auto"
    assert wide["reducer"].random_state == 1
    assert wide["tsne"].exaggeration == 4.0


@pytest.mark.parametrize("reducer", ["pca", "autoencoder", "supervised"])
@pytest.mark.parametrize("n_features", [1, 2, 3, 13, 64, 784])
def test_helper_never_picks_a_code_as_wide_as_the_input(reducer, n_features):
    # Regression: wine's 13 features gave the autoencoder a 13-unit code.
    pipeline = make_tsne_pipeline(reducer, shape=(500, n_features))
    width = pipeline["reducer"].n_components
    assert 1 <= width
    assert width < n_features or n_features == 1


def test_helper_accepts_estimators_and_overrides():
    reducer = PCA(n_components=5)
    pipeline = make_tsne_pipeline(reducer, scaler=None, perplexity=10, tsne_params={"n_iter": 50})
    assert [name for name, _ in pipeline.steps] == ["reducer", "tsne"]
    assert pipeline["reducer"] is reducer
    assert pipeline["tsne"].perplexity == 10
    assert pipeline["tsne"].n_iter == 50
    raw = make_tsne_pipeline(None, reducer_params={"epochs": 3})
    assert [name for name, _ in raw.steps] == ["scaler", "tsne"]
    assert make_tsne_pipeline(reducer_params={"epochs": 3})["reducer"].epochs == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reducer": "umap"}, "reducer must be"),
        ({"scaler": "robust"}, "scaler must be one of 'auto', 'standard'"),
        ({"shape": (10,)}, "shape must be"),
    ],
)
def test_helper_rejects_unknown_choices(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_tsne_pipeline(**kwargs)


def test_helper_pipeline_runs_end_to_end(raw_digits):
    X, _ = raw_digits
    pipeline = make_tsne_pipeline("pca", shape=(300, 64), random_state=0, tsne_params=FAST)
    assert pipeline.fit_transform(X[:300]).shape == (300, 2)
    assert pipeline.transform(X[300:310]).shape == (10, 2)


def test_supervised_front_end(raw_digits):
    X, y = raw_digits
    pipeline = make_tsne_pipeline(
        "supervised",
        shape=(300, 64),
        n_components=8,
        random_state=0,
        reducer_params={"hidden_layer_sizes": (16,), "epochs": 5, "cv": 2},
        tsne_params=FAST,
    )
    Z = pipeline.fit_transform(X[:300], y[:300])
    assert Z.shape == (300, 2)
    assert pipeline.transform(X[300:320]).shape == (20, 2)


# make_tsne_pipeline(parametric=True) --------------------------------------------------

PARAMETRIC_FAST = {"hidden_layer_sizes": (32,), "n_iter": 50, "early_exaggeration_iter": 20}


def test_parametric_helper_ends_in_parametric_tsne():
    pipeline = make_tsne_pipeline(
        None, parametric=True, perplexity=12, random_state=3, n_jobs=2, verbose=1
    )
    assert [name for name, _ in pipeline.steps] == ["scaler", "tsne"]
    tsne = pipeline["tsne"]
    assert isinstance(tsne, ParametricTSNE)
    params = tsne.get_params()
    assert (params["perplexity"], params["random_state"]) == (12, 3)
    assert (params["n_jobs"], params["verbose"]) == (2, 1)
    # Everything else is ParametricTSNE's own default.
    defaults = ParametricTSNE().get_params()
    changed = {name for name in params if params[name] != defaults[name]}
    assert changed == {"perplexity", "random_state", "n_jobs", "verbose"}


def test_parametric_helper_leaves_out_what_only_tsne_takes():
    # From 100,000 rows TSNE gets exaggeration=4, a parameter ParametricTSNE lacks.
    assert make_tsne_pipeline(None, shape=(200_000, 784))["tsne"].exaggeration == 4
    pipeline = make_tsne_pipeline("pca", shape=(200_000, 784), parametric=True)
    assert [name for name, _ in pipeline.steps] == ["scaler", "reducer", "tsne"]
    assert isinstance(pipeline["reducer"], PCA)
    tsne = pipeline["tsne"]
    assert isinstance(tsne, ParametricTSNE)
    assert tsne.perplexity == 30
    assert tsne.early_exaggeration == ParametricTSNE().early_exaggeration


def test_parametric_helper_passes_tsne_params_over_the_defaults():
    pipeline = make_tsne_pipeline(
        None,
        parametric=True,
        perplexity=12,
        random_state=0,
        tsne_params={"perplexity": 7, "n_iter": 40, "noise": 0.0, "init": "tsne"},
    )
    tsne = pipeline["tsne"]
    assert (tsne.perplexity, tsne.n_iter, tsne.noise, tsne.init) == (7, 40, 0.0, "tsne")
    with pytest.raises(TypeError, match="exaggeration"):
        make_tsne_pipeline(None, parametric=True, tsne_params={"exaggeration": 4})


def test_parametric_pipeline_draws_the_map_and_places_new_rows(raw_digits):
    X, _ = raw_digits
    pipeline = make_tsne_pipeline(
        None, shape=(300, 64), parametric=True, random_state=0, tsne_params=PARAMETRIC_FAST
    )
    Z = pipeline.fit_transform(X[:300])
    assert Z.shape == (300, 2)
    assert np.isfinite(Z).all()
    assert pipeline["tsne"].n_iter_ <= 70
    # Every row, training rows included, is the network's output.
    np.testing.assert_array_equal(pipeline.transform(X[:300]), Z)
    placed = pipeline.transform(X[300:])
    assert placed.shape == (200, 2)
    np.testing.assert_array_equal(pipeline.transform(X[300:310]), placed[:10])
    assert pipeline.get_feature_names_out().tolist() == [
        "parametrictsne0",
        "parametrictsne1",
    ]
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.transform(X[300:]), placed)


@pytest.mark.parametrize("n_samples", [12, 40, 100])
def test_parametric_helper_picks_the_perplexity_that_fit_uses(raw_digits, n_samples):
    # The bound applies to the rows left for the map once validation_split is held out.
    X, _ = raw_digits
    pipeline = make_tsne_pipeline(
        None, shape=(n_samples, 64), parametric=True, random_state=0, tsne_params=PARAMETRIC_FAST
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X[:n_samples])
    assert pipeline["tsne"].perplexity_ == pipeline["tsne"].perplexity
    with pytest.warns(UserWarning, match="perplexity=1000 is too large"):
        largest = ParametricTSNE(perplexity=1000, **PARAMETRIC_FAST).fit(X[:n_samples])
    assert min(30, largest.perplexity_) == pytest.approx(pipeline["tsne"].perplexity)


@pytest.mark.parametrize("neighbors", ["annoy", "exact"])
def test_rows_of_a_tiny_scale_get_the_map_of_their_shape(neighbors):
    # Regression: openTSNE's approximate search computes in float32, where distances of
    # rows near 1e-30 underflow; the map of such rows scored 0.32 against 0.91.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)
    params = {"neighbors": neighbors, "n_iter": 100, "early_exaggeration_iter": 50}
    scores = []
    for scale in (1.0, 1e-30):
        tsne = TSNE(random_state=0, **params)
        Z = tsne.fit_transform(X[:1200] * scale)
        placed = tsne.transform(X[1200:1400] * scale)
        knn = KNeighborsClassifier(10)
        scores.append(cross_val_score(knn, Z, y[:1200], cv=3).mean())
        scores.append(knn.fit(Z, y[:1200]).score(placed, y[1200:1400]))
    assert scores[2] > scores[0] - 0.03 and scores[3] > scores[1] - 0.03, scores
