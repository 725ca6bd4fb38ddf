"""Releasing the compiled training models that fits keep for reuse.

Importing this module does not import TensorFlow: before the first fit there is nothing
to release, and asking must stay cheap.
"""

import sys


def release_cached_models():
    """Release the compiled training models kept for reuse between fits.

    The first fit of each network architecture builds and compiles a training copy of
    the network, and the eight most recently used copies are kept so that later fits of
    the same architecture (cross-validation folds, grid points that change only training
    parameters) skip building and tracing it again. Each copy holds its weights and
    optimizer state, on the GPU when it trains there, and its traced TensorFlow graphs.
    Call this function when a process that has fitted goes on to other work, for
    example after a grid search, to return that memory.

    Fitted estimators are not affected: they hold their own networks. A later fit
    compiles its architecture again, paying the tracing time once more, and gives the
    same results as it would have with the cached copy. A fit running in another thread
    keeps the copy it is training until it finishes. The release also empties
    TensorFlow's cache of eager kernels, as ``keras.backend.clear_session()`` does, and
    on Linux with glibc returns freed heap pages to the system. TensorFlow keeps the GPU
    memory it has reserved for its own later use rather than returning it to the driver.

    The same release happens on its own to the least recently used copy when a ninth
    architecture is fitted, so a long search stays bounded in memory without calling
    this function.

    Returns
    -------
    n_released : int
        The number of compiled models released; 0 when none was cached, as always
        before the first fit of the process.

    See Also
    --------
    KerasAutoencoderTransformer : Fits that compile and cache training models.
    SupervisedEmbeddingTransformer : Fits that compile and cache training models.

    Examples
    --------
    >>> import numpy as np
    >>> from ae_reduce import KerasAutoencoderTransformer, release_cached_models
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> reducer = KerasAutoencoderTransformer(epochs=5).fit(X)  # doctest: +SKIP
    >>> release_cached_models()  # doctest: +SKIP
    1
    """
    training = sys.modules.get("ae_reduce._keras.training")
    if training is None:
        return 0
    return training.clear_cache()
