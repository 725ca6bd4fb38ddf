"""The files users bring to the command line: CSV files without a header line, and
compressed files (``.csv.gz``, ``.csv.bz2``, ``.csv.zst``, compressed Parquet), read
alike by the whole-file reader and the batch reader of large files."""

import bz2
import gzip
import importlib.util
import io
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

from ae_reduce._cli import main, settings
from ae_reduce._cli.inputs import header_warning

pd = pytest.importorskip("pandas")

HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None
needs_pyarrow = pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")

#: The smallest network and one epoch: each command trains in about a second.
FAST = ["--epochs", "1", "--hidden-layer-sizes", "8", "--random-state", "0", "-q"]

#: Digits kept: enough for a fit and for 2 folds of each class.
N_ROWS = 60


@pytest.fixture(scope="module")
def digits_frame():
    """60 digits: an id column, 64 pixels and the digit, named as a headerless file's
    columns are named (by position)."""
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:N_ROWS].astype(int))
    frame.insert(0, "id", [f"r{i:03d}" for i in range(N_ROWS)])
    frame["digit"] = y[:N_ROWS]
    frame.columns = [str(i) for i in range(frame.shape[1])]
    return frame


@pytest.fixture(scope="module")
def reference(tmp_path_factory, digits_frame):
    """The embedding of the plain CSV file with a header, by the whole-file reader:
    the bytes of the .csv output, and the arguments that made it."""
    folder = tmp_path_factory.mktemp("reference")
    data = folder / "digits.csv"
    digits_frame.to_csv(data, index=False)
    options = ["--label-column", "65", "--id-column", "0", "--drop-columns", "1", *FAST]
    assert main(["embed", str(data), "-o", str(folder / "z.csv"), *options]) == 0
    return (folder / "z.csv").read_bytes(), options


def _both_readers(monkeypatch, capsys, arguments):
    """Run ``arguments`` with the whole-file reader, then the batch reader (``{reader}``
    in an argument names the one running); return their exit statuses and errors."""
    results = []
    for reader, stream_bytes in (("whole", 2**60), ("batches", 0)):
        monkeypatch.setattr(settings, "STREAM_BYTES", stream_bytes)
        status = main([argument.format(reader=reader) for argument in arguments])
        results.append((status, capsys.readouterr().err))
    return results


def _headerless(frame, path):
    frame.to_csv(path, index=False, header=False)
    return path


def _compress(plain, codec):
    """Write `plain` (a file) compressed with `codec`; return the compressed file."""
    data = plain.read_bytes()
    target = plain.with_name(f"{plain.name}.{codec}")
    if codec == "gz":
        target.write_bytes(gzip.compress(data))
    elif codec == "bz2":
        target.write_bytes(bz2.compress(data))
    else:
        import pyarrow as pa

        with pa.output_stream(str(target), compression="zstd") as stream:
            stream.write(data)
    return target


# Header lines ---------------------------------------------------------------------------


def test_a_header_line_that_looks_like_data_is_warned_about(tmp_path, digits_frame, capsys):
    data = _headerless(digits_frame.drop(columns="0"), tmp_path / "raw.csv")
    output = tmp_path / "z.npy"
    assert main(["embed", str(data), "-o", str(output), *FAST[:-1]]) == 0
    error = capsys.readouterr().err
    warning = (
        f"warning: the first line of {data} looks like data (every field is a number); if "
        "the file has no header, pass --no-header"
    )
    assert warning in error
    assert len([line for line in error.splitlines() if "--no-header" in line]) == 1
    # The row was not lost silently: without --no-header it is the header.
    assert np.load(output).shape == (N_ROWS - 1, 2)
    # A header of names, or of numbers and names, is not warned about.
    named = tmp_path / "named.csv"
    digits_frame.rename(columns={"1": "pixel"}).to_csv(named, index=False)
    assert header_warning(str(named)) is None
    assert header_warning(str(data), no_header=True) is None


@needs_pyarrow
@pytest.mark.parametrize(
    "options, unknown",
    [
        (["--label-column", "65"], "unknown column '65'"),
        (["--id-column", "70"], "unknown column '70'"),
        (["--drop-columns", "3,70"], "--drop-columns names 1 unknown column(s)"),
    ],
)
def test_an_unknown_column_of_a_file_without_header_points_to_no_header(
    tmp_path, digits_frame, monkeypatch, capsys, options, unknown
):
    data = _headerless(digits_frame.drop(columns="0"), tmp_path / "raw.csv")
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.csv"), *options, *FAST]
    results = _both_readers(monkeypatch, capsys, arguments)
    hint = f"the first line of {data} looks like data (every field is a number)"
    for status, error in results:
        assert status == 2
        assert unknown in error and hint in error and "pass --no-header" in error, error
        assert error.count("\n") == 1
    # A file with a header of names is not told about --no-header.
    named = tmp_path / "named.csv"
    digits_frame.rename(columns=lambda name: f"c{name}").to_csv(named, index=False)
    assert main(["embed", str(named), "-o", str(tmp_path / "z.csv"), *options, *FAST]) == 2
    assert "--no-header" not in capsys.readouterr().err


@needs_pyarrow
def test_no_header_names_the_columns_by_position(
    tmp_path, digits_frame, reference, monkeypatch, capsys
):
    expected, options = reference
    data = _headerless(digits_frame, tmp_path / "raw.csv")
    arguments = ["embed", str(data), "--no-header", "-o", str(tmp_path / "{reader}.csv")]
    results = _both_readers(monkeypatch, capsys, [*arguments, *options])
    assert results == [(0, ""), (0, "")]
    # The first line is the first row, and each reader embeds as the file with a
    # header "0,1,...,65" is embedded.
    for reader in ("whole", "batches"):
        assert (tmp_path / f"{reader}.csv").read_bytes() == expected
    table = pd.read_csv(tmp_path / "whole.csv")
    assert table.columns.tolist() == ["0", "ae1", "ae2", "65"]
    assert table["0"].tolist() == digits_frame["0"].tolist()


def test_issues_with_no_header(tmp_path, digits_frame, capsys):
    data = _headerless(digits_frame, tmp_path / "raw.csv")
    output = tmp_path / "issues.csv"
    arguments = ["issues", str(data), "--no-header", "--label-column", "65", "--id-column", "0"]
    arguments += ["--cv", "2", "--epochs", "1", "--random-state", "0", "--all", "-q"]
    assert main([*arguments, "-o", str(output)]) == 0, capsys.readouterr().err
    table = pd.read_csv(output)
    assert table.columns.tolist()[:3] == ["row", "0", "given_label"]
    # Every line is a row, the first included, with its own label.
    assert sorted(table["row"]) == list(range(N_ROWS))
    by_row = table.set_index("row").sort_index()
    assert by_row["0"].tolist() == digits_frame["0"].tolist()
    assert by_row["given_label"].tolist() == digits_frame["65"].tolist()


def test_no_header_is_refused_for_parquet_and_changes_nothing_for_npy(tmp_path, capsys):
    X, _ = load_digits(return_X_y=True)
    np.save(tmp_path / "digits.npy", X[:N_ROWS])
    for flags, name in (([], "a.npy"), (["--no-header"], "b.npy")):
        arguments = ["embed", str(tmp_path / "digits.npy"), *flags, *FAST]
        assert main([*arguments, "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    if HAS_PYARROW:
        pd.DataFrame(X[:N_ROWS]).rename(columns=str).to_parquet(tmp_path / "digits.parquet")
        arguments = ["embed", str(tmp_path / "digits.parquet"), "--no-header", *FAST]
        assert main([*arguments, "-o", str(tmp_path / "c.npy")]) == 2
        error = capsys.readouterr().err
        assert "--no-header applies to .csv files" in error
        assert "stores the names of its columns" in error


# Compressed files -----------------------------------------------------------------------


@needs_pyarrow
@pytest.mark.parametrize("codec", ["gz", "bz2", "zst"])
def test_compressed_csv_files_embed_as_the_plain_file(
    tmp_path, digits_frame, reference, monkeypatch, capsys, codec
):
    expected, options = reference
    plain = tmp_path / "digits.csv"
    digits_frame.to_csv(plain, index=False)
    data = _compress(plain, codec)
    plain.unlink()
    arguments = ["embed", str(data), "-o", str(tmp_path / "{reader}.csv"), *options]
    assert _both_readers(monkeypatch, capsys, arguments) == [(0, ""), (0, "")]
    for reader in ("whole", "batches"):
        assert (tmp_path / f"{reader}.csv").read_bytes() == expected


@needs_pyarrow
@pytest.mark.parametrize("codec", ["gz", "bz2", "zst"])
def test_compressed_extensions_are_read_in_any_case(
    tmp_path, digits_frame, reference, monkeypatch, capsys, codec
):
    # Arrow knows the extensions in lower case only: the batch reader read a
    # DIGITS.CSV.GZ file as text, and refused its compressed bytes.
    expected, options = reference
    plain = tmp_path / "digits.csv"
    digits_frame.to_csv(plain, index=False)
    data = _compress(plain, codec).rename(tmp_path / f"DIGITS.CSV.{codec.upper()}")
    arguments = ["embed", str(data), "-o", str(tmp_path / "{reader}.csv"), *options]
    assert _both_readers(monkeypatch, capsys, arguments) == [(0, ""), (0, "")]
    for reader in ("whole", "batches"):
        assert (tmp_path / f"{reader}.csv").read_bytes() == expected


@needs_pyarrow
@pytest.mark.parametrize("codec", ["snappy", "gzip", "zstd", "brotli"])
def test_compressed_parquet_files_embed_as_the_csv_file(
    tmp_path, digits_frame, reference, monkeypatch, capsys, codec
):
    expected, options = reference
    data = tmp_path / "digits.parquet"
    digits_frame.to_parquet(data, compression=codec, index=False)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(data).metadata.row_group(0).column(1).compression == codec.upper()
    arguments = ["embed", str(data), "-o", str(tmp_path / "{reader}.csv"), *options]
    assert _both_readers(monkeypatch, capsys, arguments) == [(0, ""), (0, "")]
    for reader in ("whole", "batches"):
        assert (tmp_path / f"{reader}.csv").read_bytes() == expected


@needs_pyarrow
@pytest.mark.parametrize(
    "damage, codec",
    [
        (lambda data: gzip.compress(data)[: len(gzip.compress(data)) // 2], "gzip"),
        (lambda data: bz2.compress(data)[:-40], "bzip2"),
    ],
)
def test_a_damaged_compressed_file_is_one_line_of_error(
    tmp_path, digits_frame, monkeypatch, capsys, damage, codec
):
    # Large enough that the damage lies past the first block that Arrow reads.
    text = pd.concat([digits_frame] * 40).to_csv(index=False).encode()
    data = tmp_path / ("digits.csv.gz" if codec == "gzip" else "digits.csv.bz2")
    data.write_bytes(damage(text))
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST]
    for status, error in _both_readers(monkeypatch, capsys, arguments):
        assert status == 2, error
        assert error.startswith(f"ae-reduce embed: error: could not read {data}: "), error
        assert error.endswith(f"(is it a complete {codec} file?)\n"), error
        assert error.count("\n") == 1
    assert not (tmp_path / "z.npy").exists()


@needs_pyarrow
@pytest.mark.parametrize(
    "suffix, known_as", [(".gz", "gzip"), (".bz2", "bzip2"), (".zst", "Zstandard")]
)
def test_a_plain_file_named_as_compressed_is_told_so(
    tmp_path, digits_frame, monkeypatch, capsys, suffix, known_as
):
    data = tmp_path / f"digits.csv{suffix}"
    data.write_bytes(digits_frame.to_csv(index=False).encode())
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST]
    expected = (
        f"ae-reduce embed: error: could not read {data}: it is not a {known_as} file, as its "
        f"extension {suffix} says (if it is plain text, name it .csv)\n"
    )
    assert _both_readers(monkeypatch, capsys, arguments) == [(2, expected), (2, expected)]
    assert not (tmp_path / "z.npy").exists()


@pytest.mark.parametrize(
    "name, options, message",
    [
        (
            "digits.csv.xz",
            [],
            "input {path}: unsupported extension '.xz'; use one of .csv, .npy, .parquet, "
            ".csv.gz, .csv.bz2, .csv.zst",
        ),
        (
            "digits.csv",
            ["-o", "{folder}/z.txt.gz"],
            "--output {folder}/z.txt.gz: unsupported extension '.gz'; use one of .csv, .npy, "
            ".parquet, .csv.gz, .csv.bz2, .csv.zst",
        ),
    ],
)
def test_unsupported_extensions_list_the_supported_ones(
    tmp_path, digits_frame, capsys, name, options, message
):
    data = tmp_path / name
    digits_frame.to_csv(data, index=False)
    options = [option.format(folder=tmp_path) for option in options] or ["-o", "z.npy"]
    assert main(["embed", str(data), *options, *FAST]) == 2
    expected = message.format(path=data, folder=tmp_path)
    assert capsys.readouterr().err == f"ae-reduce embed: error: {expected}\n"


def test_zstandard_without_pyarrow_names_the_extra(tmp_path, monkeypatch, capsys):
    data = tmp_path / "digits.csv.zst"
    data.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails
    plain = tmp_path / "digits.csv"
    plain.write_text("a,b\n1,2\n")
    for source, output in ((data, tmp_path / "z.npy"), (plain, tmp_path / "z.csv.zst")):
        assert main(["embed", str(source), "-o", str(output), *FAST]) == 2
        assert capsys.readouterr().err == (
            f"ae-reduce embed: error: {source if source == data else output}: Zstandard "
            "compression needs pyarrow: pip install 'ae-reduce[arrow]'\n"
        )
    assert not (tmp_path / "z.csv.zst").exists()


def _decompress(path):
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    if path.suffix == ".bz2":
        return bz2.decompress(path.read_bytes())
    import pyarrow as pa

    with pa.input_stream(str(path), compression="zstd") as stream:
        return stream.read()


@needs_pyarrow
@pytest.mark.parametrize("codec", ["gz", "bz2", "zst"])
def test_csv_outputs_are_compressed_as_named(
    tmp_path, digits_frame, reference, monkeypatch, capsys, codec
):
    expected, options = reference
    data = tmp_path / "digits.csv"
    digits_frame.to_csv(data, index=False)
    # Written whole, then block by block as when training from a file.
    for name, in_memory in (("whole", 2**40), ("blocks", 0)):
        monkeypatch.setattr(settings, "IN_MEMORY_BYTES", in_memory)
        monkeypatch.setattr(settings, "OUTPUT_ROWS", 25)
        output = tmp_path / f"{name}.csv.{codec}"
        assert main(["embed", str(data), "-o", str(output), *options]) == 0
        assert capsys.readouterr().out.strip().endswith(str(output))
        if in_memory:
            assert _decompress(output) == expected
        else:
            # Trained from a file: another embedding, the same table layout.
            table = pd.read_csv(io.BytesIO(_decompress(output)))
            assert table.columns.tolist() == ["0", "ae1", "ae2", "65"]
            assert len(table) == N_ROWS
    # No temporary file is left beside the outputs.
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [data.name, f"whole.csv.{codec}", f"blocks.csv.{codec}"]
    )


def test_issues_writes_a_compressed_csv(tmp_path, digits_frame, capsys):
    data = tmp_path / "digits.csv"
    digits_frame.to_csv(data, index=False)
    output = tmp_path / "issues.csv.gz"
    arguments = ["issues", str(data), "--label-column", "65", "--id-column", "0", "--all"]
    arguments += ["--cv", "2", "--epochs", "1", "--random-state", "0", "-q", "-o", str(output)]
    assert main(arguments) == 0, capsys.readouterr().err
    table = pd.read_csv(io.BytesIO(gzip.decompress(output.read_bytes())))
    assert table.columns.tolist()[:3] == ["row", "0", "given_label"]
    assert sorted(table["row"]) == list(range(N_ROWS))
