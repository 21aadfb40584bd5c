"""Tests for mlcourse.feedback (stage 9: feedback loops)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlcourse import feedback as fb
from mlcourse.world import make_world


@pytest.fixture(scope="module")
def world_tx() -> pd.DataFrame:
    return make_world(seed=0, n_transactions=30_000, n_customers=3_000, hard_negative_rate=0.05,
                      drift=()).transactions


# --- 1. feedback logging ------------------------------------------------------


def test_feedback_events_types_and_rates(world_tx: pd.DataFrame) -> None:
    ev = fb.feedback_events(world_tx, review_delay_days=2)
    assert list(ev.columns) == fb.EVENT_COLUMNS
    exp = ev[ev.feedback_type == "explicit"]
    imp = ev[ev.feedback_type == "implicit"]
    assert len(exp) == int(world_tx["reviewed"].sum())
    assert len(imp) == int(world_tx["disputed"].sum())
    assert (imp["label"] == 1.0).all()
    assert np.allclose(exp["event_day"].to_numpy(), world_tx.loc[exp["tx_id"], "day"].to_numpy() + 2)
    assert ev["event_day"].is_monotonic_increasing
    rates = fb.feedback_rates(world_tx)
    assert rates["explicit_rate"] == pytest.approx(world_tx["reviewed"].mean())
    assert rates["implicit_rate"] == pytest.approx(world_tx["disputed"].mean())
    # Analysts are right ~97% of the time; disputes are a noisy signal.
    assert rates["explicit_accuracy"] > 0.9
    assert rates["implicit_precision"] < rates["explicit_accuracy"]


def test_join_feedback_as_of_delayed_and_missing() -> None:
    preds = pd.DataFrame({"day": [0, 0, 5, 5], "score": [0.9, 0.1, 0.5, 0.2]}, index=[10, 11, 12, 13])
    ev = pd.DataFrame({
        "tx_id": [10, 10, 11, 12, 99, 13],
        "event_day": [3.0, 8.0, 20.0, 4.0, 1.0, 6.0],
        "feedback_type": ["explicit", "implicit", "implicit", "implicit", "explicit", "explicit"],
        "label": [0.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    })
    j = fb.join_feedback(preds, ev, as_of=10)
    assert j.loc[10, "explicit_label"] == 0.0 and j.loc[10, "implicit_label"] == 1.0
    assert j.loc[10, "feedback_label"] == 0.0  # explicit wins
    assert j.loc[10, "feedback_day"] == 3.0
    assert math.isnan(j.loc[11, "feedback_label"])  # arrives on day 20: not known yet
    assert not j.loc[12, "has_feedback"]  # event before its prediction: ignored
    assert j.loc[13, "has_feedback"]
    assert j["has_feedback"].tolist() == [True, False, False, True]
    later = fb.join_feedback(preds, ev, as_of=30)
    assert later.loc[11, "feedback_label"] == 1.0
    assert len(j) == len(preds) and (j["score"] == preds["score"]).all()


# --- 2. IPW ---------------------------------------------------------------------


def _ipw_trial(seed: int) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(seed)
    n = 20_000
    score = rng.beta(1, 6, n)
    y = (rng.random(n) < score).astype(float)  # calibrated model: fraud rate tracks the score
    p = fb.logging_propensity(score, base=0.05, strength=1.5)
    obs = rng.random(n) < p
    vals = np.where(obs, y, np.nan)
    return (y.mean(), fb.ipw_estimate(vals, obs, p), fb.ipw_estimate(vals, obs, p, self_normalize=True),
            fb.naive_estimate(vals, obs))


def test_ipw_unbiased_naive_biased() -> None:
    trials = np.array([_ipw_trial(s) for s in range(30)])
    truth, ipw, snips, naive = trials.T
    assert abs((ipw - truth).mean()) < 0.004
    assert abs((snips - truth).mean()) < 0.004
    assert (naive - truth).mean() > 0.05  # reviews favour high scores: naive overstates fraud


def test_ipw_clip_and_position_bias() -> None:
    rng = np.random.default_rng(1)
    rank = np.arange(1, 2001)
    p = fb.examination_propensity(rank, eta=0.5)
    v = rng.random(rank.size)
    est = [fb.ipw_estimate(v, rng.random(rank.size) < p, p) for _ in range(50)]
    assert abs(np.mean(est) - v.mean()) < 0.02
    obs = np.ones(4, bool)
    # Clipping caps the weights (1/p <= 1/clip).
    assert fb.ipw_estimate([1, 1, 1, 1], obs, [0.01, 1, 1, 1], clip=0.1) == pytest.approx((10 + 3) / 4)
    assert fb.ipw_estimate([1, 0, 1, 0], obs, [1, 1, 1, 1]) == 0.5


# --- 3. drift detectors -------------------------------------------------------


# DDM at its default thresholds (warm_start 30, 3 sigma) raises many false alarms on
# long quiet streams: a known weakness; a longer warm-up and 4 sigma tame it.
@pytest.mark.parametrize("make", [lambda: fb.DDM(warm_start=300, drift_threshold=4.0), lambda: fb.PageHinkley(threshold=20), lambda: fb.ADWIN()])
def test_detectors_find_planted_drift_with_few_false_alarms(make) -> None:
    total_missed = total_false = 0
    delays = []
    for seed in range(5):
        stream = fb.make_error_stream(3000, [1500], (0.05, 0.3), seed=seed)
        r = fb.evaluate_detections(fb.detect_drifts(make(), stream), [1500], 3000, max_delay=250)
        total_missed += r["n_missed"]
        total_false += r["false_alarms"]
        delays += [d for d in r["delays"] if d is not None]
        quiet = fb.make_error_stream(3000, [], (0.05,), seed=100 + seed)
        total_false += len(fb.detect_drifts(make(), quiet))
    assert total_missed == 0
    assert np.mean(delays) < 200
    assert total_false <= 2


def test_ddm_and_page_hinkley_hand_worked() -> None:
    # Page-Hinkley (delta 0, alpha 1): x = 0,0,1 -> means 0,0,1/3; dev 0,0,2/3; m = 0,0,2/3.
    ph = fb.PageHinkley(min_instances=1, delta=0.0, threshold=0.6, alpha=1.0)
    assert [ph.update(x) for x in (0, 0, 1)] == [False, False, True]
    # DDM: 40 zeros keep p = s = 0 (p_min + 3 s_min = 0); the first error raises p + s above 0.
    d = fb.DDM(warm_start=30)
    hits = fb.detect_drifts(d, [0] * 40 + [1])
    assert hits == [40]
    # ADWIN: a jump from 0s to 1s cuts the window; the old part is dropped.
    a = fb.ADWIN(clock=1)
    hits = fb.detect_drifts(a, [0.0] * 200 + [1.0] * 50)
    assert hits and 200 <= hits[0] < 215
    assert a.width < 100


def test_detectors_match_river() -> None:
    drift = pytest.importorskip("river.drift")
    binary = pytest.importorskip("river.drift.binary")
    for seed in range(3):
        stream = fb.make_error_stream(4000, [1000, 2500], (0.05, 0.35, 0.1), seed=seed)
        ours = fb.detect_drifts(fb.DDM(), stream)
        rd = binary.DDM()
        theirs = [i for i, x in enumerate(stream) if (rd.update(x), rd.drift_detected)[1]]
        assert ours == theirs
        ours = fb.detect_drifts(fb.PageHinkley(threshold=20, mode="both"), stream)
        rp = drift.PageHinkley(threshold=20, mode="both")
        theirs = [i for i, x in enumerate(stream) if (rp.update(x), rp.drift_detected)[1]]
        assert ours == theirs
        # ADWIN: river compresses the window into buckets, so detections agree within a tolerance.
        ours = fb.detect_drifts(fb.ADWIN(), stream)
        ra = drift.ADWIN()
        theirs = [i for i, x in enumerate(stream) if (ra.update(x), ra.drift_detected)[1]]
        for point in (1000, 2500):
            o = [d for d in ours if point <= d < point + 500]
            t = [d for d in theirs if point <= d < point + 500]
            assert o and t and abs(o[0] - t[0]) <= 96


def test_evaluate_detections_counts() -> None:
    r = fb.evaluate_detections([50, 120, 130, 900], [100, 800], 1000, max_delay=60)
    assert r["delays"] == [20, None]
    assert r["n_missed"] == 1 and r["false_alarms"] == 3 and r["mean_delay"] == 20.0


# --- 4. hard negatives --------------------------------------------------------


def test_hard_negative_retraining_improves_hard_slice(world_tx: pd.DataFrame) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    cols = ["amount", "distance_km", "account_age_days", "tx_count_24h", "is_foreign", "is_new_device"]
    X = world_tx[cols].astype(float).to_numpy()
    y = world_tx["is_fraud"].to_numpy()
    hard = world_tx["is_hard_negative"].to_numpy(bool)
    tr = np.arange(len(y)) < 20_000
    te = ~tr

    def model() -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(max_iter=60, random_state=0)

    oof = cross_val_predict(model(), X[tr], y[tr], cv=3, method="predict_proba")[:, 1]
    mined = fb.mine_hard_negatives(y[tr], oof, threshold=float(np.quantile(oof, 0.95)))
    assert mined.sum() > 100
    assert hard[tr][mined].mean() > 5 * hard[tr].mean()  # mining finds the world's hard negatives
    base = model().fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
    weighted = model().fit(X[tr], y[tr], sample_weight=fb.hard_negative_weights(mined, 5.0))
    retrained = weighted.predict_proba(X[te])[:, 1]
    before = fb.hard_slice_fpr(y[te], base, hard[te])
    after = fb.hard_slice_fpr(y[te], retrained, hard[te])
    assert after < before - 0.02


def test_mine_hard_negatives_repeated() -> None:
    y = np.array([0, 0, 0, 1])
    s = np.array([[0.9, 0.9, 0.1, 0.9], [0.8, 0.1, 0.1, 0.9], [0.7, 0.2, 0.6, 0.9]])
    assert fb.mine_hard_negatives(y, s, min_count=2).tolist() == [True, False, False, False]
    assert fb.mine_hard_negatives(y, s, min_count=1).tolist() == [True, True, True, False]


# --- 5. degenerate feedback loop ----------------------------------------------


def test_exploration_beats_degenerate_loop() -> None:
    gaps = []
    for seed in range(3):
        greedy = fb.simulate_feedback_loop(epsilon=0.0, seed=seed)
        explore = fb.simulate_feedback_loop(epsilon=0.05, seed=seed)
        # Before the drift both catch most fraud.
        assert greedy["recall"].iloc[:10].mean() > 0.7
        tail_g = greedy["recall"].iloc[-15:].mean()
        tail_e = explore["recall"].iloc[-15:].mean()
        assert tail_g < 0.3  # stuck flagging the old hot spots
        assert set(explore["flagged"].iloc[-1]) == {8, 9}
        gaps.append(tail_e - tail_g)
    assert min(gaps) > 0.4


def test_simulation_is_deterministic() -> None:
    a = fb.simulate_feedback_loop(epsilon=0.05, seed=4, n_rounds=15)
    b = fb.simulate_feedback_loop(epsilon=0.05, seed=4, n_rounds=15)
    pd.testing.assert_frame_equal(a, b)


# --- validation ---------------------------------------------------------------


def test_validation_messages() -> None:
    with pytest.raises(ValueError, match="review_delay_days"):
        fb.feedback_events(pd.DataFrame({"day": [0], "reviewed": [True], "review_label": [1.0],
                                         "disputed": [False], "dispute_day": [np.nan]}), review_delay_days=-1)
    with pytest.raises(ValueError, match="transactions is missing column"):
        fb.feedback_events(pd.DataFrame({"day": [0]}))
    with pytest.raises(ValueError, match="as_of"):
        fb.join_feedback(pd.DataFrame({"day": [0]}), pd.DataFrame(columns=fb.EVENT_COLUMNS), as_of="x")
    with pytest.raises(ValueError, match="propensity must be in"):
        fb.ipw_estimate([1.0], [True], [0.0])
    with pytest.raises(ValueError, match="same length"):
        fb.ipw_estimate([1.0, 0.0], [True], [0.5])
    with pytest.raises(ValueError, match="clip"):
        fb.ipw_estimate([1.0], [True], [0.5], clip=2)
    with pytest.raises(ValueError, match="base"):
        fb.logging_propensity([0.1], base=0)
    with pytest.raises(ValueError, match="rank"):
        fb.examination_propensity([0, 1])
    with pytest.raises(ValueError, match="warm_start"):
        fb.DDM(warm_start=0)
    with pytest.raises(ValueError, match="mode"):
        fb.PageHinkley(mode="sideways")
    with pytest.raises(ValueError, match="delta"):
        fb.ADWIN(delta=1.5)
    with pytest.raises(ValueError, match="detector"):
        fb.detect_drifts(object(), [0.0])
    with pytest.raises(ValueError, match="drift_points"):
        fb.make_error_stream(100, [100])
    with pytest.raises(ValueError, match="y_true"):
        fb.mine_hard_negatives([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="min_count"):
        fb.mine_hard_negatives([0, 1], [0.1, 0.2], min_count=2)
    with pytest.raises(ValueError, match="weight"):
        fb.hard_negative_weights([True], weight=0)
    with pytest.raises(ValueError, match="epsilon"):
        fb.simulate_feedback_loop(epsilon=1.0)
    with pytest.raises(ValueError, match="n_flagged"):
        fb.simulate_feedback_loop(n_flagged=10)
