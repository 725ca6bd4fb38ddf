"""The ``--html`` maps' extras: thumbnails from ``--image-shape``, and the map of
``ae-reduce issues``."""

import re

from .errors import InputError

#: What ``--image-shape`` accepts: height x width, optionally x channels (1 or 3).
_SHAPE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?$")

#: What the issues map's "prediction" of a row is.
ISSUE_PREDICTION = (
    "the class whose out-of-fold probability is highest: the network that predicted "
    "the row was trained on the other folds"
)


def image_shape(args):
    """The (height, width, channels) of ``--image-shape``, or None; checked before reading.

    Raises
    ------
    InputError
        If the shape is malformed, or given without ``--html``.
    """
    text = getattr(args, "image_shape", None)
    if text is None:
        return None
    if args.html is None:
        raise InputError(
            "--image-shape draws the rows' pictures on the --html map; add --html map.html"
        )
    match = _SHAPE.match(text)
    if match is None:
        raise InputError(
            f"--image-shape expects HEIGHTxWIDTH or HEIGHTxWIDTHxCHANNELS, such as 28x28 "
            f"or 32x32x3, got {text!r}"
        )
    height, width, channels = (int(part) if part else 1 for part in match.groups())
    if height == 0 or width == 0:
        raise InputError(f"--image-shape {text}: the height and the width must be at least 1")
    if channels not in (1, 3):
        raise InputError(
            f"--image-shape {text}: the channels must be 1 (grey) or 3 (red, green, blue), "
            f"got {channels}"
        )
    return height, width, channels


def row_images(args, X):
    """The feature columns of each row as a picture of ``--image-shape``, or None.

    The pixels are the feature columns in their order in the file (the label, id and
    dropped columns left out), unscaled: the map scales them from the smallest value
    of all rows (black) to the largest (white).

    Raises
    ------
    InputError
        If the shape's pixels do not match the number of feature columns, or the
        pictures are too large for a page.
    """
    import numpy as np

    from ..plotting._html import MAX_IMAGE_BYTES

    shape = image_shape(args)
    if shape is None:
        return None
    n_rows, n_features = X.shape
    height, width, channels = shape
    size = height * width * channels
    if size != n_features:
        raise InputError(
            f"--image-shape {args.image_shape} makes {size} values per row, but "
            f"{args.input} has {n_features} feature columns (after leaving out the label, "
            "id and dropped columns); give a shape whose height x width x channels is "
            f"{n_features}"
        )
    if n_rows * size > MAX_IMAGE_BYTES:
        raise InputError(
            f"--image-shape: {n_rows} pictures of {size} values make "
            f"{n_rows * size / 1e6:.0f} MB of thumbnails; the map takes at most "
            f"{MAX_IMAGE_BYTES / 1e6:.0f} MB. Leave out --image-shape, or map fewer rows"
        )
    if hasattr(X, "blocks"):  # a file read batch by batch
        X = np.concatenate([block.astype(np.float32) for block in X.blocks()])
    pictures = np.asarray(X).reshape(len(X), height, width, channels)
    return pictures[..., 0] if channels == 1 else pictures


def issue_coordinates(X, scaler, random_state, progress=None):
    """2-D coordinates of the rows for the issues map: t-SNE of the scaled features.

    The features are scaled as the networks' were (`scaler`), reduced to 50
    principal components when wider, then mapped with openTSNE's t-SNE (perplexity 30,
    or less for few rows). `progress`, when given, reports t-SNE's steps and
    iterations as ``embed --tsne`` does: the map of thousands of rows takes a while.
    """
    import numpy as np

    from .._pipeline import make_tsne_pipeline
    from .progress import report_progress

    X = np.asarray(X, dtype=np.float32)
    wide = X.shape[1] > 50 and X.shape[0] > 50
    pipeline = make_tsne_pipeline(
        "pca" if wide else None,
        n_components=50,
        shape=X.shape,
        scaler=scaler,
        random_state=random_state,
    )
    quiet = progress is None or getattr(progress, "quiet", False)
    report_progress(pipeline, progress, quiet)
    return pipeline.fit_transform(X)


def write_issue_map(args, found, X, labels, ids, images, progress=None):
    """Write the ``--html`` map of ``ae-reduce issues``; return its path.

    `found` holds ``probabilities``, ``classes``, ``codes``, ``issues`` (the flagged
    rows, most suspicious first) and ``scores`` (each row's label quality); `progress`
    reports the map's t-SNE steps.
    """
    import numpy as np

    from .._inspection.label_issues import suggested_classes
    from .._utils.targets import class_name, python_value
    from ..plotting._html import export_html
    from .outputs import display_name

    probabilities, classes = found["probabilities"], found["classes"]
    codes, issues, scores = found["codes"], found["issues"], found["scores"]
    Z = issue_coordinates(X, args.scaler, found["random_state"], progress)
    rows = np.arange(len(codes))
    suggested = suggested_classes(probabilities, codes)
    flagged = np.zeros(len(codes), dtype=bool)
    flagged[issues] = True
    predicted = probabilities.argmax(axis=1)
    # Class names as the map's legend writes them (a float label 3.0 is "3").
    names = [class_name(python_value(value)) for value in classes]
    hover = []
    for row in rows:
        lines = [f"row {row}", f"given label: {names[codes[row]]}"]
        lines.append(f"predicted: {names[predicted[row]]}")
        if flagged[row]:
            lines.append(
                f"suggested label: {names[suggested[row]]} (probability "
                f"{probabilities[row, suggested[row]]:.2f})"
            )
        hover.append("\n".join(lines))
    return export_html(
        Z,
        args.html,
        labels=labels,
        predictions=classes[predicted],
        hover=hover,
        title=display_name(args.input),
        ids=ids,
        columns={"label quality": scores},
        issues=np.asarray(issues, dtype=np.int64),
        images=images,
        prediction_description=ISSUE_PREDICTION,
    )
