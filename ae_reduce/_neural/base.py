"""What every ae_reduce estimator shares: parameters, training, inference and pickling.

The estimators themselves hold no layer code (that is in ``_networks``) and no training
loop (that is in ``_training``); both are imported when first needed so that importing
ae_reduce or calling ``get_params`` never loads TensorFlow.
"""

import functools
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from .._keras.backend import import_keras, inference_device, resolve_device

#: The key under which pickles record the ae_reduce version that wrote them.
_VERSION_KEY = "_ae_reduce_version"

#: Activation names accepted by the ``activation`` parameters.
ACTIVATIONS = frozenset(
    {
        "relu",
        "leaky_relu",
        "elu",
        "selu",
        "gelu",
        "silu",
        "swish",
        "relu6",
        "mish",
        "tanh",
        "sigmoid",
        "hard_sigmoid",
        "softplus",
        "softsign",
        "linear",
    }
)

#: Optimizer names accepted by the ``optimizer`` parameters (Keras's own names).
OPTIMIZERS = frozenset({"adam", "adamw", "nadam", "adamax", "rmsprop", "sgd", "adagrad", "lion"})


class BaseNeuralEstimator(BaseEstimator):
    """Shared machinery of the ae_reduce estimators; not for direct use.

    Subclasses set ``_keras_attributes``, the fitted attributes that hold Keras models,
    in the order in which ``_build_networks`` returns them after the trained model.
    """

    _keras_attributes = ()

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(ACTIVATIONS), callable],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_normalization": ["boolean"],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions(OPTIMIZERS)],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"plateau", "constant"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "min_delta": [Interval(Real, 0, None, closed="left")],
        "callbacks": [list, None],
        "device": [StrOptions({"auto", "cpu", "gpu", "gpus"}), list, tuple],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # -- validation -------------------------------------------------------------------

    def _hidden_layer_sizes(self):
        """``hidden_layer_sizes`` as a tuple of positive ints, or a clear error."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, Integral | np.integer):
                raise TypeError(
                    "hidden_layer_sizes must contain integers (layer widths), got "
                    f"{size!r} in {self.hidden_layer_sizes!r}."
                )
            if size < 1:
                raise ValueError(
                    "hidden_layer_sizes must contain positive layer widths, got "
                    f"{size} in {self.hidden_layer_sizes!r}."
                )
        return tuple(int(size) for size in sizes)

    def _check_n_components(self, n_features):
        if self.n_components > n_features:
            raise ValueError(
                f"n_components={self.n_components} must be at most n_features={n_features}, "
                "the number of input columns: a code wider than the input does not reduce "
                "anything."
            )

    # -- training ---------------------------------------------------------------------

    def _network_builder(self):
        """Return the pure builder function of this estimator's network."""
        raise NotImplementedError

    def _build_networks(self, seed=0, dtype="float32", **initial):
        """Build the estimator's Keras models from the stored network configuration.

        ``initial`` holds data-dependent starting weights for the builder (such as the
        autoencoder's PCA initialisation); without it the builder's own initialisers are
        used, which is what unpickling wants before it sets the fitted weights.
        """
        return self._network_builder()(**self._network_config, seed=seed, dtype=dtype, **initial)

    def _train(self, source, *, targets, loss, sample_weight=None, stratify=None, initial=None):
        """Build and train the networks; store ``history_``, ``n_epochs_``, ``best_epoch_``,
        ``initial_loss_`` and ``batch_size_``.

        Returns the models holding the trained weights, the trained model first.
        """
        # The first Keras import of a process decides whether TensorFlow's start-up
        # notices are shown: only when the user asked for output.
        import_keras(verbose=self.verbose)
        device = resolve_device(self.device)
        from .._keras.training import TrainingConfig, make_optimizer, train

        _check_callbacks(self.callbacks)
        config = tuple(sorted(self._network_config.items(), key=lambda item: item[0]))
        try:
            settings = TrainingConfig(
                compile_kwargs={
                    "optimizer": make_optimizer(self.optimizer, self.learning_rate),
                    "loss": loss,
                },
                learning_rate=self.learning_rate,
                batch_size=self.batch_size,
                epochs=self.epochs,
                validation_split=self.validation_split,
                early_stopping=self.early_stopping,
                patience=self.patience,
                min_delta=self.min_delta,
                learning_rate_schedule=self.learning_rate_schedule,
                callbacks=self.callbacks,
                device=device,
                random_state=check_random_state(self.random_state),
                verbose=self.verbose,
                estimator_name=type(self).__name__,
            )
            result = train(
                settings,
                build=functools.partial(self._build_networks, **(initial or {})),
                cache_key=(type(self).__name__, repr(config), repr(loss), self.optimizer),
                source=source,
                targets=targets,
                sample_weight=sample_weight,
                stratify=stratify,
            )
        finally:
            # Keras hands every callback the model it trains, here a cached compiled twin
            # that later fits reuse: a callback kept in the parameters must not hold on
            # to it, nor drag it into pickles.
            for callback in self.callbacks or []:
                callback.set_model(None)
        self.history_ = result["history"]
        self.n_epochs_ = result["n_epochs"]
        self.best_epoch_ = result["best_epoch"]
        self.initial_loss_ = result["initial_loss"]
        self.batch_size_ = result["batch_size"]
        return result["models"]

    # -- inference --------------------------------------------------------------------

    def _apply(self, models, source, dtype=None):
        """Run ``models`` (one, or several in turn) over ``source``; return ``dtype``.

        ``dtype`` defaults to ``source.dtype``.
        """
        from .._keras.training import map_chunks

        dtype = source.dtype if dtype is None else dtype
        outputs = map_chunks(models, source, inference_device(self.device), dtype)
        if not np.isfinite(outputs).all():
            # Rows that float32 holds can still overflow inside the network's sums.
            largest = max(float(np.abs(chunk).max(initial=0.0)) for chunk in source.chunks())
            raise ValueError(
                f"{type(self).__name__} computed non-finite outputs: X holds values too "
                f"large for the network (the largest absolute value is {largest:.3g}), "
                "and its float32 arithmetic overflowed. Scale X as the training data was "
                "scaled."
            )
        return outputs

    # -- persistence ------------------------------------------------------------------

    def __getstate__(self):
        # Weights as plain numpy arrays keep pickles free of Keras and device details; the
        # networks are rebuilt from the stored configuration on load.
        from .._utils.version import __version__

        state = dict(super().__getstate__())
        for name in self._keras_attributes:
            if name in state:
                state[name] = state[name].get_weights()
        state[_VERSION_KEY] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved_version = state.pop(_VERSION_KEY, None)
        saved = {name: state.pop(name) for name in self._keras_attributes if name in state}
        missing = [name for name in self._get_param_names() if name not in state]
        if missing:
            # Parameters added since the file was written: get_params, clone and fit
            # would all fail later with an AttributeError.
            raise self._incompatible(saved_version, f"it has no parameter {missing[0]!r}")
        super().__setstate__(state)
        if saved:
            self._restore_networks(saved, saved_version)

    def _incompatible(self, saved_version, reason):
        from .._utils.version import __version__

        if saved_version is None:  # files from before versions were recorded
            written_by = "ae_reduce 0.1.0 (the file records no version)"
        else:
            written_by = f"ae_reduce {saved_version}"
        return ValueError(
            f"This {type(self).__name__} was pickled by {written_by} and cannot be loaded "
            f"by ae_reduce {__version__}: {reason}. Load it with the version that wrote "
            "it, or fit the estimator again."
        )

    def _restore_networks(self, saved, saved_version):
        """Rebuild the fitted networks from their configuration and set their weights."""
        # Through the package's loader: it sets the log level and GPU memory growth
        # before TensorFlow starts, which a bare ``import keras`` would not.
        import_keras()
        try:
            models = self._build_networks()[1:]
            for name, model in zip(self._keras_attributes, models, strict=True):
                model.set_weights(saved[name])
                setattr(self, name, model)
        except (AttributeError, TypeError, ValueError, KeyError) as error:
            reason = f"its network configuration is not compatible ({error})"
            raise self._incompatible(saved_version, reason) from error

    def _check_fitted(self):
        check_is_fitted(self, self._keras_attributes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _check_callbacks(callbacks):
    """Refuse a callback that is not a Keras callback, before training starts."""
    import keras

    for position, callback in enumerate(callbacks or []):
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(
                f"callbacks[{position}] is {callback!r} of type {type(callback).__name__}; "
                "each callback must be a keras.callbacks.Callback"
            )
