"""Behaviour of SupervisedEmbeddingTransformer that users rely on."""

import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs, make_multilabel_classification, make_regression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, ShuffleSplit, cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ae_reduce import SupervisedEmbeddingTransformer

FAST = {
    "n_components": 3,
    "hidden_layer_sizes": (16,),
    "epochs": 8,
    "batch_size": 32,
    "learning_rate": 0.01,
    "cv": None,
    "random_state": 0,
}


#: Four rows, and their indices for hand-made folds.
FOUR, ARANGE = [[0.0], [1.0], [2.0], [3.0]], np.arange(4)


def embedder(**params):
    return SupervisedEmbeddingTransformer(**{**FAST, **params})


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=6, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def fitted(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "emu"])[y]
    return embedder().fit(X, labels), X, labels


class Recorder:
    """A Keras callback that records whether training started."""

    def __new__(cls):
        from ae_reduce._keras.backend import import_keras

        keras = import_keras()

        class _Recorder(keras.callbacks.Callback):
            started = False

            def on_train_begin(self, logs=None):
                type(self).started = True

        return _Recorder()


# -- tasks and targets -------------------------------------------------------------------


def test_multiclass_string_labels_are_kept_and_predicted(fitted):
    estimator, X, labels = fitted
    assert estimator.classes_.tolist() == ["cat", "dog", "emu"]
    assert set(estimator.predict(X)) <= set(labels)
    assert estimator.score(X, labels) == accuracy_score(labels, estimator.predict(X))
    assert estimator.score(X, labels) > 0.9
    proba = estimator.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    decision = estimator.decision_function(X)
    assert decision.shape == (len(X), 3)
    np.testing.assert_array_equal(estimator.classes_[decision.argmax(1)], estimator.predict(X))


def test_transform_gives_n_components_features(fitted):
    estimator, X, _ = fitted
    embedding = estimator.transform(X)
    assert embedding.shape == (len(X), 3) and embedding.dtype == np.float64
    assert estimator.transform(X.astype(np.float32)).dtype == np.float32
    names = estimator.get_feature_names_out()
    assert names.tolist() == [f"supervisedembeddingtransformer{i}" for i in range(3)]


def test_binary_uses_one_logit_and_integer_labels(blobs):
    X, y = blobs
    labels = np.where(y == 0, 7, 3)
    estimator = embedder().fit(X, labels)
    assert estimator.classes_.tolist() == [3, 7]
    decision = estimator.decision_function(X)
    assert decision.shape == (len(X),)
    np.testing.assert_array_equal(estimator.predict(X), np.where(decision > 0, 7, 3))
    proba = estimator.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-decision)))
    assert estimator.score(X, labels) > 0.9


def test_pandas_categorical_labels(blobs):
    X, y = blobs
    labels = pd.Series(pd.Categorical.from_codes(y, ["low", "mid", "high"]))
    estimator = embedder().fit(X, labels)
    assert sorted(estimator.classes_.tolist()) == ["high", "low", "mid"]
    assert set(estimator.predict(X)) <= {"low", "mid", "high"}


def test_multilabel_target():
    X, Y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=4, random_state=0)
    estimator = embedder(task="classification").fit(StandardScaler().fit_transform(X), Y)
    assert estimator.n_outputs_ == 4
    prediction = estimator.predict(X)
    assert prediction.shape == Y.shape and prediction.dtype.kind == "i"
    assert estimator.predict_proba(X).shape == Y.shape


@pytest.mark.parametrize("n_targets", [1, 2])
def test_regression_in_original_units(n_targets):
    X, y = make_regression(n_samples=150, n_features=5, n_targets=n_targets, random_state=0)
    y = 1000 * y + 50  # far from standardised: the estimator must scale for itself
    estimator = embedder(epochs=30).fit(X, y)
    prediction = estimator.predict(X)
    assert prediction.shape == y.shape
    assert estimator.score(X, y) == pytest.approx(r2_score(y, prediction))
    assert estimator.score(X, y) > 0.5
    assert not hasattr(estimator, "predict_proba")
    assert not hasattr(estimator, "decision_function")
    assert not hasattr(estimator, "classes_")


def test_task_regression_reads_integers_as_numbers(blobs):
    X, y = blobs
    estimator = embedder(task="regression").fit(X, y)
    assert estimator.predict(X).dtype == np.float64
    assert not hasattr(estimator, "classes_")


def test_class_weight_balanced_is_the_explicit_dict(blobs):
    X, y = blobs
    keep = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:8]]
    X, y = X[keep], y[keep]
    counts = np.bincount(y)
    balanced = {c: len(y) / (3 * n) for c, n in enumerate(counts)}
    a = embedder(class_weight="balanced").fit(X, y).transform(X)
    b = embedder(class_weight=balanced).fit(X, y).transform(X)
    np.testing.assert_array_equal(a, b)
    c = embedder().fit(X, y).transform(X)
    assert not np.allclose(a, c)


def test_skip_connections_concatenate_earlier_layers(blobs):
    X, y = blobs
    estimator = embedder(hidden_layer_sizes=(8, 8), skip_connections=True).fit(X, y)
    concatenations = [
        layer for layer in estimator.model_.layers if type(layer).__name__ == "Concatenate"
    ]
    assert len(concatenations) == 2  # before the second hidden layer and the embedding
    assert estimator.transform(X).shape == (len(X), 3)


# -- semi-supervised ---------------------------------------------------------------------


@pytest.mark.parametrize("missing", [np.nan, -1])
def test_unlabelled_rows_train_the_reconstruction(blobs, missing):
    X, y = blobs
    labels = y.astype(float) if missing is np.nan else y.copy()
    labels[::3] = missing
    estimator = embedder(reconstruction_weight=1.0, epochs=30).fit(X, labels)
    assert estimator.classes_.tolist() == [0, 1, 2]
    assert estimator.score(X, y) > 0.8
    names = [layer.name for layer in estimator.model_.layers]
    assert "reconstruction" not in names  # the decoder is for training only


def test_missing_labels_without_reconstruction_are_an_error(blobs):
    X, y = blobs
    labels = y.astype(float)
    labels[0] = np.nan
    recorder = Recorder()
    with pytest.raises(ValueError, match="reconstruction_weight"):
        embedder(callbacks=[recorder]).fit(X, labels)
    assert not recorder.started


# -- the user's own model -----------------------------------------------------------------


def _user_model(n_features=6, n_outputs=3, activation="softmax"):
    from ae_reduce._keras.backend import import_keras

    keras = import_keras()
    inputs = keras.Input(shape=(n_features,))
    hidden = keras.layers.Dense(12, activation="relu", name="hidden")(inputs)
    features = keras.layers.Dense(5, activation="tanh", name="features")(hidden)
    outputs = keras.layers.Dense(n_outputs, activation=activation, name="out")(features)
    return keras.Model(inputs, outputs)


def test_user_model_is_cloned_not_modified(blobs):
    X, y = blobs
    model = _user_model()
    before = [w.copy() for w in model.get_weights()]
    estimator = embedder(model=model, epochs=10).fit(X, y)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert not getattr(model, "compiled", False)
    assert estimator.transform(X).shape == (len(X), 5)  # the layer before the output
    assert estimator.score(X, y) > 0.8
    np.testing.assert_allclose(estimator.predict_proba(X).sum(axis=1), 1.0)


def test_user_model_named_layer_and_builder_function(blobs):
    X, y = blobs

    def build(n_features, target):
        return _user_model(n_features, len(np.unique(target)), activation="linear")

    estimator = embedder(model=build, embedding_layer="hidden").fit(X, y)
    assert estimator.transform(X).shape == (len(X), 12)
    assert estimator.get_feature_names_out().shape == (12,)


def test_user_model_with_two_unit_binary_output(blobs):
    X, y = blobs
    labels = y == 0
    estimator = embedder(model=_user_model(n_outputs=2)).fit(X, labels)
    assert estimator.decision_function(X).shape == (len(X),)
    np.testing.assert_array_equal(
        estimator.predict(X), estimator.classes_[estimator.predict_proba(X).argmax(1)]
    )


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"embedding_layer": "nope"}, "no layer named 'nope'"),
        ({"model_kwargs": {"n_outputs": 4}}, "needs 3 output unit"),
        ({"model_kwargs": {"n_features": 5}}, "X has 6 features"),
        ({"reconstruction_weight": 1.0}, "built-in network"),
    ],
)
def test_user_model_errors_before_training(blobs, params, match):
    X, y = blobs
    params = dict(params)
    model = _user_model(**params.pop("model_kwargs", {}))
    recorder = Recorder()
    with pytest.raises(ValueError, match=match):
        embedder(model=model, callbacks=[recorder], **params).fit(X, y)
    assert not recorder.started


def test_user_model_builder_must_return_a_model(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match=r"keras\.Model"):
        embedder(model=lambda n_features, target: "not a model").fit(X, y)


# -- cross-fitting -----------------------------------------------------------------------


def test_fit_transform_is_out_of_fold_unless_cv_is_none(blobs):
    X, y = blobs
    cross_fitted = embedder(cv=3)
    out_of_fold = cross_fitted.fit_transform(X, y)
    in_sample = cross_fitted.transform(X)
    assert out_of_fold.shape == in_sample.shape
    assert not np.allclose(out_of_fold, in_sample)
    # transform uses the network fitted on all rows, as fit does
    np.testing.assert_array_equal(in_sample, embedder(cv=3).fit(X, y).transform(X))
    plain = embedder()
    np.testing.assert_array_equal(plain.fit_transform(X, y), plain.transform(X))


def test_out_of_fold_embeddings_do_not_leak_random_labels():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(160, 10))
    y = rng.randint(0, 2, size=160)  # nothing to learn: any signal downstream is leakage
    params = {
        "hidden_layer_sizes": (64,),
        "n_components": 8,
        "epochs": 60,
        "early_stopping": False,
        "validation_split": 0.0,
        "learning_rate": 0.01,
    }
    estimator = embedder(cv=4, **params)
    out_of_fold = estimator.fit_transform(X, y)
    in_sample = estimator.transform(X)
    downstream = LogisticRegression()
    leaked = cross_val_score(downstream, in_sample, y, cv=4).mean()
    honest = cross_val_score(downstream, out_of_fold, y, cv=4).mean()
    assert leaked > 0.8
    assert honest < 0.65


# -- scikit-learn composition ------------------------------------------------------------


def test_pipeline_feature_union_and_column_transformer(blobs):
    X, y = blobs
    pipeline = make_pipeline(embedder(cv=2), LogisticRegression())
    assert pipeline.fit(X, y).score(X, y) > 0.9
    union = FeatureUnion([("raw", FunctionTransformer()), ("embedding", embedder(cv=2))])
    assert union.fit_transform(X, y).shape == (len(X), 6 + 3)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    columns = ColumnTransformer(
        [("embedding", embedder(cv=2), ["x0", "x1", "x2"])], remainder="passthrough"
    ).set_output(transform="pandas")
    out = columns.fit_transform(frame, y)
    assert out.shape == (len(X), 3 + 3)
    assert "embedding__supervisedembeddingtransformer0" in out.columns


def test_grid_search_in_both_roles(blobs):
    X, y = blobs
    search = GridSearchCV(embedder(task="classification"), {"n_components": [2, 4]}, cv=2).fit(X, y)
    assert search.best_params_["n_components"] in (2, 4)
    scores = cross_val_score(make_pipeline(embedder(cv=None), LogisticRegression()), X, y, cv=2)
    assert scores.mean() > 0.8


def test_set_output_pandas(fitted):
    estimator, X, _ = fitted
    frame = estimator.set_output(transform="pandas").transform(X)
    estimator.set_output(transform="default")
    assert list(frame.columns) == estimator.get_feature_names_out().tolist()


def test_classifier_and_regressor_types():
    from sklearn.base import is_classifier, is_regressor

    assert is_classifier(SupervisedEmbeddingTransformer(task="classification"))
    assert is_regressor(SupervisedEmbeddingTransformer(task="regression"))
    auto = SupervisedEmbeddingTransformer()
    assert not is_classifier(auto) and not is_regressor(auto)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "y", "params", "error", "match"),
    [
        ([[np.nan, 1.0], [1.0, 2.0]], [0, 1], {}, ValueError, "NaN"),
        ([[np.inf, 1.0], [1.0, 2.0]], [0, 1], {}, ValueError, "infinity"),
        ([["a", "b"], ["c", "d"]], [0, 1], {}, ValueError, "could not convert"),
        (np.empty((0, 3)), [], {}, ValueError, "0 sample"),
        ([1.0, 2.0, 3.0], [0, 1, 0], {}, ValueError, "2D array"),
        ([[0.0], [1.0]], None, {}, ValueError, "requires y"),
        ([[0.0], [1.0], [2.0]], [0, 1], {}, ValueError, "y has 2 rows but X has 3"),
        ([[0.0], [1.0]], [1, 1], {}, ValueError, "only one class"),
        ([[0.0], [1.0]], [0.5, np.nan], {}, ValueError, "NaN"),
        ([[0.0], [1.0]], [0.5, 1.5], {"task": "classification"}, ValueError, "continuous"),
        ([[0.0], [1.0]], [0.5, 1.5], {"loss": "crossentropy"}, ValueError, "class labels"),
        ([[0.0], [1.0]], [0, 1], {"loss": "mae"}, ValueError, "regression loss"),
        ([[0.0], [1.0]], [0.5, 1.5], {"class_weight": "balanced"}, ValueError, "class_wei"),
        ([[0.0], [1.0]], [0, 1], {"class_weight": {5: 1.0}}, ValueError, r"\[5\]"),
        ([[0.0], [1.0]], [{"a": 1}, {"b": 2}], {}, ValueError, "Unknown label type"),
        ([[0.0], [1.0]], [0, 1], {"activation": "nope"}, ValueError, "activation"),
        ([[0.0], [1.0]], [0, 1], {"optimizer": "nope"}, ValueError, "optimizer"),
        ([[0.0], [1.0]], [0, 1], {"hidden_layer_sizes": (4, -1)}, ValueError, "positive"),
        ([[0.0], [1.0]], [0, 1], {"hidden_layer_sizes": (4.5,)}, TypeError, "integers"),
        ([[0.0], [1.0]], [0, 1], {"task": "ranking"}, ValueError, "task"),
        ([[0.0], [1.0]], [0, 1], {"cv": 3}, ValueError, "cv=3"),
        # Folds that are not a partition left rows at zero (held out by no fold), or kept
        # the last fold's embedding; no folds at all returned None.
        (FOUR, [0, 1] * 2, {"cv": ShuffleSplit(2, random_state=0)}, ValueError, "partition"),
        (FOUR, [0, 1] * 2, {"cv": [(ARANGE[:2], ARANGE[2:])]}, ValueError, "row 0 is held"),
        (FOUR, [0, 1] * 2, {"cv": [(ARANGE[2:], ARANGE)] * 2}, ValueError, "by 2 folds"),
        (FOUR, [0, 1] * 2, {"cv": []}, ValueError, "gave no folds"),
        (FOUR, [0, 1] * 2, {"cv": [(ARANGE[:0], ARANGE)]}, ValueError, "no training rows"),
    ],
)
def test_bad_input_is_rejected_before_training(X, y, params, error, match):
    recorder = Recorder()
    estimator = embedder(callbacks=[recorder], **params)
    with pytest.raises(error, match=match):
        estimator.fit_transform(X, y)
    assert not recorder.started


def test_wrong_number_of_features_at_transform(fitted):
    estimator, X, _ = fitted
    with pytest.raises(ValueError, match="features"):
        estimator.transform(X[:, :4])
    with pytest.raises(ValueError, match="features"):
        estimator.predict(X[:, :4])


def test_zero_weight_leaving_one_class_is_an_error(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="class"):
        embedder().fit(X, y, sample_weight=(y == 1).astype(float))


# -- reproducibility and persistence -----------------------------------------------------


def test_fits_are_deterministic_and_leave_global_random_state_alone(blobs):
    X, y = blobs
    state = np.random.get_state()[1].copy()
    first = embedder(dropout=0.2).fit(X, y).transform(X)
    second = embedder(dropout=0.2).fit(X, y).transform(X)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(state, np.random.get_state()[1])
    other = embedder(dropout=0.2, random_state=1).fit(X, y).transform(X)
    assert not np.allclose(first, other)


def test_transform_does_not_depend_on_the_batch(fitted):
    estimator, X, _ = fitted
    whole = estimator.transform(X)
    np.testing.assert_array_equal(whole[5:9], estimator.transform(X[5:9]))


@pytest.mark.parametrize("custom", [False, True], ids=["built-in", "user-model"])
def test_pickle_round_trip_in_a_fresh_process(blobs, tmp_path, custom):
    X, y = blobs
    params = {"model": _user_model()} if custom else {"skip_connections": True}
    estimator = embedder(hidden_layer_sizes=(8, 8), **params).fit(X, y)
    path = tmp_path / "embedder.pkl"
    path.write_bytes(pickle.dumps(estimator))
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import pickle, numpy as np
        estimator = pickle.loads(open({str(path)!r}, "rb").read())
        X = np.load({str(tmp_path / "X.npy")!r})
        np.save({str(tmp_path / "embedding.npy")!r}, estimator.transform(X))
        np.save({str(tmp_path / "proba.npy")!r}, estimator.predict_proba(X))
        """
    )
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    np.testing.assert_array_equal(np.load(tmp_path / "embedding.npy"), estimator.transform(X))
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), estimator.predict_proba(X))


def test_auto_input_noise_for_classification_only(blobs):
    X, y = blobs
    classifier = embedder(hidden_layer_sizes=(8,)).fit(X, y)
    noise = [layer for layer in classifier.model_.layers if layer.name == "input_noise"]
    assert [layer.stddev for layer in noise] == [0.3]
    regressor = embedder(hidden_layer_sizes=(8,), task="regression").fit(X, y.astype(float))
    assert "input_noise" not in [layer.name for layer in regressor.model_.layers]
    explicit = embedder(hidden_layer_sizes=(8,), noise_stddev=0.0).fit(X, y)
    assert "input_noise" not in [layer.name for layer in explicit.model_.layers]


def test_label_smoothing_changes_the_classification_loss(blobs):
    X, y = blobs
    smooth = embedder(hidden_layer_sizes=(8,)).fit(X, y)
    sharp = embedder(hidden_layer_sizes=(8,), label_smoothing=0.0).fit(X, y)
    # Same seed, same network: only the targets of the cross-entropy differ.
    assert smooth.history_["loss"][0] != pytest.approx(sharp.history_["loss"][0], rel=1e-6)
    assert smooth.score(X, y) > 0.8


@pytest.mark.parametrize(
    "labels, types",
    [
        ([1, True, "1", 1.0, 0, False], "boolean and number and string"),
        (["a", 1, "a", 1, "a", 1], "number and string"),
        ([1, True, 0, False, 1, 0], "boolean and number"),
    ],
)
def test_mixed_label_types_are_refused(labels, types):
    X = np.random.RandomState(0).normal(size=(6, 3))
    y = np.array(labels, dtype=object)
    with pytest.raises(ValueError, match=f"Mix of label input types \\({types}\\)"):
        SupervisedEmbeddingTransformer(**FAST).fit(X, y)


@pytest.mark.parametrize(
    "y, classes",
    [
        (pd.Series([True, False] * 30, dtype="boolean"), np.array([False, True])),
        (pd.Series([3, 5, 7] * 20, dtype="Int64"), np.array([3, 5, 7])),
        (np.array([True, False] * 30, dtype=object), np.array([False, True])),
        (np.array([2, 4] * 30, dtype=object), np.array([2, 4])),
    ],
    ids=["pandas-boolean", "pandas-Int64", "object-bools", "object-ints"],
)
def test_labels_keep_their_values_and_types(y, classes):
    X = np.random.RandomState(0).normal(size=(60, 3))
    model = SupervisedEmbeddingTransformer(**FAST).fit(X, y)
    np.testing.assert_array_equal(model.classes_, classes)
    assert model.classes_.dtype == classes.dtype
    assert model.predict(X).dtype == classes.dtype


def test_pandas_boolean_target_with_missing_labels():
    X = np.random.RandomState(0).normal(size=(60, 3))
    y = pd.Series([True, None, False] * 20, dtype="boolean")
    model = SupervisedEmbeddingTransformer(reconstruction_weight=0.5, **FAST).fit(X, y)
    assert model.classes_.tolist() == [False, True]


@pytest.mark.parametrize("size", [1e300, 1.7e308])
def test_a_target_of_huge_values_is_standardised(size):
    # Regression: the squares of values above about 1e154 overflowed, and a target
    # whose spread float64 holds was refused as "too large to standardise".
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = np.linspace(-1, 1, 40) * size
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = SupervisedEmbeddingTransformer(task="regression", **FAST).fit(X, y)
        predictions = model.predict(X)
    assert np.isfinite(predictions).all()
    assert np.abs(predictions).max() < size
    assert np.abs(predictions).max() > size / 100


def test_negative_sample_weight_is_refused():
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = np.arange(40) % 2
    weights = np.ones(40)
    weights[3] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        SupervisedEmbeddingTransformer(**FAST).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("labels", [[1, "a"] * 10, [2, True] * 10, [1, True] * 10])
def test_mixed_label_types_in_a_list_are_refused(labels):
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="Mix of label input types"):
        SupervisedEmbeddingTransformer(**FAST).fit(X, labels)


def test_list_labels_with_missing_entries_are_not_a_mix():
    X = np.random.RandomState(0).normal(size=(30, 3))
    y = ["a", None, "b"] * 10
    model = SupervisedEmbeddingTransformer(reconstruction_weight=0.5, **FAST).fit(X, y)
    assert model.classes_.tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "y, message",
    [
        ([10**400 * k for k in range(20)], "too large for float64"),
        (3e-170 * np.arange(20.0), "too close together to standardise"),
    ],
    ids=["beyond-float64", "spread-underflows"],
)
def test_regression_targets_that_cannot_be_standardised(y, message):
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=message):
        SupervisedEmbeddingTransformer(task="regression", **FAST).fit(X, y)


def test_tiny_but_representable_spread_is_learned():
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = 1e-150 * X[:, 0]
    model = SupervisedEmbeddingTransformer(task="regression", **FAST).fit(X, y)
    assert 1e-152 < np.abs(model.predict(X)).max() < 1e-148


@pytest.mark.parametrize("value", [1e300, 1e-50])
def test_sample_weights_beyond_float32_are_refused(value):
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="sample_weight holds values that float32"):
        SupervisedEmbeddingTransformer(**FAST).fit(
            X, np.arange(20) % 2, sample_weight=np.full(20, value)
        )


@pytest.mark.parametrize("y", [np.arange(60) % 2, np.arange(60) % 3], ids=["binary", "multiclass"])
def test_model_checkpoint_saves_classification_networks(y, tmp_path):
    import keras

    X = np.random.RandomState(0).normal(size=(60, 3))
    checkpoint = keras.callbacks.ModelCheckpoint(tmp_path / "network.keras")
    SupervisedEmbeddingTransformer(callbacks=[checkpoint], **FAST).fit(X, y)
    assert (tmp_path / "network.keras").stat().st_size > 0


def test_cross_fitting_warns_once_for_the_folds_that_ran_out_of_epochs(blobs):
    # Each fold's network warned on its own, with its own best epoch: five warnings
    # that differed and so were all shown, none saying which fold.
    from sklearn.exceptions import ConvergenceWarning

    X, y = blobs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        embedder(cv=3, epochs=2, early_stopping=True).fit_transform(X, y)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    messages = [str(w.message) for w in convergence]
    assert len(messages) == 2, messages
    assert "in 3 of the 3 cross-fitting folds" in messages[0]
    assert [w.filename for w in convergence] == [__file__] * 2
