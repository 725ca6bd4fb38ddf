"""EmbeddingIndex: nearest-neighbour search and kNN-distance outlier scores in an embedding.

The exact backend is scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`; the
approximate one is a faiss HNSW graph (the optional ``ann`` extra, imported only when
used).
"""

import contextlib
import copy
import dataclasses
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._io.validation import frame_without_columns_as_array
from .._utils.atomic import atomic_fit
from .._utils.docstrings import fill_docstrings

#: Links per node of the HNSW graph (``M``; the bottom layer keeps twice as many).
HNSW_LINKS = 32

#: Candidates kept while inserting a row into the graph (``efConstruction``).
HNSW_EF_CONSTRUCTION = 80

#: Candidates kept while searching (``efSearch``); at least the number of neighbours.
HNSW_EF_SEARCH = 64

#: Indexed rows from which ``backend="auto"`` builds the approximate index.
APPROXIMATE_FROM = 50_000


def _import_faiss():
    try:
        import faiss
    except ImportError as error:
        raise ImportError(
            "EmbeddingIndex's approximate backend needs faiss, an optional dependency. "
            "Install it with pip install 'ae-reduce[ann]' (or pip install faiss-cpu), "
            "or use backend='exact'."
        ) from error
    return faiss


def _faiss_available():
    try:
        _import_faiss()
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _one_thread(faiss):
    """Run faiss single-threaded inside the block.

    faiss inserts rows into an HNSW graph from several threads at once, and the graph
    then depends on how the threads interleave; one thread makes it depend on the data
    only. OpenMP keeps the thread count per calling thread, so other threads of the
    process are not affected.
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _check_n_neighbors(n_neighbors, default):
    """``n_neighbors`` of a query, checked with NearestNeighbors.kneighbors's messages."""
    if n_neighbors is None:
        return default
    if n_neighbors <= 0:
        raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors}")
    if not isinstance(n_neighbors, Integral):
        raise TypeError(f"n_neighbors does not take {type(n_neighbors)} value, enter integer value")
    return int(n_neighbors)


def _drop_self(distances, indices):
    """Remove each indexed row from its own neighbours, as NearestNeighbors does.

    When a row has more exact duplicates than neighbours asked for, it may be missing
    from its own list; the first neighbour (a duplicate) is dropped instead.
    """
    n_queries, n_found = indices.shape
    keep = indices != np.arange(n_queries)[:, np.newaxis]
    keep[np.all(keep, axis=1), 0] = False
    shape = (n_queries, n_found - 1)
    return distances[keep].reshape(shape), indices[keep].reshape(shape)


@fill_docstrings()
class EmbeddingIndex(BaseEstimator):
    """Nearest-neighbour search in an embedding, exact or approximate.

    :meth:`fit` indexes the rows of `X` as a ``transformer`` embeds them (or as they
    are, without one); :meth:`kneighbors` finds the indexed rows nearest to new rows,
    or to each indexed row, with the signature and return values of
    :meth:`sklearn.neighbors.NearestNeighbors.kneighbors`. :meth:`score_samples` ranks
    rows by their mean distance to their nearest neighbours in the embedding, the usual
    kNN-distance outlier score.

    Typical uses: find similar items with a trained autoencoder's code, search a large
    collection with the approximate backend, and rank rows by how isolated they lie
    in an embedding to find outliers.

    Parameters
    ----------
    transformer : estimator with ``fit`` and ``transform``, default=None
        Maps rows to the vectors that are indexed, for example a fitted
        :class:`KerasAutoencoderTransformer`. A transformer that is already fitted
        (:func:`~sklearn.utils.validation.check_is_fitted` passes) is used as it is:
        :meth:`fit` embeds `X` with it and does not train it. An unfitted one is
        cloned and the clone fitted on `X` (and `y`, so that a
        :class:`SupervisedEmbeddingTransformer` learns from labels). Either way the
        transformer used is kept as ``transformer_`` and every query passes through
        its ``transform``. None indexes `X` as it is.

    n_neighbors : int, default=10
        Number of neighbours :meth:`kneighbors` returns by default and
        :meth:`score_samples` averages over.

    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance between embedded rows: the Euclidean distance, or the cosine distance
        ``1 - cos(u, v)``, as :class:`~sklearn.neighbors.NearestNeighbors` computes
        them.

    backend : {"auto", "exact", "approximate"}, default="auto"
        ``"exact"`` searches with :class:`~sklearn.neighbors.NearestNeighbors`.
        ``"approximate"`` builds a faiss HNSW graph (``IndexHNSWFlat``), which answers
        queries many times faster on large collections but may miss a few of the true
        neighbours; it needs the ``ann`` extra (``pip install 'ae-reduce[ann]'``).
        ``"auto"`` uses the approximate backend from 50,000 indexed rows when faiss is
        installed and the embedded rows are dense, and the exact one otherwise. The
        choice is kept as ``backend_``.

    Attributes
    ----------
    backend_ : {"exact", "approximate"}
        The backend that indexed the rows.

    index_ : NearestNeighbors or faiss.IndexHNSWFlat
        The index: a fitted :class:`~sklearn.neighbors.NearestNeighbors` with the
        exact backend, or a faiss HNSW graph over the embedded rows in float32 (unit
        length for ``metric="cosine"``) with the approximate one.

    transformer_ : estimator or None
        The fitted transformer that embeds the rows: a copy of ``transformer`` when it
        was fitted already, a fitted clone of it otherwise, and None without one.

    n_samples_fit_ : int
        Number of indexed rows.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    sklearn.neighbors.NearestNeighbors : The exact backend, on the rows as given.
    KerasAutoencoderTransformer.score_samples : Outlier scores from the reconstruction
        error instead of neighbour distances.
    sklearn.ensemble.IsolationForest : Outlier scores from random partitions.

    Notes
    -----
    **Approximate search.** The graph is faiss's ``IndexHNSWFlat`` with 32 links per
    node (``M``), ``efConstruction=80`` and ``efSearch=max(64, n_neighbors)``. On a
    200,000 x 32 Gaussian mixture these settings found 99% of the 10 true nearest
    neighbours at about 10 times the query speed of exact search on 2 CPU cores (see
    ``benchmarks/bench_index.py``). Vectors are stored in float32; cosine distances are
    inner products of unit-length vectors. Rows are inserted into the graph by one
    thread, since faiss's parallel insertion makes the graph depend on thread timing;
    building is therefore slower than faiss's default (about 18 s for those 200,000
    rows), and queries run on all cores. Fits and queries give identical results on
    the same data and parameters. Sparse embeddings can only use the exact backend.

    faiss (the ``faiss-cpu`` package) rather than hnswlib: faiss-cpu publishes binary
    wheels for Linux, macOS and Windows on x86-64 and ARM with regular releases, while
    hnswlib's latest release (0.8.0, 2023) ships only as source that needs a C++
    compiler to install.

    **Persistence.** The estimator pickles with :mod:`pickle`, :mod:`joblib` and skops
    with both backends and gives identical results after loading. A faiss index
    cannot be pickled itself: it is stored as its serialised bytes (a ``uint8``
    array) and rebuilt on load, which needs faiss installed. skops asks to trust
    ``ae_reduce._neighbors.index.EmbeddingIndex``, the transformer's own types and, for an exact
    index of few features, scikit-learn's ``KDTree`` and its metric.

    **Cloning.** :func:`~sklearn.base.clone` (and so cross-validation and grid search)
    clones ``transformer`` into an unfitted copy, which :meth:`fit` then trains. To
    keep a fitted transformer as it is through cloning, wrap it in
    :class:`sklearn.frozen.FrozenEstimator`.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import EmbeddingIndex
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [5.0, 5.0]])
    >>> index = EmbeddingIndex(n_neighbors=2).fit(X)
    >>> distances, indices = index.kneighbors([[0.1, 0.1]])
    >>> indices
    array([[0, 1]])
    >>> index.score_samples().round(2)  # the isolated row scores lowest
    array([-1.  , -1.21, -1.21, -6.4 ])
    """

    _parameter_constraints: dict = {
        "transformer": [HasMethods(["fit", "transform"]), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"euclidean", "cosine"})],
        "backend": [StrOptions({"auto", "exact", "approximate"})],
    }

    def __init__(self, transformer=None, *, n_neighbors=10, metric="euclidean", backend="auto"):
        self.transformer = transformer
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.backend = backend

    # -- fitting ----------------------------------------------------------------------

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Embed the rows of `X` and index them.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to index, in the input space of ``transformer`` (or as they are
            indexed, without one).

        y : array-like of shape (n_samples,), default=None
            Targets, passed to the ``fit`` of an unfitted ``transformer`` (a
            :class:`SupervisedEmbeddingTransformer` needs them). Otherwise ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        transformer = self._fitted_transformer(X, y)
        vectors = self._embed(X, transformer, reset=True)
        backend = self._choose_backend(vectors)
        if backend == "exact":
            index = NearestNeighbors(n_neighbors=self.n_neighbors, metric=self.metric)
            index.fit(vectors)
        else:
            index = self._build_graph(vectors)
        self.transformer_ = transformer
        self.backend_ = backend
        self.index_ = index
        self.n_samples_fit_ = vectors.shape[0]
        return self

    def _fitted_transformer(self, X, y):
        """The transformer to embed with: a copy of a fitted one, or a fitted clone."""
        if self.transformer is None:
            return None
        try:
            check_is_fitted(self.transformer)
        except NotFittedError:
            transformer = clone(self.transformer)
            if y is None and get_tags(transformer).target_tags.required:
                raise ValueError(
                    f"{type(transformer).__name__} requires y to be passed, but the target "
                    "y is None: the transformer learns from labels. Pass them as "
                    "EmbeddingIndex(...).fit(X, y), or give the index a fitted transformer"
                ) from None
            return transformer.fit(X) if y is None else transformer.fit(X, y)
        # A copy, as SelectFromModel(prefit=True) makes: refitting the caller's
        # transformer later must not change the space that the index was built in.
        return copy.deepcopy(self.transformer)

    def _embed(self, X, transformer, *, reset):
        """Validate `X` and return the vectors to index or to search for."""
        X = frame_without_columns_as_array(X)
        if transformer is None:
            return validate_data(
                self, X, reset=reset, accept_sparse="csr", dtype=[np.float64, np.float32]
            )
        # The transformer validates its own input (it may take text, categories or
        # missing values); here only the feature count and names are recorded. Another
        # width is left to the transformer to refuse: the columns of token ids are
        # positions, and TokenEmbeddingTransformer takes documents of any length.
        shape = getattr(X, "shape", None)
        other_width = (
            not reset
            and shape is not None
            and len(shape) == 2
            and shape[1] != getattr(self, "n_features_in_", shape[1])
        )
        if not other_width:
            validate_data(self, X, reset=reset, skip_check_array=True)
        vectors = check_array(
            transformer.transform(X),
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
            ensure_min_samples=0,
            input_name="the embedding",
        )
        values = vectors.data if sp.issparse(vectors) else vectors
        if not np.isfinite(values).all():
            raise ValueError(
                f"{type(transformer).__name__}.transform returned NaN or infinite values; "
                "EmbeddingIndex can only index finite vectors. Check the input and the "
                "transformer's scaling."
            )
        return vectors

    def _choose_backend(self, vectors):
        if self.backend == "exact":
            return "exact"
        if self.backend == "approximate":
            _import_faiss()
            if sp.issparse(vectors):
                raise TypeError(
                    "Sparse data was passed, but the approximate backend indexes dense "
                    "vectors. Use backend='exact', which accepts sparse rows, or a "
                    "transformer that returns dense ones."
                )
            return "approximate"
        if sp.issparse(vectors) or vectors.shape[0] < APPROXIMATE_FROM:
            return "exact"
        return "approximate" if _faiss_available() else "exact"

    def _as_graph_vectors(self, vectors):
        """Rows as the graph stores them: dense float32, of unit length for cosine."""
        if sp.issparse(vectors):
            vectors = vectors.toarray()
        with np.errstate(over="ignore"):
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not np.isfinite(vectors).all():
            raise ValueError(
                "X contains values too large for float32 (up to "
                f"{np.finfo(np.float32).max:.3g}), in which the approximate backend "
                "stores and compares vectors. Scale the data, for example with "
                "StandardScaler, or use backend='exact'."
            )
        if self.metric == "cosine":
            # Zero rows stay zero: cosine distance 1 to everything, as scikit-learn has.
            vectors = normalize(vectors)
        return vectors

    def _build_graph(self, vectors):
        faiss = _import_faiss()
        vectors = self._as_graph_vectors(vectors)
        metric = faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2
        graph = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_LINKS, metric)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        with _one_thread(faiss):
            graph.add(vectors)
        return graph

    # -- queries ----------------------------------------------------------------------

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the indexed rows nearest to each row of `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features), default=None
            Query rows, in the input space of ``transformer``. None finds the
            neighbours of each indexed row, not counting the row itself.

        n_neighbors : int, default=None
            Number of neighbours of each row; None uses ``n_neighbors``. At most
            ``n_samples_fit_`` (fewer, when `X` is None).

        return_distance : bool, default=True
            Whether to return the distances as well.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors)
            Distances to the neighbours, nearest first: Euclidean or cosine
            distances in the embedding. Only present if ``return_distance=True``.

        neigh_ind : ndarray of shape (n_queries, n_neighbors)
            Indices of the neighbours among the indexed rows.
        """
        check_is_fitted(self, "index_")
        n_neighbors = _check_n_neighbors(n_neighbors, self.n_neighbors)
        query_is_train = X is None
        if not query_is_train:
            X = self._embed(X, self.transformer_, reset=False)
        n_samples = self.n_samples_fit_ if query_is_train else X.shape[0]
        if n_neighbors + query_is_train > self.n_samples_fit_:
            inequality = (
                "n_neighbors < n_samples_fit" if query_is_train else "n_neighbors <= n_samples_fit"
            )
            raise ValueError(
                f"Expected {inequality}, but n_neighbors = {n_neighbors}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {n_samples}"
            )
        if self.backend_ == "exact":
            return self.index_.kneighbors(X, n_neighbors, return_distance)
        distances, indices = self._search_graph(X, n_neighbors)
        return (distances, indices) if return_distance else indices

    def _search_graph(self, X, n_neighbors):
        faiss = _import_faiss()
        if X is None:
            vectors = self.index_.reconstruct_n(0, self.n_samples_fit_)
            n_found = n_neighbors + 1
        else:
            vectors = self._as_graph_vectors(X)
            n_found = n_neighbors
        params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, n_found))
        scores, indices = self.index_.search(vectors, n_found, params=params)
        lost = np.flatnonzero((indices < 0).any(axis=1))
        if lost.size:
            # A graph search can come back with fewer rows than asked for when few
            # rows are reachable; those queries are answered by brute force instead.
            stored = self.index_.reconstruct_n(0, self.n_samples_fit_)
            scores[lost], indices[lost] = faiss.knn(
                vectors[lost], stored, n_found, metric=self.index_.metric_type
            )
        scores = scores.astype(np.float64)
        if self.metric == "cosine":
            distances = 1.0 - scores
        else:
            distances = np.sqrt(np.maximum(scores, 0.0))
        indices = indices.astype(np.intp, copy=False)
        if X is None:
            distances, indices = _drop_self(distances, indices)
        return distances, indices

    def score_samples(self, X=None):
        """Outlier score from kNN distances: minus the mean distance to the nearest rows.

        The mean distance in the embedding to the ``n_neighbors`` nearest indexed rows
        is a standard outlier score: rows far from all others are unusual. Its
        negative follows scikit-learn's convention (as in
        :meth:`sklearn.ensemble.IsolationForest.score_samples`): the lower, the more
        abnormal, so sorting by it ranks the most isolated rows first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features), default=None
            Rows to score against the indexed rows. None scores the indexed rows
            themselves, each against the others (not against itself).

        Returns
        -------
        scores : ndarray of shape (n_queries,)
            Minus the mean distance to the ``n_neighbors`` nearest indexed rows,
            float64.

        See Also
        --------
        KerasAutoencoderTransformer.score_samples : Outlier scores from an
            autoencoder's reconstruction error.
        sklearn.ensemble.IsolationForest.score_samples : The same convention, from
            random partitions of the input.
        """
        distances, _ = self.kneighbors(X)
        return -np.mean(distances, axis=1, dtype=np.float64)

    # -- persistence ------------------------------------------------------------------

    def __getstate__(self):
        state = dict(super().__getstate__())
        if state.get("backend_") == "approximate" and "index_" in state:
            faiss = _import_faiss()
            # A faiss index holds C++ memory that pickle cannot reach; its own
            # serialisation is a byte array that any format can store.
            state["index_"] = faiss.serialize_index(state["index_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        if state.get("backend_") == "approximate" and isinstance(state.get("index_"), np.ndarray):
            faiss = _import_faiss()
            state["index_"] = faiss.deserialize_index(np.asarray(state["index_"], dtype=np.uint8))
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.transformer is None:
            tags.input_tags.sparse = True
        else:
            # What the index accepts is what its transformer accepts.
            tags.input_tags = dataclasses.replace(get_tags(self.transformer).input_tags)
        return tags
