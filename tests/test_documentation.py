"""Every public parameter and fitted attribute has a numpydoc entry."""

import inspect

import numpy as np
import pytest
from numpydoc.docscrape import ClassDoc
from sklearn.utils import get_tags

import ae_reduce

ESTIMATORS = [
    getattr(ae_reduce, name)
    for name in ae_reduce.__all__
    if inspect.isclass(getattr(ae_reduce, name)) and hasattr(getattr(ae_reduce, name), "fit")
]

# Settings that keep each estimator's fit short.
NETWORK = {"epochs": 2, "hidden_layer_sizes": (8,)}
SMALL = {
    "KerasAutoencoderTransformer": NETWORK,
    "SupervisedEmbeddingTransformer": NETWORK,
    "TSNE": {"n_iter": 10, "early_exaggeration_iter": 10},
    "ParametricTSNE": {"n_iter": 20, "early_exaggeration_iter": 10, "hidden_layer_sizes": (8,)},
    # weighting="tfidf" fits every attribute this estimator has.
    "MeanWordVectorVectorizer": {"vectors": {"good": [1.0, 0.0]}, "weighting": "tfidf"},
    "TokenEmbeddingTransformer": {**NETWORK, "embedding_dim": 4},
}

#: Documents for the estimators whose input is text.
DOCUMENTS = ["a good film", "not good", "bad"] * 10


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_parameters_are_documented(estimator_class):
    documented = {p.name for p in ClassDoc(estimator_class)["Parameters"]}
    parameters = set(inspect.signature(estimator_class).parameters)
    assert parameters - documented == set()
    assert documented - parameters == set()


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_fitted_attributes_are_documented(estimator_class, digits):
    X, y = digits
    documented = {p.name.split()[0] for p in ClassDoc(estimator_class)["Attributes"]}
    estimator = estimator_class(**SMALL.get(estimator_class.__name__, {}))
    if get_tags(estimator).input_tags.string:
        X, y = DOCUMENTS, y[: len(DOCUMENTS)]
    elif get_tags(estimator).input_tags.categorical:
        # Token ids: whole non-negative numbers, made as scikit-learn's checks make them.
        X = np.round(X - X.min()).astype(np.int64)
    estimator.fit(X[:200], y[:200])
    fitted = {name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")}
    assert fitted - documented == set()


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_public_methods_have_docstrings(estimator_class):
    for name, member in inspect.getmembers(estimator_class, inspect.isfunction):
        if not name.startswith("_"):
            assert member.__doc__, f"{estimator_class.__name__}.{name} has no docstring"
