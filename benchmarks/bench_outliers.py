"""Outlier scores on digits with planted outliers: autoencoder and kNN against IsolationForest.

The data are scikit-learn's 1,797 8x8 digits (pixel values 0 to 16) with 76 planted
outliers, 4% of the 1,873 rows, 19 of each kind:

- **noise**: every pixel drawn uniformly from 0 to 16;
- **inverted**: ``16 - x`` of a randomly picked digit (dark strokes on a light
  background);
- **mixed**: each pixel taken from a different randomly picked digit, so that every
  pixel keeps the distribution it has among the digits (blank corners stay blank) but
  the strokes are gone: rows from another source that no single feature gives away;
- **rotated**: a randomly picked digit turned by 90 degrees, a well-formed image in a
  pose that no digit has.

All rows are standardised together (``StandardScaler``) and every method is fitted on
the contaminated set, as when looking for outliers in one's own data. The scores, each
in scikit-learn's convention (lower = more abnormal), are

- **AE reconstruction**: ``KerasAutoencoderTransformer().score_samples`` (minus the
  reconstruction error), default parameters (a 2-unit code) and with a 16-unit code;
- **kNN in AE code**: ``EmbeddingIndex(fitted autoencoder).score_samples()``, minus
  the mean distance to the 10 nearest rows in the autoencoder's code;
- **kNN on raw**: ``EmbeddingIndex().score_samples()`` on the standardised pixels;
- **IsolationForest**: ``IsolationForest(random_state=seed).score_samples`` on the
  standardised pixels, the baseline;
- **LOF**: ``LocalOutlierFactor(n_neighbors=20).negative_outlier_factor_``, for
  reference.

For each: ROC AUC and average precision of the planted rows against the digits, the
difference and ratio of ROC AUC to IsolationForest's, ROC AUC per kind of outlier,
and the seconds to fit and score (for kNN in the AE code, without the autoencoder's
fit, which it shares with the row above). The seed picks the planted rows and seeds
the models.

Run ``python benchmarks/bench_outliers.py`` (about a minute on 2 cores for seeds 0
and 1); ``--quick`` trains the autoencoders for 3 epochs, and its figures mean
nothing.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from ae_reduce import EmbeddingIndex, KerasAutoencoderTransformer

N_PER_KIND = 19
KINDS = ("noise", "inverted", "mixed", "rotated")


def contaminated_digits(seed):
    """Digits plus planted outliers, standardised; returns X and each row's kind."""
    rng = np.random.default_rng(seed)
    digits = load_digits().data
    n_digits, n_pixels = digits.shape
    noise = rng.uniform(0, 16, size=(N_PER_KIND, n_pixels))
    inverted = 16 - digits[rng.integers(0, n_digits, N_PER_KIND)]
    mixed = digits[rng.integers(0, n_digits, (N_PER_KIND, n_pixels)), np.arange(n_pixels)]
    images = digits[rng.integers(0, n_digits, N_PER_KIND)].reshape(-1, 8, 8)
    rotated = np.rot90(images, k=1, axes=(1, 2)).reshape(N_PER_KIND, n_pixels)
    X = np.vstack([digits, noise, inverted, mixed, rotated])
    kind = np.array(["digit"] * n_digits + [k for k in KINDS for _ in range(N_PER_KIND)])
    return StandardScaler().fit_transform(X), kind


def scorers(seed, epochs):
    """Functions from X to scores (lower = more abnormal), keyed by method name."""
    network = {"random_state": seed, **({"epochs": epochs} if epochs else {})}
    fitted = {}

    def autoencoder(n_components):
        def fit(X):
            fitted[n_components] = KerasAutoencoderTransformer(n_components, **network).fit(X)
            return fitted[n_components].score_samples(X)

        return fit

    def knn_in_code(n_components):
        # Uses the autoencoder fitted by the reconstruction row, as it is.
        return lambda X: EmbeddingIndex(fitted[n_components]).fit(X).score_samples()

    return {
        "AE reconstruction (default, 2-d code)": autoencoder(2),
        "kNN in AE code (2-d)": knn_in_code(2),
        "AE reconstruction (16-d code)": autoencoder(16),
        "kNN in AE code (16-d)": knn_in_code(16),
        "kNN on raw": lambda X: EmbeddingIndex().fit(X).score_samples(),
        "IsolationForest": lambda X: IsolationForest(random_state=seed).fit(X).score_samples(X),
        "LOF": lambda X: LocalOutlierFactor(n_neighbors=20).fit(X).negative_outlier_factor_,
    }


def run(seed, epochs):
    X, kind = contaminated_digits(seed)
    is_outlier = kind != "digit"
    print(f"\nseed {seed}: {len(X)} rows, {is_outlier.sum()} planted outliers", flush=True)
    results = {}
    for name, score in scorers(seed, epochs).items():
        start = time.perf_counter()
        abnormality = -np.asarray(score(X), dtype=np.float64)
        seconds = time.perf_counter() - start
        per_kind = {
            k: roc_auc_score(is_outlier[mask], abnormality[mask])
            for k in KINDS
            for mask in [(kind == "digit") | (kind == k)]
        }
        results[name] = {
            "auc": roc_auc_score(is_outlier, abnormality),
            "ap": average_precision_score(is_outlier, abnormality),
            "per_kind": per_kind,
            "seconds": seconds,
        }
        print(f"  {name:38s} ROC AUC {results[name]['auc']:.4f}  ({seconds:.1f} s)", flush=True)
    baseline = results["IsolationForest"]["auc"]
    print(
        "\n| method | ROC AUC | minus IF | / IF | avg precision | "
        + " | ".join(f"AUC {k}" for k in KINDS)
        + " | s |"
    )
    print("|---|---|---|---|---|" + "---|" * len(KINDS) + "---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['auc']:.4f} | {r['auc'] - baseline:+.4f} | {r['auc'] / baseline:.3f} "
            f"| {r['ap']:.4f} | "
            + " | ".join(f"{r['per_kind'][k]:.4f}" for k in KINDS)
            + f" | {r['seconds']:.1f} |"
        )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument(
        "--quick", action="store_true", help="3 training epochs; figures mean nothing"
    )
    args = parser.parse_args()
    if args.quick:
        print("--quick: autoencoders trained for 3 epochs, the figures mean nothing")
    for seed in args.seeds:
        run(seed, epochs=3 if args.quick else None)


if __name__ == "__main__":
    main()
