"""Reading an input file whole: a ``.csv`` (compressed or not, with a header or
without), ``.parquet`` or ``.npy`` table split into features, labels, column names and
ids, checked as :mod:`.checks` says.

Large files are read batch by batch by :mod:`.streaming` instead, with the same checks.
"""

from pathlib import Path
from typing import NamedTuple

from .checks import (
    check_column_names,
    check_ids,
    check_labels,
    check_missing,
    refuse_merged_spellings,
)
from .csv_files import COMPRESSED_CSV, check_codec, compression, read_csv, unreadable_message
from .errors import InputError
from .table_text import no_header_hint

#: Extensions that ``embed`` reads and writes.
TABLE_FORMATS = (".csv", ".npy", ".parquet")


def extension(path, allowed, option):
    """The extension of a file `path` among `allowed` (``".csv"`` for a compressed
    ``.csv`` file, where ``.csv`` is allowed), else an error naming `option`."""
    compressed = ".csv" in allowed and compression(path) is not None
    if compressed:
        check_codec(path)
        return ".csv"
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise InputError(
            f"{option} {path}: unsupported extension {suffix or '(none)'!r}; use one of "
            + ", ".join(allowed + (COMPRESSED_CSV if ".csv" in allowed else ()))
        )
    return suffix


def input_suffix(path, no_header=False):
    """The format of an input file: ``".csv"`` (compressed or not), ``".npy"`` or
    ``".parquet"``.

    `no_header` (``--no-header``) is refused for a ``.parquet`` file, which stores the
    names of its columns, and means nothing more for a ``.npy`` file, whose columns are
    named by position already.
    """
    suffix = extension(path, TABLE_FORMATS, "input")
    if no_header and suffix == ".parquet":
        raise InputError(
            f"--no-header applies to .csv files: {path} is a .parquet file, which stores the "
            "names of its columns; leave out --no-header"
        )
    return suffix


def header_warning(path, no_header=False):
    """The warning to give when the header line of a CSV file looks like data, or None."""
    if input_suffix(path) != ".csv":
        return None
    hint = no_header_hint(path, no_header)
    return None if hint is None else f"warning: {hint}"


class Data(NamedTuple):
    """A checked input file."""

    #: float32 or float64 features; a read-only memory map of a float ``.npy`` file
    #: from which no column is taken.
    X: object
    #: Numeric, boolean or string labels without missing values, or None.
    labels: object
    #: Names of the feature columns.
    names: list
    #: Integer or string row ids, each row's different, or None.
    ids: object


def load_input(path, label_column):
    """Read and check the input: finite float features, complete labels (or None).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float32 or float64; a read-only memory map of a float ``.npy`` file without a
        label column.
    labels : ndarray of shape (n_samples,) or None
        A numeric, boolean or string array without missing values.
    names : list of str
        Names of the feature columns.
    """
    X, labels, names, _ = load_data(path, label_column)
    return X, labels, names


def load_data(path, label_column=None, id_column=None, drop_columns=(), no_header=False):
    """Read and check the input, taking out the label and id columns and dropping others.

    `no_header` says that the first line of a CSV file is data: its columns are then
    named by position, ``"0"`` to ``"n-1"``.

    Returns
    -------
    data : Data
    """
    X, labels, names, ids = _read_table(path, label_column, id_column, drop_columns, no_header)
    check_missing(X, names, path)
    if labels is not None:
        labels = check_labels(labels, label_column, path)
    if ids is not None:
        ids = check_ids(ids, id_column, path)
    return Data(X, labels, names, ids)


def dropped_columns(args):
    """The names given to --drop-columns, each once, in the order given."""
    names = [name for group in args.drop_columns or () for name in group]
    return list(dict.fromkeys(names))


def _read_table(path, label_column, id_column=None, drop_columns=(), no_header=False):
    """Read the input file into a float matrix, labels, column names and ids."""
    suffix = input_suffix(path, no_header)
    if not Path(path).is_file():
        raise InputError(f"input file not found: {path}")
    if Path(path).stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes)")
    if suffix == ".npy":
        return _split_array(_load_npy(path), path, label_column, id_column, drop_columns)
    try:
        import pandas as pd
    except ImportError as error:
        raise InputError(f"reading {suffix} files needs pandas: pip install pandas") from error
    from .table_text import first_malformed_line, malformed_line_message

    try:
        if suffix == ".csv":
            # Ids are read as the text they are, so that "007" stays "007".
            dtype = None if id_column is None else {id_column: str}
            frame = read_csv(path, no_header, dtype=dtype)
        else:
            frame = pd.read_parquet(path)
    except ImportError as error:
        raise InputError(f"reading .parquet files needs pyarrow: {error}") from error
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} holds no table: not even a header line") from None
    except pd.errors.ParserError as error:
        # A line with more fields than the header, numbered as a text editor numbers
        # it and in the batch reader's words (pandas counts a quoted value that spans
        # several lines as one line).
        malformed = first_malformed_line(path)
        if malformed is None:
            raise InputError(f"could not read {path}: {error}") from error
        raise InputError(malformed_line_message(path, *malformed, no_header)) from None
    except Exception as error:
        raise InputError(unreadable_message(path, error)) from error
    if suffix == ".csv":
        _refuse_extra_fields(path, frame, no_header)
        _refuse_short_lines(path, frame, no_header)
    if (
        suffix == ".csv"
        and label_column in frame.columns
        and frame[label_column].dtype.kind in "iu"
    ):
        refuse_merged_spellings(path, label_column, frame[label_column], no_header)
    hint = no_header_hint(path, no_header) if suffix == ".csv" else None
    return _split_frame(
        frame, path, label_column, id_column, drop_columns, csv=suffix == ".csv", hint=hint
    )


def _refuse_extra_fields(path, frame, no_header=False):
    """Refuse data lines with more fields than the header, when every one has.

    pandas then takes the first fields of each line as the row's index, which would
    drop a column of features and shift the others under the wrong names; the batch
    reader refuses such a line, as pandas does when only some lines have more fields.
    """
    import pandas as pd

    from .table_text import first_malformed_line, malformed_line_message

    if isinstance(frame.index, pd.RangeIndex):
        return
    malformed = first_malformed_line(path)
    if malformed is None:
        raise InputError(
            f"the data lines of {path} have more fields than its header: every row needs "
            "one field per column"
        )
    raise InputError(malformed_line_message(path, *malformed, no_header))


def _refuse_short_lines(path, frame, no_header=False):
    """Refuse a line with fewer fields than the header, which pandas pads with missing
    values.

    Such a line is a damaged or hand-edited row rather than missing values, and the
    batch reader refuses it too. It leaves the last column missing, so only a file
    with missing values there is searched, up to its last such row.
    """
    import numpy as np

    from .table_text import first_malformed_line, malformed_line_message

    if not frame.shape[1]:
        return
    missing = np.flatnonzero(frame.iloc[:, -1].isna().to_numpy())
    if not len(missing):
        return
    malformed = first_malformed_line(path, last_row=int(missing[-1]))
    if malformed is not None:
        raise InputError(malformed_line_message(path, *malformed, no_header))


def _load_npy(path):
    """Map a ``.npy`` file read-only, refusing what is not a plain numeric array."""
    import numpy as np

    with open(path, "rb") as handle:
        start = handle.read(6)
    if start != b"\x93NUMPY":
        kind = "a .npz archive" if start.startswith(b"PK") else "not a NumPy .npy file"
        raise InputError(f"{path} is {kind}; save one array with numpy.save")
    try:
        # A memory map reads rows when they are used, so a large file is not loaded
        # whole; allow_pickle=False refuses object arrays, which could run code.
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        if "object" in str(error).lower():
            raise InputError(
                f"{path} holds Python objects (an object or pickled array), which are not "
                "loaded because loading them can run code; save a numeric array"
            ) from None
        raise InputError(f"could not read {path}: {error}") from None
    except (EOFError, OSError) as error:
        raise InputError(f"could not read {path}: {error}") from None
    if np.iscomplexobj(array):
        raise InputError(
            f"{path} holds complex numbers (dtype {array.dtype}): Complex data not "
            "supported. Save the real and imaginary parts as separate columns"
        )
    if array.dtype.kind not in "biuf":
        raise InputError(f"{path} is not numeric (dtype {array.dtype})")
    return array


def _split_frame(
    frame, path, label_column=None, id_column=None, drop_columns=(), csv=False, hint=None
):
    """Split a data frame into features, labels, names and ids, refusing features that
    are not numbers. `csv` says whether the frame was read from a CSV file, whose
    columns of text may hold numbers that pandas left as text (see
    :func:`_numbers_from_text`); `hint` ends the message about an unknown column."""
    import numpy as np

    frame.columns = [str(column) for column in frame.columns]
    if len(frame) == 0:
        raise InputError(
            f"{path} has no data rows"
            + (f" (only a header: {', '.join(frame.columns[:10])})" if frame.shape[1] else "")
        )
    columns = list(frame.columns)
    check_column_names(columns, path, label_column, id_column, drop_columns, hint)
    frame = frame.drop(columns=list(dict.fromkeys(drop_columns)))
    labels = None if label_column is None else frame.pop(label_column).to_numpy()
    ids = None if id_column is None else frame.pop(id_column).to_numpy()
    complex_columns = [column for column in frame.columns if frame[column].dtype.kind == "c"]
    if complex_columns:
        raise InputError(
            f"column {complex_columns[0]!r} of {path} holds complex numbers: Complex data "
            "not supported. Store the real and imaginary parts as separate columns"
        )
    bad = [column for column in frame.columns if frame[column].dtype.kind not in "biuf"]
    if bad:
        frame = _numbers_from_text(frame, bad, path, csv)
    if frame.shape[1] == 0:
        raise InputError(
            f"{path} has no feature columns left"
            + (" once --drop-columns are dropped" if drop_columns else "")
        )
    # pandas' nullable columns hold NA, which only na_value turns into a float.
    return (
        frame.to_numpy(dtype=np.float64, na_value=np.nan),
        labels,
        list(frame.columns),
        ids,
    )


def _numbers_from_text(frame, bad, path, csv):
    """`frame` with its `bad` columns (of types other than numbers) as float64 columns.

    Columns that hold nothing but numbers and missing values, or booleans and missing
    values, are numbers to both readers: pandas leaves as text a column of booleans
    with a missing value, and a column with a number that Arrow reads and it does not
    (see :class:`ae_reduce._cli.table_text.ColumnCheck`). Otherwise the columns are refused
    by the value in the earliest data row (in the leftmost such column of that row),
    which is where the batch reader, reading row after row, stops.
    """
    from .table_text import ColumnCheck, earliest_problem, not_numeric_message, to_numbers

    checks = {column: ColumnCheck() for column in bad}
    for column, check in checks.items():
        check(frame[column])
    problem = earliest_problem(checks, csv)
    if problem is not None:
        column, found = problem
        raise InputError(not_numeric_message(column, path, found))
    return frame.assign(**{column: to_numbers(frame[column]) for column in bad})


def _column_index(text, n_columns, path, option=None):
    """The index of a ``.npy`` column named by `text` (negative from the end), or None."""
    if text is None:
        return None
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is None or not -n_columns <= index < n_columns:
        raise InputError(
            (f"{option}: " if option else "")
            + f"unknown column {text!r} in {path}: columns of a .npy file are named by "
            f"their index, 0 to {n_columns - 1} (or -1 for the last)"
        )
    return index % n_columns


def _split_array(array, path, label_column=None, id_column=None, drop_columns=()):
    import numpy as np

    if array.ndim != 2:
        raise InputError(f"{path} must hold a 2-D array, got shape {array.shape}")
    if array.shape[0] == 0:
        raise InputError(f"{path} has no data rows (shape {array.shape})")
    n_columns = array.shape[1]
    label_index = _column_index(label_column, n_columns, path)
    id_index = _column_index(id_column, n_columns, path)
    dropped = {_column_index(text, n_columns, path, "--drop-columns") for text in drop_columns}
    # Compared as indices: -1 and the last index are one column.
    if label_index is not None and label_index == id_index:
        raise InputError(
            f"--label-column {label_column} and --id-column {id_column} both name column "
            f"{label_index} of {path}; labels and ids must be different columns"
        )
    for option, text, index in (
        ("--label-column", label_column, label_index),
        ("--id-column", id_column, id_index),
    ):
        if index is not None and index in dropped:
            raise InputError(
                f"--drop-columns names column {text!r}, which {option} uses; leave it out "
                "of one of the two"
            )
    labels = None
    if label_index is not None:
        labels = np.array(array[:, label_index])
        if labels.dtype.kind == "f" and np.isfinite(labels).all():
            # A .npy file stores its classes in a float column like the rest: whole
            # numbers that a float holds exactly are classes.
            if float(np.abs(labels).max()) <= 2**53 and np.all(labels == np.round(labels)):
                labels = labels.astype(np.int64)
    ids = None if id_index is None else np.array(array[:, id_index])
    removed = {label_index, id_index, *dropped} - {None}
    keep = [index for index in range(n_columns) if index not in removed]
    if not keep:
        raise InputError(f"{path} has no feature columns" + (" left" if removed else ""))
    if removed:
        array = array[:, keep]
    if array.dtype not in (np.float32, np.float64):
        # A plain array: memmap.astype would return a memmap backed by no file.
        array = np.asarray(array, dtype=np.float64)
    # Named by their index in the file, so that a message about a column points at it.
    names = [f"x{index}" for index in keep]
    return array, labels, names, ids
