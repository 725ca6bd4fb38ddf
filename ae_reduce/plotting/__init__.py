"""Pictures of embeddings, training curves and reconstructions, drawn with matplotlib.

matplotlib is imported inside the functions, so importing ae_reduce does not need it.
"""

import math

import numpy as np
from sklearn.exceptions import NotFittedError

from .._utils.targets import encode_classes, is_continuous
from ._checks import (
    TAB10,
    check_embedding,
    check_placed,
    check_values,
    class_colors,
    point_alpha,
)
from ._map import Map

__all__ = ["Map", "plot_embedding", "plot_history", "plot_reconstructions"]


#: Largest number of classes that get a legend in :func:`plot_embedding`.
MAX_LEGEND_CLASSES = 20


def _point_style(n_points):
    """Marker area (in points squared) and opacity that suit `n_points` points.

    Both shrink as the points get denser, so that 10 points stand out and 100,000
    points still show where they are dense.
    """
    n_points = max(int(n_points), 1)
    size = float(np.clip(200.0 / math.sqrt(n_points), 0.5, 30.0))
    return size, point_alpha(n_points)


def plot_embedding(
    Z,
    labels=None,
    *,
    ax=None,
    cmap="viridis",
    point_size=None,
    alpha=None,
    shuffle=True,
    random_state=0,
    legend=True,
    title=None,
    placed=None,
):
    """Scatter plot of a two-dimensional embedding, coloured by labels or values.

    Point size and opacity scale with the number of points, so the defaults suit from
    ten to a hundred thousand points. Class labels (strings, integers, booleans or a
    pandas categorical) get one distinct colour per class and, for at most 20 classes,
    a legend; float values get a continuous colour map and a colorbar.

    Rows marked in `placed` (new rows that ``transform`` placed on a map drawn from
    other rows, as :class:`TSNE` does) are drawn as crosses on top of the map's dots,
    coloured by the same rules, so that they can be told from the rows the map was
    drawn from.

    Parameters
    ----------
    Z : array-like of shape (n_samples, 2)
        The embedding, such as the output of ``transform`` with ``n_components=2``.

    labels : array-like of shape (n_samples,), default=None
        Class labels or continuous values to colour by. None draws every point in one
        colour. Only an array (or pandas object) of a floating dtype counts as
        continuous values. A class is one value of one type: ``1`` and ``1.0`` are one
        class, but labels that mix strings, numbers and booleans, such as
        ``[1, "1", True]``, are refused with a ValueError rather than drawn as classes
        named alike. Missing labels (None, NaN) form a class of their own.

    ax : matplotlib.axes.Axes, default=None
        Axes to draw on. None creates a new figure.

    cmap : str or matplotlib.colors.Colormap, default="viridis"
        Colour map for continuous values.

    point_size : float, default=None
        Marker area in points squared. None scales it with the number of points.

    alpha : float, default=None
        Marker opacity. None scales it with the number of points.

    shuffle : bool, default=True
        Whether to draw the points in a random (but reproducible) order, so that no
        class is hidden under another merely because it comes later in the data.

    random_state : int, default=0
        Seed of the drawing order when `shuffle` is True.

    legend : bool, default=True
        Whether to add a legend (classes) or a colorbar (values).

    title : str, default=None
        Title of the axes.

    placed : array-like of bool of shape (n_samples,), default=None
        True for rows placed on an existing map rather than drawn with it. Booleans
        and the integers 0 and 1 are accepted; other values, missing ones included,
        raise a ValueError. Placed rows are drawn after the map's rows as crosses
        ("x"), sized and made opaque for their own number of points (never smaller
        or fainter than the map's dots unless `point_size` or `alpha` is given), each
        group in its own collection and, with `shuffle`, in its own random order.
        With `legend`, a second legend explains the two markers; the class legend
        stays the one that ``ax.get_legend()`` returns. None, or no True value,
        draws every row as a map row.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes with the scatter plot.

    Raises
    ------
    ValueError
        If `Z` is not of shape (n_samples, 2) or holds NaN or infinite values, if
        `labels` or `placed` do not have one value per row, if the labels mix types,
        or if `placed` holds anything but booleans or the integers 0 and 1.

    See Also
    --------
    export_html : An interactive, zoomable version of the same picture.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from ae_reduce import plot_embedding
    >>> rng = np.random.default_rng(0)
    >>> ax = plot_embedding(rng.normal(size=(300, 2)), labels=rng.integers(0, 3, 300))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['0', '1', '2']

    The last 50 rows, placed on the map afterwards, are drawn as crosses on top:

    >>> ax = plot_embedding(rng.normal(size=(300, 2)), placed=np.arange(300) >= 250)
    >>> [len(points.get_offsets()) for points in ax.collections]
    [250, 50]
    """
    import matplotlib.pyplot as plt

    Z = check_embedding(Z)
    n_samples = Z.shape[0]
    placed = check_placed(placed, n_samples)
    values = None if labels is None else check_values(labels, n_samples, "labels")
    default_size, default_alpha = _point_style(n_samples)
    size = default_size if point_size is None else point_size
    map_alpha = default_alpha if alpha is None else alpha
    if ax is None:
        _, ax = plt.subplots(
            figsize=(7.5, 6) if labels is not None else (6, 6), layout="constrained"
        )

    order = np.arange(n_samples)
    if shuffle:
        order = np.random.default_rng(random_state).permutation(n_samples)
    rasterized = n_samples > 5000
    style = {"s": size, "alpha": map_alpha, "linewidths": 0, "rasterized": rasterized}
    groups = [(order, style)]
    if placed is not None:
        # Placed rows come last, so their crosses lie on top of the map's dots; each
        # group keeps the shuffled order among its own rows.
        in_order = placed[order]
        groups = [(order[~in_order], style)]
        placed_style = _placed_style(in_order.sum(), style, point_size, alpha)
        groups.append((order[in_order], placed_style))
        groups = [(rows, group_style) for rows, group_style in groups if rows.size]

    class_legend = None
    colorbar = None
    if values is None:
        collections = _scatter(ax, Z, groups, color=TAB10[0])
    elif is_continuous(labels):
        measured = values.astype(float)
        norm = None
        if placed is not None:
            # One scale for both groups, so that a value has one colour in both.
            import matplotlib.colors

            norm = matplotlib.colors.Normalize()
            norm.autoscale_None(np.ma.masked_invalid(measured))
        collections = _scatter(ax, Z, groups, values=measured, cmap=cmap, norm=norm)
        if legend:
            colorbar = ax.figure.colorbar(collections[0], ax=ax, fraction=0.046, pad=0.03)
            # The bar shows the colour scale, not the points' transparency.
            colorbar.solids.set_alpha(1.0)
    else:
        (codes,), names = encode_classes(values)
        colors = np.array(class_colors(len(names)))
        collections = _scatter(ax, Z, groups, colors=colors[codes])
        if legend and len(names) <= MAX_LEGEND_CLASSES:
            class_legend = _add_class_legend(ax, names, colors)
    if legend and placed is not None:
        _add_marker_legend(
            ax, has_map_rows=len(groups) == 2, class_legend=class_legend, colorbar=colorbar
        )

    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    ax.tick_params(labelsize="small", colors="0.4")
    for spine in ax.spines.values():
        spine.set_color("0.75")
    if title is not None:
        ax.set_title(title)
    return ax


def _placed_style(n_placed, map_style, point_size, alpha):
    """Scatter style of the placed rows: crosses, as large and opaque as a picture of
    their own would draw them but no smaller or fainter than the map's dots."""
    own_size, own_alpha = _point_style(n_placed)
    size = max(own_size, map_style["s"]) if point_size is None else point_size
    # Thin strokes keep small crosses readable as crosses rather than blobs.
    linewidth = float(np.clip(math.sqrt(size) / 5.0, 0.5, 1.5))
    return {
        "s": size,
        "alpha": max(own_alpha, map_style["alpha"]) if alpha is None else alpha,
        "marker": "x",
        "linewidths": linewidth,
        "rasterized": map_style["rasterized"],
        "zorder": 1.5,
    }


def _scatter(ax, Z, groups, *, color=None, colors=None, values=None, cmap=None, norm=None):
    """One scatter collection per group of rows; returns the collections.

    Each row gets `color`, its entry of `colors`, or its entry of `values` mapped
    through `cmap` and `norm`.
    """
    collections = []
    for rows, style in groups:
        if color is not None:
            paint = {"color": color}
        elif colors is not None:
            paint = {"c": colors[rows]}
        else:
            paint = {"c": values[rows], "cmap": cmap}
            if norm is not None:
                paint["norm"] = norm
        collections.append(ax.scatter(Z[rows, 0], Z[rows, 1], **paint, **style))
    return collections


def _add_marker_legend(ax, *, has_map_rows, class_legend, colorbar):
    """Legend of the two markers: dots for the map's rows, crosses for placed rows.

    It sits above the colorbar, or at the top right of the axes above a class legend
    (which stays ``ax.get_legend()``); alone, it becomes the axes' legend.
    """
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D

    entries = [("placed", "x")]
    if has_map_rows:
        entries.insert(0, ("map", "o"))
    handles = [
        Line2D(
            [],
            [],
            linestyle="",
            marker=marker,
            markersize=6,
            markeredgewidth=1.5,
            color="0.4",
            label=name,
        )
        for name, marker in entries
    ]
    names = [name for name, _ in entries]
    options = {"frameon": False, "fontsize": "small", "handletextpad": 0.3}
    if colorbar is not None:
        # Above the colorbar, as part of it, so that a layout engine makes room there.
        parent = colorbar.ax
        options.update(loc="lower left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.3)
    else:
        parent = ax
        options.update(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    if class_legend is None and colorbar is None:
        return ax.legend(handles=handles, labels=names, **options)
    marker_legend = Legend(parent, handles, names, **options)
    parent.add_artist(marker_legend)
    # add_artist clips to the axes, and a layout engine leaves out what the axes clip.
    marker_legend.set_clip_on(False)
    return marker_legend


def _add_class_legend(ax, names, colors):
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], linestyle="", marker="o", markersize=7, color=color, label=name)
        for name, color in zip(names, colors, strict=True)
    ]
    return ax.legend(
        handles=handles,
        labels=list(names),
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        frameon=False,
        fontsize="small",
        handletextpad=0.3,
        title=f"{len(names)} classes",
        title_fontsize="small",
    )


def _final_estimator(estimator):
    # A Pipeline keeps its history on the last step.
    steps = getattr(estimator, "steps", None)
    if steps and not hasattr(estimator, "history_"):
        return steps[-1][1]
    return estimator


def plot_history(estimator, *, ax=None, log_scale=None, title=None):
    """Training and validation loss per epoch, with the best epoch marked.

    The monitored curve (validation loss when rows were held out, else training loss)
    starts at epoch 0, the loss of the starting weights before any training, when the
    estimator recorded it in ``initial_loss_``. A fit that kept its starting point
    (``best_epoch_ == 0``; with ``init="pca"``, PCA) has its best epoch marked there.

    Parameters
    ----------
    estimator : estimator
        A fitted ae_reduce estimator, or a pipeline ending in one: anything with
        ``history_`` (a dict with per-epoch ``"loss"`` and optionally ``"val_loss"``),
        ``best_epoch_`` (counting from 1; 0 for the starting weights) and optionally
        ``initial_loss_`` (the monitored loss at epoch 0).

    ax : matplotlib.axes.Axes, default=None
        Axes to draw on. None creates a new figure.

    log_scale : bool, default=None
        Whether to use a logarithmic loss axis. None uses one when the positive losses
        span more than a factor of 10.

    title : str, default=None
        Title of the axes.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes with the loss curves.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If `estimator` has no training history.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from types import SimpleNamespace
    >>> from ae_reduce import plot_history
    >>> fitted = SimpleNamespace(history_={"loss": [3.0, 2.0, 1.5]}, best_epoch_=3)
    >>> plot_history(fitted).get_xlabel()
    'epoch'
    """
    import matplotlib.pyplot as plt

    fitted = _final_estimator(estimator)
    history = getattr(fitted, "history_", None)
    if not history or not history.get("loss"):
        raise NotFittedError(
            f"This {type(estimator).__name__} has no training history yet; call 'fit' "
            "before plot_history."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")

    curves = [("loss", "training loss", TAB10[0])]
    if history.get("val_loss"):
        curves.append(("val_loss", "validation loss", TAB10[1]))
    # The starting weights were measured on the monitored rows only, the last curve.
    initial = getattr(fitted, "initial_loss_", None)
    has_start = initial is not None and np.isfinite(initial)
    every_value = []
    for key, label, color in curves:
        values = np.asarray(history[key], dtype=float)
        epochs = np.arange(1, len(values) + 1)
        if has_start and key == curves[-1][0]:
            values = np.concatenate([[initial], values])
            epochs = np.arange(len(values))
        marker = "o" if len(values) <= 30 else None
        ax.plot(epochs, values, label=label, color=color, marker=marker, markersize=3)
        every_value.append(values)

    best_epoch = getattr(fitted, "best_epoch_", None)
    if best_epoch is not None:
        # Indexed by epoch: entry 0 is the start when it was recorded.
        monitored = every_value[-1] if has_start else np.concatenate([[np.nan], every_value[-1]])
        ax.axvline(best_epoch, color="0.35", linestyle="--", linewidth=1, zorder=0)
        if 0 <= best_epoch < len(monitored) and np.isfinite(monitored[best_epoch]):
            label = f"best epoch ({best_epoch})"
            if best_epoch == 0:
                label = "best epoch (0: the start was kept)"
            ax.plot(
                [best_epoch],
                [monitored[best_epoch]],
                linestyle="",
                marker="*",
                markersize=13,
                color="#d62728",
                label=label,
                zorder=3,
            )

    values = np.concatenate(every_value)
    positive = values[np.isfinite(values) & (values > 0)]
    if log_scale is None:
        log_scale = len(positive) == len(values) and positive.max() > 10 * positive.min()
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, color="0.92")
    ax.legend(frameon=False)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_reconstructions(estimator, X, image_shape, *, n_images=8, cmap="gray"):
    """Show images beside their reconstructions by a fitted autoencoder.

    The top row shows the first `n_images` rows of `X` as images, the bottom row
    ``estimator.inverse_transform(estimator.transform(X))``, each pair on the same
    grey scale, with the mean squared error of each reconstruction.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator with ``transform`` and ``inverse_transform``, such as
        :class:`KerasAutoencoderTransformer` or a pipeline ending in one.

    X : array-like of shape (n_samples, n_features)
        Images, one flattened image per row.

    image_shape : tuple of int
        Shape of one image, ``(height, width)`` or ``(height, width, channels)`` with 3
        or 4 channels; its product must equal ``n_features``.

    n_images : int, default=8
        Number of images to show (at most the number of rows of `X`).

    cmap : str, default="gray"
        Colour map of single-channel images.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure, with two rows of `n_images` axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from ae_reduce import plot_reconstructions
    >>> X = np.random.default_rng(0).random((20, 16))
    >>> fig = plot_reconstructions(PCA(4).fit(X), X, (4, 4), n_images=3)
    >>> len(fig.axes)
    6
    """
    import matplotlib.pyplot as plt

    image_shape = tuple(int(size) for size in np.atleast_1d(image_shape))
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be two-dimensional, got shape {X.shape}.")
    if len(image_shape) not in (2, 3) or (len(image_shape) == 3 and image_shape[2] not in (3, 4)):
        raise ValueError(
            "image_shape must be (height, width) or (height, width, channels) with 3 or 4 "
            f"channels, got {image_shape}."
        )
    if math.prod(image_shape) != X.shape[1]:
        raise ValueError(
            f"image_shape {image_shape} holds {math.prod(image_shape)} values but X has "
            f"{X.shape[1]} features."
        )
    n_images = min(int(n_images), X.shape[0])
    if n_images < 1:
        raise ValueError("n_images must be at least 1 and X must have rows.")

    originals = X[:n_images]
    reconstructions = np.asarray(estimator.inverse_transform(estimator.transform(originals)))
    errors = np.mean((reconstructions - originals) ** 2, axis=1)

    fig, axes = plt.subplots(2, n_images, figsize=(1.3 * n_images, 3.0), squeeze=False)
    for column in range(n_images):
        low, high = originals[column].min(), originals[column].max()
        for row, image in enumerate((originals[column], reconstructions[column])):
            ax = axes[row, column]
            _show_image(ax, image, image_shape, low, high, cmap)
        axes[1, column].set_title(f"mse {errors[column]:.3g}", fontsize="x-small", y=-0.28)
    axes[0, 0].set_ylabel("original", fontsize="small")
    axes[1, 0].set_ylabel("reconstruction", fontsize="small")
    fig.subplots_adjust(wspace=0.08, hspace=0.12, left=0.08, right=0.99, top=0.97, bottom=0.1)
    return fig


def _show_image(ax, image, image_shape, low, high, cmap):
    image = image.reshape(image_shape)
    if len(image_shape) == 3:
        # Colour images share the original's range, mapped to [0, 1] for imshow.
        image = np.clip((image - low) / (high - low or 1.0), 0.0, 1.0)
        ax.imshow(image, interpolation="nearest")
    else:
        ax.imshow(image, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
