"""
t-SNE maps in a pipeline, with PCA or an autoencoder in front
=============================================================

t-SNE draws a map in which each row's nearest neighbours stay near it. This example
builds the usual chain, scaler, reducer, t-SNE, with
:func:`~ae_reduce.make_tsne_pipeline`, once with PCA and once with an autoencoder in
front, on three quarters of the digits. The remaining quarter is then placed on each
map with ``transform``, as new data would be, and a nearest-neighbour classifier on
the map tells how well the new digits landed among their own kind.
"""

import pickle

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from ae_reduce import make_tsne_pipeline, plot_embedding

X, y = load_digits(return_X_y=True)
X_train, X_new, y_train, y_new = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

# %%
# Two pipelines
# -------------
# ``shape`` lets the helper size its defaults (code width, batch size, perplexity)
# to the data. Light noise on the input makes the autoencoder a denoising one. It is
# in the units of the scaled pixels, [0, 1]: noise of 0.5 left every epoch worse than
# the PCA start, so the fit kept PCA's code, while 0.05 improves on it.
pipelines = {
    "PCA-50": make_tsne_pipeline("pca", shape=X_train.shape, random_state=0),
    "autoencoder-32": make_tsne_pipeline(
        "autoencoder",
        shape=X_train.shape,
        random_state=0,
        reducer_params={"epochs": 60, "noise_stddev": 0.05},
    ),
}
print(pipelines["autoencoder-32"])

# %%
# Draw the maps, then place the new rows
# --------------------------------------
# ``fit_transform`` optimises the map of the training rows; ``transform`` places each
# new row among its nearest training rows without moving the map.
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), layout="constrained")
for ax, (name, pipeline) in zip(axes, pipelines.items(), strict=True):
    Z_train = pipeline.fit_transform(X_train)
    Z_new = pipeline.transform(X_new)
    accuracy = KNeighborsClassifier(n_neighbors=10).fit(Z_train, y_train).score(Z_new, y_new)
    trust = trustworthiness(X_train, Z_train, n_neighbors=10)
    print(f"{name:15s} new digits classified by the map: {accuracy:.1%}, trust {trust:.3f}")
    plot_embedding(Z_train, y_train, ax=ax, alpha=0.25, legend=False)
    ax.scatter(*Z_new.T, c="black", s=6, marker="x", linewidths=0.6, label="new rows")
    ax.set_title(f"{name}: {accuracy:.0%} of new digits among their own")
    ax.legend(loc="lower right")

# %%
# The fitted pipeline pickles
# ---------------------------
# The map, its neighbour index and the network's weights travel in the pickle, so a
# restored pipeline places new rows exactly where the original does.
pipeline = pipelines["autoencoder-32"]
restored = pickle.loads(pickle.dumps(pipeline))
same = np.allclose(restored.transform(X_new[:20]), pipeline.transform(X_new[:20]))
print(f"restored pipeline places rows identically: {same}")
plt.show()
