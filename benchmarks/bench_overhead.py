"""Wrapper overhead: ``KerasAutoencoderTransformer.fit`` against hand-written Keras.

Both sides train the same 784-512-256-32-256-512-784 dense autoencoder (ReLU hidden
layers with He initialisation, linear code and output with Glorot initialisation, Adam,
mean squared error; the estimator with ``init="random"``) on the same float32 data,
with the same batch size and number of epochs. The wall time of a whole fit is
measured: for the estimator, ``fit`` from validation to fitted attributes; for plain
Keras, building, compiling and ``Model.fit``, as a hand-written script would do each
time.

The estimator keeps a compiled model per architecture and reuses it on the next fit of
the same architecture, while the plain Keras side builds a fresh model for every fit.
A third side, "reused", is plain Keras compiled once whose weights and Adam state are
reset before each fit: the estimator's trick without the estimator, so ours/reused is
the wrapper's own cost. After a warm-up every side has traced its graphs once; the cold
first fit of a process is reported separately.

Two comparisons are made:

* no validation (``validation_split=0``, ``early_stopping=False``), and
* the estimator's default ``validation_split=0.1`` against plain Keras given the same
  held-out 10% as ``validation_data``.

Timings on shared machines are noisy, so each comparison rotates the order of the sides
over several rounds ("pairs") and quotes the median of the per-round throughput ratios.

Run ``python benchmarks/bench_overhead.py`` (a few minutes on two CPU cores) or add
``--quick`` for a smoke run.
"""

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ae_reduce import KerasAutoencoderTransformer

# A few fixed epochs are the point here, not convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

N_FEATURES = 784
HIDDEN_LAYER_SIZES = (512, 256)
N_COMPONENTS = 32
GOAL = 1.0


def make_data(n_samples, seed):
    """Low-rank structure plus noise, standardised, as float32."""
    rng = np.random.default_rng(seed)
    rank = 20
    factors = rng.standard_normal((n_samples, rank), dtype=np.float32)
    loadings = rng.standard_normal((rank, N_FEATURES), dtype=np.float32)
    X = factors @ loadings / np.sqrt(rank)
    X += 0.3 * rng.standard_normal((n_samples, N_FEATURES), dtype=np.float32)
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    return X.astype(np.float32, copy=False)


def build_plain_autoencoder(seed):
    """The estimator's network written directly in Keras."""
    he = keras.initializers.HeNormal
    glorot = keras.initializers.GlorotUniform
    inputs = keras.Input(shape=(N_FEATURES,))
    x = inputs
    for i, units in enumerate(HIDDEN_LAYER_SIZES):
        x = keras.layers.Dense(units, activation="relu", kernel_initializer=he(seed + i))(x)
    x = keras.layers.Dense(N_COMPONENTS, kernel_initializer=glorot(seed + 101))(x)
    for i, units in enumerate(reversed(HIDDEN_LAYER_SIZES)):
        x = keras.layers.Dense(units, activation="relu", kernel_initializer=he(seed + 201 + i))(x)
    outputs = keras.layers.Dense(N_FEATURES, kernel_initializer=glorot(seed + 301))(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def fit_plain(X_train, X_validation, args, seed):
    """Build, compile and fit a fresh plain Keras model; return the wall time."""
    start = time.perf_counter()
    model = build_plain_autoencoder(seed)
    validation = None if X_validation is None else (X_validation, X_validation)
    model.fit(
        X_train,
        X_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=validation,
        shuffle=True,
        verbose=0,
    )
    return time.perf_counter() - start


class ReusedPlain:
    """Plain Keras that builds and compiles once and resets weights and Adam per fit.

    This is the lower bound for any wrapper: the same trick the estimator uses, with no
    validation, seeding or copying of weights around it.
    """

    def __init__(self, seed):
        self.model = build_plain_autoencoder(seed)
        self.initial = self.model.get_weights()

    def fit(self, X_train, X_validation, args):
        start = time.perf_counter()
        self.model.set_weights(self.initial)
        for variable in self.model.optimizer.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
        validation = None if X_validation is None else (X_validation, X_validation)
        self.model.fit(
            X_train,
            X_train,
            batch_size=args.batch_size,
            epochs=args.epochs,
            validation_data=validation,
            shuffle=True,
            verbose=0,
        )
        return time.perf_counter() - start


def fit_ours(X, validation_split, args, seed):
    """Fit the estimator; return the wall time."""
    estimator = KerasAutoencoderTransformer(
        n_components=N_COMPONENTS,
        hidden_layer_sizes=HIDDEN_LAYER_SIZES,
        # The plain network: init="pca" adds linear paths and residual branches.
        init="random",
        learning_rate=1e-3,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=validation_split,
        early_stopping=False,
        random_state=seed,
    )
    start = time.perf_counter()
    estimator.fit(X)
    return time.perf_counter() - start


def compare(name, X, validation_split, args):
    """Rotate the order of the sides over ``args.pairs`` rounds; print the throughputs."""
    if validation_split:
        # The rows the estimator holds out with this seed, given to plain Keras too.
        from sklearn.utils import check_random_state

        from ae_reduce._io.validation import split_indices

        random_state = check_random_state(args.seed)
        random_state.randint(np.iinfo(np.int32).max)  # the estimator draws its seed first
        train_rows, validation_rows = split_indices(len(X), validation_split, random_state)
        X_train, X_validation = X[train_rows], X[validation_rows]
    else:
        X_train, X_validation = X, None
    samples = len(X_train) * args.epochs

    print(f"\n== {name} ==")
    print(f"training rows {len(X_train)}, validation rows {len(X) - len(X_train)}")
    reused = ReusedPlain(args.seed)
    sides = {
        "ours": lambda seed: fit_ours(X, validation_split, args, seed),
        "plain": lambda seed: fit_plain(X_train, X_validation, args, seed),
        "reused": lambda seed: reused.fit(X_train, X_validation, args),
    }
    warm = {side: fit(args.seed) for side, fit in sides.items()}
    print("warm-up fit: " + ", ".join(f"{side} {t:.2f} s" for side, t in warm.items()))
    print(
        f"{'pair':>4} {'first':>7} {'ours rows/s':>12} {'plain rows/s':>13} "
        f"{'reused rows/s':>14} {'ours/plain':>11} {'ours/reused':>12}"
    )
    names = list(sides)
    rates = {side: [] for side in names}
    ratios, reused_ratios = [], []
    for pair in range(args.pairs):
        seed = args.seed + 1 + pair
        order = names[pair % 3 :] + names[: pair % 3]
        seconds = {side: sides[side](seed) for side in order}
        for side in names:
            rates[side].append(samples / seconds[side])
        ratios.append(rates["ours"][-1] / rates["plain"][-1])
        reused_ratios.append(rates["ours"][-1] / rates["reused"][-1])
        print(
            f"{pair:>4} {order[0]:>7} {rates['ours'][-1]:>12.0f} {rates['plain'][-1]:>13.0f} "
            f"{rates['reused'][-1]:>14.0f} {ratios[-1]:>11.3f} {reused_ratios[-1]:>12.3f}"
        )
    ratio = statistics.median(ratios)
    print(
        "median throughput: "
        + ", ".join(f"{side} {statistics.median(rates[side]):.0f} rows/s" for side in names)
    )
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"median ratio ours/plain {ratio:.3f} (goal >= {GOAL}): {verdict}")
    print(
        f"median ratio ours/reused {statistics.median(reused_ratios):.3f} "
        "(the wrapper's own cost, no goal)"
    )
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=32_000, help="rows of data")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit")
    parser.add_argument("--batch-size", type=int, default=256, help="rows per mini-batch")
    parser.add_argument("--pairs", type=int, default=5, help="timed pairs per comparison")
    parser.add_argument("--seed", type=int, default=0, help="seed of data and weights")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    if args.quick:
        args.n_samples, args.epochs, args.pairs = 4_000, 1, 2

    X = make_data(args.n_samples, args.seed)
    print(
        f"data: {X.shape[0]} x {X.shape[1]} float32, batch {args.batch_size}, "
        f"{args.epochs} epochs per fit, {args.pairs} pairs per comparison"
    )
    print(
        "note: the estimator reuses its cached compiled model between fits of the same "
        "architecture; 'plain' Keras builds and compiles a fresh model for every fit, as a "
        "hand-written loop would; 'reused' is plain Keras compiled once, with its weights "
        "and Adam state reset before each fit."
    )

    # The very first fit in a process pays TensorFlow's start-up and graph tracing.
    cold = fit_ours(X, 0.0, args, args.seed)
    print(f"cold first fit (ours, includes TensorFlow graph tracing): {cold:.2f} s")

    no_validation = compare("no validation", X, 0.0, args)
    with_validation = compare("validation_split=0.1 vs validation_data", X, 0.1, args)

    print("\n== summary ==")
    for name, ratio in [("no validation", no_validation), ("with validation", with_validation)]:
        verdict = "met" if ratio >= GOAL else "NOT met"
        print(f"{name:>16}: ours/plain throughput {ratio:.3f}, goal >= {GOAL} {verdict}")


if __name__ == "__main__":
    main()
