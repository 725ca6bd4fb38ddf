"""Training and inference loops shared by the estimators.

Imported only from ``fit``/``transform``: it loads Keras at import time.

Compiled training models are kept in a small cache keyed by architecture. Each fit
builds fresh, seeded models, copies their variables into a cached compiled twin, trains
the twin, and copies the result back. Reusing the compiled twin skips the tracing cost
and keeps repeated fits of one architecture flat in memory. A search over more
architectures than the cache holds evicts the least recently used model, and what
TensorFlow kept for it is returned, so memory stays bounded however many architectures
are fitted. Inference functions are compiled and cached the same way, once per
architecture (see :func:`map_chunks`). The caches, and everything else the package
changes in the process, live in :mod:`ae_reduce._keras.runtime`.

Dense data in memory trains in whole-epoch graphs (:mod:`ae_reduce._keras.epochs`); sparse
matrices, memory maps and callbacks that act on every batch go through
``keras.Model.fit``, which streams batches.
"""

import contextlib
import dataclasses
import json
import math
import warnings
import weakref

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._io.source import CHUNK_ROWS, RECONSTRUCT
from .._io.validation import split_indices
from .._utils.warnings import caller_stacklevel
from .backend import device_scope, import_keras
from .inputs import fit_inputs
from .monitor import Monitor
from .runtime import (
    checkin_model,
    checkout_model,
    inference_function,
    mirrored_strategy,
    skip_single_replica_all_reduce,
)

keras = import_keras()

#: Rows per block at inference. Every matrix product gets exactly this many rows (the
#: last block is padded), so a row's output never depends on how many rows came with
#: it: float32 matrix kernels pick their blocking, and so their rounding, from the shape.
INFERENCE_ROWS = 1024

#: The architecture key of each model seen at inference, computed once per model.
_architectures = weakref.WeakKeyDictionary()


def copy_variables(source, target):
    """Copy every variable (weights, normalisation statistics, seed states) across models."""
    for src, dst in zip(source.variables, target.variables, strict=True):
        dst.assign(keras.ops.cast(src, dst.dtype))


def make_optimizer(name, learning_rate):
    """Return a fresh Keras optimizer from its name and learning rate."""
    # Keras refuses an int learning rate, which scikit-learn's Real constraint allows.
    config = {"learning_rate": float(learning_rate)}
    return keras.optimizers.get({"class_name": name, "config": config})


class OptimizerState:
    """An optimizer built for some variables, and the state it starts from.

    Every trainer keeps one, so that each fit starts from a fresh optimizer without
    building a new one. Optimizer state does not start at zero everywhere (Adagrad's
    accumulators, Nadam's momentum product), so the fresh values are kept to go back to.
    """

    def __init__(self, optimizer, variables):
        optimizer.build(variables)
        skip_single_replica_all_reduce(optimizer)
        self.optimizer = optimizer
        self.initial = [keras.ops.convert_to_numpy(variable) for variable in optimizer.variables]

    def reset(self, learning_rate):
        """Put back the fresh state and set ``learning_rate``."""
        for variable, value in zip(self.optimizer.variables, self.initial, strict=True):
            variable.assign(value)
        self.optimizer.learning_rate = float(learning_rate)


class _Trainer:
    """A compiled float32 model, the initial state of its optimizer, and its epoch graphs.

    With ``devices``, two or more TensorFlow device names, the model is built and
    compiled under a ``tf.distribute.MirroredStrategy`` over them: ``keras.Model.fit``
    then splits every mini-batch between the devices and sums their gradients.
    """

    def __init__(self, build, compile_kwargs, devices=None):
        self.strategy = None
        if devices is not None:
            self.strategy = mirrored_strategy(devices)
            # An optimizer's variables (its step count among them) must be created under
            # the strategy that updates them.
            optimizer = compile_kwargs["optimizer"]
            with self.scope():
                optimizer = type(optimizer).from_config(optimizer.get_config())
            compile_kwargs = {**compile_kwargs, "optimizer": optimizer}
        with self.scope():
            self.model = build(seed=0, dtype="float32")[0]
            self.model.compile(**compile_kwargs)
            optimizer = self.model.optimizer
            # Inside the scope: across several devices the all-reduce is real work.
            self.optimizer_state = OptimizerState(optimizer, self.model.trainable_variables)
        self._epochs = {}

    def scope(self):
        """The distribution strategy's scope, or a context that does nothing."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def reset(self, learning_rate):
        self.optimizer_state.reset(learning_rate)
        self.model.stop_training = False

    def epochs(self, loss, reconstruct):
        """The whole-epoch graphs for this loss and target layout, traced once."""
        from .epochs import CompiledEpochs

        key = (repr(loss), reconstruct)
        if key not in self._epochs:
            self._epochs[key] = CompiledEpochs(self.model, loss, reconstruct)
        return self._epochs[key]


class _MonitorCallback(keras.callbacks.Callback):
    """Record the history and let :class:`Monitor` follow the monitored loss."""

    def __init__(self, monitor, early_stopping, patience, min_delta, schedule="constant"):
        super().__init__()
        self.monitor = monitor
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_delta = min_delta
        self.schedule = schedule
        self.initial = None

    def on_train_begin(self, logs=None):
        self.history = {"loss": [], "learning_rate": []}
        if self.monitor == "val_loss":
            self.history["val_loss"] = []
        plateau = plateau_epochs(self.patience) if self.schedule == "plateau" else None
        self.tracker = Monitor(
            self.model.get_weights,
            self.model.set_weights,
            patience=self.patience,
            early_stopping=self.early_stopping,
            min_delta=self.min_delta,
            plateau=plateau,
        )
        self.tracker.start(self.initial)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for name in self.history:
            if name == "learning_rate":
                value = _learning_rate(self.model.optimizer)
            else:
                value = logs.get(name, math.nan)
            self.history[name].append(float(value))
        loss_finite = math.isfinite(self.history["loss"][-1])
        stop, halve = self.tracker.record(
            epoch + 1, self.history[self.monitor][-1], finite=loss_finite
        )
        if halve:
            optimizer = self.model.optimizer
            optimizer.learning_rate = _learning_rate(optimizer) * 0.5
        if stop:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.tracker.restore_best()


def _learning_rate(optimizer):
    # Through numpy: under a distribution strategy the variable is a mirrored one, which
    # float() does not take.
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def plateau_epochs(patience):
    """Epochs without improvement after which ``learning_rate_schedule="plateau"`` halves
    the learning rate: a quarter of ``patience``, so early stopping comes after about
    four halvings."""
    return max(1, patience // 4)


def _divergence_message(epoch, learning_rate, largest):
    return (
        f"Training diverged: the loss became NaN or infinite at epoch {epoch}. The usual "
        f"causes are a learning rate that is too high (learning_rate={learning_rate:g}; "
        "try a tenth of it) or unscaled input (the largest absolute value in X is "
        f"{largest:.3g}; put a StandardScaler in front of this estimator)."
    )


def _largest_absolute(source):
    return max((float(np.abs(chunk).max(initial=0.0)) for chunk in source.chunks()), default=0.0)


def _acts_on_batches(callback):
    """Whether a callback overrides a per-batch training hook (whole-epoch graphs skip them).

    Both subclasses and instances given their own hooks (``LambdaCallback``) count.
    """
    base = keras.callbacks.Callback
    hooks = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
    for hook in hooks:
        method = getattr(callback, hook)
        if getattr(method, "__func__", method) is not getattr(base, hook):
            return True
    return False


def _initial_loss(model, inputs):
    """The monitored loss of the starting weights, through ``keras.Model.evaluate``."""
    data = inputs.get("validation_data")
    if data is None:
        data = inputs["x"] if "y" not in inputs else (inputs["x"], inputs["y"])
        if inputs.get("sample_weight") is not None:
            data = (*data, inputs["sample_weight"])
    batch_size = {"batch_size": inputs["batch_size"]} if "batch_size" in inputs else {}
    if isinstance(data, tuple):
        x, y, *weights = data
        result = model.evaluate(
            x, y, sample_weight=weights[0] if weights else None, verbose=0, **batch_size
        )
    else:
        result = model.evaluate(data, verbose=0)
    return float(result[0] if isinstance(result, list) else result)


def auto_batch_size(n_rows):
    """Mini-batch size of ``batch_size="auto"``: about 20 steps per epoch, from 16 to 128 rows.

    Small tables then still take enough gradient steps per epoch to converge in a few
    hundred epochs. The cap of 128 rather than 256 measured better on 9,000 MNIST-shaped
    images (supervised accuracy 0.982 against 0.976) at a modest cost in speed.
    """
    return int(min(128, max(16, round(n_rows / 20))))


def _fit_compiled(trainer, data, config, batch_size, callbacks, monitor, seed):
    """Train ``trainer.model`` in whole-epoch graphs, driving the Keras callbacks."""
    import tensorflow as tf

    source, targets, sample_weight, (train_rows, validation_rows) = data
    reconstruct = tuple(isinstance(t, str) and t == RECONSTRUCT for t in targets)
    runner = trainer.epochs(config.compile_kwargs["loss"], reconstruct)
    training = runner.tensors(source, targets, sample_weight, train_rows)
    held_out = None
    if len(validation_rows):
        held_out = runner.tensors(source, targets, sample_weight, validation_rows)
    monitor.initial = runner.evaluate(held_out if held_out is not None else training)
    steps = math.ceil(len(train_rows) / batch_size)
    callbacks.set_params({"epochs": config.epochs, "steps": steps, "verbose": config.verbose})
    callbacks.on_train_begin()
    for epoch in range(config.epochs):
        callbacks.on_epoch_begin(epoch)
        shuffle_seed = tf.constant([seed, epoch], dtype=tf.int64)
        logs = {"loss": runner.train_epoch(training, batch_size, shuffle_seed)}
        if held_out is not None:
            logs["val_loss"] = runner.evaluate(held_out)
        callbacks.on_epoch_end(epoch, logs)
        if trainer.model.stop_training:
            break
    callbacks.on_train_end()


def _fit_keras(trainer, data, config, batch_size, callbacks, monitor, seed):
    """Train ``trainer.model`` with ``keras.Model.fit``, batch by batch from ``data``."""
    source, targets, sample_weight, (train_rows, validation_rows) = data
    inputs = fit_inputs(
        source, targets, sample_weight, train_rows, validation_rows, batch_size, seed
    )
    monitor.initial = _initial_loss(trainer.model, inputs)
    trainer.model.fit(**inputs, epochs=config.epochs, callbacks=callbacks, verbose=config.verbose)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How one network trains: the estimator's training parameters, resolved.

    Parameters
    ----------
    compile_kwargs : dict
        Passed to ``keras.Model.compile`` (``optimizer``, ``loss``, ...).
    learning_rate, epochs, validation_split, early_stopping, patience, min_delta, \
learning_rate_schedule, callbacks, verbose :
        As the estimators' parameters.
    batch_size : int or "auto"
        Rows per mini-batch; ``"auto"`` applies :func:`auto_batch_size` to the number of
        training rows.
    device : str or tuple of str
        TensorFlow device name, or names of the devices of data-parallel training, from
        :func:`ae_reduce._keras.backend.resolve_device`.
    random_state : numpy.random.RandomState
        Source of the seed and of the validation split.
    estimator_name : str
        Named in the warning when training ends while the loss still improves.
    """

    compile_kwargs: dict
    learning_rate: float
    batch_size: object
    epochs: int
    validation_split: float
    early_stopping: bool
    patience: int
    min_delta: float
    device: object
    random_state: object
    learning_rate_schedule: str = "constant"
    callbacks: object = None
    verbose: int = 0
    estimator_name: str = "The estimator"


def train(config, *, build, cache_key, source, targets, sample_weight=None, stratify=None):
    """Build, train and return seeded Keras models.

    Parameters
    ----------
    config : TrainingConfig
        The training parameters.
    build : callable
        ``build(seed=seed, dtype=dtype)`` returns a tuple of uncompiled models whose
        first entry is trained; the others share its layers. It must be deterministic for
        a given seed.
    cache_key : hashable
        Identifies models that ``build`` makes identical up to their weights.
    source : Source
        Training inputs.
    targets, sample_weight : list
        See :func:`ae_reduce._keras.inputs.fit_inputs`.
    stratify : ndarray or None
        Labels for a stratified validation split.

    Returns
    -------
    result : dict
        ``models`` (the tuple from ``build``, holding the trained weights), ``history``,
        ``n_epochs``, ``best_epoch``, ``initial_loss`` (the monitored loss of the
        starting weights, measured before training) and ``batch_size`` (the one used).
    """
    random_state = config.random_state
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    rows = split_indices(source.n_samples, config.validation_split, random_state, stratify)
    batch_size = config.batch_size
    if batch_size == "auto":
        batch_size = auto_batch_size(len(rows[0]))
    monitor = _MonitorCallback(
        "val_loss" if len(rows[1]) else "loss",
        config.early_stopping,
        config.patience,
        config.min_delta,
        config.learning_rate_schedule,
    )
    data = (source, targets, sample_weight, rows)
    models = _fit(config, build, (config.device, *cache_key), data, batch_size, monitor, seed)
    return _result(config, models, monitor, source, batch_size)


def _fit(config, build, key, data, batch_size, monitor, seed):
    """Train a cached compiled twin of ``build``'s models; return the models, trained."""
    user_callbacks = list(config.callbacks or [])
    # Several devices: keras.Model.fit under the strategy splits the batches between them.
    replicas = None if isinstance(config.device, str) else tuple(config.device)
    compiled = (
        replicas is None
        and data[0].in_memory_dense
        and not any(map(_acts_on_batches, user_callbacks))
    )
    # Every initialiser and stochastic layer has an explicit seed and the shuffles are
    # stateless, so no process-wide generator is seeded: fits in parallel threads give
    # the results of sequential ones and leave the caller's random state alone.
    placement = device_scope(config.device) if replicas is None else contextlib.nullcontext()
    with placement:
        models = build(seed=seed, dtype="float32")
        trainer = checkout_model(key) or _Trainer(build, config.compile_kwargs, replicas)
        try:
            with trainer.scope():
                trainer.reset(config.learning_rate)
                copy_variables(models[0], trainer.model)
                if compiled:
                    callbacks = keras.callbacks.CallbackList(
                        [monitor, *user_callbacks],
                        add_progbar=config.verbose != 0,
                        model=trainer.model,
                    )
                    _fit_compiled(trainer, data, config, batch_size, callbacks, monitor, seed)
                else:
                    callbacks = [monitor, *user_callbacks]
                    _fit_keras(trainer, data, config, batch_size, callbacks, monitor, seed)
                copy_variables(trainer.model, models[0])
        finally:
            checkin_model(key, trainer)
    return models


def _result(config, models, monitor, source, batch_size):
    """Refuse a diverged fit, warn about one cut short, and gather what it learned."""
    weights_finite = all(np.isfinite(w).all() for w in models[0].get_weights())
    tracker = monitor.tracker
    if tracker.diverged_step is not None or not weights_finite:
        epoch = tracker.diverged_step or len(monitor.history["loss"])
        raise ValueError(
            _divergence_message(epoch, config.learning_rate, _largest_absolute(source))
        )
    n_epochs = len(monitor.history["loss"])
    if n_epochs == config.epochs and tracker.still_improving:
        warnings.warn(
            f"{config.estimator_name}: epochs={config.epochs} ran out before "
            f"{monitor.monitor} went patience={config.patience} epochs without improving "
            f"(best epoch {tracker.best_step}). Increase epochs to let the network converge.",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )
    return {
        "models": models,
        "history": monitor.history,
        "n_epochs": n_epochs,
        "best_epoch": tracker.best_step,
        "initial_loss": monitor.initial,
        "batch_size": batch_size,
    }


def map_chunks(models, source, device, dtype):
    """Apply ``models`` to float32 blocks of ``source`` and stack the results.

    The rows go through a compiled function, traced once per architecture, that loops
    over blocks of exactly :data:`INFERENCE_ROWS` rows, the last one padded with zeros.
    Every matrix product therefore has the same shape, and a row's result is the same
    bit for bit whichever rows it arrives with. The weights are arguments of the
    function, so fitted models of one architecture share it and no graph is traced per
    fitted model.

    Parameters
    ----------
    models : keras.Model or sequence of keras.Model
        The networks, applied one after the other in inference mode.
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
    if source.n_samples == 0:
        return np.zeros((0,), dtype=dtype)
    models = tuple(models) if isinstance(models, (list, tuple)) else (models,)
    weights = _weights(models)
    pieces = []
    with device_scope(device):
        run = _inference_function(models, source.n_features, device)
        for chunk in source.chunks(CHUNK_ROWS):
            for rows, n_rows in _whole_blocks(chunk):
                pieces.append(run(rows, weights).numpy()[:n_rows])
    return np.concatenate(pieces, dtype=dtype)


def _whole_blocks(chunk):
    """Split ``chunk`` into a view of its whole blocks and a zero-padded last block.

    Yields ``(rows, n_rows)``: ``rows`` holds a multiple of :data:`INFERENCE_ROWS` rows,
    of which the first ``n_rows`` are from ``chunk``.
    """
    n_whole = len(chunk) - len(chunk) % INFERENCE_ROWS
    if n_whole:
        yield chunk[:n_whole], n_whole
    if n_whole < len(chunk):
        padded = np.zeros((INFERENCE_ROWS, chunk.shape[1]), dtype=chunk.dtype)
        padded[: len(chunk) - n_whole] = chunk[n_whole:]
        yield padded, len(chunk) - n_whole


def _inference_function(models, n_features, device):
    """The cached compiled function that applies ``models`` to whole blocks of rows."""
    key = (device, n_features, *(_architecture(model) for model in models))
    return inference_function(key, lambda: _trace_inference(models, n_features))


def _architecture(model):
    """A key equal for models that compute the same function of their inputs and weights.

    Initializers and seeds are left out: they only choose starting weights, and random
    layers are the identity at inference, so fits with different seeds share a key.
    """
    key = _architectures.get(model)
    if key is None:
        variables = [
            [(v.path, tuple(v.shape), str(v.dtype)) for v in group]
            for group in (model.trainable_variables, model.non_trainable_variables)
        ]
        config = json.dumps(_without_seeds(model.get_config()), sort_keys=True, default=repr)
        key = _architectures[model] = (type(model).__qualname__, config, repr(variables))
    return key


def _without_seeds(config):
    """``config`` without its initializers and seeds, at any depth."""
    if isinstance(config, dict):
        return {
            name: _without_seeds(value)
            for name, value in config.items()
            if name != "seed" and not name.endswith("_initializer")
        }
    if isinstance(config, (list, tuple)):
        return [_without_seeds(value) for value in config]
    return config


def _trace_inference(models, n_features):
    """Trace a function of ``(rows, weights)`` that applies ``models`` block by block.

    The weights are ``(trainable, non-trainable)`` variable lists, one pair per model, so
    that any model of the same architecture can be run through the traced graph.
    """
    import tensorflow as tf

    spec = keras.KerasTensor((INFERENCE_ROWS, n_features), "float32")
    for model in models:
        spec = model.compute_output_spec(spec)

    def apply(block, weights):
        for model, (trainable, non_trainable) in zip(models, weights, strict=True):
            block, _ = model.stateless_call(trainable, non_trainable, block, training=False)
        return block

    def run(rows, weights):
        blocks = tf.reshape(rows, (-1, INFERENCE_ROWS, n_features))
        outputs = tf.map_fn(
            lambda block: apply(block, weights),
            blocks,
            fn_output_signature=tf.TensorSpec(spec.shape, spec.dtype),
            parallel_iterations=1,
        )
        return tf.reshape(outputs, (-1, *spec.shape[1:]))

    weight_specs = tf.nest.map_structure(
        lambda variable: tf.TensorSpec(variable.shape, variable.dtype), _weights(models)
    )
    signature = [tf.TensorSpec((None, n_features), tf.float32), weight_specs]
    return tf.function(run, input_signature=signature, autograph=False).get_concrete_function()


def _weights(models):
    """The ``(trainable, non-trainable)`` variable lists of each model."""
    return [(model.trainable_variables, model.non_trainable_variables) for model in models]
