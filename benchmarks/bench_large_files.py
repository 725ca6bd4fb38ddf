"""Peak memory of fitting and embedding a Parquet file larger than memory should matter.

The script writes a Parquet file of about 4.3 GB (2,097,152 rows x 512 float32 columns,
rows of rank 16 plus noise, row groups of 65,536 rows, snappy-compressed as Parquet
writers do by default) one row group at a time, so that this process stays small. Fresh
Python processes then each do one thing and report their peak resident set size
(``VmHWM`` from ``/proc/self/status``, read at their end, so that no child inherits
this process's peak) and their peak right after importing TensorFlow:

* **10k rows** (the baseline): the first 10,000 rows read into memory, then
  ``KerasAutoencoderTransformer`` ``fit`` and ``transform`` on them;
* **Python API, whole file**: ``fit(pyarrow.dataset.dataset(path))`` then
  ``transform`` of the same dataset: the fit copies the dataset to a temporary float32
  file and trains from it, ``transform`` reads the dataset batch by batch;
* **ae-reduce embed, whole file**: ``ae-reduce embed file.parquet -o codes.npy``, which
  reads the file batch by batch, standardises it into a temporary float32 file, trains
  from it and writes the embedding block by block.

Every fit is ``hidden_layer_sizes=(64,)``, ``n_components=2``, one epoch (the command
line's ``--hidden-layer-sizes 64 --epochs 1``), default batch size and validation split,
``random_state=0``. The goal is that both whole-file children peak at most 1 GB above the
10k-row child. Throughput is rows of the file per second of the child's whole work (fit
and embedding, reading and writing included).

Run ``python benchmarks/bench_large_files.py`` (about 15 minutes on two CPU cores; 4.3 GB
for the Parquet file and as much again for the temporary copy, in the system's temporary
folder or ``--folder``) or add ``--quick`` for a smoke run on 200,000 x 64 rows in which
the command line is made to stream so small a file. Everything written is deleted at the
end.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from bench_memory import peak_rss_mb

ROW_GROUP = 65_536
SMALL_ROWS = 10_000
GOAL_MB = 1024
RANK = 16
ESTIMATOR = {"hidden_layer_sizes": (64,), "n_components": 2, "epochs": 1, "random_state": 0}


def write_parquet(path, n_rows, n_columns, seed=0):
    """Write ``n_rows`` x ``n_columns`` float32 rows, one row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    loadings = rng.standard_normal((RANK, n_columns), dtype=np.float32) / np.float32(RANK**0.5)
    names = [f"f{i:03d}" for i in range(n_columns)]
    schema = pa.schema([(name, pa.float32()) for name in names])
    # Without dictionary encoding, which distinct floats only make larger (about 1.5x).
    with pq.ParquetWriter(path, schema, use_dictionary=False) as writer:
        for start in range(0, n_rows, ROW_GROUP):
            rows = min(ROW_GROUP, n_rows - start)
            block = rng.standard_normal((rows, RANK), dtype=np.float32) @ loadings
            block += 0.3 * rng.standard_normal((rows, n_columns), dtype=np.float32)
            columns = [pa.array(block[:, i]) for i in range(n_columns)]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))


def child(mode, path, output, quick):
    """Do one thing in this (fresh) process and print the figures as one JSON line."""
    import warnings

    import pyarrow.dataset as ds

    from ae_reduce import KerasAutoencoderTransformer
    from ae_reduce._keras.backend import import_keras

    import_keras()  # TensorFlow's own footprint, before the data is touched
    baseline = peak_rss_mb()
    warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch is meant to be short
    dataset = ds.dataset(path)
    start = time.perf_counter()
    if mode == "small":
        import pyarrow.parquet as pq

        # The first row group only: dataset.head reads many row groups ahead (9 GB here).
        batch = next(pq.ParquetFile(path).iter_batches(batch_size=SMALL_ROWS))
        X = np.column_stack([column.to_numpy() for column in batch.columns])
        Z = KerasAutoencoderTransformer(**ESTIMATOR).fit(X).transform(X)
        n_rows = len(X)
    elif mode == "api":
        model = KerasAutoencoderTransformer(**ESTIMATOR).fit(dataset)
        fitted = time.perf_counter()
        Z = model.transform(dataset)
        n_rows = len(Z)
    else:
        from ae_reduce import _cli
        from ae_reduce._cli import settings

        if quick:  # so small a file would be read whole and trained in memory
            settings.STREAM_BYTES = 0
            settings.IN_MEMORY_BYTES = 0
        arguments = ["embed", path, "-o", output, "--hidden-layer-sizes", "64", "--epochs", "1"]
        status = _cli.main([*arguments, "--random-state", "0", "-q"])
        if status != 0:
            raise SystemExit(f"ae-reduce embed failed with status {status}")
        Z = np.load(output, mmap_mode="r")
        n_rows = len(Z)
    seconds = time.perf_counter() - start
    figures = {"baseline": baseline, "peak": peak_rss_mb(), "rows": n_rows, "seconds": seconds}
    if mode == "api":
        figures["fit_seconds"] = fitted - start
    figures["finite"] = bool(np.isfinite(Z).all())
    print(json.dumps(figures))


def run_child(mode, path, output, quick):
    command = [sys.executable, __file__, "--child", mode, "--path", path, "--output", output]
    if quick:
        command.append("--quick")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--rows", type=int, help="rows of the file (default 2,097,152)")
    parser.add_argument("--columns", type=int, help="float32 columns (default 512)")
    parser.add_argument("--folder", help="where to write the file (default: the temp folder)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.output, args.quick)
        return
    n_rows = args.rows or (200_000 if args.quick else 2_097_152)
    n_columns = args.columns or (64 if args.quick else 512)
    folder = tempfile.mkdtemp(prefix="bench-large-files-", dir=args.folder)
    try:
        path = os.path.join(folder, "large.parquet")
        output = os.path.join(folder, "codes.npy")
        start = time.perf_counter()
        write_parquet(path, n_rows, n_columns)
        size = os.path.getsize(path)
        print(
            f"wrote {n_rows:,} x {n_columns} float32 rows: {size / 1e9:.2f} GB of Parquet "
            f"in {time.perf_counter() - start:.0f} s; temporary files go to "
            f"{tempfile.gettempdir()}"
        )
        results = {}
        for mode, label in (
            ("small", f"{SMALL_ROWS // 1000}k rows, in memory (baseline)"),
            ("api", "Python API, whole file"),
            ("cli", "ae-reduce embed, whole file"),
        ):
            results[mode] = figures = run_child(mode, path, output, args.quick)
            print(
                f"{label:32s} rows {figures['rows']:>10,}  after import "
                f"{figures['baseline']:6.0f} MB  peak {figures['peak']:6.0f} MB  "
                f"time {figures['seconds']:7.1f} s  {figures['rows'] / figures['seconds']:9,.0f} "
                f"rows/s" + (f"  (fit {figures['fit_seconds']:.1f} s)" if mode == "api" else "")
            )
            if not figures["finite"]:
                print("  the embedding holds non-finite values")
        for mode in ("api", "cli"):
            extra = results[mode]["peak"] - results["small"]["peak"]
            verdict = "met" if extra <= GOAL_MB else "missed"
            print(
                f"{mode}: peak {extra:+.0f} MB against the 10k-row fit, ratio "
                f"{results[mode]['peak'] / results['small']['peak']:.2f} "
                f"(goal at most +{GOAL_MB} MB: {verdict})"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
