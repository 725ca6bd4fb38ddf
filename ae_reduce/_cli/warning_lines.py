"""Warnings on standard error as one line each, in the words of the command line.

The estimators' warnings are written for Python users: they name parameters
(``n_iter=1250``) and Python attributes them to a file and a line of source. On the
command line :class:`WarningLines` shows each one as a single ``warning: ...`` line
instead, naming the option that sets a parameter (``--tsne-iter 1250``), with no file,
line number or source, and shows a warning repeated word for word (once per
cross-fitted network, say) only once. Warnings that libraries log (TensorFlow, absl,
openTSNE) rather than issue through :mod:`warnings` become the same kind of line.
"""

import logging
import re
import warnings

#: Estimator parameters and the options of ``ae-reduce`` that set them.
OPTIONS = {
    "n_iter": "--tsne-iter",
    "early_exaggeration_iter": "--exaggeration-iter",
    "perplexity": "--perplexity",
    "epochs": "--epochs",
    "max_epochs": "--epochs",
    "hidden_layer_sizes": "--hidden-layer-sizes",
    "n_components": "--n-components",
    "random_state": "--random-state",
    "cv": "--cv",
    "n_splits": "--cv",
}

#: Parameters that no option sets: ``patience=20 epochs`` reads ``20 epochs``.
FIXED_PARAMETERS = ("patience", "min_delta", "validation_split", "n_train", "n_samples")

#: Python names of counts, in words: ``(n_samples - 1) / 3`` reads ``(rows - 1) / 3``.
COUNTS = {"n_samples": "rows", "n_train": "rows"}

#: What the command line calls the estimators that warnings start with.
ESTIMATORS = {
    "ParametricTSNE": "parametric t-SNE",
    "TSNE": "t-SNE",
    "KerasAutoencoderTransformer": "autoencoder",
    "SupervisedEmbeddingTransformer": "supervised network",
}

#: scikit-learn's warning of a class rarer than the folds of a stratified split, which
#: names its arguments (``y``, ``n_splits``), and the same in the command line's words.
_RARE_CLASS = (
    re.compile(
        r"The least populated class in y has only (\d+) members?, which is less than "
        r"n_splits=(\d+)\."
    ),
    r"the least populated class of --label-column has only \1 row(s), fewer than the \2 "
    "cross-fitting folds, so some folds have none of its rows.",
)

#: Verbs after which a bare parameter name is the thing to change (``Increase epochs``).
_VERBS = r"(?:[Ii]ncrease|[Dd]ecrease|[Rr]aise|[Ll]ower|[Rr]educe|[Ss]et)"


def command_line_words(message, options):
    """`message` with the estimators' parameter names replaced by options.

    Parameters
    ----------
    message : str
        A warning's text, written for Python users.
    options : container of str
        The options of the command being run (``--epochs``, ...): a parameter whose
        option the command does not have keeps its Python name.

    Returns
    -------
    text : str
        One line: whitespace runs (new lines included) become single spaces.
    """
    known = {name: option for name, option in OPTIONS.items() if option in options}
    text = " ".join(str(message).split())
    if "--label-column" in options:
        text = _RARE_CLASS[0].sub(_RARE_CLASS[1], text)

    def assignment(match):
        name, value = match.group(1), match.group(2)
        if name in known:
            return f"{known[name]} {value}"
        return value if name in FIXED_PARAMETERS else match.group(0)

    text = re.sub(r"\b([a-z][a-z_]*)=([^\s,;()]+)", assignment, text)
    # A name with an underscore is a parameter wherever it stands; a plain word
    # (epochs, perplexity) only after a verb that asks to change it.
    for name, option in known.items():
        if "_" in name:
            text = re.sub(rf"(?<![\w-]){name}\b", option, text)
        text = re.sub(rf"\b({_VERBS}) {name}\b", rf"\1 {option}", text)
    for name, words in COUNTS.items():
        text = re.sub(rf"\b{name}\b", words, text)
    for name, words in ESTIMATORS.items():
        text = re.sub(rf"^{name}: ", f"{words}: ", text)
    return text


class WarningLines:
    """A ``warnings.showwarning`` that writes each warning as one line of progress.

    Parameters
    ----------
    progress : Progress
        Where the lines go; it ends a progress bar being redrawn first.
    options : container of str
        The options of the command being run, as :func:`command_line_words` takes them.
    """

    def __init__(self, progress, options):
        self.progress = progress
        self.options = options
        # Each line shown, and how many times it was given.
        self.counts = {}

    def show(self, message, category, filename, lineno, file=None, line=None):
        """Show a warning (the signature of :func:`warnings.showwarning`)."""
        text = command_line_words(message, self.options)
        if not text:
            text = category.__name__
        self.counts[text] = self.counts.get(text, 0) + 1
        if self.counts[text] == 1:
            self.progress(f"warning: {text}")

    def summary(self):
        """One line for each warning given more than once, saying how many times."""
        for text, count in self.counts.items():
            if count > 1:
                start = text if len(text) <= 60 else text[:57].rstrip() + "..."
                self.progress(f"warning: the warning {start!r} above was given {count} times")

    def __enter__(self):
        self._saved = warnings.showwarning
        warnings.showwarning = self.show
        # On the root logger, where every library's records arrive. TensorFlow adds a
        # handler of its own to its logger only when the root logger has none, so its
        # records come here too when it is imported during the command.
        self._handler = _LogRecords(self)
        logging.getLogger().addHandler(self._handler)
        return self

    def __exit__(self, *exc_info):
        warnings.showwarning = self._saved
        logging.getLogger().removeHandler(self._handler)
        if exc_info[0] is None:
            self.summary()
        return False


class _LogRecords(logging.Handler):
    """Logged warnings and errors (not information) as the lines of `lines`."""

    def __init__(self, lines):
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record):
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        self.lines.show(message, UserWarning, record.pathname, record.lineno)
