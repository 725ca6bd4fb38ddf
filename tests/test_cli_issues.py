"""The command line for finding problems in a data set: row ids, dropped columns, the
names of the output columns, and ``ae-reduce issues``."""

import importlib.util
import json
import re

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris

from ae_reduce._cli import main
from ae_reduce._cli.embed import build_embed_pipeline, output_names
from ae_reduce._cli.parser import build_parser

pd = pytest.importorskip("pandas")

HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None

#: A tiny network, so that each command trains in a second or two.
FAST = ["--epochs", "3", "--hidden-layer-sizes", "8", "--random-state", "0"]

#: Rows of iris given another species: setosa as virginica, and so on.
FLIPPED = {0: "virginica", 60: "setosa", 120: "versicolor"}


def _page_data(path):
    text = path.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="ae-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))


@pytest.fixture
def digits_csv(tmp_path):
    """Digits with text ids (some only digits, one zero-padded), a notes column and a
    batch number: neither is a feature."""
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:150], columns=[f"pixel{i}" for i in range(64)])
    frame.insert(0, "key", [f"{i:03d}" if i % 2 else f"scan-{i}" for i in range(150)])
    frame["notes"] = "checked"
    frame["batch"] = np.arange(150) % 4
    frame["digit"] = y[:150]
    path = tmp_path / "digits.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def iris_csv(tmp_path):
    """Iris with three flipped labels, string ids and a text column to drop."""
    X, y = load_iris(return_X_y=True)
    species = np.array(["setosa", "versicolor", "virginica"])[y]
    for row, label in FLIPPED.items():
        species[row] = label
    frame = pd.DataFrame(X, columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])
    frame["plant"] = [f"p{i}" for i in range(150)]
    frame["collector"] = "Anderson"
    frame["species"] = species
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    return path


# Ids, dropped columns and output names in embed ------------------------------------------


def test_ids_and_dropped_columns_reach_the_table_and_the_map(digits_csv, tmp_path, capsys):
    output, page = tmp_path / "codes.csv", tmp_path / "map.html"
    arguments = ["embed", str(digits_csv), "-o", str(output), "--html", str(page)]
    arguments += ["--label-column", "digit", "--id-column", "key"]
    arguments += ["--drop-columns", "notes", "--drop-columns", "batch", *FAST]
    assert main(arguments) == 0, capsys.readouterr().err
    assert "150 rows, 64 feature columns" in capsys.readouterr().err

    table = pd.read_csv(output, dtype={"key": str})
    assert table.columns.tolist() == ["key", "ae1", "ae2", "digit"]
    expected = pd.read_csv(digits_csv, dtype={"key": str})
    # Ids are the text of the file: "001" is not turned into 1.
    assert table["key"].tolist() == expected["key"].tolist()
    assert table["key"][1] == "001"
    assert table["digit"].tolist() == expected["digit"].tolist()

    data = _page_data(page)
    assert data["ids"] == expected["key"].tolist()
    assert "10 nearest neighbours on this map" in data["predictionNote"]


def test_npy_ids_and_dropped_columns_are_indices(tmp_path, capsys):
    X, y = load_digits(return_X_y=True)
    ids = np.arange(1000, 1120)
    # Column 0: ids, column 1: a constant to drop, then the pixels, then the digit.
    array = np.column_stack([ids, np.zeros(120), X[:120], y[:120]])
    np.save(tmp_path / "x.npy", array)
    output = tmp_path / "codes.csv"
    arguments = ["embed", str(tmp_path / "x.npy"), "-o", str(output), "--n-components", "3"]
    arguments += ["--id-column", "0", "--drop-columns", "1", "--label-column", "-1", *FAST]
    assert main(arguments) == 0, capsys.readouterr().err
    assert "120 rows, 64 feature columns" in capsys.readouterr().err
    table = pd.read_csv(output)
    assert table.columns.tolist() == ["0", "ae1", "ae2", "ae3", "-1"]
    assert table["0"].tolist() == ids.tolist()
    assert table["-1"].tolist() == y[:120].tolist()


def test_measured_labels_colour_the_map(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    frame["weight"] = rng.gamma(2.0, size=60)
    frame.to_csv(tmp_path / "data.csv", index=False)
    page = tmp_path / "map.html"
    arguments = ["embed", str(tmp_path / "data.csv"), "-o", str(tmp_path / "z.npy")]
    assert main([*arguments, "--label-column", "weight", "--html", str(page), *FAST]) == 0
    (column,) = _page_data(page)["columns"]
    assert column["name"] == "weight"


@pytest.mark.parametrize(
    "options, names",
    [
        ([], ["ae1", "ae2"]),
        (["--n-components", "4"], ["ae1", "ae2", "ae3", "ae4"]),
        (["--supervised", "--label-column", "-1"], ["supervised1", "supervised2"]),
        (["--tsne"], ["tsne1", "tsne2"]),
        (["--tsne", "--parametric", "--n-components", "8"], ["tsne1", "tsne2"]),
    ],
)
def test_output_columns_have_short_names(options, names):
    args = build_parser().parse_args(["embed", "x.npy", "-o", "z.csv", *options])
    assert output_names(build_embed_pipeline(args, (500, 20))) == names


def _write_inputs(folder):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    frame["kind"] = ["ant", "bee"] * 20
    frame["key"] = [f"k{i}" for i in range(40)]
    frame.to_csv(folder / "data.csv", index=False)
    repeated = frame.assign(key=frame["key"].where(frame.index != 2, "k0"))
    repeated.to_csv(folder / "repeated.csv", index=False)
    frame.assign(key=frame["key"].where(frame.index != 2, None)).to_csv(
        folder / "gaps.csv", index=False
    )
    frame.rename(columns={"key": "ae1"}).to_csv(folder / "taken.csv", index=False)
    frame.rename(columns={"key": "row"}).to_csv(folder / "row.csv", index=False)
    array = np.column_stack([rng.normal(size=(40, 3)), np.arange(40) % 2])
    np.save(folder / "data.npy", array)
    np.save(folder / "fractional.npy", np.column_stack([array, np.arange(40) / 2]))


@pytest.mark.parametrize(
    "command, file, options, message",
    [
        ("embed", "data.csv", ["--id-column", "name"], "unknown column 'name' in"),
        (
            "embed",
            "data.csv",
            ["--drop-columns", "a,colour", "--drop-columns", "size"],
            "--drop-columns names 2 unknown column(s) in {folder}/data.csv: 'colour', "
            "'size'; its columns are: a, b, c, kind, key",
        ),
        (
            "embed",
            "data.csv",
            ["--label-column", "kind", "--drop-columns", "a,kind"],
            "--drop-columns names column 'kind', which --label-column uses",
        ),
        (
            "issues",
            "data.csv",
            ["--label-column", "kind", "--id-column", "key", "--drop-columns", "key"],
            "--drop-columns names column 'key', which --id-column uses",
        ),
        (
            "embed",
            "data.csv",
            ["--id-column", "key", "--label-column", "kind", "--drop-columns", "a,b,c"],
            "has no feature columns left once --drop-columns are dropped",
        ),
        (
            "embed",
            "data.csv",
            ["--id-column", "kind", "--label-column", "kind"],
            "--label-column and --id-column both name column 'kind'",
        ),
        (
            "embed",
            "repeated.csv",
            ["--id-column", "key", "--label-column", "kind"],
            "is not unique: the id 'k0' is in data rows 1 and 3 (1 repeated id(s) in all)",
        ),
        (
            "issues",
            "gaps.csv",
            ["--id-column", "key", "--label-column", "kind"],
            "id column 'key' of {folder}/gaps.csv has 1 missing value(s), the first in "
            "data row 3; every row needs an id",
        ),
        (
            "embed",
            "taken.csv",
            ["--id-column", "ae1", "--label-column", "kind"],
            "--id-column 'ae1' has the name of an output column (ae1, ae2)",
        ),
        (
            "issues",
            "row.csv",
            ["--id-column", "row", "--label-column", "kind"],
            "--id-column 'row' has the name of an output column",
        ),
        (
            "embed",
            "data.npy",
            ["--id-column", "3", "--label-column", "-1"],
            "--label-column -1 and --id-column 3 both name column 3",
        ),
        (
            "embed",
            "data.npy",
            ["--drop-columns", "0,7"],
            "--drop-columns: unknown column '7' in {folder}/data.npy: columns of a .npy "
            "file are named by their index, 0 to 3",
        ),
        (
            "embed",
            "data.csv",
            ["--id-column", "key", "-o", "{folder}/out.npy"],
            "--id-column: a .npy output holds the embedding only",
        ),
        (
            "embed",
            "fractional.npy",
            ["--id-column", "-1"],
            "holds numbers that are not whole (such as 0.5 in data row 2)",
        ),
        (
            "issues",
            "data.csv",
            ["--label-column", "kind", "--id-column", "key", "-o", "{folder}/data.csv/out.csv"],
            "--output {folder}/data.csv/out.csv cannot be written: {folder}/data.csv is a "
            "file, not a folder",
        ),
        (
            "embed",
            "data.csv",
            ["--label-column", "kind", "--id-column", "key", "--html", "{folder}/data.csv/m.html"],
            "--html {folder}/data.csv/m.html cannot be written: {folder}/data.csv is a file",
        ),
    ],
)
def test_bad_columns_exit_with_status_2(tmp_path, capsys, command, file, options, message):
    _write_inputs(tmp_path)
    output = tmp_path / "out.csv"
    options = [option.format(folder=tmp_path) for option in options]
    status = main([command, str(tmp_path / file), "-o", str(output), *options, *FAST[:2]])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ae-reduce {command}: error: ")
    assert message.format(folder=tmp_path) in err
    assert not output.exists()
    assert not output.with_suffix(".npy").exists()


# ae-reduce issues ---------------------------------------------------------------------------


def test_issues_lists_the_rows_that_find_label_issues_finds(iris_csv, tmp_path, capsys):
    from ae_reduce import find_label_issues

    output = tmp_path / "issues.csv"
    arguments = ["issues", str(iris_csv), "--label-column", "species", "--id-column", "plant"]
    arguments += ["--drop-columns", "collector", "--random-state", "0"]
    assert main([*arguments, "-o", str(output)]) == 0
    captured = capsys.readouterr()
    table = pd.read_csv(output)
    assert table.columns.tolist() == [
        "row",
        "plant",
        "given_label",
        "suggested_label",
        "suggested_probability",
        "label_quality",
    ]
    # The same rows as the library function, with its default network and seeding.
    frame = pd.read_csv(iris_csv)
    X = frame.drop(columns=["plant", "collector", "species"]).to_numpy()
    expected = find_label_issues(X, frame["species"].to_numpy(), random_state=0)
    assert table["row"].tolist() == expected.tolist()
    assert set(FLIPPED) <= set(table["row"])
    assert table["plant"].tolist() == frame["plant"][table["row"]].tolist()
    assert table["given_label"].tolist() == frame["species"][table["row"]].tolist()
    assert (table["suggested_label"] != table["given_label"]).all()
    flipped = table.set_index("row").loc[list(FLIPPED)]
    assert flipped["suggested_label"].tolist() == ["setosa", "versicolor", "virginica"]
    assert table["label_quality"].is_monotonic_increasing
    assert table["suggested_probability"].between(0, 1).all()

    assert captured.out.splitlines() == [
        f"Label issues:     {output.resolve()}",
        f"{len(table)} of 150 rows flagged as possible label issues",
    ]
    # One line per network, off a terminal.
    for k in range(1, 6):
        assert captured.err.count(f"supervised, network {k} of 5: epoch ") == 1
    assert f"{len(table)} of 150 rows flagged" in captured.err

    # --all: every row, ranked, the flagged ones first.
    ranked = tmp_path / "ranked.csv"
    assert main([*arguments, "-q", "--all", "-o", str(ranked)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    everything = pd.read_csv(ranked)
    assert everything.columns.tolist()[-1] == "flagged"
    assert sorted(everything["row"]) == list(range(150))
    assert everything["flagged"].tolist() == [True] * len(table) + [False] * (150 - len(table))
    assert everything["row"][: len(table)].tolist() == table["row"].tolist()
    flagged_part = everything["flagged"]
    assert everything["label_quality"][flagged_part].is_monotonic_increasing
    assert everything["label_quality"][~flagged_part].is_monotonic_increasing
    assert f"{len(table)} of 150 rows flagged" in captured.out


@pytest.mark.skipif(not HAS_PYARROW, reason="needs pyarrow")
def test_issues_of_an_npy_file_to_parquet(tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    y = y.copy()
    y[[0, 60, 120]] = [2, 0, 1]
    np.save(tmp_path / "iris.npy", np.column_stack([X, y]))
    output = tmp_path / "issues.parquet"
    arguments = ["issues", str(tmp_path / "iris.npy"), "--label-column", "4", "--cv", "3"]
    assert main([*arguments, "--epochs", "30", "--random-state", "1", "-o", str(output)]) == 0
    table = pd.read_parquet(output)
    assert table.columns.tolist()[:3] == ["row", "given_label", "suggested_label"]
    # Classes stored as floats in a .npy file are written as the integers they are.
    assert table["given_label"].dtype.kind == "i"
    assert "network 3 of 3" in capsys.readouterr().err


@pytest.mark.parametrize(
    "labels, options, message",
    [
        (
            ["ant"] * 20 + ["bee"] * 17 + ["cat"] * 3,
            [],
            "label column 'kind' of {path}: 1 class(es) have fewer rows than the 5 folds of "
            "--cv: 'cat' (3 rows)",
        ),
        (np.linspace(0, 1, 40), [], "holds numbers that are not whole"),
        (["ant"] * 40, [], "holds one class only ('ant')"),
        (["ant"] * 20 + ["bee"] * 20, ["-o", "issues.npy"], "--output issues.npy: unsupported"),
        (["ant"] * 20 + ["bee"] * 20, ["-o", "{path}"], "is the input file"),
    ],
)
def test_issues_refuses_labels_it_cannot_check(tmp_path, capsys, labels, options, message):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)), columns=list("abc"))
    frame["kind"] = labels
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    output = tmp_path / "issues.csv"
    before = path.read_bytes()
    options = [option.format(path=path) for option in options]
    status = main(["issues", str(path), "--label-column", "kind", "-o", str(output), *options])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("ae-reduce issues: error: ")
    assert message.format(path=path) in err
    assert "epoch" not in err
    assert not output.exists()
    assert path.read_bytes() == before


def test_usage_errors_of_the_new_options(capsys):
    for arguments, message in (
        (["issues", "x.csv", "-o", "y.csv"], "--label-column"),
        (["issues", "x.csv", "-o", "y.csv", "--label-column", "k", "--cv", "1"], "2 or more"),
        (["embed", "x.csv", "-o", "y.csv", "--drop-columns", "a,,b"], "comma-separated"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(arguments)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_issues_help_says_how_rows_are_counted(capsys):
    with pytest.raises(SystemExit):
        main(["issues", "--help"])
    text = capsys.readouterr().out
    assert "counting\n                         from 0" in text
    for column in ("given_label", "suggested_label", "suggested_probability", "label_quality"):
        assert column in text


@pytest.mark.parametrize("command", ["issues", "embed"])
def test_labels_spelled_as_one_number_in_two_ways_are_refused(tmp_path, capsys, command):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), columns=list("abc"))
    frame["kind"] = ["01"] * 20 + ["1"] * 20 + ["2"] * 20
    path = tmp_path / "spelled.csv"
    frame.to_csv(path, index=False)
    arguments = [command, str(path), "--label-column", "kind", "-o", str(tmp_path / "out.csv")]
    assert main([*arguments, "--epochs", "2"]) == 2
    assert "writes one number in several ways ('01', '1')" in capsys.readouterr().err


def test_issues_warns_in_one_line_when_the_networks_learn_nothing(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    frame["label"] = rng.choice(["x", "y", "z"], 300)
    data = tmp_path / "noise.csv"
    frame.to_csv(data, index=False)
    output = tmp_path / "issues.csv"
    arguments = ["issues", str(data), "--label-column", "label", "-o", str(output)]
    arguments += ["--epochs", "3", "--random-state", "0"]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "] warning: the cross-fitted model has no signal: " in warnings[0]
    result = "0 of 300 rows flagged as possible label issues; the networks found no signal"
    assert result in captured.out
    assert len(pd.read_csv(output)) == 0
    # -q: results and errors only, and the result still says why no row is flagged.
    assert main([*arguments, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert result in captured.out


# CSV files that are safe to open in a spreadsheet -----------------------------------------

#: Ids that a spreadsheet would run as formulas (each with a row number to make it
#: unique), and what the CSV file holds: "-7..." is a plain number and stays one.
FORMULAS = ["=cmd|' /C calc'!A", "@SUM(1)+", "+1+", "-2+", "\t=", "-7", "plain"]


def _formula_ids(n_rows):
    ids = [f"{FORMULAS[i % len(FORMULAS)]}{i}" for i in range(n_rows)]
    written = [text if text.startswith(("-7", "plain")) else "'" + text for text in ids]
    return ids, written


def _formula_frame(n_rows=60):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n_rows, 4)), columns=list("abcd"))
    frame.insert(0, "=id", _formula_ids(n_rows)[0])
    frame["=label"] = np.where(np.arange(n_rows) % 2, "=1+1", "-x")
    return frame


def _embed_formula_frame(tmp_path, suffix):
    """Embed a CSV file of formula-like ids and labels to an output of `suffix`."""
    frame = _formula_frame()
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    output = tmp_path / f"codes{suffix}"
    arguments = ["embed", str(data), "-o", str(output), "--id-column", "=id"]
    assert main([*arguments, "--label-column", "=label", *FAST, "-q"]) == 0
    return frame, output


@pytest.mark.parametrize("stream", [False, pytest.param(True, marks=pytest.mark.skipif(
    not HAS_PYARROW, reason="the batch reader needs pyarrow"))])  # fmt: skip
def test_embed_writes_formula_ids_and_labels_as_text(tmp_path, monkeypatch, stream):
    from ae_reduce._cli import settings

    if stream:
        monkeypatch.setattr(settings, "STREAM_BYTES", 0)
        monkeypatch.setattr(settings, "IN_MEMORY_BYTES", 0)
    frame, output = _embed_formula_frame(tmp_path, ".csv")
    table = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert table.columns.tolist() == ["'=id", "ae1", "ae2", "'=label"]
    assert table["'=id"].tolist() == _formula_ids(len(frame))[1]
    assert set(table["'=label"]) == {"'=1+1", "'-x"}
    # The codes are numbers, negative ones written with their sign.
    codes = pd.read_csv(output)[["ae1", "ae2"]].to_numpy()
    assert codes.dtype == np.float64 and (codes < 0).any()


@pytest.mark.skipif(not HAS_PYARROW, reason="needs pyarrow")
def test_parquet_keeps_ids_and_labels_as_they_are(tmp_path):
    frame, output = _embed_formula_frame(tmp_path, ".parquet")
    table = pd.read_parquet(output)
    assert table["=id"].tolist() == frame["=id"].tolist()


def test_issues_writes_formula_labels_as_text(tmp_path):
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["plant"] = [f"@p{i}" for i in range(150)]
    frame["species"] = np.array(["=a", "+b", "c"])[y]
    data = tmp_path / "iris.csv"
    frame.to_csv(data, index=False)
    output = tmp_path / "issues.csv"
    arguments = ["issues", str(data), "--label-column", "species", "--id-column", "plant"]
    assert (
        main([*arguments, "--all", "--epochs", "5", "--random-state", "0", "-q", "-o", str(output)])
        == 0
    )
    table = pd.read_csv(output, dtype=str)
    assert table.columns.tolist()[:4] == ["row", "plant", "given_label", "suggested_label"]
    assert set(table["given_label"]) == {"'=a", "'+b", "c"}
    assert set(table["suggested_label"]) <= {"'=a", "'+b", "c"}
    assert table["plant"].str.startswith("'@p").all()


def test_issues_map_reports_the_steps_of_its_t_sne(iris_csv, tmp_path, capsys):
    # The map's t-SNE of thousands of rows takes half a minute: its neighbour search
    # and iterations are reported as those of embed --tsne, not left silent.
    arguments = ["issues", str(iris_csv), "--label-column", "species", "--id-column", "plant"]
    arguments += ["--drop-columns", "collector", "-o", str(tmp_path / "issues.csv")]
    arguments += ["--epochs", "2", "--random-state", "0"]
    assert main([*arguments, "--cv", "3", "--html", str(tmp_path / "map.html")]) == 0
    lines = [line.split("] ", 1)[-1] for line in capsys.readouterr().err.splitlines()]
    start = lines.index("drawing the map of the rows (t-SNE of the scaled features)")
    steps = [line.split(",")[0] for line in lines[start + 1 :] if line.startswith("t-SNE")]
    assert steps[0].startswith("t-SNE: finding the neighbours of 150 rows")
    assert steps[1:3] == [
        "t-SNE early exaggeration: iteration 50/250",
        "t-SNE early exaggeration: iteration 250/250",
    ]
    assert steps[-1] == "t-SNE main phase: iteration 500/500"

    assert main([*arguments, "--cv", "3", "--html", str(tmp_path / "map.html"), "-q"]) == 0
    assert capsys.readouterr().err == ""
