"""scikit-learn's own estimator suite, run on every ae_reduce estimator."""

from sklearn.decomposition import PCA
from sklearn.utils.estimator_checks import parametrize_with_checks

from ae_reduce import (
    AutoScaler,
    EmbeddingIndex,
    KerasAutoencoderTransformer,
    MeanWordVectorVectorizer,
    ParametricTSNE,
    SupervisedEmbeddingTransformer,
    TokenEmbeddingTransformer,
    TokenSequencer,
)

# Small networks and few epochs: the suite fits each estimator dozens of times.
FAST = {"hidden_layer_sizes": (8,), "epochs": 3, "batch_size": 16, "random_state": 0}

# The classifier checks demand training accuracy, so these networks learn a little faster;
# no validation rows spares an evaluation per epoch.
SUPERVISED = {**FAST, "epochs": 5, "learning_rate": 0.02, "validation_split": 0.0}

ESTIMATORS = [
    # The default configurations, with fewer epochs to keep the suite short.
    KerasAutoencoderTransformer(epochs=3, random_state=0),
    SupervisedEmbeddingTransformer(epochs=5, random_state=0),
    KerasAutoencoderTransformer(n_components=1, **FAST),
    SupervisedEmbeddingTransformer(4, task="classification", cv=None, **SUPERVISED),
    SupervisedEmbeddingTransformer(4, task="classification", cv=3, **SUPERVISED),
    SupervisedEmbeddingTransformer(4, task="regression", cv=None, **SUPERVISED),
    # The default configuration, with fewer iterations.
    ParametricTSNE(early_exaggeration_iter=20, n_iter=30, random_state=0),
    EmbeddingIndex(),
    AutoScaler(),
    # The transformer path; PCA keeps it fast (an autoencoder here passes too, in a minute).
    EmbeddingIndex(PCA(n_components=1)),
    # Text input: the suite runs only its cloning check on such estimators, as on
    # scikit-learn's own vectorizers; test_word_vectors.py runs the data-free API checks.
    # There is no default for vectors, so a tiny dict is the default configuration.
    MeanWordVectorVectorizer({"good": [1.0, 0.0], "bad": [-1.0, 0.0]}),
    # Its categorical tag makes the checks feed non-negative whole numbers: token ids.
    # The default configuration, with fewer epochs and a smaller network: the checks
    # fit it dozens of times, and each fit cross-fits 5 networks.
    TokenEmbeddingTransformer(
        epochs=3, embedding_dim=8, n_components=4, batch_size=16, random_state=0
    ),
    # Text input, like MeanWordVectorVectorizer; test_tokens.py runs the data-free checks.
    TokenSequencer(),
]

_WEIGHTS_ARE_NOT_REPEATS = (
    "Mini-batch gradient training: a weight scales a row's loss, which is not the same "
    "optimisation path as repeating the row, so results differ beyond the check's 1e-7 "
    "tolerance (scikit-learn expects the same failure of its SGD and bagging estimators)."
)
_CROSS_FITTING = (
    "With cv set, fit_transform returns out-of-fold embeddings by design (no row is "
    "embedded by a network that saw its label), so it differs from fit().transform."
)


def _supervised_failures(estimator):
    failures = {
        "check_sample_weight_equivalence_on_dense_data": _WEIGHTS_ARE_NOT_REPEATS,
        "check_sample_weight_equivalence_on_sparse_data": _WEIGHTS_ARE_NOT_REPEATS,
    }
    if estimator.cv is not None:
        failures["check_transformer_general"] = _CROSS_FITTING
        failures["check_transformer_data_not_an_array"] = _CROSS_FITTING
    return failures


_POSITIONS_NOT_FEATURES = (
    "The columns of token-id arrays are sequence positions, not features: a document "
    "padded to another width is the same document, so predict and transform accept any "
    "width by design."
)


_NOT_TOKEN_IDS = (
    "The check feeds fractional or negative floats without applying the estimator's "
    "input tags (categorical, positive_only); they are not token ids and are refused."
)


def _token_failures(estimator):
    failures = {
        **_supervised_failures(estimator),
        "check_n_features_in_after_fitting": _POSITIONS_NOT_FEATURES,
    }
    if estimator.cv is None:
        failures["check_transformer_general"] = _POSITIONS_NOT_FEATURES
    if estimator.task == "classification":
        failures["check_classifiers_train"] = _POSITIONS_NOT_FEATURES
        for check in (
            "check_classifiers_one_label_sample_weights",
            "check_class_weight_classifiers",
            "check_decision_proba_consistency",
        ):
            failures[check] = _NOT_TOKEN_IDS
    return failures


EXPECTED_FAILURES = {
    "SupervisedEmbeddingTransformer": _supervised_failures,
    "TokenEmbeddingTransformer": _token_failures,
}


def _expected_failures(estimator):
    failures = EXPECTED_FAILURES.get(type(estimator).__name__, {})
    return failures(estimator) if callable(failures) else failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
