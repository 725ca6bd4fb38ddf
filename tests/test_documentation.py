"""Every public parameter and fitted attribute has a numpydoc entry."""

import collections
import inspect

import numpy as np
import pytest
from numpydoc.docscrape import ClassDoc, NumpyDocString
from sklearn.utils import get_tags

import ae_reduce
from ae_reduce._utils.docstrings import PARAGRAPHS, PLACEHOLDER, docstring_template

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


def _public_docstrings():
    """(name, docstring) of each public class and function and of their public members."""
    for name in ae_reduce.__all__:
        obj = getattr(ae_reduce, name)
        if not callable(obj):
            continue
        yield name, obj.__doc__
        if inspect.isclass(obj):
            for member_name, member in inspect.getmembers(obj):
                if not member_name.startswith("_") and callable(member):
                    yield f"{name}.{member_name}", member.__doc__


def test_no_placeholder_is_left_unfilled():
    unfilled = [
        f"{name}: {{{placeholder}}}"
        for name, docstring in _public_docstrings()
        for placeholder in PLACEHOLDER.findall(docstring or "")
    ]
    assert unfilled == []


#: Each shared paragraph as numpydoc reads it on its own.
SHARED = {
    name: NumpyDocString(f"Parameters\n----------\n{text}")["Parameters"][0]
    for name, text in PARAGRAPHS.items()
}


def _placeholders(estimator_class):
    return set(PLACEHOLDER.findall(docstring_template(estimator_class) or "")) & set(SHARED)


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_shared_paragraphs_read_the_same(estimator_class):
    doc = ClassDoc(estimator_class)
    entries = {
        entry.name: entry for section in ("Parameters", "Attributes") for entry in doc[section]
    }
    used = _placeholders(estimator_class)
    assert {name: entries[name] for name in used} == {name: SHARED[name] for name in used}
    # An entry that reads as a shared paragraph comes from it: it is written once.
    copies = {name for name in set(entries) & set(SHARED) if entries[name] == SHARED[name]}
    assert copies - used == set()


def test_each_shared_paragraph_is_shared():
    users = collections.Counter(
        name for estimator_class in ESTIMATORS for name in _placeholders(estimator_class)
    )
    assert {name for name in SHARED if users[name] < 2} == set()


@pytest.mark.parametrize("method", ["fit", "fit_transform", "transform"])
def test_token_methods_document_token_ids(method):
    # TokenEmbeddingTransformer inherits these methods with their docstrings filled for
    # token ids, not for SupervisedEmbeddingTransformer's feature columns.
    token, supervised = (
        getattr(estimator_class, method)
        for estimator_class in (
            ae_reduce.TokenEmbeddingTransformer,
            ae_reduce.SupervisedEmbeddingTransformer,
        )
    )
    assert method in vars(ae_reduce.TokenEmbeddingTransformer)
    (X,) = (p for p in NumpyDocString(token.__doc__)["Parameters"] if p.name == "X")
    assert X.type == "array-like of shape (n_samples, sequence_length)"
    assert X.desc[0].startswith("Token ids, 0 for padding")
    (X,) = (p for p in NumpyDocString(supervised.__doc__)["Parameters"] if p.name == "X")
    assert "sparse matrix" in X.type
