"""Neural dimensionality reduction for scikit-learn, built on Keras 3.

Importing this package does not import TensorFlow; fitting an estimator does.
"""

from ._autoencoder import KerasAutoencoderTransformer
from ._html import export_html
from ._index import EmbeddingIndex
from ._label_issues import NoSignalWarning, find_label_issues
from ._memory import release_cached_models
from ._parametric import ParametricTSNE
from ._scaling import AutoScaler
from ._sequencer import TokenSequencer
from ._supervised import SupervisedEmbeddingTransformer
from ._tokens import TokenEmbeddingTransformer
from ._tsne import TSNE, make_tsne_pipeline
from ._word_vectors import MeanWordVectorVectorizer
from .plotting import plot_embedding, plot_history, plot_reconstructions

__version__ = "0.2.0.dev0"

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
    "export_html",
    "find_label_issues",
    "make_tsne_pipeline",
    "plot_embedding",
    "plot_history",
    "plot_reconstructions",
    "release_cached_models",
]
