"""Bad input gets a clear error before any training starts."""

import os

import numpy as np
import pytest
import scipy.sparse as sp

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

SMALL = {"hidden_layer_sizes": (8,), "epochs": 2, "random_state": 0}
X = np.random.RandomState(0).normal(size=(50, 6))


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (np.where(np.eye(50, 6) == 1, np.nan, X), ValueError, "Input X contains NaN"),
        (np.where(np.eye(50, 6) == 1, np.inf, X), ValueError, "Input X contains infinity"),
        (np.full((50, 6), "a", dtype=object), ValueError, "could not convert string"),
        (np.empty((0, 6)), ValueError, "0 sample"),
        (np.arange(6.0), ValueError, "Expected 2D array, got 1D array"),
        (np.full((5, 6), 1e300), ValueError, "too large for float32"),
    ],
)
def test_bad_training_data(data, error, message):
    with pytest.raises(error, match=message):
        KerasAutoencoderTransformer(**SMALL).fit(data)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_components": 7}, "n_components=7 must be at most n_features=6"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"activation": "relux"}, "'activation' parameter.*'relu'"),
        ({"output_activation": "nope"}, "'output_activation' parameter"),
        ({"optimizer": "adamm"}, "'optimizer' parameter"),
        ({"loss": "cross_entropy"}, "'loss' parameter"),
        ({"hidden_layer_sizes": (8, -3)}, "positive layer widths, got -3"),
        ({"hidden_layer_sizes": (8, 0)}, "positive layer widths, got 0"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"learning_rate": 0}, "'learning_rate' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"validation_split": 1.0}, "'validation_split' parameter"),
        ({"device": "tpu"}, "'device' parameter"),
        ({"l1": -1.0}, "'l1' parameter"),
        ({"noise_stddev": -0.1}, "'noise_stddev' parameter"),
    ],
)
def test_bad_parameters_raise_value_error(params, message):
    with pytest.raises(ValueError, match=message):
        KerasAutoencoderTransformer(**{**SMALL, **params}).fit(X)


def test_non_integer_layer_width_raises_type_error():
    with pytest.raises(TypeError, match="hidden_layer_sizes must contain integers"):
        KerasAutoencoderTransformer(**{**SMALL, "hidden_layer_sizes": (8, 2.5)}).fit(X)


def test_errors_come_before_training(monkeypatch):
    import ae_reduce._keras.training as training

    def fail(**kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(training, "train", fail)
    with pytest.raises(ValueError, match="n_components"):
        KerasAutoencoderTransformer(n_components=7).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        KerasAutoencoderTransformer().fit(np.full((5, 6), np.nan))


def test_wrong_number_of_features_after_fit():
    model = KerasAutoencoderTransformer(n_components=2, **SMALL).fit(X)
    with pytest.raises(ValueError, match=r"X has 5 features, but .* expecting 6 features"):
        model.transform(X[:, :5])
    with pytest.raises(ValueError, match=r"X has 5 features, but .* expecting 6 features"):
        model.score_samples(X[:, :5])
    with pytest.raises(ValueError, match=r"X has 3 features, but .*inverse_transform .* 2"):
        model.inverse_transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.inverse_transform(np.full((4, 2), np.nan))


ESTIMATORS = {
    "autoencoder": lambda: KerasAutoencoderTransformer(n_components=2, **SMALL),
    "supervised": lambda: SupervisedEmbeddingTransformer(n_components=2, cv=None, **SMALL),
}
LABELS = np.arange(50) % 2


def _fit(name, data):
    estimator = ESTIMATORS[name]()
    return estimator.fit(data, LABELS) if name == "supervised" else estimator.fit(data)


def _store(data, storage, tmp_path):
    if storage == "array":
        return data
    if storage == "csr":
        return sp.csr_matrix(data)
    path = tmp_path / "X.dat"
    writer = np.memmap(path, dtype=data.dtype, mode="w+", shape=data.shape)
    writer[:] = data
    writer.flush()
    del writer
    return np.memmap(path, dtype=data.dtype, mode="r", shape=data.shape)


@pytest.mark.parametrize("storage", ["array", "csr", "memmap"])
@pytest.mark.parametrize("name", ["autoencoder", "supervised"])
def test_values_beyond_float32_are_named_as_such(tmp_path, name, storage):
    # Regression: a memory map holding a finite 1e300 was reported as "NaN or infinity"
    # because its blocks were cast to float32 before being checked.
    data = X.copy()
    data[3, 2], data[40, 5] = 1e300, -5e300
    message = (
        r"Input X contains values too large for float32 \(largest absolute value 5e\+300, "
        r"float32 holds up to 3\.4e\+38\); the network computes in float32\. Scale the data"
    )
    with pytest.raises(ValueError, match=message):
        _fit(name, _store(data, storage, tmp_path))
    fitted = _fit(name, X)
    with pytest.raises(ValueError, match=message):
        fitted.transform(_store(data, storage, tmp_path))


@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")],
)
@pytest.mark.parametrize("name", ["autoencoder", "supervised"])
def test_memory_maps_report_nan_and_infinity_like_arrays(tmp_path, name, value, message):
    data = X.copy()
    data[7, 1] = value
    with pytest.raises(ValueError, match=message) as from_array:
        _fit(name, data)
    with pytest.raises(ValueError, match=message) as from_file:
        _fit(name, _store(data, "memmap", tmp_path))
    assert str(from_file.value) == str(from_array.value)


@pytest.mark.parametrize("name", ["autoencoder", "supervised"])
def test_data_frame_without_columns_names_the_shape(name):
    # Regression: numpy's "at least one array or dtype is required" said nothing useful.
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(50, 0\)\)"):
        _fit(name, pd.DataFrame(index=range(50)))
    fitted = _fit(name, X)
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(5, 0\)\)"):
        fitted.transform(pd.DataFrame(index=range(5)))


def test_memmaps_whose_memory_differs_from_their_file_use_the_memory(tmp_path):
    X = np.random.RandomState(0).normal(size=(80, 5))
    path = tmp_path / "X.npy"
    np.save(path, X)
    params = {"n_components": 2, "hidden_layer_sizes": (4,), "epochs": 2, "random_state": 0}
    # Copy-on-write: the caller's edits live in private pages, not in the file.
    edited = np.load(path, mmap_mode="c")
    edited *= 100.0
    model = KerasAutoencoderTransformer(**params).fit(edited)
    reference = KerasAutoencoderTransformer(**params).fit(np.array(edited))
    np.testing.assert_array_equal(model.transform(edited), reference.transform(edited))
    edited[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KerasAutoencoderTransformer(**params).fit(edited)
    # A file renamed over the mapped one: the mapping still holds the old values.
    mapped = np.load(path, mmap_mode="r")
    np.save(tmp_path / "other.npy", np.full_like(X, 7.0))
    os.replace(tmp_path / "other.npy", path)
    np.testing.assert_array_equal(reference.transform(mapped), reference.transform(X))


def test_find_label_issues_refuses_n_jobs_zero():
    # Regression: n_jobs=0 passed validation and failed inside joblib.
    from ae_reduce import find_label_issues

    message = (
        r"The 'n_jobs' parameter of find_label_issues must be an int in the range "
        r"\(-inf, -1\], an int in the range \[1, inf\) or None\. Got 0 instead\."
    )
    with pytest.raises(ValueError, match=message):
        find_label_issues(X, LABELS, n_jobs=0)


@pytest.mark.parametrize("estimator", [KerasAutoencoderTransformer, SupervisedEmbeddingTransformer])
def test_a_whole_number_learning_rate_is_a_learning_rate(estimator):
    # Regression: learning_rate=1 passed validation (a Real) and Keras then refused the
    # int on the first fit.
    params = {**SMALL, "n_components": 2, "learning_rate": 1}
    model = estimator(**params)
    args = (X,) if estimator is KerasAutoencoderTransformer else (X, np.arange(50) % 2)
    expected = model.fit(*args).transform(X)
    params["learning_rate"] = 1.0
    np.testing.assert_array_equal(estimator(**params).fit(*args).transform(X), expected)


def test_a_callback_that_is_not_a_keras_callback_is_named():
    # Regression: callbacks=[1] failed with "'int' object has no attribute 'set_model'"
    # from the clean-up after training.
    with pytest.raises(TypeError, match=r"callbacks\[1\] is 'stop' of type str"):
        SupervisedEmbeddingTransformer(callbacks=[_keras_callback(), "stop"], **SMALL).fit(
            X, np.arange(50) % 2
        )


def _keras_callback():
    import keras

    return keras.callbacks.Callback()
