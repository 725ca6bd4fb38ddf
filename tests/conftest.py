import numpy as np
import pytest
from sklearn.datasets import load_digits, make_s_curve
from sklearn.preprocessing import StandardScaler


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
