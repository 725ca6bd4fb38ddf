"""
Out-of-fold embeddings do not leak labels
=========================================

A network trained on labels can memorise them. If its embeddings of the *training*
rows are then fed to a second model, that model learns from the memorised labels
rather than from anything in the data, and its cross-validated score is an illusion.

:meth:`~ae_reduce.SupervisedEmbeddingTransformer.fit_transform` therefore cross-fits:
with ``cv=5`` each row is embedded by a network trained on the other four fifths of the
rows, one that never saw its label (as :class:`~sklearn.preprocessing.TargetEncoder`
does for categories). ``fit(X, y).transform(X)`` embeds every row with the network
fitted on all of them.

The labels below are random: nothing about ``X`` predicts them, so any downstream
accuracy above one half is leakage.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from ae_reduce import SupervisedEmbeddingTransformer

rng = np.random.RandomState(0)
X = rng.normal(size=(300, 20))
y = rng.randint(0, 2, size=300)

# %%
# One estimator, two kinds of embedding
# -------------------------------------
# A wide network, trained long enough to memorise 300 random labels.
embedder = SupervisedEmbeddingTransformer(
    n_components=8,
    hidden_layer_sizes=(128,),
    epochs=80,
    early_stopping=False,
    validation_split=0.0,
    learning_rate=0.01,
    cv=5,
    random_state=0,
)
out_of_fold = embedder.fit_transform(X, y)  # five networks, each row held out once
in_sample = embedder.transform(X)  # the network fitted on every row

# %%
# A downstream classifier on each
# -------------------------------
downstream = LogisticRegression()
scores = {
    "in-sample\n(fit, then transform)": cross_val_score(downstream, in_sample, y, cv=5),
    "out-of-fold\n(fit_transform, cv=5)": cross_val_score(downstream, out_of_fold, y, cv=5),
}
for name, score in scores.items():
    print(f"{name.splitlines()[0]:<12} accuracy {score.mean():.3f} +/- {score.std():.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.bar(list(scores), [s.mean() for s in scores.values()], yerr=[s.std() for s in scores.values()])
ax.axhline(0.5, color="black", linestyle="--", linewidth=1, label="chance")
ax.set_ylim(0, 1)
ax.set_ylabel("downstream accuracy on random labels")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# The in-sample embedding makes random labels look learnable; the out-of-fold one
# correctly shows chance. Pipelines get this right on their own: fitting a pipeline
# calls ``fit_transform`` (out-of-fold), predicting calls ``transform``.
#
# The price: the five fold networks each have their own embedding space, not aligned
# with one another or with the final network's, so the out-of-fold features are noisier
# than what ``transform`` later gives. For nearest-neighbour search or clustering, where
# training rows and queries must share one space, use ``cv=None``.
