"""The input scaling of the pipelines the package builds: AutoScaler and scaler=."""

import importlib.util

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from ae_reduce import AutoScaler, make_tsne_pipeline
from ae_reduce._inspection.label_issues import default_estimator
from ae_reduce._preprocessing.scaling import make_scaler


def _pixels(n_samples=300, seed=0):
    """Images in 0..255 with a blank border and one pixel inked in three rows only."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n_samples, 10, 10))
    images[:, 2:8, 2:8] = rng.integers(0, 256, size=(n_samples, 6, 6))
    images[:3, 0, 0] = 40.0  # a faint stroke at the corner, in three rows
    return images.reshape(n_samples, -1)


def test_pixels_are_scaled_by_one_range():
    X = _pixels()
    scaler = AutoScaler().fit(X)
    assert scaler.kind_ == "shared"
    scaled = scaler.transform(X)
    np.testing.assert_allclose(scaled, X / 255.0)
    # The rarely inked pixel stays as faint as it is, where standardising makes it the
    # largest value of the data by far.
    assert scaled[:3, 0].max() == pytest.approx(40 / 255)
    assert StandardScaler().fit_transform(X)[:3, 0].min() > 9
    # A new row inked where no training row was stays within [0, 1], where a
    # per-column range (MinMaxScaler) leaves the constant column's 255 as it is.
    new = np.zeros((1, X.shape[1]))
    new[0, 9] = 255.0
    assert scaler.transform(new).max() == pytest.approx(1.0)
    assert MinMaxScaler().fit(X).transform(new).max() == 255.0
    np.testing.assert_allclose(scaler.inverse_transform(scaled), X, atol=1e-12)


def test_real_digits_count_as_sharing_a_range():
    # scikit-learn's 8x8 digits: counts of inked pixels in 4x4 blocks, 0 to 16.
    X, _ = load_digits(return_X_y=True)
    assert AutoScaler().fit(X).kind_ == "shared"


def test_counts():
    rng = np.random.default_rng(0)
    # Counts bounded by one maximum (inked pixels of 16 in a block, as in the 8x8
    # digits; answers on one rating scale): one unit.
    X = rng.binomial(16, np.linspace(0.2, 0.8, 40), size=(500, 40)).astype(float)
    assert AutoScaler().fit(X).kind_ == "shared"
    # Counts at rates spanning orders of magnitude (reads of genes, words of a
    # vocabulary): the rare columns would vanish in [0, 1] next to the frequent ones,
    # so each is standardised.
    X = rng.poisson(np.geomspace(0.5, 500, 40), size=(500, 40)).astype(float)
    assert AutoScaler().fit(X).kind_ == "standard"


def test_a_table_with_units_is_standardised():
    # Breast cancer measurements: areas in the thousands next to smoothness near 0.1.
    X, _ = load_breast_cancer(return_X_y=True)
    scaler = AutoScaler().fit(X)
    assert scaler.kind_ == "standard"
    np.testing.assert_allclose(scaler.transform(X), StandardScaler().fit_transform(X))
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-12)


def test_the_ratio_decides():
    # Ranges 1, 1 and 30: the widest is 30 times the lower quartile.
    X = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 30.0], [0.5, 0.2, 10.0]])
    assert AutoScaler().fit(X).kind_ == "standard"
    assert AutoScaler(max_range_ratio=29).fit(X).kind_ == "standard"
    assert AutoScaler(max_range_ratio=30).fit(X).kind_ == "shared"
    # Constant columns (an image's blank border) count for neither.
    constant = np.hstack([X, np.zeros((3, 5))])
    assert AutoScaler().fit(constant).kind_ == "standard"
    assert AutoScaler(max_range_ratio=30).fit(constant).kind_ == "shared"
    assert AutoScaler().fit(np.ones((4, 3))).kind_ == "standard"


def test_partial_fit_in_blocks_equals_fit():
    X = _pixels()
    whole = AutoScaler().fit(X)
    blocks = AutoScaler()
    for start in range(0, len(X), 64):
        blocks.partial_fit(X[start : start + 64])
    assert blocks.kind_ == whole.kind_
    np.testing.assert_allclose(blocks.transform(X), whole.transform(X))
    # A table whose first block looks like one unit and whole does not: the choice
    # follows every block seen.
    table = np.column_stack([np.arange(100.0), np.r_[np.arange(50.0), 1e4 * np.arange(50.0)]])
    scaler = AutoScaler().partial_fit(table[:50])
    assert scaler.kind_ == "shared"
    assert scaler.partial_fit(table[50:]).kind_ == "standard"
    np.testing.assert_allclose(scaler.transform(table), StandardScaler().fit_transform(table))


def test_a_refit_forgets_the_earlier_data():
    scaler = AutoScaler().fit(load_breast_cancer(return_X_y=True)[0][:, :5])
    X = _pixels()
    np.testing.assert_allclose(scaler.fit(X).transform(X), AutoScaler().fit(X).transform(X))


def test_sparse_input_keeps_its_zeros():
    X = sparse.random(200, 30, density=0.1, random_state=0, format="csr") * 10
    scaler = AutoScaler().fit(X)
    assert scaler.kind_ == "shared"
    scaled = scaler.transform(X)
    assert sparse.issparse(scaled) and scaled.nnz == X.nnz
    np.testing.assert_allclose(scaled.toarray(), X.toarray() / abs(X).max())
    wide = sparse.csr_matrix(X.multiply(np.geomspace(1, 1e4, 30)))
    scaler = AutoScaler().fit(wide)
    assert scaler.kind_ == "standard"
    expected = StandardScaler(with_mean=False).fit_transform(wide)
    np.testing.assert_allclose(scaler.transform(wide).toarray(), expected.toarray())
    np.testing.assert_allclose(
        scaler.inverse_transform(scaler.transform(wide)).toarray(), wide.toarray()
    )


def test_float32_stays_float32_and_precise():
    X = _pixels().astype(np.float32)
    assert AutoScaler().fit_transform(X).dtype == np.float32
    # Values far from zero with a small spread: the float32 result is the float64
    # one rounded, as StandardScaler's is (computing in float32 lost 0.9 of a
    # standard deviation).
    rng = np.random.default_rng(0)
    X = (3e6 + rng.random((200, 3)) * [1, 50, 1000]).astype(np.float32)
    scaler = AutoScaler().fit(X)
    assert scaler.kind_ == "standard"
    exact = scaler.transform(X.astype(np.float64))
    np.testing.assert_allclose(scaler.transform(X), exact, atol=1e-6)
    np.testing.assert_allclose(exact, StandardScaler().fit_transform(X.astype(np.float64)))


def test_sparse_rows_are_refused_where_they_would_be_centred():
    # Regression: a scaler fitted on dense rows dropped its centre on sparse rows
    # and returned other numbers without a word.
    X = np.array([[10.0, 0, 3], [20, 100, 0], [0, 50, 0], [15, 0, 1]])
    scaler = AutoScaler().fit(X)
    with pytest.raises(ValueError, match="fitted on dense rows and subtracts a centre"):
        scaler.transform(sparse.csr_matrix(X))
    with pytest.raises(ValueError, match="fitted on dense rows and subtracts a centre"):
        scaler.inverse_transform(sparse.csr_matrix(X))
    # Pixels need no centre (their smallest value is 0): sparse rows are scaled.
    pixels = AutoScaler().fit(_pixels())
    sparse_pixels = sparse.csr_matrix(_pixels()[:5])
    np.testing.assert_allclose(
        pixels.transform(sparse_pixels).toarray(), pixels.transform(_pixels()[:5])
    )


def test_batches_are_all_dense_or_all_sparse():
    X = np.array([[1.0, 0, 3], [2, 5, 0], [0, 4, 0]])
    with pytest.raises(ValueError, match="fitted on dense rows and cannot add a sparse batch"):
        AutoScaler().partial_fit(X).partial_fit(sparse.csr_matrix(X))
    with pytest.raises(ValueError, match="fitted on sparse rows and cannot add a dense batch"):
        AutoScaler().partial_fit(sparse.csr_matrix(X)).partial_fit(X)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, 0.0], [1e-310, 1e-310]]), "too small or too large to scale by"),
        (np.array([[-1e308, 0.0], [1e308, 1.0], [0.0, 0.5]]), "a range too wide for a float64"),
    ],
)
def test_ranges_that_cannot_be_scaled_by_are_refused(X, match):
    # Regression: they gave infinite or zero factors, hence NaN or all-zero rows.
    scaler = AutoScaler()
    with pytest.raises(ValueError, match=match):
        scaler.fit(X)
    assert not hasattr(scaler, "kind_")


def test_tiny_float32_values_are_scaled_in_float64():
    X = np.array([[0.0, 0.0], [1e-40, 1e-40], [5e-41, 0.0]], dtype=np.float32)
    scaled = AutoScaler().fit_transform(X)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0, 0], [1, 1], [0.5, 0]], rtol=1e-3)


def test_inverse_transform_checks_the_number_of_columns():
    scaler = AutoScaler().fit(np.array([[0, 1.0], [2, 5], [1, 1]]))
    for width in (1, 3):
        with pytest.raises(ValueError, match=f"X has {width} features, but AutoScaler is "):
            scaler.inverse_transform(np.ones((2, width)))


def test_a_failed_fit_leaves_the_fitted_scaler_as_it_was():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_pixels()[:, :3], columns=["x", "y", "z"])
    scaler = AutoScaler().fit(frame)
    before = scaler.transform(frame)
    bad = pd.DataFrame(np.full((3, 4), np.nan), columns=list("abcd"))
    with pytest.raises(ValueError):
        scaler.fit(bad)
    with pytest.raises(ValueError):
        scaler.partial_fit(np.full((3, 3), np.inf))
    assert list(scaler.feature_names_in_) == ["x", "y", "z"]
    np.testing.assert_array_equal(scaler.transform(frame), before)


def test_a_scaler_class_is_refused_where_the_pipeline_is_built():
    with pytest.raises(TypeError, match="an instance"):
        make_tsne_pipeline(scaler=StandardScaler)


@pytest.mark.parametrize(
    "name, kind",
    [("auto", AutoScaler), ("standard", StandardScaler), ("minmax", MinMaxScaler)],
)
def test_scaler_names(name, kind):
    assert type(make_scaler(name)) is kind
    assert type(make_tsne_pipeline("pca", scaler=name)["scaler"]) is kind
    assert type(default_estimator(0, name)[0]) is kind


def test_no_scaler():
    for none in ("none", None):
        assert make_scaler(none) is None
        pipeline = make_tsne_pipeline("pca", scaler=none)
        assert [name for name, _ in pipeline.steps] == ["reducer", "tsne"]
        assert [name for name, _ in default_estimator(0, none).steps] == [
            "supervisedembeddingtransformer"
        ]


def test_every_pipeline_starts_with_the_auto_scaler_by_default():
    from ae_reduce._cli.embed import build_embed_pipeline
    from ae_reduce._cli.issues import issue_estimator
    from ae_reduce._cli.parser import build_parser

    assert type(make_tsne_pipeline()["scaler"]) is AutoScaler
    assert type(make_tsne_pipeline(None, parametric=True)["scaler"]) is AutoScaler
    assert type(default_estimator(0)[0]) is AutoScaler
    for extra in ([], ["--tsne"]):
        args = build_parser().parse_args(["embed", "x.npy", "-o", "z.npy", *extra])
        assert type(build_embed_pipeline(args, (100, 10))["scaler"]) is AutoScaler
    args = build_parser().parse_args(
        ["issues", "x.npy", "--label-column", "0", "-o", "i.csv", "-q"]
    )
    estimator, _ = issue_estimator(args, print)
    assert type(estimator[0]) is AutoScaler


@pytest.mark.parametrize("name", ["auto", "standard", "minmax", "none"])
@pytest.mark.parametrize("tsne", [False, True])
def test_scaler_option_of_embed(name, tsne):
    from ae_reduce._cli.embed import build_embed_pipeline
    from ae_reduce._cli.parser import build_parser

    arguments = ["embed", "x.npy", "-o", "z.npy", "--scaler", name, *(["--tsne"] * tsne)]
    pipeline = build_embed_pipeline(build_parser().parse_args(arguments), (100, 10))
    expected = make_scaler(name)
    if expected is None:
        assert "scaler" not in pipeline.named_steps
    else:
        assert type(pipeline["scaler"]) is type(expected)


@pytest.mark.parametrize("name", ["auto", "standard", "minmax", "none"])
def test_scaler_option_of_issues(name):
    from ae_reduce._cli.issues import issue_estimator
    from ae_reduce._cli.parser import build_parser

    arguments = ["issues", "x.npy", "--label-column", "0", "-o", "i.csv", "-q", "--scaler", name]
    estimator, _ = issue_estimator(build_parser().parse_args(arguments), print)
    expected = make_scaler(name)
    steps = [type(step) for _, step in estimator.steps]
    assert steps[:-1] == ([] if expected is None else [type(expected)])


def test_an_unknown_scaler_is_refused(capsys):
    from ae_reduce._cli import main

    with pytest.raises(ValueError, match="scaler must be one of 'auto', 'standard'"):
        make_scaler("robust")
    with pytest.raises(TypeError, match="lacks fit or transform"):
        make_tsne_pipeline(scaler=3)
    for command in (["embed", "x.npy", "-o", "z.npy"], ["issues", "x.npy", "-o", "i.csv"]):
        with pytest.raises(SystemExit) as stopped:
            main([*command, "--label-column", "0", "--scaler", "robust"])
        assert stopped.value.code == 2
        assert "--scaler: invalid choice: 'robust'" in capsys.readouterr().err


def test_a_given_scaler_is_used_as_it_is():
    scaler = StandardScaler(with_std=False)
    assert make_tsne_pipeline("pca", scaler=scaler)["scaler"] is scaler
    assert clone(AutoScaler(max_range_ratio=3)).max_range_ratio == 3


@pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None or importlib.util.find_spec("pandas") is None,
    reason="the batch reader needs pyarrow and pandas",
)
@pytest.mark.parametrize("name", ["minmax", "none"])
def test_a_file_trained_from_disk_is_scaled_as_asked(tmp_path, monkeypatch, name):
    # The batch reader fits the scaling in the pass that counts the rows, the
    # whole-file reader before training from the temporary file: the same scaling,
    # hence the same embedding, either way.
    import pandas as pd

    from ae_reduce import _cli
    from ae_reduce._cli import settings

    X, _ = load_digits(return_X_y=True)
    data = tmp_path / "digits.csv"
    pd.DataFrame(X[:200], columns=[f"p{i}" for i in range(64)]).to_csv(data, index=False)
    monkeypatch.setattr(settings, "IN_MEMORY_BYTES", 0)
    outputs = []
    for reader, stream_bytes in (("whole", 2**60), ("batches", 0)):
        monkeypatch.setattr(settings, "STREAM_BYTES", stream_bytes)
        output = tmp_path / f"{reader}.npy"
        arguments = ["embed", str(data), "-o", str(output), "--scaler", name, "-q"]
        arguments += ["--epochs", "2", "--hidden-layer-sizes", "8", "--random-state", "0"]
        assert _cli.main(arguments) == 0
        outputs.append(np.load(output))
    np.testing.assert_array_equal(*outputs)
    # And the choice matters: standardised columns give another embedding.
    arguments[arguments.index(name)] = "standard"
    assert _cli.main(arguments) == 0
    assert not np.array_equal(np.load(output), outputs[1])
