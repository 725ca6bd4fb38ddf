"""Bad input gets a clear error before any training starts."""

import numpy as np
import pytest

from ae_reduce import KerasAutoencoderTransformer

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
    import ae_reduce._training as training

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
