"""One monitor for every training loop: the best loss, patience and divergence.

The epoch loop of the neural estimators and the iteration loop of the parametric map
both follow their monitored loss with :class:`Monitor`; neither keeps its own
bookkeeping. It holds no Keras object, only the functions that take and put back the
weights.
"""

import math


class Monitor:
    """Follow the monitored loss of one training run.

    Parameters
    ----------
    snapshot : callable
        ``snapshot()`` returns the current weights; called only with ``early_stopping``.
    restore : callable
        ``restore(weights)`` puts back weights that ``snapshot`` returned.
    patience : int
        Steps without improvement after which training stops, in the units of the
        ``elapsed`` argument of :meth:`record` (epochs or iterations).
    early_stopping : bool
        Whether to stop after ``patience`` steps without improvement and to return the
        best weights seen rather than the last ones.
    min_delta : float, default=0.0
        Smallest decrease that counts as an improvement.
    plateau : int or None, default=None
        Steps without improvement after which :meth:`record` asks for the learning rate
        to be halved; None never asks.
    """

    def __init__(self, snapshot, restore, *, patience, early_stopping, min_delta=0.0, plateau=None):
        self.snapshot = snapshot
        self._restore = restore
        self.patience = patience
        self.early_stopping = early_stopping
        self.min_delta = min_delta
        self.plateau = plateau
        self.best = math.inf
        self.best_step = 0
        self.best_weights = None
        self.wait = 0
        self.since_reduction = 0
        self.stopped_early = False
        self.diverged_step = None

    def start(self, initial=None):
        """Let the starting weights, of monitored loss ``initial``, compete.

        A run that never beats its starting point then returns it (with
        ``early_stopping``).
        """
        if initial is not None and math.isfinite(initial):
            self.best = initial
            if self.early_stopping:
                self.best_weights = self.snapshot()

    def record(self, step, value, *, elapsed=1, finite=True):
        """Record the monitored ``value`` after ``step``; return ``(stop, halve)``.

        ``elapsed`` steps have passed since the last record. A value that is not finite,
        or ``finite=False`` (another loss of the same step is not), marks the run as
        diverged and stops it. ``halve`` asks the caller to halve the learning rate.
        """
        if not (finite and math.isfinite(value)):
            self.diverged_step = step
            return True, False
        if value < self.best - self.min_delta:
            self.best, self.best_step = value, step
            self.wait = self.since_reduction = 0
            if self.early_stopping:
                self.best_weights = self.snapshot()
            return False, False
        self.wait += elapsed
        self.since_reduction += elapsed
        halve = self.plateau is not None and self.since_reduction >= self.plateau
        if halve:
            self.since_reduction = 0
        if self.early_stopping and self.wait >= self.patience:
            self.stopped_early = True
        return self.stopped_early, halve

    def restore_best(self):
        """Put back the best weights seen, unless the run diverged or kept none."""
        if self.best_weights is not None and self.diverged_step is None:
            self._restore(self.best_weights)

    @property
    def still_improving(self):
        """Whether the last ``patience`` steps improved the monitored loss."""
        return not self.stopped_early and self.wait < max(self.patience, 1)
