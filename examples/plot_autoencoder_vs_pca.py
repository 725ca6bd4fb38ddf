"""
Replacing PCA with an autoencoder
=================================

An S-curve is a two-dimensional sheet rolled up in space. Lifted nonlinearly into 64
dimensions, no two linear components can describe it, while a two-unit autoencoder code
can. This example swaps :class:`~sklearn.decomposition.PCA` for
:class:`~ae_reduce.KerasAutoencoderTransformer`, with its default parameters, in the
same pipeline and compares the reconstruction error on held-out rows. The autoencoder
starts as this very PCA (``init="pca"``) and trains from there.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_s_curve
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_reduce import KerasAutoencoderTransformer

points, position = make_s_curve(3000, noise=0.02, random_state=0)
lift = np.random.RandomState(0).normal(size=(3, 64))
X = np.tanh(points @ lift / 2)
X_train, X_test, _, position_test = train_test_split(X, position, random_state=0)

# %%
# The same pipeline, two reducers
# -------------------------------
# The error is measured in the scaled space, where both models work.

reducers = {
    "PCA": PCA(n_components=2),
    "autoencoder": KerasAutoencoderTransformer(n_components=2, random_state=0),
}
codes, errors = {}, {}
for name, reducer in reducers.items():
    pipeline = make_pipeline(StandardScaler(), reducer).fit(X_train)
    scaled = pipeline[0].transform(X_test)
    codes[name] = reducer.transform(scaled)
    errors[name] = np.mean((scaled - reducer.inverse_transform(codes[name])) ** 2)
    print(f"{name:12s} test reconstruction error {errors[name]:.4f}")
print(f"autoencoder / PCA: {errors['autoencoder'] / errors['PCA']:.3f}")

# %%
# The codes, coloured by the position along the curve
# ---------------------------------------------------
# PCA folds the sheet onto itself; the autoencoder unrolls it.

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, code) in zip(axes, codes.items(), strict=True):
    ax.scatter(code[:, 0], code[:, 1], c=position_test, s=4, cmap="viridis")
    ax.set_title(f"{name} (error {errors[name]:.3f})")
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.show()
