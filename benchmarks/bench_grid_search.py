"""Wall time of a 12-fit grid search: in one process, in joblib's loky processes, on Dask.

``GridSearchCV`` fits ``KerasAutoencoderTransformer(n_components=32,
hidden_layer_sizes=(512, 256))``, the 784-512-256-32 autoencoder, at four settings
(``learning_rate`` 1e-3 or 3e-3, ``l2`` 0 or 1e-4, so two architectures) on three folds
of MNIST-shaped rows (:func:`datasets.mnist_like`, 6,000 by default), a fixed number of
epochs each, scored by the estimator's own ``score`` (minus the reconstruction MSE) and
without the final refit: twelve fits. The same search runs three ways:

* **one process**: ``n_jobs=1``;
* **loky, 2 processes**: ``n_jobs=2`` with joblib's default backend;
* **Dask, 2 workers**: ``n_jobs=-1`` inside ``joblib.parallel_backend("dask")`` under a
  ``distributed.Client`` of a ``LocalCluster(n_workers=2, threads_per_worker=1)``.

The first round is cold: loky's and Dask's worker processes start, import TensorFlow
and trace each architecture, while this process has imported TensorFlow and fitted a
small network before (the cluster's own start-up is timed apart). Later rounds reuse
the same workers and rotate the order of the three ways. The script prints every wall
time, the median speed-up of each way over one process in the warm rounds (and the
cold one), and whether all searches gave the same scores bit for bit, as they must.

TensorFlow sizes its thread pool to the machine in every process, so two workers on a
machine run two pools; ``--worker-tf-threads`` sets ``TF_NUM_INTRAOP_THREADS`` in the
workers of both kinds to see what splitting the cores between them changes.

Run ``python benchmarks/bench_grid_search.py`` (10 to 15 minutes on two CPU cores; needs
the dask extra) or add ``--quick`` for a smoke run.
"""

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import joblib
import numpy as np
from datasets import mnist_like
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold

from ae_reduce import KerasAutoencoderTransformer

# Fixed epochs are the point here, not convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

GRID = {"learning_rate": [1e-3, 3e-3], "l2": [0.0, 1e-4]}
N_FOLDS = 3
WAYS = ("one process", "loky, 2 processes", "Dask, 2 workers")


def make_search(args, n_jobs):
    estimator = KerasAutoencoderTransformer(
        n_components=32,
        hidden_layer_sizes=(512, 256),
        epochs=args.epochs,
        device=args.device,
        random_state=0,
    )
    folds = KFold(N_FOLDS, shuffle=True, random_state=0)
    return GridSearchCV(estimator, GRID, cv=folds, refit=False, n_jobs=n_jobs)


def split_scores(search):
    results = search.cv_results_
    return np.stack([results[f"split{i}_test_score"] for i in range(N_FOLDS)])


def run(way, args, X):
    """Fit one search the given way; return its wall time and its scores per split."""
    start = time.perf_counter()
    if way == "one process":
        search = make_search(args, 1).fit(X)
    elif way == "loky, 2 processes":
        search = make_search(args, 2).fit(X)
    else:
        with joblib.parallel_backend("dask"):
            search = make_search(args, -1).fit(X)
    return time.perf_counter() - start, split_scores(search)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=6000, help="MNIST-shaped rows searched")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per fit")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the first cold")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    parser.add_argument(
        "--worker-tf-threads",
        type=int,
        default=None,
        help="TF_NUM_INTRAOP_THREADS in the loky and Dask workers (default: TensorFlow's)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run, figures meaningless")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.epochs, args.rounds = 600, 2, 2

    from distributed import Client, LocalCluster

    X, _ = mnist_like(args.rows, random_state=0)
    # This process imports TensorFlow and traces once before any timing.
    KerasAutoencoderTransformer(4, hidden_layer_sizes=(8,), epochs=1).fit(X[:200])

    worker_env = {}
    if args.worker_tf_threads is not None:
        worker_env["TF_NUM_INTRAOP_THREADS"] = str(args.worker_tf_threads)
        # loky's workers inherit this process's environment; TensorFlow is already
        # running here, so the setting reaches only them.
        os.environ.update(worker_env)

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, env=worker_env
    )
    client = Client(cluster)
    cluster_start = time.perf_counter() - start

    times = {way: [] for way in WAYS}
    scores = {way: [] for way in WAYS}
    try:
        for round_ in range(args.rounds):
            shift = round_ % len(WAYS)
            for way in WAYS[shift:] + WAYS[:shift]:
                seconds, split = run(way, args, X)
                times[way].append(seconds)
                scores[way].append(split)
                print(f"round {round_} {way:>18}: {seconds:6.1f} s", flush=True)
    finally:
        client.close()
        cluster.close()

    n_fits = len(GRID["learning_rate"]) * len(GRID["l2"]) * N_FOLDS
    threads = args.worker_tf_threads or "TensorFlow's default"
    print(
        f"\n{n_fits} fits of the 784-512-256-32 autoencoder, {args.rows} rows x 784, "
        f"{N_FOLDS} folds, {args.epochs} epochs, device={args.device}, "
        f"{os.cpu_count()} CPUs, worker TensorFlow threads: {threads}"
    )
    print(f"LocalCluster(n_workers=2, threads_per_worker=1) start: {cluster_start:.1f} s")
    baseline = times["one process"]
    for way in WAYS:
        warm = times[way][1:]
        line = f"{way:>18}: cold {times[way][0]:6.1f} s"
        if warm:
            line += f", warm {statistics.median(warm):6.1f} s (median of {len(warm)})"
        if way != "one process":
            cold_ratio = baseline[0] / times[way][0]
            line += f"; speed-up over one process: cold {cold_ratio:.2f}"
            if warm:
                ratios = [ours / theirs for ours, theirs in zip(baseline[1:], warm, strict=True)]
                line += f", warm {statistics.median(ratios):.2f}"
        print(line)
    reference = scores["one process"][0]
    for way in WAYS:
        same = all(np.array_equal(split, reference) for split in scores[way])
        largest = max(float(np.abs(split - reference).max()) for split in scores[way])
        print(
            f"{way:>18}: split scores equal to the first one-process search's, bit for bit: "
            f"{same} (largest difference {largest:.2g})"
        )


if __name__ == "__main__":
    main()
