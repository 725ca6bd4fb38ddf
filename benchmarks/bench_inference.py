"""Inference speed: ``KerasAutoencoderTransformer.transform`` against Keras ``predict``.

The estimator's encoder (784-512-256-32, ``init="random"`` so that both sides run the
same layers) is fitted for one epoch on 20,000 rows; then the same 20,000 float32 rows
are encoded by ``transform`` and by ``encoder_.predict`` in float32, Keras's default
batch of 32 rows and a batch of 1,024 rows. ``transform`` also checks that its rows do
not depend on the batch they arrive in, which ``predict`` does not promise.

Each round times every side once, rotating the order; the script prints rows per second
and the median ratio of ours to ``predict``. Goal: >= 0.9 against ``predict`` at its
default batch size.

Run ``python benchmarks/bench_inference.py`` (about a minute on two CPU cores).
"""

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ae_reduce import KerasAutoencoderTransformer

GOAL = 0.9
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=20_000, help="rows to encode")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n_samples, 784), dtype=np.float32)
    estimator = KerasAutoencoderTransformer(
        32, hidden_layer_sizes=(512, 256), init="random", epochs=1, random_state=0
    ).fit(X)
    encoder = estimator.encoder_
    sides = {
        "transform": lambda: estimator.transform(X),
        "predict(32)": lambda: encoder.predict(X, verbose=0),
        "predict(1024)": lambda: encoder.predict(X, batch_size=1024, verbose=0),
    }
    for side in sides.values():
        side()  # warm-up: graph tracing and first allocations
    names = list(sides)
    rates = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names[round_ % 3 :] + names[: round_ % 3]:
            start = time.perf_counter()
            sides[name]()
            rates[name].append(args.n_samples / (time.perf_counter() - start))
    print(f"{args.n_samples} rows x 784 float32, encoder 784-512-256-32, {args.rounds} rounds")
    for name in names:
        print(f"{name:>14}: {statistics.median(rates[name]):>9.0f} rows/s (median)")
    for baseline in names[1:]:
        ratios = [
            ours / theirs for ours, theirs in zip(rates["transform"], rates[baseline], strict=True)
        ]
        ratio = statistics.median(ratios)
        goal = f" (goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'})"
        print(f"transform / {baseline}: {ratio:.2f}" + (goal if baseline == "predict(32)" else ""))

    whole = estimator.transform(X[:3000])
    alone = np.concatenate([estimator.transform(X[i : i + 1]) for i in range(0, 3000, 97)])
    same = np.array_equal(whole[::97], alone)
    print(f"rows encoded alone equal the same rows inside a batch, bit for bit: {same}")


if __name__ == "__main__":
    main()
