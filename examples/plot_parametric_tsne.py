"""
Parametric t-SNE: stream new rows onto a map
============================================

:class:`~ae_reduce.ParametricTSNE` trains a network with t-SNE's objective, so the
network *is* the map: once it is fitted, a new row is placed by one forward pass,
without the training rows and without any optimisation. This example draws a map of
1,000 digits, then streams the remaining digits onto it in small batches, as rows
arriving from a live source would be, and measures how many rows per second it places.
:class:`~ae_reduce.TSNE` places the same rows by optimising each one against its
nearest training rows; its speed is measured for comparison.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from ae_reduce import TSNE, ParametricTSNE, plot_embedding

X, y = load_digits(return_X_y=True)
order = np.random.RandomState(0).permutation(len(X))
X, y = X[order], y[order]
n_map = 1000
scaler = StandardScaler().fit(X[:n_map])
X_map, y_map = scaler.transform(X[:n_map]), y[:n_map]
X_stream, y_stream = scaler.transform(X[n_map:]), y[n_map:]

# %%
# Draw the map
# ------------
# A budget of 600 iterations keeps this example short; the digits' clusters form
# within it. (By default the budget follows the number of rows: 1,000 rows get 750
# iterations after 187 exaggerated ones.) ``fit_transform`` returns the network's
# output for the map's rows, exactly what ``transform`` gives for them.
parametric = ParametricTSNE(early_exaggeration_iter=150, n_iter=450, random_state=0)
start = time.perf_counter()
Z_map = parametric.fit_transform(X_map)
print(f"ParametricTSNE fit on {n_map} rows: {time.perf_counter() - start:.1f} s")

# %%
# Stream the other rows onto it
# -----------------------------
# Batches of 100 rows, placed as they come. A row's position does not depend on the
# batch it arrives in. The first call builds TensorFlow's graph, so it is made once
# before the clock starts.
parametric.transform(X_stream[:1])
batches = np.array_split(X_stream, np.ceil(len(X_stream) / 100))
start = time.perf_counter()
Z_stream = np.vstack([parametric.transform(batch) for batch in batches])
parametric_rate = len(X_stream) / (time.perf_counter() - start)
print(f"ParametricTSNE placed {len(X_stream)} rows at {parametric_rate:,.0f} rows/s")

# %%
# The same rows placed by openTSNE's map
# --------------------------------------
# :class:`~ae_reduce.TSNE` keeps its training rows and optimises each new row's
# position against its neighbours among them: often a little more faithful on small
# data, and far slower per row.
tsne = TSNE(random_state=0)
tsne_map = tsne.fit_transform(X_map)
start = time.perf_counter()
tsne_stream = tsne.transform(X_stream)
tsne_rate = len(X_stream) / (time.perf_counter() - start)
print(f"TSNE placed {len(X_stream)} rows at {tsne_rate:,.0f} rows/s")
print(f"ParametricTSNE placed them {parametric_rate / tsne_rate:.0f}x faster")

# %%
# How well the streamed rows landed
# ---------------------------------
# A nearest-neighbour classifier fitted on each map's rows says how often a streamed
# digit landed among its own kind. Crosses mark the streamed rows, dots the map's.
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), layout="constrained")
placed = np.r_[np.zeros(n_map, dtype=bool), np.ones(len(X_stream), dtype=bool)]
labels = np.r_[y_map, y_stream]
for ax, name, on_map, streamed in [
    (axes[0], "ParametricTSNE", Z_map, Z_stream),
    (axes[1], "TSNE", tsne_map, tsne_stream),
]:
    knn = KNeighborsClassifier(n_neighbors=10).fit(on_map, y_map)
    accuracy = knn.score(streamed, y_stream)
    print(f"{name:15s} streamed digits among their own kind: {accuracy:.1%}")
    plot_embedding(np.vstack([on_map, streamed]), labels, placed=placed, ax=ax)
    ax.set_title(f"{name}: {accuracy:.0%} of streamed digits among their own")
plt.show()
