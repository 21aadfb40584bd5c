"""Classical item analysis: difficulty, corrected item-total discrimination, alpha and KR-20."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import pointbiserialr

from grader.assessment.item_analysis import analyse_items, reliability, stage_reliabilities


def _analyse(scores, points, stage="s"):
    items = np.asarray(points).size
    return analyse_items(
        np.asarray(scores, dtype=float),
        np.asarray(points, dtype=float),
        [f"a/ex{j}" for j in range(items)],
        [stage] * items,
        [1] * items,
    )


# A Guttman pattern: each learner solves every item easier than their hardest one.
HAND_SCORES = np.array(
    [
        [1, 1, 1, 1],  # total 4
        [1, 1, 1, 0],  # total 3
        [1, 1, 0, 0],  # total 2
        [1, 0, 0, 0],  # total 1
        [0, 0, 0, 0],  # total 0
    ],
    dtype=float,
)


def test_hand_computed_difficulty_kr20_and_discrimination():
    # p = (4/5, 3/5, 2/5, 1/5) = (0.8, 0.6, 0.4, 0.2)
    # p*q = (0.16, 0.24, 0.24, 0.16), sum = 0.8; times n/(n-1) = 5/4: 1.0
    # totals 4, 3, 2, 1, 0: mean 2, squared deviations 4+1+0+1+4 = 10, var (ddof=1) = 10/4 = 2.5
    # KR-20 = 4/3 * (1 - 1.0/2.5) = 4/3 * 0.6 = 0.8
    #
    # Item 0 = (1,1,1,1,0), rest = (3,2,1,0,0): means 0.8 and 1.2
    # cross products 0.2*1.8 + 0.2*0.8 + 0.2*(-0.2) + 0.2*(-1.2) + (-0.8)*(-1.2) = 0.36+0.16-0.04-0.24+0.96 = 1.2
    # SS item = 4*0.04 + 0.64 = 0.8; SS rest = 3.24+0.64+0.04+1.44+1.44 = 6.8
    # r = 1.2 / sqrt(0.8 * 6.8) = 1.2 / sqrt(5.44)
    stats = _analyse(HAND_SCORES, [1, 1, 1, 1])
    assert [s.difficulty for s in stats] == pytest.approx([0.8, 0.6, 0.4, 0.2], abs=1e-12)
    assert all(s.learners == 5 for s in stats)
    assert stats[0].discrimination == pytest.approx(1.2 / math.sqrt(5.44), abs=1e-12)
    # 0.2 is not below HARD_BELOW, and every item tracks the rest: nothing flagged.
    assert all(s.flags == () for s in stats)

    rel = reliability(HAND_SCORES, np.ones(4), "s")
    assert (rel.stage, rel.items, rel.learners, rel.method) == ("s", 4, 5, "KR-20")
    assert rel.coefficient == pytest.approx(0.8, abs=1e-9)


def test_item_metadata_and_points_scale_are_carried():
    # The same pattern on 10- and 2-point items: fractions, hence statistics, are unchanged.
    points = np.array([10.0, 2.0, 10.0, 2.0])
    refs = ["a/x", "a/y", "b/x", "b/y"]
    stats = analyse_items(HAND_SCORES * points, points, refs, ["A", "A", "B", "B"], [1, 2, 1, 3])
    assert [(s.ref, s.stage, s.tier, s.points) for s in stats] == [
        ("a/x", "A", 1, 10.0),
        ("a/y", "A", 2, 2.0),
        ("b/x", "B", 1, 10.0),
        ("b/y", "B", 3, 2.0),
    ]
    unit = _analyse(HAND_SCORES, [1, 1, 1, 1])
    assert [s.difficulty for s in stats] == pytest.approx([s.difficulty for s in unit])
    assert [s.discrimination for s in stats] == pytest.approx([s.discrimination for s in unit])


def test_discrimination_matches_point_biserial_against_rest_score():
    rng = np.random.default_rng(7)
    ability = rng.normal(size=60)
    # Items of varied difficulty that depend on ability, so correlations are not all near zero.
    scores = (ability[:, None] + rng.normal(size=(60, 8)) > rng.normal(size=8)).astype(float)
    stats = _analyse(scores, np.ones(8))
    for j, item in enumerate(stats):
        rest = scores.sum(axis=1) - scores[:, j]
        expected = pointbiserialr(scores[:, j], rest).statistic
        assert item.discrimination == pytest.approx(expected, abs=1e-12)
    # The uncorrected correlation would be larger; make sure it is not what we report.
    total = scores.sum(axis=1)
    assert stats[0].discrimination < pointbiserialr(scores[:, 0], total).statistic


def test_discrimination_matches_corrcoef_on_partial_credit():
    rng = np.random.default_rng(11)
    points = np.array([1.0, 2.0, 5.0, 10.0, 3.0])
    ability = rng.uniform(size=40)
    fractions = np.clip(ability[:, None] + rng.normal(scale=0.3, size=(40, 5)), 0, 1)
    scores = fractions * points
    stats = _analyse(scores, points)
    for j, item in enumerate(stats):
        rest = np.delete(fractions, j, axis=1).sum(axis=1)
        assert item.discrimination == pytest.approx(np.corrcoef(fractions[:, j], rest)[0, 1], abs=1e-12)
        assert item.difficulty == pytest.approx(fractions[:, j].mean(), abs=1e-12)


def _alpha_from_covariance(fractions: np.ndarray) -> float:
    c = np.cov(fractions, rowvar=False)
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


@pytest.mark.parametrize("seed", range(20))
def test_alpha_matches_covariance_matrix_form(seed):
    rng = np.random.default_rng(seed)
    learners, items = rng.integers(3, 50), rng.integers(2, 12)
    points = rng.choice([1.0, 2.0, 4.0, 10.0], size=items)
    # Half-point steps, as a grader awards partial credit.
    scores = np.round(rng.uniform(size=(learners, items)) * points * 2) / 2
    scores[0, 0] = points[0] / 2  # at least one partial credit
    rel = reliability(scores, points, "s")
    assert rel.method == "Cronbach's alpha"
    assert rel.coefficient == pytest.approx(_alpha_from_covariance(scores / points), abs=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_kr20_equals_alpha_on_pass_fail_items(seed):
    rng = np.random.default_rng(seed)
    learners, items = rng.integers(3, 50), rng.integers(2, 12)
    points = rng.choice([1.0, 3.0, 5.0], size=items)
    passed = rng.uniform(size=(learners, items)) < rng.uniform(0.2, 0.8, size=items)
    passed[0], passed[1] = True, False  # some total variance
    rel = reliability(passed * points, points, "s")
    assert rel.method == "KR-20"
    assert rel.coefficient == pytest.approx(_alpha_from_covariance(passed.astype(float)), abs=1e-9)


def test_method_is_alpha_as_soon_as_one_item_has_partial_credit():
    scores = HAND_SCORES.copy()
    scores[2, 3] = 0.5
    assert reliability(HAND_SCORES, np.ones(4), "s").method == "KR-20"
    assert reliability(scores, np.ones(4), "s").method == "Cronbach's alpha"


def test_flags():
    rng = np.random.default_rng(3)
    ability = np.sort(rng.uniform(size=30))
    tracking = (ability > 0.5).astype(float)
    others = (ability[:, None] > np.array([0.3, 0.5, 0.7])).astype(float)
    everyone = np.ones(30)
    nobody = np.zeros(30)
    nearly_nobody = np.zeros(30)
    nearly_nobody[-1] = 1.0  # 1/30 < 0.2, and still has variance
    scores = np.column_stack([tracking, others, everyone, nobody, nearly_nobody])
    stats = _analyse(scores, np.ones(scores.shape[1]))

    assert stats[0].flags == ()
    assert stats[0].discrimination > 0.5
    assert stats[4].difficulty == 1.0
    assert stats[4].discrimination is None
    assert stats[4].flags == ("too easy", "does not discriminate")
    assert stats[5].discrimination is None
    assert stats[5].flags == ("too hard", "does not discriminate")
    assert stats[6].discrimination is not None
    assert "too hard" in stats[6].flags


def test_anti_correlated_item_does_not_discriminate():
    ability = np.linspace(0, 1, 20)
    good = (ability[:, None] > np.array([0.3, 0.5, 0.7])).astype(float)
    backwards = (ability < 0.5).astype(float)
    stats = _analyse(np.column_stack([good, backwards]), np.ones(4))
    assert stats[3].discrimination < 0
    assert stats[3].flags == ("does not discriminate",)


def test_discrimination_undefined_for_fewer_than_three_learners():
    stats = _analyse([[1, 0], [0, 1]], [1, 1])
    assert all(s.discrimination is None for s in stats)


def test_score_a_rounding_error_above_points_is_accepted():
    scores = HAND_SCORES * 3 + 1e-12
    scores[scores > 3] = 3 + 1e-12
    stats = _analyse(scores, [3, 3, 3, 3])
    assert all(0.0 <= s.difficulty <= 1.0 for s in stats)
    assert reliability(scores, np.full(4, 3.0), "s").method == "KR-20"


@pytest.mark.parametrize(
    ("scores", "points", "message"),
    [
        (np.zeros((3, 4)), np.ones(3), "points"),
        (np.zeros(4), np.ones(4), "2-D"),
        (np.full((3, 2), 2.0), np.ones(2), "outside"),
        (np.full((3, 2), -0.5), np.ones(2), "outside"),
        (np.array([[np.nan, 0.0], [1.0, 1.0]]), np.ones(2), "finite"),
        (np.array([[np.inf, 0.0], [1.0, 1.0]]), np.ones(2), "finite"),
        (np.zeros((3, 2)), np.array([1.0, 0.0]), "positive"),
        (np.zeros((3, 2)), np.array([1.0, np.nan]), "positive"),
    ],
)
def test_bad_input_raises(scores, points, message):
    items = np.asarray(points).size
    with pytest.raises(ValueError, match=message):
        analyse_items(scores, points, ["r"] * items, ["s"] * items, [1] * items)
    with pytest.raises(ValueError, match=message):
        reliability(scores, points, "s")
    with pytest.raises(ValueError, match=message):
        stage_reliabilities(scores, points, ["s"] * items)


def test_bad_metadata_lengths_raise():
    with pytest.raises(ValueError, match="refs"):
        analyse_items(HAND_SCORES, np.ones(4), ["r"] * 3, ["s"] * 4, [1] * 4)
    with pytest.raises(ValueError, match="stages"):
        stage_reliabilities(HAND_SCORES, np.ones(4), ["s"] * 5)
    with pytest.raises(ValueError, match="no learners"):
        analyse_items(np.zeros((0, 2)), np.ones(2), ["r", "r"], ["s", "s"], [1, 1])


def test_stage_reliabilities_group_by_first_appearance():
    rng = np.random.default_rng(5)
    scores = np.round(rng.uniform(size=(25, 6)) * 4) / 4
    stages = ["B", "A", "B", "C", "A", "B"]
    rels = stage_reliabilities(scores, np.ones(6), stages)
    assert [(r.stage, r.items, r.learners) for r in rels] == [("B", 3, 25), ("A", 2, 25), ("C", 1, 25)]
    for rel, cols in zip(rels[:2], ([0, 2, 5], [1, 4])):
        assert rel.coefficient == pytest.approx(_alpha_from_covariance(scores[:, cols]), abs=1e-12)
    assert rels[2].coefficient is None


def test_reliability_undefined_cases():
    assert reliability(HAND_SCORES[:1], np.ones(4), "s").coefficient is None  # one learner
    assert reliability(HAND_SCORES[:, :1], np.ones(1), "s").coefficient is None  # one item
    # Everyone has the same total although items vary: zero total variance.
    swapped = np.array([[1, 0], [0, 1], [1, 0]], dtype=float)
    assert reliability(swapped, np.ones(2), "s").coefficient is None


def test_an_item_most_learners_who_master_the_next_tier_fail_is_flagged():
    from grader.assessment.item_analysis import OUT_OF_ORDER

    # Items: a tier-1 item that the two learners who master tier 2 both fail, and a sound tier-1 item.
    scores = np.array([[0, 1], [0, 1], [1, 1], [1, 0]], dtype=float)
    masters_next = np.array([[True, True], [True, True], [False, False], [False, False]])
    items = analyse_items(scores, np.ones(2), ["a", "b"], ["s", "s"], [1, 1], masters_next)
    assert OUT_OF_ORDER in items[0].flags and OUT_OF_ORDER not in items[1].flags
    # With a single such learner there is too little evidence to flag anything.
    one = np.array([[True, True], [False, False], [False, False], [False, False]])
    assert all(OUT_OF_ORDER not in i.flags for i in analyse_items(scores, np.ones(2), ["a", "b"], ["s", "s"],
                                                                  [1, 1], one))
