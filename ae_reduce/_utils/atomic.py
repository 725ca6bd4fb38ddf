"""All-or-nothing fitting."""

import functools


def atomic_fit(method):
    """Make a fitting method all or nothing.

    If ``method`` raises, the estimator's attributes are put back as they were before
    the call: a fitted estimator keeps its earlier fitted state (and still transforms and
    pickles), an unfitted one stays unfitted. Every fitted attribute is replaced rather
    than changed in place during a fit, so restoring the attribute dictionary suffices.
    """

    @functools.wraps(method)
    def fit_or_leave_unchanged(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return fit_or_leave_unchanged
