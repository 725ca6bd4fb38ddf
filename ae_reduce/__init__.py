"""Neural dimensionality reduction for scikit-learn, built on Keras 3.

Importing this package does not import TensorFlow; fitting an estimator does.
"""

import sys as _sys

from ._inspection.label_issues import NoSignalWarning, find_label_issues
from ._keras.runtime import config_context, get_config, release_cached_models, set_config
from ._manifold.parametric import ParametricTSNE
from ._manifold.tsne import TSNE
from ._neighbors.index import EmbeddingIndex
from ._neural.autoencoder import KerasAutoencoderTransformer
from ._neural.supervised import SupervisedEmbeddingTransformer
from ._neural.tokens import TokenEmbeddingTransformer
from ._pipeline import make_tsne_pipeline
from ._preprocessing.scaling import AutoScaler
from ._text.sequencer import TokenSequencer
from ._text.word_vectors import MeanWordVectorVectorizer
from ._utils import version as _version
from .plotting import plot_embedding, plot_history, plot_reconstructions
from .plotting._html import export_html

__version__ = _version.__version__

# Saved models (pickles and skops files) name each class by its module. Those of 0.2.0,
# whose modules were flat, keep loading, and new files name classes as they did, so the
# types a user lists as trusted in skops stay the same: each public estimator keeps its
# 0.2.0 module name, an alias of the module that now defines it.
_SAVED_MODULES = {
    KerasAutoencoderTransformer: "_autoencoder",
    SupervisedEmbeddingTransformer: "_supervised",
    TokenEmbeddingTransformer: "_tokens",
    TokenSequencer: "_sequencer",
    MeanWordVectorVectorizer: "_word_vectors",
    AutoScaler: "_scaling",
    ParametricTSNE: "_parametric",
    TSNE: "_tsne",
    EmbeddingIndex: "_index",
}
for _class, _name in _SAVED_MODULES.items():
    _sys.modules.setdefault(f"{__name__}.{_name}", _sys.modules[_class.__module__])
    _class.__module__ = f"{__name__}.{_name}"
del _class, _name

__all__ = [
    "TSNE",
    "AutoScaler",
    "EmbeddingIndex",
    "KerasAutoencoderTransformer",
    "MeanWordVectorVectorizer",
    "NoSignalWarning",
    "ParametricTSNE",
    "SupervisedEmbeddingTransformer",
    "TokenEmbeddingTransformer",
    "TokenSequencer",
    "__version__",
    "config_context",
    "export_html",
    "find_label_issues",
    "get_config",
    "make_tsne_pipeline",
    "plot_embedding",
    "plot_history",
    "plot_reconstructions",
    "release_cached_models",
    "set_config",
]
