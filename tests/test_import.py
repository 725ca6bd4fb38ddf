"""Importing ae_reduce and handling parameters stay cheap: no TensorFlow."""

import subprocess
import sys


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_import_and_get_params_do_not_import_tensorflow():
    code = (
        "import sys, ae_reduce\n"
        "from sklearn.base import clone\n"
        "model = ae_reduce.KerasAutoencoderTransformer(n_components=3)\n"
        "clone(model).set_params(n_components=4).get_params()\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib', 'openTSNE')"
        " if m in sys.modules))"
    )
    assert _run(code) == "[]"


def test_fit_imports_tensorflow():
    code = (
        "import sys, numpy as np, ae_reduce\n"
        "ae_reduce.KerasAutoencoderTransformer(epochs=1, hidden_layer_sizes=(4,))"
        ".fit(np.random.rand(20, 5))\n"
        "print('tensorflow' in sys.modules)"
    )
    assert _run(code) == "True"
