"""The matplotlib pictures: what they draw, rendered to PNG with the Agg backend."""

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from ae_reduce import (  # noqa: E402
    KerasAutoencoderTransformer,
    plot_embedding,
    plot_history,
    plot_reconstructions,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    Z = rng.normal(scale=0.4, size=(400, 2)) + np.array([[0, 0], [3, 0], [0, 3], [3, 3]])[labels]
    return Z, labels


@pytest.fixture(scope="module")
def digits_autoencoder():
    X, _ = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    model = KerasAutoencoderTransformer(
        n_components=2, hidden_layer_sizes=(8,), epochs=5, batch_size=32, random_state=0
    )
    return model.fit(X), X


def _points(ax):
    return sum(
        len(collection.get_offsets())
        for collection in ax.collections
        if isinstance(collection, PathCollection)
    )


def _png(fig, path):
    fig.savefig(path, dpi=60)
    image = plt.imread(path)[..., :3]
    return image


def _is_drawn(image):
    # Something other than the white background covers a fair share of the picture.
    return np.mean(np.any(image < 0.9, axis=-1)) > 0.01


@pytest.mark.parametrize("kind", ["int", "str", "pandas"])
def test_plot_embedding_classes_get_a_legend(blobs, kind, tmp_path):
    Z, labels = blobs
    names = np.array(["ant", "bee", "cat", "dog"])
    if kind == "str":
        labels = names[labels]
    elif kind == "pandas":
        pd = pytest.importorskip("pandas")
        Z = pd.DataFrame(Z, columns=["a", "b"])
        labels = pd.Series(pd.Categorical(names[labels]))
    ax = plot_embedding(Z, labels)
    assert _points(ax) == 400
    texts = [text.get_text() for text in ax.get_legend().get_texts()]
    assert texts == (["0", "1", "2", "3"] if kind == "int" else list(names))
    colors = ax.collections[0].get_facecolors()
    assert len(np.unique(colors[:, :3], axis=0)) == 4
    assert _is_drawn(_png(ax.figure, tmp_path / "embedding.png"))


def test_plot_embedding_many_classes_distinct_colours_without_legend(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.arange(1000) % 40
    ax = plot_embedding(rng.normal(size=(1000, 2)), labels)
    assert ax.get_legend() is None
    colors = ax.collections[0].get_facecolors()
    assert len(np.unique(np.round(colors[:, :3], 4), axis=0)) == 40


def test_plot_embedding_continuous_values_get_a_colorbar(blobs, tmp_path):
    Z, _ = blobs
    ax = plot_embedding(Z, Z[:, 0] * 0.37)
    assert _points(ax) == 400
    assert ax.collections[0].colorbar is not None
    assert ax.get_legend() is None
    assert len(ax.figure.axes) == 2
    assert _is_drawn(_png(ax.figure, tmp_path / "continuous.png"))


def test_plot_embedding_scales_markers_with_the_number_of_points():
    rng = np.random.default_rng(0)
    small = plot_embedding(rng.normal(size=(100, 2))).collections[0]
    large = plot_embedding(rng.normal(size=(100_000, 2))).collections[0]
    assert large.get_sizes()[0] < small.get_sizes()[0]
    assert large.get_alpha() < small.get_alpha()
    assert len(large.get_offsets()) == 100_000


def test_plot_embedding_order_is_reproducible_and_uses_given_axes(blobs):
    Z, labels = blobs
    _, ax = plt.subplots()
    first = plot_embedding(Z, labels, ax=ax)
    assert first is ax
    second = plot_embedding(Z, labels)
    np.testing.assert_array_equal(
        first.collections[0].get_offsets(), second.collections[0].get_offsets()
    )
    ordered = plot_embedding(Z, labels, shuffle=False)
    np.testing.assert_array_equal(ordered.collections[0].get_offsets(), Z)


@pytest.mark.parametrize(
    ("Z", "labels", "message"),
    [
        (np.zeros((10, 3)), None, r"shape \(n_samples, 2\)"),
        (np.zeros(10), None, r"shape \(n_samples, 2\)"),
        (np.array([[0.0, np.nan]]), None, "NaN or infinite"),
        (np.zeros((10, 2)), np.arange(9), "9 values but Z has 10 rows"),
    ],
)
def test_plot_embedding_rejects_bad_input(Z, labels, message):
    with pytest.raises(ValueError, match=message):
        plot_embedding(Z, labels)


def test_plot_history_marks_the_best_epoch(digits_autoencoder, tmp_path):
    model, _ = digits_autoencoder
    ax = plot_history(model)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "training loss" in labels and "validation loss" in labels
    (training,) = [line for line in ax.get_lines() if line.get_label() == "training loss"]
    np.testing.assert_allclose(training.get_ydata(), model.history_["loss"])
    assert list(training.get_xdata()) == list(range(1, model.n_epochs_ + 1))
    marked = [line for line in ax.get_lines() if line.get_label().startswith("best epoch")]
    assert marked[0].get_xdata()[0] == model.best_epoch_
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert _is_drawn(_png(ax.figure, tmp_path / "history.png"))


def test_plot_history_accepts_a_pipeline_and_a_training_loss_only(digits_autoencoder):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    model, _ = digits_autoencoder
    pipeline = make_pipeline(FunctionTransformer(), model)
    assert plot_history(pipeline).get_lines()
    fitted = SimpleNamespace(history_={"loss": [4.0, 2.0, 3.0]}, best_epoch_=2)
    ax = plot_history(fitted)
    assert ax.get_lines()[0].get_label() == "training loss"
    marked = [line for line in ax.get_lines() if line.get_label() == "best epoch (2)"]
    assert marked[0].get_ydata()[0] == 2.0


def test_plot_history_starts_the_monitored_curve_at_epoch_zero(digits_autoencoder):
    # Regression: the loss of the starting weights, which competes with every epoch,
    # was not drawn, so a fit that kept it showed a curve with no point at its best.
    model, _ = digits_autoencoder
    ax = plot_history(model)
    (validation,) = [line for line in ax.get_lines() if line.get_label() == "validation loss"]
    assert list(validation.get_xdata()) == list(range(model.n_epochs_ + 1))
    assert validation.get_ydata()[0] == pytest.approx(model.initial_loss_)
    np.testing.assert_allclose(validation.get_ydata()[1:], model.history_["val_loss"])


def test_plot_history_marks_a_kept_start_at_epoch_zero(digits_autoencoder):
    _, X = digits_autoencoder
    model = KerasAutoencoderTransformer(
        n_components=2, hidden_layer_sizes=(8,), epochs=3, learning_rate=5.0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # epochs ran out: a ConvergenceWarning
        model.fit(X)  # a learning rate far too high: no epoch beats the PCA start
    assert model.best_epoch_ == 0
    ax = plot_history(model)
    (marked,) = [line for line in ax.get_lines() if line.get_label().startswith("best epoch")]
    assert "start" in marked.get_label()
    assert marked.get_xdata()[0] == 0
    assert marked.get_ydata()[0] == pytest.approx(model.initial_loss_)
    assert model.initial_loss_ < min(model.history_["val_loss"])


def test_plot_history_requires_a_fitted_estimator():
    with pytest.raises(NotFittedError, match="fit"):
        plot_history(KerasAutoencoderTransformer())


def test_plot_reconstructions_shows_pairs(digits_autoencoder, tmp_path):
    model, X = digits_autoencoder
    fig = plot_reconstructions(model, X, (8, 8), n_images=5)
    assert len(fig.axes) == 10
    originals = [ax.get_images()[0].get_array() for ax in fig.axes[:5]]
    np.testing.assert_allclose(originals[0], X[0].reshape(8, 8))
    expected = model.inverse_transform(model.transform(X[:5]))
    reconstructed = fig.axes[5].get_images()[0].get_array()
    np.testing.assert_allclose(reconstructed, expected[0].reshape(8, 8), rtol=1e-5)
    assert fig.axes[0].get_ylabel() == "original"
    assert _is_drawn(_png(fig, tmp_path / "reconstructions.png"))


def test_plot_reconstructions_checks_image_shape(digits_autoencoder):
    model, X = digits_autoencoder
    with pytest.raises(ValueError, match="holds 49 values but X has 64 features"):
        plot_reconstructions(model, X, (7, 7))


@pytest.mark.parametrize(
    "labels",
    [
        np.array([1, True, "1", 1.0, 0, False] * 5, dtype=object),
        [1, True, "1", 1.0, 0, False] * 5,
        [1, "a", 2] * 10,
    ],
)
def test_plot_embedding_refuses_labels_of_mixed_types(labels):
    # They once merged into a legend of '1', '1', '0', or became all strings.
    with pytest.raises(ValueError, match="Mix of label input types"):
        plot_embedding(np.zeros((30, 2)), labels)


def test_plot_embedding_legend_keeps_the_label_values():
    Z = np.random.default_rng(0).normal(size=(6, 2))
    ax = plot_embedding(Z, [2, 1.0, 1, np.int64(2), 0, None])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["0", "1", "2", "missing"]
    ax = plot_embedding(Z, np.array([True, False, True, True, False, True]))
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["False", "True"]


def test_plotting_exposes_only_documented_functions():
    import inspect

    import ae_reduce.plotting

    public = {
        name
        for name, value in vars(ae_reduce.plotting).items()
        if not name.startswith("_")
        and (
            (inspect.isfunction(value) and value.__module__ == "ae_reduce.plotting")
            # Classes of the package's own modules, such as the Map of export_html.
            or (inspect.isclass(value) and value.__module__.startswith("ae_reduce.plotting."))
        )
    }
    assert public == set(ae_reduce.plotting.__all__)
    documented = Path(__file__).parents[1] / "docs" / "api.rst"
    if documented.exists():
        text = documented.read_text()
        assert all(f"   {name}\n" in text or f"   plotting.{name}\n" in text for name in public)


def test_plot_embedding_integer_labels_beyond_float64():
    # Regression: telling missing labels apart called math.isnan on every number,
    # which overflows for Python ints beyond float64's range.
    Z = np.random.RandomState(0).normal(size=(6, 2))
    ax = plot_embedding(Z, [10**400, 1, 2] * 2)
    texts = [text.get_text() for text in ax.get_legend().get_texts()]
    assert texts == ["1", "2", str(10**400)]
    plt.close(ax.figure)


# Rows placed on an existing map ----------------------------------------------------------


def _legends(ax):
    from matplotlib.legend import Legend

    return [
        [text.get_text() for text in legend.get_texts()] for legend in ax.figure.findobj(Legend)
    ]


def _marker_path(marker):
    from matplotlib.markers import MarkerStyle

    style = MarkerStyle(marker)
    return style.get_path().transformed(style.get_transform()).vertices


def _scatters(ax):
    return [collection for collection in ax.collections if isinstance(collection, PathCollection)]


@pytest.fixture(scope="module")
def placed_blobs(blobs):
    Z, labels = blobs
    placed = np.arange(len(Z)) % 4 == 1
    return Z, labels, placed


@pytest.mark.parametrize("kind", ["none", "classes", "values"])
def test_plot_embedding_draws_placed_rows_as_crosses_on_top(placed_blobs, kind, tmp_path):
    Z, labels, placed = placed_blobs
    colour_by = {"none": None, "classes": labels, "values": Z[:, 0] * 0.37}[kind]
    ax = plot_embedding(Z, colour_by, placed=placed, shuffle=False)
    map_points, placed_points = _scatters(ax)
    np.testing.assert_array_equal(map_points.get_offsets(), Z[~placed])
    np.testing.assert_array_equal(placed_points.get_offsets(), Z[placed])
    np.testing.assert_array_equal(map_points.get_paths()[0].vertices, _marker_path("o"))
    np.testing.assert_array_equal(placed_points.get_paths()[0].vertices, _marker_path("x"))
    assert placed_points.get_zorder() > map_points.get_zorder()
    assert placed_points.get_linewidths()[0] > 0
    assert _is_drawn(_png(ax.figure, tmp_path / "placed.png"))


def test_plot_embedding_placed_rows_keep_the_colour_of_their_class(placed_blobs):
    Z, labels, placed = placed_blobs
    ax = plot_embedding(Z, labels, placed=placed, shuffle=False)
    map_points, placed_points = _scatters(ax)
    class_colour = {
        label: tuple(colour[:3])
        for label, colour in zip(labels[~placed], map_points.get_facecolors(), strict=True)
    }
    assert len(class_colour) == 4
    for label, colour in zip(labels[placed], placed_points.get_edgecolors(), strict=True):
        assert tuple(colour[:3]) == class_colour[label]


def test_plot_embedding_placed_values_share_the_colour_scale(placed_blobs):
    Z, _, placed = placed_blobs
    values = Z[:, 0].copy()
    # The largest and smallest values belong to placed rows only.
    values[np.flatnonzero(placed)[:2]] = [-50.0, 50.0]
    ax = plot_embedding(Z, values, placed=placed)
    map_points, placed_points = _scatters(ax)
    for collection in (map_points, placed_points):
        assert (collection.norm.vmin, collection.norm.vmax) == (-50.0, 50.0)
    assert map_points.colorbar is not None
    assert ["map", "placed"] in _legends(ax)


def test_plot_embedding_shuffles_each_group_on_its_own(placed_blobs):
    Z, labels, placed = placed_blobs
    ax = plot_embedding(Z, labels, placed=placed, random_state=3)
    order = np.random.default_rng(3).permutation(len(Z))
    map_points, placed_points = _scatters(ax)
    np.testing.assert_array_equal(map_points.get_offsets(), Z[order[~placed[order]]])
    np.testing.assert_array_equal(placed_points.get_offsets(), Z[order[placed[order]]])


def test_plot_embedding_marker_legend_keeps_the_class_legend(placed_blobs):
    Z, labels, placed = placed_blobs
    ax = plot_embedding(Z, labels, placed=placed)
    # The class legend is still the axes' legend; the markers get one of their own.
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["0", "1", "2", "3"]
    assert sorted(_legends(ax)) == [["0", "1", "2", "3"], ["map", "placed"]]
    (marker_legend,) = [
        legend
        for legend in ax.figure.findobj(matplotlib.legend.Legend)
        if legend is not ax.get_legend()
    ]
    assert [handle.get_marker() for handle in marker_legend.legend_handles] == ["o", "x"]
    alone = plot_embedding(Z, placed=placed)
    assert [text.get_text() for text in alone.get_legend().get_texts()] == ["map", "placed"]
    assert _legends(plot_embedding(Z, labels, placed=placed, legend=False)) == []


def test_plot_embedding_every_row_placed():
    Z = np.random.default_rng(0).normal(size=(50, 2))
    ax = plot_embedding(Z, np.arange(50) % 2, placed=np.ones(50, dtype=bool))
    (points,) = _scatters(ax)
    np.testing.assert_array_equal(points.get_paths()[0].vertices, _marker_path("x"))
    assert sorted(_legends(ax)) == [["0", "1"], ["placed"]]


@pytest.mark.parametrize("placed", [None, np.zeros(400, dtype=bool), [0] * 400])
def test_plot_embedding_without_placed_rows_is_unchanged(placed_blobs, placed):
    Z, labels, _ = placed_blobs
    plain = plot_embedding(Z, labels)
    ax = plot_embedding(Z, labels, placed=placed)
    assert len(_scatters(ax)) == len(_scatters(plain)) == 1
    np.testing.assert_array_equal(
        ax.collections[0].get_offsets(), plain.collections[0].get_offsets()
    )
    np.testing.assert_array_equal(
        ax.collections[0].get_facecolors(), plain.collections[0].get_facecolors()
    )
    assert _legends(ax) == _legends(plain) == [["0", "1", "2", "3"]]


@pytest.mark.parametrize(
    "placed",
    [
        [1, 0] * 5,
        [True, False] * 5,
        np.array([1, 0] * 5, dtype=np.uint8),
        np.array([True, False] * 5, dtype=object),
        [np.True_, np.int64(0)] * 5,
    ],
)
def test_plot_embedding_accepts_booleans_and_zero_one_integers(placed):
    ax = plot_embedding(np.random.default_rng(0).normal(size=(10, 2)), placed=placed)
    assert [len(points.get_offsets()) for points in _scatters(ax)] == [5, 5]


def test_plot_embedding_accepts_a_pandas_boolean_series():
    pd = pytest.importorskip("pandas")
    for dtype in ("bool", "boolean"):
        placed = pd.Series([True, False, False, True], dtype=dtype)
        ax = plot_embedding(np.eye(4, 2), placed=placed)
        assert [len(points.get_offsets()) for points in _scatters(ax)] == [2, 2]
    with pytest.raises(ValueError, match="missing value"):
        plot_embedding(np.eye(4, 2), placed=pd.Series([True, None, False, True], dtype="boolean"))


@pytest.mark.parametrize(
    ("placed", "message"),
    [
        (np.zeros(9, dtype=bool), "placed has 9 values but Z has 10 rows"),
        (np.zeros((10, 1), dtype=bool), "placed must be one-dimensional"),
        (
            [0, 1, 2] + [0] * 7,
            r"booleans \(True for rows placed on an existing map\) or the integers 0 and 1, "
            r"got 2 \(int\) at row 2",
        ),
        (np.array([0, -1] + [0] * 8), r"got -1 \(int\) at row 1"),
        (np.array([0.0, np.nan] + [1.0] * 8), r"placed contains NaN \(first at row 1\)"),
        (np.array([0.0, 1.0] * 5), "dtype float64"),
        ([True, None] + [False] * 8, "missing value"),
        ([True, np.nan] + [False] * 8, "missing value"),
        (np.array(["True", "False"] * 5), "dtype <U5 such as 'True'"),
        (["True", "False"] * 5, r"got 'True' \(str\) at row 0"),
        ([True, "False"] + [False] * 8, "got 'False' \\(str\\) at row 1"),
        ([True, 1.0] + [False] * 8, "got 1.0 \\(float\\) at row 1"),
    ],
)
def test_plot_embedding_rejects_bad_placed_values(placed, message):
    with pytest.raises(ValueError, match=message):
        plot_embedding(np.zeros((10, 2)), placed=placed)
    # The check comes before any figure is made.
    assert plt.get_fignums() == []
