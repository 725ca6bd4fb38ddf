"""Training and inference loops shared by the estimators.

Imported only from ``fit``/``transform``: it loads Keras at import time.

Compiled training models are kept in a small cache keyed by architecture. Each fit
builds fresh, seeded models, copies their variables into a cached compiled twin, trains
the twin, and copies the result back. Rebuilding and retracing a Keras model in every
fit leaks several megabytes per fit inside TensorFlow; reusing the compiled twin keeps a
grid search's memory flat and skips the tracing cost.
"""

import collections
import math
import threading

import numpy as np

from ._backend import device_scope, import_keras, seeded
from ._data import CHUNK_ROWS, fit_inputs, split_indices

keras = import_keras()

_CACHE_SIZE = 8
_cache = collections.OrderedDict()
_cache_lock = threading.Lock()


def _checkout(key):
    with _cache_lock:
        return _cache.pop(key, None)


def _checkin(key, model):
    with _cache_lock:
        _cache[key] = model
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def clear_cache():
    """Drop every cached compiled model."""
    with _cache_lock:
        _cache.clear()


def _copy_variables(source, target):
    """Copy every variable (weights, normalisation statistics, seed states) across dtypes."""
    for src, dst in zip(source.variables, target.variables, strict=True):
        dst.assign(keras.ops.cast(src, dst.dtype))


def make_optimizer(name, learning_rate):
    """Return a fresh Keras optimizer from its name and learning rate."""
    return keras.optimizers.get({"class_name": name, "config": {"learning_rate": learning_rate}})


def _trainer(key, build, compile_kwargs, learning_rate):
    """A compiled model for ``key`` whose optimizer state is reset."""
    model = _checkout(key)
    if model is None:
        model = build(seed=0, dtype="float32")[0]
        model.compile(**compile_kwargs)
        return model
    for variable in model.optimizer.variables:
        variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    model.optimizer.learning_rate = learning_rate
    return model


class _Monitor(keras.callbacks.Callback):
    """Record the history, stop early, keep the best weights and watch for divergence."""

    def __init__(self, monitor, early_stopping, patience, min_delta):
        super().__init__()
        self.monitor = monitor
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_delta = min_delta

    def on_train_begin(self, logs=None):
        self.history = {"loss": [], "learning_rate": []}
        if self.monitor == "val_loss":
            self.history["val_loss"] = []
        self.best = math.inf
        self.best_epoch = 0
        self.best_weights = None
        self.wait = 0
        self.diverged_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for name in self.history:
            if name == "learning_rate":
                value = self.model.optimizer.learning_rate
            else:
                value = logs.get(name, math.nan)
            self.history[name].append(float(value))
        current = self.history[self.monitor][-1]
        if not (math.isfinite(current) and math.isfinite(self.history["loss"][-1])):
            self.diverged_epoch = epoch + 1
            self.model.stop_training = True
            return
        if current < self.best - self.min_delta:
            self.best = current
            self.best_epoch = epoch + 1
            self.wait = 0
            if self.early_stopping:
                self.best_weights = self.model.get_weights()
        elif self.early_stopping:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None and self.diverged_epoch is None:
            self.model.set_weights(self.best_weights)


def _divergence_message(epoch, learning_rate, largest):
    return (
        f"Training diverged: the loss became NaN or infinite at epoch {epoch}. The usual "
        f"causes are a learning rate that is too high (learning_rate={learning_rate:g}; "
        "try a tenth of it) or unscaled input (the largest absolute value in X is "
        f"{largest:.3g}; put a StandardScaler in front of this estimator)."
    )


def _largest_absolute(source):
    return max((float(np.abs(chunk).max(initial=0.0)) for chunk in source.chunks()), default=0.0)


def train(
    *,
    build,
    cache_key,
    source,
    targets,
    sample_weight=None,
    compile_kwargs,
    learning_rate,
    batch_size,
    epochs,
    validation_split,
    early_stopping,
    patience,
    min_delta,
    callbacks,
    device,
    random_state,
    verbose,
    stratify=None,
):
    """Build, train and return seeded Keras models.

    Parameters
    ----------
    build : callable
        ``build(seed=seed, dtype=dtype)`` returns a tuple of uncompiled models whose
        first entry is trained; the others share its layers. It must be deterministic for
        a given seed.
    cache_key : hashable
        Identifies models that ``build`` makes identical up to their weights.
    source : Source
        Training inputs.
    targets, sample_weight : list
        See :func:`ae_reduce._data.fit_inputs`.
    compile_kwargs : dict
        Passed to ``keras.Model.compile`` (``optimizer``, ``loss``, ...).
    learning_rate, batch_size, epochs, validation_split, early_stopping, patience, \
min_delta, callbacks, verbose :
        As the estimators' parameters.
    device : str
        TensorFlow device name from :func:`ae_reduce._backend.resolve_device`.
    random_state : numpy.random.RandomState
        Source of the seed and of the validation split.
    stratify : ndarray or None
        Labels for a stratified validation split.

    Returns
    -------
    result : dict
        ``models`` (the tuple from ``build`` in float64, holding the trained weights),
        ``history``, ``n_epochs`` and ``best_epoch``.
    """
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    train_rows, validation_rows = split_indices(
        source.n_samples, validation_split, random_state, stratify
    )
    inputs = fit_inputs(
        source, targets, sample_weight, train_rows, validation_rows, batch_size, seed
    )
    monitor_name = "val_loss" if len(validation_rows) else "loss"
    monitor = _Monitor(monitor_name, early_stopping, patience, min_delta)
    with device_scope(device), seeded(seed):
        # The float64 inference networks carry the seeded initial weights into the float32
        # trainer and receive the trained weights back: one build per fit.
        models = build(seed=seed, dtype="float64")
        trainer = _trainer((device, *cache_key), build, compile_kwargs, learning_rate)
        try:
            _copy_variables(models[0], trainer)
            trainer.fit(
                **inputs,
                epochs=epochs,
                callbacks=[monitor, *(callbacks or [])],
                verbose=verbose,
            )
            weights = trainer.get_weights()
        finally:
            _checkin((device, *cache_key), trainer)
    weights_finite = all(np.isfinite(w).all() for w in weights)
    if monitor.diverged_epoch is not None or not weights_finite:
        epoch = monitor.diverged_epoch or len(monitor.history["loss"])
        raise ValueError(_divergence_message(epoch, learning_rate, _largest_absolute(source)))
    models[0].set_weights(weights)
    return {
        "models": models,
        "history": monitor.history,
        "n_epochs": len(monitor.history["loss"]),
        "best_epoch": monitor.best_epoch,
    }


def map_chunks(function, source, device, dtype):
    """Apply ``function`` to consecutive float64 chunks of ``source`` and stack the results.

    Inference networks compute in float64, so a row's result does not depend on the
    batch it arrives in (float32 matrix kernels round differently for different batch
    sizes). Eager calls trace no new TensorFlow graph per fitted model.

    Parameters
    ----------
    function : callable
        Maps a float64 array of rows to an array (or tensor) with one entry per row.
    source : Source
        The inputs.
    device : str
        TensorFlow device name.
    dtype : numpy dtype
        dtype of the returned array.

    Returns
    -------
    outputs : ndarray
        The stacked results, one row per input row.
    """
    with device_scope(device):
        pieces = [
            keras.ops.convert_to_numpy(function(chunk))
            for chunk in source.chunks(CHUNK_ROWS, dtype=np.float64)
        ]
    return np.concatenate(pieces).astype(dtype, copy=False)
