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

``--real`` runs the comparison on real data sets instead (``real_datasets.py``: MNIST
digits, blood-cell expression, tables with units; the ``bench`` extra installs their
packages). For each, the map that a user would otherwise draw, openTSNE on ``PCA(50)``
of the raw values (fewer components for narrower data), is compared in the same run
with ``make_tsne_pipeline()`` on the raw values with its defaults and with
``ae-reduce embed --tsne`` on the same rows written to a CSV file: the 10-NN accuracy
of each map (5-fold cross-validation on the map's coordinates) and the wall time, as
ratios to the baseline (goals: accuracy >= 1.0x, time <= 1.5x). ``--rounds`` repeats
the three, in rotated order, and reports medians. ``--scalers`` adds rows for
``make_tsne_pipeline(scaler=...)`` with other scalers.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from datasets import augmented_digits

from ae_reduce import (
    TSNE,
    AutoScaler,
    KerasAutoencoderTransformer,
    SupervisedEmbeddingTransformer,
    make_tsne_pipeline,
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


def map_accuracy(Z, y):
    """10-NN accuracy on a map, 5-fold stratified cross-validation on its coordinates."""
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_score(KNeighborsClassifier(10), Z, y, cv=folds).mean()


def baseline_map(X, seed, n_jobs):
    """openTSNE on PCA-50 of the raw values, as a user would draw the map."""
    import openTSNE

    codes = PCA(min(50, X.shape[1]), random_state=seed).fit_transform(X)
    return np.asarray(openTSNE.TSNE(random_state=seed, n_jobs=n_jobs).fit(codes))


def pipeline_map(X, seed, n_jobs, scaler="auto"):
    pipeline = make_tsne_pipeline(shape=X.shape, random_state=seed, n_jobs=n_jobs, scaler=scaler)
    return pipeline.fit_transform(X)


def command_line_map(X, y, seed, folder):
    """``ae-reduce embed --tsne`` on the rows written to a CSV file, as a new process."""
    import pandas as pd

    data, output = Path(folder) / "data.csv", Path(folder) / "map.csv"
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["label"] = y
    frame.to_csv(data, index=False)
    command = [str(Path(sys.executable).parent / "ae-reduce"), "embed", str(data)]
    command += ["--label-column", "label", "--tsne", "-o", str(output), "-q"]
    command += ["--random-state", str(seed)]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    return pd.read_csv(output)[["tsne1", "tsne2"]].to_numpy(), seconds


def real_data(args):
    from real_datasets import REAL_DATASETS

    names = args.datasets or list(REAL_DATASETS)
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for name in names:
        dataset = REAL_DATASETS[name]()
        X, y = dataset.X, dataset.y
        scaler = AutoScaler().fit(X).kind_
        print(
            f"\n{name} ({dataset.kind}): {X.shape[0]} rows x {X.shape[1]} columns; "
            f"AutoScaler chooses {scaler}",
            flush=True,
        )
        runs = {"baseline": [], "pipeline": [], "command line": []}
        extra = {f"scaler={other}": [] for other in args.scalers}
        order = list(runs)
        with tempfile.TemporaryDirectory() as folder:
            for round_ in range(args.rounds):
                for what in order[round_ % 3 :] + order[: round_ % 3]:
                    start = time.perf_counter()
                    if what == "baseline":
                        Z = baseline_map(X, args.random_state, args.n_jobs)
                    elif what == "pipeline":
                        Z = pipeline_map(X, args.random_state, args.n_jobs)
                    if what == "command line":
                        # The whole process (start-up included), not the CSV writing.
                        Z, seconds = command_line_map(X, y, args.random_state, folder)
                    else:
                        seconds = time.perf_counter() - start
                    runs[what].append((map_accuracy(Z, y), seconds))
                    print(
                        f"  round {round_ + 1} {what:13s} kNN {runs[what][-1][0]:.3f} "
                        f"{seconds:6.1f} s",
                        flush=True,
                    )
            for other in args.scalers:
                start = time.perf_counter()
                Z = pipeline_map(X, args.random_state, args.n_jobs, scaler=other)
                extra[f"scaler={other}"].append((map_accuracy(Z, y), time.perf_counter() - start))
        base_knn = np.median([r[0] for r in runs["baseline"]])
        base_s = np.median([r[1] for r in runs["baseline"]])
        for what, results in {**runs, **extra}.items():
            knn = np.median([r[0] for r in results])
            seconds = np.median([r[1] for r in results])
            rows.append((name, dataset.kind, what, knn, knn / base_knn, seconds, seconds / base_s))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    print("\n| data set | kind | map | 10-NN accuracy | x baseline | time | x baseline | met |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kind, what, knn, knn_ratio, seconds, time_ratio in rows:
        met = (
            "-"
            if what == "baseline" or what.startswith("scaler=")
            else ("yes" if knn_ratio >= 1.0 and time_ratio <= 1.5 else "no")
        )
        print(
            f"| {name} | {kind} | {what} | {knn:.3f} | {knn_ratio:.3f} | {seconds:.1f} s "
            f"| {time_ratio:.2f} | {met} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="compare on real data sets")
    parser.add_argument("--datasets", type=lambda text: text.split(","), help="with --real")
    parser.add_argument("--rounds", type=int, default=1, help="with --real")
    parser.add_argument(
        "--scalers", type=lambda text: text.split(","), default=[], help="with --real"
    )
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=2_000)
    parser.add_argument("--n-trust", type=int, default=2_000, help="rows for trustworthiness")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args()
    if args.real:
        real_data(args)
        return

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
