"""Inference in fixed blocks: a row's output does not depend on the rows around it."""

import gc
import weakref

import numpy as np
import pytest

from ae_reduce._io.source import Source
from ae_reduce._keras.backend import import_keras
from ae_reduce._keras.runtime import _inference_cache
from ae_reduce._keras.training import INFERENCE_ROWS, map_chunks

BLOCK = INFERENCE_ROWS
ROW_COUNTS = [1, 7, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5]
OFFSETS = [0, 5, BLOCK - 3]


def _network(seed, n_features=784, width=256, n_outputs=2):
    """A relu network like ParametricTSNE's, named as the estimators name theirs.

    ``seed`` picks its weights; networks differing only in it share an architecture.
    """
    keras = import_keras()
    inputs = keras.Input((n_features,), name="input")
    x = inputs
    for i in range(2):
        init = keras.initializers.GlorotUniform(seed + i)
        x = keras.layers.Dense(width, "relu", kernel_initializer=init, name=f"hidden_{i}")(x)
    init = keras.initializers.GlorotUniform(seed + 2)
    outputs = keras.layers.Dense(n_outputs, kernel_initializer=init, name="out")(x)
    return keras.Model(inputs, outputs, name=f"network_{n_features}_{n_outputs}")


def _map(models, rows, dtype=np.float32):
    return map_chunks(models, Source(rows), "/CPU:0", dtype)


@pytest.fixture(scope="module")
def rows():
    n_rows = max(ROW_COUNTS) + max(OFFSETS)
    return np.random.default_rng(0).standard_normal((n_rows, 784), dtype=np.float32)


def test_a_row_gives_the_same_bits_whatever_rows_come_with_it(rows):
    network = _network(0)
    whole = _map(network, rows)
    assert whole.shape == (len(rows), 2)
    for n_rows in ROW_COUNTS:
        for offset in OFFSETS:
            part = _map(network, rows[offset : offset + n_rows])
            np.testing.assert_array_equal(part, whole[offset : offset + n_rows])
    # The last row of one block and the first of the next, each alone.
    for i in (BLOCK - 1, BLOCK):
        np.testing.assert_array_equal(_map(network, rows[i : i + 1])[0], whole[i])


def test_the_outputs_are_the_networks_and_come_in_the_asked_dtype(rows):
    network = _network(0)
    eager = network(rows[:300], training=False).numpy()
    positions = _map(network, rows[:300], np.float64)
    assert positions.dtype == np.float64
    np.testing.assert_allclose(positions, eager, rtol=1e-5, atol=1e-5)
    assert _map(network, rows[:0]).shape == (0,)


def test_models_in_a_sequence_are_applied_in_turn(rows):
    encoder = _network(0, n_outputs=8)
    decoder = _network(10, n_features=8, width=16, n_outputs=784)
    chained = _map((encoder, decoder), rows[: BLOCK + 3])
    expected = decoder(encoder(rows[: BLOCK + 3], training=False), training=False).numpy()
    np.testing.assert_allclose(chained, expected, rtol=1e-5, atol=1e-5)
    alone = _map((encoder, decoder), rows[BLOCK : BLOCK + 1])
    np.testing.assert_array_equal(alone[0], chained[BLOCK])


def test_networks_of_one_architecture_share_a_function_but_keep_their_weights(rows):
    first, second = _network(0), _network(1)
    first_positions = _map(first, rows[:50])
    n_functions = len(_inference_cache)
    second_positions = _map(second, rows[:50])
    assert len(_inference_cache) == n_functions
    assert not np.allclose(first_positions, second_positions)
    np.testing.assert_allclose(
        second_positions, second(rows[:50], training=False).numpy(), rtol=1e-5, atol=1e-5
    )
    # The cached function holds no reference to the network it was traced with.
    alive = weakref.ref(first)
    del first
    gc.collect()
    assert alive() is None
    np.testing.assert_array_equal(_map(second, rows[:50]), second_positions)
