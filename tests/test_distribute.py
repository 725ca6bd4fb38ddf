"""Data-parallel training over several devices (``device="gpus"`` or a list of devices).

TensorFlow fixes its logical devices when its runtime starts, so the two-device checks
run in a child process that splits the CPU into two logical devices before anything
else; CI has no GPU, and a ``MirroredStrategy`` over two CPUs runs the same code as one
over two GPUs.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

# One worker runs the two-device child process that several tests read.

TWO_DEVICES = textwrap.dedent(
    """
    import json, pickle, sys, warnings

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:240].astype(np.float32)
    y = y[:240]
    two = ["/CPU:0", "/device:CPU:1"]
    small = dict(n_components=4, hidden_layer_sizes=(16,), epochs=3, batch_size=32,
                 random_state=0)


    class EveryBatch(keras.callbacks.Callback):
        # A per-batch hook sends one device through keras.Model.fit too, the loop that
        # trains on several.
        def on_train_batch_end(self, batch, logs=None):
            pass


    one = KerasAutoencoderTransformer(device="cpu", callbacks=[EveryBatch()], **small).fit(X)
    first = KerasAutoencoderTransformer(device=two, **small).fit(X)
    again = KerasAutoencoderTransformer(device=two, **small).fit(X)
    supervised = dict(small, dropout=0.2, batch_normalization=True)
    sup_first = SupervisedEmbeddingTransformer(device=two, **supervised).fit(X, y)
    restored = pickle.loads(pickle.dumps(sup_first))
    json.dump(
        {
            "single_history": one.history_["loss"],
            "two_history": first.history_["loss"],
            "single_code": one.transform(X).tolist(),
            "two_code": first.transform(X).tolist(),
            "repeat_code": again.transform(X).tolist(),
            "sup_code": sup_first.transform(X).tolist(),
            "sup_restored_code": restored.transform(X).tolist(),
            "sup_predicted": sorted(set(sup_first.predict(X).tolist())),
            "device_param": sup_first.get_params()["device"],
        },
        sys.stdout,
    )
    """
)


@pytest.fixture(scope="session")
def two_device_run():
    # Session-wide, so that the 30 s child process runs once per worker whatever order
    # the tests come in.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    completed = subprocess.run(
        [sys.executable, "-c", TWO_DEVICES], capture_output=True, text=True, env=env, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_two_devices_average_the_gradients_of_one_device(two_device_run):
    # Each device takes half of every mini-batch; the summed gradients must be those of
    # the whole batch on one device. Summing without averaging, or each device applying
    # only its own half, moves the losses by far more than float rounding does.
    np.testing.assert_allclose(
        two_device_run["two_history"], two_device_run["single_history"], rtol=1e-3
    )
    np.testing.assert_allclose(two_device_run["two_code"], two_device_run["single_code"], atol=0.05)


def test_two_device_fits_are_reproducible(two_device_run):
    np.testing.assert_array_equal(two_device_run["two_code"], two_device_run["repeat_code"])


def test_two_device_fit_with_dropout_and_batch_normalization_pickles(two_device_run):
    assert two_device_run["device_param"] == ["/CPU:0", "/device:CPU:1"]
    assert set(two_device_run["sup_predicted"]) <= set(range(10))
    np.testing.assert_array_equal(two_device_run["sup_code"], two_device_run["sup_restored_code"])


@pytest.mark.parametrize(
    "device, error, message",
    [
        ("gpus", ValueError, r"device='gpus'.*no GPU"),
        (["/CPU:0", "/CPU:7"], ValueError, r"'/CPU:7' is not a device TensorFlow sees.*CPU:0"),
        (["/CPU:0", "/cpu:0"], ValueError, r"twice"),
        # Another task's device was taken for this process's own.
        (["/job:worker/task:1/device:CPU:0"], ValueError, r"is not a device TensorFlow sees"),
        (["/replica:1/device:CPU:0"], ValueError, r"is not a device TensorFlow sees"),
        ([], ValueError, r"empty list"),
        (["/CPU:0", 1], TypeError, r"list holds 1, of type int"),
        ("nonsense:0", ValueError, r"'device' parameter"),
    ],
)
def test_unusable_devices_are_refused_by_name(digits, device, error, message):
    if device == "gpus":
        import tensorflow as tf

        if tf.config.list_logical_devices("GPU"):
            pytest.skip("a GPU is visible")
    X = digits[0][:40]
    estimator = KerasAutoencoderTransformer(
        n_components=2, hidden_layer_sizes=(4,), epochs=1, device=device
    )
    with pytest.raises(error, match=message):
        estimator.fit(X)
    assert not hasattr(estimator, "encoder_")


def test_a_list_of_one_device_trains_there(digits):
    X, y = digits[0][:60], digits[1][:60]
    estimator = SupervisedEmbeddingTransformer(
        n_components=2, hidden_layer_sizes=(4,), epochs=1, device=["/CPU:0"], random_state=0
    )
    on_cpu = SupervisedEmbeddingTransformer(
        n_components=2, hidden_layer_sizes=(4,), epochs=1, device="cpu", random_state=0
    )
    np.testing.assert_array_equal(estimator.fit(X, y).transform(X), on_cpu.fit(X, y).transform(X))
