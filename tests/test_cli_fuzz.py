"""The command line's readers on generated files: a checked result or a clear InputError.

No network is trained here: the readers are called directly, so that each example costs
a file write and a read.
"""

import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
pd = pytest.importorskip("pandas")

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from ae_reduce._cli.errors import InputError  # noqa: E402
from ae_reduce._cli.inputs import load_input  # noqa: E402

SETTINGS = settings(max_examples=30, deadline=None)

DTYPES = st.sampled_from(
    ["float16", "float32", "float64", "int8", "int64", "uint16", "bool", "complex64"]
)
LABEL_COLUMNS = st.sampled_from([None, "0", "-1", "1", "7", "label"])


def _check_result(X, labels, names, n_rows):
    """What _embed relies on when _load_input returns."""
    assert X.ndim == 2 and X.shape[0] == n_rows >= 1 and X.shape[1] >= 1
    assert X.dtype in (np.float32, np.float64)
    assert np.isfinite(X).all()
    assert len(names) == X.shape[1]
    if labels is not None:
        assert labels.shape == (n_rows,)
        if labels.dtype.kind == "f":
            assert np.isfinite(labels).all()
        assert labels.dtype.kind in "biufO"


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
    elements = None
    if dtype.kind == "f":
        elements = hnp.from_dtype(dtype, allow_nan=True, allow_infinity=True)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@SETTINGS
@given(array=arrays(), label_column=LABEL_COLUMNS)
def test_npy_reader(array, label_column):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.npy"
        np.save(path, array)
        try:
            X, labels, names = load_input(str(path), label_column)
        except InputError as error:
            assert str(error)
            return
        _check_result(X, labels, names, array.shape[0])
        assert array.ndim == 2 and array.dtype.kind in "biuf"
        assert (labels is None) == (label_column is None)
        if label_column is None:
            # Float files are mapped, not loaded; others are converted once.
            mapped = getattr(X, "filename", None) is not None
            assert mapped == (array.dtype in (np.float32, np.float64))
            np.testing.assert_array_equal(X, array.astype(X.dtype))
        del X


CELLS = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.booleans(),
    st.sampled_from(["a", "b", "", " ", "1", "NaN", "inf", "1e400", "x,y", 'q"uote']),
)


@SETTINGS
@given(
    columns=st.lists(st.lists(CELLS, min_size=0, max_size=5), min_size=1, max_size=4),
    label_column=LABEL_COLUMNS,
)
# One column whose cell is a space writes a whitespace-only line, which the reader skips.
@example(columns=[["1", " "]], label_column=None)
def test_csv_reader(columns, label_column):
    n_rows = min(len(column) for column in columns)
    frame = pd.DataFrame(
        {("label" if i == 0 else str(i)): column[:n_rows] for i, column in enumerate(columns)}
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        frame.to_csv(path, index=False)
        # Blank and whitespace-only lines are not rows (only one column can write them).
        n_rows = sum(1 for line in path.read_text().splitlines()[1:] if line.strip())
        try:
            X, labels, names = load_input(str(path), label_column)
        except InputError as error:
            assert str(error)
            return
        _check_result(X, labels, names, n_rows)
        assert label_column in (None, "label", "1")
        assert label_column not in names


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from('a1.,-e"\n\r ;\t\x00NaInf'), max_size=60))
def test_csv_reader_on_arbitrary_text(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        path.write_text(text, encoding="utf-8")
        try:
            X, labels, names = load_input(str(path), None)
        except InputError as error:
            assert str(error)
            return
        _check_result(X, labels, names, X.shape[0])
