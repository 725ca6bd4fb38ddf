"""Loading Keras on demand and device placement.

Nothing here imports TensorFlow at module import time: ``import ae_reduce`` must stay
cheap, so Keras is loaded by :func:`import_keras` the first time a network is needed.
"""

import contextlib
import os
import re
import sys
import tempfile
import threading
import warnings

_CONFIGURED = False
# Two threads fitting at once must not both swap file descriptor 2: the second would save
# the first one's capture file as "the real stderr" and never give the terminal back.
_CONFIGURE_LOCK = threading.Lock()

#: The default of TF_CPP_MIN_LOG_LEVEL: errors and below stay hidden.
_DEFAULT_LOG_LEVEL = 3
#: Severities of absl/glog lines, as TF_CPP_MIN_LOG_LEVEL counts them.
_SEVERITIES = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
# A C++ log record such as
# "I0000 00:00:1795259104.764277    2792 port.cc:153] oneDNN custom operations are on."
_LOG_RECORD = re.compile(rb"([IWEF])\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] ")
_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called"


def import_keras(verbose=0):
    """Import Keras with the TensorFlow backend and configure it once per process.

    TensorFlow's C++ code logs start-up notices (oneDNN, missing CUDA drivers, absl's
    "All log messages before absl::InitializeLog()") straight to file descriptor 2
    while it is imported, before it reads ``TF_CPP_MIN_LOG_LEVEL``. The first call
    therefore imports TensorFlow with file descriptor 2 captured and passes on only the
    lines that ``TF_CPP_MIN_LOG_LEVEL`` (3 unless set) lets through, together with
    anything else written meanwhile, such as Python warnings.

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
    global _CONFIGURED
    if not _CONFIGURED:
        with _CONFIGURE_LOCK:
            _configure(verbose)
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "ae_reduce needs Keras with the TensorFlow backend, but KERAS_BACKEND is "
            f"{keras.backend.backend()!r}."
        )
    return keras


def _configure(verbose):
    """Import TensorFlow and Keras and set them up, unless another thread just did."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    user_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    # Start-up chatter (including a CUDA error on every machine without a GPU) is noise
    # to scikit-learn users; an explicit setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", str(_DEFAULT_LOG_LEVEL))
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    level = _DEFAULT_LOG_LEVEL if user_level is None else _log_level(user_level)
    filtered = level > 0 and not verbose
    with _startup_log_filtered(level) if filtered else contextlib.nullcontext():
        import keras  # noqa: F401 (imported here so that its start-up output is filtered too)
        import tensorflow as tf

        # Listing the devices loads the CUDA libraries, which log on their own.
        gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        # Grabbing the whole GPU would starve every other process sharing it.
        _grow_memory(tf, gpu)
    _CONFIGURED = True


def _grow_memory(tf, gpu):
    """Let TensorFlow take GPU memory as it needs it rather than all of it at start."""
    try:
        tf.config.experimental.set_memory_growth(gpu, True)
    except ValueError:
        # The user split the GPU into logical devices (with a memory_limit): that cap
        # bounds the memory already, and TensorFlow refuses growth on top of it.
        pass
    except RuntimeError:
        if not tf.config.experimental.get_memory_growth(gpu):
            warnings.warn(
                f"TensorFlow had started using {gpu.name} before ae_reduce configured it, "
                "so memory growth could not be turned on and this process may hold all "
                "of the GPU's memory. Set TF_FORCE_GPU_ALLOW_GROWTH=true in the "
                "environment, or fit an ae_reduce estimator before other TensorFlow work.",
                RuntimeWarning,
                stacklevel=4,
            )


def _log_level(text):
    """TF_CPP_MIN_LOG_LEVEL as a number; 0 (show everything) when it is not one."""
    try:
        return int(text)
    except ValueError:
        return 0


def _is_hidden(line, level):
    """Whether TF_CPP_MIN_LOG_LEVEL=level would have hidden this C++ log line."""
    if line.startswith(_ABSL_PREAMBLE):
        return _SEVERITIES[b"W"] < level
    record = _LOG_RECORD.match(line)
    return record is not None and _SEVERITIES[record.group(1)] < level


@contextlib.contextmanager
def _startup_log_filtered(level):
    """Capture file descriptor 2 for the block, then replay what ``level`` lets through.

    The capture is a file rather than /dev/null so that anything else written during
    the block (a Python warning, a message not in the C++ log format) still reaches the
    user. Exceptions raised in the block propagate after file descriptor 2 is restored,
    so their tracebacks are printed where the user sees them.
    """
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        # No standard error to protect (a daemon may have closed it).
        yield
        return
    try:
        capture = tempfile.TemporaryFile()
    except OSError:
        os.close(saved)
        yield
        return
    try:
        os.dup2(capture.fileno(), 2)
        yield
    finally:
        # Python text written in the block belongs in the capture, before the replay.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        with capture:
            capture.seek(0)
            lines = capture.read().splitlines(keepends=True)
        _write_all(2, b"".join(line for line in lines if not _is_hidden(line, level)))


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data) :]


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
