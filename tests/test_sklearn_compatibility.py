"""scikit-learn's own estimator suite, run on every ae_reduce estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from ae_reduce import KerasAutoencoderTransformer

# Small networks and few epochs: the suite fits each estimator dozens of times.
FAST = {"hidden_layer_sizes": (8,), "epochs": 3, "batch_size": 16, "random_state": 0}

ESTIMATORS = [KerasAutoencoderTransformer(n_components=1, **FAST)]

EXPECTED_FAILURES = {}


def _expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
