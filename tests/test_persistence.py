"""Pickle and joblib round trips, in the same and in a fresh process."""

import copy
import os
import pickle
import pickletools
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import ae_reduce
from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

SMALL = {"hidden_layer_sizes": (16,), "epochs": 3, "random_state": 0}


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return KerasAutoencoderTransformer(
        n_components=3, batch_normalization=True, dropout=0.1, **SMALL
    ).fit(X)


def test_pickle_round_trip_in_process(fitted, digits):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(
        restored.inverse_transform(fitted.transform(X)),
        fitted.inverse_transform(fitted.transform(X)),
    )
    assert restored.history_ == fitted.history_
    assert restored.get_params() == fitted.get_params()
    deep = copy.deepcopy(fitted)
    np.testing.assert_array_equal(deep.transform(X), fitted.transform(X))


def test_pickles_hold_no_keras_objects(fitted):
    payload = pickle.dumps(fitted)
    assert b"keras" not in payload


def test_unpickled_model_can_be_refitted(fitted, digits):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.fit(X[:200]).transform(X[:5]).shape == (5, 3)


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_round_trip_in_a_fresh_process_without_gpu(how, fitted, digits, tmp_path):
    X, _ = digits
    path = tmp_path / f"model.{how}"
    if how == "pickle":
        path.write_bytes(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, path)
    load = (
        f"import pickle, joblib\nhow, path = {how!r}, {str(path)!r}\n"
        "model = pickle.load(open(path, 'rb')) if how == 'pickle' else joblib.load(path)"
    )
    np.testing.assert_array_equal(_fresh_transform(load, X, tmp_path), fitted.transform(X))


def _fresh_transform(load, X, tmp_path):
    """``model.transform(X)`` in a new process without a GPU, after the code ``load``
    has set ``model`` there."""
    rows, codes = str(tmp_path / "X.npy"), str(tmp_path / "Z.npy")
    np.save(rows, X)
    script = f"import numpy as np\n{load}\nnp.save({codes!r}, model.transform(np.load({rows!r})))\n"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    return np.load(codes)


def _imported_names(payload):
    """Module-qualified names that unpickling ``payload`` would import."""
    names, strings = set(), []
    for opcode, arg, _ in pickletools.genops(payload):
        if opcode.name in {"SHORT_BINUNICODE", "BINUNICODE", "UNICODE"}:
            strings.append(arg)
        elif opcode.name == "STACK_GLOBAL":
            names.add(".".join(strings[-2:]))
        elif opcode.name == "GLOBAL":
            names.add(arg.replace(" ", "."))
    return names


def test_callbacks_do_not_keep_the_shared_trainer(digits):
    import keras

    X, _ = digits
    stopping = keras.callbacks.EarlyStopping(patience=1)
    model = KerasAutoencoderTransformer(n_components=2, callbacks=[stopping], **SMALL).fit(X)
    assert stopping.model is None
    names = _imported_names(pickle.dumps(model))
    # The callback itself is configuration; no Keras model or layer may come with it.
    assert not any("models" in name or "layers" in name for name in names), names


def _custom_network():
    import keras

    inputs = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


def test_custom_model_pickles_as_configuration(digits):
    X, y = digits
    model = SupervisedEmbeddingTransformer(
        model=_custom_network(), epochs=2, cv=None, random_state=0
    ).fit(X, y)
    for estimator in (model, clone(model)):
        names = _imported_names(pickle.dumps(estimator))
        assert not any(name.startswith("keras") for name in names), names
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))
    np.testing.assert_array_equal(restored.fit(X, y).transform(X), model.transform(X))


def test_pickles_record_the_version(fitted):
    state = fitted.__getstate__()
    assert state["_ae_reduce_version"] == ae_reduce.__version__


def test_incompatible_pickle_names_both_versions(fitted):
    state = fitted.__getstate__()
    state["_ae_reduce_version"] = "0.0.1"
    state["_network_config"] = {**state["_network_config"], "removed_option": 1}
    restored = KerasAutoencoderTransformer.__new__(KerasAutoencoderTransformer)
    with pytest.raises(
        ValueError,
        match=r"pickled by ae_reduce 0\.0\.1 .* ae_reduce " + re.escape(ae_reduce.__version__),
    ):
        restored.__setstate__(state)


def test_unpickling_loads_keras_through_the_package(fitted, tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted))
    # A process whose first contact with TensorFlow is unpickling still gets the
    # package's configuration (here visible as the default C++ log level).
    script = (
        "import os, pickle\n"
        f"pickle.load(open({str(path)!r}, 'rb'))\n"
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"
    assert "oneDNN" not in out.stderr


@pytest.fixture(scope="module")
def skops_models(digits):
    X, y = digits
    labels = np.array(["even", "odd"])[y % 2]
    return {
        "autoencoder": KerasAutoencoderTransformer(n_components=2, **SMALL).fit(X),
        "supervised": SupervisedEmbeddingTransformer(2, cv=None, **SMALL).fit(X, labels),
        "pipeline": make_pipeline(
            StandardScaler(), SupervisedEmbeddingTransformer(2, cv=None, **SMALL)
        ).fit(X, y),
    }


@pytest.mark.parametrize("name", ["autoencoder", "supervised", "pipeline"])
def test_skops_round_trip_in_a_fresh_process(name, skops_models, digits, tmp_path):
    sio = pytest.importorskip("skops.io")
    from skops.io.exceptions import UntrustedTypesFoundException

    X, _ = digits
    model = skops_models[name]
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and all(name.startswith("ae_reduce.") for name in untrusted), untrusted
    load = (
        f"import skops.io as sio\npath = {str(path)!r}\n"
        "model = sio.load(path, trusted=sio.get_untrusted_types(file=path))"
    )
    np.testing.assert_array_equal(_fresh_transform(load, X, tmp_path), model.transform(X))
    with pytest.raises(UntrustedTypesFoundException):
        sio.load(path)


def test_pickle_without_a_parameter_of_this_version_names_the_versions(fitted):
    state = fitted.__getstate__()
    del state["_ae_reduce_version"], state["init"]
    restored = KerasAutoencoderTransformer.__new__(KerasAutoencoderTransformer)
    with pytest.raises(ValueError, match=r"ae_reduce 0\.1\.0 .* no parameter 'init'"):
        restored.__setstate__(state)


def test_pickle_without_network_configuration_names_the_versions(fitted):
    state = fitted.__getstate__()
    del state["_network_config"]
    restored = KerasAutoencoderTransformer.__new__(KerasAutoencoderTransformer)
    with pytest.raises(ValueError, match="network configuration is not compatible"):
        restored.__setstate__(state)


def test_token_network_round_trip_in_a_fresh_process(tmp_path):
    from ae_reduce import TokenEmbeddingTransformer

    rng = np.random.default_rng(0)
    ids = rng.integers(0, 40, size=(60, 9))
    topics = (ids[:, 0] % 2).astype(int)
    model = TokenEmbeddingTransformer(
        2, embedding_dim=4, hidden_layer_sizes=(8,), epochs=2, cv=None, random_state=0
    ).fit(ids, topics)
    payload = pickle.dumps(model)
    assert b"keras" not in payload
    path = tmp_path / "model.pkl"
    path.write_bytes(payload)
    load = f"import pickle\nmodel = pickle.load(open({str(path)!r}, 'rb'))"
    # Wider than in fit and with ids beyond the vocabulary: the restored network takes both.
    wide = np.hstack([ids, np.full((60, 3), 1000)])
    np.testing.assert_array_equal(_fresh_transform(load, wide, tmp_path), model.transform(wide))


FIXTURES_0_2_0 = os.path.join(os.path.dirname(__file__), "data", "v0_2_0")
SAVED_0_2_0 = ["autoencoder", "supervised", "pipeline", "tokens", "parametric", "tsne", "index"]

#: The class names that skops files of 0.2.0 record, which users list as trusted.
TRUSTED_0_2_0 = [
    "ae_reduce._autoencoder.KerasAutoencoderTransformer",
    "ae_reduce._supervised.SupervisedEmbeddingTransformer",
    "ae_reduce._scaling.AutoScaler",
    "ae_reduce._sequencer.TokenSequencer",
    "ae_reduce._tokens.TokenEmbeddingTransformer",
    "ae_reduce._parametric.ParametricTSNE",
    "ae_reduce._tsne.TSNE",
    "ae_reduce._index.EmbeddingIndex",
]


def _outputs_0_2_0(name, model, expected):
    X = expected["X"]
    if name == "index":
        return model.kneighbors(X)[1]
    if name == "tokens":
        texts = np.array(["the red fox", "a blue bird", "the red bird", "a blue fox"] * 5)
        return model.transform(texts)
    return model.transform(X)


@pytest.mark.parametrize("name", SAVED_0_2_0)
def test_pickles_of_0_2_0_load_and_transform_alike(name):
    expected = np.load(os.path.join(FIXTURES_0_2_0, "expected.npz"))
    with open(os.path.join(FIXTURES_0_2_0, f"{name}.pkl"), "rb") as file:
        model = pickle.load(file)
    np.testing.assert_allclose(
        _outputs_0_2_0(name, model, expected), expected[name], rtol=1e-5, atol=1e-5
    )


# TSNE keeps openTSNE's embedding, an ndarray subclass that skops cannot rebuild.
@pytest.mark.parametrize("name", [name for name in SAVED_0_2_0 if name != "tsne"])
def test_skops_files_of_0_2_0_load_with_their_trusted_names(name):
    sio = pytest.importorskip("skops.io")
    expected = np.load(os.path.join(FIXTURES_0_2_0, "expected.npz"))
    path = os.path.join(FIXTURES_0_2_0, f"{name}.skops")
    assert set(sio.get_untrusted_types(file=path)) <= set(TRUSTED_0_2_0)
    model = sio.load(path, trusted=TRUSTED_0_2_0)
    np.testing.assert_allclose(
        _outputs_0_2_0(name, model, expected), expected[name], rtol=1e-5, atol=1e-5
    )


def test_new_skops_files_name_classes_as_0_2_0_did(skops_models, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(skops_models["pipeline"], path)
    assert set(sio.get_untrusted_types(file=path)) <= set(TRUSTED_0_2_0)
