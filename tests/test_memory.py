"""Memory stays bounded when many models are fitted in a loop, as in a grid search."""

import subprocess
import sys

SCRIPT = """
import numpy as np
from ae_reduce import KerasAutoencoderTransformer

def resident_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

X = np.random.RandomState(0).normal(size=(300, 20))
sizes = []
for i in range(40):
    width = (8, 16)[i % 2]  # two architectures, as a small grid would have
    KerasAutoencoderTransformer(hidden_layer_sizes=(width,), epochs=2, random_state=i).fit(X)
    sizes.append(resident_mb())
print(sizes[5], sizes[-1])
"""


def test_fitting_in_a_loop_does_not_grow_memory():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=600
    ).stdout
    after_warm_up, at_end = map(float, out.split())
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
    out = subprocess.run(
        [sys.executable, "-c", SPARSE_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    assert float(out.split()[-1]) < 200
