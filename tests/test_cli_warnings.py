"""Warnings and progress of the ``ae-reduce`` command line, as a user's terminal shows them."""

import importlib.util
import io
import logging
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import ae_reduce
from ae_reduce import KerasAutoencoderTransformer
from ae_reduce._cli import main
from ae_reduce._cli.parser import build_parser
from ae_reduce._cli.progress import LOG_INTERVAL, Progress, TSNEPrinter, fit_progress
from ae_reduce._cli.warning_lines import WarningLines, command_line_words

pd = pytest.importorskip("pandas")

HAS_OPENTSNE = importlib.util.find_spec("openTSNE") is not None

#: The timestamp that starts each progress line.
STAMP = re.compile(r"^\[\s*\d+\.\d+s\] ")


def _embed_options(*arguments):
    """The options of ``ae-reduce embed``, as the command line hands them to WarningLines."""
    args = build_parser().parse_args(["embed", "data.csv", "-o", "map.csv", *arguments])
    return {"--" + name.replace("_", "-") for name in vars(args)}


def _lines(message, options):
    stream = io.StringIO()
    lines = WarningLines(Progress(False, stream), options)
    lines.show(message, UserWarning, "/somewhere/module.py", 12)
    return stream.getvalue().splitlines()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200], y[:200]


@pytest.mark.skipif(not HAS_OPENTSNE, reason="needs openTSNE")
def test_the_parametric_maps_convergence_warning_names_the_options(digits):
    # Regression: "n_iter=1250 ran out ... Increase n_iter" above "1500 iterations": the
    # warning named a Python parameter and counted the main phase only, the summary
    # every iteration run.
    from ae_reduce import ParametricTSNE

    tsne = ParametricTSNE(
        hidden_layer_sizes=(16,),
        early_exaggeration_iter=10,
        n_iter=50,
        early_stopping=True,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning) as record:
        tsne.fit(digits[0])
    (warning,) = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    message = str(warning.message)
    # The Python message names the parameters, and counts as n_iter_ does.
    assert tsne.n_iter_ == 60
    assert "n_iter=50 ran out" in message
    assert "of the 60 run" in message
    assert "early_exaggeration_iter=10" in message
    (line,) = _lines(warning.message, _embed_options("--tsne", "--parametric"))
    text = STAMP.sub("", line)
    assert text.startswith("warning: parametric t-SNE: --tsne-iter 50 ran out before ")
    assert "of the 60 run, counting the --exaggeration-iter 10 before --tsne-iter" in text
    assert text.endswith("Increase --tsne-iter to let the map converge.")
    assert "n_iter" not in text
    assert "=" not in text
    assert ".py" not in text


def test_parameters_without_an_option_keep_their_value_or_name():
    options = _embed_options()
    words = command_line_words(
        "KerasAutoencoderTransformer: epochs=3 ran out before val_loss went patience=20 "
        "epochs without improving (best epoch 3).\n  Increase epochs to let it converge.",
        options,
    )
    assert words == (
        "autoencoder: --epochs 3 ran out before val_loss went 20 epochs without improving "
        "(best epoch 3). Increase --epochs to let it converge."
    )
    assert command_line_words(
        "perplexity=200 is too large for 300 samples; using 99.6667, the largest value "
        "that fits (n_samples - 1) / 3.",
        options,
    ) == (
        "--perplexity 200 is too large for 300 samples; using 99.6667, the largest value "
        "that fits (rows - 1) / 3."
    )
    # A setting that the command line does not have stays as Python names it.
    assert command_line_words("use set_config(patch_keras_all_reduce=False)", options) == (
        "use set_config(patch_keras_all_reduce=False)"
    )
    # embed has no --cv: the name is left alone.
    assert command_line_words("cv=5 folds", options) == "cv=5 folds"


def test_a_class_rarer_than_the_folds_is_told_in_the_command_lines_words(tmp_path, capsys):
    # Regression: scikit-learn's "The least populated class in y has only 1 members,
    # which is less than n_splits=5." reached the command line as it was.
    X, y = load_digits(return_X_y=True)
    y = y[:120].copy()
    y[7] = 11
    frame = pd.DataFrame(X[:120], columns=[f"p{i}" for i in range(64)])
    frame["digit"] = y
    frame.to_csv(tmp_path / "digits.csv", index=False)
    arguments = ["embed", str(tmp_path / "digits.csv"), "-o", str(tmp_path / "z.npy")]
    arguments += ["--supervised", "--label-column", "digit", "--epochs", "1"]
    assert main([*arguments, "--hidden-layer-sizes", "8", "--random-state", "0"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "least populated" in line]
    assert [STAMP.sub("", line) for line in lines] == [
        "warning: the least populated class of --label-column has only 1 row(s), fewer "
        "than the 5 cross-fitting folds, so some folds have none of its rows."
    ]


def test_a_repeated_warning_is_shown_once_and_counted():
    stream = io.StringIO()
    with warnings.catch_warnings(), WarningLines(Progress(False, stream), _embed_options()):
        # As from three fits: Python's registry would otherwise drop the repeats first.
        warnings.simplefilter("always")
        for _ in range(3):
            warnings.warn("a third-party library\nsays something", FutureWarning, stacklevel=1)
        warnings.warn("something else", UserWarning, stacklevel=1)
        # A library that logs its warnings rather than issuing them.
        logging.getLogger("some.library").warning("a logged %s", "warning")
        logging.getLogger("some.library").info("information, not shown")
    lines = [STAMP.sub("", line) for line in stream.getvalue().splitlines()]
    assert lines == [
        "warning: a third-party library says something",
        "warning: something else",
        "warning: a logged warning",
        "warning: the warning 'a third-party library says something' above was given 3 times",
    ]
    assert warnings.showwarning is not WarningLines.show


def test_a_pipelines_warning_points_at_the_users_line():
    # Regression: scikit-learn's Pipeline calls each step's fit through joblib, and the
    # warning of a fit that ran out of epochs was attributed to joblib/memory.py.
    # A step followed by another, as the reducer before t-SNE: the last step's fit is
    # called directly.
    X = np.random.default_rng(0).normal(size=(60, 4))
    pipeline = make_pipeline(
        KerasAutoencoderTransformer(hidden_layer_sizes=(4,), epochs=1, random_state=0),
        StandardScaler(),
    )
    with pytest.warns(ConvergenceWarning) as record:
        pipeline.fit_transform(X)
    converged = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    assert {Path(w.filename).name for w in converged} == {Path(__file__).name}


def test_the_last_epoch_of_a_slow_fit_is_shown_once():
    # Regression: off a terminal, a fit whose epochs take longer than LOG_INTERVAL
    # printed its last epoch twice, once as a periodic line and once as the final
    # line ("network 6 of 6: epoch 81/200 ..." twice).
    stream, now = io.StringIO(), [0.0]
    callback = fit_progress("supervised", Progress(False, stream), n_fits=2, clock=lambda: now[0])
    for epochs_run in (5, 3):  # the second stops early, at its third epoch
        model = SimpleNamespace(stop_training=False, get_weights=lambda: [np.zeros(1)])
        callback.set_model(model)
        callback.set_params({"epochs": 5})
        callback.on_train_begin()
        for epoch in range(epochs_run):
            now[0] += LOG_INTERVAL + 1
            model.stop_training = epoch + 1 == epochs_run < 5
            callback.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        model.get_weights = lambda: [np.ones(1)]
        callback.on_train_end()
    lines = stream.getvalue().splitlines()
    counters = [re.search(r"network \d of 2: epoch \d+", line).group(0) for line in lines]
    assert len(counters) == len(set(counters))
    assert lines[4].endswith("network 1 of 2: epoch 5/5, loss 0.2, took 55s")
    assert "network 2 of 2: epoch 3/5 (stopped early)" in lines[-1]


# The real command line, in a process of its own ---------------------------------------


@pytest.fixture(scope="module")
def cross_fit_run(tmp_path_factory):
    """``ae-reduce embed`` of 150 digits: a supervised cross-fit, then a parametric map."""
    folder = tmp_path_factory.mktemp("cross_fit")
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:150], columns=[f"pixel{i}" for i in range(64)])
    frame["digit"] = y[:150]
    frame.to_csv(folder / "digits.csv", index=False)
    environment = dict(os.environ)
    root = str(Path(ae_reduce.__file__).resolve().parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(
        [root, *filter(None, [environment.get("PYTHONPATH")])]
    )
    command = [
        sys.executable,
        "-m",
        "ae_reduce._cli",
        "embed",
        str(folder / "digits.csv"),
        "--label-column",
        "digit",
        "--supervised",
        "--tsne",
        "--parametric",
        "--tsne-iter",
        "30",
        "--exaggeration-iter",
        "10",
        "--epochs",
        "1",
        "--hidden-layer-sizes",
        "8",
        "--random-state",
        "0",
        "-o",
        str(folder / "map.csv"),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=environment, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


@pytest.mark.skipif(not HAS_OPENTSNE, reason="needs openTSNE")
def test_warnings_are_one_line_each_in_the_command_lines_words(cross_fit_run):
    warned = [line for line in cross_fit_run if "warning" in line.lower()]
    # The folds' warning, then the kept network's.
    assert len(warned) == 2
    for line in warned:
        assert STAMP.sub("", line).startswith("warning: supervised network: --epochs 1 ran out")
        assert line.endswith("Increase --epochs to let the networks converge.") or line.endswith(
            "Increase --epochs to let the network converge."
        )
    # No file, line number or source line, whoever called the fit (joblib here).
    for line in cross_fit_run:
        assert STAMP.match(line), line
        assert ".py" not in line
        assert "joblib" not in line
        assert "sys.exit" not in line and "run()" not in line
        assert "ConvergenceWarning" not in line


@pytest.mark.skipif(not HAS_OPENTSNE, reason="needs openTSNE")
def test_no_line_of_a_cross_fit_is_printed_twice(cross_fit_run):
    texts = [STAMP.sub("", line) for line in cross_fit_run]
    assert len(texts) == len(set(texts))
    networks = [text.split(":")[0] for text in texts if ": epoch " in text]
    assert networks == [f"supervised, network {k} of 6" for k in range(1, 7)]


@pytest.mark.skipif(not HAS_OPENTSNE, reason="needs openTSNE")
def test_each_step_of_the_parametric_map_is_reported(cross_fit_run):
    texts = [STAMP.sub("", line) for line in cross_fit_run]
    steps = [text for text in texts if text.startswith("parametric t-SNE: ")]
    assert steps[0].startswith("parametric t-SNE: finding the neighbours of ")
    assert steps[1].startswith("parametric t-SNE: training the network, at most 40 iterations")
    assert any("iteration 40/40" in text for text in steps)
    assert steps[-1].startswith("parametric t-SNE: 40 iterations")


def test_opentsne_phases_off_a_terminal_are_a_few_lines():
    # One call every 50 iterations, a second apart: a line every 5 s, and the first and
    # last of each phase, rather than one line per call.
    stream, now = io.StringIO(), [0.0]
    printer = TSNEPrinter(Progress(False, stream), (250, 1000), clock=lambda: now[0])
    printer.stage("finding the neighbours of 240 rows and their affinities (perplexity 30)")
    for total in (250, 1000):
        printer.optimization_about_to_start()
        for iteration in range(50, total + 1, 50):
            now[0] += 1.0
            printer(iteration, 1.0, None)
    lines = [STAMP.sub("", line) for line in stream.getvalue().splitlines()]
    assert (
        lines[0] == "t-SNE: finding the neighbours of 240 rows and their affinities (perplexity 30)"
    )
    counters = [line.split(",")[0] for line in lines[1:]]
    assert counters[0] == "t-SNE early exaggeration: iteration 50/250"
    assert counters[1] == "t-SNE early exaggeration: iteration 250/250"
    assert counters[2] == "t-SNE main phase: iteration 50/1000"
    assert counters[-1] == "t-SNE main phase: iteration 1000/1000"
    # Early exaggeration 50 and 250; main phase 50, then every 5 s 300, 550, 800, then 1000.
    assert len(counters) == 7


def test_embed_reports_the_neighbour_search_before_the_iterations(tmp_path, capsys):
    np.save(tmp_path / "x.npy", load_digits().data[:240])
    arguments = ["embed", str(tmp_path / "x.npy"), "-o", str(tmp_path / "map.npy"), "--tsne"]
    arguments += ["--exaggeration-iter", "100", "--tsne-iter", "100", "--epochs", "2"]
    arguments += ["--hidden-layer-sizes", "8", "--random-state", "0"]
    assert main(arguments) == 0
    texts = [STAMP.sub("", line) for line in capsys.readouterr().err.splitlines()]
    tsne = [text for text in texts if text.startswith("t-SNE")]
    assert tsne[0].startswith("t-SNE: finding the neighbours of 240 rows and their affinities")
    assert [text.split(",")[0] for text in tsne[1:]] == [
        "t-SNE early exaggeration: iteration 50/100",
        "t-SNE early exaggeration: iteration 100/100",
        "t-SNE main phase: iteration 50/100",
        "t-SNE main phase: iteration 100/100",
    ]
