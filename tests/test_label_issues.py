"""find_label_issues: cross-fitted probabilities ranked by confident learning."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, RepeatedStratifiedKFold, ShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_reduce import find_label_issues
from ae_reduce._inspection.label_issues import estimate_issue_count, rank_label_issues


def _logistic():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))


@pytest.fixture(scope="module")
def flipped_digits():
    X, y_true = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(y_true), 90, replace=False)
    y = y_true.copy()
    y[flipped] = (y[flipped] + rng.integers(1, 10, len(flipped))) % 10
    return X, y, flipped


def test_flipped_labels_come_first(flipped_digits):
    X, y, flipped = flipped_digits
    issues, scores = find_label_issues(
        X, y, estimator=_logistic(), random_state=0, return_scores=True
    )
    k = len(flipped)
    precision_at_k = np.isin(np.argsort(scores, kind="stable")[:k], flipped).mean()
    assert precision_at_k >= 0.75
    found = np.isin(issues, flipped)
    assert found.mean() >= 0.6  # precision of the flagged rows
    assert np.isin(flipped, issues).mean() >= 0.85  # recall
    # Most suspicious first. The rows with the lowest scores, as many as confident
    # learning estimates, are all flagged; the pair-by-pair selection adds rows
    # whose scores are higher, each one that another class outweighs.
    assert np.all(np.diff(scores[issues]) >= 0)
    order = np.argsort(scores, kind="stable")
    assert scores[issues].max() < 0.5
    assert set(order[: len(flipped) // 2].tolist()) <= set(issues.tolist())
    assert scores.shape == (len(y),) and scores.min() >= 0 and scores.max() <= 1


def test_default_estimator_finds_swapped_labels():
    X, y = load_iris(return_X_y=True)
    swapped = [0, 60, 120]
    y = y.copy()
    y[swapped] = [2, 0, 1]
    issues = find_label_issues(X, y, random_state=0)
    assert set(swapped) <= set(issues[:6].tolist())
    assert len(issues) <= 12


def test_same_result_for_the_same_seed_and_string_labels(flipped_digits):
    X, y, _ = flipped_digits
    first = find_label_issues(X, y, estimator=_logistic(), random_state=3)
    names = np.array(["zero one two three four five six seven eight nine".split()])[0][y]
    second = find_label_issues(X, names, estimator=_logistic(), random_state=3)
    np.testing.assert_array_equal(first, second)


def test_the_given_estimator_is_left_unfitted(flipped_digits):
    X, y, _ = flipped_digits
    estimator = LogisticRegression(max_iter=50)
    find_label_issues(X[:300], y[:300], estimator=estimator, cv=KFold(3), random_state=0)
    assert not hasattr(estimator, "coef_")


def test_normalized_margin_ranks_too(flipped_digits):
    X, y, flipped = flipped_digits
    issues, scores = find_label_issues(
        X, y, estimator=_logistic(), random_state=0, return_scores=True, rank_by="normalized_margin"
    )
    assert np.isin(issues[:45], flipped).mean() >= 0.8
    assert np.all(np.diff(scores[issues]) >= 0)


def test_clean_separable_labels_give_few_issues():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    y = np.repeat([0, 1, 2], 50)
    X = centres[y] + rng.normal(size=(150, 2))
    assert len(find_label_issues(X, y, estimator=LogisticRegression(), random_state=0)) == 0


def test_issue_count_of_perfect_and_swapped_probabilities():
    codes = np.array([0, 0, 0, 1, 1, 1])
    probabilities = np.eye(2)[codes] * 0.9 + 0.05
    assert estimate_issue_count(probabilities, codes) == 0
    probabilities[[0, 3]] = probabilities[[3, 0]]
    assert estimate_issue_count(probabilities, codes) == 2


def test_pandas_labels_and_a_column_vector_give_the_same_issues():
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    y[:3] = 1 - y[:3]
    expected = find_label_issues(X, y, estimator=LogisticRegression(), random_state=0)
    frame = pd.DataFrame(X, index=np.arange(100, 160))
    for labels in (
        pd.Series(y, index=frame.index).map({0: "no", 1: "yes"}).astype("category"),
        pd.Series(y, dtype="Int64"),
    ):
        got = find_label_issues(frame, labels, estimator=LogisticRegression(), random_state=0)
        np.testing.assert_array_equal(got, expected)
    for column in (pd.DataFrame({"y": y}), y[:, np.newaxis]):
        with pytest.warns(DataConversionWarning, match="column-vector y"):
            got = find_label_issues(X, column, estimator=LogisticRegression(), random_state=0)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("y", "kwargs", "error", "message"),
    [
        (np.linspace(0, 1, 150), {}, ValueError, "Unknown label type: continuous"),
        (np.zeros(150, int), {}, ValueError, "single class"),
        (np.r_[np.zeros(147, int), np.ones(3, int)], {}, ValueError, "fewer than the cv=5"),
        (np.repeat([0, 1, 2], 50), {"estimator": StandardScaler()}, TypeError, "predict_proba"),
        (np.repeat([0, 1, 2], 50), {"rank_by": "entropy"}, ValueError, "rank_by"),
        (np.repeat([0, 1, 2], 50), {"cv": 1}, ValueError, "cv"),
        (np.array(["a", "b"] * 74 + [None, "a"], object), {}, ValueError, "1 missing label"),
        (np.array(["a", "b"] * 74 + [np.nan] * 2, object), {}, ValueError, "in row 148"),
        (np.r_[np.repeat([0.0, 1.0], 74), [np.nan, 1.0]], {}, ValueError, "missing label"),
        (np.array([0, 1] * 74 + ["1", "0"], object), {}, ValueError, "Mix of label input"),
        (np.repeat([0, 1, 2], 50), {"cv": KFold(3)}, ValueError, "fold 0 .* class 0, so every"),
        (
            np.repeat(["a", "b"], 75),
            {"cv": [(np.arange(75), np.arange(75, 150))]},
            ValueError,
            "fold 0 of cv trains on no row of class 'b'",
        ),
        (np.r_[np.zeros(147, int), np.ones(3, int)], {}, ValueError, r"class 1 has 3 row\(s\)"),
        # Plain lists: numpy would have merged 1 and "1", and True and 1, into one class.
        ([1] * 50 + ["1"] * 50 + [2] * 50, {}, ValueError, r"Mix .* types \(number and string\)"),
        ([True] * 50 + [1] * 50 + [2] * 50, {}, ValueError, r"Mix .* \(boolean and number\)"),
        (
            np.repeat([0, 1, 2], 50),
            {"cv": ShuffleSplit(3, random_state=0)},
            ValueError,
            r"cv must split the rows into a partition.* by 0 folds of cv=ShuffleSplit",
        ),
        (
            np.repeat([0, 1, 2], 50),
            {"cv": RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)},
            ValueError,
            "partition.*row 0 is held out by 2 folds",
        ),
        (np.repeat([0, 1, 2], 50), {"cv": GroupKFold(3)}, ValueError, "pass groups="),
        (np.repeat([0, 1, 2], 50), {"groups": np.arange(10)}, ValueError, "groups has 10 rows"),
    ],
)
def test_bad_input_is_refused(y, kwargs, error, message):
    X = np.random.default_rng(0).normal(size=(150, 4))
    with pytest.raises(error, match=message):
        find_label_issues(X, y, **kwargs)


def test_cv_none_means_five_stratified_folds_and_a_bool_is_refused_once():
    X, y = load_iris(return_X_y=True)
    estimator = LogisticRegression(max_iter=500)
    np.testing.assert_array_equal(
        find_label_issues(X, y, estimator=estimator, cv=None, random_state=0),
        find_label_issues(X, y, estimator=estimator, cv=5, random_state=0),
    )
    with pytest.raises(ValueError, match="cv") as error:
        find_label_issues(X, y, estimator=estimator, cv=True)
    assert str(error.value).count("an int in the range") == 1


@pytest.mark.parametrize("noise", ["dummy", "random labels"])
def test_a_model_without_signal_flags_nothing_and_says_so(noise):
    # Regression: a DummyClassifier, or labels unrelated to the features, had about
    # half the rows flagged (565 of 1,000) without a word.
    from sklearn.dummy import DummyClassifier

    from ae_reduce._inspection.label_issues import NoSignalWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 5))
    y = rng.integers(0, 3, 1000)
    estimator = DummyClassifier() if noise == "dummy" else _logistic()
    with pytest.warns(NoSignalWarning, match=r"no signal: .* on only \d+\.\d% of the rows"):
        issues, scores = find_label_issues(
            X, y, estimator=estimator, random_state=0, return_scores=True
        )
    assert len(issues) == 0
    assert scores.shape == (1000,)


def test_a_model_with_signal_does_not_warn(flipped_digits):
    import warnings

    from ae_reduce._inspection.label_issues import NoSignalWarning

    X, y, _ = flipped_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoSignalWarning)
        assert len(find_label_issues(X, y, estimator=_logistic(), random_state=0)) > 0
    # An unbalanced target: always predicting the largest class is right 90% of the
    # time, and a model that is right more often than that has something to say.
    X, y = load_digits(return_X_y=True)
    y = (y == 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoSignalWarning)
        find_label_issues(X, y, estimator=_logistic(), random_state=0)
    # Regression: the first rule (accuracy two standard errors above the largest
    # class's share) could not be met by a perfect model on 97/3 classes, and hid
    # wrong labels of a rare class behind the warning.
    rng = np.random.default_rng(0)
    y = (np.arange(400) < 20).astype(int)
    X = rng.normal(size=(400, 2)) + 6 * y[:, None]
    y[:6] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoSignalWarning)
        issues = find_label_issues(X, y, estimator=LogisticRegression(), random_state=0)
    assert len(set(issues.tolist()) & set(range(6))) >= 4
    X = rng.normal(size=(100, 2))
    y = (np.arange(100) < 3).astype(int)
    X[y == 1] += 8
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoSignalWarning)
        assert len(find_label_issues(X, y, estimator=LogisticRegression(), cv=3)) == 0


def test_a_systematic_confusion_is_flagged_pair_by_pair():
    # Regression: with class c labelled c + 1 throughout, the rows flagged by score
    # alone numbered about the estimate and missed a share of the flipped rows that
    # the pair-by-pair selection (largest margin of the apparent class) recovers.
    rng = np.random.default_rng(0)
    n_classes, n_rows = 4, 2000
    truth = rng.integers(0, n_classes, n_rows)
    given = truth.copy()
    flipped = rng.choice(n_rows, 200, replace=False)
    given[flipped] = (truth[flipped] + 1) % n_classes
    # Probabilities from a decent, not perfect, model of the true classes.
    logits = rng.normal(0, 1.0, (n_rows, n_classes))
    logits[np.arange(n_rows), truth] += 2.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    issues, scores = rank_label_issues(probabilities, given)
    by_score = np.argsort(scores, kind="stable")[: estimate_issue_count(probabilities, given)]
    recall = np.isin(flipped, issues).mean()
    assert recall > np.isin(flipped, by_score).mean()
    assert np.isin(issues, flipped).mean() >= 0.6
    assert set(by_score.tolist()) <= set(issues.tolist())


@pytest.mark.parametrize("cv", [5, GroupKFold(5)])
def test_groups_keep_near_twins_out_of_each_others_training_rows(cv):
    # Each iris row three times over, as repeated measurements of one plant: a model
    # trained on a twin of a mislabelled row repeats its wrong label, so the wrong
    # labels are found only when a plant's rows are predicted together.
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_iris(return_X_y=True)
    y = y.copy()
    y[[0, 60, 120]] = [2, 0, 1]
    X, y, plants = np.repeat(X, 3, axis=0), np.repeat(y, 3), np.repeat(np.arange(150), 3)
    wrong = np.flatnonzero(np.isin(plants, [0, 60, 120]))
    estimator = KNeighborsClassifier(n_neighbors=3)
    grouped = find_label_issues(X, y, estimator=estimator, cv=cv, groups=plants, random_state=0)
    assert set(wrong) <= set(grouped)
    if cv == 5:
        ungrouped = find_label_issues(X, y, estimator=estimator, cv=cv, random_state=0)
        assert not set(wrong) & set(ungrouped)
