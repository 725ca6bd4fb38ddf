"""Progress on standard error: timestamped lines, and bars redrawn in place on a terminal.

:class:`Progress` writes the lines; :func:`fit_progress` makes the Keras callback that
reports each network's training, and :func:`report_progress` attaches the reporters of
a pipeline's steps.
"""

import os
import sys
import time
from numbers import Integral

from .._utils.progress import IterationProgress, format_duration


class Progress:
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
            print(escaped(self.stamp(message)), file=self.stream, flush=True)

    def redraw(self, *versions):
        """Replace the current line with the first of ``versions`` that fits (terminals only).

        ``versions`` go from the most detailed to the shortest. A line wider than the
        terminal would wrap, and ``\\r`` would then redraw only its last row, leaving a
        copy of the rest behind at each redraw.
        """
        if self.quiet:
            return
        width = self.width()
        candidates = [escaped(self.stamp(version)) for version in versions]
        candidates += [escaped(version) for version in versions]
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


def escaped(text):
    """`text` with lone surrogates (from file names that are not UTF-8) as ``\\udcxx``.

    Python writes them so to a terminal's standard error; escaping them here keeps a
    message printable on any stream, whatever its error handler.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def count_fits(reducer):
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
LOG_INTERVAL = 10.0

#: Fewest seconds between two progress lines of a parametric map's training.
PARAMETRIC_INTERVAL = 5.0

#: Characters of the bar itself.
BAR_WIDTH = 20


def fit_progress(name, progress, n_fits=1, clock=time.perf_counter, start="the starting point"):
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
    progress : Progress
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
    from .._keras.backend import import_keras

    keras = import_keras()

    class FitProgress(keras.callbacks.Callback):
        # cross_val_predict clones the estimator for each fold, and with it deep copies
        # of this callback: what they share, the count of fits among it, is an
        # attribute of the class, which copies share, while each fit's own state is
        # kept on the instance.
        lines = _FitLines(name, progress, n_fits, clock, start)

        def on_train_begin(self, logs=None):
            self.lines.train_begin(self)

        def on_epoch_end(self, epoch, logs=None):
            self.lines.epoch_end(self, epoch, logs)

        def on_train_end(self, logs=None):
            self.lines.train_end(self)

    return FitProgress()


class _FitLines:
    """The lines that the callbacks of one :func:`fit_progress` show, and the count of
    the fits they have begun.

    The state of a fit under way is kept on its callback, `fit`, since each deep copy
    of the callback follows a fit of its own.
    """

    def __init__(self, name, progress, n_fits, clock, start):
        self.name = name
        self.progress = progress
        self.n_fits = n_fits
        self.clock = clock
        self.start = start
        self.fits_started = 0

    def train_begin(self, fit):
        self.fits_started += 1
        fit.fit_number = self.fits_started
        fit.terminal = self.progress.is_terminal()
        fit.started = fit.last_shown = self.clock()
        fit.first_epoch_ended = None
        fit.epochs_done = 0
        fit.logs = {}
        # The estimator learns its best epoch only after the callback's last call, so a
        # kept start is recognised by its weights, which early stopping restores
        # exactly (a few arrays, held only while the fit runs).
        fit.start_weights = fit.model.get_weights() if fit.model is not None else None
        if fit.terminal:
            # The first epoch includes building the graph: show at once that it began.
            self.progress.redraw(*self._bar(fit, fit.started))

    def epoch_end(self, fit, epoch, logs):
        now = self.clock()
        fit.epochs_done = epoch + 1
        if fit.first_epoch_ended is None:
            fit.first_epoch_ended = now
        fit.logs = dict(logs or {})
        if fit.terminal:
            if epoch == 0 or now - fit.last_shown >= REDRAW_INTERVAL:
                self.progress.redraw(*self._bar(fit, now))
                fit.last_shown = now
        elif now - fit.last_shown >= LOG_INTERVAL and not self._last_epoch(fit):
            # The last epoch's line is train_end's, which says how the fit ended: a
            # line here as well would print that epoch twice.
            self.progress(f"{self._label(fit)}: {self._line(fit, now)}")
            fit.last_shown = now

    def train_end(self, fit):
        now = self.clock()
        if fit.terminal:
            self.progress.redraw(*self._bar(fit, now, finished=True))
            self.progress.end_line()
        else:
            self.progress(f"{self._label(fit)}: {self._line(fit, now, finished=True)}")
        if self._kept_start(fit):
            rows = "validation" if "val_loss" in fit.logs else "training"
            self.progress(
                f"{self._label(fit)}: kept {self.start}: no epoch beat it on the {rows} rows"
            )

    def _kept_start(self, fit):
        import numpy as np

        start_weights, fit.start_weights = fit.start_weights, None
        if not fit.epochs_done or start_weights is None or fit.model is None:
            return False
        return all(
            np.array_equal(before, after)
            for before, after in zip(start_weights, fit.model.get_weights(), strict=True)
        )

    def _last_epoch(self, fit):
        """Whether the epoch that just ended is the fit's last: the most allowed, or
        early stopping (whose callback runs first) ends the fit there."""
        model = fit.model
        return fit.epochs_done == self._epochs(fit) or bool(
            model is not None and getattr(model, "stop_training", False)
        )

    @staticmethod
    def _epochs(fit):
        return (fit.params or {}).get("epochs")

    def _label(self, fit, short=False):
        k, n_fits = fit.fit_number, self.n_fits
        if n_fits is not None and 1 < n_fits and k <= n_fits:
            network = f"network {k} of {n_fits}"
        elif k > 1:
            network = f"network {k}"
        else:
            return self.name
        return network if short else f"{self.name}, {network}"

    def _time_left(self, fit, now):
        done, epochs = fit.epochs_done, self._epochs(fit)
        # The first epoch pays for building the graph, so only later ones show the pace.
        if not epochs or done < 2:
            return None
        return (epochs - done) * (now - fit.first_epoch_ended) / (done - 1)

    def _line(self, fit, now, finished=False):
        epochs = self._epochs(fit)
        counter = f"epoch {fit.epochs_done}"
        if epochs:
            counter += f"/{epochs}"
            if finished and fit.epochs_done < epochs:
                counter += " (stopped early)"
        parts = [counter]
        parts.extend(f"{key} {value:.4g}" for key, value in fit.logs.items() if "loss" in key)
        if finished:
            parts.append(f"took {format_duration(now - fit.started)}")
        else:
            left = self._time_left(fit, now)
            if left is not None:
                parts.append(f"up to {format_duration(left)} left")
        return ", ".join(parts)

    def _bar(self, fit, now, finished=False):
        """The line with a bar, then shorter ones for narrow terminals."""
        line = self._line(fit, now, finished)
        label, short = self._label(fit), self._label(fit, short=True)
        versions = [f"{label}: {line}", f"{short}: {line}"]
        epochs = self._epochs(fit)
        if epochs:
            filled = round(BAR_WIDTH * fit.epochs_done / epochs)
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
            versions.insert(0, f"{label}: {bar} {line}")
        return versions


class TSNEPrinter:
    """An openTSNE callback that reports the step, the iteration and the KL divergence.

    Off a terminal, a line at most every `interval` seconds, and the first and the last
    of each phase; on a terminal, one line per phase redrawn in place.
    """

    PHASES = ("early exaggeration", "main phase")

    def __init__(self, progress, iterations, every=50, interval=None, clock=time.perf_counter):
        self.progress = progress
        self.iterations = iterations
        self.every = every
        self.interval = PARAMETRIC_INTERVAL if interval is None else interval
        self.clock = clock
        self.phase = -1
        self.shown = None

    def stage(self, description):
        self.progress(f"t-SNE: {description}")

    def optimization_about_to_start(self):
        self.phase += 1
        self.shown = None

    def __call__(self, iteration, kl_divergence, embedding):
        phase = min(self.phase, 1)
        total = self.iterations[phase]
        now = self.clock()
        last = iteration + self.every > total
        line = (
            f"t-SNE {self.PHASES[phase]}: iteration {iteration}/{total}, "
            f"KL divergence {kl_divergence:.3f}"
        )
        if self.progress.is_terminal():
            if last or self.shown is None or now - self.shown >= REDRAW_INTERVAL:
                self.progress.redraw(line)
                self.shown = now
            if last:
                self.progress.end_line()
        elif last or self.shown is None or now - self.shown >= self.interval:
            self.progress(line)
            self.shown = now
        return False


def report_progress(pipeline, progress, quiet):
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
        callback = fit_progress(name, progress, count_fits(reducer), start=start)
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
        printer = TSNEPrinter(progress, iterations, tsne.callbacks_every_iters)
        tsne.set_params(callbacks=[printer])
