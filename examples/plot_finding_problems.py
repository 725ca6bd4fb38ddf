"""
Finding problems in a dataset: wrong labels and outliers on a map
=================================================================

A labelled dataset rarely comes clean: some rows carry the wrong label, and some are
not what the rest are at all. This example damages scikit-learn's digits on purpose,
by flipping 5% of the labels and planting 30 images that are not proper digits, then finds
both kinds of problem and shows them on a map:

* :func:`~ae_reduce.find_label_issues` flags the rows whose label a cross-fitted
  classifier confidently disagrees with;
* an autoencoder's reconstruction error
  (:meth:`~ae_reduce.KerasAutoencoderTransformer.score_samples`) and the distance to
  the nearest rows in its code (:meth:`~ae_reduce.EmbeddingIndex.score_samples`) rank
  the rows by how unusual they are, compared here with
  :class:`~sklearn.ensemble.IsolationForest` on the raw pixels;
* a t-SNE map shows where the suspects sit, and :func:`~ae_reduce.export_html` writes
  it as a page with the flagged rows ringed, each row's image on hover and a search box.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_reduce import (
    TSNE,
    EmbeddingIndex,
    KerasAutoencoderTransformer,
    export_html,
    find_label_issues,
    plot_embedding,
)

# %%
# Damage the digits
# -----------------
# 90 labels (5%) move to another class at random. 30 rows that are not proper digits
# join the data with a random label: 15 digits turned on their side and 15 blends of
# two digits.
X, y_true = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
flipped = rng.choice(len(X), 90, replace=False)
y = y_true.copy()
y[flipped] = (y[flipped] + rng.integers(1, 10, len(flipped))) % 10

# Digits turned on their side (transposed) and blends of two digits: images with
# the digits' ink and strokes, so no single pixel gives them away.
turned = X[rng.choice(len(X), 15, replace=False)].reshape(-1, 8, 8).transpose(0, 2, 1)
pairs = rng.choice(len(X), size=(15, 2), replace=False)
blends = (X[pairs[:, 0]] + X[pairs[:, 1]]) / 2
X = np.vstack([X, turned.reshape(-1, 64), blends])
y = np.r_[y, rng.integers(0, 10, 30)]
is_flipped = np.isin(np.arange(len(X)), flipped)
is_outlier = np.r_[np.zeros(len(y_true), dtype=bool), np.ones(30, dtype=bool)]

# %%
# Rows with a wrong label
# -----------------------
# Every row gets class probabilities from a network trained on the other four folds,
# so no network saw the row's own label. How many rows are mislabelled is estimated
# from how often each class's rows look confidently like another class; that many
# rows, least consistent with their label first, are returned.
issues, label_quality = find_label_issues(X, y, random_state=0, return_scores=True)
found = is_flipped[issues]
print(
    f"{len(issues)} rows flagged: {found.sum()} of the {is_flipped.sum()} flipped labels "
    f"(precision {found.mean():.2f}, recall {found.sum() / is_flipped.sum():.2f}); "
    f"{is_outlier[issues].sum()} of the flagged rows are planted outliers"
)

# %%
# Unusual rows
# ------------
# An autoencoder trained on all rows reconstructs the typical ones well; its
# ``score_samples`` is minus the reconstruction error, low for unusual rows. The
# distance to the 10 nearest rows in the autoencoder's 16-dimensional code is a second
# outlier score: :class:`~ae_reduce.EmbeddingIndex` indexes the code and
# ``score_samples`` is minus that mean distance.
autoencoder = make_pipeline(
    StandardScaler(), KerasAutoencoderTransformer(n_components=16, random_state=0)
).fit(X)
reconstruction = autoencoder.score_samples(X)
index = EmbeddingIndex(autoencoder, n_neighbors=10).fit(X)
neighbours = index.score_samples()
forest = IsolationForest(random_state=0).fit(X).score_samples(X)
for name, score in [
    ("autoencoder reconstruction error", reconstruction),
    ("distance to 10 neighbours in the code", neighbours),
    ("IsolationForest on the pixels", forest),
]:
    # Scores are high for normal rows, so outliers are found by their negative.
    print(f"ROC AUC of {name}: {roc_auc_score(is_outlier, -score):.3f}")

# %%
# The blends and turned digits are made of digit strokes, which the autoencoder
# rebuilds almost as well as real digits, so their reconstruction error barely stands
# out, nor do their pixels for the forest. In the autoencoder's code, though, they sit
# away from every real digit, which the distance to their neighbours shows.

# %%
# Similar rows
# ------------
# The same index answers "which rows look like this one?", the first thing to ask of
# a suspect. Here are the nearest rows to the most suspicious label.
suspect = issues[0]
distances, neighbours_of_suspect = index.kneighbors(X[[suspect]], n_neighbors=6)
print(
    f"row {suspect} is labelled {y[suspect]}; its nearest rows are labelled "
    f"{y[neighbours_of_suspect[0, 1:]].tolist()}"
)

# %%
# The map
# -------
# t-SNE on the autoencoder's code. Flagged labels are ringed in red, and the 30 rows
# farthest from their neighbours in the code marked with black triangles: the flipped
# digits sit inside the cluster of their true class, and most planted images lie
# between the clusters.
code = autoencoder.transform(X)
Z = TSNE(random_state=0).fit_transform(code)
unusual = np.argsort(neighbours)[:30]
fig, ax = plt.subplots(figsize=(8, 7), layout="constrained")
plot_embedding(Z, y, ax=ax, title="Digits with damaged labels and planted images")
ax.scatter(*Z[issues].T, s=60, facecolors="none", edgecolors="red", linewidths=1.2)
ax.scatter(*Z[unusual].T, s=40, marker="^", color="black")
plt.show()

# %%
# The same map as a page
# ----------------------
# The page rings the flagged rows in every colouring, shows each row's image when the
# pointer rests on it, can colour the rows by their label-quality or outlier score,
# and finds a row by its id in the search box. Box or lasso selection downloads the
# ids of the rows selected, for a closer look elsewhere.
path = export_html(
    Z,
    Path(tempfile.gettempdir()) / "digits_problems.html",
    labels=y,
    ids=[f"digit-{i}" for i in range(len(X))],
    issues=issues,
    images=X.reshape(-1, 8, 8),
    columns={"label quality": label_quality, "neighbour distance": -neighbours},
    title="Digits: suspect labels and unusual rows",
)
print(f"Open {path.name} in a browser.")
