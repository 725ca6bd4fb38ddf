"""What ends a command early: bad input (exit status 2) and SIGTERM (exit status 143)."""

import contextlib
import signal
import threading


class InputError(Exception):
    """A problem with the command's arguments or input files (exit status 2)."""


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread, as Ctrl-C raises KeyboardInterrupt,
    so that temporary files are removed on the way out.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` on the
    way swallows it.
    """


@contextlib.contextmanager
def terminating_cleanly():
    """While the block runs, SIGTERM raises :class:`Terminated` instead of ending the
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
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
