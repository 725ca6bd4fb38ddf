"""EmbeddingIndex: exact against approximate (faiss HNSW) search on 200,000 embedded rows.

The data stand in for an embedding: a Gaussian mixture in 32 dimensions of 200
components with centres drawn from N(0, I), each component a randomly rotated
ellipsoid whose axes fall off as ``i ** -0.7`` and whose size varies 4-fold between
components. 200,000 rows are indexed and 10,000 more drawn from the same mixture are
the queries. The script reports

- the build time (``fit``) of each backend;
- the queries answered per second by the exact backend, by scikit-learn's
  ``NearestNeighbors`` (which the exact backend is: the two must agree) and by the
  approximate backend, and the ratio approximate / exact;
- recall@10 of the approximate backend: the share of the exact 10 nearest neighbours
  that it returns;
- whether the exact backend's neighbours equal ``NearestNeighbors``'s;

and checks them against the goal: recall@10 >= 0.95 at >= 5x the speed of exact
search. Timings alternate the order of the backends over ``--rounds`` rounds and
report medians.

``--crossover`` also times ``fit`` plus ``kneighbors()`` over all indexed rows (each
row's neighbours, as ``score_samples()`` needs them) for both backends at several
sizes: where the approximate backend starts to pay, which sets ``backend="auto"``'s
threshold. ``--sweep`` prints recall and speed of other HNSW settings, from which the
defaults were chosen.

Run ``python benchmarks/bench_index.py`` (about 3 minutes on 2 cores; ``--crossover``
and ``--sweep`` add about 2 each); ``--quick`` is a smoke run on 20,000 rows whose
figures mean nothing. Needs the ``ann`` extra (faiss-cpu).
"""

import argparse
import statistics
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ae_reduce import EmbeddingIndex
from ae_reduce._neighbors import index as index_module

GOAL_RECALL = 0.95
GOAL_SPEEDUP = 5.0
N_NEIGHBORS = 10


def embedding_like(n_samples, n_features=32, n_components=200, random_state=0):
    """Rows of the Gaussian mixture described above, float32."""
    rng = np.random.default_rng(random_state)
    centres = rng.normal(size=(n_components, n_features))
    axes = np.arange(1, n_features + 1) ** -0.7
    sizes = rng.uniform(0.5, 2.0, size=n_components)
    labels = rng.integers(0, n_components, size=n_samples)
    shapes = rng.normal(size=(n_samples, n_features)) * axes * sizes[labels, np.newaxis]
    X = np.empty((n_samples, n_features), dtype=np.float32)
    for component in range(n_components):
        rotation = np.linalg.qr(rng.normal(size=(n_features, n_features)))[0]
        rows = labels == component
        X[rows] = shapes[rows] @ rotation.T + centres[component]
    return X


def recall(found, true):
    """Mean share of each row's true neighbours among those found."""
    hits = (found[:, :, np.newaxis] == true[:, np.newaxis, :]).any(axis=2)
    return float(hits.mean())


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def compare(X, queries, rounds):
    """Build and query both backends and NearestNeighbors, alternating their order."""
    sides = ("exact", "approximate", "NearestNeighbors")
    build = {side: [] for side in sides}
    query = {side: [] for side in sides}
    found = {}
    for round_ in range(rounds):
        order = sides if round_ % 2 == 0 else sides[::-1]
        for side in order:
            if side == "NearestNeighbors":
                model, seconds = timed(lambda: NearestNeighbors(n_neighbors=N_NEIGHBORS).fit(X))
            else:
                model, seconds = timed(lambda side=side: EmbeddingIndex(backend=side).fit(X))
            build[side].append(seconds)
            result, seconds = timed(lambda model=model: model.kneighbors(queries))
            query[side].append(len(queries) / seconds)
            found[side] = result
            print(
                f"  round {round_ + 1} {side:16s} build {build[side][-1]:6.2f} s  "
                f"{query[side][-1]:9,.0f} queries/s",
                flush=True,
            )
    return (
        {side: statistics.median(v) for side, v in build.items()},
        {side: statistics.median(v) for side, v in query.items()},
        found,
    )


def report(X, queries, rounds):
    print(f"\n{len(X):,} indexed rows x {X.shape[1]} features, {len(queries):,} queries")
    build, speed, found = compare(X, queries, rounds)
    exact_dist, exact_ind = found["exact"]
    sk_dist, sk_ind = found["NearestNeighbors"]
    approx_ind = found["approximate"][1]
    same = np.array_equal(exact_ind, sk_ind) and np.array_equal(exact_dist, sk_dist)
    rows_differing = int(np.any(exact_ind != sk_ind, axis=1).sum())
    achieved_recall = recall(approx_ind, exact_ind)
    speedup = speed["approximate"] / speed["exact"]
    print(f"\nmedians of {rounds} rounds")
    print("| side | build s | queries/s | x exact |")
    print("|---|---|---|---|")
    for side in ("exact", "NearestNeighbors", "approximate"):
        print(
            f"| {side} | {build[side]:.2f} | {speed[side]:,.0f} "
            f"| {speed[side] / speed['exact']:.2f} |"
        )
    print(
        f"\nexact backend equals NearestNeighbors: {same} "
        f"({rows_differing} of {len(queries)} query rows differ)"
    )
    print(f"approximate recall@{N_NEIGHBORS}: {achieved_recall:.4f}")
    print(f"approximate / exact query speed: {speedup:.1f}x")
    met = achieved_recall >= GOAL_RECALL and speedup >= GOAL_SPEEDUP
    print(
        f"goal: recall@10 >= {GOAL_RECALL} at >= {GOAL_SPEEDUP:g}x exact speed: "
        f"{'met' if met else 'MISSED'} (recall {achieved_recall:.4f}, {speedup:.1f}x)"
    )


def crossover(sizes, n_features):
    """fit + kneighbors() over all rows for both backends at each size."""
    print("\nfit + kneighbors() over every indexed row (seconds, median of 2 alternated)")
    print("| rows | exact | approximate | exact / approximate |")
    print("|---|---|---|---|")
    for n_samples in sizes:
        X = embedding_like(n_samples, n_features, random_state=1)
        seconds = {"exact": [], "approximate": []}
        for round_ in range(2):
            order = ("exact", "approximate") if round_ == 0 else ("approximate", "exact")
            for side in order:
                _, elapsed = timed(
                    lambda side=side, X=X: EmbeddingIndex(backend=side).fit(X).kneighbors()
                )
                seconds[side].append(elapsed)
        exact, approximate = (statistics.median(seconds[s]) for s in ("exact", "approximate"))
        print(f"| {n_samples:,} | {exact:.2f} | {approximate:.2f} | {exact / approximate:.2f} |")
    print(f"backend='auto' switches to approximate from {index_module.APPROXIMATE_FROM:,} rows")


def sweep(X, queries, exact_ind):
    """Recall and speed of faiss HNSW settings around the defaults."""
    import faiss

    print("\nHNSW settings (build single-threaded, as EmbeddingIndex does)")
    print("| M | efConstruction | build s | efSearch | queries/s | recall@10 |")
    print("|---|---|---|---|---|---|")
    for links, ef_construction in ((16, 40), (32, 40), (32, 80), (48, 100)):
        graph = faiss.IndexHNSWFlat(X.shape[1], links)
        graph.hnsw.efConstruction = ef_construction
        with index_module._one_thread(faiss):
            _, build_seconds = timed(lambda graph=graph: graph.add(X))
        for ef_search in (32, 64, 128):
            params = faiss.SearchParametersHNSW(efSearch=ef_search)
            (_, found), seconds = timed(
                lambda graph=graph, params=params: graph.search(queries, N_NEIGHBORS, params=params)
            )
            print(
                f"| {links} | {ef_construction} | {build_seconds:.1f} | {ef_search} "
                f"| {len(queries) / seconds:,.0f} | {recall(found, exact_ind):.4f} |",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=200_000, help="indexed rows")
    parser.add_argument("--n-queries", type=int, default=10_000)
    parser.add_argument("--n-features", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds, order alternated")
    parser.add_argument(
        "--crossover", action="store_true", help="also time fit + all-rows queries by size"
    )
    parser.add_argument("--sweep", action="store_true", help="also try other HNSW settings")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run on 20,000 rows; figures mean nothing"
    )
    args = parser.parse_args()
    if args.quick:
        print("--quick: small data and one round, the figures mean nothing")
        args.n_samples, args.n_queries, args.rounds = 20_000, 1_000, 1
    X = embedding_like(args.n_samples + args.n_queries, args.n_features)
    X, queries = X[: args.n_samples], X[args.n_samples :]
    report(X, queries, args.rounds)
    if args.sweep:
        exact_ind = NearestNeighbors(n_neighbors=N_NEIGHBORS).fit(X).kneighbors(queries)[1]
        sweep(X, queries, exact_ind)
    if args.crossover:
        sizes = (2_000, 5_000) if args.quick else (10_000, 25_000, 50_000, 100_000)
        crossover(sizes, args.n_features)


if __name__ == "__main__":
    main()
