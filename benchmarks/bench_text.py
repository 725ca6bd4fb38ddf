"""Text features: MeanWordVectorVectorizer's throughput, TokenEmbeddingTransformer's accuracy.

The corpus is :func:`datasets.topic_corpus` (documents of 10 to 120 invented words
about one of 8 topics, with capitals and punctuation) and the vectors are
:func:`datasets.topic_word_vectors` (10% of the corpus's words have none), padded with
filler words to a vocabulary of ``--vocabulary`` words so that lookups hit a table of
a pretrained file's size. :func:`bench_vectorizer` reports, in documents per second:

- ``MeanWordVectorVectorizer.transform`` (fitted, vectors loaded), plain mean and
  ``weighting="tfidf"``;
- a plain Python loop, as written by hand: scikit-learn's token pattern on the
  lowercased document, a dict lookup per word, ``numpy.mean`` of the vectors found
  (zeros when none); its output must equal the vectorizer's;
- scikit-learn's ``TfidfVectorizer.transform`` (fitted on the same documents), the
  usual sparse features of the same corpus;

with the ratios of the vectorizer to the other two, and the seconds that reading the
same vectors from a GloVe text file (plain and gzip) takes. Timings alternate the
order of the methods over ``--rounds`` rounds and report medians; ratios are medians
of each round's ratio. For reference it also prints the held-out accuracy of a
logistic regression on each kind of features.

:func:`bench_token_network` then trains ``TokenSequencer`` and
``TokenEmbeddingTransformer`` on the same corpus and compares their held-out accuracy
and fit seconds with TF-IDF and ``LogisticRegression`` on the same split.

Run ``python benchmarks/bench_text.py`` (about 7 minutes on 2 cores); ``--quick``
is a smoke run whose figures mean nothing.
"""

import argparse
import gc
import gzip
import os
import re
import statistics
import tempfile
import time

import numpy as np
from datasets import topic_corpus, topic_word_vectors
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_reduce import MeanWordVectorVectorizer


def padded_vectors(dim, vocabulary, random_state=0):
    """The topic vectors plus filler words up to `vocabulary` words, as (words, matrix)."""
    table = topic_word_vectors(dim, random_state=random_state)
    words = list(table)
    rng = np.random.default_rng(random_state)
    n_filler = max(vocabulary - len(words), 0)
    words += [f"filler{i}" for i in range(n_filler)]
    matrix = np.vstack(
        [np.stack(list(table.values())), rng.normal(size=(n_filler, dim)).astype(np.float32)]
    )
    return words, matrix.astype(np.float32)


def python_loop(documents, table, dim):
    """Mean word vectors the way they are written by hand, for comparison."""
    pattern = re.compile(CountVectorizer().token_pattern)
    out = np.zeros((len(documents), dim), dtype=np.float32)
    for row, document in enumerate(documents):
        found = [table[word] for word in pattern.findall(document.lower()) if word in table]
        if found:
            out[row] = np.mean(found, axis=0)
    return out


def _seconds(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _write_glove(path, words, matrix, compress):
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for word, row in zip(words, matrix, strict=True):
            handle.write(word + " " + " ".join(f"{value:.5f}" for value in row) + "\n")


def file_loading(words, matrix, n_rounds):
    """Median seconds to read the vectors from a GloVe file, plain and gzip-compressed."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for compress in (False, True):
            path = os.path.join(folder, "vectors.txt" + (".gz" if compress else ""))
            _write_glove(path, words, matrix, compress)
            times = []
            for _ in range(n_rounds):
                gc.collect()  # frees the vectors of the previous round, so the file is read
                vectorizer = MeanWordVectorVectorizer(path)
                times.append(_seconds(lambda v=vectorizer: v.fit(["x"]))[0])
                del vectorizer
            size = os.path.getsize(path) / 1e6
            results["gzip" if compress else "plain"] = (statistics.median(times), size)
    return results


def bench_vectorizer(n_documents=20_000, *, dim=50, vocabulary=100_000, n_rounds=5, seed=0):
    """Print documents per second of the vectorizer, the Python loop and TF-IDF."""
    texts, topics = topic_corpus(n_documents, random_state=seed)
    words, matrix = padded_vectors(dim, vocabulary, random_state=seed)
    table = dict(zip(words, matrix, strict=True))
    tokens = sum(len(CountVectorizer().build_analyzer()(text)) for text in texts)
    print(
        f"\n## Vectorizer: {n_documents:,} documents ({tokens / n_documents:.0f} tokens each "
        f"on average), {len(words):,} words x {dim} values"
    )

    ours = MeanWordVectorVectorizer((words, matrix)).fit(texts)
    weighted = MeanWordVectorVectorizer((words, matrix), weighting="tfidf").fit(texts)
    tfidf = TfidfVectorizer().fit(texts)
    methods = {
        "MeanWordVectorVectorizer": lambda: ours.transform(texts),
        'MeanWordVectorVectorizer(weighting="tfidf")': lambda: weighted.transform(texts),
        "Python loop (dict, numpy.mean)": lambda: python_loop(texts, table, dim),
        "TfidfVectorizer": lambda: tfidf.transform(texts),
    }
    difference = np.abs(methods["Python loop (dict, numpy.mean)"]() - ours.transform(texts)).max()
    print(f"largest difference between the loop's output and the vectorizer's: {difference:.1e}")

    times = {name: [] for name in methods}
    names = list(methods)
    for round_number in range(n_rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_seconds(methods[name])[0])

    def ratio(name, other):
        return statistics.median(
            other_time / own_time
            for own_time, other_time in zip(times[name], times[other], strict=True)
        )

    print(f"\n| Method | documents/s (median of {n_rounds}) | vectorizer speed / this |")
    print("|---|---|---|")
    for name in names:
        speed = n_documents / statistics.median(times[name])
        relative = ratio("MeanWordVectorVectorizer", name)
        print(f"| {name} | {speed:,.0f} | {relative:.2f} |")

    loading = file_loading(words, matrix, n_rounds=max(1, n_rounds // 2))
    for kind, (seconds, size) in loading.items():
        print(
            f"reading the vectors from a {kind} GloVe file ({size:.0f} MB): {seconds:.2f} s "
            f"({len(words) / seconds:,.0f} words/s)"
        )

    train, test = train_test_split(np.arange(n_documents), test_size=0.25, random_state=seed)
    texts_array = np.array(texts, dtype=object)
    features = {
        "mean word vectors": MeanWordVectorVectorizer((words, matrix)),
        "tfidf-weighted mean word vectors": MeanWordVectorVectorizer(
            (words, matrix), weighting="tfidf"
        ),
        "TF-IDF (sparse)": TfidfVectorizer(),
    }
    print("\n| Features + LogisticRegression | held-out accuracy |")
    print("|---|---|")
    for name, vectorizer in features.items():
        steps = [vectorizer] if name.startswith("TF-IDF") else [vectorizer, StandardScaler()]
        model = make_pipeline(*steps, LogisticRegression(max_iter=1000))
        model.fit(texts_array[train], topics[train])
        print(f"| {name} | {model.score(texts_array[test], topics[test]):.3f} |")


def _token_pipeline(**params):
    from ae_reduce import TokenEmbeddingTransformer, TokenSequencer

    return make_pipeline(TokenSequencer(), TokenEmbeddingTransformer(**params))


def bench_token_network(n_documents=20_000, *, n_seeds=3, cross_fitted=True, seed=0):
    """Print held-out accuracy and fit seconds of TokenEmbeddingTransformer and TF-IDF.

    Same corpus, same split (the vectorizer part's) and same process for every model:
    TF-IDF + LogisticRegression; TokenSequencer + TokenEmbeddingTransformer predicting
    with its own head (default settings, max pooling, and a hidden layer of 64 units;
    ``n_seeds`` values of ``random_state`` each); and, with ``cross_fitted``,
    LogisticRegression on the transformer's cross-fitted embedding (``cv=5``: six
    networks per fit).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    texts, topics = topic_corpus(n_documents, random_state=seed)
    texts = np.array(texts, dtype=object)
    train, test = train_test_split(np.arange(n_documents), test_size=0.25, random_state=seed)
    print(
        f"\n## TokenEmbeddingTransformer: {len(train):,} training and {len(test):,} "
        "held-out documents"
    )
    # TensorFlow's first graph build costs seconds that no later fit pays.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _token_pipeline(epochs=2, cv=None, random_state=seed).fit(texts[:200], topics[:200])

    rows = []

    def measure(name, model, random_state=None):
        seconds, _ = _seconds(lambda: model.fit(texts[train], topics[train]))
        accuracy = model.score(texts[test], topics[test])
        epochs = [step.n_epochs_ for _, step in model.steps if hasattr(step, "n_epochs_")]
        rows.append((name, random_state, accuracy, seconds, epochs[0] if epochs else "-"))
        print(f"{name} (random_state={random_state}): {accuracy:.3f} in {seconds:.1f} s")

    measure(
        "TF-IDF + LogisticRegression",
        make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)),
    )
    variants = {
        "TokenEmbeddingTransformer(), its head": {},
        'TokenEmbeddingTransformer(pooling="max"), its head': {"pooling": "max"},
        "TokenEmbeddingTransformer(hidden_layer_sizes=(64,)), its head": {
            "hidden_layer_sizes": (64,)
        },
    }
    for random_state in range(n_seeds):
        for name, params in variants.items():
            measure(
                name, _token_pipeline(**params, cv=None, random_state=random_state), random_state
            )
    if cross_fitted:
        from ae_reduce import TokenEmbeddingTransformer, TokenSequencer

        model = make_pipeline(
            TokenSequencer(),
            TokenEmbeddingTransformer(random_state=0),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        )
        measure("cross-fitted embedding (cv=5) + LogisticRegression", model, 0)

    print("\n| Model | held-out accuracy | fit seconds | epochs |")
    print("|---|---|---|---|")
    for name in dict.fromkeys(row[0] for row in rows):
        own = [row for row in rows if row[0] == name]
        accuracies = [row[2] for row in own]
        spread = f" ({min(accuracies):.3f} to {max(accuracies):.3f})" if len(own) > 1 else ""
        seconds = statistics.median(row[3] for row in own)
        epochs = " ".join(str(row[4]) for row in own)
        print(f"| {name} | {statistics.mean(accuracies):.3f}{spread} | {seconds:.1f} | {epochs} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=20_000, help="corpus size")
    parser.add_argument("--dim", type=int, nargs="+", default=[50, 300], help="vector sizes")
    parser.add_argument(
        "--vocabulary", type=int, default=100_000, help="words with a vector, filler included"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (medians)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run on small data; figures mean nothing"
    )
    args = parser.parse_args()
    if args.quick:
        print("--quick: small data and one round, the figures mean nothing")
        args.documents, args.dim, args.vocabulary, args.rounds = 1_000, [20], 10_000, 1
    for dim in args.dim:
        bench_vectorizer(args.documents, dim=dim, vocabulary=args.vocabulary, n_rounds=args.rounds)
    bench_token_network(args.documents, n_seeds=1 if args.quick else 3, cross_fitted=not args.quick)


if __name__ == "__main__":
    main()
