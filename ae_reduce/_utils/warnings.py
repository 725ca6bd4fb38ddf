"""Warnings that point at the user's code."""

import sys


def caller_stacklevel():
    """``stacklevel`` for a warning issued by the function that calls this one.

    It points the warning at the first frame outside ae_reduce, scikit-learn (whose
    fit, output and pipeline wrappers sit in between) and joblib (through which a
    scikit-learn pipeline calls each step's fit, even without caching): the user's own
    line.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        ("ae_reduce.", "sklearn.", "joblib.")
    ):
        frame, level = frame.f_back, level + 1
    return level
