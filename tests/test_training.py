"""Training behaviour shared by the estimators: defaults, schedule, warnings, callbacks."""

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer
from ae_reduce._neural.base import OPTIMIZERS

SMALL = {"hidden_layer_sizes": (16,), "epochs": 5, "random_state": 0}


@pytest.mark.parametrize(
    "n_rows, expected", [(1, 16), (100, 16), (320, 16), (1617, 81), (2560, 128), (10**6, 128)]
)
def test_auto_batch_size_rule(n_rows, expected):
    from ae_reduce._keras.training import auto_batch_size

    assert auto_batch_size(n_rows) == expected


def test_auto_batch_size_is_resolved_from_the_training_rows(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(n_components=4, **SMALL).fit(X)
    # 1,797 rows less the 10% validation split leave 1,617 training rows.
    assert model.batch_size_ == round(1617 / 20)
    assert KerasAutoencoderTransformer(4, batch_size=50, **SMALL).fit(X).batch_size_ == 50


def test_convergence_warning_when_epochs_run_out_while_improving(digits):
    X, _ = digits
    with pytest.warns(
        ConvergenceWarning, match=r"epochs=3 ran out before val_loss went patience=20"
    ):
        KerasAutoencoderTransformer(4, hidden_layer_sizes=(16,), epochs=3, random_state=0).fit(X)


def test_no_convergence_warning_when_early_stopping_ends_the_fit(digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = KerasAutoencoderTransformer(
            4, hidden_layer_sizes=(16,), epochs=400, patience=2, random_state=0
        ).fit(X[:300])
    assert model.n_epochs_ < 400


def test_untrained_pca_initialisation_is_pca(digits):
    from ae_reduce._keras.networks import build_autoencoder

    X, _ = digits
    pca = PCA(8).fit(X)
    _, encoder, decoder = build_autoencoder(
        64,
        8,
        hidden_layer_sizes=(32, 16),
        dropout=0.1,
        init="pca",
        seed=0,
        mean=pca.mean_,
        components=pca.components_,
    )
    codes = np.asarray(encoder(X.astype(np.float32)))
    np.testing.assert_allclose(codes, pca.transform(X), atol=1e-4)
    reconstruction = np.asarray(decoder(codes))
    np.testing.assert_allclose(reconstruction, pca.inverse_transform(codes), atol=1e-4)


def test_estimator_with_pca_init_starts_from_pca(digits):
    X, _ = digits
    pca = PCA(6).fit(X)
    # A vanishing learning rate: what comes out is the initialisation.
    model = KerasAutoencoderTransformer(
        6, epochs=1, learning_rate=1e-12, random_state=0, validation_split=0.0
    ).fit(X)
    np.testing.assert_allclose(model.transform(X), pca.transform(X), atol=1e-4)
    np.testing.assert_allclose(
        model.inverse_transform(model.transform(X)),
        pca.inverse_transform(pca.transform(X)),
        atol=1e-4,
    )


def test_pca_init_from_sparse_input_and_wider_code_than_rows(digits):
    X, _ = digits
    sparse = KerasAutoencoderTransformer(4, **SMALL).fit(sp.csr_matrix(X))
    assert np.isfinite(sparse.transform(X)).all()
    # Three rows cannot give eight principal directions; the rest start at zero.
    tiny = KerasAutoencoderTransformer(8, **SMALL).fit(X[:3])
    assert tiny.transform(X[:3]).shape == (3, 8)


def test_pca_init_beats_random_init_on_digits(digits):
    X, _ = digits
    train, test = X[:1400], X[1400:]
    pca = PCA(8).fit(train)
    pca_error = np.mean((test - pca.inverse_transform(pca.transform(test))) ** 2)
    model = KerasAutoencoderTransformer(8, epochs=60, random_state=0).fit(train)
    # Never worse than the PCA it starts from; on digits clearly better.
    assert -model.score(test) < 0.8 * pca_error


def test_plateau_schedule_halves_the_learning_rate():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6))  # noise: the validation loss soon stops improving
    model = KerasAutoencoderTransformer(
        2, hidden_layer_sizes=(8,), epochs=60, patience=8, random_state=0
    ).fit(X)
    rates = model.history_["learning_rate"]
    assert rates[0] == pytest.approx(3e-3)
    steps = [later / earlier for earlier, later in itertools.pairwise(rates)]
    assert all(step == pytest.approx(1.0) or step == pytest.approx(0.5) for step in steps)
    assert min(rates) < rates[0]
    constant = KerasAutoencoderTransformer(
        2,
        hidden_layer_sizes=(8,),
        epochs=60,
        patience=8,
        random_state=0,
        learning_rate_schedule="constant",
    ).fit(X)
    assert constant.history_["learning_rate"] == pytest.approx([3e-3] * constant.n_epochs_)


def test_user_callbacks_get_every_epoch_call_in_order(digits):
    import keras

    X, _ = digits
    calls = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"begin {epoch}")

        def on_epoch_end(self, epoch, logs=None):
            assert set(logs) >= {"loss", "val_loss"}
            calls.append(f"end {epoch}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    model = KerasAutoencoderTransformer(4, **{**SMALL, "callbacks": [Recorder()]}).fit(X[:300])
    expected = ["train_begin"]
    for epoch in range(model.n_epochs_):
        expected += [f"begin {epoch}", f"end {epoch}"]
    assert calls == [*expected, "train_end"]


def test_callbacks_that_act_on_batches_still_get_their_batches(digits):
    import keras

    X, _ = digits
    batches = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    model = KerasAutoencoderTransformer(
        4, **{**SMALL, "batch_size": 50, "callbacks": [callback]}
    ).fit(X[:300])
    # 270 training rows in batches of 50: 6 steps per epoch.
    assert len(batches) == 6 * model.n_epochs_


def test_callbacks_can_stop_training_and_change_the_learning_rate(digits):
    import keras

    X, _ = digits

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.01 / (epoch + 1))
    model = KerasAutoencoderTransformer(
        4, **{**SMALL, "epochs": 10, "callbacks": [schedule, StopAfterTwo()]}
    ).fit(X[:300])
    assert model.n_epochs_ == 2
    assert model.history_["learning_rate"] == pytest.approx([0.01, 0.005])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_repeated_fits_are_identical_for_every_optimizer(optimizer, digits):
    # Regression: the compiled-model cache zeroed optimizer state, but Adagrad's
    # accumulators start at 0.1 and Nadam's momentum product at 1.
    X, _ = digits
    params = {**SMALL, "optimizer": optimizer, "epochs": 3}
    first = KerasAutoencoderTransformer(3, **params).fit(X[:300]).transform(X[:50])
    second = KerasAutoencoderTransformer(3, **params).fit(X[:300]).transform(X[:50])
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_row_encodes_the_same_alone_or_in_a_batch(dtype, digits):
    X, y = digits
    X = X.astype(dtype)
    for model in (
        KerasAutoencoderTransformer(4, **SMALL).fit(X),
        SupervisedEmbeddingTransformer(4, cv=None, **SMALL).fit(X, y),
    ):
        whole = model.transform(X)
        assert whole.dtype == dtype
        for i in (0, 17, 1023, 1024, 1796):
            np.testing.assert_array_equal(model.transform(X[i : i + 1])[0], whole[i])


def test_compiled_and_streamed_training_reach_similar_losses(digits):
    X, _ = digits
    dense = KerasAutoencoderTransformer(4, **{**SMALL, "epochs": 20}).fit(X)
    sparse = KerasAutoencoderTransformer(4, **{**SMALL, "epochs": 20}).fit(sp.csr_matrix(X))
    # Different shuffling, same optimisation problem.
    assert dense.score(X) == pytest.approx(sparse.score(X), rel=0.1)


def test_a_fit_that_never_beats_its_start_returns_the_start(digits):
    # With early stopping the starting weights compete with every epoch: an autoencoder
    # that starts as PCA cannot end worse than PCA on its validation rows.
    X, _ = digits
    pca = PCA(4).fit(X)
    model = KerasAutoencoderTransformer(
        4, hidden_layer_sizes=(16,), epochs=3, learning_rate=5.0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)  # a learning rate far too high: every epoch is worse than PCA
    assert model.best_epoch_ == 0
    np.testing.assert_allclose(model.transform(X), pca.transform(X), atol=1e-4)


@pytest.mark.parametrize("sparse", [False, True], ids=["compiled", "streamed"])
def test_initial_loss_is_the_loss_of_the_pca_start(digits, sparse):
    # Without held-out rows the start is measured on the training rows, all of them.
    X, _ = digits
    X = X[:400]
    pca = PCA(4).fit(X)
    pca_error = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    model = KerasAutoencoderTransformer(4, **{**SMALL, "epochs": 1}, validation_split=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(sp.csr_matrix(X) if sparse else X)
    assert model.initial_loss_ == pytest.approx(pca_error, rel=1e-3)
    assert len(model.history_["loss"]) == model.n_epochs_  # the start is not an epoch


def test_the_code_keeps_pca_projection_plus_a_learned_branch(digits):
    # Regression: a trained projection drifted from PCA's geometry (the decoder can undo
    # any mixing of the code) and made a worse t-SNE input than PCA.
    X, _ = digits
    pca = PCA(4).fit(X)
    model = KerasAutoencoderTransformer(4, hidden_layer_sizes=(16,), epochs=30, random_state=0)
    model.fit(X)
    kernel, bias = model.encoder_.get_layer("code_linear").get_weights()
    np.testing.assert_allclose(kernel, pca.components_.T, atol=1e-5)
    np.testing.assert_allclose(bias, -pca.mean_ @ pca.components_.T, atol=1e-5)
    assert model.best_epoch_ > 0  # the branch did learn something
    assert not np.allclose(model.transform(X), pca.transform(X), atol=1e-3)
    linear = KerasAutoencoderTransformer(4, hidden_layer_sizes=(), epochs=30, random_state=0)
    assert linear.fit(X).encoder_.get_layer("code_linear").trainable


def test_a_grid_of_architectures_prints_no_retracing_warning():
    # Regression: each architecture's first trace counted towards TensorFlow's
    # "frequent retracing" warning, which a grid search over widths then printed.
    import subprocess
    import sys

    script = (
        "import warnings, numpy as np\n"
        "from ae_reduce import KerasAutoencoderTransformer\n"
        "warnings.simplefilter('ignore')\n"
        "X = np.random.RandomState(0).normal(size=(200, 6))\n"
        "for width in range(4, 11):\n"
        "    KerasAutoencoderTransformer(2, hidden_layer_sizes=(width,), epochs=2).fit(X)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600
    )
    assert "retracing" not in result.stderr


def test_convergence_warning_points_at_the_callers_line(digits):
    X, _ = digits
    with pytest.warns(ConvergenceWarning) as record:
        KerasAutoencoderTransformer(4, hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X)
    (warning,) = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    assert warning.filename == __file__


def test_one_monitor_follows_epochs_and_iterations_alike():
    from ae_reduce._keras.monitor import Monitor

    kept = {}
    weights = iter(range(100))
    monitor = Monitor(
        lambda: next(weights),
        lambda value: kept.update(restored=value),
        patience=100,
        early_stopping=True,
        plateau=50,
    )
    monitor.start(initial=1.0)
    # Counted in iterations: two records of 50 reach the patience of 100.
    assert monitor.record(50, 0.5, elapsed=50) == (False, False)
    assert monitor.record(100, 0.7, elapsed=50) == (False, True)
    assert monitor.record(150, 0.6, elapsed=50) == (True, True)
    assert monitor.best_step == 50 and not monitor.still_improving
    monitor.restore_best()
    assert kept["restored"] == 1  # the snapshot taken at step 50, not the start's 0


def test_the_starting_point_competes_and_divergence_keeps_the_last_weights():
    from ae_reduce._keras.monitor import Monitor

    kept = {}
    monitor = Monitor(lambda: "start", kept.update, patience=2, early_stopping=True)
    monitor.start(initial=0.1)
    assert monitor.record(1, 0.2) == (False, False)
    assert monitor.best_step == 0 and monitor.best_weights == "start"
    assert monitor.record(2, float("nan")) == (True, False)
    assert monitor.diverged_step == 2
    monitor.restore_best()
    assert kept == {}
