"""Real data sets that ship inside installed packages; none downloads anything.

Each loader returns a :class:`RealDataset`: ``X`` (float64 ndarray), ``y`` (int class
codes 0 .. n_classes - 1), ``classes`` (the class names, indexed by code), ``kind``
and a one-line ``description``. :data:`REAL_DATASETS` maps a name to its loader; each
loader also carries its ``kind`` as an attribute, so a set can be chosen by kind
without loading it.

=================  ======  ========  =======  ==================  ==================
name               rows    columns   classes  kind                shipped by
=================  ======  ========  =======  ==================  ==================
``mnist_5k``       5,000   784       10       images              mlxtend
``pbmc_700``       700     765       10       expression counts   scanpy
``penguins``       333     9         3        table with units    palmerpenguins
``breast_cancer``  569     30        2        table with units    scikit-learn
``wine``           178     13        3        table with units    scikit-learn
``digits``         1,797   64        10       images              scikit-learn
=================  ======  ========  =======  ==================  ==================

mlxtend, palmerpenguins and scanpy come with the ``bench`` extra
(``pip install -e '.[bench]'``); a loader whose package is missing says so.

Import from the repository root, as the scripts do when run as
``python benchmarks/<script>.py``: ``from real_datasets import REAL_DATASETS``.
"""

import csv
import gzip
import importlib.resources
import importlib.util
from pathlib import Path
from typing import NamedTuple

import numpy as np

INSTALL_HINT = "pip install -e '.[bench]'"

IMAGES = "images"
EXPRESSION_COUNTS = "expression counts"
TABLE_WITH_UNITS = "table with units"


class RealDataset(NamedTuple):
    """A loaded data set."""

    #: The rows, float64, dense.
    X: np.ndarray
    #: Class codes, 0 .. n_classes - 1.
    y: np.ndarray
    #: Class names, indexed by code.
    classes: np.ndarray
    #: "images", "expression counts" or "table with units".
    kind: str
    #: Where the rows come from and what the columns are.
    description: str


#: Name -> loader; ``REAL_DATASETS[name].kind`` is the set's kind.
REAL_DATASETS = {}


def _register(name, kind):
    def register(loader):
        loader.kind = kind
        REAL_DATASETS[name] = loader
        return loader

    return register


def _missing(package):
    return ImportError(
        f"the data set ships with the {package!r} package, which is not installed; "
        f"install the bench extra: {INSTALL_HINT}"
    )


def _package_file(package, *parts):
    """A file inside an installed package, as an importlib.resources traversable."""
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError:
        raise _missing(package) from None
    return root.joinpath(*parts)


def _codes(labels):
    """Sorted class names and each label's code."""
    classes, codes = np.unique(np.asarray(labels), return_inverse=True)
    return classes, codes.astype(np.int64)


@_register("mnist_5k", IMAGES)
def mnist_5k():
    """Load 5,000 MNIST digits, 500 per class, shipped by mlxtend.

    The file ``mlxtend/data/data/mnist_5k.csv.gz`` has no header; each line holds
    the 784 pixels of a 28 x 28 image (row by row, grey levels 0 to 255, as in the
    file) followed by the digit.
    """
    resource = _package_file("mlxtend", "data", "data", "mnist_5k.csv.gz")
    with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.float64)
    classes, y = _codes(table[:, -1].astype(np.int64))
    return RealDataset(
        np.ascontiguousarray(table[:, :-1]),
        y,
        classes,
        IMAGES,
        "5,000 MNIST handwritten digits (mlxtend), 784 pixels 0-255",
    )


@_register("pbmc_700", EXPRESSION_COUNTS)
def pbmc_700():
    """Load 700 blood cells of 10x Genomics' PBMC 68k set, shipped by scanpy.

    ``X`` is ``.raw.X`` of ``scanpy/datasets/10x_pbmc68k_reduced.h5ad``: the
    log-normalised expression of 765 genes (sparse in the file, made dense here, 0 to
    about 6.5); ``y`` codes ``.obs["bulk_labels"]``, 10 cell types from 8 to 240 cells.
    The file is read with anndata; scanpy itself is located, not imported (importing
    it takes seconds).
    """
    spec = importlib.util.find_spec("scanpy")
    if spec is None or not spec.submodule_search_locations:
        raise _missing("scanpy")
    try:
        import anndata
    except ModuleNotFoundError:
        raise _missing("anndata") from None
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "10x_pbmc68k_reduced.h5ad"
    import warnings

    with warnings.catch_warnings():
        # The file predates .obsp; anndata says so while it moves the graphs.
        warnings.simplefilter("ignore", FutureWarning)
        cells = anndata.read_h5ad(path)
    expression = cells.raw.X
    X = np.asarray(expression.toarray() if hasattr(expression, "toarray") else expression)
    classes, y = _codes(cells.obs["bulk_labels"].astype(str).to_numpy())
    return RealDataset(
        X.astype(np.float64),
        y,
        classes,
        EXPRESSION_COUNTS,
        f"700 PBMC cells (scanpy), log-normalised expression of {X.shape[1]} genes",
    )


PENGUIN_MEASURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


@_register("penguins", TABLE_WITH_UNITS)
def penguins(one_hot=True):
    """Load the Palmer penguins, shipped by palmerpenguins; rows with a gap dropped.

    The 4 measures (bill length and depth in mm, flipper length in mm, body mass in
    g), then, with `one_hot`, island (Biscoe, Dream, Torgersen) and sex (female,
    male) one-hot encoded, in that order: 333 of the 344 rows and 9 columns. The year
    is left out. ``y`` codes the species (Adelie, Chinstrap, Gentoo).
    """
    resource = _package_file("palmerpenguins", "data", "penguins.csv")
    with resource.open("r", encoding="utf-8") as text:
        rows = [
            row for row in csv.DictReader(text) if all(v not in ("", "NA") for v in row.values())
        ]
    columns = [[float(row[name]) for name in PENGUIN_MEASURES] for row in rows]
    names = list(PENGUIN_MEASURES)
    if one_hot:
        for field in ("island", "sex"):
            levels = sorted({row[field] for row in rows})
            names += [f"{field}={level}" for level in levels]
            for values, row in zip(columns, rows, strict=True):
                values += [float(row[field] == level) for level in levels]
    classes, y = _codes([row["species"] for row in rows])
    return RealDataset(
        np.array(columns, dtype=np.float64),
        y,
        classes,
        TABLE_WITH_UNITS,
        f"{len(rows)} Palmer penguins (palmerpenguins): " + ", ".join(names),
    )


def _sklearn(loader, kind, description):
    bunch = loader()
    return RealDataset(
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.int64),
        np.asarray(bunch.target_names),
        kind,
        description,
    )


@_register("breast_cancer", TABLE_WITH_UNITS)
def breast_cancer():
    """Load scikit-learn's Wisconsin breast cancer set: 569 tumours, 30 measures, 2 classes.

    The columns mix lengths, areas, ratios and counts, from 0 to 4,254.
    """
    from sklearn.datasets import load_breast_cancer

    return _sklearn(
        load_breast_cancer, TABLE_WITH_UNITS, "569 breast tumours (scikit-learn), 30 measures"
    )


@_register("wine", TABLE_WITH_UNITS)
def wine():
    """Load scikit-learn's wine set: 178 wines, 13 chemical measures, 3 cultivars."""
    from sklearn.datasets import load_wine

    return _sklearn(load_wine, TABLE_WITH_UNITS, "178 wines (scikit-learn), 13 chemical measures")


@_register("digits", IMAGES)
def digits():
    """Load scikit-learn's digits: 1,797 images of 8 x 8 pixels, grey levels 0 to 16."""
    from sklearn.datasets import load_digits

    return _sklearn(load_digits, IMAGES, "1,797 handwritten digits (scikit-learn), 8x8 pixels 0-16")


def load(name):
    """Load the data set registered under `name`."""
    try:
        loader = REAL_DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(REAL_DATASETS)}") from None
    return loader()
