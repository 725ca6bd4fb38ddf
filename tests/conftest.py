import os

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_s_curve
from sklearn.preprocessing import StandardScaler

if "PYTEST_XDIST_WORKER" in os.environ:
    # Each worker process has a core of its own: TensorFlow's operations on one thread
    # each, rather than two workers each spreading every operation over both cores.
    # TensorFlow reads this when it starts, which no test has done yet. Subprocesses
    # that tests start inherit it.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")


@pytest.fixture(scope="session")
def digits():
    """Standardised digits, as float64, with their labels."""
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def s_curve_64():
    """An S-curve lifted nonlinearly to 64 dimensions: a 2-D manifold PCA cannot flatten."""
    points, t = make_s_curve(1500, noise=0.02, random_state=0)
    projection = np.random.RandomState(0).normal(size=(3, 64))
    X = np.tanh(points @ projection / 2)
    return StandardScaler().fit_transform(X), t
