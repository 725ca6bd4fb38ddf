"""Training a parametric t-SNE map on mini-batches of sampled neighbour pairs.

Imported only from ``fit``: it loads Keras and TensorFlow at import time.

t-SNE's loss for a map ``y`` and symmetric affinities ``P`` (summing to 1) is, up to a
constant, ``sum_ij p_ij log(1 + |y_i - y_j|^2) + log sum_{k != l} 1 / (1 + |y_k - y_l|^2)``.
Each step estimates both terms from one mini-batch: the first from ``batch_size`` pairs
drawn with probability ``p_ij`` (so it is a plain mean over them), the second from the
pairs of a first row (one of the first 256) and the second row of another pair, rows
drawn independently of each other. Each step costs the same whatever the number of
rows: the loss scales linearly, runs on a GPU, and needs only openTSNE's sparse ``P``.

The network is fed the pairs' rows with Gaussian noise added (scaled to the data's
nearest-neighbour distances by the estimator), which is what makes it place rows it has
not seen where openTSNE's ``transform`` would. Early stopping watches the same loss for
held-out rows placed against the training rows' positions, as a new row would be.
"""

import dataclasses
import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._io.source import Source
from .._utils.warnings import caller_stacklevel
from .backend import device_scope, import_keras
from .monitor import Monitor
from .runtime import checkin_model, checkout_model
from .training import OptimizerState, copy_variables, make_optimizer, map_chunks

keras = import_keras()

import tensorflow as tf  # noqa: E402  (after the package's loader has configured it)

#: Iterations between two evaluations of the monitored loss.
CHECK_EVERY = 50

#: First rows of a batch's pairs against which t-SNE's normalisation is estimated.
NORMALISATION_ROWS = 256

#: Held-out rows, and training rows for the normalisation, used to evaluate the
#: monitored loss: enough for a stable estimate at a small fraction of a step's cost.
_CHECK_ROWS = 512

#: Noise, as a multiple of the inputs' root mean square, from which a divergence is put
#: down to the noise rather than the learning rate. Measured on standardised digits
#: (Adam, the default learning rate): noise up to 1e8 times the inputs trained to a
#: finite (useless) map, 1e14 times made the positions overflow float32; a learning
#: rate of 1e4 trained, one of 1e10 overflowed with or without noise.
_NOISE_DIVERGENCE_RATIO = 1e6


def divergence_message(iteration, learning_rate, noise, noise_ratio):
    """The error message of a map whose loss or weights became NaN or infinite.

    Parameters
    ----------
    iteration : int
        Iterations run when the loss was found not finite (checked every
        :data:`CHECK_EVERY` iterations).
    learning_rate : float
        The optimizer's learning rate.
    noise : str
        The noise setting, as the message names it (``"noise=1"``).
    noise_ratio : float
        Standard deviation of the input noise over the inputs' root mean square.

    Returns
    -------
    message : str
    """
    message = f"Training diverged: the loss became NaN or infinite by iteration {iteration}. "
    if noise_ratio >= _NOISE_DIVERGENCE_RATIO:
        return message + (
            f"The likely cause is the input noise ({noise}): it is about {noise_ratio:.2g} "
            "times as large as the inputs, and the map's positions overflow. Lower it "
            "(the default, 1.0, scales the noise to the distance between neighbouring "
            f"rows); if the fit still diverges, lower learning_rate={learning_rate:g}."
        )
    message += (
        "The likely cause is a learning rate that is too high "
        f"(learning_rate={learning_rate:g}; try a tenth of it)"
    )
    if noise_ratio > 0:
        message += (
            f"; the input noise ({noise}, about {noise_ratio:.2g} times the size of the "
            "inputs) is too small to be the cause"
        )
    return message + "."


def tsne_batch_loss(positions, n_pairs, exaggeration):
    """t-SNE's loss estimated on one batch.

    Parameters
    ----------
    positions : tf.Tensor of shape (2 * n_pairs, n_components)
        Map positions of the pairs' first rows, then of their second rows.
    n_pairs : int
        Number of pairs.
    exaggeration : float or tf.Tensor
        Factor on the attractive term (early exaggeration).

    Returns
    -------
    loss : tf.Tensor
        ``exaggeration * attraction + log(normalisation)``.
    """
    first, second = positions[:n_pairs], positions[n_pairs:]
    attraction = tf.reduce_mean(tf.math.log1p(tf.reduce_sum((first - second) ** 2, axis=1)))
    # The normalisation is the mean kernel over the pairs of one of the first
    # NORMALISATION_ROWS first rows and the second row of another pair: rows drawn
    # independently of each other, up to a quarter of a million pairs of them. That is
    # plenty for a mean, and far cheaper than every pair among the batch's rows, whose
    # kernel cost more than the network's step at a batch of 1,024 pairs.
    anchors = first[:NORMALISATION_ROWS]
    distances = (
        tf.reduce_sum(anchors**2, axis=1)[:, None]
        + tf.reduce_sum(second**2, axis=1)[None, :]
        - 2.0 * tf.matmul(anchors, second, transpose_b=True)
    )
    kernel = 1.0 / (1.0 + tf.maximum(distances, 0.0))
    # The diagonal holds the pairs themselves, neighbours rather than a sample of all
    # pairs; it is set to zero. (Subtracting it instead loses every digit of the sum on
    # a map thousands of units wide, where the expansion above is imprecise.)
    kernel = tf.linalg.set_diag(kernel, tf.zeros(tf.shape(kernel)[:1], kernel.dtype))
    n_anchors = tf.cast(tf.shape(anchors)[0], positions.dtype)
    n_second = tf.cast(tf.shape(second)[0], positions.dtype)
    normalisation = tf.reduce_sum(kernel) / tf.maximum(n_anchors * (n_second - 1.0), 1.0)
    return exaggeration * attraction + tf.math.log(normalisation)


def placement_loss(positions, reference, affinities, repulsion):
    """Mean t-SNE loss of rows placed against fixed reference positions.

    Parameters
    ----------
    positions : ndarray of shape (n_rows, n_components)
        Positions of the placed rows.
    reference : ndarray of shape (n_reference, n_components)
        Positions of the training rows.
    affinities : scipy.sparse.csr_matrix of shape (n_rows, n_reference)
        Each placed row's affinities to the training rows, rows summing to 1.
    repulsion : ndarray of int
        Training rows against which the normalisation is estimated.

    Returns
    -------
    loss : float
    """
    coo = affinities.tocoo()
    gaps = positions[coo.row] - reference[coo.col]
    attraction = np.sum(coo.data * np.log1p(np.sum(gaps**2, axis=1))) / len(positions)
    others = reference[repulsion]
    squared = ((positions[:, None, :] - others[None, :, :]) ** 2).sum(axis=2)
    normalisation = np.mean(1.0 / (1.0 + squared), axis=1)
    return float(attraction + np.mean(np.log(normalisation)))


_SPEC = tf.TensorSpec


class _MapTrainer:
    """A map network (and decoder), its optimizer and its compiled training loops.

    Trainers are cached by architecture (see :mod:`ae_reduce._keras.training`): every fit copies
    its freshly seeded weights in, resets the optimizer and reuses the traced loops,
    whose data and settings are arguments, so that fits of one architecture neither
    trace again nor grow in memory.
    """

    def __init__(self, build, optimizer, learning_rate):
        models = build(seed=0)
        self.network = models[1]
        self.decoder = models[2] if len(models) > 2 else None
        self.models = [self.network] if self.decoder is None else [self.network, self.decoder]
        self.variables = [v for model in self.models for v in model.trainable_variables]
        self.optimizer = make_optimizer(optimizer, learning_rate)
        self.optimizer_state = OptimizerState(self.optimizer, self.variables)
        settings = [_SPEC([], tf.int64)] + [_SPEC([], tf.float32)] * 3 + [_SPEC([], tf.int32)]
        self.tsne = tf.function(
            self._tsne_steps,
            input_signature=[
                _SPEC([None, None], tf.float32),  # rows
                _SPEC([None], tf.int32),  # first rows of the pairs
                _SPEC([None], tf.int32),  # second rows
                _SPEC([None], tf.float64),  # cumulative pair probabilities
                _SPEC([], tf.int64),  # first step
                _SPEC([], tf.int32),  # number of steps
                _SPEC([], tf.float32),  # exaggeration
                *settings,
            ],
        )
        self.regression = tf.function(
            self._regression_steps,
            input_signature=[
                _SPEC([None, None], tf.float32),  # rows
                _SPEC([None, None], tf.float32),  # target positions
                _SPEC([], tf.int64),
                _SPEC([], tf.int32),
                _SPEC([], tf.float32),  # scale of the targets
                *settings,
            ],
        )

    def reset(self, models, learning_rate):
        """Start from the weights of ``models`` and a fresh optimizer state."""
        for source, target in zip(models, self.models, strict=True):
            copy_variables(source, target)
        self.optimizer_state.reset(learning_rate)

    def _noisy(self, x, step, seed, noise):
        draws = tf.random.stateless_normal(tf.shape(x), tf.stack([seed + 1, step]))
        return x + noise * draws

    def _update(self, x, step, settings, objective_of):
        seed, noise, variance, weight, _ = settings
        with tf.GradientTape() as tape:
            positions = self.network(self._noisy(x, step, seed, noise), training=True)
            objective = objective_of(positions)
            loss = objective + tf.add_n([tf.constant(0.0), *self.network.losses])
            if self.decoder is not None:
                reconstruction = self.decoder(positions, training=True)
                error = tf.reduce_mean((reconstruction - x) ** 2) / variance
                loss += weight * error + tf.add_n([tf.constant(0.0), *self.decoder.losses])
        gradients = tape.gradient(loss, self.variables)
        self.optimizer.apply_gradients(zip(gradients, self.variables, strict=True))
        return objective

    def _tsne_steps(self, X, heads, tails, cumulative, first, count, exaggeration, *settings):
        seed, n_pairs = settings[0], settings[4]
        n_edges = tf.shape(heads)[0]
        total = tf.constant(0.0)
        for k in tf.range(count):
            step = first + tf.cast(k, tf.int64)
            draws = tf.random.stateless_uniform([n_pairs], tf.stack([seed, step]), dtype=tf.float64)
            edges = tf.minimum(tf.searchsorted(cumulative, draws, side="right"), n_edges - 1)
            rows = tf.concat([tf.gather(heads, edges), tf.gather(tails, edges)], axis=0)
            total += self._update(
                tf.gather(X, rows),
                step,
                settings,
                lambda positions: tsne_batch_loss(positions, n_pairs, exaggeration),
            )
        return total / tf.cast(count, tf.float32)

    def _regression_steps(self, X, targets, first, count, scale, *settings):
        seed, n_pairs = settings[0], settings[4]
        total = tf.constant(0.0)
        for k in tf.range(count):
            step = first + tf.cast(k, tf.int64)
            rows = tf.random.stateless_uniform(
                [2 * n_pairs], tf.stack([seed + 2, step]), maxval=tf.shape(X)[0], dtype=tf.int32
            )
            wanted = tf.gather(targets, rows)
            total += self._update(
                tf.gather(X, rows),
                step,
                settings,
                lambda positions, wanted=wanted: tf.reduce_mean((positions - wanted) ** 2) / scale,
            )
        return total / tf.cast(count, tf.float32)


@dataclasses.dataclass(frozen=True)
class MapConfig:
    """How one parametric map trains: the estimator's parameters, resolved.

    Parameters
    ----------
    early_exaggeration, early_exaggeration_iter, n_iter, batch_size, optimizer, \
learning_rate, reconstruction_weight, early_stopping, patience :
        As the estimator's parameters.
    noise : float
        Standard deviation of the Gaussian noise added to every input feature.
    seed : int
        Seed of the pair sampling and the noise.
    device : str
        TensorFlow device name.
    callbacks : sequence of callable, default=()
        Called as ``callback(iteration, n_iterations, logs)`` every
        :data:`CHECK_EVERY` iterations, ``logs`` holding ``"loss"`` and, with
        validation rows, ``"val_loss"``; one that returns True ends training (with
        ``early_stopping``, the best weights so far are kept).
    estimator_name : str
        Named in warnings.
    noise_parameter : float, default=None
        The estimator's ``noise`` setting, named in the message of a divergence; None
        names the standard deviation ``noise`` instead.
    """

    early_exaggeration: float
    early_exaggeration_iter: int
    n_iter: int
    batch_size: int
    optimizer: str
    learning_rate: float
    noise: float
    reconstruction_weight: float
    early_stopping: bool
    patience: int
    seed: int
    device: str
    callbacks: tuple = ()
    estimator_name: str = "ParametricTSNE"
    noise_parameter: float = None


def train_map(config, *, build, models, X, affinities, cache_key, validation=None, targets=None):
    """Train ``network`` (and ``decoder``) in place with t-SNE's loss.

    Parameters
    ----------
    config : MapConfig
        The training parameters.
    build : callable
        ``build(seed=seed)`` returns the models of this architecture: the map network
        twice, then the decoder when there is one.
    models : tuple of keras.Model
        The seeded models to train (as ``build`` returns them); they receive the
        trained weights.
    X : ndarray of shape (n_samples, n_features)
        Training rows, float32.
    affinities : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        openTSNE's symmetric affinities, summing to 1.
    cache_key : hashable
        Identifies models that ``build`` makes identical up to their weights.
    validation : tuple or None
        ``(X_held_out, affinities_to_training_rows)``; its loss is monitored. None
        monitors the training loss.
    targets : ndarray of shape (n_samples, n_components) or None
        Positions to regress onto during the first phase instead of exaggerating (the
        ``init="tsne"`` start).

    Returns
    -------
    result : dict
        ``history`` (``iteration``, ``loss`` and, with validation rows, ``val_loss``),
        ``n_iter`` (iterations run) and ``best_iteration``.
    """
    # Keras's optimizers refuse an int learning rate, which scikit-learn's Real allows.
    learning_rate = float(config.learning_rate)
    models = list(models[1:])
    history = {"iteration": [], "loss": []}
    if validation is not None:
        history["val_loss"] = []
    total = config.early_exaggeration_iter + config.n_iter
    iteration = 0
    stopped = False
    with device_scope(config.device):
        trainer = checkout_model(cache_key) or _MapTrainer(build, config.optimizer, learning_rate)
        try:
            trainer.reset(models, learning_rate)
            step = _stepper(trainer, X, affinities, targets, config)
            held_out_loss = _held_out_loss(trainer, X, validation, config)
            monitor = Monitor(
                lambda: [model.get_weights() for model in trainer.models],
                lambda weights: [
                    model.set_weights(kept)
                    for model, kept in zip(trainer.models, weights, strict=True)
                ],
                patience=config.patience,
                early_stopping=config.early_stopping,
            )
            while iteration < total and not stopped:
                first = iteration < config.early_exaggeration_iter
                loss, count = step(iteration, first, total)
                iteration += count
                logs = {"loss": loss}
                if held_out_loss is not None:
                    logs["val_loss"] = held_out_loss()
                for name, value in [("iteration", iteration), *logs.items()]:
                    history[name].append(value)
                monitored_value = logs.get("val_loss", loss)
                if not math.isfinite(loss) or not math.isfinite(monitored_value):
                    raise ValueError(_diverged(iteration, learning_rate, config, X))
                # Exaggerated (or regression) iterations optimise another objective.
                if not first:
                    stopped, _ = monitor.record(iteration, monitored_value, elapsed=CHECK_EVERY)
                # Like openTSNE's: the first callback that returns True ends training.
                stopped = any(c(iteration, total, logs) for c in config.callbacks) or stopped
            monitor.restore_best()
            for source, target in zip(trainer.models, models, strict=True):
                copy_variables(source, target)
        finally:
            checkin_model(cache_key, trainer)
    weights_finite = all(np.isfinite(w).all() for model in models for w in model.get_weights())
    if not weights_finite:
        raise ValueError(_diverged(iteration, learning_rate, config, X))
    # Not stopped early means fewer than patience iterations since the best one.
    n_iter, patience = config.n_iter, config.patience
    if (
        config.early_stopping
        and not stopped
        and n_iter > 0
        and monitor.best_step > total - patience
    ):
        # The iterations are counted from the start of the early exaggeration, as
        # n_iter_ and the callbacks count them: say so, or the numbers disagree.
        warnings.warn(
            f"{config.estimator_name}: n_iter={n_iter} ran out before the monitored loss went "
            f"patience={patience} iterations without improving (best iteration "
            f"{monitor.best_step} of the {total} run, counting the "
            f"early_exaggeration_iter={config.early_exaggeration_iter} before n_iter). "
            "Increase n_iter to let the map converge.",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )
    return {"history": history, "n_iter": iteration, "best_iteration": monitor.best_step}


def _stepper(trainer, X, affinities, targets, config):
    """``step(iteration, first, total)``: run the next block of iterations of one phase.

    Returns the block's mean loss and its number of iterations (at most
    :data:`CHECK_EVERY`, ending where the phase ends).
    """
    coo = affinities.tocoo()
    cumulative = np.cumsum(coo.data, dtype=np.float64)
    variance = float(np.mean(np.var(X, axis=0))) or 1.0
    settings = (
        tf.constant(config.seed, tf.int64),
        tf.constant(config.noise, tf.float32),
        tf.constant(variance, tf.float32),
        tf.constant(config.reconstruction_weight, tf.float32),
        tf.constant(min(config.batch_size, len(coo.data)), tf.int32),
    )
    rows = tf.constant(X, tf.float32)
    pairs = (
        tf.constant(coo.row, tf.int32),
        tf.constant(coo.col, tf.int32),
        tf.constant(cumulative / cumulative[-1], tf.float64),
    )
    if targets is not None:
        targets = np.asarray(targets, dtype=np.float32)
        scale = tf.constant(float(np.mean(np.var(targets, axis=0))) or 1.0)
        target_tensor = tf.constant(targets)

    def step(iteration, first, total):
        end = config.early_exaggeration_iter if first else total
        count = min(CHECK_EVERY, end - iteration)
        start = tf.constant(iteration, tf.int64)
        if first and targets is not None:
            loss = trainer.regression(
                rows, target_tensor, start, tf.constant(count), scale, *settings
            )
        else:
            exaggeration = tf.constant(config.early_exaggeration if first else 1.0)
            loss = trainer.tsne(rows, *pairs, start, tf.constant(count), exaggeration, *settings)
        return float(loss), count

    return step


def _held_out_loss(trainer, X, validation, config):
    """A function returning the placement loss of the held-out rows, or None without any.

    At most :data:`_CHECK_ROWS` held-out rows are placed, against as many training
    rows for the repulsion, drawn once from ``config.seed``.
    """
    if validation is None:
        return None
    X_held_out, held_out_affinities = validation
    rng = np.random.default_rng(config.seed)
    if len(X_held_out) > _CHECK_ROWS:
        picked = np.sort(rng.choice(len(X_held_out), _CHECK_ROWS, replace=False))
        X_held_out, held_out_affinities = X_held_out[picked], held_out_affinities[picked]
    repulsion = np.sort(rng.choice(len(X), min(_CHECK_ROWS, len(X)), replace=False))
    needed = np.union1d(held_out_affinities.indices, repulsion)
    n_components = trainer.network.output_shape[-1]

    def loss():
        reference = np.zeros((len(X), n_components), dtype=np.float64)
        reference[needed] = _positions(trainer.network, X[needed], config.device)
        placed = _positions(trainer.network, X_held_out, config.device)
        return placement_loss(placed, reference, held_out_affinities, repulsion)

    return loss


def _diverged(iteration, learning_rate, config, X):
    """:func:`divergence_message` for training rows ``X`` and the noise of ``config``."""
    noise = config.noise
    size = math.sqrt(float(np.mean(np.square(X, dtype=np.float64))))
    noise_ratio = noise / size if size > 0 else (math.inf if noise > 0 else 0.0)
    named = f"noise standard deviation {noise:g}"
    if config.noise_parameter is not None:
        named = f"noise={config.noise_parameter:g}"
    return divergence_message(iteration, learning_rate, named, noise_ratio)


def _positions(network, rows, device):
    """The network's positions of ``rows`` as float64, in fixed-size blocks."""
    return map_chunks(network, Source(rows), device, np.float64)
