"""The argument parser of ``ae-reduce``: its subcommands, options and help."""

import argparse

from .._preprocessing.scaling import SCALER_NAMES
from . import demo, embed, issues, settings

EXIT_STATUS = """\
exit status:
  0  success
  1  the work failed (for example training diverged, or a file could not be written)
  2  bad arguments or input: unknown option, a t-SNE option without --tsne, missing
     or unreadable file, unsupported extension, an output that is the input, unknown or
     non-numeric column, a column given two roles (label, id, dropped) or named like an
     output column, no data rows, a .csv line with more or fewer fields than the header,
     missing values, labels or ids, labels of mixed types, repeated ids, an
     --image-shape that is malformed, does not match the feature columns or comes
     without --html, an --n-components wider than the feature columns (autoencoder),
     a --random-state outside 0 to 4294967295; for issues, labels that are not
     classes or a class with fewer rows than folds
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM); as on Ctrl-C, temporary files are removed first
"""


_INPUT_HELP = (
    "data file, one row per sample: .csv (also compressed: .csv.gz, .csv.bz2, .csv.zst), "
    ".npy or .parquet"
)


def _whole_number(minimum, expected, maximum=None):
    """An argparse type: an integer of at least `minimum` (and at most `maximum`, when
    given), else "expected <expected>"."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _whole_number(1, "a positive integer")
_count = _whole_number(0, "a whole number of 0 or more")
_fold_count = _whole_number(2, "a number of folds of 2 or more")
# The estimators take seeds that numpy's RandomState takes: 0 to 2**32 - 1.
_seed = _whole_number(0, f"a seed from 0 to {2**32 - 1}", maximum=2**32 - 1)


def _perplexity(text):
    # t-SNE looks at int(3 * perplexity) neighbours of each row: none below 1/3.
    from .._manifold.tsne import SMALLEST_PERPLEXITY

    expected = f"expected a number of at least 1/3, got {text!r}"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(expected) from None
    if value != value:  # NaN
        raise argparse.ArgumentTypeError(expected)
    if value < SMALLEST_PERPLEXITY:
        raise argparse.ArgumentTypeError(
            f"{expected}: t-SNE looks at 3 neighbours of each row per unit of perplexity"
        )
    return value


def _column_names(text):
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names such as notes,date, got {text!r}"
        )
    return names


def _layer_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 128,64, got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def _add_column_options(parser, id_use):
    """Add --id-column, --drop-columns and --no-header, which embed and issues share."""
    parser.add_argument(
        "--id-column",
        metavar="NAME",
        help="column holding an id of each row (strings or whole numbers, each row's "
        f"different, none missing): not a feature; {id_use}",
    )
    parser.add_argument(
        "--drop-columns",
        type=_column_names,
        action="append",
        metavar="A,B,...",
        help="columns to leave out entirely (not features, not written); comma-separated, "
        "and the option may be repeated",
    )
    parser.add_argument(
        "--no-header",
        action="store_true",
        help="the first line of a .csv file is data, not column names: the columns are "
        "named by position, 0 to n-1, as in --label-column 784 (a .npy file's are "
        "already; refused for .parquet, which names its columns)",
    )


def _add_scaler_option(parser):
    parser.add_argument(
        "--scaler",
        choices=SCALER_NAMES,
        default="auto",
        help="how the feature columns are scaled before training: 'auto' scales columns "
        "that share a range (pixels, ratings) by that one range to [0, 1] and "
        "standardises columns in different units; 'standard' always standardises, "
        "'minmax' scales each column to [0, 1], 'none' leaves them as they are "
        "(default: %(default)s)",
    )


def _add_image_shape_option(parser):
    parser.add_argument(
        "--image-shape",
        metavar="HxW[xC]",
        help="with --html: show each row's feature columns, in order, as a picture of "
        "this shape in the hover text, for example 28x28 (grey) or 32x32x3 (RGB, the "
        "channels last); height x width x channels must equal the number of feature "
        "columns. Pixels are scaled from the smallest value of all rows (black) to the "
        "largest (white)",
    )


def _add_quiet(parser):
    """Add -q to `parser`; it is accepted before and after the subcommand.

    Each parser gets an option of its own whose default is SUPPRESS: a default (or a
    shared option object, as ``parents=`` gives) would let the subcommand's parser
    overwrite a -q given before the subcommand. :func:`main` fills in False.
    """
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print no progress or warnings on standard error (errors are still printed, "
        "results still go to standard output)",
    )


def build_parser():
    """Return the argument parser of the ``ae-reduce`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with the ``demo``, ``embed`` and ``issues`` subcommands.
    """
    from .._utils.version import __version__

    parser = argparse.ArgumentParser(
        prog="ae-reduce",
        description=(
            "Neural dimensionality reduction for tables and images: autoencoder or "
            "supervised embeddings, optionally drawn as a t-SNE map. Progress goes to "
            "standard error, the paths of the files written to standard output."
        ),
        epilog=EXIT_STATUS + "\nRun 'ae-reduce COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_quiet(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_demo(commands)
    _add_embed(commands)
    _add_issues(commands)
    return parser


def _add_demo(commands):
    """Add the ``demo`` subcommand to `commands`."""
    parser = commands.add_parser(
        "demo",
        help="draw a map of the built-in digits data (about a minute)",
        description=(
            "Fit scaler -> autoencoder -> t-SNE on three quarters of scikit-learn's 8x8 "
            "digits, place the remaining quarter on the map as new rows, and write "
            "map.png (the map), map.html (an interactive, zoomable map whose points can "
            "be coloured by digit or by the vote of their map neighbours) and "
            "history.png (the autoencoder's learning curve) into --out."
        ),
    )
    _add_quiet(parser)
    parser.add_argument(
        "--out", default="ae_reduce_demo", help="folder for the outputs (default: %(default)s)"
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=200,
        help="largest number of training epochs; early stopping usually ends sooner "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--random-state", type=_seed, default=0, help="seed of the whole run (default: 0)"
    )
    parser.set_defaults(handler=demo.run)


def _add_embed(commands):
    """Add the ``embed`` subcommand to `commands`."""
    parser = commands.add_parser(
        "embed",
        help="embed the rows of a .csv, .npy or .parquet file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Standardise the feature columns of INPUT, reduce them with an autoencoder "
            "(or, with --supervised, a network trained on --label-column), optionally "
            "draw a 2-D t-SNE map of the result (--tsne), and write the embedding to "
            "--output.\n\n"
            "Every column except the label, id and dropped columns must be numeric and "
            "complete; the label and id columns must be complete too.\n"
            "For .npy input columns are given by their index (-1 for the last).\n"
            "Outputs are written to a temporary file and renamed into place; an output "
            "that is the input file is refused.\n\n"
            f"Large files: without --tsne, a .csv or .parquet file of "
            f"{settings.STREAM_BYTES >> 20} MiB or more is read batch by batch (with "
            "pyarrow installed), and features of more than "
            f"{settings.IN_MEMORY_BYTES >> 20} MiB as float32 are scaled (--scaler) into a "
            "temporary file (in TMPDIR, else /tmp) that the network trains from, the embedding "
            "being written block by block. The embedding is the same either way."
        ),
        epilog=(
            "examples:\n"
            "  ae-reduce embed cells.parquet -o codes.npy --n-components 16\n"
            "  ae-reduce embed digits.csv --label-column target --tsne -o map.csv \\\n"
            "      --plot map.png --html map.html\n"
            "  ae-reduce embed digits.csv --label-column target --supervised --tsne "
            "-o map.parquet\n"
            "  ae-reduce embed digits.csv --label-column target --tsne --parametric "
            "-o map.csv"
        ),
    )
    _add_quiet(parser)
    parser.add_argument("input", help=_INPUT_HELP)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the embedding: .npy (the embedding only), .csv (also "
        ".csv.gz, .csv.bz2, .csv.zst) or .parquet "
        "(the id column if given, then one column per component: tsne1, tsne2 with "
        "--tsne, else ae1, ae2, ... or supervised1, supervised2, ..., then the label "
        "column if given)",
    )
    parser.add_argument(
        "--label-column",
        help="column holding labels: left out of the features, used to colour --plot and "
        "--html, and learnt with --supervised",
    )
    _add_column_options(
        parser, "written as the first column of a .csv or .parquet output and shown in --html"
    )
    parser.add_argument(
        "--supervised",
        action="store_true",
        help="embed with a network trained to predict --label-column (classes or values) "
        "instead of an autoencoder",
    )
    parser.add_argument(
        "--n-components",
        type=_positive_int,
        help="width of the network's code; without --tsne this is the output's width "
        "(default: 2), with --tsne the width handed to t-SNE (default: chosen from the "
        "data's size)",
    )
    parser.add_argument(
        "--tsne",
        action="store_true",
        help="draw a 2-D t-SNE map of the code (needs openTSNE: pip install 'ae-reduce[tsne]')",
    )
    parser.add_argument(
        "--parametric",
        action="store_true",
        help="with --tsne: draw the map with ParametricTSNE, a network trained with "
        "t-SNE's objective, instead of openTSNE's t-SNE",
    )
    parser.add_argument(
        "--perplexity",
        type=_perplexity,
        help="t-SNE perplexity, at least 1/3 (default: 30, less for small data)",
    )
    parser.add_argument(
        "--tsne-iter",
        type=_count,
        metavar="N",
        help="iterations of t-SNE after its early exaggeration (default: 500; with "
        "--parametric at most three quarters of the rows, within 500 to 5000, as early "
        "stopping may end sooner)",
    )
    parser.add_argument(
        "--exaggeration-iter",
        type=_count,
        metavar="N",
        help="iterations of t-SNE's early exaggeration (default: 250; with --parametric "
        "a quarter of --tsne-iter)",
    )
    parser.add_argument(
        "--hidden-layer-sizes",
        type=_layer_sizes,
        metavar="W1,W2,...",
        help="widths of the hidden layers, for example 256,128 (default: 128,64; 512,256 "
        "with --supervised from 400 features)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=200,
        help="largest number of training epochs (default: %(default)s; early stopping "
        "usually ends sooner)",
    )
    _add_scaler_option(parser)
    parser.add_argument(
        "--plot", metavar="PICTURE", help="also write a picture: .png, .pdf or .svg"
    )
    parser.add_argument("--html", metavar="PAGE", help="also write an interactive map: .html")
    _add_image_shape_option(parser)
    parser.add_argument("--random-state", type=_seed, help="seed, for a reproducible run")
    parser.set_defaults(handler=embed.run)


def _add_issues(commands):
    """Add the ``issues`` subcommand to `commands`."""
    parser = commands.add_parser(
        "issues",
        help="list the rows of a .csv, .npy or .parquet file whose label looks wrong",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Find the rows whose --label-column is probably wrong, as\n"
            "ae_reduce.find_label_issues does: --cv networks (features scaled as --scaler\n"
            "says, then SupervisedEmbeddingTransformer) each predict the class\n"
            "probabilities of the rows they were not trained on; the rows whose given\n"
            "label gets a low probability, as many as confident learning estimates to\n"
            "be mislabelled, are flagged. They are written to --output, most\n"
            "suspicious first, with columns:\n\n"
            "  row                    the row's position among the data rows, counting\n"
            "                         from 0 (the header line is not counted)\n"
            "  ID                     the --id-column, under its own name, when given\n"
            "  given_label            the label in the file\n"
            "  suggested_label        the most probable other class\n"
            "  suggested_probability  its out-of-fold probability\n"
            "  label_quality          the out-of-fold probability of the given label:\n"
            "                         the lower, the more suspicious\n"
            "  flagged                with --all: whether the row is flagged (the flagged\n"
            "                         rows come first)\n\n"
            "Every column except the label, id and dropped columns must be numeric and\n"
            "complete; the labels must be classes, each with at least --cv rows.\n"
            "For .npy input columns are given by their index (-1 for the last)."
        ),
        epilog=(
            "examples:\n"
            "  ae-reduce issues data.csv --label-column y -o issues.csv\n"
            "  ae-reduce issues cells.parquet --label-column cell_type --id-column barcode "
            "\\\n"
            "      --drop-columns batch,notes --all -o ranked.parquet\n"
            "  ae-reduce issues digits.csv --label-column label -o issues.csv --html "
            "issues.html \\\n"
            "      --image-shape 28x28"
        ),
    )
    _add_quiet(parser)
    parser.add_argument("input", help=_INPUT_HELP)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the rows: .csv (also .csv.gz, .csv.bz2, .csv.zst) or .parquet",
    )
    parser.add_argument(
        "--label-column", required=True, help="column holding the labels (classes) to check"
    )
    _add_column_options(parser, "written after the row number")
    parser.add_argument(
        "--cv",
        type=_fold_count,
        default=5,
        metavar="FOLDS",
        help="folds of the cross-fitting, one network each (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        help="largest number of training epochs of each network (default: the network's "
        "own, 200; early stopping usually ends sooner)",
    )
    _add_scaler_option(parser)
    parser.add_argument(
        "--all",
        action="store_true",
        help="write every row, ranked from the most suspicious, with a 'flagged' column",
    )
    parser.add_argument(
        "--html",
        metavar="PAGE",
        help="also write an interactive map of the rows (.html): a t-SNE map of the "
        "scaled features, the flagged rows ringed, their given and suggested labels in "
        "the hover text",
    )
    _add_image_shape_option(parser)
    parser.add_argument("--random-state", type=_seed, help="seed, for a reproducible run")
    parser.set_defaults(handler=issues.run)
