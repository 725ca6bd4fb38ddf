"""Memory of fitting: a file-backed ``numpy.memmap``, and many architectures in a row.

**Out-of-core fitting.** The script writes a float32 file of about 1 GB (330,000 x 784
by default) into a temporary directory, in blocks so that this process stays small, and
then starts fresh Python processes that each open the file with
``np.memmap(path, mode="r")`` and fit ``KerasAutoencoderTransformer`` for one epoch:

* **memmap, all rows**: the whole memory map;
* **memmap, 10k rows**: ``mm[:10000]``, itself a memory map of the same file;
* **loaded, all rows** (reference): ``np.array(mm)``, the data copied into memory;
* **mapped ndarray, all rows** (reference): ``np.asarray(mm)``, a plain ndarray view
  of the mapping, which the estimator cannot recognise as file-backed;
* **plain Keras, loaded** (reference): ``np.array(mm)`` split 90/10 by hand and given to
  ``keras.Model.fit`` with the same network, what a hand-written script would cost.

Each child reports its peak resident set size (``VmHWM`` in ``/proc/self/status``, read
at its end) and its peak after importing TensorFlow, before touching the data. The
children are fresh interpreters, so none inherits this process's peak. The goal is that
the full memory map costs at most 300 MB more than the 10k-row slice. The references
show what reading the file batch by batch saves.

**Many architectures.** A grid search over network widths fits a new architecture
each time. Fresh processes fit 30 autoencoders on standardised digits (1,797 x 64), one
per hidden width (8, 10, ..., 66), ``n_components=2``, two epochs each, and report their
resident set size (``VmRSS``) after the first five fits (the warm-up) and at the end:

* **ae_reduce**: ``KerasAutoencoderTransformer(...).fit(X).transform(X)``;
* **plain Keras** (baseline): the same layers built, compiled and fitted with
  ``keras.Model.fit`` (Adam, batch 81 as ``batch_size="auto"`` gives,
  ``validation_split=0.1``);
* **plain Keras + clear_session** (baseline): the same, with
  ``keras.backend.clear_session()`` after every fit.

The goal is that the 25 architectures after the warm-up add at most 80 MB to the
ae_reduce process, ``transform`` calls included. The ae_reduce child also reports how
RSS changed across 100 more ``transform`` calls of 5,391 rows at the end.

Run ``python benchmarks/bench_memory.py`` (about 5 minutes on two CPU cores) or add
``--quick`` for a smoke run on a smaller file and six architectures; ``--only memmap``
or ``--only architectures`` runs one part. The file is deleted at the end.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

N_FEATURES = 784
SLICE_ROWS = 10_000
GOAL_MB = 300
BLOCK_ROWS = 10_000
#: Fits before the architectures' baseline is read, and distinct architectures after it.
WARM_UP_FITS = 5
MEASURED_FITS = 25
ARCHITECTURES_GOAL_MB = 80
ARCHITECTURE_MODES = {
    "architectures-ae-reduce": "ae_reduce",
    "architectures-keras": "plain Keras",
    "architectures-keras-clear": "plain Keras + clear_session",
}


def peak_rss_mb():
    """This process's peak resident set size (``VmHWM``) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")


def resident_mb():
    """This process's current resident set size (``VmRSS``) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def write_data(path, n_samples, seed):
    """Write ``n_samples`` x 784 float32 rows to ``path`` one block at a time."""
    rng = np.random.default_rng(seed)
    loadings = rng.standard_normal((20, N_FEATURES), dtype=np.float32) / np.float32(np.sqrt(20))
    with open(path, "wb") as handle:
        for start in range(0, n_samples, BLOCK_ROWS):
            rows = min(BLOCK_ROWS, n_samples - start)
            block = rng.standard_normal((rows, 20), dtype=np.float32) @ loadings
            block += 0.3 * rng.standard_normal((rows, N_FEATURES), dtype=np.float32)
            handle.write(block.astype(np.float32, copy=False).tobytes())


def child(mode, path, n_samples, args):
    """Fit in this (fresh) process and print the figures as one JSON line."""
    from ae_reduce import KerasAutoencoderTransformer
    from ae_reduce._keras.backend import import_keras

    keras = import_keras()  # TensorFlow's own footprint, before the data is touched
    baseline = peak_rss_mb()
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(n_samples, N_FEATURES))
    if mode == "keras-loaded":
        X = np.array(mm)
        start = time.perf_counter()
        order = np.random.default_rng(0).permutation(len(X))
        n_validation = round(0.1 * len(X))
        X_train, X_validation = X[np.sort(order[n_validation:])], X[np.sort(order[:n_validation])]
        inputs = keras.Input(shape=(N_FEATURES,))
        hidden = keras.layers.Dense(args.hidden, activation="relu")(inputs)
        code = keras.layers.Dense(args.n_components)(hidden)
        hidden = keras.layers.Dense(args.hidden, activation="relu")(code)
        model = keras.Model(inputs, keras.layers.Dense(N_FEATURES)(hidden))
        model.compile(optimizer="adam", loss="mse")
        model.fit(
            X_train,
            X_train,
            batch_size=args.batch_size,
            epochs=1,
            validation_data=(X_validation, X_validation),
            verbose=0,
        )
        seconds = time.perf_counter() - start
        figures = {"baseline": baseline, "peak": peak_rss_mb(), "rows": len(X), "seconds": seconds}
        print(json.dumps(figures))
        return
    if mode == "memmap-slice":
        X = mm[:SLICE_ROWS]
    elif mode == "loaded":
        X = np.array(mm)
    elif mode == "mapped-ndarray":
        X = np.asarray(mm)
    else:
        X = mm
    estimator = KerasAutoencoderTransformer(
        n_components=args.n_components,
        hidden_layer_sizes=(args.hidden,),
        batch_size=args.batch_size,
        epochs=1,
        validation_split=0.1,
        random_state=0,
    )
    start = time.perf_counter()
    estimator.fit(X)
    seconds = time.perf_counter() - start
    figures = {"baseline": baseline, "peak": peak_rss_mb(), "rows": len(X), "seconds": seconds}
    print(json.dumps(figures))


def warm_up_fits(n_fits):
    """Fits before the baseline reading: five, or a third of a short (quick) run."""
    return min(WARM_UP_FITS, max(1, n_fits // 3))


def architectures_child(mode, n_fits):
    """Fit ``n_fits`` distinct widths in this (fresh) process; print the figures as JSON."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    from ae_reduce import KerasAutoencoderTransformer
    from ae_reduce._keras.backend import import_keras

    keras = import_keras()
    warnings.simplefilter("ignore")  # ConvergenceWarning: two epochs are meant to be short
    X = StandardScaler().fit_transform(load_digits().data)
    X32 = X.astype(np.float32)

    def fit_ae_reduce(width):
        model = KerasAutoencoderTransformer(
            hidden_layer_sizes=(width,), n_components=2, epochs=2, random_state=0
        )
        model.fit(X).transform(X)
        return model

    def fit_keras(width):
        inputs = keras.Input(shape=(X.shape[1],))
        hidden = keras.layers.Dense(width, activation="relu")(inputs)
        code = keras.layers.Dense(2)(hidden)
        hidden = keras.layers.Dense(width, activation="relu")(code)
        model = keras.Model(inputs, keras.layers.Dense(X.shape[1])(hidden))
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
        model.fit(X32, X32, batch_size=81, epochs=2, validation_split=0.1, verbose=0)
        if mode == "architectures-keras-clear":
            keras.backend.clear_session()
        return model

    fit = fit_ae_reduce if mode == "architectures-ae-reduce" else fit_keras
    sizes, seconds = [], []
    model = None
    for i in range(n_fits):
        model = None  # the previous fit is dropped before the next, as in a grid search
        start = time.perf_counter()
        model = fit(8 + 2 * i)
        seconds.append(time.perf_counter() - start)
        sizes.append(resident_mb())
    warm_up = warm_up_fits(n_fits)
    figures = {
        "after_warm_up": sizes[warm_up - 1],
        "end": sizes[-1],
        "highest": max(sizes[warm_up - 1 :]),
        "measured_fits": n_fits - warm_up,
        "median_fit_seconds": float(np.median(seconds[warm_up:])),
    }
    if mode == "architectures-ae-reduce":
        rows = np.tile(X, (3, 1))
        before = resident_mb()
        for _ in range(100):
            model.transform(rows)
        figures["repeated_transform_change"] = resident_mb() - before
    print(json.dumps(figures))


def run_child(mode, path, args):
    command = [sys.executable, os.path.abspath(__file__), "--child", mode, path]
    command += [f"--n-samples={args.n_samples}", f"--hidden={args.hidden}"]
    command += [f"--batch-size={args.batch_size}", f"--n-components={args.n_components}"]
    command += [f"--n-architectures={args.n_architectures}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise RuntimeError(f"child {mode} failed with exit status {result.returncode}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=330_000, help="rows in the file")
    parser.add_argument("--hidden", type=int, default=64, help="width of the hidden layer")
    parser.add_argument("--n-components", type=int, default=16, help="code width")
    parser.add_argument("--batch-size", type=int, default=1024, help="rows per mini-batch")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data")
    parser.add_argument("--dir", default=None, help="directory of the temporary file")
    parser.add_argument("--no-references", action="store_true", help="skip in-memory fits")
    parser.add_argument(
        "--n-architectures",
        type=int,
        default=WARM_UP_FITS + MEASURED_FITS,
        help="architectures fitted in a row, warm-up included",
    )
    parser.add_argument("--only", choices=["memmap", "architectures"], help="run one part")
    parser.add_argument("--quick", action="store_true", help="smoke run: small file, 6 widths")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path = args.child
        if mode in ARCHITECTURE_MODES:
            architectures_child(mode, args.n_architectures)
        else:
            child(mode, path, args.n_samples, args)
        return
    if args.quick:
        args.n_samples = 33_000
        args.n_architectures = 6
    if args.only != "architectures":
        memmap_part(args)
    if args.only != "memmap":
        if args.only is None:
            print()
        architectures_part(args)


def memmap_part(args):
    """Peak memory of fitting the file-backed memory map against a slice and copies."""
    modes = ["memmap", "memmap-slice"]
    if not args.no_references:
        modes += ["loaded", "mapped-ndarray", "keras-loaded"]
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        path = os.path.join(directory, "data.f32")
        start = time.perf_counter()
        write_data(path, args.n_samples, args.seed)
        size_mb = os.path.getsize(path) / 2**20
        print(
            f"file: {args.n_samples} x {N_FEATURES} float32, {size_mb:.0f} MB, written in "
            f"{time.perf_counter() - start:.1f} s; writer peak RSS {peak_rss_mb():.0f} MB"
        )
        print(
            f"fit: hidden_layer_sizes=({args.hidden},), n_components={args.n_components}, "
            f"batch_size={args.batch_size}, epochs=1, validation_split=0.1"
        )
        print(f"{'child':>26} {'rows':>8} {'TF baseline':>12} {'peak RSS':>10} {'fit':>8}")
        results = {}
        for mode in modes:
            results[mode] = figures = run_child(mode, path, args)
            print(
                f"{mode:>26} {figures['rows']:>8} {figures['baseline']:>9.0f} MB "
                f"{figures['peak']:>7.0f} MB {figures['seconds']:>6.1f} s"
            )

    difference = results["memmap"]["peak"] - results["memmap-slice"]["peak"]
    print(f"\npeak RSS, full memmap minus 10k-row slice: {difference:+.0f} MB")
    verdict = "met" if difference <= GOAL_MB else "NOT met"
    print(f"goal <= {GOAL_MB} MB more: {verdict}")
    for mode in modes[2:]:
        extra = results[mode]["peak"] - results["memmap"]["peak"]
        print(f"reference {mode}: {extra:+.0f} MB against the full memmap")


def architectures_part(args):
    """Growth of resident memory over distinct architectures fitted one after another."""
    n_fits = args.n_architectures
    warm_up = warm_up_fits(n_fits)
    print(
        f"architectures: {n_fits} autoencoders on standardised digits (1,797 x 64), hidden "
        f"widths 8 to {8 + 2 * (n_fits - 1)}, n_components=2, epochs=2; RSS after the "
        f"first {warm_up} fits and after all"
    )
    print(
        f"{'child':>28} {'after warm-up':>14} {'end':>9} {'growth':>9} {'highest':>9} "
        f"{'median fit':>11}"
    )
    results = {}
    for mode, label in ARCHITECTURE_MODES.items():
        results[mode] = figures = run_child(mode, "-", args)
        growth = figures["end"] - figures["after_warm_up"]
        highest = figures["highest"] - figures["after_warm_up"]
        print(
            f"{label:>28} {figures['after_warm_up']:>11.0f} MB {figures['end']:>6.0f} MB "
            f"{growth:>+6.0f} MB {highest:>+6.0f} MB {figures['median_fit_seconds']:>9.2f} s"
        )
    ours = results["architectures-ae-reduce"]
    growth = ours["end"] - ours["after_warm_up"]
    print(
        f"\nae_reduce: {ours['measured_fits']} architectures after the warm-up added "
        f"{growth:+.0f} MB ({growth / ours['measured_fits']:+.1f} MB each)"
    )
    verdict = "met" if growth <= ARCHITECTURES_GOAL_MB else "NOT met"
    print(f"goal <= {ARCHITECTURES_GOAL_MB} MB: {verdict}")
    print(
        f"inference: 100 more transform calls of 5,391 rows on the last model changed RSS "
        f"by {ours['repeated_transform_change']:+.1f} MB"
    )


if __name__ == "__main__":
    main()
