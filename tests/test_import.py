"""Importing ae_reduce and handling parameters stay cheap: no TensorFlow."""

import json
import subprocess
import sys

import pytest

# One fresh interpreter answers both tests: which heavy modules importing ae_reduce and
# handling parameters load, then whether a fit loads TensorFlow.
SCRIPT = (
    "import json, sys, numpy as np, ae_reduce\n"
    "from sklearn.base import clone\n"
    "model = ae_reduce.KerasAutoencoderTransformer(n_components=3)\n"
    "clone(model).set_params(n_components=4).get_params()\n"
    "before = sorted(m for m in ('tensorflow', 'keras', 'matplotlib', 'openTSNE')"
    " if m in sys.modules)\n"
    "ae_reduce.KerasAutoencoderTransformer(epochs=1, hidden_layer_sizes=(4,))"
    ".fit(np.random.rand(20, 5))\n"
    "print(json.dumps({'before_fit': before, 'after_fit': 'tensorflow' in sys.modules}))"
)


@pytest.fixture(scope="module")
def imported():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_and_get_params_do_not_import_tensorflow(imported):
    assert imported["before_fit"] == []


def test_fit_imports_tensorflow(imported):
    assert imported["after_fit"] is True
