"""Writing the results: the checks made on the outputs before any training, the
embedding and tables, the pictures and interactive maps, and the lines of results on
standard output."""

import os
import sys
from pathlib import Path
from typing import NamedTuple

from .csv_files import compression, open_for_writing
from .errors import InputError


def _same_file(first, second):
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist yet
        return False


def _check_writable(option, path, folder):
    """Refuse an output whose folder cannot take a new file, before any training."""
    import tempfile

    try:
        # The only sure test: permissions do not tell about read-only file systems, and
        # root may write where the permissions say no.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(
            f"{option} {path} cannot be written: no file can be made in the folder {folder} "
            f"({reason})"
        ) from None


def check_distinct_files(args):
    """Refuse outputs that would overwrite the input, or each other."""
    if not Path(args.input).is_file():
        raise InputError(f"input file not found: {args.input}")
    outputs = [
        (option, getattr(args, option[2:], None)) for option in ("--output", "--plot", "--html")
    ]
    outputs = [(option, path) for option, path in outputs if path is not None]
    for option, path in outputs:
        if Path(path).is_dir():
            raise InputError(f"{option} {path} is a folder; name a file")
        # Checked now, as the folders are made only after training.
        folder = Path(path).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{option} {path} cannot be written: {folder} is a file, not a folder")
        if folder.is_dir():
            _check_writable(option, path, folder)
        if _same_file(path, args.input):
            raise InputError(
                f"{option} {path} is the input file {args.input}; writing it would destroy "
                "the data. Choose another name"
            )
    for index, (option, path) in enumerate(outputs):
        for other_option, other in outputs[index + 1 :]:
            if _same_file(path, other):
                raise InputError(f"{option} {path} and {other_option} {other} are the same file")


def refuse_taken_names(names, columns):
    """Refuse input columns (`columns`: option -> name) that an output column is named."""
    for option, column in columns.items():
        if column in names:
            raise InputError(
                f"{option} {column!r} has the name of an output column "
                f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}); rename it"
            )


def write_embedding(Z, path, names, labels, label_column, ids=None, id_column=None):
    import numpy as np

    from .._utils.files import replacing

    if Path(path).suffix.lower() != ".npy":
        write_table(embedding_frame(Z, names, labels, label_column, ids, id_column), path)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as temporary, open(temporary, "wb") as handle:
        np.save(handle, Z)


def embedding_frame(Z, names, labels, label_column, ids=None, id_column=None):
    """The embedding as a table: the id column, the components, the label column."""
    import pandas as pd

    frame = pd.DataFrame(Z, columns=names)
    if ids is not None:
        frame.insert(0, id_column, ids)
    if labels is not None:
        frame[label_column if label_column is not None else "label"] = labels
    return frame


def write_table(frame, path):
    """Write a DataFrame to a ``.csv`` (compressed when so named) or ``.parquet`` file,
    whole or not at all."""
    from .._utils.files import replacing
    from .._utils.spreadsheet import spreadsheet_safe_frame

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    codec = compression(path)
    with replacing(path) as temporary:
        if codec is not None or Path(path).suffix.lower() == ".csv":
            with open_for_writing(temporary, codec) as handle:
                spreadsheet_safe_frame(frame).to_csv(handle, index=False)
        else:
            frame.to_parquet(temporary, index=False)


def save_figure(ax, path):
    import matplotlib.pyplot as plt

    from .._utils.files import replacing

    figure = ax.figure
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as temporary:
            figure.savefig(temporary, dpi=150, format=Path(path).suffix[1:].lower())
    finally:
        plt.close(figure)


def use_agg():
    try:
        import matplotlib
    except ImportError as error:
        raise InputError(
            "pictures need matplotlib: pip install 'ae-reduce[plot]' (or leave out --plot)"
        ) from error
    matplotlib.use("Agg")


#: What the map's "prediction" of a point is, as :func:`neighbour_votes` finds it.
VOTES_DESCRIPTION = (
    "the label most common among the point's 10 nearest neighbours on this map, "
    "counting only points outside its own cross-validation fold"
)


def neighbour_votes(Z, labels, random_state=0):
    """Each point's class by a vote of its neighbours on the map (out of fold)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    _, counts = np.unique(labels, return_counts=True)
    n_splits = int(min(5, counts.min()))
    if n_splits < 2:
        return None
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return cross_val_predict(KNeighborsClassifier(n_neighbors=10), Z, labels, cv=folds)


class _Maps(NamedTuple):
    """What ``--plot`` and ``--html`` draw, prepared before any file is written."""

    picture: object
    votes: object
    columns: object
    is_classes: bool


def prepare_maps(args, Z, labels):
    """The picture, and the neighbours' votes of the page, for the maps asked for."""
    from .._utils.targets import is_continuous

    is_classes = labels is not None and not is_continuous(labels)
    picture = votes = columns = None
    if args.plot:
        from ..plotting import plot_embedding

        picture = plot_embedding(Z, labels, title=display_name(args.input))
    if args.html:
        votes = neighbour_votes(Z, labels, args.random_state or 0) if is_classes else None
        # Measured labels are a column of the page: coloured on a scale, shown on hover.
        if labels is not None and not is_classes:
            columns = {_colour_name(args.label_column): labels}
    return _Maps(picture, votes, columns, is_classes)


def save_maps(args, Z, labels, ids, maps, images=None):
    """Write the prepared maps; return what was written, as (what, path) pairs.

    `images` are the rows' pictures for the page's hover text (``--image-shape``)."""
    written = []
    if maps.picture is not None:
        save_figure(maps.picture, args.plot)
        written.append(("Map picture", args.plot))
    if args.html:
        from ..plotting._html import export_html

        Path(args.html).parent.mkdir(parents=True, exist_ok=True)
        export_html(
            Z,
            args.html,
            labels=labels if maps.is_classes else None,
            predictions=maps.votes,
            title=display_name(args.input),
            ids=ids,
            columns=maps.columns,
            images=images,
            prediction_description=None if maps.votes is None else VOTES_DESCRIPTION,
        )
        written.append(("Interactive map", args.html))
    return written


def _colour_name(label_column):
    """The map's name for a column of measured labels: its own, unless the page's."""
    from ..plotting._html import BUILT_IN_MODES

    return f"{label_column} (value)" if label_column in BUILT_IN_MODES else label_column


def display_name(path):
    """The file name of `path` as text that can be shown anywhere.

    Bytes of a file name that are not UTF-8 reach Python as lone surrogates, which
    cannot be written to a UTF-8 page; they show as U+FFFD instead.
    """
    return os.fsencode(Path(path).name).decode("utf-8", "replace")


def print_result(text):
    """Print a line of results: paths, as their bytes when they are not valid text."""
    try:
        print(text, flush=True)
    except UnicodeEncodeError:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            print(os.fsencode(text).decode("utf-8", "replace"), flush=True)
        else:
            buffer.write(os.fsencode(text) + b"\n")
            buffer.flush()
