"""``ae-reduce embed``: the embedding of a data file, and optionally its maps."""

from pathlib import Path

from .._utils.targets import is_continuous, python_value
from .errors import InputError
from .inputs import (
    TABLE_FORMATS,
    dropped_columns,
    extension,
    header_warning,
    input_suffix,
    load_data,
)
from .maps import image_shape, row_images
from .outputs import (
    check_distinct_files,
    prepare_maps,
    print_result,
    refuse_taken_names,
    save_maps,
    use_agg,
    write_embedding,
)
from .progress import report_progress

#: Extensions of ``--plot``: the formats matplotlib writes without extra software.
PICTURE_FORMATS = (".png", ".pdf", ".svg")


def run(args, progress):
    """Run ``ae-reduce embed`` on the parsed `args`, reporting through `progress`;
    return the exit status."""
    # Imported when the command runs: the parser imports this module for --help.
    from . import from_file, streaming

    _check_embed_arguments(args)
    if args.plot:
        use_agg()
    X, labels, _, ids = _read_embed_input(args)
    warning = header_warning(args.input, args.no_header)
    if warning is not None:
        progress(warning)
    _check_labels_for_outputs(args, labels)
    _check_code_width(args, X.shape[1])
    images = row_images(args, X)
    pipeline = build_embed_pipeline(args, X.shape, labels)
    names = output_names(pipeline)
    if Path(args.output).suffix.lower() != ".npy":
        refuse_taken_names(
            names, {"--label-column": args.label_column, "--id-column": args.id_column}
        )
    progress(f"{args.input}: {X.shape[0]} rows, {X.shape[1]} feature columns")
    report_progress(pipeline, progress, args.quiet)
    reducer = pipeline["reducer"]
    progress(
        f"fitting {type(reducer).__name__}(n_components={reducer.n_components})"
        + (f" then {'parametric ' if args.parametric else ''}t-SNE" if args.tsne else "")
    )
    if streaming.trains_from_file(args, X):
        Z, maps = from_file.embed_from_file(args, progress, X, labels, ids, pipeline, names)
    else:
        Z = pipeline.fit_transform(X, labels if args.supervised else None)
        if args.parametric:
            progress(_parametric_summary(pipeline["tsne"]))
        # Everything that can fail is done before the first file is written.
        maps = prepare_maps(args, Z, labels)
        write_embedding(Z, args.output, names, labels, args.label_column, ids, args.id_column)
    written = [("Embedding", args.output), *save_maps(args, Z, labels, ids, maps, images)]
    for what, path in written:
        print_result(f"{what + ':':17s} {Path(path).resolve()}")
    return 0


def _read_embed_input(args):
    """The checked input of ``embed``: whole, or batch by batch when it is large."""
    from . import streaming

    suffix = input_suffix(args.input, args.no_header)
    if streaming.streams(args, suffix):
        return streaming.read(
            args.input,
            suffix,
            args.label_column,
            args.id_column,
            dropped_columns(args),
            scaler=args.scaler,
            no_header=args.no_header,
        )
    return load_data(
        args.input, args.label_column, args.id_column, dropped_columns(args), args.no_header
    )


def _check_embed_arguments(args):
    suffix = extension(args.output, TABLE_FORMATS, "--output")
    if args.plot is not None:
        extension(args.plot, PICTURE_FORMATS, "--plot")
    if args.html is not None:
        extension(args.html, (".html", ".htm"), "--html")
    if args.id_column is not None and suffix == ".npy" and args.html is None:
        raise InputError(
            "--id-column: a .npy output holds the embedding only; write a .csv or .parquet "
            "file to keep the ids (or add --html to show them on a map)"
        )
    if args.supervised and args.label_column is None:
        raise InputError("--supervised needs --label-column: the network learns the labels")
    two_dimensional = args.tsne or args.n_components in (None, 2)
    if (args.plot or args.html) and not two_dimensional:
        raise InputError("--plot and --html draw 2-D maps; add --tsne or use --n-components 2")
    if not args.tsne:
        for option, value in (
            ("--parametric", args.parametric or None),
            ("--perplexity", args.perplexity),
            ("--tsne-iter", args.tsne_iter),
            ("--exaggeration-iter", args.exaggeration_iter),
        ):
            if value is not None:
                raise InputError(f"{option} applies to the t-SNE map; add --tsne")
    image_shape(args)
    check_distinct_files(args)


def _check_code_width(args, n_features):
    """Refuse, before training, an autoencoder's code wider than its input."""
    if args.supervised or args.n_components is None or args.n_components <= n_features:
        return
    raise InputError(
        f"--n-components {args.n_components} is more than the {n_features} feature "
        f"column(s) of {args.input}: the autoencoder's code is at most as wide as its "
        f"input, so use --n-components {n_features} or less"
    )


def _check_labels_for_outputs(args, labels):
    """Refuse, before training, labels that the chosen outputs cannot use."""
    import numpy as np

    from ..plotting._html import MAX_CLASSES

    if labels is None or is_continuous(labels):
        return
    classes = np.unique(labels)
    n_classes = len(classes)
    where = f"label column {args.label_column!r} of {args.input}"
    if args.supervised and n_classes < 2:
        only = python_value(classes[0])
        raise InputError(
            f"{where} holds one class only ({only!r}); --supervised learns to tell "
            "classes apart and needs at least 2"
        )
    if args.html and n_classes > MAX_CLASSES:
        raise InputError(
            f"{where} holds {n_classes} distinct values; --html colours by class and takes "
            f"at most {MAX_CLASSES}. Bin the values first, or store them as floats to colour "
            "--plot by value"
        )


def build_embed_pipeline(args, shape, labels=None):
    """The pipeline that ``embed`` fits: scaler, reducer and, with ``--tsne``, the map.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of ``embed``.
    shape : tuple of int
        The (rows, feature columns) of the input, which size the defaults.
    labels : ndarray or None, default=None
        The label column. With ``--supervised``, a column of floats is learnt as a
        value (a measurement, as the maps colour it), other columns as classes.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        The unfitted pipeline.
    """
    from .._pipeline import make_reducer

    reducer = "supervised" if args.supervised else "autoencoder"
    reducer_params = {"epochs": args.epochs}
    if args.supervised and labels is not None and is_continuous(labels):
        # Float labels are measurements, as the maps colour them, even when every value
        # is whole (grams, years): the network predicts the value, not one class each.
        reducer_params["task"] = "regression"
    if args.hidden_layer_sizes is not None:
        reducer_params["hidden_layer_sizes"] = args.hidden_layer_sizes
    if args.tsne:
        from .._pipeline import make_tsne_pipeline

        tsne_params = {
            name: value
            for name, value in (
                ("perplexity", args.perplexity),
                ("n_iter", args.tsne_iter),
                ("early_exaggeration_iter", args.exaggeration_iter),
            )
            if value is not None
        }
        return make_tsne_pipeline(
            reducer,
            n_components=args.n_components,
            shape=shape,
            random_state=args.random_state,
            reducer_params=reducer_params,
            tsne_params=tsne_params,
            parametric=args.parametric,
            scaler=args.scaler,
        )
    from sklearn.pipeline import Pipeline

    from .._preprocessing.scaling import make_scaler

    # The same size-based defaults (hidden layers) as make_tsne_pipeline; without
    # t-SNE the code is the output, two columns unless asked otherwise.
    n_components = 2 if args.n_components is None else args.n_components
    model = make_reducer(reducer, n_components, shape, args.random_state, 0, reducer_params)
    scaler = make_scaler(args.scaler)
    steps = [("reducer", model)] if scaler is None else [("scaler", scaler), ("reducer", model)]
    return Pipeline(steps)


def output_names(pipeline):
    """Names of the embedding's columns: ``tsne1, tsne2`` for a map, else the code's.

    The autoencoder's code is ``ae1`` to ``aeN``, the supervised network's
    ``supervised1`` to ``supervisedN``: short names that say what made them, counted
    from 1 as components usually are.
    """
    if "tsne" in pipeline.named_steps:
        return ["tsne1", "tsne2"]
    reducer = pipeline["reducer"]
    prefix = "supervised" if "Supervised" in type(reducer).__name__ else "ae"
    return [f"{prefix}{k}" for k in range(1, reducer.n_components + 1)]


def _parametric_summary(tsne):
    """One line on a fitted ParametricTSNE: iterations run, the kept ones, the last losses."""
    history = tsne.history_
    losses = ", ".join(
        f"{key} {history[key][-1]:.4g}" for key in ("loss", "val_loss") if history.get(key)
    )
    line = f"parametric t-SNE: {tsne.n_iter_} iterations"
    if tsne.early_stopping:
        line += f", weights of iteration {tsne.best_iteration_} kept"
    return line + (f", {losses}" if losses else "")
