"""t-SNE maps with four front ends: time and quality on 20,000+ image-like rows.

The front ends are t-SNE on the raw pixels, on PCA-50, on the autoencoder's code and
on the supervised embedding. For each, the script reports

- the wall time of the reducer, of t-SNE, and of placing held-out rows on the map;
- the accuracy of a 10-nearest-neighbour classifier on the 2-D map, trained on the
  map's training rows and scored on held-out rows placed with ``transform``;
- the trustworthiness (:func:`sklearn.manifold.trustworthiness`, 10 neighbours) of the
  map against the pixels, on a random subsample of training rows;

and the ratios of each to t-SNE on the raw pixels.

The data needs no download: scikit-learn's 1,797 8x8 digits are upsampled to 16x16 and
augmented by random rotation, scaling, shift, a smooth elastic distortion and pixel
noise. The held-out rows are augmentations of digits that none of the training rows
came from, so placing them tests generalisation, not recognition of a near copy.

Run ``python benchmarks/bench_tsne.py`` (about 10 minutes on 2 cores) or with
``--n-train 3000 --n-test 500`` for a quick look.
"""

import argparse
import os
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from datasets import augmented_digits

from ae_reduce import (
    TSNE,
    KerasAutoencoderTransformer,
    SupervisedEmbeddingTransformer,
)

SIDE = 16


def make_images(images, labels, n_rows, seed):
    """`n_rows` augmented 16x16 images drawn from the given 8x8 digits."""
    return augmented_digits(images, labels, n_rows, side=SIDE, random_state=seed)


def front_ends(random_state, epochs):
    """Reducer pipelines (None for raw pixels), keyed by the name in the report."""
    network = {"hidden_layer_sizes": (256, 128), "random_state": random_state}
    return {
        "raw pixels": None,
        "PCA-50": PCA(n_components=50, random_state=random_state),
        "autoencoder-32": make_pipeline(
            StandardScaler(),
            KerasAutoencoderTransformer(n_components=32, epochs=epochs, **network),
        ),
        "supervised-16": make_pipeline(
            StandardScaler(),
            SupervisedEmbeddingTransformer(n_components=16, epochs=epochs, cv=3, **network),
        ),
    }


def run(name, reducer, data, args):
    X_train, y_train, X_test, y_test, subsample = data
    start = time.perf_counter()
    if reducer is None:
        codes_train, codes_test = X_train, X_test
    else:
        codes_train = reducer.fit_transform(X_train, y_train)
        codes_test = reducer.transform(X_test)
    reducer_seconds = time.perf_counter() - start

    tsne = TSNE(random_state=args.random_state, n_jobs=args.n_jobs)
    start = time.perf_counter()
    Z_train = tsne.fit_transform(codes_train)
    tsne_seconds = time.perf_counter() - start
    start = time.perf_counter()
    Z_test = tsne.transform(codes_test)
    place_seconds = time.perf_counter() - start

    knn = KNeighborsClassifier(n_neighbors=10).fit(Z_train, y_train)
    result = {
        "name": name,
        "reducer_s": reducer_seconds,
        "tsne_s": tsne_seconds,
        "place_s": place_seconds,
        "total_s": reducer_seconds + tsne_seconds + place_seconds,
        "knn": knn.score(Z_test, y_test),
        "trust": trustworthiness(X_train[subsample], Z_train[subsample], n_neighbors=10),
    }
    print(
        f"{name:15s} reducer {reducer_seconds:6.1f}s  t-SNE {tsne_seconds:6.1f}s  "
        f"place {place_seconds:5.1f}s  kNN {result['knn']:.3f}  "
        f"trustworthiness {result['trust']:.3f}",
        flush=True,
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=2_000)
    parser.add_argument("--n-trust", type=int, default=2_000, help="rows for trustworthiness")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args()

    digits = load_digits()
    train_digits, test_digits, train_labels, test_labels = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    start = time.perf_counter()
    X_train, y_train = make_images(train_digits, train_labels, args.n_train, seed=1)
    X_test, y_test = make_images(test_digits, test_labels, args.n_test, seed=2)
    rng = np.random.default_rng(3)
    subsample = rng.choice(args.n_train, size=min(args.n_trust, args.n_train), replace=False)
    print(
        f"{args.n_train} training and {args.n_test} held-out {SIDE}x{SIDE} images "
        f"({X_train.shape[1]} features) made in {time.perf_counter() - start:.1f}s",
        flush=True,
    )
    data = (X_train, y_train, X_test, y_test, subsample)

    results = [
        run(name, reducer, data, args)
        for name, reducer in front_ends(args.random_state, args.epochs).items()
    ]
    raw = results[0]
    print("\n| front end | total time | x raw | kNN accuracy | x raw | trustworthiness | x raw |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['name']} | {r['total_s']:.1f} s | {r['total_s'] / raw['total_s']:.2f} "
            f"| {r['knn']:.3f} | {r['knn'] / raw['knn']:.3f} "
            f"| {r['trust']:.3f} | {r['trust'] / raw['trust']:.3f} |"
        )


if __name__ == "__main__":
    main()
