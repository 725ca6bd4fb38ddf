"""Default parameters against the baselines they replace, on the same data in one run.

Every dataset sits behind a ``StandardScaler`` fitted on its training part, and every
score is taken on a held-out part. Only default parameters are used (``n_components``
aside, which is the width being compared), so the figures are what a new user gets.

Tables:

1. **Autoencoder against PCA** at the same width: held-out reconstruction MSE (goal:
   ratio <= 1.0 everywhere, <= 0.2 on the lifted S-curve) and the accuracy of a
   ``LogisticRegression`` on the code (goal: within 0.015 of PCA's), with fit times.
2. **Supervised embedding against scikit-learn's MLP and raw features**: ``predict``
   against ``MLPClassifier(early_stopping=True)`` (goal on the MNIST-shaped set: >= 2
   points better), kNN on the 16-d embedding against kNN on the raw pixels (goal:
   >= 1.5 points better), ``R^2`` against ``MLPRegressor`` on Friedman-1 (goal: at least
   as good), and ``HistGradientBoostingClassifier`` on raw features plus the cross-fitted
   embedding against raw features alone on digits (goal: at least as accurate).
3. **Speed**: a default fit on digits against a plain ``keras.Model.fit`` of the same
   network for 100 epochs at batch 64 (goal: <= 0.5x the time), and the README's grid
   search example (goal: <= 60 s on 2 cores).
4. **Map front end** (``--tsne``): kNN accuracy on a t-SNE map of the MNIST-shaped set,
   held-out rows placed with ``transform``, behind the default autoencoder against
   behind PCA (goal: within 0.01 of PCA's, or better).
5. **Real data** (``real_datasets.py``, the ``bench`` extra): each set behind the
   package's default scaler (:class:`~ae_reduce.AutoScaler`) fitted on its training
   part, the held-out reconstruction MSE of ``KerasAutoencoderTransformer(k)`` with
   its defaults against ``PCA(k)`` and against a hand-written Keras autoencoder of the
   same code width (dense ReLU layers of 512 and 256 units from 400 features, else
   128 and 64, mirrored; a sigmoid output on data in [0, 1], else linear; Adam 1e-3,
   batches of 64, early stopping with patience 20 on a 10% split, best weights
   restored). Goal: at most both.

Run ``python benchmarks/bench_defaults.py`` (about 15 minutes on 2 cores; add ``--tsne``
for the map table, several minutes more; ``--only real`` for table 5 alone).
"""

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from datasets import lifted_s_curve, mnist_like_split
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_friedman1
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ae_reduce import KerasAutoencoderTransformer, SupervisedEmbeddingTransformer

# scikit-learn's MLPs warn at their own iteration limit; the comparison is of defaults.
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def timed(function, *args):
    """``function(*args)`` and the seconds it took."""
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def scaled_split(X, y=None, *, stratify=True, random_state=0):
    """A 75/25 split with the scaler fitted on the training part."""
    arrays = [X] if y is None else [X, y]
    parts = train_test_split(
        *arrays, random_state=random_state, stratify=y if stratify and y is not None else None
    )
    scaler = StandardScaler().fit(parts[0])
    parts[0], parts[1] = scaler.transform(parts[0]), scaler.transform(parts[1])
    return parts


def mnist_shaped(seed):
    X_train, X_test, y_train, y_test = mnist_like_split(9000, 3000, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def reconstruction_error(X, reconstruction):
    return float(np.mean((X - reconstruction) ** 2))


def linear_accuracy(Z_train, Z_test, y_train, y_test):
    model = LogisticRegression(max_iter=5000).fit(Z_train, y_train)
    return model.score(Z_test, y_test)


def autoencoder_table(seed):
    print("\n== 1. KerasAutoencoderTransformer() against PCA at the same width ==")
    print(
        f"{'dataset':<14} {'k':>3} {'PCA MSE':>8} {'AE MSE':>8} {'ratio':>6} {'goal':>6} "
        f"{'PCA LR':>7} {'AE LR':>7} {'diff':>7} {'PCA s':>6} {'AE s':>6}"
    )
    cases = []
    for name, loader, k in [
        ("digits", load_digits, 16),
        ("breast_cancer", load_breast_cancer, 4),
        ("wine", load_wine, 4),
    ]:
        cases.append((name, k, *scaled_split(*loader(return_X_y=True), random_state=seed)))
    X_train, X_test = scaled_split(lifted_s_curve(6000, random_state=seed), random_state=seed)
    cases.append(("lifted S-curve", 2, X_train, X_test, None, None))
    cases.append(("MNIST-shaped", 32, *mnist_shaped(seed)))
    X, _ = make_friedman1(2000, noise=1.0, random_state=seed)
    cases.append(("Friedman-1", 5, *scaled_split(X, random_state=seed), None, None))
    for name, k, X_train, X_test, y_train, y_test in cases:
        pca, pca_time = timed(PCA(k, random_state=seed).fit, X_train)
        ours, ours_time = timed(KerasAutoencoderTransformer(k, random_state=seed).fit, X_train)
        pca_mse = reconstruction_error(X_test, pca.inverse_transform(pca.transform(X_test)))
        ours_mse = reconstruction_error(X_test, ours.inverse_transform(ours.transform(X_test)))
        ratio = ours_mse / pca_mse
        goal = 0.2 if name == "lifted S-curve" else 1.0
        line = (
            f"{name:<14} {k:>3} {pca_mse:>8.4f} {ours_mse:>8.4f} {ratio:>6.3f} "
            f"{'<=' + str(goal):>6} "
        )
        if y_train is not None:
            pca_accuracy = linear_accuracy(
                pca.transform(X_train), pca.transform(X_test), y_train, y_test
            )
            ours_accuracy = linear_accuracy(
                ours.transform(X_train), ours.transform(X_test), y_train, y_test
            )
            difference = ours_accuracy - pca_accuracy
            line += f"{pca_accuracy:>7.3f} {ours_accuracy:>7.3f} {difference:>+7.3f} "
        else:
            line += f"{'-':>7} {'-':>7} {'-':>7} "
        print(line + f"{pca_time:>6.2f} {ours_time:>6.2f}  (epochs {ours.n_epochs_})")


def supervised_table(seed):
    print("\n== 2. SupervisedEmbeddingTransformer() against MLP and raw features ==")
    print(f"{'dataset':<14} {'measure':<34} {'baseline':>9} {'ours':>7} {'diff':>7} {'goal':>8}")

    def row(dataset, measure, baseline, ours, goal, times=None):
        extra = "" if times is None else f"  (fit {times[0]:.1f} s vs ours {times[1]:.1f} s)"
        print(
            f"{dataset:<14} {measure:<34} {baseline:>9.4f} {ours:>7.4f} "
            f"{ours - baseline:>+7.4f} {goal:>8}{extra}"
        )

    X_train, X_test, y_train, y_test = mnist_shaped(seed)
    mlp, mlp_time = timed(
        MLPClassifier(early_stopping=True, random_state=seed).fit, X_train, y_train
    )
    ours, ours_time = timed(SupervisedEmbeddingTransformer(random_state=seed).fit, X_train, y_train)
    row(
        "MNIST-shaped",
        "predict accuracy vs MLPClassifier",
        mlp.score(X_test, y_test),
        ours.score(X_test, y_test),
        ">= +0.02",
        (mlp_time, ours_time),
    )
    knn = KNeighborsClassifier()
    raw = knn.fit(X_train, y_train).score(X_test, y_test)
    embedded = knn.fit(ours.transform(X_train), y_train).score(ours.transform(X_test), y_test)
    row("MNIST-shaped", "kNN on 16-d embedding vs raw", raw, embedded, ">= +0.015")

    for name, loader in [
        ("digits", load_digits),
        ("breast_cancer", load_breast_cancer),
        ("wine", load_wine),
    ]:
        X_train, X_test, y_train, y_test = scaled_split(*loader(return_X_y=True), random_state=seed)
        mlp, mlp_time = timed(
            MLPClassifier(early_stopping=True, random_state=seed).fit, X_train, y_train
        )
        ours, ours_time = timed(
            SupervisedEmbeddingTransformer(random_state=seed).fit, X_train, y_train
        )
        row(
            name,
            "predict accuracy vs MLPClassifier",
            mlp.score(X_test, y_test),
            ours.score(X_test, y_test),
            "none",
            (mlp_time, ours_time),
        )

    X, y = make_friedman1(2000, noise=1.0, random_state=seed)
    X_train, X_test, y_train, y_test = scaled_split(X, y, stratify=False, random_state=seed)
    for label, mlp in [
        ("R^2 vs MLPRegressor(early_stop.)", MLPRegressor(early_stopping=True)),
        ("R^2 vs MLPRegressor()", MLPRegressor()),
    ]:
        mlp.set_params(random_state=seed)
        mlp, mlp_time = timed(lambda mlp=mlp: mlp.fit(X_train, y_train))
        ours, ours_time = timed(
            SupervisedEmbeddingTransformer(random_state=seed).fit, X_train, y_train
        )
        row(
            "Friedman-1",
            label,
            mlp.score(X_test, y_test),
            ours.score(X_test, y_test),
            ">= 0",
            (mlp_time, ours_time),
        )

    X, y = load_digits(return_X_y=True)
    hgb = HistGradientBoostingClassifier(random_state=seed)
    raw = cross_val_score(hgb, X, y, cv=3).mean()
    stacked = make_pipeline(
        make_union(
            FunctionTransformer(),
            make_pipeline(StandardScaler(), SupervisedEmbeddingTransformer(random_state=seed)),
        ),
        hgb,
    )
    with_embedding = cross_val_score(stacked, X, y, cv=3).mean()
    row("digits", "HGB raw+embedding vs raw (3-fold)", raw, with_embedding, ">= 0")


def plain_keras_fit_seconds(X, seed):
    """The default network of the autoencoder, compiled and fitted by plain Keras."""
    import keras

    from ae_reduce._keras.networks import build_autoencoder

    pca = PCA(16).fit(X)
    # The estimator's defaults: (128, 64) ReLU branches, nothing else switched on.
    model = build_autoencoder(
        X.shape[1],
        16,
        hidden_layer_sizes=(128, 64),
        init="pca",
        seed=seed,
        mean=pca.mean_,
        components=pca.components_,
    )[0]
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    start = time.perf_counter()
    model.fit(X, X, batch_size=64, epochs=100, validation_split=0.1, verbose=0)
    return time.perf_counter() - start


def speed_table(seed):
    print("\n== 3. Speed ==")
    X = StandardScaler().fit_transform(load_digits().data)
    KerasAutoencoderTransformer(16, epochs=2, random_state=seed).fit(X)  # TensorFlow start-up
    plain_keras_fit_seconds(X[:200], seed)
    ratios = []
    for repeat in range(3):
        if repeat % 2:
            plain = plain_keras_fit_seconds(X, seed)
            _, ours = timed(lambda: KerasAutoencoderTransformer(16, random_state=seed).fit(X))
        else:
            _, ours = timed(lambda: KerasAutoencoderTransformer(16, random_state=seed).fit(X))
            plain = plain_keras_fit_seconds(X, seed)
        ratios.append(ours / plain)
        print(
            f"digits, default fit {ours:.2f} s vs plain keras.Model.fit of the same network "
            f"(100 epochs, batch 64) {plain:.2f} s: ratio {ours / plain:.3f}"
        )
    ratio = float(np.median(ratios))
    print(f"median ratio {ratio:.3f} (goal <= 0.5: {'met' if ratio <= 0.5 else 'NOT met'})")
    _, pca_time = timed(lambda: PCA(16).fit(X))
    print(f"(PCA(16).fit on the same data: {pca_time:.3f} s)")

    X, y = load_digits(return_X_y=True)
    pipeline = make_pipeline(
        StandardScaler(),
        KerasAutoencoderTransformer(random_state=0),
        LogisticRegression(max_iter=1000),
    )
    grid = GridSearchCV(
        pipeline,
        {
            "kerasautoencodertransformer__n_components": [4, 16],
            "kerasautoencodertransformer__hidden_layer_sizes": [(64,), (128, 64)],
        },
    )
    _, seconds = timed(lambda: grid.fit(X, y))
    verdict = "met" if seconds <= 60 else "NOT met"
    print(
        f"README grid example (4 candidates x 5 folds + refit): {seconds:.1f} s "
        f"(goal <= 60 s: {verdict}); best {grid.best_params_}, score {grid.best_score_:.3f}"
    )


def tsne_table(seed):
    from ae_reduce import make_tsne_pipeline

    print("\n== 4. t-SNE map front end on the MNIST-shaped set ==")
    X_train, X_test, y_train, y_test = mnist_like_split(9000, 3000, random_state=seed)
    scores = {}
    for reducer in ("pca", "autoencoder"):
        pipeline = make_tsne_pipeline(reducer, shape=X_train.shape, random_state=seed)
        (map_train, seconds) = timed(lambda pipeline=pipeline: pipeline.fit_transform(X_train))
        map_test = pipeline.transform(X_test)
        knn = KNeighborsClassifier(10).fit(map_train, y_train)
        scores[reducer] = knn.score(map_test, y_test)
        width = pipeline["reducer"].n_components
        print(
            f"{reducer:>12}-{width}: kNN(10) on placed rows {scores[reducer]:.4f}, "
            f"fit {seconds:.1f} s"
        )
    difference = scores["autoencoder"] - scores["pca"]
    verdict = "met" if difference >= -0.01 else "NOT met"
    print(f"autoencoder - PCA: {difference:+.4f} (goal >= -0.01: {verdict})")


def handwritten_autoencoder(X_train, k, seed):
    """The dense autoencoder a Keras user writes by hand; returns the fitted model."""
    import keras

    keras.utils.set_random_seed(seed)
    hidden = (512, 256) if X_train.shape[1] >= 400 else (128, 64)
    in_unit_interval = X_train.min() >= 0 and X_train.max() <= 1
    inputs = keras.Input((X_train.shape[1],))
    x = inputs
    for units in hidden:
        x = keras.layers.Dense(units, activation="relu")(x)
    x = keras.layers.Dense(k)(x)
    for units in reversed(hidden):
        x = keras.layers.Dense(units, activation="relu")(x)
    output = "sigmoid" if in_unit_interval else "linear"
    outputs = keras.layers.Dense(X_train.shape[1], activation=output)(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    stop = keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True)
    data = X_train.astype("float32")
    model.fit(
        data, data, batch_size=64, epochs=1000, validation_split=0.1, callbacks=[stop], verbose=0
    )
    return model, hidden, output


#: Code widths of the real data sets in table 5.
REAL_WIDTHS = {"mnist_5k": 32, "digits": 16, "pbmc_700": 32, "breast_cancer": 4, "penguins": 2}


def real_autoencoder_table(seed):
    from real_datasets import REAL_DATASETS

    from ae_reduce import AutoScaler

    print(
        "\n== 5. KerasAutoencoderTransformer() on real data, against PCA and hand-written Keras =="
    )
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(
        "| data set | kind | scaler | k | PCA MSE | hand-written MSE | ours MSE | ours/PCA "
        "| ours/hand-written | met | hand-written s | ours s (epochs, best) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, k in REAL_WIDTHS.items():
        dataset = REAL_DATASETS[name]()
        X_train, X_test = train_test_split(dataset.X, random_state=seed, stratify=dataset.y)
        scaler = AutoScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        pca = PCA(k, random_state=seed).fit(X_train)
        pca_mse = reconstruction_error(X_test, pca.inverse_transform(pca.transform(X_test)))
        (hand, hidden, output), hand_s = timed(handwritten_autoencoder, X_train, k, seed)
        hand_mse = reconstruction_error(X_test, hand.predict(X_test.astype("float32"), verbose=0))
        ours, ours_s = timed(KerasAutoencoderTransformer(k, random_state=seed).fit, X_train)
        ours_mse = reconstruction_error(X_test, ours.inverse_transform(ours.transform(X_test)))
        met = "yes" if ours_mse <= pca_mse and ours_mse <= hand_mse else "no"
        print(
            f"| {name} | {dataset.kind} | {scaler.kind_} | {k} | {pca_mse:.5f} "
            f"| {hand_mse:.5f} ({'-'.join(map(str, hidden))}, {output}) | {ours_mse:.5f} "
            f"| {ours_mse / pca_mse:.3f} | {ours_mse / hand_mse:.3f} | {met} | {hand_s:.0f} "
            f"| {ours_s:.1f} ({ours.n_epochs_}, {ours.best_epoch_}) |",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of splits and networks")
    parser.add_argument("--tsne", action="store_true", help="add the t-SNE front-end table")
    parser.add_argument(
        "--only", choices=["autoencoder", "supervised", "speed", "real"], help="one table only"
    )
    args = parser.parse_args()
    tables = {"autoencoder": autoencoder_table, "supervised": supervised_table}
    tables["speed"] = speed_table
    tables["real"] = real_autoencoder_table
    for name, table in tables.items():
        if args.only in (None, name):
            table(args.seed)
    if args.tsne:
        tsne_table(args.seed)


if __name__ == "__main__":
    main()
