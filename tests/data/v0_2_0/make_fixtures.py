"""Write the saved-model fixtures of ae_reduce 0.2.0 (the flat module layout).

Run with ae_reduce 0.2.0 installed, from this folder: ``python make_fixtures.py``.
It writes one pickle and one skops file per estimator, with the inputs and the
outputs the loaded models must reproduce (``expected.npz``). The suite loads them
with the current layout (``tests/test_persistence.py``).
"""

import pickle

import numpy as np
import skops.io as sio
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import ae_reduce
from ae_reduce import (
    TSNE,
    AutoScaler,
    EmbeddingIndex,
    KerasAutoencoderTransformer,
    ParametricTSNE,
    SupervisedEmbeddingTransformer,
    TokenEmbeddingTransformer,
    TokenSequencer,
)

SMALL = {"hidden_layer_sizes": (8,), "epochs": 2, "random_state": 0}


def models(X, y):
    texts = np.array(["the red fox", "a blue bird", "the red bird", "a blue fox"] * 25)
    return {
        "autoencoder": (KerasAutoencoderTransformer(n_components=2, **SMALL).fit(X), X),
        "supervised": (SupervisedEmbeddingTransformer(2, cv=None, **SMALL).fit(X, y), X),
        "pipeline": (
            make_pipeline(
                StandardScaler(), AutoScaler(), SupervisedEmbeddingTransformer(2, cv=None, **SMALL)
            ).fit(X, y),
            X,
        ),
        "tokens": (
            make_pipeline(
                TokenSequencer(), TokenEmbeddingTransformer(2, epochs=2, random_state=0)
            ).fit(texts, texts == texts[0]),
            texts,
        ),
        "parametric": (
            ParametricTSNE(
                hidden_layer_sizes=(8,), n_iter=20, early_exaggeration_iter=5, random_state=0
            ).fit(X),
            X,
        ),
        "index": (EmbeddingIndex(n_neighbors=3).fit(X), X),
        "tsne": (
            TSNE(perplexity=5, n_iter=20, early_exaggeration_iter=5, random_state=0).fit(X[:60]),
            X,
        ),
    }


def main():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200].astype(np.float32), y[:200]
    expected = {}
    for name, (model, inputs) in models(X, y).items():
        with open(f"{name}.pkl", "wb") as file:
            pickle.dump(model, file)
        if name != "tsne":  # skops cannot rebuild openTSNE's embedding (an ndarray subclass)
            sio.dump(model, f"{name}.skops")
        if name == "index":
            expected[name] = model.kneighbors(inputs[:20])[1]
        else:
            expected[name] = model.transform(inputs[:20])
    np.savez("expected.npz", X=X[:20], version=ae_reduce.__version__, **expected)


if __name__ == "__main__":
    main()
