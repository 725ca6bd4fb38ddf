"""``ae-reduce issues``: the rows of a data file whose label looks wrong."""

import warnings
from pathlib import Path

from .._utils.targets import python_value
from .errors import InputError
from .inputs import dropped_columns, extension, header_warning, load_data
from .maps import image_shape, row_images, write_issue_map
from .outputs import check_distinct_files, print_result, refuse_taken_names, write_table
from .progress import fit_progress

#: Extensions that ``issues`` writes: tables, as the rows mix numbers and labels.
ISSUE_FORMATS = (".csv", ".parquet")

#: Columns of the ``issues`` table; the id column, when given, comes after ``row``.
ISSUE_COLUMNS = ("row", "given_label", "suggested_label", "suggested_probability")

#: The last columns: the score, and with ``--all`` whether the row was flagged.
SCORE_COLUMNS = ("label_quality", "flagged")


def run(args, progress):
    """Run ``ae-reduce issues`` on the parsed `args`, reporting through `progress`;
    return the exit status."""
    from .._inspection.label_issues import (
        NoSignalWarning,
        cross_fitted_probabilities,
        rank_label_issues,
    )

    _check_issue_arguments(args)
    X, labels, _, ids = load_data(
        args.input, args.label_column, args.id_column, dropped_columns(args), args.no_header
    )
    warning = header_warning(args.input, args.no_header)
    if warning is not None:
        progress(warning)
    n_classes = _check_issue_labels(args, labels)
    images = row_images(args, X)
    progress(f"{args.input}: {X.shape[0]} rows, {X.shape[1]} feature columns, {n_classes} classes")
    estimator, random_state = issue_estimator(args, progress)
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
    if args.html is not None:
        progress("drawing the map of the rows (t-SNE of the scaled features)")
        found = {
            "probabilities": probabilities,
            "classes": classes,
            "codes": codes,
            "issues": issues,
            "scores": scores,
            "random_state": random_state,
        }
        write_issue_map(args, found, X, labels, ids, images, progress)
    write_table(table, args.output)
    print_result(f"{'Label issues:':17s} {Path(args.output).resolve()}")
    if args.html is not None:
        print_result(f"{'Interactive map:':17s} {Path(args.html).resolve()}")
    # Even with -q, a result of no rows says when it is the model's silence.
    silent = any(issubclass(warning.category, NoSignalWarning) for warning in caught)
    reason = "; the networks found no signal in the features" if silent else ""
    print(
        f"{len(issues)} of {len(labels)} rows flagged as possible label issues{reason}", flush=True
    )
    return 0


def _check_issue_arguments(args):
    extension(args.output, ISSUE_FORMATS, "--output")
    if args.html is not None:
        extension(args.html, (".html", ".htm"), "--html")
    image_shape(args)
    refuse_taken_names([*ISSUE_COLUMNS, *SCORE_COLUMNS], {"--id-column": args.id_column})
    check_distinct_files(args)


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
            f"{where} holds one class only ({python_value(classes[0])!r}); a label issue is a row "
            "that belongs to another class, so at least 2 are needed"
        )
    rare = [
        (python_value(value), int(count))
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


def issue_estimator(args, progress):
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
        network.set_params(callbacks=[fit_progress("supervised", progress, args.cv)])
    return estimator, random_state


def _issue_table(args, probabilities, classes, codes, scores, issues, labels, ids):
    """The rows to write, most suspicious first: flagged ones, or all with --all."""
    import numpy as np
    import pandas as pd

    from .._inspection.label_issues import suggested_classes

    suggested = suggested_classes(probabilities, codes)
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
