"""``fit`` is all or nothing: when it raises, the estimator keeps its earlier state."""

import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

SMALL = {"hidden_layer_sizes": (8,), "epochs": 2, "random_state": 0}
RNG = np.random.RandomState(0)
X6, X8 = RNG.normal(size=(60, 6)), RNG.normal(size=(60, 8))
Y = np.arange(60) % 3


class _Interrupt:
    """An epoch callback that fails in the middle of training."""

    def __new__(cls):
        import keras

        class Interrupt(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                raise RuntimeError("interrupted")

        return Interrupt()


def _fitted(estimator):
    if isinstance(estimator, SupervisedEmbeddingTransformer):
        return estimator.fit(X6, Y)
    return estimator.fit(X6)


def _failing_refits(estimator):
    """Refits that raise at different stages: validation, configuration, training."""
    supervised = isinstance(estimator, SupervisedEmbeddingTransformer)
    target = (Y,) if supervised else ()
    if not supervised:
        yield "diverges", lambda m: m.set_params(learning_rate=1e6).fit(X8 * 1e3)
    yield "callback raises", lambda m: m.set_params(callbacks=[_Interrupt()]).fit(X8, *target)
    yield "bad input", lambda m: m.fit(np.full((60, 8), np.nan), *target)
    if supervised:
        yield "bad target", lambda m: m.fit(X8, np.full(60, 7))
        yield "bad weights", lambda m: m.fit(X8, Y, sample_weight=-np.ones(60))
        yield "bad target in fit_transform", lambda m: m.fit_transform(X8, np.full(60, 7))


@pytest.mark.parametrize(
    "estimator",
    [
        KerasAutoencoderTransformer(n_components=2, **SMALL),
        SupervisedEmbeddingTransformer(2, cv=None, **SMALL),
        SupervisedEmbeddingTransformer(2, cv=2, **SMALL),
    ],
    ids=["autoencoder", "supervised", "supervised-cv"],
)
def test_failed_refit_keeps_the_earlier_fitted_state(estimator):
    model = _fitted(estimator)
    before = model.transform(X6)
    attributes = set(vars(model))
    for name, refit in _failing_refits(model):
        with pytest.raises((ValueError, RuntimeError)):
            refit(model)
        model.set_params(learning_rate=estimator.learning_rate, callbacks=None)
        assert set(vars(model)) == attributes, name
        assert model.n_features_in_ == 6, name
        np.testing.assert_array_equal(model.transform(X6), before, err_msg=name)
        restored = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(restored.transform(X6), before, err_msg=name)


@pytest.mark.parametrize(
    "estimator, args",
    [
        (KerasAutoencoderTransformer(n_components=2, **SMALL), (np.full((60, 6), np.inf),)),
        (SupervisedEmbeddingTransformer(2, cv=None, **SMALL), (X6, np.zeros(60))),
    ],
    ids=["autoencoder", "supervised"],
)
def test_failed_first_fit_leaves_the_estimator_unfitted(estimator, args):
    with pytest.raises(ValueError):
        estimator.fit(*args)
    assert not [name for name in vars(estimator) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        estimator.transform(X6)
