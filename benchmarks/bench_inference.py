"""Inference speed: the estimators' ``transform`` against Keras ``predict``.

Two networks, each fed the same 20,000 random float32 rows of 784 columns:

* ``ParametricTSNE(hidden_layer_sizes=(256, 256))``, fitted for 50 iterations on 2,000
  of the rows: its map network, 784-256-256-2 with a linear branch;
* the encoder of ``KerasAutoencoderTransformer(32, hidden_layer_sizes=(512, 256),
  init="random")``, 784-512-256-32, fitted for one epoch on all the rows.

``transform`` runs the network in blocks of a fixed number of rows inside one compiled
function, so that a row's output does not depend on the batch it arrives in, which
``predict`` does not promise; the script checks that too. ``predict`` runs the same
fitted network at batches of 8,192 rows (the goal's baseline, its best batch size for
these networks), 1,024 rows and Keras's default 32.

Each round times every side once, rotating the order and reversing it every other
round; the script prints rows per second, the median over rounds of the ratio of
``transform`` to each ``predict``, and the load average, since other work on the
machine slows both sides. Goal: >= 1.0 against ``predict`` at batch 8,192 for both
networks.

Run ``python benchmarks/bench_inference.py`` (two to three minutes on two CPU cores).
"""

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ae_reduce import KerasAutoencoderTransformer, ParametricTSNE

GOAL = 1.0
GOAL_BATCH = 8192
BATCHES = (GOAL_BATCH, 1024, 32)
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def _load():
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def _networks(X, fit_rows):
    """``(name, fitted estimator, its Keras network)`` for both networks."""
    tsne = ParametricTSNE(
        hidden_layer_sizes=(256, 256), n_iter=50, early_exaggeration_iter=0, random_state=0
    ).fit(X[:fit_rows])
    autoencoder = KerasAutoencoderTransformer(
        32, hidden_layer_sizes=(512, 256), init="random", epochs=1, random_state=0
    ).fit(X)
    return [
        ("ParametricTSNE map 784-256-256-2", tsne, tsne.network_),
        ("autoencoder encoder 784-512-256-32", autoencoder, autoencoder.encoder_),
    ]


def _time_sides(sides, n_rows, rounds):
    """Rows per second of every side in every round, the order rotated each round."""
    for side in sides.values():
        side()  # warm-up: graph tracing and first allocations
    names = list(sides)
    rates = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        order = names[shift:] + names[:shift]
        for name in order[::-1] if round_ % 2 else order:
            start = time.perf_counter()
            sides[name]()
            rates[name].append(n_rows / (time.perf_counter() - start))
    return rates


def _report(title, estimator, X, rates):
    """Print rates, ratios and the bit-identity check; return the ratio to the goal."""
    print(f"\n{title}")
    for name, values in rates.items():
        print(f"{name:>15}: {statistics.median(values):>9.0f} rows/s (median)")
    goal_ratio = None
    for batch in BATCHES:
        theirs = rates[f"predict({batch})"]
        ratio = statistics.median(a / b for a, b in zip(rates["transform"], theirs, strict=True))
        line = f"transform / predict({batch}): {ratio:.2f}"
        if batch == GOAL_BATCH:
            goal_ratio = ratio
            line += f" (goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'})"
        print(line)
    whole = estimator.transform(X[:3000])
    alone = np.concatenate([estimator.transform(X[i : i + 1]) for i in range(0, 3000, 97)])
    same = np.array_equal(whole[::97], alone)
    print(f"rows alone equal the same rows inside a batch, bit for bit: {same}")
    return goal_ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=20_000, help="rows to map")
    parser.add_argument("--fit-rows", type=int, default=2_000, help="ParametricTSNE's rows")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n_samples, 784), dtype=np.float32)
    print(f"{args.n_samples} rows x 784 float32, {args.rounds} rounds")
    ratios = []
    for title, estimator, network in _networks(X, args.fit_rows):
        sides = {"transform": lambda e=estimator: e.transform(X)}
        for batch in BATCHES:
            sides[f"predict({batch})"] = lambda n=network, b=batch: n.predict(
                X, batch_size=b, verbose=0
            )
        before = _load()
        rates = _time_sides(sides, args.n_samples, args.rounds)
        ratios.append(_report(title, estimator, X, rates))
        print(f"load average before / after timing: {before} / {_load()}")
    verdict = "met" if all(ratio >= GOAL for ratio in ratios) else "NOT met"
    print(f"\ngoal >= {GOAL} x predict({GOAL_BATCH}) for both networks: {verdict}")


if __name__ == "__main__":
    main()
