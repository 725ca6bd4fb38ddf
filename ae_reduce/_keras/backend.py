"""Loading Keras on demand and device placement.

Nothing here imports TensorFlow at module import time: ``import ae_reduce`` must stay
cheap, so Keras is loaded by :func:`import_keras` the first time a network is needed.
What loading it changes in the process is done in :mod:`ae_reduce._keras.runtime`.
"""

import contextlib

from .runtime import configure_tensorflow


def import_keras(verbose=0):
    """Import Keras with the TensorFlow backend and configure it once per process.

    The first call imports TensorFlow with its start-up lines filtered and turns on
    memory growth for every GPU; see
    :func:`ae_reduce._keras.runtime.configure_tensorflow`.

    Parameters
    ----------
    verbose : int, default=0
        With a positive value on the first call, TensorFlow's start-up lines are
        shown as TensorFlow prints them.

    Returns
    -------
    keras : module
        The ``keras`` package.
    """
    configure_tensorflow(verbose)
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
    """Translate the ``device`` parameter into TensorFlow device names.

    Parameters
    ----------
    device : {"auto", "cpu", "gpu", "gpus"} or list of str
        ``"auto"`` picks the first GPU when one is visible and the CPU otherwise;
        ``"gpus"`` every visible GPU; a list names the devices, as TensorFlow does
        (``"/GPU:0"``, ``"/device:CPU:1"``).

    Returns
    -------
    name : str or tuple of str
        One device name (``"/GPU:0"``, ``"/CPU:0"``), or a tuple of two or more for
        data-parallel training over them.
    """
    if isinstance(device, str):
        if device == "cpu":
            return "/CPU:0"
        if device == "gpus":
            return _all_gpus()
        has_gpu = gpu_available()
        if device == "gpu" and not has_gpu:
            raise ValueError(_NO_GPU.format(device=device))
        return "/GPU:0" if has_gpu else "/CPU:0"
    return _named_devices(device)


_NO_GPU = (
    "device={device!r} was requested but TensorFlow sees no GPU. Install the CUDA build "
    "(pip install 'ae-reduce[gpu]'), check that the driver is visible (nvidia-smi), or "
    "use device='auto' to fall back to the CPU."
)


def _all_gpus():
    import_keras()
    import tensorflow as tf

    names = [gpu.name for gpu in tf.config.list_logical_devices("GPU")]
    if not names:
        raise ValueError(_NO_GPU.format(device="gpus"))
    return names[0] if len(names) == 1 else tuple(names)


def _named_devices(devices):
    """Canonical names of a list of TensorFlow devices, each checked to exist."""
    import_keras()
    import tensorflow as tf

    entries = list(devices)
    if not entries:
        raise ValueError("device is an empty list; name at least one device, or use 'auto'.")
    visible = {}
    for logical in tf.config.list_logical_devices():
        spec = tf.DeviceSpec.from_string(logical.name)
        visible[(spec.device_type, spec.device_index)] = logical.name
    names = []
    for entry in entries:
        if not isinstance(entry, str):
            raise TypeError(
                f"device must be 'auto', 'cpu', 'gpu', 'gpus' or a list of device names "
                f"such as '/GPU:0'; the list holds {entry!r}, of type {type(entry).__name__}."
            )
        try:
            spec = tf.DeviceSpec.from_string(entry)
        except ValueError:
            spec = None
        key = None if spec is None else ((spec.device_type or "").upper(), spec.device_index)
        if spec is not None and not _in_this_process(spec):
            key = None  # another job's or task's device, which would be taken for ours
        if key not in visible:
            raise ValueError(
                f"device {entry!r} is not a device TensorFlow sees; the visible devices "
                f"are {', '.join(sorted(visible.values()))}."
            )
        if visible[key] in names:
            raise ValueError(f"device lists {visible[key]!r} twice; name each device once.")
        names.append(visible[key])
    return names[0] if len(names) == 1 else tuple(names)


def _in_this_process(spec):
    """Whether a parsed device name names no job, replica or task other than this
    process's (``/job:localhost/replica:0/task:0``)."""
    return spec.job in (None, "localhost") and spec.replica in (None, 0) and spec.task in (None, 0)


@contextlib.contextmanager
def device_scope(name):
    """Place the TensorFlow operations created inside the block on ``name``."""
    import_keras()
    import tensorflow as tf

    with tf.device(name):
        yield


def inference_device(device):
    """Device for ``transform`` and friends.

    Unlike training, inference never fails for want of a GPU: a model trained on a GPU
    and unpickled on a machine without one runs on its CPU. Inference runs on one
    device: a network trained on several runs on the first of them when it is there.
    """
    if device == "cpu":
        return "/CPU:0"
    if not isinstance(device, str):
        try:
            names = _named_devices(device)
        except (TypeError, ValueError):
            return resolve_device("auto")
        return names if isinstance(names, str) else names[0]
    return resolve_device("auto")
