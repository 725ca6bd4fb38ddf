"""Throughput on the device at hand: training, ``transform`` and data-parallel training.

Meant to be run once on every kind of machine the project gets, a GPU machine in
particular; on a machine without a GPU it reports CPU figures and says that no GPU was
visible. Every figure is printed with its settings (device, GPU name, batch size, rows,
epochs, dtype policy, TensorFlow and Keras versions).

1. Training samples/s of the 784-512-256-32-256-512-784 dense autoencoder on one
   device: ``KerasAutoencoderTransformer(hidden_layer_sizes=(512, 256),
   n_components=32, init="random", validation_split=0, early_stopping=False)``
   against the same network written directly in Keras (``build_plain_autoencoder``
   from ``bench_overhead.py``: ReLU layers with He initialisation, Adam 1e-3, mean
   squared error) trained with ``Model.fit`` in float32, the named baseline. The
   estimator's time is its whole ``fit``; the plain model is built and compiled once
   and only its ``Model.fit`` is timed. Every side is warmed up first (the estimator
   keeps its compiled model per architecture, so later fits skip building and
   tracing). A third side is the same plain model built under
   ``keras.mixed_precision.set_global_policy("mixed_float16")`` (the policy is set
   back to ``"float32"`` right after building): float16 compute with float32
   variables and loss scaling, the ceiling plain Keras reaches on a GPU. It runs only
   when the timed device is a GPU: on CPUs float16 matrix products are slow or not
   supported, so the figure would mean nothing (``--mixed-on-cpu`` runs it anyway, to
   check the code path). The estimators build every layer with an explicit float32
   dtype, so a global mixed policy does not apply to them: there is no mixed-precision
   figure for the estimator.
2. ``transform`` rows/s of the fitted estimator (float32 rows in padded chunks of a
   fixed size, so a row's code does not depend on its neighbours) against
   ``encoder_.predict`` of the same Keras encoder, same weights, at Keras's default
   batch of 32 rows (the baseline) and at 1,024 rows.
3. Data-parallel training. With two or more GPUs visible: ``device="gpus"`` at a
   global batch of ``--batch-size`` rows per GPU, against one GPU at ``--batch-size``
   (the baseline) and at the same global batch. With fewer, the same comparison runs
   in a child process whose CPU is split into two logical devices
   (``tf.config.set_logical_device_configuration`` before TensorFlow starts), as
   ``device=["/CPU:0", "/CPU:1"]`` against ``device="cpu"``. Both logical devices
   share the same cores, so that figure is a check that training on several devices
   works and a measure of its overhead, not a speed-up. Training on several devices
   goes through ``keras.Model.fit`` under a ``tf.distribute.MirroredStrategy``, while
   one device trains in whole-epoch graphs; a fourth side trains one device through
   ``keras.Model.fit`` too (a per-batch callback selects that path), so that the
   strategy's own cost can be told from the training loop's. The final training
   losses are printed next to the throughputs.

Timings on shared machines are noisy: each figure is the median over ``--rounds``
rounds, the order of the sides rotating from round to round, and a ratio is the median
of the per-round ratios against the named baseline.

The wall time of a 12-fit grid search is measured by ``bench_grid_search.py``, and the
per-fit overhead against a freshly built plain model by ``bench_overhead.py``.

Run ``python benchmarks/bench_devices.py`` (about 5 minutes on two CPU cores; on a GPU
machine the defaults grow to 200,000 rows and 5 epochs) or add ``--quick`` for a smoke
run whose figures mean nothing.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# Nothing imported here starts TensorFlow's runtime: the child process can still split
# the CPU into logical devices after these imports.
import keras
import numpy as np
import sklearn
import tensorflow as tf
from bench_overhead import HIDDEN_LAYER_SIZES, N_COMPONENTS, build_plain_autoencoder, make_data
from sklearn.exceptions import ConvergenceWarning

import ae_reduce
from ae_reduce import KerasAutoencoderTransformer
from ae_reduce._keras.backend import resolve_device

# A few fixed epochs are the point here, not convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

CHILD_FLAG = "--two-cpu-child"
RESULT_PREFIX = "RESULT "


# -- helpers ---------------------------------------------------------------------------


def estimator(device, batch_size, epochs, seed):
    """The benchmarked estimator: the plain 784-512-256-32 network, no validation."""
    return KerasAutoencoderTransformer(
        hidden_layer_sizes=HIDDEN_LAYER_SIZES,
        n_components=N_COMPONENTS,
        init="random",
        validation_split=0,
        early_stopping=False,
        batch_size=batch_size,
        epochs=epochs,
        random_state=seed,
        device=device,
    )


def estimator_device(device):
    """The ``device`` parameter for the ``--device`` option (a name becomes a list)."""
    return [device] if device.startswith("/") else device


def gpu_descriptions():
    """One line per visible GPU: its TensorFlow name, model and compute capability."""
    lines = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except (RuntimeError, ValueError) as error:
            details = {"device_name": f"details unavailable ({error})"}
        line = f"{gpu.name}: {details.get('device_name', 'unknown model')}"
        capability = details.get("compute_capability")
        if capability:
            line += f", compute capability {capability[0]}.{capability[1]}"
        lines.append(line)
    return lines


def print_settings(args, device_name):
    print("== settings ==")
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__} ({keras.backend.backend()}), "
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}, "
        f"ae_reduce {ae_reduce.__version__}, Python {platform.python_version()}"
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"CPU cores: {os.cpu_count()}, load average (1, 5, 15 min): {load}")
    gpus = gpu_descriptions()
    if gpus:
        print(f"GPUs visible: {len(gpus)}")
        for line in gpus:
            print(f"  {line}")
    else:
        print("GPUs visible: none (CPU only; TensorFlow sees no GPU)")
    print(f"--device {args.device!r} -> timed device {device_name}")
    print(
        f"rows {args.rows}, epochs {args.epochs}, batch size {args.batch_size}, "
        f"transform rows {args.transform_rows}, rounds {args.rounds}, seed {args.seed}"
    )
    print(f"global dtype policy: {keras.mixed_precision.global_policy().name}")


def rotate(sides, rounds):
    """Call every side once per round, rotating which goes first; return their rates."""
    names = list(sides)
    rates = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            rates[name].append(sides[name]())
    return rates


def report(rates, baseline, unit):
    """Print the median rate of each side and its median ratio against ``baseline``."""
    width = max(len(name) for name in rates)
    medians = {}
    for name, values in rates.items():
        ratio = statistics.median(
            value / base for value, base in zip(values, rates[baseline], strict=True)
        )
        medians[name] = (statistics.median(values), ratio)
        spread = f"{min(values):,.0f}-{max(values):,.0f}"
        print(
            f"  {name:<{width}}  {medians[name][0]:>10,.0f} {unit} (rounds {spread:>17})  "
            f"x{ratio:.3f} vs {baseline}"
        )
    return medians


class PlainKeras:
    """The hand-written network, built and compiled once under a dtype policy."""

    def __init__(self, device_name, policy, seed):
        self.device_name = device_name
        keras.mixed_precision.set_global_policy(policy)
        try:
            with tf.device(device_name):
                self.model = build_plain_autoencoder(seed)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        dense = [layer for layer in self.model.layers if isinstance(layer, keras.layers.Dense)]
        self.description = (
            f"policy {policy}: Dense compute dtype {dense[0].compute_dtype}, variables "
            f"{dense[0].variable_dtype}, optimizer {type(self.model.optimizer).__name__}, "
            f"jit_compile {self.model.jit_compile}"
        )

    def fit(self, X, batch_size, epochs):
        """Train (continuing from the current weights); return samples per second."""
        with tf.device(self.device_name):
            start = time.perf_counter()
            self.model.fit(X, X, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
            seconds = time.perf_counter() - start
        return len(X) * epochs / seconds


def fit_rate(model, X):
    """Fit the estimator; return samples per second over its whole ``fit``."""
    start = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - start
    return len(X) * model.n_epochs_ / seconds


# -- 1. training on one device ---------------------------------------------------------


def bench_training(X, args, device_name):
    on_gpu = "GPU" in tf.DeviceSpec.from_string(device_name).device_type.upper()
    print(f"\n== 1. training samples/s on {device_name} ==")
    print(
        f"784-512-256-32-256-512-784, {len(X)} rows x {X.shape[1]} float32, "
        f"batch {args.batch_size}, {args.epochs} epochs per fit, {args.rounds} rounds"
    )
    ours = estimator(estimator_device(args.device), args.batch_size, args.epochs, args.seed)
    start = time.perf_counter()
    ours.fit(X)
    print(
        f"cold first fit of the estimator (builds and traces): {time.perf_counter() - start:.2f} s"
    )

    plain = PlainKeras(device_name, "float32", args.seed)
    mixed = None
    if on_gpu or args.mixed_on_cpu:
        mixed = PlainKeras(device_name, "mixed_float16", args.seed)
        if not on_gpu:
            print("mixed_float16 on a CPU (--mixed-on-cpu): checks the code path only")
    elif tf.config.list_physical_devices("GPU"):
        print("mixed_float16 skipped: the timed device is the CPU (--device cpu)")
    else:
        print(
            "mixed_float16 skipped: no GPU visible, and on CPUs float16 matrix products "
            "are slow or unsupported, so the figure would mean nothing"
        )
    print(f"plain Keras {plain.description}")
    if mixed is not None:
        print(f"plain Keras {mixed.description}")
    print(
        "estimator: layers built with an explicit float32 dtype (a global mixed policy "
        "does not apply to them); its whole fit is timed, one forward pass over the "
        "training rows to score the starting weights included. Plain Keras: compiled "
        "once, Model.fit timed"
    )

    sides = {
        "plain Keras float32": lambda: plain.fit(X, args.batch_size, args.epochs),
        "estimator (float32)": lambda: fit_rate(ours, X),
    }
    if mixed is not None:
        sides["plain Keras mixed_float16"] = lambda: mixed.fit(X, args.batch_size, args.epochs)
    warm = {name: side() for name, side in sides.items()}
    print("warm-up: " + ", ".join(f"{name} {rate:,.0f} samples/s" for name, rate in warm.items()))
    rates = rotate(sides, args.rounds)
    medians = report(rates, "plain Keras float32", "samples/s")
    print(f"global dtype policy after the section: {keras.mixed_precision.global_policy().name}")
    return ours, medians


# -- 2. transform ----------------------------------------------------------------------


def bench_transform(fitted, args, device_name):
    X = make_data(args.transform_rows, args.seed + 1)
    encoder = fitted.encoder_
    # The estimator infers on the device it trained on (one device in section 1).
    print(f"\n== 2. transform rows/s, encoder 784-512-256-32 on {device_name} ==")
    print(
        f"{len(X)} rows x {X.shape[1]} float32, float32 policy, the estimator fitted in "
        f"section 1 and its own encoder_ (same weights), {args.rounds} rounds"
    )

    def predict(batch_size):
        with tf.device(device_name):
            encoder.predict(X, batch_size=batch_size, verbose=0)

    sides = {
        "Keras predict (batch 32)": lambda: predict(32),
        "Keras predict (batch 1024)": lambda: predict(1024),
        "estimator transform": lambda: fitted.transform(X),
    }
    timed = {}
    for name, side in sides.items():
        side()  # warm-up: tracing and first allocations

        def timed_side(side=side):
            start = time.perf_counter()
            side()
            return len(X) / (time.perf_counter() - start)

        timed[name] = timed_side
    rates = rotate(timed, args.rounds)
    medians = report(rates, "Keras predict (batch 32)", "rows/s")
    whole = fitted.transform(X[:1024])
    alone = np.concatenate([fitted.transform(X[i : i + 1]) for i in range(0, 1024, 103)])
    same = np.array_equal(whole[::103], alone)
    print(f"transform: rows encoded alone equal the same rows inside a batch, bit for bit: {same}")
    return medians, same


# -- 3. data-parallel training ---------------------------------------------------------


class PerBatchHook(keras.callbacks.Callback):
    """A per-batch hook: it sends a one-device fit through ``keras.Model.fit``."""

    def on_train_batch_end(self, batch, logs=None):
        pass


def parallel_sides(X, args, one, many, n_devices):
    """Time one device at the per-device and the global batch against several devices.

    One device trains in whole-epoch graphs, several devices through
    ``keras.Model.fit``; a fourth side trains one device through ``keras.Model.fit``
    too (a per-batch callback selects that path), so that the cost of the strategy
    itself can be told from the cost of the training loop.
    """
    global_batch = args.batch_size * n_devices
    baseline = f"one device, batch {args.batch_size}"
    same = f"one device, batch {global_batch}"
    same_fit = f"one device, batch {global_batch}, Model.fit"
    several = f"{n_devices} devices, batch {global_batch}"
    models = {
        baseline: estimator(one, args.batch_size, args.epochs, args.seed),
        same: estimator(one, global_batch, args.epochs, args.seed),
        same_fit: estimator(one, global_batch, args.epochs, args.seed).set_params(
            callbacks=[PerBatchHook()]
        ),
        several: estimator(many, global_batch, args.epochs, args.seed),
    }
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X)
        print(f"  warm-up fit, {name}: {time.perf_counter() - start:.2f} s")
    rates = rotate(
        {name: (lambda m=model: fit_rate(m, X)) for name, model in models.items()}, args.rounds
    )
    medians = report(rates, baseline, "samples/s")
    ratios = {}
    for other in (same, same_fit):
        ratios[other] = statistics.median(
            a / b for a, b in zip(rates[several], rates[other], strict=True)
        )
        print(f"  {several} / {other}: x{ratios[other]:.3f}")
    losses = {name: model.history_["loss"][-1] for name, model in models.items()}
    for name, loss in losses.items():
        state = "finite" if np.isfinite(loss) else "NOT finite"
        print(f"  final training loss, {name}: {loss:.5f} ({state})")
    difference = abs(losses[several] - losses[same_fit])
    print(
        f"  |final loss, {several} - {same_fit}| = {difference:.2e} "
        "(same global batches through the same loop: should be near 0)"
    )
    return {
        "baseline": baseline,
        "several": several,
        "medians": medians,
        "ratios": ratios,
        "losses": losses,
        "loss_difference": difference,
    }


def two_cpu_child(args):
    """Split the CPU into two logical devices; run section 3 on them; print the result."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    names = [device.name for device in tf.config.list_logical_devices("CPU")]
    print(f"  child process: logical CPU devices {', '.join(names)} (sharing the same cores)")
    X = make_data(args.rows, args.seed)
    result = parallel_sides(X, args, "cpu", ["/CPU:0", "/CPU:1"], 2)
    print(RESULT_PREFIX + json.dumps(result))


def bench_parallel(X, args):
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if len(gpus) >= 2 and args.device != "cpu":
        print(f"\n== 3. data-parallel training on {len(gpus)} GPUs (device='gpus') ==")
        print(
            f"{len(X)} rows, {args.epochs} epochs, {args.batch_size} rows per GPU per step "
            f"(global batch {args.batch_size * len(gpus)}), float32, {args.rounds} rounds; "
            "one device is /GPU:0"
        )
        return "gpus", parallel_sides(X, args, [gpus[0]], "gpus", len(gpus))

    why = "one GPU is visible" if gpus else "no GPU is visible"
    if gpus and args.device == "cpu":
        why = "--device cpu"
    print(f"\n== 3. data-parallel training: two logical CPU devices ({why}) ==")
    print(
        "CORRECTNESS/OVERHEAD FIGURE, NOT A SPEED-UP: both logical devices share the same "
        "cores; device=['/CPU:0', '/CPU:1'] against device='cpu'"
    )
    print(
        f"{args.rows} rows, {args.epochs} epochs, {args.batch_size} rows per device per "
        f"step (global batch {2 * args.batch_size}), float32, {args.rounds} rounds"
    )
    command = [
        sys.executable,
        os.path.abspath(__file__),
        CHILD_FLAG,
        f"--rows={args.rows}",
        f"--epochs={args.epochs}",
        f"--batch-size={args.batch_size}",
        f"--rounds={args.rounds}",
        f"--seed={args.seed}",
    ]
    # The child needs no GPU: hiding it keeps its memory free and its start quick.
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    child = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    result = None
    for line in child.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
        else:
            print(line)
    if child.returncode != 0 or result is None:
        print(f"  child process failed (exit status {child.returncode}); its last error lines:")
        for line in child.stderr.splitlines()[-15:]:
            print(f"    {line}")
    return "two logical CPUs", result


# -- main ------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=None, help="training rows (16,000; 200,000 with a GPU)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit (2; 5 with a GPU)")
    parser.add_argument(
        "--batch-size", type=int, default=256, help="rows per step (per device in section 3)"
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="timed device for sections 1 and 2: auto, cpu, gpu or a name such as /GPU:1",
    )
    parser.add_argument("--transform-rows", type=int, default=50_000, help="rows to encode")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per figure")
    parser.add_argument("--seed", type=int, default=0, help="seed of data and weights")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument(
        "--mixed-on-cpu",
        action="store_true",
        help="time plain Keras under mixed_float16 on a CPU too (checks the code path)",
    )
    parser.add_argument(
        "--skip-parallel", action="store_true", help="leave out section 3 (data-parallel)"
    )
    parser.add_argument(CHILD_FLAG, action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.two_cpu_child:
        # Before anything starts TensorFlow's runtime (listing devices does).
        two_cpu_child(args)
        return

    if args.device in ("cpu", "auto", "gpu", "gpus") or args.device.startswith("/"):
        pass
    else:
        raise SystemExit(f"--device {args.device!r}: use auto, cpu, gpu or a device name")
    if args.device == "gpus":
        raise SystemExit("--device gpus: section 3 covers several GPUs; name one device here")
    device_name = resolve_device(estimator_device(args.device))
    on_gpu = "GPU" in tf.DeviceSpec.from_string(device_name).device_type.upper()
    if args.quick:
        args.rows, args.epochs, args.transform_rows, args.rounds = 2_000, 1, 2_000, 2
    if args.rows is None:
        args.rows = 200_000 if on_gpu else 16_000
    if args.epochs is None:
        args.epochs = 5 if on_gpu else 2

    print_settings(args, device_name)
    start = time.perf_counter()
    X = make_data(args.rows, args.seed)
    fitted, training = bench_training(X, args, device_name)
    transform, invariant = bench_transform(fitted, args, device_name)
    parallel_kind, parallel = (None, None) if args.skip_parallel else bench_parallel(X, args)

    print("\n== summary ==")
    gpus = gpu_descriptions()
    print(
        f"device: {device_name}; " + ("; ".join(gpus) if gpus else "CPU only; no GPU was visible")
    )
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}; rows {args.rows}, "
        f"epochs {args.epochs}, batch {args.batch_size}, {args.rounds} rounds"
    )
    for name, (rate, ratio) in training.items():
        print(f"training  {name:<28} {rate:>10,.0f} samples/s  x{ratio:.3f} vs plain float32")
    for name, (rate, ratio) in transform.items():
        print(f"inference {name:<28} {rate:>10,.0f} rows/s     x{ratio:.3f} vs predict(32)")
    print(f"inference batch-invariant (bit for bit): {invariant}")
    if parallel is not None:
        for name, (rate, ratio) in parallel["medians"].items():
            print(
                f"parallel ({parallel_kind}) {name:<38} {rate:>10,.0f} samples/s  "
                f"x{ratio:.3f} vs {parallel['baseline']}"
            )
        for other, ratio in parallel["ratios"].items():
            print(f"parallel ({parallel_kind}) {parallel['several']} / {other}: x{ratio:.3f}")
        print(
            f"parallel ({parallel_kind}) |final loss difference| against one device through "
            f"Model.fit: {parallel['loss_difference']:.2e}"
        )
    elif not args.skip_parallel:
        print(f"parallel ({parallel_kind}): no result (see above)")
    print(f"wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
