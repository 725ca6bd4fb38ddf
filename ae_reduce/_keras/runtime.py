"""What ae_reduce changes in the Python and TensorFlow process, and the switches for it.

Everything the package keeps or changes beyond the estimators it returns lives in this
module, each part behind one setting of :func:`set_config` (all on by default):

``cache_compiled_models``
    The compiled training models (the :data:`CACHE_SIZE` most recently used, keyed by
    architecture and device) and the compiled inference functions are kept for later
    fits and transforms of the same architecture. Off: every fit compiles its own
    training model and every transform traces its own function, dropped afterwards.
``trim_memory``
    Dropping compiled models (eviction from the cache, :func:`release_cached_models`,
    or the end of a fit when nothing is cached) runs a full garbage collection, empties
    TensorFlow's private cache of eager kernels and asks glibc's ``malloc_trim`` to
    return freed pages. Off: the models are only dereferenced.
``patch_keras_all_reduce``
    Each compiled optimizer trained on one device gets an identity in place of Keras's
    private ``_all_reduce_sum_gradients``, whose gradient function would otherwise keep
    every traced training graph alive. A :class:`RuntimeWarning`, once per process, says
    when Keras no longer has that method. Off: the optimizers keep Keras's method.
``quiet_tensorflow_logs``
    ``TF_CPP_MIN_LOG_LEVEL`` is set to 3 in the environment when TensorFlow is first
    loaded, unless it is set already. Off: the variable is left alone.
``filter_startup_logs``
    TensorFlow is imported with file descriptor 2 captured, and the C++ log lines that
    ``TF_CPP_MIN_LOG_LEVEL`` should have hidden are dropped from what is replayed. Off:
    TensorFlow writes to standard error as it imports.
``grow_gpu_memory``
    Memory growth is turned on for every GPU when TensorFlow is first loaded. Off: the
    GPUs are left as TensorFlow configures them (it then reserves nearly all of their
    memory).
``seed_python_random``
    Python's global ``random``, from which Keras draws the seeds of weights created
    without one, is seeded around the copying of a user's network and then given back
    its state, under a lock. Off: ``random`` is neither seeded nor restored.
``limit_blas_threads``
    Every loaded BLAS library runs on one thread (threadpoolctl) around the numpy and
    scipy work that fixes a network's start, and is restored afterwards. Off: BLAS keeps
    its threads.

Two more changes have no switch. ``KERAS_BACKEND`` is set to ``"tensorflow"`` unless it
is set already, since the package needs that backend. And one
``tf.distribute.MirroredStrategy`` is kept per tuple of devices trained on together: two
strategies over the same devices number their collective operations from the same start
and mix up the gradients of two models. :func:`release_cached_models` drops them with the
compiled models.

The settings are process-wide, like the state they govern, and not per thread.
``quiet_tensorflow_logs``, ``filter_startup_logs`` and ``grow_gpu_memory`` act once, when
the package first loads TensorFlow in the process (at the first fit, or when a fitted
estimator is first unpickled); the others at every fit or transform.

Importing this module does not import TensorFlow: before the first fit there is nothing
to release, and asking must stay cheap.
"""

import collections
import contextlib
import ctypes
import gc
import os
import random
import re
import sys
import tempfile
import threading
import warnings

from .._utils.warnings import caller_stacklevel

# -- settings -----------------------------------------------------------------------------

_DEFAULTS = {
    "cache_compiled_models": True,
    "trim_memory": True,
    "patch_keras_all_reduce": True,
    "quiet_tensorflow_logs": True,
    "filter_startup_logs": True,
    "grow_gpu_memory": True,
    "seed_python_random": True,
    "limit_blas_threads": True,
}
_config = dict(_DEFAULTS)


def get_config():
    """Return the current settings of what ae_reduce changes in the process.

    Returns
    -------
    config : dict
        One boolean per part, keyed by the parameter names of :func:`set_config`. A
        copy: changing it changes nothing.

    See Also
    --------
    set_config : Change the settings.
    config_context : Change the settings for a block of code.

    Examples
    --------
    >>> from ae_reduce import get_config
    >>> get_config()["cache_compiled_models"]
    True
    """
    return dict(_config)


def set_config(
    *,
    cache_compiled_models=None,
    trim_memory=None,
    patch_keras_all_reduce=None,
    quiet_tensorflow_logs=None,
    filter_startup_logs=None,
    grow_gpu_memory=None,
    seed_python_random=None,
    limit_blas_threads=None,
):
    """Turn on or off each part of what ae_reduce changes in the process.

    Every part is on by default; the user guide's section "What ae_reduce changes in
    the process" says why each is there. The settings hold for the whole process, every
    thread included, but not in other processes (joblib's or Dask's workers).

    Parameters
    ----------
    cache_compiled_models : bool, default=None
        Keep the compiled training models of the eight most recently fitted
        architectures, and the compiled inference functions, for later fits and
        transforms. When off, each fit compiles its own training model and each
        transform traces its own function; models cached before stay until
        :func:`release_cached_models`. ``None`` leaves the setting as it is, and so
        for each parameter.
    trim_memory : bool, default=None
        When compiled models are dropped, run a full garbage collection, empty
        TensorFlow's cache of eager kernels and, on Linux with glibc, return freed heap
        pages to the system (``malloc_trim``).
    patch_keras_all_reduce : bool, default=None
        Replace the private ``_all_reduce_sum_gradients`` method of each compiled
        optimizer that trains on one device by an identity, so that dropped models do
        not stay in memory.
    quiet_tensorflow_logs : bool, default=None
        Set ``TF_CPP_MIN_LOG_LEVEL=3`` in the environment, unless it is set, when
        ae_reduce first loads TensorFlow in the process (at the first fit, or when a
        fitted estimator is first unpickled).
    filter_startup_logs : bool, default=None
        Import TensorFlow with standard error captured and pass on only the start-up
        lines that ``TF_CPP_MIN_LOG_LEVEL`` lets through. Acts when ae_reduce first
        loads TensorFlow in the process.
    grow_gpu_memory : bool, default=None
        Turn on memory growth for every GPU when ae_reduce first loads TensorFlow in
        the process.
    seed_python_random : bool, default=None
        Seed Python's global ``random`` module, and restore its state afterwards,
        around the copying of a network given by the user, so that weights created
        without a seed depend on ``random_state`` alone.
    limit_blas_threads : bool, default=None
        Run BLAS on one thread around the numpy and scipy work that fixes a network's
        start (its PCA), so that the start is the same in every process.

    See Also
    --------
    get_config : The current settings.
    config_context : Change the settings for a block of code.
    release_cached_models : Release the compiled models kept so far.

    Examples
    --------
    >>> from ae_reduce import get_config, set_config
    >>> set_config(cache_compiled_models=False)
    >>> get_config()["cache_compiled_models"]
    False
    >>> set_config(cache_compiled_models=True)
    """
    settings = {
        "cache_compiled_models": cache_compiled_models,
        "trim_memory": trim_memory,
        "patch_keras_all_reduce": patch_keras_all_reduce,
        "quiet_tensorflow_logs": quiet_tensorflow_logs,
        "filter_startup_logs": filter_startup_logs,
        "grow_gpu_memory": grow_gpu_memory,
        "seed_python_random": seed_python_random,
        "limit_blas_threads": limit_blas_threads,
    }
    settings = {name: value for name, value in settings.items() if value is not None}
    for name, value in settings.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True, False or None, got {value!r}.")
    _config.update(settings)


@contextlib.contextmanager
def config_context(
    *,
    cache_compiled_models=None,
    trim_memory=None,
    patch_keras_all_reduce=None,
    quiet_tensorflow_logs=None,
    filter_startup_logs=None,
    grow_gpu_memory=None,
    seed_python_random=None,
    limit_blas_threads=None,
):
    """Change what ae_reduce changes in the process for the block, then restore it.

    The block sees the settings given, and every setting not given as it was; on the
    way out all of them are put back, even when the block raises. As with
    :func:`set_config`, the settings hold for every thread while the block runs.

    Parameters
    ----------
    cache_compiled_models : bool, default=None
        Keep compiled models and inference functions for reuse; see :func:`set_config`.
        ``None`` leaves the setting as it is, and so for each parameter.
    trim_memory : bool, default=None
        Collect garbage, empty TensorFlow's kernel cache and trim the C heap when
        compiled models are dropped.
    patch_keras_all_reduce : bool, default=None
        Replace Keras's private ``_all_reduce_sum_gradients`` on single-device
        optimizers.
    quiet_tensorflow_logs : bool, default=None
        Set ``TF_CPP_MIN_LOG_LEVEL=3`` unless it is set, when TensorFlow is first loaded.
    filter_startup_logs : bool, default=None
        Filter TensorFlow's start-up lines, when TensorFlow is first loaded.
    grow_gpu_memory : bool, default=None
        Turn on memory growth for every GPU, when TensorFlow is first loaded.
    seed_python_random : bool, default=None
        Seed and restore Python's ``random`` around the copying of a user's network.
    limit_blas_threads : bool, default=None
        Run BLAS on one thread while a network's start is computed.

    Yields
    ------
    None
        The block runs with the settings given.

    See Also
    --------
    set_config : Change the settings for good.
    get_config : The current settings.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import KerasAutoencoderTransformer, config_context
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> with config_context(cache_compiled_models=False):
    ...     reducer = KerasAutoencoderTransformer(epochs=5).fit(X)  # doctest: +SKIP
    """
    saved = get_config()
    try:
        set_config(
            cache_compiled_models=cache_compiled_models,
            trim_memory=trim_memory,
            patch_keras_all_reduce=patch_keras_all_reduce,
            quiet_tensorflow_logs=quiet_tensorflow_logs,
            filter_startup_logs=filter_startup_logs,
            grow_gpu_memory=grow_gpu_memory,
            seed_python_random=seed_python_random,
            limit_blas_threads=limit_blas_threads,
        )
        yield
    finally:
        _config.clear()
        _config.update(saved)


# -- compiled models ----------------------------------------------------------------------

#: Compiled training models kept, the least recently used evicted first.
CACHE_SIZE = 8
#: Compiled training models, one per architecture and device, the most recently used last.
_cache = collections.OrderedDict()
#: Compiled inference functions, one per architecture, device and input width, the most
#: recently used last; bounded like the cache of training models.
_inference_cache = collections.OrderedDict()
#: One ``MirroredStrategy`` per tuple of devices.
_strategies = {}
_cache_lock = threading.Lock()


def checkout_model(key):
    """Take the compiled training model cached under ``key`` out of the cache.

    Parameters
    ----------
    key : hashable
        The architecture and device.

    Returns
    -------
    trainer : object or None
        The cached model, now held by the caller alone, or ``None`` when there is none
        or ``cache_compiled_models`` is off.
    """
    if not _config["cache_compiled_models"]:
        return None
    with _cache_lock:
        return _cache.pop(key, None)


def checkin_model(key, trainer):
    """Give back a compiled training model after a fit, to cache it or drop it.

    Parameters
    ----------
    key : hashable
        The architecture and device.
    trainer : object
        The compiled model. Cached as the most recently used, evicting the least
        recently used beyond :data:`CACHE_SIZE`; dropped at once when
        ``cache_compiled_models`` is off.
    """
    if not _config["cache_compiled_models"]:
        _free([trainer])
        return
    with _cache_lock:
        _cache[key] = trainer
        evicted = [_cache.popitem(last=False)[1] for _ in range(len(_cache) - CACHE_SIZE)]
    if evicted:
        _free(evicted)


def inference_function(key, trace):
    """The compiled inference function cached under ``key``, traced when missing.

    Parameters
    ----------
    key : hashable
        The architectures, device and input width.
    trace : callable
        Called without arguments, returns a new function for ``key``.

    Returns
    -------
    function : callable
        The function; cached as the most recently used unless ``cache_compiled_models``
        is off.
    """
    if not _config["cache_compiled_models"]:
        return trace()
    with _cache_lock:
        function = _inference_cache.pop(key, None)
    if function is None:
        function = trace()
    with _cache_lock:
        _inference_cache[key] = function
        evicted = [
            _inference_cache.popitem(last=False)[1]
            for _ in range(len(_inference_cache) - CACHE_SIZE)
        ]
    if evicted:
        _free(evicted)
    return function


def release_cached_models():
    """Release the compiled training models kept for reuse between fits.

    The first fit of each network architecture builds and compiles a training copy of
    the network, and the eight most recently used copies are kept so that later fits of
    the same architecture (cross-validation folds, grid points that change only training
    parameters) skip building and tracing it again. Each copy holds its weights and
    optimizer state, on the GPU when it trains there, and its traced TensorFlow graphs.
    Call this function when a process that has fitted goes on to other work, for
    example after a grid search, to return that memory.

    Fitted estimators are not affected: they hold their own networks. A later fit
    compiles its architecture again, paying the tracing time once more, and gives the
    same results as it would have with the cached copy. A fit running in another thread
    keeps the copy it is training until it finishes. The release also empties
    TensorFlow's cache of eager kernels, as ``keras.backend.clear_session()`` does, and
    on Linux with glibc returns freed heap pages to the system. TensorFlow keeps the GPU
    memory it has reserved for its own later use rather than returning it to the driver.
    The compiled inference functions and the distribution strategies kept for fits on
    several devices are released too; neither is counted. A fit on several devices that
    runs in another thread meanwhile keeps its strategy, and a fit on the same devices
    started before it ends would create a second one over them, which the strategies
    are kept to prevent: release between such fits, not during them.

    The same release happens on its own to the least recently used copy when a ninth
    architecture is fitted, so a long search stays bounded in memory without calling
    this function. :func:`set_config` turns the cache, and the freeing of memory on
    release, off.

    Returns
    -------
    n_released : int
        The number of compiled models released; 0 when none was cached, as always
        before the first fit of the process.

    See Also
    --------
    KerasAutoencoderTransformer : Fits that compile and cache training models.
    SupervisedEmbeddingTransformer : Fits that compile and cache training models.
    set_config : Turn the cache off.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import KerasAutoencoderTransformer, release_cached_models
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> reducer = KerasAutoencoderTransformer(epochs=5).fit(X)  # doctest: +SKIP
    >>> release_cached_models()  # doctest: +SKIP
    1
    """
    with _cache_lock:
        released = list(_cache.values())
        n_released = len(released)
        _cache.clear()
        released += _inference_cache.values()
        _inference_cache.clear()
        released += _strategies.values()
        _strategies.clear()
    if released:
        _free(released)  # empties the list, so nothing here keeps what it frees
    return n_released


def _free(objects):
    """Free the compiled models in the list ``objects``, which is emptied.

    Measured on 25 architectures fitted one after the other: a traced graph sits in
    reference cycles (Keras models, TensorFlow's graphs and their operations), so its
    memory, and TensorFlow's runtime copy of its functions, comes back only after a full
    garbage collection; until Python's own collector gets round to it, each dropped model
    holds about 5 MB. TensorFlow's cache of eager kernels keeps one kernel (about 30 KB)
    for every variable name and shape ever created and is never trimmed on its own;
    emptying it frees those, and the kernels still in use are rebuilt on their next call.
    The C allocator keeps freed pages unless asked to return them. With ``trim_memory``
    off, the list is only emptied.
    """
    objects.clear()
    if not _config["trim_memory"]:
        return
    from tensorflow.python.eager import context

    gc.collect()
    context.context().clear_kernel_cache()
    return_freed_pages()


def return_freed_pages():
    """Ask glibc to hand freed heap pages back to the system (elsewhere, do nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # musl and other C libraries have no malloc_trim
        return
    trim(0)


# -- Keras's optimizer --------------------------------------------------------------------

_ALL_REDUCE = "_all_reduce_sum_gradients"
_all_reduce_warned = False


def _unchanged(grads_and_vars):
    return grads_and_vars


def skip_single_replica_all_reduce(optimizer):
    """Keep ``optimizer`` from summing its gradients over the one replica there is.

    Under TensorFlow's default strategy, Keras's optimizer still passes every gradient
    through an all-reduce, an identity on one device that is wrapped in
    ``tf.custom_gradient``. Traced into a graph, that registers a gradient function in
    TensorFlow's process-wide registry which is never removed, and the function keeps the
    whole traced training graph alive: every compiled model ever dropped stayed in memory
    (about 3 MB each for a small autoencoder). Under a user's distribution strategy the
    all-reduce does real work and is left alone.

    The method is private to Keras. When the optimizer has no method of that name, a
    :class:`RuntimeWarning` says so once per process and the optimizer is left as it is.
    With ``patch_keras_all_reduce`` off, nothing is done.

    Parameters
    ----------
    optimizer : keras.optimizers.Optimizer
        A compiled model's optimizer, changed in place.
    """
    global _all_reduce_warned
    if not _config["patch_keras_all_reduce"]:
        return
    import tensorflow as tf

    if tf.distribute.has_strategy():
        return
    if hasattr(optimizer, _ALL_REDUCE):
        setattr(optimizer, _ALL_REDUCE, _unchanged)
    elif not _all_reduce_warned:
        _all_reduce_warned = True
        warnings.warn(
            f"{type(optimizer).__name__} has no {_ALL_REDUCE} method, which ae_reduce "
            "replaces on optimizers that train on one device (this Keras may have "
            "renamed it): every compiled model dropped from the cache may stay in "
            "memory. Call ae_reduce.set_config(patch_keras_all_reduce=False) to silence "
            "this warning.",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),
        )


def mirrored_strategy(devices):
    """One ``MirroredStrategy`` per tuple of devices, shared by every model trained on them.

    Two strategies over the same devices number their collective operations from the
    same start, so the gradients of one model were summed with another's and the fit
    failed on a shape mismatch. :func:`release_cached_models` drops them.

    Parameters
    ----------
    devices : tuple of str
        TensorFlow device names.

    Returns
    -------
    strategy : tf.distribute.MirroredStrategy
        The strategy over ``devices``, created on first use.
    """
    import tensorflow as tf

    with _cache_lock:
        strategy = _strategies.get(devices)
        if strategy is None:
            strategy = _strategies[devices] = tf.distribute.MirroredStrategy(devices=list(devices))
    return strategy


# -- TensorFlow's start-up ----------------------------------------------------------------

_configured = False
# Two threads fitting at once must not both swap file descriptor 2: the second would save
# the first one's capture file as "the real stderr" and never give the terminal back.
_configure_lock = threading.Lock()

#: The default of TF_CPP_MIN_LOG_LEVEL: errors and below stay hidden.
DEFAULT_LOG_LEVEL = 3
#: Severities of absl/glog lines, as TF_CPP_MIN_LOG_LEVEL counts them.
_SEVERITIES = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
# A C++ log record such as
# "I0000 00:00:1795259104.764277    2792 port.cc:153] oneDNN custom operations are on."
_LOG_RECORD = re.compile(rb"([IWEF])\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] ")
_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called"


def configure_tensorflow(verbose=0):
    """Import TensorFlow and Keras and set them up, once per process.

    TensorFlow's C++ code logs start-up notices (oneDNN, missing CUDA drivers, absl's
    "All log messages before absl::InitializeLog()") straight to file descriptor 2
    while it is imported, before it reads ``TF_CPP_MIN_LOG_LEVEL``. The first call
    therefore imports TensorFlow with file descriptor 2 captured and passes on only the
    lines that ``TF_CPP_MIN_LOG_LEVEL`` (3 unless set) lets through, together with
    anything else written meanwhile, such as Python warnings. It then turns on memory
    growth for every GPU. ``quiet_tensorflow_logs``, ``filter_startup_logs`` and
    ``grow_gpu_memory`` turn each of these off.

    Parameters
    ----------
    verbose : int, default=0
        With a positive value on the first call, TensorFlow's start-up lines are
        shown as TensorFlow prints them.
    """
    if not _configured:
        with _configure_lock:
            _configure(verbose)


def _configure(verbose):
    """Import TensorFlow and Keras and set them up, unless another thread just did."""
    global _configured
    if _configured:
        return
    user_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    # Start-up chatter (including a CUDA error on every machine without a GPU) is noise
    # to scikit-learn users; an explicit setting wins.
    quiet = _config["quiet_tensorflow_logs"]
    if quiet:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", str(DEFAULT_LOG_LEVEL))
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if user_level is not None:
        level = _log_level(user_level)
    else:
        level = DEFAULT_LOG_LEVEL if quiet else 0
    filtered = level > 0 and not verbose and _config["filter_startup_logs"]
    with startup_log_filtered(level) if filtered else contextlib.nullcontext():
        import keras  # noqa: F401 (imported here so that its start-up output is filtered too)
        import tensorflow as tf

        # Listing the devices loads the CUDA libraries, which log on their own.
        gpus = tf.config.list_physical_devices("GPU")
    if _config["grow_gpu_memory"]:
        for gpu in gpus:
            # Grabbing the whole GPU would starve every other process sharing it.
            _grow_memory(tf, gpu)
    _configured = True


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
                stacklevel=5,
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
def startup_log_filtered(level):
    """Capture file descriptor 2 for the block, then replay what ``level`` lets through.

    The capture is a file rather than /dev/null so that anything else written during
    the block (a Python warning, a message not in the C++ log format) still reaches the
    user. Exceptions raised in the block propagate after file descriptor 2 is restored,
    so their tracebacks are printed where the user sees them.

    Parameters
    ----------
    level : int
        A value of ``TF_CPP_MIN_LOG_LEVEL``: C++ log lines below it are dropped.
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


# -- Python's random ----------------------------------------------------------------------

_python_random_lock = threading.Lock()


@contextlib.contextmanager
def keras_default_seeds(seed):
    """Seed what Keras draws for weights created without a seed, for the block only.

    Keras takes the seed of such an initialiser (a custom layer's
    ``add_weight(initializer="random_normal")`` in ``build``) from Python's global
    ``random`` module. Around the building of a user's model that module is seeded from
    ``seed`` and then given back its earlier state, under a lock, so that the weights
    depend on ``seed`` alone and the caller's stream continues where it was. With
    ``seed_python_random`` off, the block runs with ``random`` as it is.

    Parameters
    ----------
    seed : int
        Seed of Python's ``random`` inside the block.
    """
    if not _config["seed_python_random"]:
        yield
        return
    with _python_random_lock:
        state = random.getstate()
        random.seed(seed)
        try:
            yield
        finally:
            random.setstate(state)


# -- BLAS threads -------------------------------------------------------------------------

# How OpenBLAS or MKL splits a matrix product or a factorisation between threads changes
# the order of its sums, and so the last bits of the result. The same PCA therefore
# differs between a process whose BLAS uses every core and a Dask or loky worker, which
# both start BLAS on one thread; trained from those two starts, an autoencoder's codes
# differed by up to 1e-4 on MNIST-shaped data. One thread is the count every process can
# have, so the start, and everything trained from it, is the same wherever a fit runs.
#
# The limit is process-wide and restored to what was found on exit: two threads inside
# at once could restore each other's setting, run with several threads after all, or
# leave BLAS on one thread for good.
_blas_lock = threading.Lock()
_blas_controller = None


@contextlib.contextmanager
def single_blas_thread():
    """Run the block with every loaded BLAS library on one thread, then restore them.

    Only the BLAS libraries loaded when this is first entered are limited; numpy's and
    scipy's are loaded by then. With ``limit_blas_threads`` off, BLAS keeps its threads.
    """
    global _blas_controller
    if not _config["limit_blas_threads"]:
        yield
        return
    with _blas_lock:
        if _blas_controller is None:
            # Scanning the loaded libraries takes milliseconds: once per process.
            from threadpoolctl import ThreadpoolController

            _blas_controller = ThreadpoolController()
        with _blas_controller.limit(limits=1, user_api="blas"):
            yield
