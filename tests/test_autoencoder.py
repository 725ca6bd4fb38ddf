"""Behaviour of KerasAutoencoderTransformer that users rely on."""

import random

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_reduce import KerasAutoencoderTransformer

SMALL = {"hidden_layer_sizes": (16,), "epochs": 5, "batch_size": 64, "random_state": 0}


def test_fit_transform_shapes_and_fitted_attributes(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(n_components=3, **SMALL)
    assert model.fit(X) is model
    Z = model.transform(X)
    assert Z.shape == (X.shape[0], 3)
    assert np.isfinite(Z).all()
    assert model.inverse_transform(Z).shape == X.shape
    assert model.n_features_in_ == 64
    assert model.encoder_.output_shape == (None, 3)
    assert model.decoder_.input_shape == (None, 3)
    assert 0 <= model.best_epoch_ <= model.n_epochs_ <= 5
    assert set(model.history_) == {"loss", "val_loss", "learning_rate"}
    assert all(len(values) == model.n_epochs_ for values in model.history_.values())
    assert all(isinstance(v, float) for v in model.history_["loss"])
    assert model.history_["learning_rate"][0] == pytest.approx(3e-3)


def test_fit_transform_equals_fit_then_transform(digits):
    X, _ = digits
    Z1 = KerasAutoencoderTransformer(**SMALL).fit_transform(X)
    Z2 = KerasAutoencoderTransformer(**SMALL).fit(X).transform(X)
    np.testing.assert_array_equal(Z1, Z2)


def test_beats_pca_on_a_curved_manifold(s_curve_64):
    X, _ = s_curve_64
    X_train, X_test = train_test_split(X, random_state=0)
    model = KerasAutoencoderTransformer(n_components=2, batch_size=32, epochs=60, random_state=0)
    model.fit(X_train)
    pca = PCA(n_components=2).fit(X_train)
    pca_error = np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2)
    assert -model.score(X_test) < 0.3 * pca_error


def test_score_is_negative_reconstruction_error(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(**SMALL).fit(X)
    reconstruction = model.inverse_transform(model.transform(X))
    per_row = np.mean((X - reconstruction) ** 2, axis=1)
    np.testing.assert_allclose(model.score_samples(X), -per_row, rtol=1e-10)
    assert model.score(X) == pytest.approx(-per_row.mean())


def test_score_samples_flags_outliers(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(n_components=8, **SMALL).fit(X)
    outliers = np.random.RandomState(0).normal(scale=4.0, size=(20, X.shape[1]))
    assert model.score_samples(outliers).max() < np.median(model.score_samples(X))


def test_determinism_and_global_random_state_untouched(digits):
    X, _ = digits
    random.seed(123)
    np.random.seed(123)
    python_before, numpy_before = random.random(), np.random.rand()
    random.seed(123)
    np.random.seed(123)
    params = {**SMALL, "dropout": 0.2, "noise_stddev": 0.1}
    first = KerasAutoencoderTransformer(**params).fit(X).transform(X)
    # A different architecture in between must not disturb the next fit.
    KerasAutoencoderTransformer(**{**params, "hidden_layer_sizes": (12,)}).fit(X)
    second = KerasAutoencoderTransformer(**params).fit(X).transform(X)
    np.testing.assert_array_equal(first, second)
    assert (random.random(), np.random.rand()) == (python_before, numpy_before)
    other_seed = KerasAutoencoderTransformer(**{**params, "random_state": 1}).fit(X)
    assert not np.allclose(other_seed.transform(X), first)


def test_early_stopping_restores_best_epoch(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(
        hidden_layer_sizes=(32,), epochs=200, patience=2, learning_rate=0.05, random_state=0
    ).fit(X)
    assert model.n_epochs_ < 200
    assert model.n_epochs_ == model.best_epoch_ + 2
    val_loss = model.history_["val_loss"]
    assert val_loss[model.best_epoch_ - 1] == min(val_loss)


def test_without_validation_split_training_loss_is_monitored(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(**{**SMALL, "validation_split": 0.0}).fit(X)
    assert "val_loss" not in model.history_
    loss = model.history_["loss"]
    assert loss[model.best_epoch_ - 1] == min(loss)


@pytest.mark.parametrize("n_samples", [1, 2])
def test_tiny_data_falls_back_to_training_loss(n_samples, digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(**SMALL).fit(X[:n_samples])
    assert "val_loss" not in model.history_
    assert model.transform(X[:n_samples]).shape == (n_samples, 2)


def test_divergence_raises_a_clear_error():
    X = np.random.RandomState(0).normal(scale=1e6, size=(200, 10))
    model = KerasAutoencoderTransformer(
        hidden_layer_sizes=(16,), learning_rate=1e6, epochs=20, random_state=0
    )
    with pytest.raises(ValueError, match=r"diverged.*learning_rate=1e\+06.*StandardScaler"):
        model.fit(X)
    assert not hasattr(model, "encoder_")


def test_denoising_sparse_regularised_and_batchnorm_variants_train(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(
        n_components=4,
        noise_stddev=0.3,
        l1=1e-3,
        l2=1e-4,
        dropout=0.1,
        batch_normalization=True,
        activation="gelu",
        **SMALL,
    ).fit(X)
    layer_types = {type(layer).__name__ for layer in model.encoder_.layers}
    assert {"GaussianNoise", "BatchNormalization", "Dropout"} <= layer_types
    assert np.isfinite(model.transform(X)).all()


def test_empty_hidden_layers_gives_a_linear_autoencoder(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(**{**SMALL, "hidden_layer_sizes": ()}).fit(X)
    dense = [layer for layer in model.encoder_.layers if type(layer).__name__ == "Dense"]
    assert len(dense) == 1


def test_he_initialisation_for_relu_and_glorot_for_tanh(digits):
    from ae_reduce._keras.networks import build_autoencoder

    config = {"hidden_layer_sizes": (8,), "output_activation": "linear", "dropout": 0.0}
    config.update(batch_normalization=False, l1=0.0, l2=0.0, noise_stddev=0.0, seed=0)
    for activation, expected in [("relu", "HeNormal"), ("tanh", "GlorotUniform")]:
        _, encoder, _ = build_autoencoder(10, 2, activation=activation, **config)
        hidden = encoder.get_layer("encoder_0_dense")
        assert type(hidden.kernel_initializer).__name__ == expected


def test_pandas_in_and_out(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    model = KerasAutoencoderTransformer(n_components=2, **SMALL).set_output(transform="pandas")
    Z = model.fit_transform(frame)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["kerasautoencodertransformer0", "kerasautoencodertransformer1"]
    assert list(model.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(Z.index, frame.index)


def test_get_feature_names_out_before_and_after_fit(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(n_components=3, **SMALL)
    with pytest.raises(NotFittedError):
        model.get_feature_names_out()
    model.fit(X)
    names = model.get_feature_names_out()
    assert list(names) == [f"kerasautoencodertransformer{i}" for i in range(3)]


def test_output_dtype_follows_input(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(**SMALL).fit(X)
    assert model.transform(X).dtype == np.float64
    assert model.transform(X.astype(np.float32)).dtype == np.float32
    assert model.transform(X.astype(np.int64)).dtype == np.float64
    assert model.inverse_transform(np.zeros((2, 2), np.float32)).dtype == np.float32


def test_sparse_input_matches_dense(digits):
    X, _ = digits
    X = np.where(np.abs(X) < 0.5, 0.0, X)
    sparse = sp.csr_matrix(X)
    model = KerasAutoencoderTransformer(**SMALL).fit(sparse)
    np.testing.assert_array_equal(model.transform(sparse), model.transform(X))
    assert model.score(sparse) == pytest.approx(model.score(X))
    assert np.isfinite(model.transform(sp.csc_matrix(X))).all()


def test_memmap_fit_reads_the_file(tmp_path, digits):
    X, _ = digits
    path = tmp_path / "data.f32"
    written = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    written[:] = X
    written.flush()
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    model = KerasAutoencoderTransformer(**SMALL).fit(mapped)
    assert model.n_epochs_ >= 1
    np.testing.assert_array_equal(model.transform(mapped), model.transform(np.array(mapped)))
    np.testing.assert_array_equal(
        model.transform(mapped[100:]), model.transform(np.array(mapped)[100:])
    )


def test_clone_gives_an_unfitted_copy_with_the_same_parameters(digits):
    X, _ = digits
    model = KerasAutoencoderTransformer(n_components=3, **SMALL).fit(X)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "encoder_")


def test_grid_search_in_a_pipeline_with_two_jobs(digits):
    X, y = load_small_digits(digits)
    from sklearn.linear_model import LogisticRegression

    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("reduce", KerasAutoencoderTransformer(**SMALL)),
            ("classify", LogisticRegression(max_iter=300)),
        ]
    )
    grid = GridSearchCV(
        pipeline,
        {"reduce__n_components": [2, 8]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_params_["reduce__n_components"] in (2, 8)
    assert grid.score(X, y) > 0.3
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))


def test_unsupervised_grid_search_uses_score(digits):
    X, _ = digits
    grid = GridSearchCV(KerasAutoencoderTransformer(**SMALL), {"n_components": [1, 16]}, cv=2).fit(
        X
    )
    # A wider code reconstructs better, and score must say so.
    assert grid.best_params_ == {"n_components": 16}


def load_small_digits(digits):
    X, y = digits
    return X[:600], y[:600]


def test_pipeline_swaps_in_for_pca(digits):
    X, _ = digits
    for reducer in (PCA(n_components=2), KerasAutoencoderTransformer(n_components=2, **SMALL)):
        out = make_pipeline(StandardScaler(), reducer).fit_transform(X)
        assert out.shape == (X.shape[0], 2)


def test_device_cpu_trains_and_gpu_without_a_gpu_fails_clearly(digits):
    from ae_reduce._keras.backend import gpu_available

    X, _ = digits
    KerasAutoencoderTransformer(device="cpu", **SMALL).fit(X[:100])
    if gpu_available():
        return  # the GPU branch is exercised by the benchmarks on GPU machines
    with pytest.raises(ValueError, match=r"device='gpu'.*no GPU"):
        KerasAutoencoderTransformer(device="gpu", **SMALL).fit(X[:100])


def test_user_callbacks_are_called(digits):
    import keras

    X, _ = digits
    epochs_seen = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch)
    )
    model = KerasAutoencoderTransformer(**{**SMALL, "callbacks": [callback]}).fit(X[:200])
    # clone deep-copies parameters, so check a fitted copy of the original object
    assert len(epochs_seen) == model.n_epochs_


def test_binary_crossentropy_needs_a_bounded_output(digits):
    X = digits[0][:200]
    X01 = (X - X.min()) / (X.max() - X.min())
    with pytest.raises(ValueError, match="output_activation='linear' is not bounded"):
        KerasAutoencoderTransformer(
            2, loss="binary_crossentropy", output_activation="linear", **SMALL
        ).fit(X01)
    # "auto" resolves to a sigmoid for cross-entropy.
    model = KerasAutoencoderTransformer(2, loss="binary_crossentropy", **SMALL).fit(X01)
    assert model.output_activation_ == "sigmoid"
    with pytest.raises(ValueError, match="needs X in \\[0, 1\\]"):
        KerasAutoencoderTransformer(
            2, loss="binary_crossentropy", output_activation="sigmoid", **SMALL
        ).fit(X)
    model = KerasAutoencoderTransformer(
        2, loss="binary_crossentropy", output_activation="sigmoid", **SMALL
    ).fit(X01)
    reconstruction = model.inverse_transform(model.transform(X01))
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1


def test_output_is_clipped_to_the_unit_interval_for_data_in_it():
    # Pixels scaled to [0, 1]: the reconstruction is the identity clipped to [0, 1],
    # so the PCA start already reconstructs at least as well as PCA.
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    X = load_digits().data[:300] / 16.0
    model = KerasAutoencoderTransformer(4, **{**SMALL, "epochs": 1}).fit(X)
    assert model.output_activation_ == "clip"
    reconstruction = model.inverse_transform(model.transform(X))
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1
    pca = PCA(4).fit(X)
    pca_error = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    clipped = np.clip(pca.inverse_transform(pca.transform(X)), 0, 1)
    assert np.mean((clipped - X) ** 2) <= pca_error
    # Standardised data, or data outside [0, 1], keeps a linear output.
    centred = KerasAutoencoderTransformer(4, **{**SMALL, "epochs": 1}).fit(X - 0.5)
    assert centred.output_activation_ == "linear"
    # Sparse rows count the zeros they do not store, and a memory map its file's
    # values, as the input check measured them.
    from scipy import sparse

    stored = sparse.random(300, 64, density=0.2, random_state=0, format="csr")
    fast = {**SMALL, "epochs": 1}
    assert KerasAutoencoderTransformer(4, **fast).fit(stored).output_activation_ == "clip"
    shifted = stored.copy()
    shifted.data -= 0.5
    assert KerasAutoencoderTransformer(4, **fast).fit(shifted).output_activation_ == "linear"
    # An explicit choice is kept.
    chosen = KerasAutoencoderTransformer(4, output_activation="linear", **{**SMALL, "epochs": 1})
    assert chosen.fit(X).output_activation_ == "linear"
