"""Memory stays bounded when many models are fitted in a loop, as in a grid search."""

import subprocess
import sys
import weakref

import numpy as np
import pytest

import ae_reduce
from ae_reduce import KerasAutoencoderTransformer, release_cached_models

# Resident memory of the child process running a script below, in MB.
RESIDENT_MB = """
def resident_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
"""


def _run(script):
    """Run ``script`` in a fresh interpreter; return what it printed, split in words."""
    return subprocess.run(
        [sys.executable, "-c", RESIDENT_MB + script],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()


SCRIPT = """
import numpy as np
from ae_reduce import KerasAutoencoderTransformer

X = np.random.RandomState(0).normal(size=(300, 20))
sizes = []
for i in range(40):
    width = (8, 16)[i % 2]  # two architectures, as a small grid would have
    KerasAutoencoderTransformer(hidden_layer_sizes=(width,), epochs=2, random_state=i).fit(X)
    sizes.append(resident_mb())
print(sizes[5], sizes[-1])
"""


def test_fitting_in_a_loop_does_not_grow_memory():
    after_warm_up, at_end = map(float, _run(SCRIPT))
    # Rebuilding and retracing a Keras model per fit costs about 8 MB each, so 34 fits
    # would add over 250 MB; with the compiled models reused the growth stays small.
    assert at_end - after_warm_up < 60, (after_warm_up, at_end)


SPARSE_SCRIPT = """
import warnings
import numpy as np, scipy.sparse as sp
from ae_reduce import KerasAutoencoderTransformer

def peak_mb():
    with open("/proc/self/status") as status:
        return int(status.read().split("VmHWM:")[1].split()[0]) / 1024

warnings.simplefilter("ignore")
X = sp.random(2000, 20000, density=0.0005, format="csr", random_state=0, dtype=np.float32)
KerasAutoencoderTransformer(2, hidden_layer_sizes=(4,), epochs=1).fit(X[:50, :50].tocsr())
before = peak_mb()
KerasAutoencoderTransformer(2, hidden_layer_sizes=(4,), epochs=1).fit(X)
print(peak_mb() - before)
"""


def test_pca_start_keeps_sparse_input_sparse():
    # Regression: the PCA start densified the rows of a sparse matrix (here 160 MB, and
    # PCA's centred copy as much again), however wide it was.
    assert float(_run(SPARSE_SCRIPT)[-1]) < 200


ARCHITECTURES_SCRIPT = """
import warnings
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler
from ae_reduce import KerasAutoencoderTransformer

warnings.simplefilter("ignore")
X = StandardScaler().fit_transform(load_digits().data)
widths = range(8, 68, 2)  # 30 architectures: 5 to warm up, 25 to measure
for i, width in enumerate(widths):
    model = KerasAutoencoderTransformer(
        hidden_layer_sizes=(width,), n_components=2, epochs=2, random_state=0
    )
    model.fit(X).transform(X)
    if i == 4:
        after_warm_up = resident_mb()
print(after_warm_up, resident_mb())
"""


@pytest.mark.slow
def test_fitting_many_architectures_keeps_memory_bounded():
    # Regression: every architecture fitted kept its traced training graphs for good
    # (a gradient function that Keras's optimizer registers in TensorFlow's global
    # registry held them), and TensorFlow's eager kernel cache kept one kernel per
    # variable: 25 architectures grew the process by about 230 MB, and a search over
    # a hundred would have grown it by nearly a gigabyte. Eviction from the cache of
    # compiled models now frees them. About 35 s, hence the slow mark.
    after_warm_up, at_end = map(float, _run(ARCHITECTURES_SCRIPT))
    assert at_end - after_warm_up <= 80, (after_warm_up, at_end)


def test_evicted_compiled_models_are_freed(digits):
    from ae_reduce._keras import runtime

    X = digits[0][:200]
    release_cached_models()
    KerasAutoencoderTransformer(hidden_layer_sizes=(3,), epochs=1, random_state=0).fit(X)
    (trainer,) = runtime._cache.values()
    first = weakref.ref(trainer.model)
    del trainer
    # One more architecture than the cache holds pushes the first one out.
    for width in range(4, 4 + runtime.CACHE_SIZE):
        KerasAutoencoderTransformer(hidden_layer_sizes=(width,), epochs=1, random_state=0).fit(X)
    assert len(runtime._cache) == runtime.CACHE_SIZE
    assert first() is None


def test_release_cached_models_frees_them_and_later_fits_are_identical(digits):
    from ae_reduce._keras import runtime

    X = digits[0][:300]
    # Dropout and input noise draw random numbers while training: their streams must not
    # depend on what the process released before.
    params = {"hidden_layer_sizes": (5,), "dropout": 0.1, "noise_stddev": 0.1, "epochs": 3}
    params["random_state"] = 0
    before = KerasAutoencoderTransformer(**params).fit(X).transform(X)
    cached = [weakref.ref(trainer.model) for trainer in runtime._cache.values()]
    assert release_cached_models() == len(cached) >= 1
    assert len(runtime._cache) == 0
    assert all(model() is None for model in cached)
    assert release_cached_models() == 0
    after = KerasAutoencoderTransformer(**params).fit(X).transform(X)
    np.testing.assert_array_equal(after, before)


def test_release_cached_models_before_any_fit_does_not_load_tensorflow():
    code = (
        "import sys, ae_reduce\n"
        "print(ae_reduce.release_cached_models(), 'tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["0", "False"]
    assert "release_cached_models" in ae_reduce.__all__
