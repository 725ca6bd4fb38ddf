"""Neural dimensionality reduction for scikit-learn, built on Keras 3.

Importing this package does not import TensorFlow; fitting an estimator does.
"""

from ._autoencoder import KerasAutoencoderTransformer

__version__ = "0.1.0"

__all__ = ["KerasAutoencoderTransformer", "__version__"]
