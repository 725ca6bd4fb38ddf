"""The ``ae-reduce`` command line, run in-process through ``main`` and once as a script."""

import importlib.util
import io
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import KFold, LeaveOneOut

from ae_reduce._cli import main
from ae_reduce._cli.progress import Progress, count_fits, fit_progress

pd = pytest.importorskip("pandas")

HAS_OPENTSNE = importlib.util.find_spec("openTSNE") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None

#: A tiny network, so that each command trains in a second or two.
FAST = ["--epochs", "3", "--hidden-layer-sizes", "8", "--random-state", "0"]


@pytest.fixture(scope="module")
def digits_frame():
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:240], columns=[f"pixel{i}" for i in range(64)])
    frame["digit"] = y[:240]
    return frame


@pytest.fixture
def digits_csv(tmp_path, digits_frame):
    path = tmp_path / "digits.csv"
    digits_frame.to_csv(path, index=False)
    return path


def test_help_explains_each_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for word in ("demo", "embed", "issues", "--quiet", "exit status"):
        assert word in text
    for command, options in {
        "demo": ["--out", "--epochs"],
        "embed": ["--label-column", "--supervised", "--n-components", "--tsne", "--plot"],
        "issues": ["--label-column", "--id-column", "--drop-columns", "--cv", "--all"],
    }.items():
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert all(option in text for option in options)


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "required" in capsys.readouterr().err


def test_embed_npy_to_npy_reports_progress(tmp_path, capsys):
    X, _ = load_digits(return_X_y=True)
    np.save(tmp_path / "x.npy", X[:200])
    status = main(["embed", str(tmp_path / "x.npy"), "-o", str(tmp_path / "z.npy"), *FAST])
    assert status == 0
    assert np.load(tmp_path / "z.npy").shape == (200, 2)
    captured = capsys.readouterr()
    # Not a terminal: one line for the whole fit, not one per epoch.
    assert captured.err.count("epoch") == 1
    assert "autoencoder: epoch 3/3, loss " in captured.err
    assert "\r" not in captured.err
    assert str((tmp_path / "z.npy").resolve()) in captured.out


def test_npy_label_column_is_an_index(tmp_path):
    X, y = load_digits(return_X_y=True)
    np.save(tmp_path / "xy.npy", np.column_stack([X[:150], y[:150]]))
    output = tmp_path / "z.csv"
    status = main(
        ["embed", str(tmp_path / "xy.npy"), "-o", str(output), "--label-column", "-1", "-q", *FAST]
    )
    assert status == 0
    table = pd.read_csv(output)
    assert table.shape == (150, 3)
    assert table["-1"].tolist() == y[:150].tolist()


@pytest.mark.skipif(not (HAS_OPENTSNE and HAS_MATPLOTLIB), reason="needs openTSNE, matplotlib")
def test_embed_csv_with_tsne_plot_and_html(digits_csv, tmp_path, capsys):
    output = tmp_path / "map.csv"
    status = main(
        [
            "embed",
            str(digits_csv),
            "--label-column",
            "digit",
            "--tsne",
            "--n-components",
            "4",
            "-o",
            str(output),
            "--plot",
            str(tmp_path / "map.png"),
            "--html",
            str(tmp_path / "map.html"),
            *FAST,
        ]
    )
    assert status == 0
    table = pd.read_csv(output)
    assert table.columns.tolist() == ["tsne1", "tsne2", "digit"]
    assert len(table) == 240
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    assert "<html" in (tmp_path / "map.html").read_text().lower()
    err = capsys.readouterr().err
    assert "t-SNE early exaggeration" in err
    assert "t-SNE main phase" in err


@pytest.mark.skipif(not HAS_PYARROW, reason="needs pyarrow")
def test_embed_parquet_quietly(tmp_path, digits_frame, capsys):
    digits_frame.to_parquet(tmp_path / "digits.parquet")
    output = tmp_path / "codes.parquet"
    status = main(
        [
            "embed",
            str(tmp_path / "digits.parquet"),
            "-o",
            str(output),
            "--n-components",
            "3",
            "--label-column",
            "digit",
            "-q",
            *FAST,
        ]
    )
    assert status == 0
    assert pd.read_parquet(output).shape == (240, 4)
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(not HAS_OPENTSNE, reason="needs openTSNE")
def test_embed_supervised_with_tsne(digits_csv, tmp_path, capsys):
    status = main(
        [
            "embed",
            str(digits_csv),
            "--label-column",
            "digit",
            "--supervised",
            "--tsne",
            "-o",
            str(tmp_path / "map.npy"),
            *FAST,
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert np.load(tmp_path / "map.npy").shape == (240, 2)
    # Cross-fitting trains one network per fold, then one on all rows.
    err = capsys.readouterr().err
    for k in range(1, 7):
        assert f"supervised, network {k} of 6: epoch " in err


#: Few t-SNE iterations, so that a parametric map trains in seconds.
FEW_ITERATIONS = ["--tsne-iter", "30", "--exaggeration-iter", "20"]


@pytest.mark.skipif(not (HAS_OPENTSNE and HAS_MATPLOTLIB), reason="needs openTSNE, matplotlib")
def test_embed_with_parametric_tsne(digits_csv, tmp_path, capsys):
    output = tmp_path / "map.csv"
    arguments = ["embed", str(digits_csv), "--label-column", "digit", "--tsne", "--parametric"]
    arguments += ["-o", str(output), "--plot", str(tmp_path / "map.png")]
    status = main([*arguments, *FEW_ITERATIONS, *FAST])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    table = pd.read_csv(output)
    assert table.columns.tolist() == ["tsne1", "tsne2", "digit"]
    assert len(table) == 240
    assert np.isfinite(table[["tsne1", "tsne2"]].to_numpy()).all()
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    assert "then parametric t-SNE" in captured.err
    assert "parametric t-SNE: 50 iterations, loss " in captured.err
    # Progress while it trains: the first check's line, and the last one's.
    assert "parametric t-SNE: iteration 50/50, loss " in captured.err
    # openTSNE's phases are not run, and nothing but the results reaches standard output.
    assert "t-SNE early exaggeration:" not in captured.err
    assert [line.split(":")[0] for line in captured.out.splitlines()] == [
        "Embedding",
        "Map picture",
    ]


def test_tsne_options_reach_the_map():
    from ae_reduce import TSNE, ParametricTSNE
    from ae_reduce._cli.embed import build_embed_pipeline
    from ae_reduce._cli.parser import build_parser

    arguments = ["embed", "x.npy", "-o", "z.npy", "--tsne", "--perplexity", "7"]
    arguments += ["--tsne-iter", "40", "--exaggeration-iter", "0", "--random-state", "5"]
    for extra, kind in (([], TSNE), (["--parametric"], ParametricTSNE)):
        args = build_parser().parse_args([*arguments, *extra])
        pipeline = build_embed_pipeline(args, (500, 64))
        assert [name for name, _ in pipeline.steps] == ["scaler", "reducer", "tsne"]
        tsne = pipeline["tsne"]
        assert type(tsne) is kind
        assert (tsne.perplexity, tsne.n_iter, tsne.early_exaggeration_iter) == (7, 40, 0)
        assert tsne.random_state == 5
    # Without the options, each map keeps its own defaults.
    args = build_parser().parse_args(["embed", "x.npy", "-o", "z.npy", "--tsne", "--parametric"])
    tsne = build_embed_pipeline(args, (500, 64))["tsne"]
    defaults = ParametricTSNE()
    assert (tsne.n_iter, tsne.early_exaggeration_iter) == (
        defaults.n_iter,
        defaults.early_exaggeration_iter,
    )


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_iteration_counts_must_be_whole_numbers(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", "x.csv", "-o", "z.npy", "--tsne", "--tsne-iter", value])
    assert exit_info.value.code == 2
    assert "expected a whole number of 0 or more" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0.2", "1e-6", "0", "nan"])
@pytest.mark.parametrize("parametric", [[], ["--parametric"]])
def test_perplexity_below_one_third_is_refused_before_training(value, parametric, capsys):
    # Regression: openTSNE failed inside the fit ("Expected n_neighbors > 0. Got 0").
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", "x.csv", "-o", "z.npy", "-q", "--tsne", *parametric, "--perplexity", value])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "argument --perplexity: expected a number of at least 1/3" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("value", ["-1", "4294967296", "seven"])
@pytest.mark.parametrize("command", ["embed", "issues", "demo"])
def test_a_seed_out_of_range_is_refused_before_training(value, command, capsys):
    # Regression: -1 reached the estimator, which refused "The 'random_state'
    # parameter of KerasAutoencoderTransformer" with exit status 1.
    arguments = {
        "embed": ["embed", "x.csv", "-o", "z.npy"],
        "issues": ["issues", "x.csv", "-o", "z.csv", "--label-column", "y"],
        "demo": ["demo"],
    }[command]
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--random-state", value])
    assert exit_info.value.code == 2
    assert (
        f"argument --random-state: expected a seed from 0 to 4294967295, got '{value}'"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize("options", [[], ["--tsne"], ["--tsne", "--parametric"]])
def test_a_code_wider_than_the_features_is_refused_before_training(tmp_path, options, capsys):
    # Regression: the autoencoder refused "n_components=5 must be at most n_features=4"
    # after the start of the fit, in Python's words, with exit status 1.
    data = tmp_path / "x.csv"
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 4)), columns=list("abcd"))
    frame.to_csv(data, index=False)
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *options, *FAST]
    assert main([*arguments, "--n-components", "5"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"ae-reduce embed: error: --n-components 5 is more than the 4 feature column(s) of "
        f"{data}: the autoencoder's code is at most as wide as its input, so use "
        "--n-components 4 or less\n"
    )
    assert not (tmp_path / "z.npy").exists()


@pytest.mark.skipif(not HAS_OPENTSNE, reason="needs openTSNE")
@pytest.mark.parametrize("parametric", [[], ["--parametric"]])
def test_smallest_perplexity_maps_quietly(tmp_path, parametric, capsys):
    # With -q nothing but the path written reaches standard output, and nothing at all
    # standard error, whichever map draws it.
    X, _ = load_digits(return_X_y=True)
    np.save(tmp_path / "x.npy", X[:60])
    output = tmp_path / "z.npy"
    arguments = ["embed", str(tmp_path / "x.npy"), "-o", str(output), "-q", "--tsne"]
    arguments += [*parametric, "--perplexity", "0.3333333333333333", *FEW_ITERATIONS, *FAST]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    assert [line.split(":")[0] for line in captured.out.splitlines()] == ["Embedding"]
    assert captured.err == ""
    assert np.isfinite(np.load(output)).all()


class _Terminal(io.StringIO):
    """Standard error as a terminal: lines are redrawn in place."""

    def isatty(self):
        return True


class _Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _train(callback, clock, epochs, epochs_run=None, seconds_per_epoch=2.0):
    """Call the hooks in the order a training loop does, epoch-level hooks only."""
    callback.set_params({"epochs": epochs})
    callback.on_train_begin()
    for epoch in range(epochs if epochs_run is None else epochs_run):
        callback.on_epoch_begin(epoch)
        clock.now += seconds_per_epoch
        callback.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "val_loss": 2.0 / (epoch + 1)})
    callback.on_train_end()


def test_progress_bar_on_a_terminal_while_cross_fitting(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    stream, clock = _Terminal(), _Clock()
    callback = fit_progress("supervised", Progress(False, stream), n_fits=6, clock=clock)
    for _ in range(6):
        _train(callback, clock, epochs=10)
    text = stream.getvalue()
    # One line per network, each redrawn in place.
    lines = text.split("\n")
    assert lines[-1] == ""
    assert len(lines) == 7
    for k, line in enumerate(lines[:-1], start=1):
        assert line.startswith("\r")
        assert line.count("\r") > 2
        assert f"supervised, network {k} of 6: " in line
    first_line = lines[0].split("\r")
    # After 4 epochs of 2 s the next 6 will take about 12 s; the first epoch, which
    # builds the graph, is left out of the pace.
    assert any("epoch 4/10, loss 0.25, val_loss 0.5, up to 12s left" in draw for draw in first_line)
    assert "[########............]" in lines[0]
    last_draw = first_line[-1]
    assert "[####################] epoch 10/10, loss 0.1, val_loss 0.2, took 20s" in last_draw


def test_progress_bar_says_when_training_stopped_early(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    stream, clock = _Terminal(), _Clock()
    callback = fit_progress("autoencoder", Progress(False, stream), clock=clock)
    _train(callback, clock, epochs=200, epochs_run=30)
    last_draw = stream.getvalue().split("\r")[-1]
    assert "autoencoder: [###.................] epoch 30/200 (stopped early)" in last_draw
    assert last_draw.endswith("took 1m00s\n")
    assert "network" not in stream.getvalue()


@pytest.mark.parametrize("columns", [40, 80, 100, 200])
def test_progress_bar_fits_the_terminal(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    stream, clock = _Terminal(), _Clock()
    callback = fit_progress("supervised", Progress(False, stream), n_fits=6, clock=clock)
    _train(callback, clock, epochs=200, epochs_run=50)
    draws = stream.getvalue().split("\r")[1:]
    # A line as wide as the terminal would wrap, and each redraw would leave a copy of
    # its first row behind.
    assert all(len(draw.rstrip("\n")) < columns for draw in draws)
    (draw,) = [draw for draw in draws if "epoch 30/" in draw]
    if columns >= 80:
        # What matters most survives on an 80-column terminal; the bar goes first.
        assert "network 1 of 6: " in draw
        assert "epoch 30/200, loss 0.03333, val_loss 0.06667, up to 5m40s left" in draw
    if columns >= 200:
        assert "supervised, network 1 of 6: [###.................] epoch 30/200" in draw
    # Once shortened, a line stays short rather than changing shape at each redraw.
    stamped = [draw.startswith("[") for draw in draws]
    assert stamped == sorted(stamped, reverse=True)


def test_progress_off_a_terminal_is_a_line_per_fit():
    stream, clock = io.StringIO(), _Clock()
    callback = fit_progress("supervised", Progress(False, stream), n_fits=3, clock=clock)
    for _ in range(3):
        _train(callback, clock, epochs=100, seconds_per_epoch=0.01)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert "\r" not in stream.getvalue()
    assert lines[2].endswith(
        "supervised, network 3 of 3: epoch 100/100, loss 0.01, val_loss 0.02, took 1.0s"
    )


def test_a_long_fit_off_a_terminal_reports_now_and_then():
    stream, clock = io.StringIO(), _Clock()
    callback = fit_progress("autoencoder", Progress(False, stream), clock=clock)
    _train(callback, clock, epochs=100, seconds_per_epoch=3.0)
    lines = stream.getvalue().splitlines()
    # 300 s of training: a line every 10 s, then the last one.
    assert 15 <= len(lines) <= 31
    assert "left" in lines[0]
    assert "took 5m00s" in lines[-1]


def test_progress_without_the_number_of_epochs(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    stream, clock = _Terminal(), _Clock()
    callback = fit_progress("autoencoder", Progress(False, stream), clock=clock)
    callback.on_train_begin()
    for epoch in range(3):
        clock.now += 1.0
        callback.on_epoch_end(epoch, {"loss": 0.5})
    callback.on_train_end()
    assert stream.getvalue().split("\r")[-1].endswith("epoch 3, loss 0.5, took 3.0s\n")


def test_quiet_progress_writes_nothing():
    stream, clock = _Terminal(), _Clock()
    progress = Progress(True, stream)
    _train(fit_progress("autoencoder", progress, clock=clock), clock, epochs=5)
    progress("a message")
    assert stream.getvalue() == ""


def test_embed_says_when_the_autoencoder_kept_the_pca_start(tmp_path, capsys):
    # Regression: a fit in which no epoch beat PCA said only "(stopped early)", and the
    # user took PCA's code for a trained network's. Rows on a plane: PCA(2) already
    # reconstructs them exactly, so every epoch can only do worse.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 6))
    path = tmp_path / "plane.csv"
    pd.DataFrame(X, columns=[f"c{i}" for i in range(6)]).to_csv(path, index=False)
    argv = ["embed", str(path), "-o", str(tmp_path / "z.npy"), "--epochs", "25"]
    assert main([*argv, "--hidden-layer-sizes", "8", "--random-state", "0"]) == 0
    lines = capsys.readouterr().err.splitlines()
    (finished,) = [i for i, line in enumerate(lines) if "(stopped early)" in line]
    assert lines[finished + 1].endswith(
        "autoencoder: kept the PCA starting point: no epoch beat it on the validation rows"
    )


def test_progress_names_a_kept_start_only_when_the_weights_are_the_start():
    from ae_reduce._keras.backend import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    for moved, expected in ((False, 1), (True, 0)):
        stream, clock = io.StringIO(), _Clock()
        callback = fit_progress("supervised", Progress(False, stream), clock=clock)
        callback.set_model(model)
        callback.set_params({"epochs": 5})
        callback.on_train_begin()
        for epoch in range(2):
            callback.on_epoch_end(epoch, {"loss": 1.0})
        if moved:
            kernel, bias = model.get_weights()
            model.set_weights([kernel + 1.0, bias])
        callback.on_train_end()
        text = stream.getvalue()
        assert text.count("kept the starting point: no epoch beat it on the training rows") == (
            expected
        )


def test_a_message_after_an_unfinished_bar_starts_a_new_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    stream, clock = _Terminal(), _Clock()
    progress = Progress(False, stream)
    callback = fit_progress("autoencoder", progress, clock=clock)
    callback.set_params({"epochs": 10})
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 1.0})
    progress("interrupted")
    bar, message = stream.getvalue().rsplit("\n", 2)[:2]
    assert "epoch 1/10, loss 1" in bar
    assert message.startswith("[") and message.endswith("s] interrupted")


@pytest.mark.parametrize(
    "cv, n_fits",
    [(None, 1), (5, 6), (KFold(3), 4), (LeaveOneOut(), None), ([([0], [1]), ([1], [0])], 3)],
)
def test_count_fits(cv, n_fits):
    assert count_fits(SimpleNamespace(cv=cv)) == n_fits
    assert count_fits(object()) == 1


@pytest.mark.parametrize(
    "make_arguments, message",
    [
        (lambda d: ["embed", str(d / "absent.csv"), "-o", str(d / "z.npy")], "not found"),
        (lambda d: ["embed", str(d / "x.txt"), "-o", str(d / "z.npy")], "unsupported extension"),
        (lambda d: ["embed", str(d / "digits.csv"), "-o", str(d / "z.json")], "--output"),
        (lambda d: ["embed", str(d / "digits.csv"), "-o", str(d / "folder.csv")], "is a folder"),
        (
            lambda d: (
                ["embed", str(d / "digits.csv"), "-o", str(d / "z.npy"), "--label-column", "colour"]
            ),
            "unknown column 'colour'",
        ),
        (
            lambda d: ["embed", str(d / "text.csv"), "-o", str(d / "z.npy")],
            "column 'name' of",
        ),
        (
            lambda d: ["embed", str(d / "digits.csv"), "-o", str(d / "z.npy"), "--supervised"],
            "--supervised needs --label-column",
        ),
        (
            lambda d: (
                [
                    "embed",
                    str(d / "digits.csv"),
                    "-o",
                    str(d / "z.npy"),
                    "--n-components",
                    "5",
                    "--plot",
                    str(d / "z.png"),
                ]
            ),
            "2-D",
        ),
        (
            lambda d: ["embed", str(d / "digits.csv"), "-o", str(d / "z.npy"), "--parametric"],
            "--parametric applies to the t-SNE map; add --tsne",
        ),
        (
            lambda d: ["embed", str(d / "digits.csv"), "-o", str(d / "z.npy"), "--tsne-iter", "9"],
            "--tsne-iter applies to the t-SNE map; add --tsne",
        ),
    ],
)
def test_input_errors_exit_with_status_2(tmp_path, digits_csv, make_arguments, message, capsys):
    (tmp_path / "x.txt").write_text("1,2\n")
    (tmp_path / "folder.csv").mkdir()
    pd.DataFrame({"name": ["a", "b", "c", "d"], "value": [1.0, 2.0, 3.0, 4.0]}).to_csv(
        tmp_path / "text.csv", index=False
    )
    status = main([*make_arguments(tmp_path), "-q"])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("ae-reduce embed: error:")
    assert message in err


def test_missing_values_are_reported(tmp_path, capsys):
    pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 4.0]}).to_csv(
        tmp_path / "gaps.csv", index=False
    )
    assert main(["embed", str(tmp_path / "gaps.csv"), "-o", str(tmp_path / "z.npy")]) == 2
    assert "missing or infinite values in 1 column(s): a" in capsys.readouterr().err


def test_bad_option_values_are_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", "x.csv", "-o", "z.npy", "--n-components", "0"])
    assert exit_info.value.code == 2
    assert "positive integer" in capsys.readouterr().err


def test_failures_while_fitting_exit_with_status_1(tmp_path, capsys):
    # Values near float32's largest, left unscaled, overflow the fit's linear algebra.
    X = np.random.RandomState(0).normal(size=(50, 4)) * 1e30
    np.save(tmp_path / "x.npy", X)
    arguments = ["embed", str(tmp_path / "x.npy"), "-o", str(tmp_path / "z.npy"), "-q"]
    status = main([*arguments, "--scaler", "none", *FAST])
    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("ae-reduce embed: error: ")
    assert error.count("\n") == 1
    assert not (tmp_path / "z.npy").exists()


def _console_script():
    script = Path(sys.executable).with_name("ae-reduce")
    return script if script.exists() else None


@pytest.mark.skipif(
    not (_console_script() and HAS_OPENTSNE and HAS_MATPLOTLIB),
    reason="needs the installed ae-reduce script, openTSNE and matplotlib",
)
def test_demo_through_the_console_script(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [str(_console_script()), "demo", "-q", "--out", str(out), "--epochs", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in ("map.png", "map.html", "history.png"):
        assert (out / name).stat().st_size > 1000
        assert str((out / name).resolve()) in result.stdout
    # Neither progress, nor warnings, nor TensorFlow's start-up lines.
    assert result.stderr == ""


# Regression tests: data loss ----------------------------------------------------------


def _small_npy(path, n_samples=40, n_features=5):
    np.save(path, np.random.default_rng(0).normal(size=(n_samples, n_features)))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink"])
def test_an_output_that_is_the_input_is_refused(tmp_path, monkeypatch, capsys, suffix, spelling):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        pd.DataFrame(
            {"a": [1.0, 2.0, 3.0, 4.0], "b": [4.0, 3.0, 2.0, 1.0], "y": [0, 1, 0, 1]}
        ).to_csv(data, index=False)
    else:
        _small_npy(data)
    before = data.read_bytes()
    output = {
        "same": f"data{suffix}",
        "dot": f"./sub/../data{suffix}",
        "symlink": f"link{suffix}",
        "hardlink": f"hard{suffix}",
    }[spelling]
    (tmp_path / "sub").mkdir()
    if spelling == "symlink":
        (tmp_path / output).symlink_to(data)
    if spelling == "hardlink":
        (tmp_path / output).hardlink_to(data)
    label = ["--label-column", "y" if suffix == ".csv" else "-1"]
    status = main(["embed", f"data{suffix}", "-o", output, *label, *FAST])
    assert status == 2
    assert "is the input file" in capsys.readouterr().err
    assert data.read_bytes() == before


def test_pictures_that_are_the_input_or_each_other_are_refused(tmp_path, capsys):
    data = _small_npy(tmp_path / "data.npy")
    before = data.read_bytes()
    (tmp_path / "map.html").symlink_to(data)
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST]
    assert main([*arguments, "--html", str(tmp_path / "map.html")]) == 2
    assert "--html" in capsys.readouterr().err
    assert data.read_bytes() == before
    (tmp_path / "map.png").symlink_to(tmp_path / "z.npy")
    assert main([*arguments, "--plot", str(tmp_path / "map.png")]) == 2
    assert "are the same file" in capsys.readouterr().err
    assert not (tmp_path / "z.npy").exists()


def test_a_name_that_is_not_utf8_does_not_destroy_an_existing_map(tmp_path, capsys):
    # Bytes that are not UTF-8 reach Python as lone surrogates (os.fsdecode), and
    # these once broke the page's encoding after the old map had been truncated.
    data = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.npy"))
    _small_npy(data)
    old_map = tmp_path / "map.html"
    old_map.write_text("<html>an earlier map</html>", encoding="utf-8")
    status = main(
        ["embed", str(data), "-o", str(tmp_path / "z.npy"), "--html", str(old_map), *FAST]
    )
    assert status == 0, capsys.readouterr().err
    page = old_map.read_text(encoding="utf-8")
    assert "<title>caf\ufffd.npy</title>" in page
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


@pytest.mark.skipif(_console_script() is None, reason="needs the installed ae-reduce script")
def test_paths_that_are_not_utf8_are_printed_as_bytes(tmp_path):
    data = _small_npy(tmp_path / "x.npy")
    output = os.fsdecode(bytes(tmp_path) + b"/r\xe9sultat.npy")
    result = subprocess.run(
        [str(_console_script()), "embed", str(data), "-o", output, "-q", *FAST],
        capture_output=True,
        timeout=300,
        check=False,
        # A strict standard output, as under most UTF-8 locales other than C.UTF-8.
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"r\xe9sultat.npy\n" in result.stdout
    assert np.load(output).shape == (40, 2)


# Regression tests: silent wrong results and unclear errors -------------------------------


def test_complex_npy_is_refused(tmp_path, capsys):
    np.save(tmp_path / "c.npy", np.ones((20, 3)) + 1j)
    status = main(["embed", str(tmp_path / "c.npy"), "-o", str(tmp_path / "z.npy"), *FAST])
    assert status == 2
    assert "Complex data not supported" in capsys.readouterr().err
    assert not (tmp_path / "z.npy").exists()


@pytest.mark.parametrize(
    "make_file, message",
    [
        (
            lambda p: np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True),
            "Python objects",
        ),
        (lambda p: p.write_bytes(pickle.dumps({"a": 1})), "not a NumPy .npy file"),
        (lambda p: np.savez(open(p, "wb"), a=np.zeros(3)), "a .npz archive"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: np.save(p, np.array(["a", "b"])), "not numeric"),
        (lambda p: np.save(p, np.zeros((0, 3))), "no data rows"),
        (lambda p: np.save(p, np.zeros(4)), "2-D array"),
    ],
)
def test_unreadable_npy_files_are_input_errors(tmp_path, capsys, make_file, message):
    path = tmp_path / "x.npy"
    make_file(path)
    assert main(["embed", str(path), "-o", str(tmp_path / "z.npy")]) == 2
    assert message in capsys.readouterr().err


def test_a_csv_with_a_header_and_no_rows(tmp_path, capsys):
    (tmp_path / "header.csv").write_text("a,b,c\n")
    assert main(["embed", str(tmp_path / "header.csv"), "-o", str(tmp_path / "z.npy")]) == 2
    err = capsys.readouterr().err
    assert "has no data rows" in err
    assert "not numeric" not in err


def test_a_missing_label_is_refused_before_any_output(tmp_path, capsys):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=list("abc"))
    frame["kind"] = ["ant", "bee", "cat"] * 10
    frame.loc[7, "kind"] = None
    frame.to_csv(tmp_path / "data.csv", index=False)
    output = tmp_path / "z.csv"
    output.write_text("an earlier result\n")
    status = main(
        [
            "embed",
            str(tmp_path / "data.csv"),
            "-o",
            str(output),
            "--label-column",
            "kind",
            "--html",
            str(tmp_path / "map.html"),
            *FAST,
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "label column 'kind'" in err and "1 missing" in err and "row 8" in err
    assert output.read_text() == "an earlier result\n"
    assert not (tmp_path / "map.html").exists()


@pytest.mark.parametrize("tsne", [[], ["--tsne"]])
def test_supervised_learns_a_float_label_as_a_value(tmp_path, tsne, capsys):
    # Regression: a column of whole grams written as floats (3750.0), which the maps
    # colour on a scale, was learnt as one class per value.
    from ae_reduce._cli.embed import build_embed_pipeline
    from ae_reduce._cli.inputs import dropped_columns, load_data
    from ae_reduce._cli.parser import build_parser

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["mass"] = np.round(3000 + 500 * X[:, 0] + 25 * np.arange(60)).astype(float)
    frame["kind"] = np.arange(60) % 3
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.csv"), "--supervised", *tsne]
    for label, task in (("mass", "regression"), ("kind", "auto")):
        options = ["--label-column", label, "--drop-columns", ({"mass", "kind"} - {label}).pop()]
        args = build_parser().parse_args([*arguments, *options])
        dropped = dropped_columns(args)
        features, labels, _, _ = load_data(str(data), label, None, dropped, False)
        pipeline = build_embed_pipeline(args, features.shape, labels)
        assert pipeline["reducer"].task == task
    assert main([*arguments, *options, *FAST]) == 0
    assert pd.read_csv(tmp_path / "z.csv")["kind"].tolist() == frame["kind"].tolist()


def test_supervised_with_a_missing_label_speaks_of_the_command_line(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(30, 4))
    X[:, -1] = np.arange(30) % 2
    X[3, -1] = np.nan
    np.save(tmp_path / "x.npy", X)
    arguments = ["embed", str(tmp_path / "x.npy"), "-o", str(tmp_path / "z.npy")]
    assert main([*arguments, "--label-column", "-1", "--supervised", *FAST]) == 2
    err = capsys.readouterr().err
    assert "missing" in err
    assert "reconstruction_weight" not in err
    X[3, -1] = 1
    X[:, 0] = 5
    np.save(tmp_path / "x.npy", X)
    assert main([*arguments, "--label-column", "0", "--supervised", *FAST]) == 2
    assert "one class only (5)" in capsys.readouterr().err


def test_quiet_before_the_subcommand(tmp_path, capsys):
    data = _small_npy(tmp_path / "x.npy")
    assert main(["-q", "embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "z.npy" in captured.out


def test_label_column_with_the_name_of_an_output_column(tmp_path, capsys):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=list("abc"))
    frame["ae1"] = np.arange(30) % 3
    frame.to_csv(tmp_path / "data.csv", index=False)
    arguments = ["embed", str(tmp_path / "data.csv"), "-o", str(tmp_path / "z.csv")]
    assert main([*arguments, "--label-column", "ae1", *FAST]) == 2
    err = capsys.readouterr().err
    assert "--label-column 'ae1' has the name of an output column (ae1, ae2)" in err
    # Refused before training: no progress line of a fit.
    assert "epoch" not in err
    assert not (tmp_path / "z.csv").exists()


# Regression tests: the library's defaults and out-of-core reading -----------------------


@pytest.mark.parametrize(
    "supervised, n_features, hidden",
    [
        (False, 10, (128, 64)),
        (False, 400, (128, 64)),
        (True, 10, (128, 64)),
        (True, 400, (512, 256)),
    ],
)
def test_without_tsne_the_network_is_sized_as_make_tsne_pipeline_sizes_it(
    supervised, n_features, hidden
):
    from ae_reduce._cli.embed import build_embed_pipeline
    from ae_reduce._cli.parser import build_parser

    arguments = ["embed", "x.npy", "-o", "z.npy"]
    if supervised:
        arguments += ["--supervised", "--label-column", "-1"]
    args = build_parser().parse_args(arguments)
    reducer = build_embed_pipeline(args, (500, n_features))["reducer"]
    assert reducer.hidden_layer_sizes == hidden
    assert reducer.n_components == 2
    args = build_parser().parse_args([*arguments, "--hidden-layer-sizes", "8"])
    assert build_embed_pipeline(args, (500, n_features))["reducer"].hidden_layer_sizes == (8,)


_PEAK_SCRIPT = """
import sys
import tempfile
from ae_reduce._cli.inputs import load_input

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

before = peak_kb()
X, labels, names = load_input(sys.argv[1], None)
print(type(X).__name__, X.dtype, peak_kb() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_npy_input_is_mapped_not_loaded(tmp_path):
    # 24 MB of float32: read whole (and converted to float64, as before) it would cost
    # 3 times that; mapped and checked in blocks read from the file, very little.
    path = tmp_path / "large.npy"
    np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(100_000, 60))[:] = 1.0
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    kind, dtype, grown_kb = result.stdout.split()
    assert (kind, dtype) == ("memmap", "float32")
    assert int(grown_kb) < 8_000, result.stdout


# Files larger than memory: read batch by batch, trained from a temporary file ----------


def _both_readers(monkeypatch, arguments, from_file, capsys=None):
    """Run ``arguments`` with the whole-file reader, then the batch reader; return the
    two exit statuses (and error outputs when `capsys` is given)."""
    from ae_reduce._cli import settings

    monkeypatch.setattr(settings, "IN_MEMORY_BYTES", 0 if from_file else 2**40)
    results = []
    for stream_bytes in (2**60, 0):
        monkeypatch.setattr(settings, "STREAM_BYTES", stream_bytes)
        reader = "whole" if stream_bytes else "batches"
        status = main([argument.format(reader=reader) for argument in arguments])
        results.append((status, capsys.readouterr().err if capsys else None))
    return results


def _refused_alike(monkeypatch, arguments, from_file, capsys):
    """Run ``arguments`` with both readers, check that both refuse the input (exit
    status 2) in the same words, and return those words."""
    (whole, whole_error), (batches, batches_error) = _both_readers(
        monkeypatch, arguments, from_file, capsys
    )
    assert whole == batches == 2
    assert whole_error == batches_error
    return batches_error


def _write_frame(frame, path):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize(
    "suffix, output, options, from_file",
    [
        (".csv", ".csv", ["--id-column", "id"], True),
        (".parquet", ".npy", ["--drop-columns", "id"], False),
        # In memory: cross-fitting trains six networks, which from a file is slow.
        (".parquet", ".parquet", ["--id-column", "id", "--supervised"], False),
    ],
)
def test_the_embedding_does_not_depend_on_the_reader(
    tmp_path, digits_frame, monkeypatch, suffix, output, options, from_file
):
    frame = digits_frame.copy()
    frame.insert(0, "id", [f"row{i:03d}" for i in range(len(frame))])
    data = tmp_path / f"digits{suffix}"
    _write_frame(frame, data)
    # Training from a file writes the output in pieces: several of them here.
    from ae_reduce._cli import settings

    monkeypatch.setattr(settings, "OUTPUT_ROWS", 70)
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    arguments = ["embed", str(data), "-o", str(tmp_path / f"{{reader}}{output}")]
    arguments += ["--label-column", "digit", *options, *FAST, "-q"]
    assert _both_readers(monkeypatch, arguments, from_file) == [(0, None), (0, None)]
    whole, batches = tmp_path / f"whole{output}", tmp_path / f"batches{output}"
    if output == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(whole), pd.read_parquet(batches))
        assert list(pd.read_parquet(whole).columns) == ["id", "supervised1", "supervised2", "digit"]
    else:
        assert whole.read_bytes() == batches.read_bytes()
    # Nothing is left of the temporary files (TensorFlow leaves some of its own).
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [data.name, whole.name, batches.name, temporary.name]
    )
    assert not [path for path in temporary.iterdir() if "ae-reduce" in path.name]


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
def test_the_batch_reader_names_csv_columns_as_pandas_does(tmp_path, monkeypatch):
    # DataFrame.to_csv writes its index under an empty name, which pandas reads back as
    # "Unnamed: 0"; a repeated name is read as "a" and "a.1". Arrow refused the repeated
    # name and called the index column "", so --drop-columns "Unnamed: 0" failed on a
    # large file only.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "a"])
    data = tmp_path / "indexed.csv"
    frame.to_csv(data)
    arguments = ["embed", str(data), "-o", str(tmp_path / "{reader}.csv")]
    arguments += ["--drop-columns", "Unnamed: 0", "--id-column", "a.1", *FAST, "-q"]
    assert _both_readers(monkeypatch, arguments, from_file=False) == [(0, None), (0, None)]
    assert (tmp_path / "whole.csv").read_bytes() == (tmp_path / "batches.csv").read_bytes()


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize(
    "change, options, message",
    [
        (
            lambda f: f.assign(pixel3="x"),
            [],
            "column 'pixel3' of .* is not numeric: 'x' in data row 1 is not a number",
        ),
        (
            lambda f: f.assign(pixel5=f["pixel5"].where(f.index != 7)),
            [],
            "missing or infinite values in 1 column\\(s\\): pixel5",
        ),
        (lambda f: f, ["--label-column", "colour"], "unknown column 'colour'"),
        (lambda f: f, ["--drop-columns", "nothing"], "--drop-columns names 1 unknown column"),
        (
            lambda f: f.assign(digit=f["digit"].where(f.index != 9)),
            ["--label-column", "digit"],
            "label column 'digit' .* 1 missing or infinite value\\(s\\), the first in data row 10",
        ),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_both_readers_refuse_the_same_input(
    tmp_path, digits_frame, monkeypatch, capsys, change, options, message, suffix
):
    data = tmp_path / f"bad{suffix}"
    _write_frame(change(digits_frame), data)
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *options, *FAST]
    batches_error = _refused_alike(monkeypatch, arguments, True, capsys)
    assert re.search(message, batches_error), batches_error


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize(
    "suffix, n_rows, row",
    [
        (".csv", 240, 200),
        # Far past the first megabyte of text, from which Arrow guesses the column types:
        # the batch reader meets the word only while converting the column to numbers.
        (".csv", 40_000, 39_990),
        (".parquet", 240, 200),
    ],
)
def test_a_non_numeric_value_is_shown_with_its_row_by_both_readers(
    tmp_path, monkeypatch, capsys, suffix, n_rows, row
):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(n_rows, 3)), columns=list("abc"))
    # Text columns, as Parquet stores a column that holds a word among its numbers.
    frame[["b", "c"]] = frame[["b", "c"]].round(3).astype(str)
    frame.loc[row - 1, "b"] = "oops"
    frame.loc[row + 2, "c"] = "later"
    data = tmp_path / f"typo{suffix}"
    _write_frame(frame, data)
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST, "-q"]
    batches_error = _refused_alike(monkeypatch, arguments, False, capsys)
    expected = f"column 'b' of {data} is not numeric: 'oops' in data row {row} is not a number"
    assert expected in batches_error, batches_error


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
def test_blank_lines_are_skipped_by_both_readers(tmp_path, digits_frame, monkeypatch):
    lines = digits_frame.to_csv(index=False).splitlines()
    lines[5:5] = ["", "   ", "\t"]
    data = tmp_path / "blank.csv"
    data.write_text("\n".join([*lines, "  "]) + "\n")
    arguments = ["embed", str(data), "-o", str(tmp_path / "{reader}.npy"), *FAST, "-q"]
    assert _both_readers(monkeypatch, arguments, from_file=False) == [(0, None), (0, None)]
    assert (tmp_path / "whole.npy").read_bytes() == (tmp_path / "batches.npy").read_bytes()
    assert np.load(tmp_path / "whole.npy").shape == (len(digits_frame), 2)


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize(
    "edit, line, found",
    [
        # A row cut short: the last fields (here the label) are missing.
        (lambda lines: lines.__setitem__(11, lines[11].rsplit(",", 2)[0]), 12, 63),
        # One field too many.
        (lambda lines: lines.__setitem__(11, lines[11] + ",7"), 12, 66),
        # Lines are counted as a text editor counts them, blank ones included.
        (lambda lines: lines.__setitem__(3, lines[3] + "\n\n" + lines[3][:7]), 6, 2),
        # One field too many on every line, which pandas would read as the row's index,
        # dropping the first column and shifting the others.
        (lambda lines: lines.__setitem__(slice(1, None), [f"7,{x}" for x in lines[1:]]), 2, 66),
    ],
)
def test_a_line_with_the_wrong_number_of_fields_is_refused_by_both_readers(
    tmp_path, digits_frame, monkeypatch, capsys, edit, line, found
):
    lines = digits_frame.to_csv(index=False).splitlines()
    edit(lines)
    data = tmp_path / "ragged.csv"
    data.write_text("\n".join(lines) + "\n")
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST, "-q"]
    batches_error = _refused_alike(monkeypatch, arguments, False, capsys)
    expected = f"line {line} of {data} has {found} field(s) where the header has 65"
    assert expected in batches_error, batches_error
    assert "missing" not in batches_error


def _with_value(path, fill, value, n_rows):
    """Write a CSV file of a column of numbers, "a", and a column "b" that holds
    ``fill(row)`` in each row (counting from 0) but `value` in its tenth row from the
    end; return that row's number among the data rows, counting from 1."""
    row = n_rows - 10
    column = [value if i == row else fill(i) for i in range(n_rows)]
    lines = ["a,b"] + [f"{0.25 * i},{text}" for i, text in enumerate(column)]
    path.write_text("\n".join(lines) + "\n")
    return row + 1


def _booleans(row):
    return str(row % 3 == 0)


_MISSING_IN_B = "missing or infinite values in 1 column(s): b, the first in data row {row}."


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize(
    "fill, value, message",
    [
        # Arrow reads 1 and 0 as booleans too, pandas as numbers only: a "True" among
        # them is refused by both, by its value.
        (lambda row: str(row % 2), "True", "'True' in data row {row} is not a number"),
        # Arrow reads "0x10" as 16 in a column of integers; it is no float to either.
        (str, "0x10", "'0x10' in data row {row} is not a number"),
        # A column of booleans holds booleans only.
        (_booleans, "7", "'7' in data row {row} is not True or False, as the column's first"),
        # A number too large for a float is infinite: Arrow reads it so, pandas leaves
        # it as text.
        (str, "1e400", _MISSING_IN_B),
        # pandas reads a column of booleans with a missing value as text.
        (_booleans, "", _MISSING_IN_B),
    ],
)
@pytest.mark.parametrize("n_rows", [30, 40_000])
def test_numbers_are_told_from_other_values_alike_by_both_readers(
    tmp_path, monkeypatch, capsys, fill, value, message, n_rows
):
    # With 40,000 rows the value is far past the first megabyte of text, from which
    # Arrow guesses the column types: the batch reader meets it while converting.
    data = tmp_path / "values.csv"
    row = _with_value(data, fill, value, n_rows)
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST, "-q"]
    batches_error = _refused_alike(monkeypatch, arguments, False, capsys)
    assert message.format(row=row) in batches_error, batches_error


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize(
    "value, message",
    [
        ("True", _MISSING_IN_B.format(row=1)),
        ("3", "'3' in data row 200002 is not True or False, as the column's first value is"),
    ],
)
def test_a_column_missing_from_arrows_first_block_is_read_alike_by_both_readers(
    tmp_path, monkeypatch, capsys, value, message
):
    # The first megabyte of text, from which Arrow guesses the column types, has no
    # value in column "b": Arrow cannot tell whether it holds numbers or booleans.
    lines = ["a,b"] + [f"{i}," for i in range(200_000)] + ["1,False", f"2,{value}", "3,True"]
    data = tmp_path / "late.csv"
    data.write_text("\n".join(lines) + "\n")
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST, "-q"]
    batches_error = _refused_alike(monkeypatch, arguments, False, capsys)
    assert message in batches_error, batches_error


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize(
    "write",
    [
        # An integer beyond 64 bits, which pandas leaves as text and Arrow reads.
        lambda path, n: _with_value(path, str, "12345678901234567890123", n),
        # Lines of whitespace in a file of one column, which Arrow reads as values.
        lambda path, n: path.write_text(
            "a\n" + "".join(f"{i / 7}\n" if i % 1000 != 7 else " \t \n" for i in range(n))
        ),
    ],
)
@pytest.mark.parametrize("n_rows, from_file", [(30, False), (40_000, True)])
def test_numbers_that_one_library_leaves_as_text_are_read_by_both_readers(
    tmp_path, monkeypatch, write, n_rows, from_file
):
    data = tmp_path / "numbers.csv"
    write(data, n_rows)
    arguments = ["embed", str(data), "-o", str(tmp_path / "{reader}.npy"), *FAST, "-q"]
    arguments += ["--n-components", "1"]
    assert _both_readers(monkeypatch, arguments, from_file) == [(0, None), (0, None)]
    assert (tmp_path / "whole.npy").read_bytes() == (tmp_path / "batches.npy").read_bytes()


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
def test_a_header_without_a_line_end_has_no_data_rows_to_both_readers(
    tmp_path, monkeypatch, capsys
):
    data = tmp_path / "header.csv"
    data.write_text("a,b")
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST, "-q"]
    batches_error = _refused_alike(monkeypatch, arguments, False, capsys)
    assert f"{data} has no data rows (only a header: a, b)" in batches_error


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
def test_a_parquet_column_of_numbers_as_text_is_shown_by_both_readers(
    tmp_path, monkeypatch, capsys
):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=list("abc"))
    frame["b"] = frame["b"].round(3).astype(str)
    data = tmp_path / "text.parquet"
    frame.to_parquet(data)
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), *FAST, "-q"]
    batches_error = _refused_alike(monkeypatch, arguments, False, capsys)
    expected = f"column 'b' of {data} is not numeric: it stores numbers as text, such as "
    assert expected + repr(frame["b"][0]) + " in data row 1" in batches_error, batches_error


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.parametrize("long_line", ["header", "label"])
def test_lines_longer_than_arrows_block_are_read_by_both_readers(tmp_path, monkeypatch, long_line):
    # Arrow reads a CSV file a megabyte at a time by default, and no line may be longer:
    # the header of a wide table (here 20,000 long names), or a long text anywhere.
    n_columns = 20_000 if long_line == "header" else 2
    names = [f"a_gene_of_a_wide_table_with_a_long_name_number_{i:06d}" for i in range(n_columns)]
    rows = [",".join(str((i * j) % 7) for j in range(n_columns)) for i in range(12)]
    lines = [",".join([*names, "label"])] + [f"{row},c{i % 2}" for i, row in enumerate(rows)]
    if long_line == "label":
        # Past the first megabyte, where the batch reader meets it only while reading.
        lines += [f"{i % 5},{i % 3},{'c' * 100}" for i in range(12_000)]
        lines[-100] = f"1,2,{'x' * 2_000_000}"
    data = tmp_path / "long.csv"
    data.write_text("\n".join(lines) + "\n")
    assert len(max(lines, key=len)) > 2**20
    arguments = ["embed", str(data), "-o", str(tmp_path / "{reader}.npy")]
    arguments += ["--label-column", "label", *FAST, "-q"]
    assert _both_readers(monkeypatch, arguments, from_file=False) == [(0, None), (0, None)]
    assert (tmp_path / "whole.npy").read_bytes() == (tmp_path / "batches.npy").read_bytes()


_TERMINATED_SCRIPT = """
import sys
import time

from ae_reduce import _cli
from ae_reduce._cli import embed, settings
from ae_reduce._keras.backend import import_keras

keras = import_keras()


class Slow(keras.callbacks.Callback):
    # Says that training runs, then leaves the test time to send its signal.
    def on_epoch_end(self, epoch, logs=None):
        print("epoch", epoch, file=sys.stderr, flush=True)
        time.sleep(0.5)


def report_progress(pipeline, progress, quiet):
    pipeline["reducer"].set_params(callbacks=[Slow()])


embed.report_progress = report_progress
# The batch reader, and training from a temporary file, whatever the file's size.
settings.STREAM_BYTES = settings.IN_MEMORY_BYTES = 0
# As the ae-reduce program runs it, which ends at once when terminated.
_cli.run()
"""


@pytest.mark.skipif(not HAS_PYARROW, reason="the batch reader needs pyarrow")
@pytest.mark.skipif(os.name != "posix", reason="sends SIGTERM")
def test_a_terminated_embed_leaves_no_temporary_file(tmp_path):
    # A scheduler ends a job that runs out of time with SIGTERM; the scaled copy of the
    # features (rows x features x 4 bytes) must not stay behind in TMPDIR.
    import signal

    data = tmp_path / "data.csv"
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(400, 6)), columns=list("abcdef"))
    frame.to_csv(data, index=False)
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    arguments = ["embed", str(data), "-o", str(tmp_path / "z.npy"), "--epochs", "1000", "-q"]
    process = subprocess.Popen(
        [sys.executable, "-c", _TERMINATED_SCRIPT, *arguments, "--hidden-layer-sizes", "8"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    seen, while_training = [], None
    try:
        for line in process.stderr:
            seen.append(line)
            if line.startswith("epoch"):
                while_training = sorted(path.name for path in temporary.iterdir())
                process.send_signal(signal.SIGTERM)
                break
        _, rest = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    err = "".join(seen) + rest
    assert seen[-1].startswith("epoch"), err
    if os.path.isdir("/proc/self/fd"):
        # On Linux the copy has no name even while it is used: not even SIGKILL, which
        # no process can answer, leaves it behind.
        assert while_training == []
    assert list(temporary.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.csv", "temporary"]
    assert process.returncode == 143, err
    assert "ae-reduce embed: terminated" in err
