"""The usual chain: a reducer, then a t-SNE map, with defaults sized to the data."""

from sklearn.pipeline import Pipeline

from ._io.validation import held_out_count
from ._manifold.tsne import TSNE, largest_perplexity
from ._preprocessing.scaling import make_scaler

#: Code widths that make_tsne_pipeline uses when n_components is None.
_DEFAULT_WIDTHS = {"pca": 50, "autoencoder": 32, "supervised": 16}


def _default_perplexity(n_samples):
    if n_samples is None:
        return 30.0
    # The floor only matters below TSNE's 4 rows, which fit refuses with a clear message.
    return float(min(30.0, max(1.0, largest_perplexity(n_samples))))


def _default_tsne_params(n_samples):
    params = {"perplexity": _default_perplexity(n_samples)}
    if n_samples is not None and n_samples >= 100_000:
        # On very large data plain t-SNE spreads clusters thin; mild exaggeration keeps
        # them compact (Kobak and Berens, 2019).
        params["exaggeration"] = 4.0
    return params


def _default_hidden_layers(reducer, n_features):
    # The autoencoder keeps (128, 64) whatever the width: on 5,000 real MNIST digits
    # its map scored 0.940 (10-NN) in 16 s against 0.946 in 33 s with (512, 256), and
    # openTSNE on PCA-50 0.937 in 12 s. The supervised network needs the capacity.
    if reducer == "supervised" and n_features is not None and n_features >= 400:
        return (512, 256)
    return (128, 64)


def make_reducer(reducer, n_components, shape, random_state, verbose, reducer_params):
    n_features = shape[1] if shape is not None else None
    if n_components is None:
        n_components = _DEFAULT_WIDTHS[reducer]
        if n_features is not None:
            # A code as wide as the input reduces nothing: at most half the features.
            n_components = min(n_components, max(1, n_features // 2))
    params = {"n_components": n_components, "random_state": random_state}
    if reducer == "pca":
        from sklearn.decomposition import PCA

        return PCA(**params, **reducer_params)
    params["verbose"] = verbose
    params["hidden_layer_sizes"] = _default_hidden_layers(reducer, n_features)
    params.update(reducer_params)
    if reducer == "autoencoder":
        from ._neural.autoencoder import KerasAutoencoderTransformer

        return KerasAutoencoderTransformer(**params)
    from ._neural.supervised import SupervisedEmbeddingTransformer

    return SupervisedEmbeddingTransformer(**params)


def make_tsne_pipeline(
    reducer="autoencoder",
    *,
    n_components=None,
    shape=None,
    scaler="auto",
    perplexity=None,
    random_state=None,
    n_jobs=None,
    verbose=0,
    reducer_params=None,
    tsne_params=None,
    parametric=False,
):
    """Build the usual chain: scaler, then a reducer, then a t-SNE map.

    t-SNE measures neighbours by Euclidean distance, which degrades in many
    dimensions and costs time in proportion to them. A reducer in front gives t-SNE a
    short, informative vector per row:

    - ``"pca"``: fast and deterministic; the standard choice (50 components) when the
      classes are already separated along directions of large variance.
    - ``"autoencoder"``: :class:`KerasAutoencoderTransformer`, no labels needed. Use it
      when the structure is nonlinear (images, sensor readings, one-hot heavy tables)
      and PCA needs many components to keep it, or when the map must place new rows
      at the speed of a forward pass plus t-SNE's placement.
    - ``"supervised"``: :class:`SupervisedEmbeddingTransformer`, trained on the labels
      passed to ``fit(X, y)``. The map then shows the classes (or the target's
      gradient) as the network sees them: clusters separate cleanly, and rows the
      network confuses sit between them. Inside the pipeline ``fit_transform`` uses
      its cross-fitted, out-of-fold codes, so the map of the training rows is not
      flattered by overfitting. It shows what the labels explain, not the data's own
      structure.
    - ``None``: t-SNE on the scaled input; fine up to a few hundred features.

    With ``parametric=True`` the map is drawn by :class:`ParametricTSNE`, a network
    trained with t-SNE's objective, instead of :class:`TSNE`. Its ``transform`` places
    new rows with one forward pass, without the training rows, so the fitted pipeline
    places rows quickly and pickles small. The network reduces the input itself, so
    the reducer in front is optional: ``reducer=None`` (scaler, then the map) is the
    natural choice; a reducer mainly shortens the neighbour search on wide inputs.

    Parameters
    ----------
    reducer : {"autoencoder", "supervised", "pca"}, estimator or None, default="autoencoder"
        The step between the scaler and t-SNE. An estimator is used as given.

    n_components : int, default=None
        Width of the reducer's output. None picks 50 for PCA, 32 for the autoencoder
        and 16 for the supervised embedding, capped at half the number of features
        (at least 1) when `shape` is given, so that the code is always narrower than
        the input. Ignored when `reducer` is an estimator or None.

    shape : tuple of (int, int), default=None
        ``(n_samples, n_features)`` of the data the pipeline will be fitted on, for
        example ``X.shape``. It sizes the defaults: the code width, the hidden layers
        (``(128, 64)``, or for the supervised embedding ``(512, 256)`` from 400
        features), the perplexity and, from
        100,000 rows, an exaggeration of 4 (for :class:`TSNE` only). None keeps the
        generic defaults.

    scaler : {"auto", "standard", "minmax", "none"}, estimator or None, default="auto"
        First step. ``"auto"`` is an :class:`AutoScaler`: columns that share a range
        (pixels, counts bounded by one maximum) are scaled by that one range to
        [0, 1], other columns are standardised. ``"standard"`` is a
        :class:`~sklearn.preprocessing.StandardScaler`, ``"minmax"`` a
        :class:`~sklearn.preprocessing.MinMaxScaler`; ``"none"`` or None leaves the
        input as it is. An estimator is used as given.

    perplexity : float, default=None
        t-SNE's perplexity, at least 1/3. None means 30, or less for fewer than about
        100 rows (with ``parametric=True``, fewer than about 100 rows left for the map
        once :class:`ParametricTSNE` holds out its ``validation_split``).

    random_state : int, RandomState instance or None, default=None
        Passed to the reducer and to t-SNE.

    n_jobs : int, default=None
        Threads for t-SNE (for :class:`ParametricTSNE`, its neighbour search): None
        (one thread) or a nonzero int, -1 meaning all processors.

    verbose : int, default=0
        Passed to the neural reducer (Keras's output) and to t-SNE.

    reducer_params : dict, default=None
        Extra parameters of the named reducer, for example ``{"epochs": 50}``.

    tsne_params : dict, default=None
        Extra parameters of :class:`TSNE`, or of :class:`ParametricTSNE` with
        ``parametric=True``, for example ``{"n_iter": 500}``; they override the
        size-based defaults and the arguments above.

    parametric : bool, default=False
        Whether the last step is :class:`ParametricTSNE` (a network that places new
        rows with a forward pass) rather than :class:`TSNE` (openTSNE's map, which
        places new rows by optimising each against the training rows).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Unfitted pipeline whose ``fit_transform`` draws the map and whose
        ``transform`` places new rows on it. Steps are named ``"scaler"``,
        ``"reducer"`` and ``"tsne"`` (absent steps are left out).

    See Also
    --------
    TSNE : The t-SNE step.
    ParametricTSNE : The t-SNE step with ``parametric=True``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from ae_reduce import make_tsne_pipeline
    >>> X, y = load_digits(return_X_y=True)
    >>> pipeline = make_tsne_pipeline("pca", shape=X.shape, random_state=0)
    >>> [name for name, _ in pipeline.steps]
    ['scaler', 'reducer', 'tsne']
    >>> pipeline.fit_transform(X[:300]).shape
    (300, 2)
    >>> parametric = make_tsne_pipeline(None, parametric=True, random_state=0)
    >>> [name for name, _ in parametric.steps]
    ['scaler', 'tsne']
    """
    if shape is not None:
        if len(shape) != 2:
            raise ValueError(f"shape must be (n_samples, n_features), got {shape!r}.")
        shape = (int(shape[0]), int(shape[1]))
    steps = []
    scaler = make_scaler(scaler)
    if scaler is not None:
        steps.append(("scaler", scaler))

    if isinstance(reducer, str):
        if reducer not in _DEFAULT_WIDTHS:
            raise ValueError(
                "reducer must be 'autoencoder', 'supervised', 'pca', an estimator or None, "
                f"got {reducer!r}."
            )
        steps.append(
            (
                "reducer",
                make_reducer(
                    reducer, n_components, shape, random_state, verbose, reducer_params or {}
                ),
            )
        )
    elif reducer is not None:
        steps.append(("reducer", reducer))

    n_samples = None if shape is None else shape[0]
    tsne_params = dict(tsne_params or {})
    if parametric:
        tsne_kwargs = _default_parametric_params(n_samples, tsne_params)
    else:
        tsne_kwargs = _default_tsne_params(n_samples)
    if perplexity is not None:
        tsne_kwargs["perplexity"] = perplexity
    tsne_kwargs.update(random_state=random_state, n_jobs=n_jobs, verbose=verbose)
    tsne_kwargs.update(tsne_params)
    if parametric:
        from ._manifold.parametric import ParametricTSNE

        steps.append(("tsne", ParametricTSNE(**tsne_kwargs)))
    else:
        steps.append(("tsne", TSNE(**tsne_kwargs)))
    return Pipeline(steps)


def _default_parametric_params(n_samples, tsne_params):
    """Size-based defaults of :class:`ParametricTSNE`: only the perplexity.

    TSNE's exaggeration of large data is left out: it acts on openTSNE's main phase,
    and ParametricTSNE's ``early_exaggeration`` is another parameter, for its first
    phase only.
    """
    from ._manifold.parametric import ParametricTSNE

    if n_samples is None:
        return {"perplexity": _default_perplexity(None)}
    validation_split = tsne_params.get("validation_split", ParametricTSNE().validation_split)
    return {"perplexity": _default_perplexity(_parametric_map_rows(n_samples, validation_split))}


def _parametric_map_rows(n_samples, validation_split):
    """Rows :class:`ParametricTSNE` draws its map from, out of ``n_samples``.

    The same count as ``split_indices`` gives (rounding, no empty part), and all rows
    when too few would be left, as ``ParametricTSNE.fit`` does; the perplexity bound
    applies to these rows, not to all of them.
    """
    try:
        n_held_out = held_out_count(n_samples, float(validation_split))
    except (TypeError, ValueError, OverflowError):
        # A bad validation_split is ParametricTSNE's to refuse, in fit.
        return n_samples
    if n_held_out == 0:
        return n_samples
    from ._manifold.parametric import MIN_ROWS

    n_train = n_samples - n_held_out
    return n_train if n_train >= MIN_ROWS else n_samples
