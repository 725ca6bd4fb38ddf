"""Docstring paragraphs that several estimators share, written once.

A docstring names a shared paragraph by a placeholder on a line of its own,
``{activation}``, indented as the paragraph is to be; :func:`fill_docstrings` puts the
paragraph there. Each paragraph below is a numpydoc entry, its name first, and its
placeholder is that name. Only ``{name}`` with a bare name between the braces is a
placeholder: numpydoc's sets of values (``{"auto", "cpu"}``) are left alone.
"""

import inspect
import re
import types

#: Where a docstring names a paragraph: a Python name between braces.
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")

#: Attribute of a filled class or function that keeps its docstring's template and the
#: paragraphs it was filled with.
TEMPLATE_ATTRIBUTE = "_docstring_template"

_PARAMETERS = """
activation : str or callable, default="relu"
    Activation of the hidden layers, a Keras activation name such as ``"relu"``,
    ``"gelu"``, ``"selu"`` or ``"tanh"``. ReLU-family activations get He
    initialisation, ``"selu"`` LeCun initialisation, the others Glorot.

dropout : float, default=0.0
    Dropout rate after each hidden layer during training, in [0, 1).

batch_normalization : bool, default=False
    Whether to batch-normalise the pre-activations of the hidden layers.

l1 : float, default=0.0
    L1 penalty on the embedding activations (sparse embeddings).

l2 : float, default=0.0
    L2 penalty on every kernel (weight decay).

task : {"auto", "classification", "regression"}, default="auto"
    What the network learns. ``"auto"`` reads it from `y`: labels that look discrete
    (integers, strings, booleans, categories) are classified, floats regressed.
    ``"classification"`` rejects continuous targets; ``"regression"`` treats integer
    targets as numbers. The choice also sets the estimator's scikit-learn type:
    ``"classification"`` makes it a classifier (stratified folds in
    :func:`~sklearn.model_selection.cross_val_score`, classification scorers such as
    ``"roc_auc"``), ``"regression"`` a regressor, ``"auto"`` neither.

loss : {"auto", "crossentropy", "mse", "mae", "huber"}, default="auto"
    Task loss. ``"auto"`` is the cross-entropy for classification (sigmoid for
    binary and multilabel targets, softmax for multiclass ones) and the squared
    error for regression. ``"mae"`` and ``"huber"`` are for regression only.

optimizer : str, default="adam"
    Name of a Keras optimizer: ``"adam"``, ``"adamw"``, ``"nadam"``, ``"adamax"``,
    ``"rmsprop"``, ``"sgd"``, ``"adagrad"`` or ``"lion"``.

learning_rate : float, default=3e-3
    Initial learning rate of the optimizer.

learning_rate_schedule : {"plateau", "constant"}, default="plateau"
    ``"plateau"`` halves the learning rate whenever the monitored loss has not
    improved for ``max(1, patience // 4)`` epochs; ``"constant"`` keeps it.

batch_size : int or "auto", default="auto"
    Rows per mini-batch. ``"auto"`` uses about 20 steps per epoch:
    ``min(128, max(16, round(n_train / 20)))`` rows, where ``n_train`` is the
    number of training rows after the validation split. Small tables then get the
    many small steps they need, large ones full batches. The value used is stored
    in ``batch_size_``.

epochs : int, default=200
    Largest number of passes over the training data. With ``early_stopping`` the
    fit usually ends well before.

validation_split : float, default=0.1
    Fraction of the rows held out to measure ``val_loss`` for early stopping,
    stratified by class for classification. With 0, or too few rows to hold any out,
    the training loss is monitored instead.

early_stopping : bool, default=True
    Stop when the monitored loss has not improved by ``min_delta`` for ``patience``
    epochs, and restore the weights of the best epoch.

patience : int, default=10
    Epochs without improvement before early stopping.

min_delta : float, default=0.0
    Smallest decrease of the monitored loss that counts as an improvement.

class_weight : dict, "balanced" or None, default=None
    Weights of the classes in the task loss, as a dict from the user's labels to
    weights, or ``"balanced"`` for weights inversely proportional to the class
    frequencies. They multiply ``sample_weight``. Single-output classification only.

cv : int, cross-validation generator, iterable or None, default=5
    How :meth:`fit_transform` cross-fits. An int is the number of folds, shuffled
    with ``random_state`` and stratified by class for classification. ``None`` turns
    cross-fitting off: :meth:`fit_transform` then equals ``fit(X, y).transform(X)``.
    :meth:`fit` never cross-fits.

callbacks : list of keras.callbacks.Callback, default=None
    Extra Keras callbacks for training, for example TensorBoard or a learning-rate
    schedule.

device : {"auto", "cpu", "gpu", "gpus"} or list of str, default="auto"
    Where to train. ``"auto"`` uses the first GPU when TensorFlow sees one, ``"cpu"``
    forces the CPU, ``"gpu"`` raises a ``ValueError`` when no GPU is visible.
    ``"gpus"`` trains on every visible GPU at once, and a list of TensorFlow device
    names (``["/GPU:0", "/GPU:1"]``) on those: each mini-batch of ``batch_size``
    rows is split between the devices and their gradients are summed
    (``tf.distribute.MirroredStrategy``); see :ref:`scaling_gpus`. Inference runs
    on one device, a GPU when one is visible unless ``device="cpu"``.

random_state : int, RandomState instance or None, default=None
    Seeds the weights, the validation split, the folds of :meth:`fit_transform`,
    dropout and shuffling. An int makes fits reproducible on the CPU, whatever ran
    before in the process and in other threads, and in a Dask or joblib worker as
    in the main process. No global generator (Python's, numpy's, TensorFlow's) is
    seeded or changed. See :term:`Glossary <random_state>`.

verbose : int, default=0
    Keras's training output: 0 is silent, 1 a progress bar, 2 one line per epoch.
"""

_ATTRIBUTES = """
batch_size_ : int
    Rows per mini-batch used in training (``batch_size`` resolved).

n_features_in_ : int
    Number of features seen during :term:`fit`.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during :term:`fit`. Defined only when `X` has feature
    names that are all strings.
"""


def _entries(text):
    """The numpydoc entries of ``text`` by name: each runs from an unindented line to
    the next."""
    entries = {}
    for entry in re.split(r"\n(?=\S)", text.strip("\n")):
        entry = entry.rstrip()
        entries[entry.split(" :", 1)[0]] = entry
    return entries


#: The shared parameter and attribute entries, by name.
PARAGRAPHS = {**_entries(_PARAMETERS), **_entries(_ATTRIBUTES)}


def fill_text(template, paragraphs):
    """Put the paragraph of each placeholder of ``template`` in its place.

    Every line of a paragraph after its first takes the indentation of the line that
    holds the placeholder, so that a paragraph written flush left lands at the depth
    of a class's docstring or of a method's.

    Parameters
    ----------
    template : str
        Text with ``{name}`` placeholders.

    paragraphs : dict of str to str
        The text of each placeholder, by name.

    Returns
    -------
    text : str
        ``template`` with its placeholders filled.

    Raises
    ------
    KeyError
        When ``paragraphs`` has no text for a placeholder.
    """
    lines = []
    for line in template.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]

        def paragraph(match, indent=indent):
            name = match.group(1)
            if name not in paragraphs:
                raise KeyError(f"no paragraph for the docstring placeholder {{{name}}}")
            first, *rest = paragraphs[name].split("\n")
            return "\n".join([first, *(indent + line if line else line for line in rest)])

        lines.append(PLACEHOLDER.sub(paragraph, line))
    return "\n".join(lines)


def fill_docstrings(**paragraphs):
    """Decorate a class or a function: fill the placeholders of its docstring.

    The placeholders take the shared :data:`PARAGRAPHS` and the ones given here, which
    win. On a class, the docstrings of the functions it defines are filled too, and a
    method it inherits whose docstring has placeholders that the given paragraphs
    change is given a copy of that method, with the docstring filled for this class
    (the same code: only the docstring differs). Without docstrings (``python -OO``)
    nothing changes.

    Parameters
    ----------
    **paragraphs : str
        Text of further placeholders, or of shared ones that read otherwise here.

    Returns
    -------
    decorate : callable
        The decorator, which returns the class or function it is given.
    """
    filling = {**PARAGRAPHS, **paragraphs}

    def decorate(target):
        _fill(target, filling)
        if isinstance(target, type):
            for member in vars(target).values():
                if isinstance(member, types.FunctionType):
                    _fill(member, filling)
            _document_inherited(target, paragraphs)
        return target

    return decorate


def docstring_template(target):
    """The unfilled docstring of a class or function that :func:`fill_docstrings` filled.

    Parameters
    ----------
    target : class or function
        A class or function.

    Returns
    -------
    template : str or None
        Its docstring before the placeholders were filled; None when it had none, or
        when a class only inherits a filled docstring.
    """
    saved = vars(target).get(TEMPLATE_ATTRIBUTE)
    return None if saved is None else saved[0]


def _fill(target, paragraphs):
    template = target.__doc__
    if template and PLACEHOLDER.search(template):
        target.__doc__ = fill_text(template, paragraphs)
        setattr(target, TEMPLATE_ATTRIBUTE, (template, paragraphs))


def _document_inherited(cls, paragraphs):
    """Give ``cls`` copies of the inherited methods whose docstrings ``paragraphs``
    change."""
    for name in dir(cls):
        if name in vars(cls):
            continue
        method = inspect.getattr_static(cls, name)
        saved = vars(method).get(TEMPLATE_ATTRIBUTE) if inspect.isfunction(method) else None
        if saved is None:
            continue
        template, inherited = saved
        merged = {**inherited, **paragraphs}
        text = fill_text(template, merged)
        if text == method.__doc__:
            continue
        copy = types.FunctionType(
            method.__code__, method.__globals__, name, method.__defaults__, method.__closure__
        )
        copy.__kwdefaults__ = method.__kwdefaults__
        copy.__annotations__ = dict(method.__annotations__)
        copy.__dict__.update(vars(method))
        copy.__module__ = cls.__module__
        copy.__qualname__ = f"{cls.__qualname__}.{name}"
        copy.__doc__ = text
        setattr(copy, TEMPLATE_ATTRIBUTE, (template, merged))
        setattr(cls, name, copy)
