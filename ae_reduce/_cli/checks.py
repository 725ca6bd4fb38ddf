"""Checks of the values read from an input file: the roles of its columns, missing
features, and the label and id columns."""

from .._utils.targets import python_value
from .errors import InputError


def check_column_names(columns, path, label_column, id_column, drop_columns, hint=None):
    """Refuse a label, id or dropped column that ``columns`` lacks, or one given two roles.

    `hint`, when given, ends the message about an unknown column (such as the advice to
    pass --no-header when the header line looks like data).
    """
    end = "" if hint is None else f"; {hint}"
    for column in (label_column, id_column):
        if column is not None and column not in columns:
            raise InputError(
                f"unknown column {column!r} in {path}; its columns are: " + _listing(columns) + end
            )
    unknown = [column for column in drop_columns if column not in columns]
    if unknown:
        raise InputError(
            f"--drop-columns names {len(unknown)} unknown column(s) in {path}: "
            + ", ".join(map(repr, unknown))
            + "; its columns are: "
            + _listing(columns)
            + end
        )
    _check_roles(label_column, id_column, drop_columns)


def _check_roles(label_column, id_column, drop_columns):
    """Refuse a column given two roles: labels, ids or dropped."""
    if label_column is not None and label_column == id_column:
        raise InputError(
            f"--label-column and --id-column both name column {label_column!r}; labels and "
            "ids must be different columns"
        )
    for option, column in (("--label-column", label_column), ("--id-column", id_column)):
        if column is not None and column in drop_columns:
            raise InputError(
                f"--drop-columns names column {column!r}, which {option} uses; leave it out "
                "of one of the two"
            )


def _listing(columns, limit=20):
    return ", ".join(columns[:limit]) + (" ..." if len(columns) > limit else "")


def check_missing(X, names, path):
    import numpy as np

    from .._io.source import Source, file_backing

    # Checked in blocks of rows, read from the file when X maps one, so that a large
    # file is never held in memory (nor as a mask of its size) for this check.
    finite = np.ones(X.shape[1], dtype=bool)
    first, n_rows = None, 0
    for block in Source(X, file=file_backing(X)).chunks(dtype=X.dtype):
        missing = ~np.isfinite(block)
        if first is None and missing.any():
            row = int(np.argmax(missing.any(axis=1)))
            first = n_rows + row, int(np.argmax(missing[row]))
        finite &= ~missing.any(axis=0)
        n_rows += len(block)
    if not finite.all():
        raise InputError(missing_message(names, finite, path, first))


def missing_message(names, finite, path, first=None):
    """The message about the columns whose ``finite`` flag is false, the first missing
    value being in row and column ``first`` (counting from 0; None when unknown)."""
    import numpy as np

    columns = [names[i] for i in np.flatnonzero(~finite)]
    where = ""
    if first is not None:
        row, column = first
        where = f", the first in data row {row + 1}"
        if len(columns) > 1:
            where += f" (column {names[column]!r})"
    return (
        f"{path} has missing or infinite values in {len(columns)} column(s): "
        + ", ".join(columns[:10])
        + where
        + ". Impute or drop them first."
    )


def check_labels(labels, label_column, path):
    """Refuse missing or mixed labels; return them as a numeric, boolean or string array."""
    import numpy as np

    from .._utils.targets import encode_classes, is_missing_label, label_kind

    where = f"label column {label_column!r} of {path}"
    if labels.dtype.kind == "O":
        _refuse_missing_labels(np.fromiter(map(is_missing_label, labels), bool, len(labels)), where)
        try:
            encode_classes(labels, what=where)
        except ValueError as error:
            raise InputError(str(error)) from None
        if label_kind(labels[0]) in ("number", "boolean"):
            # Their own dtype back: float values then count as measurements and
            # integers as classes, as for any other numeric column.
            labels = np.array(labels.tolist())
    if labels.dtype.kind == "f":
        _refuse_missing_labels(~np.isfinite(labels), where)
    return labels


def _refuse_missing_labels(missing, where):
    import numpy as np

    if missing.any():
        raise InputError(
            f"{where} has {int(missing.sum())} missing or infinite value(s), the first in "
            f"data row {int(np.flatnonzero(missing)[0]) + 1}; every row needs a label: fill "
            "them in, or drop those rows"
        )


def refuse_merged_spellings(path, label_column, parsed, no_header=False):
    """Refuse whole-number labels written in several ways, which parsing would merge.

    "01" and "1" are one number but, as labels in a text file, may well be two
    classes; rather than guess, the user is asked to spell each class one way.
    `no_header` says whether the CSV file's first line is data.
    """
    import numpy as np

    from .csv_files import read_csv

    texts = read_csv(path, no_header, usecols=[label_column], dtype=str)[label_column]
    texts = texts.str.strip()
    spellings = texts.groupby(parsed.to_numpy()).nunique()
    if (spellings > 1).any():
        value = spellings.index[np.argmax(spellings.to_numpy() > 1)]
        examples = sorted(texts[parsed.to_numpy() == value].unique())[:3]
        raise InputError(
            f"label column {label_column!r} of {path} writes one number in several ways "
            f"({', '.join(map(repr, examples))}), which would become one class. Write "
            "each class one way, or use labels that are not numbers (such as 'c01')"
        )


def check_ids(ids, id_column, path):
    """Refuse missing, fractional, boolean or repeated ids; return integers or strings."""
    import numpy as np

    from .._utils.targets import is_missing_label, label_kind

    where = f"id column {id_column!r} of {path}"
    if ids.dtype.kind == "O":
        missing = np.fromiter(map(is_missing_label, ids), bool, len(ids))
        _refuse_missing_ids(missing, where)
        kinds = {label_kind(value) for value in ids}
        if kinds == {"number"}:
            # Numbers in an object column (pandas' nullable integers): their own dtype.
            ids = np.array(ids.tolist())
        elif kinds != {"string"}:
            raise InputError(
                f"{where} holds {' and '.join(sorted(kinds))} values; ids must all be strings "
                "or all whole numbers"
            )
    if ids.dtype.kind == "f":
        _refuse_missing_ids(~np.isfinite(ids), where)
        fractional = (ids != np.round(ids)) | (np.abs(ids) > 2**53)
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            raise InputError(
                f"{where} holds numbers that are not whole (such as {ids[row].item()!r} in "
                f"data row {row + 1}); ids must be strings or whole numbers"
            )
        ids = ids.astype(np.int64)
    if ids.dtype.kind not in "iuUO":
        raise InputError(
            f"{where} holds values of type {ids.dtype}; ids must be strings or whole numbers"
        )
    values, counts = np.unique(ids, return_counts=True)
    if counts.max() > 1:
        repeated = values[int(np.argmax(counts > 1))]
        value = python_value(repeated)
        rows = np.flatnonzero(ids == repeated)[:2] + 1
        raise InputError(
            f"{where} is not unique: the id {value!r} is in data rows {rows[0]} and "
            f"{rows[1]} ({int((counts - 1).sum())} repeated id(s) in all); ids must identify "
            "the rows. Make them unique, or leave out --id-column"
        )
    return ids


def _refuse_missing_ids(missing, where):
    import numpy as np

    if missing.any():
        raise InputError(
            f"{where} has {int(missing.sum())} missing value(s), the first in data row "
            f"{int(np.flatnonzero(missing)[0]) + 1}; every row needs an id"
        )
