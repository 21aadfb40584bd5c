"""Tests for mlcourse.modeling: every hand-written piece is cross-checked against a library.

* gradient-descent logistic regression against scikit-learn's ``LogisticRegression``
  (same C, same penalty), its gradient against finite differences;
* the focal loss against its formula in NumPy, and against
  ``torch.nn.functional.cross_entropy`` at ``gamma = 0`` (with and without
  class weights);
* the MLP: determinism, learning, early stopping with best-weights restore,
  every loss and optimizer, the sklearn contract;
* soft voting and stacking against scikit-learn's ``VotingClassifier`` and
  ``StackingClassifier``;
* imbalance helpers and business cost against hand counts and scikit-learn;
* bad input: each error names the argument.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import scipy.special  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import StackingClassifier as SkStacking  # noqa: E402
from sklearn.ensemble import VotingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402
from sklearn.utils.class_weight import compute_class_weight  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from torch import nn  # noqa: E402

from mlcourse import evaluation as ev  # noqa: E402
from mlcourse import modeling as md  # noqa: E402
from mlcourse.world import make_world  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Small problems: one BLAS/OpenMP thread is faster than two competing for the cores.
    with threadpool_limits(1):
        yield


def _problem(n: int = 600, d: int = 6, seed: int = 0, weights=(0.8,)):
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=min(4, d), n_redundant=0, weights=list(weights), random_state=seed
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def problem():
    return _problem()


@pytest.fixture(scope="module")
def small_world():
    return make_world(seed=1, n_transactions=4_000, n_customers=800)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def test_preprocessor_encodes_every_column_without_missing_values(small_world):
    frame = small_world.transactions[small_world.feature_columns]
    pre = md.make_preprocessor(frame)
    X = pre.fit_transform(frame)
    names = list(pre.get_feature_names_out())
    assert X.shape == (len(frame), len(names))
    assert np.isfinite(X).all()
    # log-scaled, imputed with an indicator, standardised
    assert "amount" in names and "missingindicator_distance_km" in names
    assert abs(X[:, names.index("amount")].mean()) < 1e-9 and abs(X[:, names.index("amount")].std() - 1) < 1e-9
    # one column per category, plus one for the missing device
    assert {"device_mobile", "device_pos", "device_missing", "customer_group_C"} <= set(names)
    expected = np.log1p(frame["amount"].to_numpy())
    np.testing.assert_allclose(X[:, names.index("amount")], (expected - expected.mean()) / expected.std(), atol=1e-9)


def test_preprocessor_ignores_unseen_categories_and_rejects_bad_arguments():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    pre = md.make_preprocessor(train).fit(train)
    row = pre.transform(pd.DataFrame({"x": [2.0], "c": ["zzz"]}))
    assert row[0, 1:].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="frame must be a pandas DataFrame"):
        md.make_preprocessor(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="log_columns must name numeric columns"):
        md.make_preprocessor(train, log_columns=["c"])


def test_make_splits_random_is_stratified_and_fits_on_train_only(small_world):
    data = md.make_splits(small_world, seed=0)
    n = len(small_world.transactions)
    assert data.X_train.shape[0] + data.X_valid.shape[0] + data.X_test.shape[0] == n
    assert data.X_valid.shape[0] == data.X_test.shape[0] == n // 5
    rate = small_world.transactions["is_fraud"].mean()
    for y in (data.y_train, data.y_valid, data.y_test):
        assert abs(y.mean() - rate) < 0.005
    assert len(data.feature_names) == data.X_train.shape[1]
    # standardised with training statistics: mean 0 on train only
    assert np.allclose(data.X_train.mean(axis=0)[:3], 0.0, atol=1e-9)
    assert set(data.frames) == {"train", "valid", "test"}
    assert data.frames["test"]["is_fraud"].to_numpy().tolist() == data.y_test.tolist()


def test_make_splits_time_orders_the_parts_and_label_target_drops_unlabeled(small_world):
    data = md.make_splits(small_world, split="time")
    assert data.frames["train"]["timestamp"].max() <= data.frames["valid"]["timestamp"].min()
    assert data.frames["valid"]["timestamp"].max() <= data.frames["test"]["timestamp"].min()
    labeled = md.make_splits(small_world, target="label")
    assert sum(len(f) for f in labeled.frames.values()) == int(small_world.transactions["label"].notna().sum())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "nope"}, "target 'nope' is not a column"),
        ({"features": ["amount", "nope"]}, r"features \['nope'\] are not columns"),
        ({"valid_size": 1.5}, "valid_size must be a number in"),
        ({"valid_size": 0.5, "test_size": 0.5}, "valid_size \\+ test_size must be < 1"),
        ({"split": "shuffle"}, "split must be one of"),
        ({"features": ["amount", "is_fraud"]}, "features must not contain the target"),
    ],
)
def test_make_splits_rejects_bad_arguments(small_world, kwargs, message):
    with pytest.raises(ValueError, match=message):
        md.make_splits(small_world, **kwargs)


def test_make_splits_rejects_other_data():
    with pytest.raises(ValueError, match="data must be a World or a pandas DataFrame"):
        md.make_splits([1, 2, 3])


# ---------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------


def test_majority_baseline_predicts_the_base_rate(problem):
    X, y = problem
    m = md.majority_baseline().fit(X, y)
    assert np.allclose(m.predict_proba(X)[:, 1], y.mean())
    assert (m.predict(X) == 0).all()


def test_score_against_baseline_signs_improvement_by_the_metric_direction(problem):
    X, y = problem
    base = md.majority_baseline().fit(X, y)
    model = md.logistic_baseline().fit(X, y)
    for metric in ("average_precision", "roc_auc", "log_loss", "brier"):
        score = md.score_against_baseline(model, base, X, y, metric=metric)
        assert score.beats and score.improvement > 0, metric
    ll = md.score_against_baseline(model, base, X, y, metric="log_loss")
    assert np.isclose(ll.model, log_loss(y, model.predict_proba(X)[:, 1]))
    assert np.isclose(ll.improvement, ll.baseline - ll.model)
    cost = md.score_against_baseline(model, base, X, y, metric="cost", cost_fp=1.0, cost_fn=10.0)
    t = 1.0 / 11.0
    assert np.isclose(cost.model, ev.expected_cost(y, model.predict_proba(X)[:, 1], t, cost_fp=1.0, cost_fn=10.0))
    assert not md.score_against_baseline(base, model, X, y).beats
    # a callable returning P(1) works too
    assert md.score_against_baseline(lambda Z: model.predict_proba(Z)[:, 1], base, X, y).beats
    with pytest.raises(ValueError, match="metric must be one of"):
        md.score_against_baseline(model, base, X, y, metric="accuracy")
    with pytest.raises(ValueError, match="metric='cost' needs cost_fp and cost_fn"):
        md.score_against_baseline(model, base, X, y, metric="cost")
    with pytest.raises(ValueError, match="C must be a finite number > 0"):
        md.logistic_baseline(C=0)


def test_regression_baselines_predict_the_mean_and_the_median():
    X = np.zeros((5, 2))
    y = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    assert np.allclose(md.regression_baseline("mean").fit(X, y).predict(X[:2]), [22.0, 22.0])
    assert np.allclose(md.regression_baseline("median").fit(X, y).predict(X[:2]), [3.0, 3.0])
    assert np.allclose(md.regression_baseline().fit(X, y).predict(X[:1]), [3.0])  # median by default
    with pytest.raises(ValueError, match="strategy must be one of"):
        md.regression_baseline("mode")


def test_linear_regression_recovers_a_line_and_ridge_shrinks_it():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = 2.0 * X[:, 0] + 1.0
    ols = md.linear_regression().fit(X, y)
    assert np.allclose(ols.coef_, [2.0]) and np.isclose(ols.intercept_, 1.0)
    # ridge, by hand: centred x = [-1.5, -0.5, 0.5, 1.5], sum x^2 = 5, sum x y = 10, so w = 10 / (5 + 5) = 1
    ridge = md.linear_regression(alpha=5.0).fit(X, y)
    assert np.allclose(ridge.coef_, [1.0]) and np.isclose(ridge.intercept_, 4.0 - 1.5 * 1.0)


def test_huber_loss_is_robust_to_outliers_where_least_squares_is_not():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 1))
    y = 3.0 * X[:, 0] + rng.normal(scale=0.3, size=400)
    y[:8] += 500.0                                   # recording errors
    ols = md.linear_regression().fit(X, y)
    huber = md.linear_regression(loss="huber").fit(X, y)
    assert abs(huber.coef_[0] - 3.0) < 0.2
    assert abs(huber.intercept_) < 0.2
    assert abs(ols.intercept_) > 5.0                 # 8 * 500 / 400 = 10 on average: the outliers pull the line up


def test_linear_regression_rejects_bad_arguments():
    with pytest.raises(ValueError, match="loss must be one of"):
        md.linear_regression(loss="absolute")
    with pytest.raises(ValueError, match="alpha"):
        md.linear_regression(alpha=-1.0)
    with pytest.raises(ValueError, match="epsilon must be > 1"):
        md.linear_regression(loss="huber", epsilon=0.5)


def test_regression_report_scores_each_model_by_hand():
    X = np.zeros((4, 1))
    y = np.array([1.0, 2.0, 3.0, 6.0])
    constant = md.regression_baseline("median").fit(X, y)        # predicts 2.5
    report = md.regression_report({"median": constant, "perfect": lambda Z: y}, X, y)
    assert list(report.index) == ["median", "perfect"]
    # errors 1.5, 0.5, 0.5, 3.5: MAE 1.5, MSE (2.25 + 0.25 + 0.25 + 12.25) / 4 = 3.75; y's variance is 3.5
    assert np.isclose(report.loc["median", "mae"], 1.5)
    assert np.isclose(report.loc["median", "rmse"], np.sqrt(3.75))
    assert np.isclose(report.loc["median", "r2"], 1.0 - 3.75 / 3.5)
    assert np.allclose(report.loc["perfect"].to_numpy(), [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="non-empty mapping"):
        md.regression_report({}, X, y)


# ---------------------------------------------------------------------------
# Logistic regression by gradient descent
# ---------------------------------------------------------------------------


def test_sigmoid_is_stable_at_the_extremes():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings
        s = md.sigmoid(z)
    np.testing.assert_allclose(s, scipy.special.expit(z), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("C", [1.0, 0.1, None])
def test_logistic_loss_matches_log_loss_and_gradient_matches_finite_differences(problem, C):
    X, y = problem
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=X.shape[1]) * 0.5, 0.3
    loss, grad_w, grad_b = md.logistic_loss_and_gradient(w, b, X, y, C=C)
    penalty = 0.0 if C is None else w @ w / (2 * C * len(y))
    assert np.isclose(loss, log_loss(y, md.sigmoid(X @ w + b)) + penalty, rtol=1e-10)
    eps = 1e-6
    numeric = []
    for j in range(X.shape[1]):
        step = np.zeros_like(w)
        step[j] = eps
        up = md.logistic_loss_and_gradient(w + step, b, X, y, C=C)[0]
        down = md.logistic_loss_and_gradient(w - step, b, X, y, C=C)[0]
        numeric.append((up - down) / (2 * eps))
    np.testing.assert_allclose(grad_w, numeric, atol=1e-7)
    up, down = (md.logistic_loss_and_gradient(w, b + s, X, y, C=C)[0] for s in (eps, -eps))
    assert np.isclose(grad_b, (up - down) / (2 * eps), atol=1e-7)


def test_logistic_loss_is_finite_for_huge_logits():
    X = np.array([[1.0], [-1.0]])
    loss, grad_w, _ = md.logistic_loss_and_gradient(np.array([1000.0]), 0.0, X, [0, 1], C=None)
    assert np.isclose(loss, 1000.0) and np.isfinite(grad_w).all()


@pytest.mark.parametrize(("C", "penalty"), [(1.0, "l2"), (0.05, "l2"), (10.0, "l2"), (1.0, None)])
def test_gd_logistic_regression_matches_sklearn_coefficients(problem, C, penalty):
    X, y = problem
    ours = md.GDLogisticRegression(C=C, penalty=penalty, tol=1e-9, max_iter=50_000).fit(X, y)
    theirs = LogisticRegression(C=C if penalty == "l2" else np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert ours.converged_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    assert (ours.predict(X) == theirs.predict(X)).all()
    # the loss never increases with the safe step 1/L
    assert np.all(np.diff(ours.loss_history_) <= 1e-12)


def test_gd_learning_rate_too_large_fails_and_too_small_crawls(problem):
    X, y = problem
    good = md.GDLogisticRegression(max_iter=30, tol=1e-12)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        good.fit(X, y)
    with pytest.warns(ConvergenceWarning):
        slow = md.GDLogisticRegression(learning_rate=good.learning_rate_ / 50, max_iter=30, tol=1e-12).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        wild = md.GDLogisticRegression(learning_rate=good.learning_rate_ * 50, max_iter=30, tol=1e-12).fit(X, y)
    assert good.loss_history_[-1] < slow.loss_history_[-1]
    assert good.loss_history_[-1] < wild.loss_history_[-1]
    assert np.any(np.diff(wild.loss_history_) > 0)  # overshoots: the loss goes up at times


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"penalty": "l1"}, "penalty must be 'l2' or None"),
        ({"C": -1.0}, "C must be a finite number > 0"),
        ({"learning_rate": "fast"}, "learning_rate must be one of"),
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
        ({"max_iter": 0}, "max_iter must be an integer >= 1"),
    ],
)
def test_gd_logistic_regression_rejects_bad_parameters(problem, kwargs, message):
    X, y = problem
    with pytest.raises(ValueError, match=message):
        md.GDLogisticRegression(**kwargs).fit(X, y)


def test_gd_logistic_regression_rejects_bad_data(problem):
    X, y = problem
    with pytest.raises(ValueError, match="binary labels 0 and 1"):
        md.GDLogisticRegression().fit(X, y + 1)
    with pytest.raises(ValueError, match="X and y must have the same length"):
        md.GDLogisticRegression().fit(X[:-1], y)
    with pytest.raises(ValueError, match="must contain both classes"):
        md.GDLogisticRegression().fit(X, np.zeros_like(y))
    with pytest.raises(ValueError, match="X must be 2-dimensional"):
        md.GDLogisticRegression().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="NaN or infinite"):
        md.GDLogisticRegression().fit(np.where(X > 2, np.nan, X), y)
    model = md.GDLogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but GDLogisticRegression is expecting 6 features"):
        model.predict_proba(X[:, :5])
    with pytest.raises(ValueError, match="w must have shape"):
        md.logistic_loss_and_gradient(np.zeros(2), 0.0, X, y)


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------


def _focal_numpy(logits: np.ndarray, target: np.ndarray, gamma: float, weight=None) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    pt = p[np.arange(len(target)), target]
    alpha = np.ones(len(target)) if weight is None else np.asarray(weight)[target]
    return float(np.sum(-alpha * (1 - pt) ** gamma * np.log(pt)) / alpha.sum())


@pytest.fixture(scope="module")
def logits_target():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 2, generator=gen, dtype=torch.float64) * 3
    target = (torch.rand(200, generator=gen) < 0.2).long()
    return logits, target


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("weight", [None, [0.3, 4.0]])
def test_focal_loss_matches_its_formula(logits_target, gamma, weight):
    logits, target = logits_target
    w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    ours = md.focal_loss(logits, target, gamma=gamma, weight=w)
    assert np.isclose(float(ours), _focal_numpy(logits.numpy(), target.numpy(), gamma, weight), rtol=1e-10)


def test_focal_loss_with_gamma_zero_is_cross_entropy(logits_target):
    logits, target = logits_target
    assert torch.allclose(md.focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target))
    w = torch.tensor([0.6, 3.0], dtype=torch.float64)
    assert torch.allclose(md.focal_loss(logits, target, gamma=0.0, weight=w), F.cross_entropy(logits, target, weight=w))
    assert torch.allclose(
        md.focal_loss(logits, target, gamma=0.0, reduction="none"), F.cross_entropy(logits, target, reduction="none")
    )
    assert torch.allclose(
        md.focal_loss(logits, target, gamma=0.0, reduction="sum"), F.cross_entropy(logits, target, reduction="sum")
    )


def test_focal_loss_down_weights_easy_examples_and_has_gradients():
    logits = torch.tensor([[4.0, -4.0], [0.2, -0.2]], requires_grad=True)  # easy, hard (both class 0)
    target = torch.tensor([0, 0])
    per = md.focal_loss(logits, target, gamma=2.0, reduction="none")
    ce = F.cross_entropy(logits, target, reduction="none")
    assert (per / ce)[0] < 1e-4 < (per / ce)[1]
    per.sum().backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    extreme = md.focal_loss(torch.tensor([[80.0, -80.0], [-80.0, 80.0]]), torch.tensor([1, 1]), gamma=2.0)
    assert torch.isfinite(extreme)


def test_focal_loss_rejects_bad_input(logits_target):
    logits, target = logits_target
    with pytest.raises(ValueError, match="logits must be a 2-D tensor"):
        md.focal_loss(logits[:, 0], target)
    with pytest.raises(ValueError, match="target must be a 1-D tensor"):
        md.focal_loss(logits, target[:-1])
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
        md.focal_loss(logits, target, gamma=-1.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        md.focal_loss(logits, target, reduction="max")
    with pytest.raises(ValueError, match="weight must be a tensor of shape"):
        md.focal_loss(logits, target, weight=torch.ones(3))


def test_class_weights_match_sklearn_balanced():
    y = np.array([0] * 97 + [1] * 3)
    np.testing.assert_allclose(md.class_weights(y), compute_class_weight("balanced", classes=np.array([0, 1]), y=y))


def test_make_loss_weighted_is_torch_cross_entropy_with_balanced_weights(logits_target):
    logits, target = logits_target
    y = target.numpy()
    loss = md.make_loss("weighted", y=y)
    w = torch.tensor(compute_class_weight("balanced", classes=np.array([0, 1]), y=y), dtype=torch.float32)
    assert torch.allclose(loss(logits.float(), target), F.cross_entropy(logits.float(), target, weight=w))
    custom = md.make_loss("weighted", class_weight={0: 1.0, 1: 20.0})
    w = torch.tensor([1.0, 20.0])
    assert torch.allclose(custom(logits.float(), target), F.cross_entropy(logits.float(), target, weight=w))
    plain = md.make_loss("cross_entropy")
    assert torch.allclose(plain(logits, target), F.cross_entropy(logits, target))
    focal = md.make_loss("focal", gamma=0.0)
    assert torch.allclose(focal(logits, target), F.cross_entropy(logits, target))


def test_make_loss_and_optimizer_reject_bad_names():
    with pytest.raises(ValueError, match="loss must be one of"):
        md.make_loss("hinge")
    with pytest.raises(ValueError, match="class_weight='balanced' needs the training labels y"):
        md.make_loss("weighted")
    with pytest.raises(ValueError, match="class_weight must map both classes 0 and 1"):
        md.make_loss("weighted", class_weight={1: 3.0})
    with pytest.raises(ValueError, match="class_weight must give two positive weights"):
        md.make_loss("focal", class_weight=[1.0, -2.0])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        md.make_optimizer("lbfgs", nn.Linear(2, 2).parameters())
    with pytest.raises(ValueError, match=r"momentum must be a number in \(0, 1\)"):
        md.make_optimizer("momentum", nn.Linear(2, 2).parameters(), momentum=1.5)


# ---------------------------------------------------------------------------
# The MLP
# ---------------------------------------------------------------------------


def _xor(n: int = 1_200, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)  # linearly inseparable, MLP-separable
    return X, y


def test_make_mlp_is_a_plain_sequential():
    net = md.make_mlp(7, (16, 8), dropout=0.2)
    assert isinstance(net, nn.Sequential)
    assert {type(layer) for layer in net} == {nn.Linear, nn.ReLU, nn.Dropout}
    assert net[0].in_features == 7 and net[-1].out_features == 2
    with pytest.raises(ValueError, match="dropout must be in"):
        md.make_mlp(3, dropout=1.0)
    with pytest.raises(ValueError, match="hidden_layer_sizes entries must be an integer >= 1"):
        md.make_mlp(3, (4, 0))


def test_mlp_learns_a_problem_a_linear_model_cannot():
    X, y = _xor()
    mlp = md.MLPClassifier(hidden_layer_sizes=(32, 16), learning_rate=0.01, max_epochs=40, patience=None)
    mlp.fit(X[:800], y[:800])
    linear = LogisticRegression().fit(X[:800], y[:800])
    assert (mlp.predict(X[800:]) == y[800:]).mean() > 0.93
    assert (linear.predict(X[800:]) == y[800:]).mean() < 0.65
    assert isinstance(mlp.network_, nn.Sequential)
    proba = mlp.predict_proba(X[800:])
    assert proba.shape == (400, 2) and proba.dtype == np.float64 and np.allclose(proba.sum(axis=1), 1.0)
    assert mlp.history_["train_loss"][-1] < mlp.history_["train_loss"][0]
    assert np.isnan(mlp.history_["val_loss"]).all() and mlp.best_epoch_ == mlp.n_epochs_ == 40


def test_mlp_same_seed_gives_identical_predictions_and_other_seeds_differ():
    X, y = _xor(600)
    kwargs = {"hidden_layer_sizes": (16,), "max_epochs": 5, "dropout": 0.1, "learning_rate": 0.01}
    a = md.MLPClassifier(seed=3, **kwargs).fit(X[:400], y[:400], X[400:], y[400:])
    b = md.MLPClassifier(seed=3, **kwargs).fit(X[:400], y[:400], X[400:], y[400:])
    c = md.MLPClassifier(seed=4, **kwargs).fit(X[:400], y[:400], X[400:], y[400:])
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_ == b.history_
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_mlp_early_stopping_restores_the_best_weights():
    X, y = _xor(400, seed=1)
    X = X + np.random.default_rng(2).normal(scale=1.5, size=X.shape)  # noisy: it will overfit
    model = md.MLPClassifier(hidden_layer_sizes=(128, 128), learning_rate=0.01, max_epochs=200, patience=4, batch_size=32)
    model.fit(X[:200], y[:200], X[200:], y[200:])
    val = np.array(model.history_["val_loss"])
    assert model.n_epochs_ < 200, "expected early stopping to end training"
    best = int(np.argmin(val))
    assert model.best_epoch_ == best + 1
    assert model.n_epochs_ == model.best_epoch_ + 4  # stopped `patience` epochs after the best
    assert np.isclose(model.loss_on(X[200:], y[200:]), val.min(), rtol=1e-6)
    assert val[-1] > val.min()
    # without restore, the model keeps the last epoch's weights
    last = clone(model).set_params(restore_best_weights=False).fit(X[:200], y[:200], X[200:], y[200:])
    assert np.isclose(last.loss_on(X[200:], y[200:]), val[-1], rtol=1e-6)


@pytest.mark.parametrize("loss", md.LOSSES)
@pytest.mark.parametrize("optimizer", md.OPTIMIZERS)
def test_mlp_trains_with_every_loss_and_optimizer(loss, optimizer):
    X, y = _problem(500, seed=4, weights=(0.85,))
    lr = 0.05 if optimizer in ("sgd", "momentum") else 0.01
    model = md.MLPClassifier(
        hidden_layer_sizes=(16,), loss=loss, optimizer=optimizer, learning_rate=lr, max_epochs=8, weight_decay=1e-4
    )
    model.fit(X[:350], y[:350], X[350:], y[350:])
    history = model.history_
    assert len(history["train_loss"]) >= 1 and np.isfinite(history["train_loss"]).all()
    assert min(history["val_loss"]) < history["val_loss"][0] or model.n_epochs_ == 1
    assert model.predict_proba(X).shape == (500, 2)


def test_mlp_weighted_loss_is_torch_weighted_cross_entropy():
    X, y = _problem(300, seed=5, weights=(0.9,))
    model = md.MLPClassifier(hidden_layer_sizes=(8,), loss="weighted", max_epochs=2).fit(X, y)
    weight = torch.tensor(compute_class_weight("balanced", classes=np.array([0, 1]), y=y), dtype=torch.float32)
    np.testing.assert_allclose(model.class_weight_, weight.numpy(), rtol=1e-6)
    with torch.no_grad():
        logits = model.network_(torch.as_tensor(X, dtype=torch.float32))
    expected = float(F.cross_entropy(logits, torch.as_tensor(y), weight=weight))
    assert np.isclose(model.loss_on(X, y), expected, rtol=1e-6)
    weighted = md.MLPClassifier(hidden_layer_sizes=(8,), loss="weighted", max_epochs=5, learning_rate=0.01).fit(X, y)
    plain = md.MLPClassifier(hidden_layer_sizes=(8,), max_epochs=5, learning_rate=0.01).fit(X, y)
    # upweighting the rare class raises its predicted probability
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_mlp_keeps_the_torch_thread_setting_and_the_sklearn_contract():
    X, y = _xor(200)
    before = torch.get_num_threads()
    model = md.MLPClassifier(hidden_layer_sizes=(4,), max_epochs=1, n_threads=1).fit(X, y)
    assert torch.get_num_threads() == before
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "network_")
    assert model.score(X, y) >= 0.0  # ClassifierMixin.score works through predict


@pytest.mark.parametrize(
    ("params", "fit_args", "message"),
    [
        ({"loss": "hinge"}, None, "loss must be one of"),
        ({"optimizer": "rmsprop"}, None, "optimizer must be one of"),
        ({"batch_size": 0}, None, "batch_size must be an integer >= 1"),
        ({"patience": 0}, None, "patience must be an integer >= 1"),
        ({}, "y3", "y must contain only the binary labels 0 and 1"),
        ({}, "short_y", "X and y must have the same length"),
        ({}, "x_only_val", "X_val and y_val: give both or neither"),
        ({}, "val_width", "X_val has 3 features, X has 4"),
        ({}, "x1d", "X must be 2-dimensional"),
        ({}, "strings", "X must be a numeric 2-D array"),
    ],
)
def test_mlp_rejects_bad_input(params, fit_args, message):
    X, y = _xor(100)
    args = {
        None: (X, y),
        "y3": (X, np.where(y == 1, 2, 0)),
        "short_y": (X, y[:-1]),
        "x_only_val": (X, y, X),
        "val_width": (X, y, X[:, :3], y),
        "x1d": (X[:, 0], y),
        "strings": (np.full((100, 2), "a"), y),
    }[fit_args]
    with pytest.raises(ValueError, match=message):
        md.MLPClassifier(max_epochs=1, **params).fit(*args)


def test_mlp_predict_checks_the_feature_count():
    X, y = _xor(100)
    model = md.MLPClassifier(hidden_layer_sizes=(4,), max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but MLPClassifier is expecting 4 features"):
        model.predict_proba(X[:, :2])


def test_train_epoch_visits_every_row_once_in_a_seeded_order():
    X = torch.arange(10, dtype=torch.float32).reshape(-1, 1)
    y = torch.zeros(10, dtype=torch.long)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 2)

        def forward(self, x):
            seen.append(x[:, 0].long().tolist())
            return self.linear(x)

    net = Spy()
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    loss = md.train_epoch(net, opt, md.make_loss("cross_entropy"), X, y, batch_size=4,
                          generator=torch.Generator().manual_seed(0))
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(0)).tolist()
    assert [len(b) for b in seen] == [4, 4, 2]
    assert sum(seen, []) == expected
    with torch.no_grad():
        full = F.cross_entropy(net.linear(X), y)  # lr = 0: the weights never moved
    assert np.isclose(loss, float(full), rtol=1e-6)


# ---------------------------------------------------------------------------
# Ensembles
# ---------------------------------------------------------------------------


def _members():
    return [
        ("lr", LogisticRegression()),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("nb", GaussianNB()),
    ]


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 0.5]])
def test_soft_voting_matches_sklearn(problem, weights):
    X, y = problem
    ours = md.SoftVotingClassifier(_members(), weights=weights).fit(X, y)
    theirs = VotingClassifier(_members(), voting="soft", weights=weights).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-12)
    assert (ours.predict(X) == theirs.predict(X)).all()


@pytest.mark.parametrize("passthrough", [False, True])
@pytest.mark.parametrize("cv", [5, KFold(4, shuffle=True, random_state=0)])
def test_stacking_matches_sklearn(problem, passthrough, cv):
    X, y = problem
    ours = md.StackingClassifier(_members(), cv=cv, passthrough=passthrough).fit(X, y)
    theirs = SkStacking(_members(), cv=cv, passthrough=passthrough).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-12)


def test_stacking_uses_out_of_fold_predictions(problem):
    # A member that memorises its training rows looks perfect in-sample; out of
    # fold it is no better than chance, so the combiner must not trust it blindly.
    X, y = problem
    rng = np.random.default_rng(0)
    X_noise = np.column_stack([X[:, :1], rng.normal(size=(len(y), 3))])
    members = [("lr", LogisticRegression()), ("memoriser", DecisionTreeClassifier(random_state=0))]
    stack = md.StackingClassifier(members, cv=5).fit(X_noise, y)
    coef = stack.final_estimator_.coef_[0]
    assert coef[0] > coef[1], f"expected the honest member to get the larger weight, got {coef}"


def test_ensemble_helpers_and_errors(problem):
    X, y = problem
    gb = md.gradient_boosting(max_iter=20).fit(X, y)
    rf = md.random_forest(n_estimators=10).fit(X, y)
    assert gb.predict_proba(X).shape == rf.predict_proba(X).shape == (len(y), 2)
    with pytest.raises(ValueError, match="estimators must be a non-empty list"):
        md.SoftVotingClassifier([]).fit(X, y)
    with pytest.raises(ValueError, match="estimator names must be unique"):
        md.SoftVotingClassifier([("a", GaussianNB()), ("a", GaussianNB())]).fit(X, y)
    with pytest.raises(ValueError, match="weights must be 2 non-negative numbers"):
        md.SoftVotingClassifier([("a", GaussianNB()), ("b", GaussianNB())], weights=[1.0]).fit(X, y)
    with pytest.raises(ValueError, match="cv must be an integer >= 2 or a cross-validation splitter"):
        md.StackingClassifier(_members(), cv="five").fit(X, y)
    with pytest.raises(ValueError, match="needs fit and predict_proba"):
        md.StackingClassifier([("x", object())]).fit(X, y)


# ---------------------------------------------------------------------------
# Imbalance and business cost
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["undersample", "oversample"])
def test_resample_reaches_the_ratio_and_keeps_rows(method):
    X = np.arange(1000).reshape(-1, 1)
    y = (np.arange(1000) % 50 == 0).astype(int)  # 20 positives
    Xr, yr = md.resample(X, y, method=method, ratio=0.5, seed=1)
    n_pos, n_neg = int(yr.sum()), int((yr == 0).sum())
    assert abs(n_pos / n_neg - 0.5) < 0.01
    assert (y[Xr[:, 0]] == yr).all()  # every row keeps its own label
    if method == "undersample":
        assert n_pos == 20 and len(np.unique(Xr)) == len(Xr)
    else:
        assert n_neg == 980
    frame = pd.DataFrame({"x": X[:, 0]})
    Fr, _ = md.resample(frame, y, method=method, ratio=0.5, seed=1)
    assert Fr["x"].tolist() == Xr[:, 0].tolist()
    with pytest.raises(ValueError, match="ratio must exceed the current minority/majority ratio"):
        md.resample(X, y, ratio=0.01)
    with pytest.raises(ValueError, match="method must be one of"):
        md.resample(X, y, method="smote")


def test_business_cost_and_bayes_threshold():
    y = np.array([0, 0, 0, 1, 1, 0, 1, 0])
    s = np.array([0.1, 0.6, 0.2, 0.9, 0.3, 0.05, 0.7, 0.4])
    # flagged at 0.5: rows 1, 3, 6 -> 1 FP, 1 FN (row 4)
    assert np.isclose(md.business_cost(y, s, 0.5, cost_fp=5.0, cost_fn=100.0), (5.0 + 100.0) / 8)
    assert np.isclose(md.bayes_threshold(5.0, 100.0), 5.0 / 105.0)
    with pytest.raises(ValueError, match="cost_fn must be a finite number > 0"):
        md.bayes_threshold(1.0, -3.0)


def test_compare_models_picks_thresholds_on_validation_and_ranks_by_test_cost(problem):
    X, y = problem
    Xtr, ytr, Xv, yv, Xte, yte = X[:300], y[:300], X[300:450], y[300:450], X[450:], y[450:]
    models = {"majority": md.majority_baseline().fit(Xtr, ytr), "logistic": md.logistic_baseline().fit(Xtr, ytr)}
    table = md.compare_models(models, Xv, yv, Xte, yte, cost_fp=1.0, cost_fn=5.0, baseline="majority")
    assert list(table.index) == ["logistic", "majority"]
    sv = models["logistic"].predict_proba(Xv)[:, 1]
    t = ev.cost_optimal_threshold(yv, sv, cost_fp=1.0, cost_fn=5.0)
    assert np.isclose(table.loc["logistic", "threshold"], t)
    st = models["logistic"].predict_proba(Xte)[:, 1]
    assert np.isclose(table.loc["logistic", "test_cost"], ev.expected_cost(yte, st, t, cost_fp=1.0, cost_fn=5.0))
    assert table.loc["logistic", "saving_vs_baseline"] > 0 and table.loc["majority", "saving_vs_baseline"] == 0
    # a constant model flags everything or nothing, whichever is cheaper on validation
    assert np.isclose(table.loc["majority", "test_cost"], 1.0 * (1 - yte.mean()))  # 0.8 < 5 * 0.2
    cheap_misses = md.compare_models(models, Xv, yv, Xte, yte, cost_fp=1.0, cost_fn=3.0)
    assert cheap_misses.loc["majority", "threshold"] == np.inf
    assert np.isclose(cheap_misses.loc["majority", "test_cost"], 3.0 * yte.mean())
    with pytest.raises(ValueError, match="baseline 'x' is not one of the models"):
        md.compare_models(models, Xv, yv, Xte, yte, cost_fp=1.0, cost_fn=5.0, baseline="x")


# ---------------------------------------------------------------------------
# The course model and plots
# ---------------------------------------------------------------------------


def test_train_course_model_is_quick_and_reusable():
    course = md.train_course_model(seed=0, n_transactions=3_000, max_epochs=2)
    assert isinstance(course.model.network_, nn.Sequential)
    assert course.model.predict_proba(course.data.X_test).shape == (course.data.X_test.shape[0], 2)
    raw = course.data.frames["test"][make_world(seed=0, n_transactions=10).feature_columns]
    np.testing.assert_allclose(course.data.preprocessor.transform(raw), course.data.X_test)


def test_plots_return_axes():
    history = {"epoch": [1, 2, 3], "train_loss": [0.5, 0.4, 0.3], "val_loss": [0.6, 0.5, 0.55]}
    ax = md.plot_history(history)
    assert len(ax.lines) == 3  # train, validation, best-epoch marker
    ax = md.plot_loss_curves({"lr=1": [1.0, 0.5, 0.2], "lr=10": [1.0, np.inf, np.nan]})
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="history must be a mapping"):
        md.plot_history([1, 2])
    plt.close("all")
