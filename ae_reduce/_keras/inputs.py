"""Training inputs for Keras: validated sources as arrays or a batch dataset."""

import functools
import math

import numpy as np

from .._io.source import RECONSTRUCT


def _pick(target, rows, x_rows):
    if isinstance(target, str) and target == RECONSTRUCT:
        return x_rows
    return target[rows]


def _structure(values):
    return values[0] if len(values) == 1 else tuple(values)


@functools.cache
def _batch_dataset_class():
    from .backend import import_keras

    keras = import_keras()

    class BatchDataset(keras.utils.PyDataset):
        """Mini-batches of rows of a :class:`Source`, reshuffled every epoch."""

        def __init__(self, source, rows, targets, sample_weight, batch_size, seed, shuffle):
            super().__init__()
            self.source = source
            self.rows = rows
            self.targets = targets
            self.sample_weight = sample_weight
            self.batch_size = batch_size
            self.shuffle = shuffle
            self._random = np.random.RandomState(seed)
            self._order = self._new_order()

        def _new_order(self):
            return self._random.permutation(self.rows) if self.shuffle else self.rows

        def __len__(self):
            return math.ceil(len(self.rows) / self.batch_size)

        def __getitem__(self, index):
            batch = self._order[index * self.batch_size : (index + 1) * self.batch_size]
            x = self.source.take(batch)
            # A reconstruction target gets its own copy: under a MirroredStrategy, inputs
            # and targets that share one buffer made training on several devices give
            # different weights from run to run.
            picked = [_pick(t, batch, x) for t in self.targets]
            y = _structure([t.copy() if t is x else t for t in picked])
            if self.sample_weight is None:
                return x, y
            return x, y, _structure([w[batch] for w in self.sample_weight])

        def on_epoch_end(self):
            self._order = self._new_order()

    return BatchDataset


def fit_inputs(source, targets, sample_weight, train, validation, batch_size, seed):
    """Arguments for ``keras.Model.fit`` that feed the given rows.

    Parameters
    ----------
    source : Source
        The inputs.
    targets : list
        One entry per model output: an array indexed like the rows of ``source``, or
        :data:`RECONSTRUCT` for the input itself.
    sample_weight : list of ndarray or None
        Per-output sample weights, indexed like the rows of ``source``.
    train, validation : ndarray of int
        Training and validation rows; ``validation`` may be empty.
    batch_size : int
        Rows per mini-batch.
    seed : int
        Seed of the per-epoch shuffling.

    Returns
    -------
    kwargs : dict
        Keyword arguments for ``keras.Model.fit``.
    """
    # The batches shuffle themselves from ``seed``. Keras's own shuffling would draw from
    # process-wide generators (TensorFlow's for arrays, Python's ``random`` for a
    # PyDataset): results would depend on what ran before, and differ between threads.
    dataset = _batch_dataset_class()
    kwargs = {
        "x": dataset(source, train, targets, sample_weight, batch_size, seed, True),
        "shuffle": False,
    }
    if len(validation):
        kwargs["validation_data"] = dataset(
            source, validation, targets, sample_weight, batch_size, seed, False
        )
    return kwargs


def take_rows(source, targets, sample_weight, rows):
    """The given rows of the inputs, of each target and of each sample weight.

    Returns
    -------
    x : ndarray
        The input rows, float32.
    targets : list
        One entry per target: its rows, or the very same ``x`` for :data:`RECONSTRUCT`.
    weights : list of ndarray or None
        One entry per target, when ``sample_weight`` is given.
    """
    everything = len(rows) == source.n_samples
    x = source.rows(0, source.n_samples) if everything else source.take(rows)
    picked = [_pick(t, rows, x) for t in targets]
    weights = None if sample_weight is None else [w[rows] for w in sample_weight]
    return x, picked, weights
