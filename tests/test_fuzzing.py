"""Generated bad and odd input: each estimator either fits or says what is wrong.

For every input the property is the same: ``fit`` raises a ValueError or TypeError whose
message names one of the problems the input has (its shape, its dtype, NaN, infinity,
values beyond float32), or it fits, and ``transform`` gives finite codes of the right
shape. Nothing in between: no other exception, no NaN codes, no message about something
else.
"""

import os
import tempfile
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer  # noqa: E402

TINY = {"epochs": 1, "hidden_layer_sizes": (4,), "n_components": 1, "random_state": 0}

#: Examples per property; FUZZ_EXAMPLES raises it for a longer search.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # Keras's first fit in a process traces graphs for seconds.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # The same examples on every run, and no example database left in the work tree.
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
    database=None,
)

FLOAT32_MAX = float(np.finfo(np.float32).max)

SPECIAL_VALUES = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1e-300,
    65504.0,
    1e10,
    1e20,
    3e38,
    1e300,
    -1e300,
    np.nan,
    np.inf,
]
SPARSE_FORMATS = {
    "csr_matrix": sp.csr_matrix,
    "csc_matrix": sp.csc_matrix,
    "coo_matrix": sp.coo_matrix,
    "dok_matrix": sp.dok_matrix,
    "lil_matrix": sp.lil_matrix,
    "bsr_matrix": sp.bsr_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
    "coo_array": sp.coo_array,
    "dok_array": sp.dok_array,
    "lil_array": sp.lil_array,
}
DTYPES = [
    "bool",
    "int8",
    "int64",
    "uint8",
    "float16",
    "float32",
    "float64",
    "complex128",
    "object",
    "object-strings",
    "str",
]

#: Words that name each problem in the estimators' messages (scikit-learn's included).
PROBLEM_WORDS = {
    "not 2-D": ["2D", "dim 3"],
    "no rows": ["0 sample"],
    "no columns": ["0 feature"],
    "complex": ["complex"],
    "strings": ["string", "could not convert"],
    "nan": ["NaN"],
    "infinity": ["infinity"],
    "beyond float32": ["too large for float32"],
    # Finite but so large that float32 training may overflow.
    "huge": ["too large", "diverged"],
}

#: Problems that may still allow a fit.
TOLERABLE = {"huge"}


@st.composite
def inputs(draw):
    """An input and the set of problems it has."""
    container = draw(st.sampled_from(["ndarray", "list", "DataFrame", "memmap", *SPARSE_FORMATS]))
    sparse = container in SPARSE_FORMATS
    two_d_only = sparse or container in ("DataFrame", "memmap")
    ndim = 2 if two_d_only else draw(st.sampled_from([1, 2, 2, 2, 3]))
    n_rows = draw(st.integers(0, 4))
    n_columns = draw(st.integers(0, 3))
    shape = {1: (n_rows,), 2: (n_rows, n_columns), 3: (n_rows, n_columns, 2)}[ndim]
    if container == "memmap":
        # Files of float32 and float64 rows are read batch by batch, the others in memory.
        dtype = draw(st.sampled_from(["float32", "float64", "int64"]))
    else:
        dtype = draw(st.sampled_from(DTYPES[:8] if sparse else DTYPES))
    size = int(np.prod(shape))
    values = np.array(
        draw(
            st.lists(
                st.one_of(
                    st.sampled_from(SPECIAL_VALUES),
                    st.floats(-1000, 1000, allow_nan=False),
                ),
                min_size=size,
                max_size=size,
            )
        ),
        dtype=np.float64,
    ).reshape(shape)

    problems = set()
    if ndim != 2:
        problems.add("not 2-D")
    if n_rows == 0:
        problems.add("no rows")
    if ndim >= 2 and n_columns == 0:
        problems.add("no columns")
    if dtype in ("object-strings", "str"):
        # Numbers as text convert, as in scikit-learn; a word among them cannot.
        data = np.array([f"{v:g}" for v in values.ravel()], dtype=object).reshape(shape)
        if size and draw(st.booleans()):
            data.flat[draw(st.integers(0, size - 1))] = "abc"
            problems.add("strings")
        if dtype == "str":
            data = data.astype(str)
        numeric = values
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            if dtype == "bool" or dtype.startswith(("int", "uint")):
                data = np.nan_to_num(values, nan=0, posinf=1, neginf=-1).clip(-100, 100)
                data = data.astype(dtype)
            elif dtype == "object":
                data = values.astype(object)
            else:
                data = values.astype(dtype)
        if dtype == "complex128":
            problems.add("complex")
        numeric = np.asarray(data, dtype=np.complex128 if dtype == "complex128" else float)
    if np.isnan(numeric).any():
        problems.add("nan")
    if np.isinf(numeric).any():
        problems.add("infinity")
    finite = np.abs(numeric[np.isfinite(numeric)])
    if finite.size and finite.max() > FLOAT32_MAX:
        problems.add("beyond float32")
    if finite.size and finite.max() > 1e15:
        problems.add("huge")
    if sparse:
        try:
            data = SPARSE_FORMATS[container](data)
        except (TypeError, ValueError):
            # scipy itself refuses some dtypes (float16): nothing for the estimator to do.
            assume(False)
    elif container == "DataFrame":
        import pandas as pd

        data = pd.DataFrame(data, columns=[f"x{i}" for i in range(n_columns)])
    elif container == "memmap":
        # Written to a file by the test itself, which owns the temporary directory.
        data = ("memmap", data)
    elif container == "list":
        data = data.tolist()
        if n_rows == 0:
            # An empty list of rows has lost its columns: it is 1-D.
            problems.add("not 2-D")
    return data, problems


def _on_file(data, directory):
    if isinstance(data, tuple) and data[0] == "memmap":
        array = data[1]
        path = os.path.join(directory, "X.dat")
        writer = np.memmap(path, dtype=array.dtype, mode="w+", shape=array.shape)
        writer[:] = array
        writer.flush()
        del writer
        return np.memmap(path, dtype=array.dtype, mode="r", shape=array.shape)
    return data


def _check(estimator, data, problems, labels):
    with tempfile.TemporaryDirectory() as directory:
        _check_data(estimator, _on_file(data, directory), problems, labels)


def _check_data(estimator, data, problems, labels):
    fit_args = (data,) if labels is None else (data, labels)
    try:
        with warnings.catch_warnings():
            # Conversion warnings (bool, complex, object) are fine; errors are the point.
            warnings.simplefilter("ignore")
            estimator.fit(*fit_args)
    except (ValueError, TypeError) as error:
        message = str(error)
        named = [p for p in problems if any(w.lower() in message.lower() for w in PROBLEM_WORDS[p])]
        assert named, f"{type(error).__name__} {message!r} names none of {sorted(problems)}"
        return
    assert not problems - TOLERABLE, f"fitted despite {sorted(problems)}"
    codes = estimator.transform(data)
    n_rows = data.shape[0] if hasattr(data, "shape") else len(data)
    assert codes.shape == (n_rows, 1)
    assert np.isfinite(codes).all()


@FUZZ
@given(inputs())
def test_autoencoder_fits_or_names_the_problem(case):
    data, problems = case
    _check(KerasAutoencoderTransformer(**TINY), data, problems, None)


@FUZZ
@given(inputs())
def test_supervised_embedding_fits_or_names_the_problem(case):
    data, problems = case
    shape = np.shape(data[1]) if isinstance(data, tuple) else np.shape(data)
    n_rows = shape[0] if len(shape) else 0
    # A continuous target: a regression, which any number of rows can train.
    labels = np.linspace(0.0, 1.0, n_rows) + 0.5
    _check(SupervisedEmbeddingTransformer(cv=None, **TINY), data, problems, labels)


# The PCA start solves sparse input with ARPACK (scipy.sparse.linalg.svds), which
# fails in these cases; the fit must still work, or name the problem.
@pytest.mark.parametrize("fill", [0.0, 1.0])
def test_sparse_rows_all_alike_fit(fill):
    data = sp.csr_matrix(np.full((4, 3), fill))
    model = KerasAutoencoderTransformer(**TINY).fit(data)
    assert np.isfinite(model.transform(data)).all()


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_sparse_float32_with_large_values_fits_or_names_them():
    data = sp.csr_matrix(np.array([[1e20, 0.0], [0.0, 0.0]], dtype=np.float32))
    try:
        model = KerasAutoencoderTransformer(**TINY).fit(data)
    except ValueError as error:
        assert "too large" in str(error) or "diverged" in str(error)
    else:
        assert np.isfinite(model.transform(data)).all()


@pytest.mark.parametrize("name", ["autoencoder", "supervised"])
def test_codes_that_overflow_float32_are_an_error(name):
    rows = np.random.RandomState(0).normal(size=(20, 3))
    if name == "autoencoder":
        model = KerasAutoencoderTransformer(**TINY).fit(rows)
    else:
        model = SupervisedEmbeddingTransformer(cv=None, **TINY).fit(rows, np.linspace(0, 1, 20))
    # Within float32's range, so accepted, but the encoder's sums overflow.
    huge = np.full((2, 3), 3e38)
    try:
        codes = model.transform(huge)
    except ValueError as error:
        assert "too large" in str(error)
    else:
        assert np.isfinite(codes).all()
