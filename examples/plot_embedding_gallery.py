"""
==================================
Pictures and a map of an embedding
==================================

An autoencoder squeezes the 64 pixels of the handwritten digits into two numbers.
This example draws what it learned: the training curve, the two-dimensional
embedding, a few reconstructions, and an interactive map that shows where a
classifier disagrees with the labels.
"""

# %%
# Fit a small autoencoder
# -----------------------
# Pixel values are scaled to [0, 1]; a short training run is enough for a picture.
from sklearn.datasets import load_digits

from ae_reduce import KerasAutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X / 16.0
autoencoder = KerasAutoencoderTransformer(
    n_components=2, hidden_layer_sizes=(64,), epochs=30, batch_size=64, random_state=0
)
Z = autoencoder.fit_transform(X)

# %%
# The training curve
# ------------------
# The star marks the epoch whose weights the estimator kept.
from ae_reduce import plot_history

plot_history(autoencoder, title="Reconstruction loss")

# %%
# The embedding
# -------------
# Each digit class gets its own colour; point size and opacity follow the number of
# points.
from ae_reduce import plot_embedding

plot_embedding(Z, y, title="Digits, encoded in two dimensions")

# %%
# Reconstructions
# ---------------
# Two numbers per image keep the overall shape of a digit and lose the details.
from ae_reduce import plot_reconstructions

plot_reconstructions(autoencoder, X, image_shape=(8, 8), n_images=8)

# %%
# An interactive map
# ------------------
# A nearest-neighbour classifier on the pixels predicts each digit out of sample. In
# the page, choose "agreement" to see in red where it disagrees with the label: the
# places to look for ambiguous or mislabelled images. Open the file in a browser; it
# needs no network access.
import tempfile
from pathlib import Path

from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from ae_reduce import export_html

predictions = cross_val_predict(KNeighborsClassifier(), X, y, cv=3)
hover = [
    f"image {i}: label {label}, predicted {guess}"
    for i, (label, guess) in enumerate(zip(y, predictions, strict=True))
]
path = export_html(
    Z,
    Path(tempfile.gettempdir()) / "digits_map.html",
    labels=y,
    predictions=predictions,
    hover=hover,
    title="Digits",
)
print(f"{(predictions != y).sum()} disagreements; map written to {path}")
