"""Parametric t-SNE against openTSNE, ParametricUMAP and t-SNE on the autoencoder's code.

Every method draws a 2-D map of the training rows and then places the held-out rows on
it with ``transform``:

* **openTSNE**: ``openTSNE.TSNE(perplexity=30)``, its other defaults, and
  ``TSNEEmbedding.transform`` for the held-out rows;
* **ParametricUMAP**: ``umap.parametric_umap.ParametricUMAP`` with its defaults;
* **TSNE on AE code**: ``make_tsne_pipeline("autoencoder", scaler=None)``;
* **ParametricTSNE**: ``ae_reduce.ParametricTSNE`` with its defaults.

Columns, per dataset and method:

* **map kNN**: mean accuracy of a 10-nearest-neighbour classifier in stratified 5-fold
  cross-validation on the training map (how well the map keeps the classes apart);
* **trust**: :func:`sklearn.manifold.trustworthiness` (10 neighbours) of the training
  map against the input, on the same random 5,000 training rows (at most) for every
  method;
* **placed kNN**: a 10-nearest-neighbour classifier fitted on the training map, scored
  on the held-out rows placed with ``transform``;
* **rows/s**: held-out rows placed per second of wall time. The held-out rows are tiled
  to at least 50,000 rows and timed after one warm-up call; the two methods whose
  ``transform`` is an openTSNE optimisation (openTSNE, TSNE on AE code) are timed once
  on the plain held-out rows instead, as they place only a few thousand rows a second;
* **fit s**: wall seconds of ``fit``/``fit_transform`` on the training rows, the first
  in the process (just-in-time compilation and graph building included);
* **global RNG**: whether the method changed the process-wide random generators of
  numpy or Python (at construction, or during fit and transform).

Data sets, none downloaded: ``digits`` (scikit-learn's 8x8 digits, stratified 70/30
split, standardised on the training part) and ``mnist`` (``mnist_like_split``: 20,000
training and 5,000 test rows of 28x28 augmented digits, raw pixels in [0, 1]; test rows
come from source digits no training row came from). A goals block compares
ParametricTSNE with openTSNE and ParametricUMAP.

Run ``python benchmarks/bench_parametric.py`` (a few minutes on 2 cores for digits,
about half an hour more for mnist); ``--quick`` is a smoke run of well under a minute
on small subsets (digits only unless ``--datasets`` says otherwise) whose figures mean
nothing. Needs the ``tsne`` and ``bench`` extras (openTSNE, umap-learn).
"""

import argparse
import importlib.metadata
import operator
import os
import random
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from datasets import mnist_like_split
from sklearn.datasets import load_digits
from sklearn.manifold import trustworthiness
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

import ae_reduce

METHODS = ("openTSNE", "ParametricUMAP", "TSNE on AE code", "ParametricTSNE")
UNTILED = {"openTSNE", "TSNE on AE code"}
N_NEIGHBORS = 10
N_TRUST = 5_000
N_PLACE = 50_000
QUICK_SIZES = {"n_train": 400, "n_test": 120}
# Quick runs shorten training through whichever of these parameters an estimator has.
QUICK_TSNE = {"early_exaggeration_iter": 25, "n_iter": 50}
QUICK_NETWORK = {"epochs": 3, "max_epochs": 3}


def load(name, seed, quick):
    """Return X_train, X_test, y_train, y_test of a dataset; small subsets if quick."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
        if quick:
            X_train, y_train = X_train[: QUICK_SIZES["n_train"]], y_train[: QUICK_SIZES["n_train"]]
            X_test, y_test = X_test[: QUICK_SIZES["n_test"]], y_test[: QUICK_SIZES["n_test"]]
        scaler = StandardScaler().fit(X_train)
        return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test
    sizes = QUICK_SIZES if quick else {"n_train": 20_000, "n_test": 5_000}
    return mnist_like_split(**sizes, random_state=seed)


class OpenTSNEMap:
    """openTSNE's fit/transform pair behind the estimator interface of the others."""

    def __init__(self, **params):
        import openTSNE

        self.tsne = openTSNE.TSNE(**params)

    def fit_transform(self, X):
        self.embedding_ = self.tsne.fit(X)
        return np.asarray(self.embedding_)

    def transform(self, X):
        return np.asarray(self.embedding_.transform(X))


def with_existing(estimator, params):
    """Set those of `params` that `estimator` has; the rest do not apply to it."""
    known = estimator.get_params()
    return estimator.set_params(**{k: v for k, v in params.items() if k in known})


def make_method(name, shape, args):
    """Build the unfitted method `name`; None when it is not available."""
    seed, quick = args.seed, args.quick
    if name == "openTSNE":
        return OpenTSNEMap(
            perplexity=30, n_jobs=args.n_jobs, random_state=seed, **(QUICK_TSNE if quick else {})
        )
    if name == "ParametricUMAP":
        from umap.parametric_umap import ParametricUMAP

        # verbose=0 only silences Keras's progress bars.
        return ParametricUMAP(
            random_state=seed, keras_fit_kwargs={"verbose": 0}, **({"n_epochs": 5} if quick else {})
        )
    if name == "TSNE on AE code":
        return ae_reduce.make_tsne_pipeline(
            "autoencoder",
            shape=shape,
            scaler=None,
            random_state=seed,
            n_jobs=args.n_jobs,
            reducer_params={"epochs": 3} if quick else None,
            tsne_params=QUICK_TSNE if quick else None,
        )
    if not hasattr(ae_reduce, "ParametricTSNE"):
        return None
    estimator = ae_reduce.ParametricTSNE(random_state=seed)
    return with_existing(estimator, {**QUICK_TSNE, **QUICK_NETWORK}) if quick else estimator


def rng_states():
    """Snapshot numpy's and Python's global random generators."""
    # The legacy global generator is the one a process-wide seed overwrites.
    name, keys, position, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    return (name, keys.tobytes(), position, has_gauss, cached), random.getstate()


def rng_change(before, after_construction, after_fit):
    if after_construction != before:
        return "changed by constructor"
    return "changed by fit" if after_fit != after_construction else "untouched"


def placement_speed(method, name, X_test, first_seconds, n_place):
    """Rows per second placed by `method.transform` (after the warm-up call)."""
    if name in UNTILED:
        return len(X_test) / first_seconds
    X_many = np.tile(X_test, (-(-n_place // len(X_test)), 1))
    start = time.perf_counter()
    method.transform(X_many)
    return len(X_many) / (time.perf_counter() - start)


def evaluate(name, data, trust_rows, args):
    """Fit one method and return its row of the table (None when it is skipped)."""
    X_train, X_test, y_train, y_test = data
    before = rng_states()
    method = make_method(name, X_train.shape, args)
    after_construction = rng_states()
    if method is None:
        print(f"  {name}: skipped, ae_reduce has no ParametricTSNE", flush=True)
        return None
    start = time.perf_counter()
    Z_train = np.asarray(method.fit_transform(X_train))
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    Z_test = np.asarray(method.transform(X_test))
    first_seconds = time.perf_counter() - start
    rows_per_second = placement_speed(
        method, name, X_test, first_seconds, 5_000 if args.quick else N_PLACE
    )
    rng = rng_change(before, after_construction, rng_states())

    folds = StratifiedKFold(5, shuffle=True, random_state=args.seed)
    knn = KNeighborsClassifier(n_neighbors=N_NEIGHBORS)
    return {
        "map kNN": cross_val_score(knn, Z_train, y_train, cv=folds).mean(),
        "trust": trustworthiness(X_train[trust_rows], Z_train[trust_rows], n_neighbors=N_NEIGHBORS),
        "placed kNN": knn.fit(Z_train, y_train).score(Z_test, y_test),
        "rows/s": rows_per_second,
        "fit s": fit_seconds,
        "global RNG": rng,
    }


def run_dataset(dataset, args):
    data = load(dataset, args.seed, args.quick)
    X_train, X_test = data[0], data[1]
    print(
        f"\n## {dataset}: {len(X_train)} training and {len(X_test)} test rows, "
        f"{X_train.shape[1]} features",
        flush=True,
    )
    rng = np.random.default_rng(args.seed)
    trust_rows = rng.choice(len(X_train), size=min(N_TRUST, len(X_train)), replace=False)
    results = {}
    for name in (m for m in METHODS if m in args.methods):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                results[name] = evaluate(name, data, trust_rows, args)
            except Exception as error:  # one failing method must not lose the others
                print(f"  {name}: failed: {type(error).__name__}: {error}", flush=True)
        for message in sorted({str(w.message).splitlines()[0][:160] for w in caught}):
            print(f"  {name} warned: {message}")
        if results.get(name):
            print(f"  {name}: done, fit {results[name]['fit s']:.1f} s", flush=True)
    return {name: row for name, row in results.items() if row is not None}


COLUMNS = ("map kNN", "trust", "placed kNN", "rows/s", "fit s", "global RNG")

# (goal, column, baseline or None, compare "diff"/"ratio"/"value", test, threshold)
GOALS = (
    ("map kNN >= openTSNE - 0.02", "map kNN", "openTSNE", "diff", operator.ge, -0.02),
    ("placed kNN >= openTSNE - 0.03", "placed kNN", "openTSNE", "diff", operator.ge, -0.03),
    ("rows/s >= 20x openTSNE", "rows/s", "openTSNE", "ratio", operator.ge, 20.0),
    ("rows/s >= 100k", "rows/s", None, "value", operator.ge, 100_000),
    ("fit s <= 3x openTSNE", "fit s", "openTSNE", "ratio", operator.le, 3.0),
    ("map kNN > ParametricUMAP", "map kNN", "ParametricUMAP", "diff", operator.gt, 0.0),
    ("trust > ParametricUMAP", "trust", "ParametricUMAP", "diff", operator.gt, 0.0),
    ("placed kNN > ParametricUMAP", "placed kNN", "ParametricUMAP", "diff", operator.gt, 0.0),
    ("rows/s > ParametricUMAP", "rows/s", "ParametricUMAP", "ratio", operator.gt, 1.0),
    ("fit s < ParametricUMAP", "fit s", "ParametricUMAP", "ratio", operator.lt, 1.0),
)


def fmt(column, value):
    if isinstance(value, str):
        return value
    return f"{value:,.0f}" if column == "rows/s" else f"{value:.{1 if column == 'fit s' else 3}f}"


def print_table(results):
    print("\n| method | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for name, row in results.items():
        print(f"| {name} | " + " | ".join(fmt(c, row[c]) for c in COLUMNS) + " |")


def print_goals(results):
    ours = results.get("ParametricTSNE")
    if ours is None:
        print("\nGoals: no ParametricTSNE figures to compare.")
        return
    print("\n| goal | ParametricTSNE | baseline | difference or ratio | result |")
    print("|---|---|---|---|---|")
    for goal, column, baseline, compare, test, threshold in GOALS:
        figure = ours[column]
        if compare == "value":
            base, shown, verdict = "-", "-", test(figure, threshold)
        elif baseline in results:
            base = results[baseline][column]
            relation = figure - base if compare == "diff" else figure / base
            shown = f"{relation:+.3f}" if compare == "diff" else f"{relation:,.2f}x"
            verdict = test(relation, threshold)
        else:
            base, shown, verdict = "n/a", "n/a", None
        result = "n/a" if verdict is None else "met" if verdict else "missed"
        print(f"| {goal} | {fmt(column, figure)} | {fmt(column, base)} | {shown} | {result} |")


def print_environment():
    import tensorflow as tf

    versions = []
    for package in ("tensorflow", "keras", "openTSNE", "umap-learn", "scikit-learn"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    gpus = tf.config.list_physical_devices("GPU")
    print(", ".join(versions))
    print(
        f"CPU cores: {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable); "
        f"GPU visible: {', '.join(g.name for g in gpus) if gpus else 'no'}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=("digits", "mnist"),
        help="default: both, or digits only with --quick",
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2, help="threads for t-SNE")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run on small subsets; figures mean nothing"
    )
    args = parser.parse_args()
    args.datasets = args.datasets or (["digits"] if args.quick else ["digits", "mnist"])

    print_environment()
    if args.quick:
        print("--quick: small subsets and short training, the figures mean nothing")
    for dataset in args.datasets:
        results = run_dataset(dataset, args)
        print_table(results)
        print_goals(results)


if __name__ == "__main__":
    main()
