"""TokenEmbeddingTransformer: a supervised network over padded token-id sequences."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, validate_data

from .._io.source import Source
from .._utils.docstrings import fill_docstrings
from .supervised import SupervisedEmbeddingTransformer

#: Ids are fed to the network as float32, which holds whole numbers exactly below this.
_LARGEST_ID = 2**24 - 1

_TOKEN_PARAMETERS = (
    "n_components",
    "hidden_layer_sizes",
    "task",
    "activation",
    "dropout",
    "batch_normalization",
    "l1",
    "l2",
    "skip_connections",
    "loss",
    "label_smoothing",
    "optimizer",
    "learning_rate",
    "learning_rate_schedule",
    "batch_size",
    "epochs",
    "validation_split",
    "early_stopping",
    "patience",
    "min_delta",
    "class_weight",
    "cv",
    "callbacks",
    "device",
    "random_state",
    "verbose",
)


def _zero_untrained_vectors(layer, ids):
    """Set to zero the rows of the token table that training did not reach.

    Training moves only the vectors of ids that the training rows hold. The others
    (padding, which is masked; an id that only later documents hold, such as
    TokenSequencer's unknown id 1 when every training word is in the vocabulary) would
    keep their random starting values and add noise that depends on `random_state`;
    at zero they add nothing, as the row of ids beyond the vocabulary does.
    """
    (table,) = layer.get_weights()
    reached = np.zeros(len(table), dtype=bool)
    reached[np.unique(np.asarray(ids, dtype=np.int64))] = True
    reached[0] = False  # padding
    table[~reached] = 0
    layer.set_weights([table])


def _first_position(where):
    row, column = np.argwhere(where)[0]
    return int(row), int(column)


def _holds_text(X):
    """Whether `X` holds documents (a list, Series or array of text) rather than ids."""
    try:
        values = np.asarray(X, dtype=object).ravel()
    except ValueError:  # ragged nested lists
        return False
    # The first values are enough: a column of documents may start with a missing one.
    return any(isinstance(value, str | bytes) for value in values[:100])


#: What the inherited methods take as `X` and `y`: token ids, documented here in
#: place of SupervisedEmbeddingTransformer's feature columns.
_TOKEN_INPUT = {
    "X_fit": """\
X : array-like of shape (n_samples, sequence_length)
    Token ids, 0 for padding.""",
    "y_fit": """\
y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    Class labels or continuous values.""",
    "X_fit_transform": """\
X : array-like of shape (n_samples, sequence_length)
    Token ids, 0 for padding.""",
    "X_transform": """\
X : array-like of shape (n_samples, sequence_length)
    Token ids, 0 for padding, of any sequence length.""",
}


@fill_docstrings(**_TOKEN_INPUT)
class TokenEmbeddingTransformer(SupervisedEmbeddingTransformer):
    """Embed documents, given as padded token ids, with a network trained on labels.

    Each row of `X` is a document: a sequence of integer token ids, **0 marking
    padding**, as :class:`TokenSequencer` writes them. The network looks every id up in
    a table of trainable token vectors of width ``embedding_dim``, pools the vectors of
    the document's real tokens (their mean or their maximum; padding is masked out),
    and passes the pooled vector through dense layers to a linear embedding layer of
    ``n_components`` units and a task head. :meth:`transform` returns the embedding;
    :meth:`predict`, :meth:`predict_proba`, :meth:`decision_function` and
    :meth:`score` use the head.

    Padding changes nothing: the padding id's vector is zero, pooling sees only
    real tokens, and a document gives the same embedding, to the last bit on the CPU,
    whether its padding comes before or after its tokens and however wide the array
    is. The columns of `X` are positions, not features, so :meth:`transform` and
    :meth:`predict` accept arrays of any width, not only that of the training array.
    A row of padding only embeds as a document without words would.

    Everything else is :class:`SupervisedEmbeddingTransformer`'s: the target is read
    the same way (binary, multiclass, multilabel, regression), :meth:`fit_transform`
    **cross-fits** (``cv=5``) so that no row is embedded by a network that saw its
    label, training stops early on a validation split, and fitted estimators pickle as
    weights.

    Parameters
    ----------
    n_components : int, default=16
        Width of the embedding layer: the number of output features of
        :meth:`transform`.

    embedding_dim : int, default=64
        Width of the token vectors.

    pooling : {"mean", "max"}, default="mean"
        How a document's token vectors are combined: their mean, or their
        component-wise maximum. Padding takes no part in either.

    vocabulary_size : int, default=None
        Number of token ids, padding included: ids run from 0 to
        ``vocabulary_size - 1``, and a larger id in :meth:`fit` is an error. ``None``
        uses the largest id in the training data plus one. Ids of
        :meth:`transform` at or beyond it are unknown tokens (see Notes). Pass
        ``TokenSequencer.vocabulary_size_`` to reserve rows for every word of the
        sequencer's vocabulary. Ids must stay below 2**24.

    hidden_layer_sizes : tuple of int, default=()
        Widths of the hidden layers between the pooled token vector and the embedding.
        The default, none, makes the embedding a linear map of the averaged token
        vectors, the design of fastText's classifier; on the benchmark's topic corpus
        (15,000 training documents) its held-out accuracy was 0.893 against 0.882 with
        one hidden layer of 64 units (means of three seeds). Hidden layers let the
        network combine the pooled features nonlinearly.

    {task}

    {activation}

    dropout : float, default=0.0
        Dropout rate after each hidden layer during training, in [0, 1); without
        hidden layers there is none.

    {batch_normalization}

    {l1}

    l2 : float, default=1e-4
        L2 penalty on the kernels of the dense layers (the token vectors are not
        penalised).

    skip_connections : bool, default=False
        Whether each hidden layer, and the embedding, also receive the pooled vector and
        the outputs of all earlier hidden layers, concatenated.

    {loss}

    label_smoothing : float, default=0.1
        For classification, the cross-entropy's targets are mixed with the uniform
        distribution by this fraction.

    {optimizer}

    {learning_rate}

    {learning_rate_schedule}

    {batch_size}

    {epochs}

    {validation_split}

    {early_stopping}

    {patience}

    {min_delta}

    {class_weight}

    {cv}

    {callbacks}

    {device}

    {random_state}

    {verbose}

    Attributes
    ----------
    model_ : keras.Model
        The fitted network from token ids to the task output (logits for
        classification, standardised values for regression).

    encoder_ : keras.Model
        The fitted network from token ids to the embedding; shares its layers with
        ``model_``. Its layer ``"token_embedding"`` holds the token vectors.

    vocabulary_size_ : int
        Number of token ids the network knows (``vocabulary_size`` resolved). Its
        table has one more row, for unknown ids.

    classes_ : ndarray of shape (n_classes,)
        The class labels, as given in `y` (classification only).

    n_outputs_ : int
        Number of target columns: 1 for single-output classification or regression.

    history_ : dict of str to list of float
        Per-epoch ``"loss"``, ``"val_loss"`` (when rows were held out) and
        ``"learning_rate"`` of the network fitted on all rows.

    n_epochs_ : int
        Number of epochs trained (network fitted on all rows).

    {batch_size_}

    best_epoch_ : int
        Epoch (counting from 1) with the lowest monitored loss, or 0 when no epoch
        improved on the starting weights.

    initial_loss_ : float
        Monitored loss of the starting weights of the network fitted on all rows,
        measured before training. :func:`plot_history` draws it at epoch 0.

    n_features_in_ : int
        Width of the id array seen during :term:`fit` (the sequence length). Arrays of
        other widths are accepted afterwards.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during :term:`fit`. Defined only when `X` has column
        names that are all strings; checked only for arrays of the same width.

    See Also
    --------
    TokenSequencer : Text documents to the padded id arrays this estimator takes.
    SupervisedEmbeddingTransformer : The same network over feature columns.
    sklearn.feature_extraction.text.TfidfVectorizer : A bag-of-words alternative.

    Notes
    -----
    `X` holds non-negative whole numbers: integers, or floats with no fractional part.
    Negative, fractional, NaN and infinite values are errors, as are sparse matrices
    (call ``X.toarray()``: its implicit zeros are padding).

    An id at or beyond ``vocabulary_size_`` in :meth:`transform` or :meth:`predict` is
    an unknown token: it is looked up in an extra row of the table that training never
    reaches and that stays at zero. Such a token adds nothing to a document's vector
    but counts as a token (the mean divides by it; the maximum of a component that is
    negative for every other token becomes 0). :class:`TokenSequencer` maps unseen
    words to its own unknown id, 1, which is trained like any other id when training
    documents hold words outside its vocabulary (with ``max_tokens`` or
    ``min_frequency``). Every id that no training row holds, id 1 otherwise included,
    keeps a vector of zeros after fitting, as the padding id does, instead of its
    random starting value: it adds nothing to a document's vector and does not depend
    on `random_state`. In cross-fitting, the same holds for each fold's network.

    The mean is summed over the real tokens only, in their order, so padding cannot
    change its rounding. On a GPU, TensorFlow sums in an unspecified order and padded
    copies of a document may differ in the last bits.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from ae_reduce import TokenEmbeddingTransformer, TokenSequencer
    >>> texts = ["cheap pills now", "meeting at noon", "cheap offer now", "lunch at noon"]
    >>> labels = ["spam", "ham", "spam", "ham"]
    >>> pipeline = make_pipeline(
    ...     TokenSequencer(),
    ...     TokenEmbeddingTransformer(
    ...         n_components=2, embedding_dim=8, hidden_layer_sizes=(8,), epochs=5,
    ...         cv=None, random_state=0,
    ...     ),
    ... )
    >>> pipeline.fit(texts, labels).transform(["cheap pills at noon"]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        **{
            name: SupervisedEmbeddingTransformer._parameter_constraints[name]
            for name in _TOKEN_PARAMETERS
        },
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"mean", "max"})],
        "vocabulary_size": [Interval(Integral, 1, _LARGEST_ID + 1, closed="both"), None],
    }

    # SupervisedEmbeddingTransformer's options that token ids have no use for (input
    # noise, reconstructing the ids, a network of one's own), fixed at the values that
    # keep the inherited code on the path of the built-in network.
    noise_stddev = 0.0
    reconstruction_weight = 0.0
    model = None
    embedding_layer = None

    def __init__(
        self,
        n_components=16,
        *,
        embedding_dim=64,
        pooling="mean",
        vocabulary_size=None,
        hidden_layer_sizes=(),
        task="auto",
        activation="relu",
        dropout=0.0,
        batch_normalization=False,
        l1=0.0,
        l2=1e-4,
        skip_connections=False,
        loss="auto",
        label_smoothing=0.1,
        optimizer="adam",
        learning_rate=3e-3,
        learning_rate_schedule="plateau",
        batch_size="auto",
        epochs=200,
        validation_split=0.1,
        early_stopping=True,
        patience=10,
        min_delta=0.0,
        class_weight=None,
        cv=5,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.embedding_dim = embedding_dim
        self.pooling = pooling
        self.vocabulary_size = vocabulary_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.task = task
        self.activation = activation
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.l1 = l1
        self.l2 = l2
        self.skip_connections = skip_connections
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
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- ids --------------------------------------------------------------------------

    def _check_input(self, X, *, reset):
        """Validate token ids; in fit, fix ``vocabulary_size_``, afterwards map ids
        beyond it to the unknown row."""
        name = type(self).__name__
        kind = getattr(getattr(X, "dtype", None), "kind", None)
        if kind in ("M", "m"):
            raise ValueError(
                f"{name} takes integer token ids, but X holds "
                f"{'dates' if kind == 'M' else 'durations'} (dtype {X.dtype})."
            )
        try:
            ids = check_array(
                X, accept_sparse=False, dtype="numeric", estimator=self, input_name="X"
            )
        except ValueError as error:
            if "inhomogeneous" in str(error):
                raise ValueError(
                    f"{name} takes a rectangular array of token ids, but the sequences "
                    "of X have different lengths; pad them with 0 to one length "
                    f"(TokenSequencer does). {error}"
                ) from error
            if "strings" not in str(error) and not _holds_text(X):
                raise
            raise ValueError(
                f"{name} takes arrays of integer token ids, not text; put a "
                f"TokenSequencer in front of it: make_pipeline(TokenSequencer(), {name}())."
            ) from error
        if reset or ids.shape[1] == getattr(self, "n_features_in_", None):
            # Column names and the width are checked against fit only for arrays of the
            # fitted width: other widths are other sequence lengths, not other features.
            validate_data(self, X, reset=reset, skip_check_array=True)
        if ids.dtype.kind == "b":
            ids = ids.astype(np.int64)
        if ids.size and ids.min() < 0:
            row, column = _first_position(ids < 0)
            raise ValueError(
                f"Negative values in data passed to {name}: token ids are 0 (padding) or "
                f"positive, but X[{row}, {column}] is {ids[row, column]}."
            )
        if ids.dtype.kind == "f":
            fractional = ids != np.floor(ids)
            if fractional.any():
                row, column = _first_position(fractional)
                raise ValueError(
                    f"{name} takes whole-number token ids, but X[{row}, {column}] is "
                    f"{ids[row, column].item()!r}."
                )
        if reset:
            self.vocabulary_size_ = self._vocabulary_size(ids)
        else:
            ids = np.where(ids >= self.vocabulary_size_, self.vocabulary_size_, ids)
            # Columns of padding in every row change nothing, but inference runs in
            # blocks of fixed rows, whose memory grows with the width: one wide row of
            # few tokens (TokenSequencer pads to the longest training document) would
            # cost gigabytes.
            tokens = ids.any(axis=0)
            if not tokens.all():
                ids = ids[:, tokens] if tokens.any() else ids[:, :1]
        if ids.dtype.kind != "f":
            # Only now that every id is below 2**24: uint64 ids from 2**63 up would wrap
            # to negative int64.
            ids = ids.astype(np.int64, copy=False)
        return Source(ids)

    def _vocabulary_size(self, ids):
        largest = int(ids.max(initial=0))
        if self.vocabulary_size is None:
            if largest > _LARGEST_ID:
                raise ValueError(
                    f"X holds the token id {largest}; ids must stay below 2**24 "
                    f"({_LARGEST_ID + 1}), the whole numbers that float32 holds exactly."
                )
            return largest + 1
        if largest >= self.vocabulary_size:
            row, column = _first_position(ids == largest)
            raise ValueError(
                f"X[{row}, {column}] is the token id {largest}, but "
                f"vocabulary_size={self.vocabulary_size} allows ids up to "
                f"{self.vocabulary_size - 1}. Raise vocabulary_size or leave it None."
            )
        return int(self.vocabulary_size)

    # -- network ----------------------------------------------------------------------

    def _train_rows(self, source, target, weights, rows=None):
        networks = super()._train_rows(source, target, weights, rows)
        ids = source.data if rows is None else source.data[rows]
        _zero_untrained_vectors(networks[0].get_layer("token_embedding"), ids)
        return networks

    def _configure_network(self, source, target):
        self._two_unit_binary = False
        self._outputs_probabilities = False
        self._user_network = None
        self._network_config = {
            "vocabulary_size": self.vocabulary_size_,
            "embedding_dim": self.embedding_dim,
            "n_components": self.n_components,
            "n_outputs": target.n_outputs,
            "pooling": self.pooling,
            "hidden_layer_sizes": self._hidden_layer_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
            "batch_normalization": self.batch_normalization,
            "l1": self.l1,
            "l2": self.l2,
            "skip_connections": self.skip_connections,
        }

    def _network_builder(self):
        from .._keras.networks import build_token_network

        return build_token_network

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        # Ids are categories: scikit-learn's checks then feed non-negative whole numbers.
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = True
        return tags
