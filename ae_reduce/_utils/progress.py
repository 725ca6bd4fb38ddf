"""Progress lines: durations and the per-iteration report of a map's training.

Imports nothing from the package, so that the estimators and the command line can both
use it.
"""

import time


def format_duration(seconds):
    """``seconds`` as a short duration: ``"4.2s"``, ``"42s"``, ``"3m05s"`` or ``"1h02m"``."""
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class IterationProgress:
    """A callback of :class:`ParametricTSNE` that reports its progress in one line.

    Each line gives the iteration out of the most that can run, the losses and an
    estimate of the time left, an upper bound as early stopping may end the fit sooner.
    The pace is measured from the first call on, since the first iterations also pay
    for building the graph.

    Parameters
    ----------
    name : str
        What is trained, first on each line.
    write : callable, default=None
        Takes each line; None prints it, prefixed with ``[name]``.
    interval : float, default=0.0
        Fewest seconds between two lines; the first and the last line are always
        shown.
    clock : callable, default=time.perf_counter
        Seconds, for the estimate.
    """

    def __init__(self, name, write=None, interval=0.0, clock=time.perf_counter):
        self.name = name
        self.write = write
        self.interval = interval
        self.clock = clock
        self.first = None
        self.shown = None

    def stage(self, description):
        """Report that a step of the fit begins (see :func:`announce_stage`)."""
        self._write(description)

    def _write(self, line):
        if self.write is None:
            print(f"[{self.name}] {line}", flush=True)
        else:
            self.write(f"{self.name}: {line}")

    def __call__(self, iteration, n_iterations, logs):
        now = self.clock()
        if self.first is None:
            self.first = (iteration, now)
        elif now - self.shown < self.interval and iteration < n_iterations:
            return False
        self.shown = now
        parts = [f"iteration {iteration}/{n_iterations}", f"loss {logs['loss']:.4f}"]
        if "val_loss" in logs:
            parts.append(f"held-out loss {logs['val_loss']:.4f}")
        done, then = self.first
        if iteration > done and n_iterations > iteration:
            left = (n_iterations - iteration) * (now - then) / (iteration - done)
            parts.append(f"up to {format_duration(left)} left")
        self._write(", ".join(parts))
        return False


def announce_stage(callbacks, description):
    """Call ``stage(description)`` on each of `callbacks` that has that method.

    Parameters
    ----------
    callbacks : list of callable
        A fit's callbacks; those without a ``stage`` method are left alone.
    description : str
        The step of the fit that begins, in a few words.
    """
    for callback in callbacks:
        stage = getattr(callback, "stage", None)
        if callable(stage):
            stage(description)


def neighbours_stage(n_rows, perplexity):
    """The step that a t-SNE fit takes before its first iteration, in words."""
    return (
        f"finding the neighbours of {n_rows} rows and their affinities (perplexity {perplexity:g})"
    )
