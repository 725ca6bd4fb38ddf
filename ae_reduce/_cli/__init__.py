"""The ``ae-reduce`` command line: a digits demo, embedding a data file, label issues.

Progress goes to standard error and results (the paths written) to standard output, so
``ae-reduce embed ... > written.txt`` keeps the two apart. Heavy imports (TensorFlow,
openTSNE, matplotlib, pandas) happen inside the commands, so ``ae-reduce --help`` is
instant.

The modules, by concept: :mod:`.parser` (the options), one module per subcommand
(:mod:`.demo`, :mod:`.embed`, :mod:`.issues`), :mod:`.inputs` and :mod:`.checks`
(reading and checking a data file), :mod:`.streaming`, :mod:`.arrow_csv` and
:mod:`.from_file` (files larger than memory), :mod:`.csv_files` (compressed CSV files
and files without a header line), :mod:`.table_text` (what text counts as a
number), :mod:`.outputs` (the files and lines written), :mod:`.maps` (thumbnails
and the map of ``issues`` on ``--html`` pages), :mod:`.progress` (progress on
standard error), :mod:`.warning_lines` (warnings as one line each, naming the
options), :mod:`.errors` (what ends a command early) and :mod:`.settings` (the
sizes that choose between reading whole and batch by batch).
"""

import os
import signal
import sys
import warnings

from .errors import InputError, Terminated, terminating_cleanly
from .parser import build_parser
from .progress import Progress, escaped
from .warning_lines import WarningLines


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
    progress = Progress(args.quiet)
    try:
        with terminating_cleanly(), warnings.catch_warnings():
            if args.quiet:
                # Warnings (such as a fit that ran out of epochs) are advice: -q asks for
                # results and errors only.
                warnings.simplefilter("ignore")
                return args.handler(args, progress)
            # Each warning as one line that names the options, not the parameters.
            options = {"--" + name.replace("_", "-") for name in vars(args)}
            with WarningLines(progress, options):
                return args.handler(args, progress)
    except InputError as error:
        progress.end_line()
        print(escaped(f"ae-reduce {args.command}: error: {error}"), file=sys.stderr)
        return 2
    except (ValueError, ImportError, OSError) as error:
        progress.end_line()
        print(escaped(f"ae-reduce {args.command}: error: {error}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.end_line()
        print(f"ae-reduce {args.command}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
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
