"""
Text: averaged word vectors and a network over token ids
========================================================

Two ways to turn documents into features for scikit-learn, compared with TF-IDF and
logistic regression on a generated corpus:

* :class:`~ae_reduce.MeanWordVectorVectorizer` averages pretrained word vectors (GloVe,
  word2vec) over each document's words: transfer learning without training anything;
* :class:`~ae_reduce.TokenSequencer` turns texts into rows of token ids padded with
  zeros, and :class:`~ae_reduce.TokenEmbeddingTransformer` trains a network over them
  (token embeddings, pooling over the real tokens, dense layers) whose embedding layer
  then serves as features, like :class:`~ae_reduce.SupervisedEmbeddingTransformer`
  does for tables.

Nothing is downloaded: the corpus is invented here, and so is the file of "pretrained"
vectors, in GloVe's text format.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from ae_reduce import (
    TSNE,
    MeanWordVectorVectorizer,
    TokenEmbeddingTransformer,
    TokenSequencer,
    plot_embedding,
)

# %%
# A corpus and its word vectors
# -----------------------------
# Four topics. Each document mixes common words shared by all topics with words of its
# own topic. The word vectors of a topic's words point in a direction of their own, as
# pretrained vectors put related words near each other.
rng = np.random.default_rng(0)
syllables = "ba de ki lo mu na pe ri so tu va ze".split()
vocabulary = sorted({"".join(rng.choice(syllables, 3)) for _ in range(900)})
rng.shuffle(vocabulary)
common, topic_words = vocabulary[:300], np.array_split(vocabulary[300:700], 4)
topics = rng.integers(0, 4, 1200)
texts = []
for topic in topics:
    length = rng.integers(8, 40)
    words = np.where(
        rng.random(length) < 0.15,
        rng.choice(topic_words[topic], length),
        rng.choice(common, length),
    )
    texts.append(" ".join(words).capitalize() + ".")
print(texts[0])

directions = rng.normal(size=(4, 25))
path = Path(tempfile.gettempdir()) / "invented_vectors.txt"
with open(path, "w", encoding="utf-8") as handle:
    for word in vocabulary:
        topic = next((t for t, members in enumerate(topic_words) if word in members), None)
        vector = rng.normal(scale=0.7, size=25)
        if topic is not None:
            vector += directions[topic]
        handle.write(word + " " + " ".join(f"{value:.4f}" for value in vector) + "\n")

train_texts, test_texts, y_train, y_test = train_test_split(
    texts, topics, test_size=0.3, random_state=0, stratify=topics
)

# %%
# Averaged word vectors
# ---------------------
# The vectorizer reads the file when it is fitted, splits each document into words
# with scikit-learn's token pattern, lowercases them and averages the vectors of the
# words it knows. A pickle of it holds the file's path, not the vectors.
averaged = make_pipeline(MeanWordVectorVectorizer(path), LogisticRegression(max_iter=1000))
averaged.fit(train_texts, y_train)
tfidf = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
tfidf.fit(train_texts, y_train)
print(f"averaged word vectors + logistic regression: {averaged.score(test_texts, y_test):.3f}")
print(f"TF-IDF + logistic regression:                {tfidf.score(test_texts, y_test):.3f}")

# %%
# A network over token ids
# ------------------------
# The sequencer learns a vocabulary (0 is padding, 1 an unknown word) and pads every
# document to the same length. The network's token embeddings are trained with the
# classifier; padding embeds to zeros and is left out of the pooling, so a document's
# embedding does not depend on how much padding follows it.
network = make_pipeline(
    TokenSequencer(),
    TokenEmbeddingTransformer(n_components=8, epochs=40, random_state=0),
)
network.fit(train_texts, y_train)
print(f"token network:                               {network.score(test_texts, y_test):.3f}")

# %%
# The network's embedding as a map
# --------------------------------
# ``transform`` returns the embedding layer's output. A t-SNE map of the test
# documents' embeddings shows the topics apart.
Z = TSNE(random_state=0).fit_transform(network.transform(test_texts))
fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
plot_embedding(Z, y_test, ax=ax, title="Test documents, by topic")
plt.show()
