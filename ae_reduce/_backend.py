"""Loading Keras on demand, device placement and seeding.

Nothing here imports TensorFlow at module import time: ``import ae_reduce`` must stay
cheap, so Keras is loaded by :func:`import_keras` the first time a network is needed.
"""

import contextlib
import os
import random

import numpy as np

_CONFIGURED = False


def import_keras():
    """Import Keras with the TensorFlow backend and configure it once per process.

    Returns
    -------
    keras : module
        The ``keras`` package.
    """
    global _CONFIGURED
    if not _CONFIGURED:
        # TensorFlow's C++ start-up chatter (including a CUDA error on every machine
        # without a GPU) is noise to scikit-learn users; an explicit setting wins.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            # Grabbing the whole GPU would starve every other process sharing it.
            with contextlib.suppress(RuntimeError):
                tf.config.experimental.set_memory_growth(gpu, True)
        _CONFIGURED = True
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "ae_reduce needs Keras with the TensorFlow backend, but KERAS_BACKEND is "
            f"{keras.backend.backend()!r}."
        )
    return keras


def gpu_available():
    """Return whether TensorFlow sees at least one GPU."""
    import_keras()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def resolve_device(device):
    """Translate the ``device`` parameter into a TensorFlow device name.

    Parameters
    ----------
    device : {"auto", "cpu", "gpu"}
        ``"auto"`` picks the first GPU when one is visible and the CPU otherwise.

    Returns
    -------
    name : str
        ``"/GPU:0"`` or ``"/CPU:0"``.
    """
    if device == "cpu":
        return "/CPU:0"
    has_gpu = gpu_available()
    if device == "gpu" and not has_gpu:
        raise ValueError(
            "device='gpu' was requested but TensorFlow sees no GPU. Install the CUDA build "
            "(pip install 'ae-reduce[gpu]'), check that the driver is visible "
            "(nvidia-smi), or use device='auto' to fall back to the CPU."
        )
    return "/GPU:0" if has_gpu else "/CPU:0"


@contextlib.contextmanager
def device_scope(name):
    """Place the TensorFlow operations created inside the block on ``name``."""
    import_keras()
    import tensorflow as tf

    with tf.device(name):
        yield


@contextlib.contextmanager
def seeded(seed):
    """Seed Keras, TensorFlow, numpy and Python for the block, then restore the globals.

    ``keras.utils.set_random_seed`` overwrites the global generators of Python and numpy;
    the user's own random streams must not change because they called ``fit``.
    """
    keras = import_keras()
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002 (the global state is what leaks)
    try:
        keras.utils.set_random_seed(int(seed))
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002


def inference_device(device):
    """Device for ``transform`` and friends.

    Unlike training, inference never fails for want of a GPU: a model trained on a GPU
    and unpickled on a machine without one runs on its CPU.
    """
    return resolve_device("cpu" if device == "cpu" else "auto")
