"""Pickle and joblib round trips, in the same and in a fresh process."""

import copy
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest

from ae_reduce import KerasAutoencoderTransformer

SMALL = {"hidden_layer_sizes": (16,), "epochs": 3, "random_state": 0}


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return KerasAutoencoderTransformer(
        n_components=3, batch_normalization=True, dropout=0.1, **SMALL
    ).fit(X)


def test_pickle_round_trip_in_process(fitted, digits):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(
        restored.inverse_transform(fitted.transform(X)),
        fitted.inverse_transform(fitted.transform(X)),
    )
    assert restored.history_ == fitted.history_
    assert restored.get_params() == fitted.get_params()
    deep = copy.deepcopy(fitted)
    np.testing.assert_array_equal(deep.transform(X), fitted.transform(X))


def test_pickles_hold_no_keras_objects(fitted):
    payload = pickle.dumps(fitted)
    assert b"keras" not in payload


def test_unpickled_model_can_be_refitted(fitted, digits):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.fit(X[:200]).transform(X[:5]).shape == (5, 3)


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_round_trip_in_a_fresh_process_without_gpu(how, fitted, digits, tmp_path):
    X, _ = digits
    path = tmp_path / f"model.{how}"
    if how == "pickle":
        path.write_bytes(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, path)
    np.save(tmp_path / "X.npy", X)
    script = (
        "import sys, pickle, joblib, numpy as np\n"
        f"how, path, folder = {how!r}, {str(path)!r}, {str(tmp_path)!r}\n"
        "model = pickle.load(open(path, 'rb')) if how == 'pickle' else joblib.load(path)\n"
        "np.save(folder + '/Z.npy', model.transform(np.load(folder + '/X.npy')))\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    np.testing.assert_array_equal(np.load(tmp_path / "Z.npy"), fitted.transform(X))
