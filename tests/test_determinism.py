"""Results depend only on the data, the parameters and random_state: not on threads, on
what ran before in the process, or on the process-wide random generators."""

import pickle
import random

import numpy as np
import pytest
from joblib import Parallel, delayed

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

SMALL = {"hidden_layer_sizes": (16,), "epochs": 4, "dropout": 0.2, "noise_stddev": 0.1}


def _autoencoder_code(X, seed):
    model = KerasAutoencoderTransformer(n_components=3, random_state=seed, **SMALL)
    return model.fit(X).transform(X)


def _custom_model():
    import keras

    inputs = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    hidden = keras.layers.Dropout(0.3)(hidden)
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


def _supervised_embedding(X, y, seed, custom):
    if custom:
        model = SupervisedEmbeddingTransformer(
            model=_custom_model(), epochs=3, cv=None, random_state=seed
        )
    else:
        model = SupervisedEmbeddingTransformer(
            n_components=2, hidden_layer_sizes=(16,), epochs=3, cv=None, random_state=seed
        )
    return model.fit(X, y).transform(X)


def test_threads_give_the_results_of_sequential_fits(digits):
    X, _ = digits
    X = X[:400]
    seeds = [1, 2, 1, 2]
    sequential = [_autoencoder_code(X, seed) for seed in seeds]
    threaded = Parallel(n_jobs=4, backend="threading")(
        delayed(_autoencoder_code)(X, seed) for seed in seeds
    )
    for expected, got in zip(sequential, threaded, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert not np.allclose(sequential[0], sequential[1])


@pytest.mark.parametrize("custom", [False, True], ids=["built-in", "custom-model"])
def test_supervised_threads_give_the_results_of_sequential_fits(digits, custom):
    X, y = digits
    X, y = X[:300], y[:300]
    sequential = [_supervised_embedding(X, y, seed, custom) for seed in (1, 2)]
    threaded = Parallel(n_jobs=2, backend="threading")(
        delayed(_supervised_embedding)(X, y, seed, custom) for seed in (1, 2)
    )
    for expected, got in zip(sequential, threaded, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_fit_leaves_every_global_generator_alone(digits):
    import tensorflow as tf

    X, y = digits
    network = _custom_model()
    random.seed(5)
    np.random.seed(5)
    tf.random.set_seed(5)
    expected = (random.random(), np.random.rand(), float(tf.random.uniform(())))
    random.seed(5)
    np.random.seed(5)
    tf.random.set_seed(5)
    _autoencoder_code(X[:200], 3)
    model = SupervisedEmbeddingTransformer(model=network, epochs=2, cv=None, random_state=3)
    model.fit(X[:200], y[:200])
    assert (random.random(), np.random.rand(), float(tf.random.uniform(()))) == expected


def test_custom_model_fit_does_not_depend_on_the_global_seed(digits):
    import keras

    X, y = digits
    keras.utils.set_random_seed(10)
    first = _supervised_embedding(X[:200], y[:200], 0, custom=True)
    keras.utils.set_random_seed(99)
    second = _supervised_embedding(X[:200], y[:200], 0, custom=True)
    np.testing.assert_array_equal(first, second)


class _BatchCounter:
    """A callback with a per-batch hook: it sends training through keras.Model.fit."""

    def __new__(cls):
        import keras

        class BatchCounter(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                pass

        return BatchCounter()


@pytest.mark.parametrize("path", ["memmap", "batch-callback", "sparse"])
def test_streamed_training_does_not_depend_on_global_generators(digits, tmp_path, path):
    import keras
    import scipy.sparse as sp

    X, _ = digits
    X = X[:300]
    callbacks = None
    if path == "memmap":
        np.save(tmp_path / "X.npy", X)
        X = np.load(tmp_path / "X.npy", mmap_mode="r")
    elif path == "sparse":
        X = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    codes, states = [], []
    for global_seed in (1, 2):
        keras.utils.set_random_seed(global_seed)
        if path == "batch-callback":
            callbacks = [_BatchCounter()]
        model = KerasAutoencoderTransformer(
            n_components=2, callbacks=callbacks, random_state=0, **SMALL
        )
        codes.append(model.fit(X).transform(X))
        states.append(random.random())
    np.testing.assert_array_equal(codes[0], codes[1])
    keras.utils.set_random_seed(2)
    assert states[1] == random.random()


def test_custom_layers_creating_unseeded_weights_in_build(digits):
    import keras

    @keras.saving.register_keras_serializable(package="ae_reduce_tests")
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            # Keras draws this initialiser's seed from Python's global random module.
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="random_normal")

        def call(self, inputs):
            return inputs * self.scale

    inputs = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(4, name="hidden")(Scale()(inputs))
    network = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    X, y = digits
    codes = []
    for global_seed in (1, 2):
        random.seed(global_seed)
        model = SupervisedEmbeddingTransformer(model=network, epochs=2, cv=None, random_state=0)
        codes.append(model.fit(X[:200], y[:200]).transform(X[:200]))
        state = random.getstate()
        restored = pickle.loads(pickle.dumps(model))
        assert random.getstate() == state
        np.testing.assert_array_equal(restored.transform(X[:200]), codes[-1])
    np.testing.assert_array_equal(codes[0], codes[1])


def test_the_same_rows_in_another_storage_give_a_fit_of_equal_quality(tmp_path):
    # The user guide says that an array, a memory map and a sparse matrix of the same
    # rows train along different paths: different fits, of equal quality.
    import scipy.sparse as sp
    from sklearn.datasets import load_digits

    X = load_digits().data[:600].astype(np.float32) / 16
    np.save(tmp_path / "X.npy", X)
    stored = {
        "array": X,
        "memmap": np.load(tmp_path / "X.npy", mmap_mode="r"),
        "sparse": sp.csr_matrix(X),
    }
    errors = {}
    for name, data in stored.items():
        model = KerasAutoencoderTransformer(
            n_components=4, hidden_layer_sizes=(32,), epochs=10, random_state=0
        )
        errors[name] = -model.fit(data).score(X)
    assert max(errors.values()) < 1.15 * min(errors.values()), errors
