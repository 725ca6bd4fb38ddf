"""ParametricTSNE: a network that draws a t-SNE map and places new rows."""

import pickle
import random
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.preprocessing import StandardScaler

from ae_reduce import ParametricTSNE

# Few iterations and a small network: enough to form the digits' clusters. Held-out
# rows and early stopping, off by default, are on: most tests check what they do.
QUICK = {
    "hidden_layer_sizes": (64, 64),
    "early_exaggeration_iter": 100,
    "n_iter": 300,
    "validation_split": 0.1,
    "early_stopping": True,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=700, test_size=300, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="module")
def fitted(digits):
    X_train, _, _, _ = digits
    tsne = ParametricTSNE(**QUICK)
    return tsne, tsne.fit_transform(X_train)


def test_map_keeps_classes_and_places_new_rows_among_them(digits, fitted):
    _, X_test, y_train, y_test = digits
    tsne, positions = fitted
    knn = KNeighborsClassifier(10)
    # A 2-D PCA map of the same rows scores about 0.6.
    assert cross_val_score(knn, positions, y_train, cv=5).mean() > 0.8
    placed = tsne.transform(X_test)
    assert knn.fit(positions, y_train).score(placed, y_test) > 0.75


def test_fit_transform_is_transform_of_the_training_rows(digits, fitted):
    X_train, _, _, _ = digits
    tsne, positions = fitted
    np.testing.assert_array_equal(positions, tsne.transform(X_train))
    assert positions.shape == (len(X_train), 2)
    assert positions.dtype == np.float64
    assert tsne.transform(X_train.astype(np.float32)).dtype == np.float32


def test_a_row_is_placed_the_same_alone_or_with_others(digits, fitted):
    _, X_test, _, _ = digits
    tsne, _ = fitted
    together = tsne.transform(X_test[:50])
    alone = np.vstack([tsne.transform(X_test[i : i + 1]) for i in range(5)])
    np.testing.assert_array_equal(alone, together[:5])


def test_fitted_attributes_describe_the_fit(fitted):
    tsne, _ = fitted
    assert tsne.perplexity_ == 30.0
    assert tsne.noise_stddev_ > 0
    assert tsne.n_iter_ <= QUICK["early_exaggeration_iter"] + QUICK["n_iter"]
    history = tsne.history_
    assert len(history["iteration"]) == len(history["loss"]) == len(history["val_loss"])
    assert history["iteration"][-1] == tsne.n_iter_
    assert 0 < tsne.best_iteration_ <= tsne.n_iter_
    assert all(np.isfinite(history["val_loss"]))
    assert list(tsne.get_feature_names_out()) == ["parametrictsne0", "parametrictsne1"]


def test_same_seed_same_map_and_global_generators_untouched(digits):
    X_train = digits[0][:200]
    params = {**QUICK, "early_exaggeration_iter": 20, "n_iter": 40}
    python_state = random.getstate()
    numpy_state = np.random.get_state()[1].copy()
    first = ParametricTSNE(**params).fit_transform(X_train)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert random.getstate() == python_state
    np.random.seed(123)  # what ran before must not matter
    second = ParametricTSNE(**params).fit_transform(X_train)
    np.testing.assert_array_equal(first, second)
    other = ParametricTSNE(**{**params, "random_state": 1}).fit_transform(X_train)
    assert not np.allclose(first, other)
    assert random.getstate() == python_state


def test_pickle_holds_weights_not_data(digits, fitted):
    _, X_test, _, _ = digits
    tsne, _ = fitted
    data = pickle.dumps(tsne)
    assert b"keras.src" not in data and b"tensorflow" not in data
    # The map network's weights only: far less than the training rows.
    assert len(data) < 5 * (64 * 64 + 64 * 64 + 64 * 2) * 4 + 50_000
    restored = pickle.loads(data)
    np.testing.assert_array_equal(restored.transform(X_test), tsne.transform(X_test))


def test_skops_round_trip(digits, fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    _, X_test, _, _ = digits
    tsne, _ = fitted
    path = tmp_path / "map.skops"
    sio.dump(tsne, path)
    restored = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_array_equal(restored.transform(X_test), tsne.transform(X_test))


def test_early_stopping_ends_the_fit_and_keeps_the_best_weights(digits):
    X_train = digits[0][:300]
    tsne = ParametricTSNE(
        **{**QUICK, "early_exaggeration_iter": 0, "n_iter": 3000, "patience": 100}
    ).fit(X_train)
    assert tsne.n_iter_ < 3000
    losses = dict(zip(tsne.history_["iteration"], tsne.history_["val_loss"], strict=True))
    assert losses[tsne.best_iteration_] == min(losses.values())
    assert tsne.n_iter_ >= tsne.best_iteration_ + 100


def test_convergence_warning_when_iterations_run_out(digits):
    with pytest.warns(ConvergenceWarning, match="n_iter=50 ran out"):
        ParametricTSNE(**{**QUICK, "early_exaggeration_iter": 0, "n_iter": 50}).fit(digits[0][:200])


@pytest.mark.parametrize("init", ["tsne", "random"])
def test_other_starts_draw_a_map(digits, init):
    X_train, _, y_train, _ = digits
    params = {**QUICK, "init": init, "n_iter": 200}
    positions = ParametricTSNE(**params).fit_transform(X_train)
    score = cross_val_score(KNeighborsClassifier(10), positions, y_train, cv=5).mean()
    assert score > 0.7


def test_reconstruction_regulariser_trains_and_is_not_kept(digits):
    X_train = digits[0][:300]
    tsne = ParametricTSNE(
        **{**QUICK, "n_iter": 50, "early_exaggeration_iter": 20, "reconstruction_weight": 1.0}
    ).fit(X_train)
    plain = ParametricTSNE(**{**QUICK, "n_iter": 50, "early_exaggeration_iter": 20}).fit(X_train)
    assert not np.allclose(tsne.transform(X_train), plain.transform(X_train))
    assert not hasattr(tsne, "decoder_")
    restored = pickle.loads(pickle.dumps(tsne))
    np.testing.assert_array_equal(restored.transform(X_train), tsne.transform(X_train))


def test_without_held_out_rows_the_training_loss_is_monitored(digits):
    X_train = digits[0][:200]
    tsne = ParametricTSNE(
        **{**QUICK, "early_exaggeration_iter": 20, "n_iter": 50, "validation_split": 0.0}
    ).fit(X_train)
    assert "val_loss" not in tsne.history_
    assert tsne.best_iteration_ > 0


def test_small_data_lowers_the_perplexity_with_a_warning():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.warns(UserWarning, match="perplexity=30 is too large for 20 training rows"):
        tsne = ParametricTSNE(early_exaggeration_iter=10, n_iter=10, random_state=0).fit(X)
    assert tsne.perplexity_ == pytest.approx(19 / 3)
    # Held out, two rows are left out of the map and the bound follows.
    params = {"early_exaggeration_iter": 10, "n_iter": 10, "validation_split": 0.1}
    with pytest.warns(UserWarning, match="perplexity=30 is too large for 18 training rows"):
        tsne = ParametricTSNE(**params, random_state=0).fit(X)
    assert tsne.perplexity_ == pytest.approx(17 / 3)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros((3, 4)), "minimum of 4 is required"),
        (np.array([[0.0, 0.0]] * 9 + [[1e13, 0.0]]), "too large for t-SNE"),
        (np.array([[np.nan, 0.0]] * 10), "NaN"),
    ],
)
def test_bad_training_data_is_refused(X, message):
    with pytest.raises(ValueError, match=message):
        ParametricTSNE(n_iter=10, early_exaggeration_iter=0).fit(X)


def test_failed_fit_keeps_the_earlier_map(digits, fitted):
    X_train, X_test, _, _ = digits
    tsne, _ = fitted
    before = tsne.transform(X_test)
    broken = X_train.copy()
    broken[0, 0] = np.nan
    with pytest.raises(ValueError):
        tsne.fit(broken)
    np.testing.assert_array_equal(tsne.transform(X_test), before)


def test_transform_checks_the_features(fitted):
    tsne, _ = fitted
    with pytest.raises(ValueError, match="X has 3 features"):
        tsne.transform(np.zeros((2, 3)))


def test_set_output_gives_named_map_columns(digits):
    pd = pytest.importorskip("pandas")
    X_train = digits[0][:200]
    tsne = ParametricTSNE(**{**QUICK, "early_exaggeration_iter": 10, "n_iter": 10})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = tsne.set_output(transform="pandas").fit_transform(X_train)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["parametrictsne0", "parametrictsne1"]


def test_fits_in_threads_give_the_sequential_result(digits):
    from concurrent.futures import ThreadPoolExecutor

    X_train = digits[0][:150]
    params = {**QUICK, "hidden_layer_sizes": (8,), "early_exaggeration_iter": 10, "n_iter": 30}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = ParametricTSNE(**params).fit_transform(X_train)
        with ThreadPoolExecutor(2) as pool:
            threaded = list(
                pool.map(lambda _: ParametricTSNE(**params).fit_transform(X_train), range(3))
            )
    for positions in threaded:
        np.testing.assert_array_equal(positions, alone)


def test_pca_start_does_not_depend_on_blas_threads():
    # Dask and loky workers run BLAS on one thread, a plain process on every core; at
    # MNIST's width PCA's randomized solver rounded differently in the two.
    from threadpoolctl import threadpool_limits

    rng = np.random.RandomState(0)
    X = np.sin(rng.normal(size=(240, 3)) @ rng.normal(size=(3, 784))).astype(np.float32)
    starts = []
    for n_threads in (1, 2):
        with threadpool_limits(limits=n_threads, user_api="blas"):
            starts.append(ParametricTSNE(n_components=2)._start(X, None, 0, None)[0])
    for name in ("mean", "components"):
        np.testing.assert_array_equal(starts[0][name], starts[1][name])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"perplexity": 1e-6}, r"'perplexity' parameter of ParametricTSNE .* range \[0\.333"),
        ({"perplexity": 0.2}, r"'perplexity' parameter of ParametricTSNE .* range \[0\.333"),
        ({"n_jobs": 0}, r"'n_jobs' parameter of ParametricTSNE .* \(-inf, -1\], an int in"),
    ],
)
def test_parameters_that_fail_inside_opentsne_are_refused(digits, params, message):
    # Regression: openTSNE searched no neighbours ("Expected n_neighbors > 0. Got 0"),
    # and joblib refused n_jobs=0, both deep inside the fit.
    with pytest.raises(ValueError, match=message):
        ParametricTSNE(n_iter=10, early_exaggeration_iter=0, **params).fit(digits[0][:50])


def test_cosine_metric_refuses_all_zero_rows_by_index(digits):
    # Regression: reported as "Input X contains NaN".
    X = digits[0][:60].copy()
    X[[4, 17]] = 0
    message = r"X has 2 all-zero rows \(rows 4, 17\): the cosine distance is undefined"
    with pytest.raises(ValueError, match=message):
        ParametricTSNE(metric="cosine", n_iter=10, early_exaggeration_iter=0).fit(X)


def test_the_units_of_the_data_do_not_change_the_map(digits):
    # Regression: at 1e-25 the PCA start underflowed in float32 and every row was mapped
    # to one point; at 1e3 the fit diverged.
    X_train, _, y_train, _ = digits
    X_train, y_train = X_train[:300], y_train[:300]
    params = {**QUICK, "early_exaggeration_iter": 50, "n_iter": 150, "patience": 1000}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = ParametricTSNE(**params).fit(X_train)
        positions = reference.transform(X_train)
        # A power of two changes no digit: the very same map.
        halved = ParametricTSNE(**params).fit(X_train * 2.0**-83)
        np.testing.assert_array_equal(halved.transform(X_train * 2.0**-83), positions)
        assert halved.noise_stddev_ == reference.noise_stddev_ * 2.0**-83
        knn = KNeighborsClassifier(10)
        expected = cross_val_score(knn, positions, y_train, cv=3).mean()
        for scale in (1e-25, 1e3):
            tsne = ParametricTSNE(**params)
            mapped = tsne.fit_transform(X_train * scale)
            np.testing.assert_array_equal(mapped, tsne.transform(X_train * scale))
            assert len(np.unique(mapped, axis=0)) == len(X_train)
            assert tsne.noise_stddev_ == pytest.approx(reference.noise_stddev_ * scale, rel=1e-3)
            score = cross_val_score(knn, mapped, y_train, cv=3).mean()
            assert score > expected - 0.05
            # The same rows are neighbours on both maps.
            neighbours = [
                NearestNeighbors(n_neighbors=11).fit(Z).kneighbors(Z)[1][:, 1:]
                for Z in (positions, mapped)
            ]
            pairs = zip(*neighbours, strict=True)
            shared = np.mean([len(np.intersect1d(a, b)) for a, b in pairs]) / 10
            assert shared > 0.7


@pytest.mark.parametrize(
    ("params", "cause"),
    [
        ({"learning_rate": 1e30}, r"likely cause is a learning rate that is too high "),
        ({"learning_rate": 1e30, "noise": 0.0}, r"likely cause is a learning rate that is "),
        ({"noise": 1e30}, r"likely cause is the input noise \(noise=1e\+30\)"),
    ],
)
def test_divergence_counts_iterations_and_names_the_likely_cause(digits, params, cause):
    # Regression: the message said "epoch" for iterations, and blamed the learning rate
    # when the noise was at fault.
    params = {"hidden_layer_sizes": (8,), "early_exaggeration_iter": 0, "n_iter": 50, **params}
    tsne = ParametricTSNE(perplexity=10, **params)
    with pytest.raises(ValueError, match=r"NaN or infinite by iteration 50\. The " + cause):
        tsne.fit(digits[0][:100])


def test_a_wide_map_keeps_a_finite_loss():
    # Regression: on a map thousands of units wide, float32 computed each row's distance
    # to itself as up to a few units, the diagonal of the kernel fell below 1, and the
    # normalisation (the kernel's sum less one per row) became negative: the loss was
    # NaN and the fit reported a divergence.
    from ae_reduce._keras.map_training import tsne_batch_loss

    positions = np.random.default_rng(0).normal(size=(1024, 2)) * 3000
    loss = float(tsne_batch_loss(positions.astype(np.float32), 512, 1.0))
    first, second = positions[:512], positions[512:]
    attraction = np.mean(np.log1p(np.sum((first - second) ** 2, axis=1)))
    # The normalisation: one of the first 256 first rows against the second rows of
    # the other pairs.
    squared = np.sum((first[:256, None] - second[None]) ** 2, axis=2)
    kernel = 1 / (1 + squared[~np.eye(256, 512, dtype=bool)])
    assert loss == pytest.approx(attraction + np.log(np.mean(kernel)), rel=1e-3)


def test_an_integer_learning_rate_fits_again():
    # Regression: Keras's optimizers refuse an int learning rate, on the first fit and
    # on a later one that reuses the compiled training loops of the same network.
    X = np.random.default_rng(0).normal(size=(40, 4))
    params = {"hidden_layer_sizes": (3,), "early_exaggeration_iter": 0, "n_iter": 10}
    params.update(learning_rate=1, perplexity=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            assert np.isfinite(ParametricTSNE(**params).fit_transform(X)).all()


def test_the_default_budget_grows_with_the_rows():
    from ae_reduce._manifold.parametric import default_budget

    sizes = [10, 500, 1_000, 4_000, 20_000, 100_000, 1_000_000]
    budgets = [default_budget(n) for n in sizes]
    for key in ("n_iter", "early_exaggeration_iter", "batch_size", "patience"):
        values = [budget[key] for budget in budgets]
        assert values == sorted(values), key
    assert budgets[1]["n_iter"] < budgets[3]["n_iter"] < budgets[4]["n_iter"]
    # Bounded: a million rows trains in as many steps as the cap allows, not more.
    assert budgets[-1] == budgets[-2]
    # "auto" settings are what the fit uses; given ones win.
    tsne = ParametricTSNE(n_iter=200, batch_size=64)
    assert tsne._budget(4_000) == {
        "n_iter": 200,
        "early_exaggeration_iter": 50,
        "batch_size": 64,
        "patience": 50,
    }


def test_a_default_fit_uses_and_reports_its_budget(digits):
    X_train = digits[0][:120]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        tsne = ParametricTSNE(hidden_layer_sizes=(32,), random_state=0).fit(X_train)
    from ae_reduce._manifold.parametric import default_budget

    budget = default_budget(len(X_train))
    assert tsne.batch_size_ == budget["batch_size"]
    assert tsne.max_iter_ == budget["n_iter"] + budget["early_exaggeration_iter"]
    # Every iteration of the budget runs: no early stopping by default.
    assert tsne.n_iter_ == tsne.max_iter_


def test_the_principal_components_are_folded_into_the_network(digits):
    X_train, X_test, _, _ = digits
    params = {**QUICK, "n_iter": 30, "early_exaggeration_iter": 10}
    projected = ParametricTSNE(pca_components=10, **params).fit(X_train)
    # The network takes the columns as given.
    assert projected.network_.input_shape == (None, X_train.shape[1])
    columns = ParametricTSNE(pca_components=None, **params).fit(X_train)
    assert not np.allclose(projected.transform(X_test), columns.transform(X_test))
    # As many components as columns trains on the columns, bit for bit.
    same = ParametricTSNE(pca_components=X_train.shape[1], **params).fit(X_train)
    np.testing.assert_array_equal(same.transform(X_test), columns.transform(X_test))


def test_folding_a_projection_keeps_the_outputs():
    from ae_reduce._keras.networks import build_map_network
    from ae_reduce._manifold.parametric import _copy_projected, _project

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 12)) * 3 + 1
    mean = X.mean(axis=0)
    components = np.linalg.qr(rng.normal(size=(12, 5)))[0].T
    config = {"n_components": 2, "hidden_layer_sizes": (8, 8), "init": "pca", "seed": 0}
    trained = build_map_network(5, **config)[0]
    for layer in trained.layers:
        layer.set_weights([rng.normal(size=w.shape) * 0.3 for w in layer.get_weights()])
    folded = build_map_network(12, **config)[0]
    _copy_projected(trained, folded, mean, components)
    expected = np.asarray(trained(_project(X, mean, components)))
    np.testing.assert_allclose(np.asarray(folded(X.astype(np.float32))), expected, atol=1e-4)


def test_verbose_prints_the_iteration_losses_and_time_left(digits, capsys):
    params = {**QUICK, "n_iter": 150, "early_exaggeration_iter": 50, "verbose": 1}
    ParametricTSNE(**params).fit(digits[0][:200])
    printed = [line for line in capsys.readouterr().out.splitlines() if "[ParametricTSNE]" in line]
    # First the steps that come before the first iteration, then the iterations.
    assert printed[0].startswith("[ParametricTSNE] finding the neighbours of 180 rows")
    assert printed[1].startswith("[ParametricTSNE] training the network, at most 200 iterations")
    lines = printed[2:]
    assert [line.split(",")[0] for line in lines] == [
        f"[ParametricTSNE] iteration {k}/200" for k in (50, 100, 150, 200)
    ]
    assert all("held-out loss" in line for line in lines)
    assert "left" in lines[1] and "left" not in lines[-1]


def test_a_callback_sees_each_check_and_can_end_training(digits):
    seen = []

    def stop_at_100(iteration, n_iterations, logs):
        seen.append((iteration, n_iterations, sorted(logs)))
        return iteration >= 100

    params = {**QUICK, "n_iter": 300, "early_exaggeration_iter": 50}
    tsne = ParametricTSNE(callbacks=stop_at_100, **params).fit(digits[0][:200])
    assert seen == [(50, 350, ["loss", "val_loss"]), (100, 350, ["loss", "val_loss"])]
    assert tsne.n_iter_ == 100
    with pytest.raises(TypeError, match="callbacks must be a callable or a list"):
        ParametricTSNE(callbacks=[stop_at_100, "print"], **params).fit(digits[0][:200])


def test_a_callback_that_raises_keeps_the_earlier_map_and_the_next_fit_works(digits, fitted):
    tsne, positions = fitted
    X_train = digits[0]

    def broken(iteration, n_iterations, logs):
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        tsne.set_params(callbacks=broken).fit(X_train[:200])
    tsne.set_params(callbacks=None)
    np.testing.assert_array_equal(tsne.transform(X_train), positions)
    # The architecture's cached trainer was handed back: the same fit gives the same map.
    again = ParametricTSNE(**QUICK).fit_transform(X_train)
    np.testing.assert_array_equal(again, positions)
