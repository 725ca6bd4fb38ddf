"""The ``ae-reduce`` command line: a digits demo, embedding a data file, label issues.

Progress goes to standard error and results (the paths written) to standard output, so
``ae-reduce embed ... > written.txt`` keeps the two apart. Heavy imports (TensorFlow,
openTSNE, matplotlib, pandas) happen inside the commands, so ``ae-reduce --help`` is
instant.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from numbers import Integral
from pathlib import Path
from typing import NamedTuple

from .._preprocessing.scaling import SCALER_NAMES
from .._utils.progress import IterationProgress, format_duration

#: Extensions that ``embed`` reads and writes.
TABLE_FORMATS = (".csv", ".npy", ".parquet")
#: Extensions of ``--plot``: the formats matplotlib writes without extra software.
PICTURE_FORMATS = (".png", ".pdf", ".svg")
#: ``embed`` reads a .csv or .parquet file of at least this many bytes batch by batch.
STREAM_BYTES = 64 * 2**20
#: ``embed`` trains from a temporary file when the features take more than this many
#: bytes as float32.
IN_MEMORY_BYTES = 128 * 2**20

_EXIT_STATUS = """\
exit status:
  0  success
  1  the work failed (for example training diverged, or a file could not be written)
  2  bad arguments or input: unknown option, a t-SNE option without --tsne, missing
     or unreadable file, unsupported extension, an output that is the input, unknown or
     non-numeric column, a column given two roles (label, id, dropped) or named like an
     output column, no data rows, a .csv line with more or fewer fields than the header,
     missing values, labels or ids, labels of mixed types, repeated ids; for issues,
     labels that are not classes or a class with fewer rows than folds
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM); as on Ctrl-C, temporary files are removed first
"""


class InputError(Exception):
    """A problem with the command's arguments or input files (exit status 2)."""


class _Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread, as Ctrl-C raises KeyboardInterrupt,
    so that temporary files are removed on the way out.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` on the
    way swallows it.
    """


@contextlib.contextmanager
def _terminating_cleanly():
    """While the block runs, SIGTERM raises :class:`_Terminated` instead of ending the
    process at once.

    Schedulers end a job that runs out of time with SIGTERM, and its default action
    skips every ``finally``: outputs half written beside their destination would stay.
    Only the main thread can set a signal handler; elsewhere (a command run from a
    thread) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        # Further SIGTERMs wait for the clean-up to end; SIGKILL still stops it.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


class _Progress:
    """Timestamped progress lines on standard error, silent when quiet.

    Parameters
    ----------
    quiet : bool
        Print nothing.
    stream : file-like, default=None
        Where to write; None means ``sys.stderr`` as it is at each write, so that a
        redirection made after start-up is followed.
    """

    def __init__(self, quiet, stream=None):
        self.quiet = quiet
        self.start = time.perf_counter()
        self._stream = stream
        # Length of the line being redrawn in place, 0 when the cursor is at a line start.
        self._open_line = 0
        # Which of the versions given to redraw the open line uses.
        self._shortened = 0

    @property
    def stream(self):
        return sys.stderr if self._stream is None else self._stream

    def is_terminal(self):
        """Whether lines can be redrawn in place (standard error is a terminal)."""
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except (OSError, ValueError):
            return False

    def width(self):
        """Characters a redrawn line may take: ``COLUMNS``, else the terminal's width."""
        try:
            columns = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            try:
                columns = os.get_terminal_size(self.stream.fileno()).columns
            except (AttributeError, OSError, ValueError):
                columns = 80
        # Some terminals wrap as soon as the last column is written.
        return max(columns - 1, 1)

    def stamp(self, message):
        elapsed = time.perf_counter() - self.start
        return f"[{elapsed:6.1f}s] {message}"

    def __call__(self, message):
        if not self.quiet:
            self.end_line()
            print(_escaped(self.stamp(message)), file=self.stream, flush=True)

    def redraw(self, *versions):
        """Replace the current line with the first of ``versions`` that fits (terminals only).

        ``versions`` go from the most detailed to the shortest. A line wider than the
        terminal would wrap, and ``\\r`` would then redraw only its last row, leaving a
        copy of the rest behind at each redraw.
        """
        if self.quiet:
            return
        width = self.width()
        candidates = [_escaped(self.stamp(version)) for version in versions]
        candidates += [_escaped(version) for version in versions]
        # Once a line had to be shortened, later redraws of it stay as short: a line
        # that changes shape with each digit of the loss is hard to read.
        for index in range(min(self._shortened, len(candidates) - 1), len(candidates)):
            if len(candidates[index]) <= width:
                break
        self._shortened = index
        text = candidates[index][:width]
        padding = " " * max(0, self._open_line - len(text))
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._open_line = len(text)

    def end_line(self):
        """Leave a line being redrawn, so that what follows starts on a line of its own."""
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = 0
        self._shortened = 0


def _escaped(text):
    """`text` with lone surrogates (from file names that are not UTF-8) as ``\\udcxx``.

    Python writes them so to a terminal's standard error; escaping them here keeps a
    message printable on any stream, whatever its error handler.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _count_fits(reducer):
    """Networks that ``fit_transform`` trains: one per cross-fitting fold, then the kept one.

    None when the number of folds cannot be known without consuming them.
    """
    cv = getattr(reducer, "cv", None)
    if cv is None:
        return 1
    if isinstance(cv, Integral):
        return int(cv) + 1
    if hasattr(cv, "get_n_splits"):
        try:
            return int(cv.get_n_splits()) + 1
        except (TypeError, ValueError):
            return None  # Some splitters (LeaveOneOut) need the data to count their folds.
    try:
        return len(cv) + 1
    except TypeError:
        return None


#: Seconds between two redraws of a progress bar: faster is flicker, not information.
REDRAW_INTERVAL = 0.1
#: Seconds between two lines about one fit when standard error is not a terminal.
LOG_INTERVAL = 30.0
#: Fewest seconds between two progress lines of a parametric map's training.
PARAMETRIC_INTERVAL = 5.0
#: Characters of the bar itself.
BAR_WIDTH = 20


def _fit_progress(name, progress, n_fits=1, clock=time.perf_counter, start="the starting point"):
    """A Keras callback that shows the progress of each fit through ``progress``.

    On a terminal, one bar per fit is redrawn in place: the epoch, the losses and an
    estimate of the time left (an upper bound, as early stopping usually ends sooner).
    Elsewhere (a pipe, a log file) one line is printed when each fit ends, and one every
    :data:`LOG_INTERVAL` seconds of a long fit, rather than one per epoch. Only
    epoch-level hooks are used. A fit that ends with its starting weights (no epoch
    beat them, and early stopping restored them) says so in one more line.

    Parameters
    ----------
    name : str
        What is trained, first on each line.
    progress : _Progress
        Where the lines go.
    n_fits : int or None, default=1
        How many networks the estimator trains in a row (cross-fitting trains one per
        fold, then the kept one); above 1, lines say "network k of n_fits".
    clock : callable, default=time.perf_counter
        Seconds, for the time estimates.
    start : str, default="the starting point"
        What the network starts from, named when a fit keeps it.

    Returns
    -------
    callback : keras.callbacks.Callback
    """
    import numpy as np

    from .._keras.backend import import_keras

    keras = import_keras()

    # cross_val_predict clones the estimator for each fold, and with it deep copies of
    # this callback: the count of fits lives outside the callback so that they share it.
    fits_started = [0]

    class FitProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            fits_started[0] += 1
            self.fit_number = fits_started[0]
            self.terminal = progress.is_terminal()
            self.started = self.last_shown = clock()
            self.first_epoch_ended = None
            self.epochs_done = 0
            self.logs = {}
            # The estimator learns its best epoch only after this callback's last call,
            # so a kept start is recognised by its weights, which early stopping restores
            # exactly (a few arrays, held only while the fit runs).
            self.start_weights = self.model.get_weights() if self.model is not None else None
            if self.terminal:
                # The first epoch includes building the graph: show at once that it began.
                progress.redraw(*self._bar(self.started))

        def on_epoch_end(self, epoch, logs=None):
            now = clock()
            self.epochs_done = epoch + 1
            if self.first_epoch_ended is None:
                self.first_epoch_ended = now
            self.logs = dict(logs or {})
            if self.terminal:
                if epoch == 0 or now - self.last_shown >= REDRAW_INTERVAL:
                    progress.redraw(*self._bar(now))
                    self.last_shown = now
            elif now - self.last_shown >= LOG_INTERVAL:
                progress(f"{self._label()}: {self._line(now)}")
                self.last_shown = now

        def on_train_end(self, logs=None):
            now = clock()
            if self.terminal:
                progress.redraw(*self._bar(now, finished=True))
                progress.end_line()
            else:
                progress(f"{self._label()}: {self._line(now, finished=True)}")
            if self._kept_start():
                rows = "validation" if "val_loss" in self.logs else "training"
                progress(f"{self._label()}: kept {start}: no epoch beat it on the {rows} rows")

        def _kept_start(self):
            start_weights, self.start_weights = self.start_weights, None
            if not self.epochs_done or start_weights is None or self.model is None:
                return False
            return all(
                np.array_equal(before, after)
                for before, after in zip(start_weights, self.model.get_weights(), strict=True)
            )

        @property
        def epochs(self):
            return (self.params or {}).get("epochs")

        def _label(self, short=False):
            k = self.fit_number
            if n_fits is not None and 1 < n_fits and k <= n_fits:
                network = f"network {k} of {n_fits}"
            elif k > 1:
                network = f"network {k}"
            else:
                return name
            return network if short else f"{name}, {network}"

        def _time_left(self, now):
            done = self.epochs_done
            # The first epoch pays for building the graph, so only later ones show the
            # pace.
            if not self.epochs or done < 2:
                return None
            return (self.epochs - done) * (now - self.first_epoch_ended) / (done - 1)

        def _line(self, now, finished=False):
            counter = f"epoch {self.epochs_done}"
            if self.epochs:
                counter += f"/{self.epochs}"
                if finished and self.epochs_done < self.epochs:
                    counter += " (stopped early)"
            parts = [counter]
            parts.extend(f"{key} {value:.4g}" for key, value in self.logs.items() if "loss" in key)
            if finished:
                parts.append(f"took {format_duration(now - self.started)}")
            else:
                left = self._time_left(now)
                if left is not None:
                    parts.append(f"up to {format_duration(left)} left")
            return ", ".join(parts)

        def _bar(self, now, finished=False):
            """The line with a bar, then shorter ones for narrow terminals."""
            line = self._line(now, finished)
            versions = [f"{self._label()}: {line}", f"{self._label(short=True)}: {line}"]
            if self.epochs:
                filled = round(BAR_WIDTH * self.epochs_done / self.epochs)
                bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
                versions.insert(0, f"{self._label()}: {bar} {line}")
            return versions

    return FitProgress()


class _TSNEPrinter:
    """An openTSNE callback that reports the phase, iteration and KL divergence."""

    PHASES = ("early exaggeration", "main phase")

    def __init__(self, progress, iterations):
        self.progress = progress
        self.iterations = iterations
        self.phase = -1

    def optimization_about_to_start(self):
        self.phase += 1

    def __call__(self, iteration, kl_divergence, embedding):
        phase = min(self.phase, 1)
        total = self.iterations[phase]
        self.progress(
            f"t-SNE {self.PHASES[phase]}: iteration {iteration}/{total}, "
            f"KL divergence {kl_divergence:.3f}"
        )
        return False


def _report_progress(pipeline, progress, quiet):
    """Attach progress reporters to the neural reducer and the t-SNE step."""
    if quiet:
        return
    steps = dict(pipeline.steps)
    reducer = steps.get("reducer")
    if reducer is not None and hasattr(reducer, "callbacks"):
        name = "supervised" if "Supervised" in type(reducer).__name__ else "autoencoder"
        start = "the starting point"
        if reducer.get_params().get("init") == "pca":
            start = "the PCA starting point"
        callback = _fit_progress(name, progress, _count_fits(reducer), start=start)
        reducer.set_params(callbacks=[callback])
    tsne = steps.get("tsne")
    if tsne is None:
        return
    if type(tsne).__name__ == "ParametricTSNE":
        printer = IterationProgress(
            "parametric t-SNE", write=progress, interval=PARAMETRIC_INTERVAL
        )
        tsne.set_params(callbacks=[printer])
    else:
        iterations = (tsne.early_exaggeration_iter, tsne.n_iter)
        tsne.set_params(callbacks=[_TSNEPrinter(progress, iterations)])


def _save_figure(ax, path):
    import matplotlib.pyplot as plt

    from .._utils.files import replacing

    figure = ax.figure
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as temporary:
            figure.savefig(temporary, dpi=150, format=Path(path).suffix[1:].lower())
    finally:
        plt.close(figure)


def _use_agg():
    try:
        import matplotlib
    except ImportError as error:
        raise InputError(
            "pictures need matplotlib: pip install 'ae-reduce[plot]' (or leave out --plot)"
        ) from error
    matplotlib.use("Agg")


#: What the map's "prediction" of a point is, as :func:`_neighbour_votes` finds it.
VOTES_DESCRIPTION = (
    "the label most common among the point's 10 nearest neighbours on this map, "
    "counting only points outside its own cross-validation fold"
)


def _neighbour_votes(Z, labels, random_state=0):
    """Each point's class by a vote of its neighbours on the map (out of fold)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    _, counts = np.unique(labels, return_counts=True)
    n_splits = int(min(5, counts.min()))
    if n_splits < 2:
        return None
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return cross_val_predict(KNeighborsClassifier(n_neighbors=10), Z, labels, cv=folds)


# -- demo ---------------------------------------------------------------------------------


def _demo(args, progress):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    from .._pipeline import make_tsne_pipeline
    from ..plotting.html import export_html

    _use_agg()
    from ..plotting import plot_embedding, plot_history

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=args.random_state, stratify=y
    )
    progress(
        f"digits: {X_train.shape[0]} rows to draw the map, {X_test.shape[0]} new rows to "
        "place on it"
    )
    pipeline = make_tsne_pipeline(
        "autoencoder",
        shape=X_train.shape,
        random_state=args.random_state,
        # Light noise on the input (a denoising autoencoder) in the units of the scaled
        # pixels, [0, 1] with a standard deviation of 0.38. With 0.05 the network beat
        # its PCA start on every seed tried (best validation loss 0.81-0.85x the
        # start's, held-out error 0.82x PCA's); 0.1 and more were worse than PCA at
        # every epoch (0.5: 7-8x), so the fit kept PCA's code.
        reducer_params={"epochs": args.epochs, "noise_stddev": 0.05},
    )
    _report_progress(pipeline, progress, args.quiet)
    progress("training a denoising autoencoder (64 pixels -> 32-unit code)")
    Z_train = pipeline.fit_transform(X_train)
    progress(f"placing {X_test.shape[0]} new rows on the map")
    Z_test = pipeline.transform(X_test)

    accuracy = KNeighborsClassifier(n_neighbors=10).fit(Z_train, y_train).score(Z_test, y_test)
    Z = np.vstack([Z_train, Z_test])
    labels = np.concatenate([y_train, y_test])
    role = ["training"] * len(y_train) + ["new"] * len(y_test)
    votes = _neighbour_votes(Z, labels, args.random_state)

    paths = {"map": out / "map.png", "html": out / "map.html", "history": out / "history.png"}
    ax = plot_embedding(Z, labels, title="Digits: autoencoder code, then t-SNE")
    _save_figure(ax, paths["map"])
    hover = [
        f"row {i}: digit {label} ({kind})"
        for i, (label, kind) in enumerate(zip(labels, role, strict=True))
    ]
    export_html(
        Z,
        paths["html"],
        labels=labels,
        predictions=votes,
        hover=hover,
        title="Digits: autoencoder code, then t-SNE",
        prediction_description=None if votes is None else VOTES_DESCRIPTION,
    )
    ax = plot_history(pipeline["reducer"], title="Autoencoder learning curve")
    _save_figure(ax, paths["history"])

    print(f"Placed new digits classified by their map neighbours: {accuracy:.1%} correct.")
    _print_result(f"Map picture:      {paths['map'].resolve()}")
    _print_result(f"Interactive map:  {paths['html'].resolve()}")
    _print_result(f"Learning curve:   {paths['history'].resolve()}")
    return 0


# -- embed --------------------------------------------------------------------------------


def _extension(path, allowed, option):
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise InputError(
            f"{option} {path}: unsupported extension {suffix or '(none)'!r}; use one of "
            + ", ".join(allowed)
        )
    return suffix


class _Data(NamedTuple):
    """A checked input file."""

    #: float32 or float64 features; a read-only memory map of a float ``.npy`` file
    #: from which no column is taken.
    X: object
    #: Numeric, boolean or string labels without missing values, or None.
    labels: object
    #: Names of the feature columns.
    names: list
    #: Integer or string row ids, each row's different, or None.
    ids: object


def _load_input(path, label_column):
    """Read and check the input: finite float features, complete labels (or None).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float32 or float64; a read-only memory map of a float ``.npy`` file without a
        label column.
    labels : ndarray of shape (n_samples,) or None
        A numeric, boolean or string array without missing values.
    names : list of str
        Names of the feature columns.
    """
    X, labels, names, _ = _load_data(path, label_column)
    return X, labels, names


def _load_data(path, label_column=None, id_column=None, drop_columns=()):
    """Read and check the input, taking out the label and id columns and dropping others.

    Returns
    -------
    data : _Data
    """
    X, labels, names, ids = _read_table(path, label_column, id_column, drop_columns)
    _check_missing(X, names, path)
    if labels is not None:
        labels = _check_labels(labels, label_column, path)
    if ids is not None:
        ids = _check_ids(ids, id_column, path)
    return _Data(X, labels, names, ids)


def _read_table(path, label_column, id_column=None, drop_columns=()):
    """Read the input file into a float matrix, labels, column names and ids."""
    suffix = _extension(path, TABLE_FORMATS, "input")
    if not Path(path).is_file():
        raise InputError(f"input file not found: {path}")
    if Path(path).stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes)")
    if suffix == ".npy":
        return _split_array(_load_npy(path), path, label_column, id_column, drop_columns)
    try:
        import pandas as pd
    except ImportError as error:
        raise InputError(f"reading {suffix} files needs pandas: pip install pandas") from error
    from .table_text import first_malformed_line, malformed_line_message

    try:
        if suffix == ".csv":
            # Ids are read as the text they are, so that "007" stays "007".
            frame = pd.read_csv(path, dtype=None if id_column is None else {id_column: str})
        else:
            frame = pd.read_parquet(path)
    except ImportError as error:
        raise InputError(f"reading .parquet files needs pyarrow: {error}") from error
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} holds no table: not even a header line") from None
    except pd.errors.ParserError as error:
        # A line with more fields than the header, numbered as a text editor numbers
        # it and in the batch reader's words (pandas counts a quoted value that spans
        # several lines as one line).
        malformed = first_malformed_line(path)
        if malformed is None:
            raise InputError(f"could not read {path}: {error}") from error
        raise InputError(malformed_line_message(path, *malformed)) from None
    except Exception as error:
        raise InputError(f"could not read {path}: {error}") from error
    if suffix == ".csv":
        _refuse_extra_fields(path, frame)
        _refuse_short_lines(path, frame)
    if (
        suffix == ".csv"
        and label_column in frame.columns
        and frame[label_column].dtype.kind in "iu"
    ):
        _refuse_merged_spellings(path, label_column, frame[label_column])
    return _split_frame(frame, path, label_column, id_column, drop_columns, csv=suffix == ".csv")


def _refuse_extra_fields(path, frame):
    """Refuse data lines with more fields than the header, when every one has.

    pandas then takes the first fields of each line as the row's index, which would
    drop a column of features and shift the others under the wrong names; the batch
    reader refuses such a line, as pandas does when only some lines have more fields.
    """
    import pandas as pd

    from .table_text import first_malformed_line, malformed_line_message

    if isinstance(frame.index, pd.RangeIndex):
        return
    malformed = first_malformed_line(path)
    if malformed is None:
        raise InputError(
            f"the data lines of {path} have more fields than its header: every row needs "
            "one field per column"
        )
    raise InputError(malformed_line_message(path, *malformed))


def _refuse_short_lines(path, frame):
    """Refuse a line with fewer fields than the header, which pandas pads with missing
    values.

    Such a line is a damaged or hand-edited row rather than missing values, and the
    batch reader refuses it too. It leaves the last column missing, so only a file
    with missing values there is searched, up to its last such row.
    """
    import numpy as np

    from .table_text import first_malformed_line, malformed_line_message

    if not frame.shape[1]:
        return
    missing = np.flatnonzero(frame.iloc[:, -1].isna().to_numpy())
    if not len(missing):
        return
    malformed = first_malformed_line(path, last_row=int(missing[-1]))
    if malformed is not None:
        raise InputError(malformed_line_message(path, *malformed))


def _refuse_merged_spellings(path, label_column, parsed):
    """Refuse whole-number labels written in several ways, which parsing would merge.

    "01" and "1" are one number but, as labels in a text file, may well be two
    classes; rather than guess, the user is asked to spell each class one way.
    """
    import numpy as np
    import pandas as pd

    texts = pd.read_csv(path, usecols=[label_column], dtype=str)[label_column].str.strip()
    spellings = texts.groupby(parsed.to_numpy()).nunique()
    if (spellings > 1).any():
        value = spellings.index[np.argmax(spellings.to_numpy() > 1)]
        examples = sorted(texts[parsed.to_numpy() == value].unique())[:3]
        raise InputError(
            f"label column {label_column!r} of {path} writes one number in several ways "
            f"({', '.join(map(repr, examples))}), which would become one class. Write "
            "each class one way, or use labels that are not numbers (such as 'c01')"
        )


def _load_npy(path):
    """Map a ``.npy`` file read-only, refusing what is not a plain numeric array."""
    import numpy as np

    with open(path, "rb") as handle:
        start = handle.read(6)
    if start != b"\x93NUMPY":
        kind = "a .npz archive" if start.startswith(b"PK") else "not a NumPy .npy file"
        raise InputError(f"{path} is {kind}; save one array with numpy.save")
    try:
        # A memory map reads rows when they are used, so a large file is not loaded
        # whole; allow_pickle=False refuses object arrays, which could run code.
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        if "object" in str(error).lower():
            raise InputError(
                f"{path} holds Python objects (an object or pickled array), which are not "
                "loaded because loading them can run code; save a numeric array"
            ) from None
        raise InputError(f"could not read {path}: {error}") from None
    except (EOFError, OSError) as error:
        raise InputError(f"could not read {path}: {error}") from None
    if np.iscomplexobj(array):
        raise InputError(
            f"{path} holds complex numbers (dtype {array.dtype}): Complex data not "
            "supported. Save the real and imaginary parts as separate columns"
        )
    if array.dtype.kind not in "biuf":
        raise InputError(f"{path} is not numeric (dtype {array.dtype})")
    return array


def _listing(columns, limit=20):
    return ", ".join(columns[:limit]) + (" ..." if len(columns) > limit else "")


def _split_frame(frame, path, label_column=None, id_column=None, drop_columns=(), csv=False):
    """Split a data frame into features, labels, names and ids, refusing features that
    are not numbers. `csv` says whether the frame was read from a CSV file, whose
    columns of text may hold numbers that pandas left as text (see
    :func:`_numbers_from_text`)."""
    import numpy as np

    frame.columns = [str(column) for column in frame.columns]
    if len(frame) == 0:
        raise InputError(
            f"{path} has no data rows"
            + (f" (only a header: {', '.join(frame.columns[:10])})" if frame.shape[1] else "")
        )
    columns = list(frame.columns)
    check_column_names(columns, path, label_column, id_column, drop_columns)
    frame = frame.drop(columns=list(dict.fromkeys(drop_columns)))
    labels = None if label_column is None else frame.pop(label_column).to_numpy()
    ids = None if id_column is None else frame.pop(id_column).to_numpy()
    complex_columns = [column for column in frame.columns if frame[column].dtype.kind == "c"]
    if complex_columns:
        raise InputError(
            f"column {complex_columns[0]!r} of {path} holds complex numbers: Complex data "
            "not supported. Store the real and imaginary parts as separate columns"
        )
    bad = [column for column in frame.columns if frame[column].dtype.kind not in "biuf"]
    if bad:
        frame = _numbers_from_text(frame, bad, path, csv)
    if frame.shape[1] == 0:
        raise InputError(
            f"{path} has no feature columns left"
            + (" once --drop-columns are dropped" if drop_columns else "")
        )
    # pandas' nullable columns hold NA, which only na_value turns into a float.
    return (
        frame.to_numpy(dtype=np.float64, na_value=np.nan),
        labels,
        list(frame.columns),
        ids,
    )


def _numbers_from_text(frame, bad, path, csv):
    """`frame` with its `bad` columns (of types other than numbers) as float64 columns.

    Columns that hold nothing but numbers and missing values, or booleans and missing
    values, are numbers to both readers: pandas leaves as text a column of booleans
    with a missing value, and a column with a number that Arrow reads and it does not
    (see :class:`ae_reduce._cli.table_text.ColumnCheck`). Otherwise the columns are refused
    by the value in the earliest data row (in the leftmost such column of that row),
    which is where the batch reader, reading row after row, stops.
    """
    from .table_text import ColumnCheck, earliest_problem, not_numeric_message, to_numbers

    checks = {column: ColumnCheck() for column in bad}
    for column, check in checks.items():
        check(frame[column])
    problem = earliest_problem(checks, csv)
    if problem is not None:
        column, found = problem
        raise InputError(not_numeric_message(column, path, found))
    return frame.assign(**{column: to_numbers(frame[column]) for column in bad})


def check_column_names(columns, path, label_column, id_column, drop_columns):
    """Refuse a label, id or dropped column that ``columns`` lacks, or one given two roles."""
    for column in (label_column, id_column):
        if column is not None and column not in columns:
            raise InputError(
                f"unknown column {column!r} in {path}; its columns are: " + _listing(columns)
            )
    unknown = [column for column in drop_columns if column not in columns]
    if unknown:
        raise InputError(
            f"--drop-columns names {len(unknown)} unknown column(s) in {path}: "
            + ", ".join(map(repr, unknown))
            + "; its columns are: "
            + _listing(columns)
        )
    _check_roles(label_column, id_column, drop_columns)


def _check_roles(label_column, id_column, drop_columns):
    """Refuse a column given two roles: labels, ids or dropped."""
    if label_column is not None and label_column == id_column:
        raise InputError(
            f"--label-column and --id-column both name column {label_column!r}; labels and "
            "ids must be different columns"
        )
    for option, column in (("--label-column", label_column), ("--id-column", id_column)):
        if column is not None and column in drop_columns:
            raise InputError(
                f"--drop-columns names column {column!r}, which {option} uses; leave it out "
                "of one of the two"
            )


def _column_index(text, n_columns, path, option=None):
    """The index of a ``.npy`` column named by `text` (negative from the end), or None."""
    if text is None:
        return None
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is None or not -n_columns <= index < n_columns:
        raise InputError(
            (f"{option}: " if option else "")
            + f"unknown column {text!r} in {path}: columns of a .npy file are named by "
            f"their index, 0 to {n_columns - 1} (or -1 for the last)"
        )
    return index % n_columns


def _split_array(array, path, label_column=None, id_column=None, drop_columns=()):
    import numpy as np

    if array.ndim != 2:
        raise InputError(f"{path} must hold a 2-D array, got shape {array.shape}")
    if array.shape[0] == 0:
        raise InputError(f"{path} has no data rows (shape {array.shape})")
    n_columns = array.shape[1]
    label_index = _column_index(label_column, n_columns, path)
    id_index = _column_index(id_column, n_columns, path)
    dropped = {_column_index(text, n_columns, path, "--drop-columns") for text in drop_columns}
    # Compared as indices: -1 and the last index are one column.
    if label_index is not None and label_index == id_index:
        raise InputError(
            f"--label-column {label_column} and --id-column {id_column} both name column "
            f"{label_index} of {path}; labels and ids must be different columns"
        )
    for option, text, index in (
        ("--label-column", label_column, label_index),
        ("--id-column", id_column, id_index),
    ):
        if index is not None and index in dropped:
            raise InputError(
                f"--drop-columns names column {text!r}, which {option} uses; leave it out "
                "of one of the two"
            )
    labels = None
    if label_index is not None:
        labels = np.array(array[:, label_index])
        if labels.dtype.kind == "f" and np.isfinite(labels).all():
            # A .npy file stores its classes in a float column like the rest: whole
            # numbers that a float holds exactly are classes.
            if float(np.abs(labels).max()) <= 2**53 and np.all(labels == np.round(labels)):
                labels = labels.astype(np.int64)
    ids = None if id_index is None else np.array(array[:, id_index])
    removed = {label_index, id_index, *dropped} - {None}
    keep = [index for index in range(n_columns) if index not in removed]
    if not keep:
        raise InputError(f"{path} has no feature columns" + (" left" if removed else ""))
    if removed:
        array = array[:, keep]
    if array.dtype not in (np.float32, np.float64):
        # A plain array: memmap.astype would return a memmap backed by no file.
        array = np.asarray(array, dtype=np.float64)
    # Named by their index in the file, so that a message about a column points at it.
    names = [f"x{index}" for index in keep]
    return array, labels, names, ids


def _check_missing(X, names, path):
    import numpy as np

    from .._io.source import Source, file_backing

    # Checked in blocks of rows, read from the file when X maps one, so that a large
    # file is never held in memory (nor as a mask of its size) for this check.
    finite = np.ones(X.shape[1], dtype=bool)
    first, n_rows = None, 0
    for block in Source(X, file=file_backing(X)).chunks(dtype=X.dtype):
        missing = ~np.isfinite(block)
        if first is None and missing.any():
            row = int(np.argmax(missing.any(axis=1)))
            first = n_rows + row, int(np.argmax(missing[row]))
        finite &= ~missing.any(axis=0)
        n_rows += len(block)
    if not finite.all():
        raise InputError(_missing_message(names, finite, path, first))


def _missing_message(names, finite, path, first=None):
    """The message about the columns whose ``finite`` flag is false, the first missing
    value being in row and column ``first`` (counting from 0; None when unknown)."""
    import numpy as np

    columns = [names[i] for i in np.flatnonzero(~finite)]
    where = ""
    if first is not None:
        row, column = first
        where = f", the first in data row {row + 1}"
        if len(columns) > 1:
            where += f" (column {names[column]!r})"
    return (
        f"{path} has missing or infinite values in {len(columns)} column(s): "
        + ", ".join(columns[:10])
        + where
        + ". Impute or drop them first."
    )


def _check_labels(labels, label_column, path):
    """Refuse missing or mixed labels; return them as a numeric, boolean or string array."""
    import numpy as np

    from .._utils.targets import encode_classes, is_missing_label, label_kind

    where = f"label column {label_column!r} of {path}"
    if labels.dtype.kind == "O":
        _refuse_missing_labels(np.fromiter(map(is_missing_label, labels), bool, len(labels)), where)
        try:
            encode_classes(labels, what=where)
        except ValueError as error:
            raise InputError(str(error)) from None
        if label_kind(labels[0]) in ("number", "boolean"):
            # Their own dtype back: float values then count as measurements and
            # integers as classes, as for any other numeric column.
            labels = np.array(labels.tolist())
    if labels.dtype.kind == "f":
        _refuse_missing_labels(~np.isfinite(labels), where)
    return labels


def _refuse_missing_labels(missing, where):
    import numpy as np

    if missing.any():
        raise InputError(
            f"{where} has {int(missing.sum())} missing or infinite value(s), the first in "
            f"data row {int(np.flatnonzero(missing)[0]) + 1}; every row needs a label: fill "
            "them in, or drop those rows"
        )


def _check_ids(ids, id_column, path):
    """Refuse missing, fractional, boolean or repeated ids; return integers or strings."""
    import numpy as np

    from .._utils.targets import is_missing_label, label_kind

    where = f"id column {id_column!r} of {path}"
    if ids.dtype.kind == "O":
        missing = np.fromiter(map(is_missing_label, ids), bool, len(ids))
        _refuse_missing_ids(missing, where)
        kinds = {label_kind(value) for value in ids}
        if kinds == {"number"}:
            # Numbers in an object column (pandas' nullable integers): their own dtype.
            ids = np.array(ids.tolist())
        elif kinds != {"string"}:
            raise InputError(
                f"{where} holds {' and '.join(sorted(kinds))} values; ids must all be strings "
                "or all whole numbers"
            )
    if ids.dtype.kind == "f":
        _refuse_missing_ids(~np.isfinite(ids), where)
        fractional = (ids != np.round(ids)) | (np.abs(ids) > 2**53)
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            raise InputError(
                f"{where} holds numbers that are not whole (such as {ids[row].item()!r} in "
                f"data row {row + 1}); ids must be strings or whole numbers"
            )
        ids = ids.astype(np.int64)
    if ids.dtype.kind not in "iuUO":
        raise InputError(
            f"{where} holds values of type {ids.dtype}; ids must be strings or whole numbers"
        )
    values, counts = np.unique(ids, return_counts=True)
    if counts.max() > 1:
        repeated = values[int(np.argmax(counts > 1))]
        value = _python_value(repeated)
        rows = np.flatnonzero(ids == repeated)[:2] + 1
        raise InputError(
            f"{where} is not unique: the id {value!r} is in data rows {rows[0]} and "
            f"{rows[1]} ({int((counts - 1).sum())} repeated id(s) in all); ids must identify "
            "the rows. Make them unique, or leave out --id-column"
        )
    return ids


def _python_value(value):
    """A numpy scalar as the Python value it holds, so that messages show ``1``, not
    ``np.int64(1)``."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value


def _refuse_missing_ids(missing, where):
    import numpy as np

    if missing.any():
        raise InputError(
            f"{where} has {int(missing.sum())} missing value(s), the first in data row "
            f"{int(np.flatnonzero(missing)[0]) + 1}; every row needs an id"
        )


def _check_labels_for_outputs(args, labels):
    """Refuse, before training, labels that the chosen outputs cannot use."""
    import numpy as np

    from .._utils.targets import is_continuous
    from ..plotting.html import MAX_CLASSES

    if labels is None or is_continuous(labels):
        return
    classes = np.unique(labels)
    n_classes = len(classes)
    where = f"label column {args.label_column!r} of {args.input}"
    if args.supervised and n_classes < 2:
        only = _python_value(classes[0])
        raise InputError(
            f"{where} holds one class only ({only!r}); --supervised learns to tell "
            "classes apart and needs at least 2"
        )
    if args.html and n_classes > MAX_CLASSES:
        raise InputError(
            f"{where} holds {n_classes} distinct values; --html colours by class and takes "
            f"at most {MAX_CLASSES}. Bin the values first, or store them as floats to colour "
            "--plot by value"
        )


def _same_file(first, second):
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist yet
        return False


def _check_writable(option, path, folder):
    """Refuse an output whose folder cannot take a new file, before any training."""
    import tempfile

    try:
        # The only sure test: permissions do not tell about read-only file systems, and
        # root may write where the permissions say no.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(
            f"{option} {path} cannot be written: no file can be made in the folder {folder} "
            f"({reason})"
        ) from None


def _check_distinct_files(args):
    """Refuse outputs that would overwrite the input, or each other."""
    if not Path(args.input).is_file():
        raise InputError(f"input file not found: {args.input}")
    outputs = [
        (option, getattr(args, option[2:], None)) for option in ("--output", "--plot", "--html")
    ]
    outputs = [(option, path) for option, path in outputs if path is not None]
    for option, path in outputs:
        if Path(path).is_dir():
            raise InputError(f"{option} {path} is a folder; name a file")
        # Checked now, as the folders are made only after training.
        folder = Path(path).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{option} {path} cannot be written: {folder} is a file, not a folder")
        if folder.is_dir():
            _check_writable(option, path, folder)
        if _same_file(path, args.input):
            raise InputError(
                f"{option} {path} is the input file {args.input}; writing it would destroy "
                "the data. Choose another name"
            )
    for index, (option, path) in enumerate(outputs):
        for other_option, other in outputs[index + 1 :]:
            if _same_file(path, other):
                raise InputError(f"{option} {path} and {other_option} {other} are the same file")


def _build_embed_pipeline(args, shape):
    from .._pipeline import make_reducer

    reducer = "supervised" if args.supervised else "autoencoder"
    reducer_params = {"epochs": args.epochs}
    if args.hidden_layer_sizes is not None:
        reducer_params["hidden_layer_sizes"] = args.hidden_layer_sizes
    if args.tsne:
        from .._pipeline import make_tsne_pipeline

        tsne_params = {
            name: value
            for name, value in (
                ("perplexity", args.perplexity),
                ("n_iter", args.tsne_iter),
                ("early_exaggeration_iter", args.exaggeration_iter),
            )
            if value is not None
        }
        return make_tsne_pipeline(
            reducer,
            n_components=args.n_components,
            shape=shape,
            random_state=args.random_state,
            reducer_params=reducer_params,
            tsne_params=tsne_params,
            parametric=args.parametric,
            scaler=args.scaler,
        )
    from sklearn.pipeline import Pipeline

    from .._preprocessing.scaling import make_scaler

    # The same size-based defaults (hidden layers) as make_tsne_pipeline; without
    # t-SNE the code is the output, two columns unless asked otherwise.
    n_components = 2 if args.n_components is None else args.n_components
    model = make_reducer(reducer, n_components, shape, args.random_state, 0, reducer_params)
    scaler = make_scaler(args.scaler)
    steps = [("reducer", model)] if scaler is None else [("scaler", scaler), ("reducer", model)]
    return Pipeline(steps)


def _output_names(pipeline):
    """Names of the embedding's columns: ``tsne1, tsne2`` for a map, else the code's.

    The autoencoder's code is ``ae1`` to ``aeN``, the supervised network's
    ``supervised1`` to ``supervisedN``: short names that say what made them, counted
    from 1 as components usually are.
    """
    if "tsne" in pipeline.named_steps:
        return ["tsne1", "tsne2"]
    reducer = pipeline["reducer"]
    prefix = "supervised" if "Supervised" in type(reducer).__name__ else "ae"
    return [f"{prefix}{k}" for k in range(1, reducer.n_components + 1)]


def _refuse_taken_names(names, columns):
    """Refuse input columns (`columns`: option -> name) that an output column is named."""
    for option, column in columns.items():
        if column in names:
            raise InputError(
                f"{option} {column!r} has the name of an output column "
                f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}); rename it"
            )


def _write_embedding(Z, path, names, labels, label_column, ids=None, id_column=None):
    import numpy as np

    from .._utils.files import replacing

    if Path(path).suffix.lower() != ".npy":
        _write_table(_embedding_frame(Z, names, labels, label_column, ids, id_column), path)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as temporary, open(temporary, "wb") as handle:
        np.save(handle, Z)


def _embedding_frame(Z, names, labels, label_column, ids=None, id_column=None):
    """The embedding as a table: the id column, the components, the label column."""
    import pandas as pd

    frame = pd.DataFrame(Z, columns=names)
    if ids is not None:
        frame.insert(0, id_column, ids)
    if labels is not None:
        frame[label_column if label_column is not None else "label"] = labels
    return frame


def _write_table(frame, path):
    """Write a DataFrame to a ``.csv`` or ``.parquet`` file, whole or not at all."""
    from .._utils.files import replacing
    from .._utils.spreadsheet import spreadsheet_safe_frame

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as temporary:
        if Path(path).suffix.lower() == ".csv":
            spreadsheet_safe_frame(frame).to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)


def _check_embed_arguments(args):
    suffix = _extension(args.output, TABLE_FORMATS, "--output")
    if args.plot is not None:
        _extension(args.plot, PICTURE_FORMATS, "--plot")
    if args.html is not None:
        _extension(args.html, (".html", ".htm"), "--html")
    if args.id_column is not None and suffix == ".npy" and args.html is None:
        raise InputError(
            "--id-column: a .npy output holds the embedding only; write a .csv or .parquet "
            "file to keep the ids (or add --html to show them on a map)"
        )
    if args.supervised and args.label_column is None:
        raise InputError("--supervised needs --label-column: the network learns the labels")
    two_dimensional = args.tsne or args.n_components in (None, 2)
    if (args.plot or args.html) and not two_dimensional:
        raise InputError("--plot and --html draw 2-D maps; add --tsne or use --n-components 2")
    if not args.tsne:
        for option, value in (
            ("--parametric", args.parametric or None),
            ("--perplexity", args.perplexity),
            ("--tsne-iter", args.tsne_iter),
            ("--exaggeration-iter", args.exaggeration_iter),
        ):
            if value is not None:
                raise InputError(f"{option} applies to the t-SNE map; add --tsne")
    _check_distinct_files(args)


def _parametric_summary(tsne):
    """One line on a fitted ParametricTSNE: iterations run, the kept ones, the last losses."""
    history = tsne.history_
    losses = ", ".join(
        f"{key} {history[key][-1]:.4g}" for key in ("loss", "val_loss") if history.get(key)
    )
    line = f"parametric t-SNE: {tsne.n_iter_} iterations"
    if tsne.early_stopping:
        line += f", weights of iteration {tsne.best_iteration_} kept"
    return line + (f", {losses}" if losses else "")


def _display_name(path):
    """The file name of `path` as text that can be shown anywhere.

    Bytes of a file name that are not UTF-8 reach Python as lone surrogates, which
    cannot be written to a UTF-8 page; they show as U+FFFD instead.
    """
    return os.fsencode(Path(path).name).decode("utf-8", "replace")


def _print_result(text):
    """Print a line of results: paths, as their bytes when they are not valid text."""
    try:
        print(text, flush=True)
    except UnicodeEncodeError:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            print(os.fsencode(text).decode("utf-8", "replace"), flush=True)
        else:
            buffer.write(os.fsencode(text) + b"\n")
            buffer.flush()


def _embed(args, progress):
    from . import streaming as _streaming

    _check_embed_arguments(args)
    if args.plot:
        _use_agg()
    X, labels, _, ids = _read_embed_input(args)
    _check_labels_for_outputs(args, labels)
    pipeline = _build_embed_pipeline(args, X.shape)
    names = _output_names(pipeline)
    if Path(args.output).suffix.lower() != ".npy":
        _refuse_taken_names(
            names, {"--label-column": args.label_column, "--id-column": args.id_column}
        )
    progress(f"{args.input}: {X.shape[0]} rows, {X.shape[1]} feature columns")
    _report_progress(pipeline, progress, args.quiet)
    reducer = pipeline["reducer"]
    progress(
        f"fitting {type(reducer).__name__}(n_components={reducer.n_components})"
        + (f" then {'parametric ' if args.parametric else ''}t-SNE" if args.tsne else "")
    )
    if _streaming.trains_from_file(args, X):
        Z, maps = _streaming.embed_from_file(args, progress, X, labels, ids, pipeline, names)
    else:
        Z = pipeline.fit_transform(X, labels if args.supervised else None)
        if args.parametric:
            progress(_parametric_summary(pipeline["tsne"]))
        # Everything that can fail is done before the first file is written.
        maps = _prepare_maps(args, Z, labels)
        _write_embedding(Z, args.output, names, labels, args.label_column, ids, args.id_column)
    written = [("Embedding", args.output), *_save_maps(args, Z, labels, ids, maps)]
    for what, path in written:
        _print_result(f"{what + ':':17s} {Path(path).resolve()}")
    return 0


def _read_embed_input(args):
    """The checked input of ``embed``: whole, or batch by batch when it is large."""
    from . import streaming as _streaming

    suffix = _extension(args.input, TABLE_FORMATS, "input")
    if _streaming.streams(args, suffix):
        return _streaming.read(
            args.input,
            suffix,
            args.label_column,
            args.id_column,
            _dropped_columns(args),
            scaler=args.scaler,
        )
    return _load_data(args.input, args.label_column, args.id_column, _dropped_columns(args))


class _Maps(NamedTuple):
    """What ``--plot`` and ``--html`` draw, prepared before any file is written."""

    picture: object
    votes: object
    columns: object
    is_classes: bool


def _prepare_maps(args, Z, labels):
    """The picture, and the neighbours' votes of the page, for the maps asked for."""
    from .._utils.targets import is_continuous

    is_classes = labels is not None and not is_continuous(labels)
    picture = votes = columns = None
    if args.plot:
        from ..plotting import plot_embedding

        picture = plot_embedding(Z, labels, title=_display_name(args.input))
    if args.html:
        votes = _neighbour_votes(Z, labels, args.random_state or 0) if is_classes else None
        # Measured labels are a column of the page: coloured on a scale, shown on hover.
        if labels is not None and not is_classes:
            columns = {_colour_name(args.label_column): labels}
    return _Maps(picture, votes, columns, is_classes)


def _save_maps(args, Z, labels, ids, maps):
    """Write the prepared maps; return what was written, as (what, path) pairs."""
    written = []
    if maps.picture is not None:
        _save_figure(maps.picture, args.plot)
        written.append(("Map picture", args.plot))
    if args.html:
        from ..plotting.html import export_html

        Path(args.html).parent.mkdir(parents=True, exist_ok=True)
        export_html(
            Z,
            args.html,
            labels=labels if maps.is_classes else None,
            predictions=maps.votes,
            title=_display_name(args.input),
            ids=ids,
            columns=maps.columns,
            prediction_description=None if maps.votes is None else VOTES_DESCRIPTION,
        )
        written.append(("Interactive map", args.html))
    return written


def _colour_name(label_column):
    """The map's name for a column of measured labels: its own, unless the page's."""
    from ..plotting.html import BUILT_IN_MODES

    return f"{label_column} (value)" if label_column in BUILT_IN_MODES else label_column


def _dropped_columns(args):
    """The names given to --drop-columns, each once, in the order given."""
    names = [name for group in args.drop_columns or () for name in group]
    return list(dict.fromkeys(names))


# -- issues -------------------------------------------------------------------------------

#: Extensions that ``issues`` writes: tables, as the rows mix numbers and labels.
ISSUE_FORMATS = (".csv", ".parquet")
#: Columns of the ``issues`` table; the id column, when given, comes after ``row``.
ISSUE_COLUMNS = ("row", "given_label", "suggested_label", "suggested_probability")
#: The last columns: the score, and with ``--all`` whether the row was flagged.
SCORE_COLUMNS = ("label_quality", "flagged")


def _issues(args, progress):
    from .._inspection.label_issues import (
        NoSignalWarning,
        cross_fitted_probabilities,
        rank_label_issues,
    )

    _check_issue_arguments(args)
    X, labels, _, ids = _load_data(
        args.input, args.label_column, args.id_column, _dropped_columns(args)
    )
    n_classes = _check_issue_labels(args, labels)
    progress(f"{args.input}: {X.shape[0]} rows, {X.shape[1]} feature columns, {n_classes} classes")
    estimator, random_state = _issue_estimator(args, progress)
    progress(
        f"cross-fitting {args.cv} networks, each predicting the classes of the rows of one "
        "fold, trained on the others"
    )
    probabilities, classes, codes = cross_fitted_probabilities(
        X, labels, estimator=estimator, cv=args.cv, random_state=random_state
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoSignalWarning)
        issues, scores = rank_label_issues(probabilities, codes)
    for warning in caught:
        if not args.quiet:
            progress(f"warning: {warning.message}")
    table = _issue_table(args, probabilities, classes, codes, scores, issues, labels, ids)
    progress(f"{len(issues)} of {len(labels)} rows flagged")
    _write_table(table, args.output)
    _print_result(f"{'Label issues:':17s} {Path(args.output).resolve()}")
    # Even with -q, a result of no rows says when it is the model's silence.
    silent = any(issubclass(warning.category, NoSignalWarning) for warning in caught)
    reason = "; the networks found no signal in the features" if silent else ""
    print(
        f"{len(issues)} of {len(labels)} rows flagged as possible label issues{reason}", flush=True
    )
    return 0


def _check_issue_arguments(args):
    _extension(args.output, ISSUE_FORMATS, "--output")
    _refuse_taken_names([*ISSUE_COLUMNS, *SCORE_COLUMNS], {"--id-column": args.id_column})
    _check_distinct_files(args)


def _check_issue_labels(args, labels):
    """Refuse, before training, labels that are not classes or too few per fold."""
    import numpy as np
    from sklearn.utils.multiclass import type_of_target

    where = f"label column {args.label_column!r} of {args.input}"
    kind = type_of_target(labels)
    if kind not in ("binary", "multiclass"):
        what = "numbers that are not whole" if kind == "continuous" else f"{kind} values"
        raise InputError(
            f"{where} holds {what}; a label issue is a row in the wrong class, so the "
            "labels must be classes (strings, integers or booleans)"
        )
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise InputError(
            f"{where} holds one class only ({_python_value(classes[0])!r}); a label issue is a row "
            "that belongs to another class, so at least 2 are needed"
        )
    rare = [
        (_python_value(value), int(count))
        for value, count in zip(classes, counts, strict=True)
        if count < args.cv
    ]
    if rare:
        listed = ", ".join(f"{value!r} ({count} rows)" for value, count in rare[:5])
        raise InputError(
            f"{where}: {len(rare)} class(es) have fewer rows than the {args.cv} folds of "
            f"--cv: {listed}{' ...' if len(rare) > 5 else ''}. Every class needs a row in "
            "each fold; use a smaller --cv or leave out those rows"
        )
    return len(classes)


def _issue_estimator(args, progress):
    """The default estimator of find_label_issues, seeded as it seeds it.

    Returns the estimator and the random state that seeds the folds; with the same
    random state, :func:`find_label_issues` fits the same networks on the same folds.
    """
    import numpy as np
    from sklearn.utils import check_random_state

    from .._inspection.label_issues import default_estimator

    random_state = args.random_state
    if random_state is None:
        # One draw for the folds and the networks: a random state of None would draw
        # them from numpy's global generator, once each.
        random_state = int(np.random.default_rng().integers(np.iinfo(np.int32).max))
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    estimator = default_estimator(seed, args.scaler)
    network = estimator[-1]
    if args.epochs is not None:
        network.set_params(epochs=args.epochs)
    if not args.quiet:
        network.set_params(callbacks=[_fit_progress("supervised", progress, args.cv)])
    return estimator, random_state


def _issue_table(args, probabilities, classes, codes, scores, issues, labels, ids):
    """The rows to write, most suspicious first: flagged ones, or all with --all."""
    import numpy as np
    import pandas as pd

    rows = np.arange(len(codes))
    others = probabilities.copy()
    others[rows, codes] = -np.inf
    suggested = others.argmax(axis=1)
    flagged = np.zeros(len(codes), dtype=bool)
    flagged[issues] = True
    order = np.asarray(issues)
    if args.all:
        # The flagged rows first (a row flagged pair by pair of classes can score
        # higher than an unflagged one), then the others, each part by score.
        ranked = np.argsort(scores, kind="stable")
        order = np.concatenate([order, ranked[~flagged[ranked]]])
    table = pd.DataFrame({"row": order})
    if ids is not None:
        table[args.id_column] = ids[order]
    table["given_label"] = labels[order]
    table["suggested_label"] = classes[suggested[order]]
    table["suggested_probability"] = probabilities[order, suggested[order]]
    table["label_quality"] = scores[order]
    if args.all:
        table["flagged"] = flagged[order]
    return table


# -- argument parsing ---------------------------------------------------------------------


def _whole_number(minimum, expected):
    """An argparse type: an integer of at least `minimum`, else "expected <expected>"."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _whole_number(1, "a positive integer")
_count = _whole_number(0, "a whole number of 0 or more")
_fold_count = _whole_number(2, "a number of folds of 2 or more")


def _perplexity(text):
    # t-SNE looks at int(3 * perplexity) neighbours of each row: none below 1/3.
    from .._manifold.tsne import SMALLEST_PERPLEXITY

    expected = f"expected a number of at least 1/3, got {text!r}"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(expected) from None
    if value != value:  # NaN
        raise argparse.ArgumentTypeError(expected)
    if value < SMALLEST_PERPLEXITY:
        raise argparse.ArgumentTypeError(
            f"{expected}: t-SNE looks at 3 neighbours of each row per unit of perplexity"
        )
    return value


def _column_names(text):
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names such as notes,date, got {text!r}"
        )
    return names


def _add_column_options(parser, id_use):
    """Add --id-column and --drop-columns, which embed and issues share."""
    parser.add_argument(
        "--id-column",
        metavar="NAME",
        help="column holding an id of each row (strings or whole numbers, each row's "
        f"different, none missing): not a feature; {id_use}",
    )
    parser.add_argument(
        "--drop-columns",
        type=_column_names,
        action="append",
        metavar="A,B,...",
        help="columns to leave out entirely (not features, not written); comma-separated, "
        "and the option may be repeated",
    )


def _layer_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 128,64, got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def _add_scaler_option(parser):
    parser.add_argument(
        "--scaler",
        choices=SCALER_NAMES,
        default="auto",
        help="how the feature columns are scaled before training: 'auto' scales columns "
        "that share a range (pixels, ratings) by that one range to [0, 1] and "
        "standardises columns in different units; 'standard' always standardises, "
        "'minmax' scales each column to [0, 1], 'none' leaves them as they are "
        "(default: %(default)s)",
    )


def _add_quiet(parser):
    """Add -q to `parser`; it is accepted before and after the subcommand.

    Each parser gets an option of its own whose default is SUPPRESS: a default (or a
    shared option object, as ``parents=`` gives) would let the subcommand's parser
    overwrite a -q given before the subcommand. :func:`main` fills in False.
    """
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print no progress or warnings on standard error (errors are still printed, "
        "results still go to standard output)",
    )


def build_parser():
    """Return the argument parser of the ``ae-reduce`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with the ``demo``, ``embed`` and ``issues`` subcommands.
    """
    from .._utils.version import __version__

    parser = argparse.ArgumentParser(
        prog="ae-reduce",
        description=(
            "Neural dimensionality reduction for tables and images: autoencoder or "
            "supervised embeddings, optionally drawn as a t-SNE map. Progress goes to "
            "standard error, the paths of the files written to standard output."
        ),
        epilog=_EXIT_STATUS + "\nRun 'ae-reduce COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_quiet(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="draw a map of the built-in digits data (about a minute)",
        description=(
            "Fit scaler -> autoencoder -> t-SNE on three quarters of scikit-learn's 8x8 "
            "digits, place the remaining quarter on the map as new rows, and write "
            "map.png (the map), map.html (an interactive, zoomable map whose points can "
            "be coloured by digit or by the vote of their map neighbours) and "
            "history.png (the autoencoder's learning curve) into --out."
        ),
    )
    _add_quiet(demo)
    demo.add_argument(
        "--out", default="ae_reduce_demo", help="folder for the outputs (default: %(default)s)"
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int,
        default=200,
        help="largest number of training epochs; early stopping usually ends sooner "
        "(default: %(default)s)",
    )
    demo.add_argument(
        "--random-state", type=int, default=0, help="seed of the whole run (default: 0)"
    )
    demo.set_defaults(handler=_demo)

    embed = commands.add_parser(
        "embed",
        help="embed the rows of a .csv, .npy or .parquet file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Standardise the feature columns of INPUT, reduce them with an autoencoder "
            "(or, with --supervised, a network trained on --label-column), optionally "
            "draw a 2-D t-SNE map of the result (--tsne), and write the embedding to "
            "--output.\n\n"
            "Every column except the label, id and dropped columns must be numeric and "
            "complete; the label and id columns must be complete too.\n"
            "For .npy input columns are given by their index (-1 for the last).\n"
            "Outputs are written to a temporary file and renamed into place; an output "
            "that is the input file is refused.\n\n"
            f"Large files: without --tsne, a .csv or .parquet file of "
            f"{STREAM_BYTES >> 20} MiB or more is read batch by batch (with pyarrow "
            "installed), and features of more than "
            f"{IN_MEMORY_BYTES >> 20} MiB as float32 are scaled (--scaler) into a temporary "
            "file (in TMPDIR, else /tmp) that the network trains from, the embedding "
            "being written block by block. The embedding is the same either way."
        ),
        epilog=(
            "examples:\n"
            "  ae-reduce embed cells.parquet -o codes.npy --n-components 16\n"
            "  ae-reduce embed digits.csv --label-column target --tsne -o map.csv \\\n"
            "      --plot map.png --html map.html\n"
            "  ae-reduce embed digits.csv --label-column target --supervised --tsne "
            "-o map.parquet\n"
            "  ae-reduce embed digits.csv --label-column target --tsne --parametric "
            "-o map.csv"
        ),
    )
    _add_quiet(embed)
    embed.add_argument("input", help="data file: .csv, .npy or .parquet, one row per sample")
    embed.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the embedding: .npy (the embedding only), .csv or .parquet "
        "(the id column if given, then one column per component: tsne1, tsne2 with "
        "--tsne, else ae1, ae2, ... or supervised1, supervised2, ..., then the label "
        "column if given)",
    )
    embed.add_argument(
        "--label-column",
        help="column holding labels: left out of the features, used to colour --plot and "
        "--html, and learnt with --supervised",
    )
    _add_column_options(
        embed, "written as the first column of a .csv or .parquet output and shown in --html"
    )
    embed.add_argument(
        "--supervised",
        action="store_true",
        help="embed with a network trained to predict --label-column (classes or values) "
        "instead of an autoencoder",
    )
    embed.add_argument(
        "--n-components",
        type=_positive_int,
        help="width of the network's code; without --tsne this is the output's width "
        "(default: 2), with --tsne the width handed to t-SNE (default: chosen from the "
        "data's size)",
    )
    embed.add_argument(
        "--tsne",
        action="store_true",
        help="draw a 2-D t-SNE map of the code (needs openTSNE: pip install 'ae-reduce[tsne]')",
    )
    embed.add_argument(
        "--parametric",
        action="store_true",
        help="with --tsne: draw the map with ParametricTSNE, a network trained with "
        "t-SNE's objective, instead of openTSNE's t-SNE",
    )
    embed.add_argument(
        "--perplexity",
        type=_perplexity,
        help="t-SNE perplexity, at least 1/3 (default: 30, less for small data)",
    )
    embed.add_argument(
        "--tsne-iter",
        type=_count,
        metavar="N",
        help="iterations of t-SNE after its early exaggeration (default: 500; with "
        "--parametric at most three quarters of the rows, within 500 to 5000, as early "
        "stopping may end sooner)",
    )
    embed.add_argument(
        "--exaggeration-iter",
        type=_count,
        metavar="N",
        help="iterations of t-SNE's early exaggeration (default: 250; with --parametric "
        "a quarter of --tsne-iter)",
    )
    embed.add_argument(
        "--hidden-layer-sizes",
        type=_layer_sizes,
        metavar="W1,W2,...",
        help="widths of the hidden layers, for example 256,128 (default: 128,64; 512,256 "
        "with --supervised from 400 features)",
    )
    embed.add_argument(
        "--epochs",
        type=_positive_int,
        default=200,
        help="largest number of training epochs (default: %(default)s; early stopping "
        "usually ends sooner)",
    )
    _add_scaler_option(embed)
    embed.add_argument("--plot", metavar="PICTURE", help="also write a picture: .png, .pdf or .svg")
    embed.add_argument("--html", metavar="PAGE", help="also write an interactive map: .html")
    embed.add_argument("--random-state", type=int, help="seed, for a reproducible run")
    embed.set_defaults(handler=_embed)

    issues = commands.add_parser(
        "issues",
        help="list the rows of a .csv, .npy or .parquet file whose label looks wrong",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Find the rows whose --label-column is probably wrong, as\n"
            "ae_reduce.find_label_issues does: --cv networks (features scaled as --scaler\n"
            "says, then SupervisedEmbeddingTransformer) each predict the class\n"
            "probabilities of the rows they were not trained on; the rows whose given\n"
            "label gets a low probability, as many as confident learning estimates to\n"
            "be mislabelled, are flagged. They are written to --output, most\n"
            "suspicious first, with columns:\n\n"
            "  row                    the row's position among the data rows, counting\n"
            "                         from 0 (the header line is not counted)\n"
            "  ID                     the --id-column, under its own name, when given\n"
            "  given_label            the label in the file\n"
            "  suggested_label        the most probable other class\n"
            "  suggested_probability  its out-of-fold probability\n"
            "  label_quality          the out-of-fold probability of the given label:\n"
            "                         the lower, the more suspicious\n"
            "  flagged                with --all: whether the row is flagged (the flagged\n"
            "                         rows come first)\n\n"
            "Every column except the label, id and dropped columns must be numeric and\n"
            "complete; the labels must be classes, each with at least --cv rows.\n"
            "For .npy input columns are given by their index (-1 for the last)."
        ),
        epilog=(
            "examples:\n"
            "  ae-reduce issues data.csv --label-column y -o issues.csv\n"
            "  ae-reduce issues cells.parquet --label-column cell_type --id-column barcode "
            "\\\n"
            "      --drop-columns batch,notes --all -o ranked.parquet"
        ),
    )
    _add_quiet(issues)
    issues.add_argument("input", help="data file: .csv, .npy or .parquet, one row per sample")
    issues.add_argument(
        "-o", "--output", required=True, help="where to write the rows: .csv or .parquet"
    )
    issues.add_argument(
        "--label-column", required=True, help="column holding the labels (classes) to check"
    )
    _add_column_options(issues, "written after the row number")
    issues.add_argument(
        "--cv",
        type=_fold_count,
        default=5,
        metavar="FOLDS",
        help="folds of the cross-fitting, one network each (default: %(default)s)",
    )
    issues.add_argument(
        "--epochs",
        type=_positive_int,
        help="largest number of training epochs of each network (default: the network's "
        "own, 200; early stopping usually ends sooner)",
    )
    _add_scaler_option(issues)
    issues.add_argument(
        "--all",
        action="store_true",
        help="write every row, ranked from the most suspicious, with a 'flagged' column",
    )
    issues.add_argument("--random-state", type=int, help="seed, for a reproducible run")
    issues.set_defaults(handler=_issues)
    return parser


def main(argv=None):
    """Run the ``ae-reduce`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name. None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 when the work failed, 2 for bad arguments or input, 130 when
        interrupted (Ctrl-C), 143 when terminated (SIGTERM).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet = getattr(args, "quiet", False)
    # The handlers report through this object so that an error message after a failed or
    # interrupted fit starts on a line of its own, not at the end of a progress bar.
    progress = _Progress(args.quiet)
    try:
        with _terminating_cleanly(), warnings.catch_warnings():
            if args.quiet:
                # Warnings (such as a fit that ran out of epochs) are advice: -q asks for
                # results and errors only.
                warnings.simplefilter("ignore")
            return args.handler(args, progress)
    except InputError as error:
        progress.end_line()
        print(_escaped(f"ae-reduce {args.command}: error: {error}"), file=sys.stderr)
        return 2
    except (ValueError, ImportError, OSError) as error:
        progress.end_line()
        print(_escaped(f"ae-reduce {args.command}: error: {error}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.end_line()
        print(f"ae-reduce {args.command}: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        progress.end_line()
        print(f"ae-reduce {args.command}: terminated", file=sys.stderr)
        # 128 + SIGTERM's number, as a shell reports a process that SIGTERM ended.
        status = 128 + int(signal.SIGTERM)
        if _exit_when_terminated:
            # The clean-up has run. Releasing the interrupted training (TensorFlow's
            # input pipeline, whose thread may wait for the interpreter lock that this
            # thread holds) can hang; a process that is being terminated ends at once.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        return status


#: Whether SIGTERM ends the process as soon as its temporary files are removed: true
#: for the ``ae-reduce`` program, false when :func:`main` is called from Python.
_exit_when_terminated = False


def run():
    """The ``ae-reduce`` program: :func:`main` on the command's arguments, then exit."""
    global _exit_when_terminated
    _exit_when_terminated = True
    sys.exit(main())


if __name__ == "__main__":
    run()
