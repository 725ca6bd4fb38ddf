"""Apache Arrow input: datasets read batch by batch, tables converted through numpy."""

import os
import pickle
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
ds = pytest.importorskip("pyarrow.dataset")
pq = pytest.importorskip("pyarrow.parquet")
pcsv = pytest.importorskip("pyarrow.csv")

from ae_reduce import (  # noqa: E402
    TSNE,
    KerasAutoencoderTransformer,
    SupervisedEmbeddingTransformer,
)

#: A tiny network: each fit takes about a second.
SMALL = {
    "n_components": 2,
    "hidden_layer_sizes": (4,),
    "epochs": 2,
    "batch_size": 64,
    "random_state": 0,
}
NAMES = ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def numbers():
    """Float32 rows with some structure, and labels that depend on them."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(300, 2)) @ rng.normal(size=(2, 5))).astype(np.float32)
    X += rng.normal(scale=0.1, size=X.shape).astype(np.float32)
    return X, (X[:, 0] > 0).astype(int)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("arrow")


@pytest.fixture(scope="module")
def memmap(numbers, folder):
    X, _ = numbers
    path = folder / "X.f32"
    writer = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    writer[:] = X
    writer.flush()
    return np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)


def _table(X, names=NAMES):
    return pa.table({name: X[:, i] for i, name in enumerate(names)})


def write_dataset(X, folder, kind, names=NAMES):
    """`X` as a dataset of the given kind: several Parquet files with small row groups,
    an Arrow IPC file, or a CSV file."""
    table = _table(X, names)
    folder.mkdir(exist_ok=True)
    if kind == "parquet":
        # Three files, cut into row groups and batches unlike the 8,192-row blocks read.
        for part, start in enumerate(range(0, len(X), 120)):
            pq.write_table(
                table.slice(start, 120), folder / f"part{part}.parquet", row_group_size=50
            )
        return ds.dataset(folder, format="parquet")
    if kind == "ipc":
        with pa.ipc.new_file(folder / "X.arrow", table.schema) as writer:
            for batch in table.to_batches(max_chunksize=70):
                writer.write_batch(batch)
        return ds.dataset(folder / "X.arrow", format="ipc")
    pcsv.write_csv(table, folder / "X.csv")
    return ds.dataset(folder / "X.csv", format="csv")


@pytest.fixture(scope="module")
def reference(memmap):
    """The autoencoder fitted on the float32 memory map."""
    return KerasAutoencoderTransformer(**SMALL).fit(memmap)


@pytest.fixture(scope="module")
def parquet(numbers, folder):
    return write_dataset(numbers[0], folder / "parquet", "parquet")


@pytest.fixture(scope="module")
def fitted(parquet):
    return KerasAutoencoderTransformer(**SMALL).fit(parquet)


def _weights_equal(first, second):
    return all(
        np.array_equal(a, b)
        for a, b in zip(first.encoder_.get_weights(), second.encoder_.get_weights(), strict=True)
    )


@pytest.mark.parametrize("kind", ["parquet", "ipc", "csv"])
def test_a_dataset_fits_and_transforms_as_the_same_numbers_in_a_float32_memmap(
    kind, numbers, memmap, reference, folder, fitted
):
    dataset = write_dataset(numbers[0], folder / f"equal-{kind}", kind)
    model = fitted if kind == "parquet" else KerasAutoencoderTransformer(**SMALL).fit(dataset)
    assert _weights_equal(model, reference)
    assert model.history_ == reference.history_
    codes = model.transform(dataset)
    # Float32 columns give float32 results; the CSV reader reads float64 columns.
    assert codes.dtype == (np.float32 if kind != "csv" else np.float64)
    np.testing.assert_array_equal(codes, reference.transform(memmap))
    # Scores compare the rows in their own precision: the CSV's decimals read as float64.
    as_read = np.column_stack([column.to_numpy() for column in dataset.to_table().columns])
    np.testing.assert_array_equal(model.score_samples(dataset), reference.score_samples(as_read))


def test_the_supervised_embedding_cross_fits_a_dataset_as_a_memmap(numbers, memmap, parquet):
    _, y = numbers
    params = {**SMALL, "epochs": 1, "cv": 2}
    from_memmap = SupervisedEmbeddingTransformer(**params)
    from_dataset = SupervisedEmbeddingTransformer(**params)
    np.testing.assert_array_equal(
        from_dataset.fit_transform(parquet, y), from_memmap.fit_transform(memmap, y)
    )
    np.testing.assert_array_equal(from_dataset.predict(parquet), from_memmap.predict(memmap))
    np.testing.assert_array_equal(
        from_dataset.predict_proba(parquet), from_memmap.predict_proba(memmap)
    )


def test_parquet_files_read_one_by_one_or_through_arrows_scanner_give_the_same_rows(
    numbers, parquet, folder
):
    from ae_reduce._io import arrow as _arrow

    # Columns the dataset types otherwise than the files store them go through the scanner.
    widened = ds.dataset(folder / "parquet", schema=pa.schema([(n, pa.float64()) for n in NAMES]))
    assert _arrow._plain_parquet_fragments(parquet, NAMES) is not None
    assert _arrow._plain_parquet_fragments(widened, NAMES) is None
    for dataset in (parquet, widened):
        rows = [block for _, block in _arrow.blocks(dataset, np.float64, rows=64)]
        assert [len(block) for block in rows] == [64] * 4 + [44]
        np.testing.assert_array_equal(np.concatenate(rows), numbers[0])


def test_codes_in_a_dataset_are_decoded(fitted, parquet, tmp_path):
    codes = fitted.transform(parquet)
    pq.write_table(pa.table({"u": codes[:, 0], "v": codes[:, 1]}), tmp_path / "codes.parquet")
    decoded = fitted.inverse_transform(ds.dataset(tmp_path / "codes.parquet"))
    np.testing.assert_array_equal(decoded, fitted.inverse_transform(codes))
    with pytest.raises(ValueError, match=r"X has 5 features, but .* expecting 2 features"):
        fitted.inverse_transform(parquet)


def test_a_cross_fitting_fold_of_a_memmap_is_read_from_the_file(memmap, monkeypatch):
    from ae_reduce._io import source as _data
    from ae_reduce._io.validation import check_input

    source = check_input(KerasAutoencoderTransformer(), memmap, reset=True)
    # A small fold is read into memory, where it trains in whole-epoch graphs.
    assert source.subset(np.arange(10, 200, 3)).in_memory_dense
    # Folds used to be copied into memory: most of a large file at once.
    monkeypatch.setattr(_data, "IN_MEMORY_SUBSET_BYTES", 0)
    fold = source.subset(np.arange(10, 200, 3))
    assert fold.file is not None and fold.n_samples == len(range(10, 200, 3))
    np.testing.assert_array_equal(fold.rows(0, fold.n_samples), memmap[10:200:3])
    np.testing.assert_array_equal(fold.subset([2, 0]).take([1, 0]), memmap[[10, 16]])


def test_column_names_are_feature_names_and_checked_in_transform(numbers, fitted, folder):
    X, _ = numbers
    np.testing.assert_array_equal(fitted.feature_names_in_, NAMES)
    assert fitted.n_features_in_ == 5
    assert list(fitted.get_feature_names_out()) == [
        "kerasautoencodertransformer0",
        "kerasautoencodertransformer1",
    ]
    renamed = write_dataset(X, folder / "renamed", "ipc", names=["a", "b", "c", "d", "z"])
    with pytest.raises(ValueError, match="Feature names unseen at fit time:\n- z"):
        fitted.transform(renamed)
    reordered = write_dataset(X, folder / "reordered", "ipc", names=["b", "a", "c", "d", "e"])
    with pytest.raises(ValueError, match="same order"):
        fitted.transform(reordered)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        fitted.transform(X)


def _one_bad_value(X, value, row=123, column=2):
    table = _table(X)
    values = table.column(column).to_pylist()
    values[row] = value
    kind = pa.float64() if isinstance(value, float) and abs(value) > 1e38 else pa.float32()
    return table.set_column(column, NAMES[column], pa.array(values, type=kind))


@pytest.mark.parametrize(
    "make_table, message",
    [
        (
            lambda X: _one_bad_value(X, None),
            r"missing values \(nulls\): column 'c', first in row 123",
        ),
        (lambda X: _one_bad_value(X, float("nan")), "contains NaN: column 'c', first in row 123"),
        (lambda X: _one_bad_value(X, -float("inf")), "infinity: column 'c', first in row 123"),
        (lambda X: _one_bad_value(X, 1e39), "too large for float32: column 'c', first in row 123"),
        (
            lambda X: _table(X).append_column("name", pa.array(["x"] * len(X))),
            "Column 'name' of X has type string, which is not numeric",
        ),
    ],
)
def test_bad_columns_are_refused_by_name_and_row(numbers, fitted, make_table, message, tmp_path):
    X, _ = numbers
    table = make_table(X)
    pq.write_table(table, tmp_path / "bad.parquet", row_group_size=100)
    dataset = ds.dataset(tmp_path / "bad.parquet")
    weights = fitted.encoder_.get_weights()
    with pytest.raises(ValueError, match=message):
        fitted.fit(dataset)
    # fit is all or nothing: the fitted model is still the one it was.
    assert all(
        np.array_equal(a, b) for a, b in zip(fitted.encoder_.get_weights(), weights, strict=True)
    )
    if "name" not in table.schema.names:
        with pytest.raises(ValueError, match=message):
            fitted.transform(dataset)
        with pytest.raises(ValueError, match=message):
            KerasAutoencoderTransformer(**SMALL).fit(table)


def test_an_empty_dataset_gets_scikit_learns_message(numbers, tmp_path):
    pq.write_table(_table(numbers[0][:0]), tmp_path / "empty.parquet")
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 5\)\)"):
        KerasAutoencoderTransformer(**SMALL).fit(ds.dataset(tmp_path / "empty.parquet"))


def _temporary_files(folder):
    """Files open in this process that are in `folder` or were deleted from it."""
    found = []
    for descriptor in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux's /proc")
def test_the_temporary_copy_is_deleted_after_fit_and_after_a_failing_fit(
    parquet, tmp_path, monkeypatch
):
    import keras

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = []

    class Look(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(_temporary_files(tmp_path))

    model = KerasAutoencoderTransformer(**{**SMALL, "callbacks": [Look()]}).fit(parquet)
    assert seen and all(len(files) == 1 for files in seen), seen
    assert _temporary_files(tmp_path) == [] and os.listdir(tmp_path) == []

    class Fail(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(_temporary_files(tmp_path))
            raise RuntimeError("stop here")

    codes = model.transform(parquet)
    with pytest.raises(RuntimeError, match="stop here"):
        model.set_params(callbacks=[Fail()]).fit(parquet)
    assert len(seen[-1]) == 1
    assert _temporary_files(tmp_path) == [] and os.listdir(tmp_path) == []
    np.testing.assert_array_equal(model.transform(parquet), codes)


def test_a_model_fitted_on_a_dataset_pickles(fitted, parquet):
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(copy.transform(parquet), fitted.transform(parquet))
    np.testing.assert_array_equal(copy.feature_names_in_, NAMES)


def test_a_table_fits_as_the_same_numbers_in_memory(numbers):
    X, _ = numbers
    from_table = KerasAutoencoderTransformer(**SMALL).fit(_table(X))
    from_array = KerasAutoencoderTransformer(**SMALL).fit(X)
    np.testing.assert_array_equal(from_table.feature_names_in_, NAMES)
    assert _weights_equal(from_table, from_array)
    codes = from_table.transform(_table(X))
    assert codes.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no feature names: expected here
        np.testing.assert_array_equal(codes, from_table.transform(X))


def test_estimators_that_keep_every_row_refuse_a_dataset(parquet):
    with pytest.raises(TypeError, match=r"pyarrow Dataset.*dataset\.to_table\(\)"):
        TSNE().fit(parquet)


def test_importing_the_package_does_not_import_pyarrow():
    # scikit-learn imports pandas, which imports pyarrow: keep pandas out to see ours.
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None\n"
        "import ae_reduce, ae_reduce._io.arrow, ae_reduce._cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyarrow'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
