"""Each part of what ae_reduce changes in the process can be turned off, and is by its switch."""

import gc
import os
import random
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ae_reduce
from ae_reduce import (
    KerasAutoencoderTransformer,
    config_context,
    get_config,
    release_cached_models,
    set_config,
)
from ae_reduce._keras import runtime
from ae_reduce._keras.backend import import_keras

SWITCHES = (
    "cache_compiled_models",
    "trim_memory",
    "patch_keras_all_reduce",
    "quiet_tensorflow_logs",
    "filter_startup_logs",
    "grow_gpu_memory",
    "seed_python_random",
    "limit_blas_threads",
)
SMALL = {"hidden_layer_sizes": (6,), "n_components": 2, "epochs": 2, "random_state": 0}


def test_every_switch_is_on_by_default_and_public():
    assert get_config() == dict.fromkeys(SWITCHES, True)
    for name in ("config_context", "get_config", "set_config"):
        assert name in ae_reduce.__all__


def test_config_context_restores_the_settings_even_on_error():
    with pytest.raises(RuntimeError, match="inside"):
        with config_context(trim_memory=False, limit_blas_threads=False):
            assert get_config()["trim_memory"] is False
            assert get_config()["limit_blas_threads"] is False
            assert get_config()["cache_compiled_models"] is True
            raise RuntimeError("inside")
    assert get_config() == dict.fromkeys(SWITCHES, True)


def test_set_config_changes_only_what_it_is_given_and_refuses_non_booleans():
    try:
        set_config(grow_gpu_memory=False)
        set_config(trim_memory=None)
        assert get_config() == {**dict.fromkeys(SWITCHES, True), "grow_gpu_memory": False}
        with pytest.raises(TypeError, match="trim_memory must be True, False or None"):
            set_config(trim_memory=0)
        with pytest.raises(TypeError):
            set_config(no_such_switch=True)
        config = get_config()
        config["trim_memory"] = False
        assert get_config()["trim_memory"] is True
    finally:
        set_config(grow_gpu_memory=True)


class _Counted:
    """Wraps ``training._Trainer`` to count the compiled models built."""

    def __init__(self, monkeypatch):
        from ae_reduce._keras import training

        self.built = 0
        original = training._Trainer
        counter = self

        class Counting(original):
            def __init__(self, *args, **kwargs):
                counter.built += 1
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(training, "_Trainer", Counting)


def test_without_the_cache_fits_do_not_share_a_compiled_model(digits, monkeypatch):
    X = digits[0][:120]
    release_cached_models()
    counted = _Counted(monkeypatch)
    cached = [KerasAutoencoderTransformer(**SMALL).fit(X).transform(X) for _ in range(2)]
    assert counted.built == 1
    release_cached_models()
    n_functions = len(runtime._inference_cache)
    with config_context(cache_compiled_models=False):
        uncached = [KerasAutoencoderTransformer(**SMALL).fit(X).transform(X) for _ in range(2)]
    assert counted.built == 3
    assert len(runtime._cache) == 0
    assert len(runtime._inference_cache) == n_functions == 0
    # The cache only saves compiling: the results are the same without it.
    for result in uncached:
        np.testing.assert_array_equal(result, cached[0])


def test_without_trimming_released_models_are_only_dropped(digits, monkeypatch):
    from tensorflow.python.eager import context

    X = digits[0][:120]
    release_cached_models()
    calls = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("gc") or 0)
    monkeypatch.setattr(runtime, "return_freed_pages", lambda: calls.append("malloc_trim"))
    monkeypatch.setattr(
        context.context(), "clear_kernel_cache", lambda: calls.append("kernel cache")
    )
    KerasAutoencoderTransformer(**SMALL).fit(X)
    calls.clear()
    with config_context(trim_memory=False):
        assert release_cached_models() == 1
    assert calls == []
    KerasAutoencoderTransformer(**SMALL).fit(X)
    calls.clear()
    assert release_cached_models() == 1
    assert calls == ["gc", "kernel cache", "malloc_trim"]


def _keras_method(optimizer):
    """Whether ``optimizer`` has Keras's own ``_all_reduce_sum_gradients``."""
    return "_all_reduce_sum_gradients" not in vars(optimizer)


def test_without_the_patch_the_optimizer_keeps_keras_method(digits):
    X = digits[0][:120]
    release_cached_models()
    with config_context(patch_keras_all_reduce=False):
        KerasAutoencoderTransformer(**SMALL).fit(X)
    (trainer,) = runtime._cache.values()
    assert _keras_method(trainer.model.optimizer)
    del trainer
    release_cached_models()
    KerasAutoencoderTransformer(**SMALL).fit(X)
    (trainer,) = runtime._cache.values()
    assert not _keras_method(trainer.model.optimizer)
    del trainer
    release_cached_models()


class _RenamedOptimizer:
    """An optimizer of a Keras that renamed ``_all_reduce_sum_gradients``."""


def test_a_renamed_keras_method_is_reported_once(monkeypatch):
    import_keras()
    monkeypatch.setattr(runtime, "_all_reduce_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with config_context(patch_keras_all_reduce=False):
            runtime.skip_single_replica_all_reduce(_RenamedOptimizer())
        assert caught == []
        for _ in range(3):
            runtime.skip_single_replica_all_reduce(_RenamedOptimizer())
    assert [w.category for w in caught] == [RuntimeWarning]
    message = str(caught[0].message)
    assert "_all_reduce_sum_gradients" in message
    assert "patch_keras_all_reduce=False" in message


def test_release_cached_models_releases_the_distribution_strategies():
    import_keras()
    release_cached_models()
    devices = ("/CPU:0",)
    strategy = runtime.mirrored_strategy(devices)
    assert runtime.mirrored_strategy(devices) is strategy
    # Strategies are released but not counted among the compiled models.
    assert release_cached_models() == 0
    assert runtime._strategies == {}
    assert runtime.mirrored_strategy(devices) is not strategy
    release_cached_models()


def test_without_seeding_python_random_is_left_alone():
    random.seed(1)
    first, second = random.random(), random.random()
    random.seed(5)
    seeded = random.random()
    random.seed(1)
    with runtime.keras_default_seeds(5):
        assert random.random() == seeded
    # The caller's stream continues where it was.
    assert random.random() == first
    random.seed(1)
    with config_context(seed_python_random=False), runtime.keras_default_seeds(5):
        assert random.random() == first
    assert random.random() == second


def test_without_the_limit_blas_keeps_its_threads():
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}

    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl controls")
    with threadpool_limits(limits=2, user_api="blas"):
        with runtime.single_blas_thread():
            assert blas_threads() == {1}
        assert blas_threads() == {2}
        with config_context(limit_blas_threads=False), runtime.single_blas_thread():
            assert blas_threads() == {2}


class _FakeGPU:
    name = "/physical_device:GPU:0"


@pytest.mark.parametrize("grow", [True, False])
def test_gpu_memory_growth_follows_its_switch(monkeypatch, grow):
    import_keras()
    import tensorflow as tf

    grown = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [_FakeGPU()])
    monkeypatch.setattr(
        tf.config.experimental, "set_memory_growth", lambda gpu, on: grown.append(gpu.name)
    )
    # As on the first fit of a process.
    monkeypatch.setattr(runtime, "_configured", False)
    with config_context(grow_gpu_memory=grow):
        runtime.configure_tensorflow()
    assert grown == ([_FakeGPU.name] if grow else [])


# -- TensorFlow's start-up, in fresh interpreters -----------------------------------------

LOG_RECORD = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ ")
ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog()"
FIRST_FIT = (
    "import os, ae_reduce\n"
    "from ae_reduce._keras.backend import import_keras\n"
    "ae_reduce.set_config({settings})\n"
    "import_keras()\n"
    "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
)


def _run(code):
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )


def _log_lines(stderr):
    """TensorFlow's C++ log lines, without the timestamp and thread id."""
    return {
        LOG_RECORD.sub("", line)
        for line in stderr.splitlines()
        if LOG_RECORD.match(line) or line.startswith(ABSL_PREAMBLE)
    }


@pytest.fixture(scope="module")
def default_first_fit():
    """A fresh interpreter's first fit with every switch on, shared by the tests below."""
    return _run(FIRST_FIT.format(settings=""))


def test_without_quiet_logs_the_log_level_is_left_unset(default_first_fit):
    assert default_first_fit.stdout.split() == ["3"]
    quiet_off = _run(FIRST_FIT.format(settings="quiet_tensorflow_logs=False"))
    assert quiet_off.stdout.split() == ["None"]


def test_without_the_filter_tensorflow_prints_its_startup_lines(default_first_fit):
    bare = _run(
        "import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
        "import tensorflow as tf; tf.config.list_physical_devices('GPU')"
    )
    expected = _log_lines(bare.stderr)
    if not expected:
        pytest.skip("this TensorFlow build prints nothing at start-up")
    assert not expected & _log_lines(default_first_fit.stderr)
    unfiltered = _run(FIRST_FIT.format(settings="filter_startup_logs=False"))
    assert unfiltered.stdout.split() == ["3"]
    assert expected <= _log_lines(unfiltered.stderr)
