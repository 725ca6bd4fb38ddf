"""SupervisedEmbeddingTransformer: a network trained on labels, used as a feature extractor."""

import warnings
from numbers import Real

import numpy as np
from scipy.special import expit, log_softmax, logit
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_sample_weight

from .._io.source import RECONSTRUCT
from .._io.validation import check_input
from .._utils.atomic import atomic_fit
from .._utils.docstrings import fill_docstrings
from .._utils.folds import cross_fitting_folds
from .._utils.targets import CLASSIFICATION_KINDS, check_target
from .._utils.warnings import caller_stacklevel
from .base import BaseNeuralEstimator
from .losses import LogitCrossentropy
from .user_models import (
    ARCHITECTURE,
    check_user_network,
    default_embedding_layer,
    is_keras_model,
    model_from_json,
)


def _classifies(estimator):
    """Whether the estimator predicts classes: known after fit, guessed from ``task`` before."""
    kind = getattr(estimator, "_target_kind", None)
    if kind is not None:
        return kind in CLASSIFICATION_KINDS
    return estimator.task != "regression"


#: What the methods take as `X` and `y`: feature columns (TokenEmbeddingTransformer's
#: methods take token ids instead).
_FEATURE_INPUT = {
    "X_fit": """\
X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
    Training data. A file-backed ``numpy.memmap`` is read batch by batch. A
    ``pyarrow.dataset.Dataset`` (Parquet, Arrow IPC or CSV files) is read once,
    batch by batch, into a temporary float32 file that training reads instead
    and that is deleted when the fit ends; see :ref:`scaling_files`.""",
    "y_fit": """\
y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    Class labels (numbers, strings, a pandas categorical; a 0/1 indicator
    matrix for multilabel) or continuous values, in memory. Take a label
    column out of a dataset with ``dataset.to_table(columns=["label"])``. With
    ``reconstruction_weight > 0``, NaN or None (or -1 in integer labels) marks
    an unlabelled row.""",
    "X_fit_transform": """\
X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
    Training data, read as by :meth:`fit`. The folds of a memory map or a
    dataset are read from the file batch by batch, never copied into memory.""",
    "X_transform": """\
X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
    Data to embed.""",
}


@fill_docstrings(**_FEATURE_INPUT)
class SupervisedEmbeddingTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNeuralEstimator
):
    """Embed rows with a hidden layer of a network trained to predict their labels.

    A dense network maps each row through ``hidden_layer_sizes`` to a linear embedding
    layer of ``n_components`` units, followed by a task head: a classifier (sigmoid or
    softmax cross-entropy) or a regressor (squared error). After training,
    :meth:`transform` returns the embedding: features shaped by the labels, for a
    gradient-boosting model beside hand-made features, for clustering, for
    nearest-neighbour search or for a map in which classes separate. The head remains
    usable through :meth:`predict`, :meth:`predict_proba`, :meth:`decision_function` and
    :meth:`score`, so the estimator can also stand as the final step of a pipeline.

    The task is read from the target with scikit-learn's
    :func:`~sklearn.utils.multiclass.type_of_target`: binary, multiclass, multilabel,
    continuous or multi-output continuous.

    :meth:`fit_transform` **cross-fits** by default (``cv=5``): each row is embedded by a
    network that never saw its label, as :class:`~sklearn.preprocessing.TargetEncoder`
    does, so a model trained on the result downstream does not learn from leaked labels.
    ``fit(X, y).transform(X)`` uses the network fitted on all rows and differs from
    ``fit_transform(X, y)``. Pipelines call :meth:`fit_transform` when they are fitted
    and :meth:`transform` when they predict, which is what keeps them honest.

    Training uses Keras 3 with the TensorFlow backend, on a GPU when one is visible.
    Scale the input first (for example with :class:`~sklearn.preprocessing.StandardScaler`).

    Parameters
    ----------
    n_components : int, default=16
        Width of the embedding layer: the number of output features of
        :meth:`transform`. It may exceed the number of input features. Ignored when
        ``model`` is given (the named layer's width counts).

    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the hidden layers between the input and the embedding. An empty tuple
        makes the embedding a linear projection of the input.

    {task}

    {activation}

    {dropout}

    {batch_normalization}

    {l1}

    l2 : float, default=1e-4
        L2 penalty on every kernel (weight decay).

    skip_connections : bool, default=False
        Whether each hidden layer, and the embedding, also receive the input and the
        outputs of all earlier hidden layers, concatenated (dense connections). Helps
        deeper stacks train.

    noise_stddev : float or "auto", default="auto"
        Standard deviation of the Gaussian noise added to the input during training, in
        the units of the input (a regulariser that suits standardised features). 0 adds
        none. ``"auto"`` is 0.3 for classification, where it measured best, and 0 for
        regression, where any noise blurs the target's dependence on exact values
        (Friedman-1: R^2 0.925 without noise, 0.894 with 0.3).

    {loss}

    label_smoothing : float, default=0.1
        For classification with logits (the built-in network), the cross-entropy's
        targets are mixed with the uniform distribution by this fraction, which keeps
        the network from growing over-confident logits. Ignored for regression and for
        a custom ``model`` that outputs probabilities.

    {optimizer}

    learning_rate : float, default=1e-3
        Initial learning rate of the optimizer.

    {learning_rate_schedule}

    {batch_size}

    {epochs}

    {validation_split}

    {early_stopping}

    {patience}

    {min_delta}

    {class_weight}

    {cv}

    reconstruction_weight : float, default=0.0
        Weight of a reconstruction loss beside the task loss. A positive value adds a
        decoder from the embedding back to the input (multi-task training), and rows
        whose label is missing (NaN, None, or -1 in an integer classification target,
        scikit-learn's convention for unlabelled rows) then still train the embedding
        through it: semi-supervised learning. With 0, missing labels are an error.
        Not available with a custom ``model``.

    model : keras.Model or callable, default=None
        A network of your own instead of the built-in one: a Keras model with one input
        of width ``n_features`` and one output that fits the target (one unit per class,
        or 1 or 2 units for a binary target, one per target column for regression), or
        a function ``model(n_features, y)`` that returns one. The model is cloned with
        fresh weights and never modified. A final ``"sigmoid"`` or ``"softmax"``
        activation is recognised as giving probabilities; any other output is treated
        as logits (classification) or values (regression).

    embedding_layer : str, default=None
        Name of the layer of ``model`` whose output :meth:`transform` returns. By
        default, the layer that feeds the output layer. Only used with ``model``.

    {callbacks}

    {device}

    {random_state}

    {verbose}

    Attributes
    ----------
    model_ : keras.Model
        The fitted network from the input to the task output (logits for classification
        with the built-in network, standardised values for regression).

    encoder_ : keras.Model
        The fitted network from the input to the embedding; shares its layers with
        ``model_``.

    classes_ : ndarray of shape (n_classes,)
        The class labels, as given in `y` (classification only). For a multilabel
        target, the column indices.

    n_outputs_ : int
        Number of target columns: 1 for single-output classification or regression.

    history_ : dict of str to list of float
        Per-epoch ``"loss"``, ``"val_loss"`` (when rows were held out) and
        ``"learning_rate"`` of the network fitted on all rows.

    n_epochs_ : int
        Number of epochs trained (network fitted on all rows). When all ``epochs`` ran
        while the monitored loss was still improving, :meth:`fit` warns with a
        :class:`~sklearn.exceptions.ConvergenceWarning`.

    {batch_size_}

    best_epoch_ : int
        Epoch (counting from 1) with the lowest monitored loss, or 0 when no epoch
        improved on the starting weights (measured before training); with
        ``early_stopping`` those weights are then kept.

    initial_loss_ : float
        Monitored loss of the starting weights of the network fitted on all rows,
        measured before training: on the validation rows when any were held out, else
        on the training rows. :func:`plot_history` draws it at epoch 0.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    KerasAutoencoderTransformer : An embedding learnt without labels.
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : A linear supervised
        projection.
    sklearn.preprocessing.TargetEncoder : Cross-fitted target encoding of categories.

    Notes
    -----
    A binary target trains one sigmoid unit: :meth:`decision_function` returns its
    logit, of shape (n_samples,), as scikit-learn's binary classifiers do. Multiclass
    targets train a softmax over one unit per class, multilabel targets one sigmoid per
    column. Regression targets are standardised for training and predictions are
    returned in the original units.

    The out-of-fold embeddings of :meth:`fit_transform` come from ``cv`` different
    networks whose embedding spaces are not aligned with one another (nor with the
    network of :meth:`transform`): a coordinate means different things in different
    folds. Models downstream see a noisier representation than the in-sample one, but
    an honest one. Tree ensembles and models fitted on the same cross-fitted output
    handle this well; do not compare out-of-fold coordinates across folds directly. For
    nearest-neighbour search or clustering, where stored rows and new queries must share
    one space, embed both with :meth:`transform` after :meth:`fit` (or set ``cv=None``).

    Keras computes in float32. :meth:`transform` returns float32 for float32 input and
    float64 otherwise, with float32 precision. Inference runs on blocks of a fixed number
    of rows, so a row's output does not depend on the other rows it is passed with.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from ae_reduce import SupervisedEmbeddingTransformer
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> embedder = SupervisedEmbeddingTransformer(
    ...     n_components=2, hidden_layer_sizes=(16,), epochs=5, cv=None, random_state=0
    ... )
    >>> embedder.fit_transform(X, y).shape
    (150, 2)
    >>> embedder.predict(X[:3]).shape
    (3,)
    """

    _keras_attributes = ("model_", "encoder_")

    _parameter_constraints: dict = {
        **BaseNeuralEstimator._parameter_constraints,
        "task": [StrOptions({"auto", "classification", "regression"})],
        "skip_connections": ["boolean"],
        "noise_stddev": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "loss": [StrOptions({"auto", "crossentropy", "mse", "mae", "huber"})],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "cv": ["cv_object"],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "model": [HasMethods(["get_config"]), callable, None],
        "embedding_layer": [str, None],
    }

    def __init__(
        self,
        n_components=16,
        *,
        hidden_layer_sizes=(256, 128),
        task="auto",
        activation="relu",
        dropout=0.0,
        batch_normalization=False,
        l1=0.0,
        l2=1e-4,
        skip_connections=False,
        noise_stddev="auto",
        loss="auto",
        label_smoothing=0.1,
        optimizer="adam",
        learning_rate=1e-3,
        learning_rate_schedule="plateau",
        batch_size="auto",
        epochs=200,
        validation_split=0.1,
        early_stopping=True,
        patience=10,
        min_delta=0.0,
        class_weight=None,
        cv=5,
        reconstruction_weight=0.0,
        model=None,
        embedding_layer=None,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.task = task
        self.activation = activation
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.l1 = l1
        self.l2 = l2
        self.skip_connections = skip_connections
        self.noise_stddev = noise_stddev
        self.loss = loss
        self.label_smoothing = label_smoothing
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_delta = min_delta
        self.class_weight = class_weight
        self.cv = cv
        self.reconstruction_weight = reconstruction_weight
        self.model = model
        self.embedding_layer = embedding_layer
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting ----------------------------------------------------------------------

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on all rows of `X` to predict `y`.

        Parameters
        ----------
        {X_fit}

        {y_fit}

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the losses.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # A dataset is copied to a temporary file for training: the block deletes it.
        with self._check_input(X, reset=True) as source:
            target, weights = self._prepare(source, y, sample_weight)
            self._fit_all_rows(source, target, weights)
        return self

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y, sample_weight=None):
        """Fit on all rows and return out-of-fold embeddings of `X`.

        With ``cv`` set, `X` is split into folds; each fold is embedded by a network
        trained on the other folds, so no row's embedding has seen its label. The
        network trained on all rows is kept for :meth:`transform`, :meth:`predict` and
        friends. With ``cv=None`` this is ``fit(X, y).transform(X)``.

        Parameters
        ----------
        {X_fit_transform}

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, as for :meth:`fit`.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the losses.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Out-of-fold embeddings (in-sample ones with ``cv=None``).
        """
        with self._check_input(X, reset=True) as source:
            target, weights = self._prepare(source, y, sample_weight)
            return self._cross_fit(source, target, weights)

    def _cross_fit(self, source, target, weights):
        """Out-of-fold embeddings of every row, then the network fitted on all rows."""
        if self.cv is None:
            self._fit_all_rows(source, target, weights)
            return self._embed(source)
        embeddings = None
        folds = cross_fitting_folds(self.cv, source.n_samples, target.stratify, self.random_state)
        unconverged = []
        for number, (train_rows, test_rows) in enumerate(folds):
            # One warning for all folds, not one per fold with different best epochs.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                networks = self._train_rows(source, target, weights, train_rows)
            for warning in caught:
                if issubclass(warning.category, ConvergenceWarning):
                    unconverged.append(number)
                else:
                    warnings.warn_explicit(
                        warning.message, warning.category, warning.filename, warning.lineno
                    )
            fold = self._apply(networks[2], source.subset(test_rows))
            if embeddings is None:
                embeddings = np.zeros((source.n_samples, fold.shape[1]), dtype=source.dtype)
            embeddings[test_rows] = fold
        if unconverged:
            warnings.warn(
                f"{type(self).__name__}: epochs={self.epochs} ran out before the loss "
                f"stopped improving in {len(set(unconverged))} of the {len(folds)} "
                "cross-fitting folds. Increase epochs to let the networks converge.",
                ConvergenceWarning,
                stacklevel=caller_stacklevel(),
            )
        # Last, so that history_ and friends describe the network that is kept.
        self._fit_all_rows(source, target, weights)
        return embeddings

    def _prepare(self, source, y, sample_weight):
        """Validate the target and weights and fix the network, before any training."""
        target = check_target(
            y,
            source.n_samples,
            task=self.task,
            allow_missing=self.reconstruction_weight > 0,
            can_reconstruct="reconstruction_weight" in self.get_params(deep=False),
        )
        self._check_loss(target)
        self._target_kind = target.kind
        self.n_outputs_ = 1 if target.kind in {"binary", "multiclass"} else target.n_outputs
        if target.classes is not None:
            self.classes_ = target.classes
        elif hasattr(self, "classes_"):
            del self.classes_
        self._target_mean, self._target_scale = target.mean, target.scale
        self._target_2d = target.shape_2d
        self._configure_network(source, target)
        weights = self._weights(source, target, sample_weight)
        return target, weights

    def _check_input(self, X, *, reset):
        """Validate `X` as a :class:`~ae_reduce._io.source.Source`; ``reset`` in fit only."""
        return check_input(self, X, reset=reset)

    def _check_loss(self, target):
        classification = target.kind in CLASSIFICATION_KINDS
        if classification and self.loss not in {"auto", "crossentropy"}:
            raise ValueError(
                f"loss={self.loss!r} is a regression loss but y holds class labels "
                f"({target.kind}); use loss='auto' or 'crossentropy', or task='regression'."
            )
        if not classification and self.loss == "crossentropy":
            raise ValueError(
                f"loss='crossentropy' needs class labels but y is {target.kind}; use "
                "loss='auto', 'mse', 'mae' or 'huber'."
            )

    def _weights(self, source, target, sample_weight):
        """Per-output sample weights: task weights and, if used, reconstruction weights."""
        base = _check_sample_weight(
            sample_weight, np.empty((source.n_samples, 0)), ensure_non_negative=True
        )
        positive = base[base > 0]
        limits = np.finfo(np.float32)
        if positive.size and (positive.max() > limits.max or positive.min() < limits.tiny):
            raise ValueError(
                "sample_weight holds values that float32, the precision of training, "
                f"cannot represent (from {positive.min():.3g} to {positive.max():.3g}; "
                f"float32 holds {limits.tiny:.3g} to {limits.max:.3g}). Only their ratios "
                "matter: divide them by their mean."
            )
        task = base * target.labelled
        if self.class_weight is not None:
            task = task * self._class_weights(target)
        if target.codes is not None:
            weight_per_class = np.bincount(
                target.codes[target.labelled],
                weights=task[target.labelled],
                minlength=len(target.classes),
            )
            if np.count_nonzero(weight_per_class > 0) < 2:
                raise ValueError(
                    "Only one class has rows with positive sample weight; a classifier "
                    "needs at least 2 classes to learn from."
                )
        elif not np.any(task > 0):
            raise ValueError("Every labelled row has zero sample weight: nothing to learn.")
        if self.reconstruction_weight > 0:
            return [task, base * self.reconstruction_weight]
        if sample_weight is None and self.class_weight is None and target.labelled.all():
            return None
        return [task]

    def _class_weights(self, target):
        if target.codes is None:
            raise ValueError(
                f"class_weight applies to single-output classification, but y is {target.kind}."
            )
        n_classes = len(target.classes)
        if isinstance(self.class_weight, str):
            per_class = compute_class_weight(
                "balanced", classes=np.arange(n_classes), y=target.codes[target.labelled]
            )
        else:
            unknown = [label for label in self.class_weight if label not in set(target.classes)]
            if unknown:
                raise ValueError(
                    f"class_weight names labels {unknown!r} that are not in y; the classes "
                    f"are {target.classes.tolist()!r}."
                )
            per_class = np.array([self.class_weight.get(c, 1.0) for c in target.classes])
        return np.where(target.labelled, per_class[np.maximum(target.codes, 0)], 0.0)

    # -- networks ---------------------------------------------------------------------

    def _configure_network(self, source, target):
        """Store what the network is, and how its outputs are read, before training."""
        self._two_unit_binary = False
        self._outputs_probabilities = False
        if self.model is None:
            self._user_network = None
            self._network_config = {
                "n_features": source.n_features,
                "n_components": self.n_components,
                "n_outputs": target.n_outputs,
                "hidden_layer_sizes": self._hidden_layer_sizes(),
                "activation": self.activation,
                "dropout": self.dropout,
                "batch_normalization": self.batch_normalization,
                "l1": self.l1,
                "l2": self.l2,
                "skip_connections": self.skip_connections,
                "reconstruct": self.reconstruction_weight > 0,
                "noise_stddev": self._noise_stddev(target),
            }
            return
        from .._keras.backend import import_keras

        keras = import_keras()
        if self.reconstruction_weight > 0:
            raise ValueError(
                "reconstruction_weight > 0 needs the built-in network; it cannot add a "
                "decoder to a custom model. Set model=None or reconstruction_weight=0."
            )
        if isinstance(self.model, keras.Model):
            from .._keras.networks import copy_architecture

            network = copy_architecture(self.model)
        else:
            network = self.model(source.n_features, target.encoded)
            if not isinstance(network, keras.Model):
                raise TypeError(
                    "model must be a keras.Model or a function returning one; the function "
                    f"returned {type(network).__name__}."
                )
        self._two_unit_binary, self._outputs_probabilities = check_user_network(
            network, source.n_features, target, self.embedding_layer
        )
        layer = self.embedding_layer or default_embedding_layer(network)
        self._user_network = network
        self._network_config = {"architecture": network.to_json(), "embedding_layer": layer}

    def _noise_stddev(self, target):
        if self.noise_stddev != "auto":
            return self.noise_stddev
        return 0.3 if target.kind in CLASSIFICATION_KINDS else 0.0

    def _network_builder(self):
        from .._keras.networks import build_supervised_network

        return build_supervised_network

    def _build_networks(self, seed=0, dtype="float32", **initial):
        if self._user_network is None:
            return super()._build_networks(seed=seed, dtype=dtype, **initial)
        from .._keras.networks import clone_user_network

        predictor, encoder = clone_user_network(
            self._user_network,
            embedding_layer=self._network_config["embedding_layer"],
            seed=seed,
            dtype=dtype,
        )
        return predictor, predictor, encoder

    def _task_loss(self):
        kind = self._target_kind
        if kind not in CLASSIFICATION_KINDS:
            return "mse" if self.loss == "auto" else self.loss
        if kind == "multiclass" or self._two_unit_binary:
            if self._outputs_probabilities:
                return "sparse_categorical_crossentropy"
            return LogitCrossentropy("softmax", self.label_smoothing)
        if self._outputs_probabilities:
            return "binary_crossentropy"
        return LogitCrossentropy("sigmoid", self.label_smoothing)

    def _train_rows(self, source, target, weights, rows=None):
        """Train a network on ``rows`` (all when None); return the trained networks."""
        encoded = target.encoded
        if self._two_unit_binary:
            encoded = np.maximum(target.codes, 0).astype(np.int32)
        stratify = target.stratify
        if rows is not None:
            source = source.subset(rows)
            encoded = encoded[rows]
            weights = None if weights is None else [w[rows] for w in weights]
            stratify = None if stratify is None else stratify[rows]
        targets, loss = [encoded], self._task_loss()
        if self.reconstruction_weight > 0:
            targets, loss = [encoded, RECONSTRUCT], [loss, "mse"]
        return self._train(
            source, targets=targets, loss=loss, sample_weight=weights, stratify=stratify
        )

    def _fit_all_rows(self, source, target, weights):
        _, self.model_, self.encoder_ = self._train_rows(source, target, weights)

    # -- inference --------------------------------------------------------------------

    def _embed(self, source):
        return self._apply(self.encoder_, source)

    def _outputs(self, X):
        """The network's task outputs for `X`, in float64."""
        self._check_fitted()
        source = self._check_input(X, reset=False)
        return self._apply(self.model_, source, np.float64)

    def transform(self, X):
        """Embed `X` with the network fitted on all training rows.

        Parameters
        ----------
        {X_transform}

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The embeddings: float32 for float32 `X`, float64 otherwise.
        """
        self._check_fitted()
        return self._embed(self._check_input(X, reset=False))

    @available_if(_classifies)
    def decision_function(self, X):
        """Logits of the classes (classification only).

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For a binary target, the logit of ``classes_[1]``, positive where it is
            predicted. For a multiclass target, one logit (log-probability up to a
            per-row constant) per class. For a multilabel target, one logit per column.
        """
        outputs = self._outputs(X)
        if self._outputs_probabilities:
            probabilities = np.clip(outputs, 1e-15, 1 - 1e-15)
            if self._target_kind == "multiclass" or self._two_unit_binary:
                outputs = np.log(probabilities)
            else:
                outputs = logit(probabilities)
        if self._two_unit_binary:
            return outputs[:, 1] - outputs[:, 0]
        if self._target_kind == "binary":
            return outputs[:, 0]
        return outputs

    @available_if(_classifies)
    def predict_proba(self, X):
        """Class probabilities (classification only).

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Data to classify.

        Returns
        -------
        probabilities : ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``; rows sum to 1. For a multilabel
            target, the probability of each column being 1.
        """
        scores = self.decision_function(X)
        if self._target_kind == "binary":
            positive = expit(scores)
            return np.column_stack([1.0 - positive, positive])
        if self._target_kind == "multiclass":
            return np.exp(log_softmax(scores, axis=1))
        return expit(scores)

    def predict(self, X):
        """Predict class labels or values with the network's task head.

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Data to predict for.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Labels from ``classes_`` for classification (a 0/1 matrix for multilabel
            targets), values in the units of `y` for regression.
        """
        self._check_fitted()
        if self._target_kind not in CLASSIFICATION_KINDS:
            values = self._outputs(X) * self._target_scale + self._target_mean
            return values if self._target_2d else values.ravel()
        scores = self.decision_function(X)
        if self._target_kind == "binary":
            return self.classes_[(scores > 0).astype(np.intp)]
        if self._target_kind == "multiclass":
            return self.classes_[np.argmax(scores, axis=1)]
        return (scores > 0).astype(np.int64)

    def score(self, X, y, sample_weight=None):
        """Accuracy for classification, :math:`R^2` for regression.

        Parameters
        ----------
        X : {array-like, sparse matrix, pyarrow.dataset.Dataset} of shape (n_samples, n_features)
            Test data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or values.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            Mean accuracy (subset accuracy for multilabel targets) of :meth:`predict`,
            or its coefficient of determination averaged over outputs.
        """
        y_pred = self.predict(X)
        if self._target_kind in CLASSIFICATION_KINDS:
            return float(accuracy_score(y, y_pred, sample_weight=sample_weight))
        return float(r2_score(y, y_pred, sample_weight=sample_weight))

    # -- persistence ------------------------------------------------------------------

    def __getstate__(self):
        state = super().__getstate__()
        # Configuration only: the fitted clone of a custom model is rebuilt from the
        # architecture in ``_network_config``, and a Keras model given as ``model`` is
        # kept as its architecture (its weights are never used: fit starts afresh).
        state.pop("_user_network", None)
        if is_keras_model(state.get("model")):
            state["model"] = {ARCHITECTURE: state["model"].to_json()}
        return state

    def __setstate__(self, state):
        state = dict(state)
        model = state.get("model")
        if isinstance(model, dict) and set(model) == {ARCHITECTURE}:
            state["model"] = model_from_json(model[ARCHITECTURE])
        super().__setstate__(state)

    def _restore_networks(self, saved, saved_version):
        architecture = getattr(self, "_network_config", {}).get("architecture")
        self._user_network = None if architecture is None else model_from_json(architecture)
        super()._restore_networks(saved, saved_version)

    @property
    def _n_features_out(self):
        # An AttributeError before fit is what makes get_feature_names_out say "not fitted".
        return int(self.encoder_.output_shape[-1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        if self.task == "regression":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            return tags
        # With task="auto" the labels decide, and predict_proba exists whenever they are
        # classes: describe what the classifier side supports either way.
        tags.classifier_tags = ClassifierTags(multi_label=True)
        if self.task == "classification":
            tags.estimator_type = "classifier"
        return tags
