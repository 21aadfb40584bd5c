"""Classical test theory item analysis: which exercises measure well.

A course author grades a cohort and gets a learners x items matrix of points
earned. Item analysis asks three questions of it:

* **Difficulty** -- what proportion of the points did learners earn on an item?
  An item almost everyone solves (or almost no one does) tells the author
  little about who has learned what.
* **Discrimination** -- do learners who do well on an item also do well on the
  rest of the material? Measured as the *corrected* item-total correlation:
  the Pearson correlation between the item's score and the learner's total over
  the *other* items. The uncorrected correlation with a total that contains the
  item itself is inflated (the item is partly correlated with itself), most of
  all when there are few items, so it would flatter every item. For a 0/1 item
  the corrected correlation is the point-biserial correlation.
* **Reliability** -- do a stage's items agree with one another enough that
  their sum is a consistent measurement? Cronbach's alpha, or its special case
  KR-20 when every item is pass/fail.

Every item is scored as the *fraction* of its points earned (earned/points), so
that a 10-point item does not outweigh a 1-point item in correlations, totals
and alpha simply because of its scale. Difficulty is the mean of that fraction.

Flags (thresholds below) point an author at items worth a second look; they
are heuristics, not verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EASY_ABOVE = 0.9  # difficulty above this: "too easy"
HARD_BELOW = 0.2  # difficulty below this: "too hard"
DISCRIMINATES_FROM = 0.2  # discrimination below this (or undefined): "does not discriminate"
#: "failed by those who master the next tier": more than this share of the learners who master the tier above
#: an item fail it (an item out of order, or broken), once at least NEXT_TIER_LEARNERS such learners exist.
NEXT_TIER_FAIL_ABOVE, NEXT_TIER_LEARNERS = 0.5, 2
OUT_OF_ORDER = "failed by most who master the next tier"

# nbgrader points are floats; a score a rounding error above its points (or
# below zero) is still a valid score, and a pass/fail item may have been
# awarded 0.9999999999 of its points.
_TOLERANCE = 1e-9
# Sums of fractions of identical rows can differ in the last bits; a spread
# this small is no variance at all (fractions live in [0, 1]).
_NO_SPREAD = 1e-12

KR20 = "KR-20"
ALPHA = "Cronbach's alpha"


@dataclass(frozen=True)
class ItemStats:
    """Classical statistics of one exercise over one cohort."""

    ref: str  # exercise id, e.g. "04_evaluation/ex2_confusion_counts_tests"
    stage: str
    tier: int
    points: float  # points possible
    learners: int  # number of learners (rows)
    difficulty: float  # mean over learners of earned/points, in [0, 1]
    discrimination: float | None  # corrected item-total (item-rest) Pearson correlation
    flags: tuple[str, ...]  # any of "too easy", "too hard", "does not discriminate", OUT_OF_ORDER, in that order


@dataclass(frozen=True)
class Reliability:
    """Internal consistency of one stage's items over one cohort."""

    stage: str
    items: int
    learners: int
    coefficient: float | None  # None: fewer than 2 items or learners, or zero total variance
    method: str  # "KR-20" when every item is scored 0 or full points only, else "Cronbach's alpha"


def analyse_items(scores: np.ndarray, points: np.ndarray, refs, stages, tiers,
                  masters_next_tier: np.ndarray | None = None) -> list[ItemStats]:
    """Difficulty, discrimination and flags of every item.

    ``scores``: learners x items array of points earned; ``points``: length-items
    array of points possible; ``refs``, ``stages``, ``tiers``: one per item.

    * difficulty_j = mean_i(scores[i, j] / points[j])
    * discrimination_j = pearson_r(f_j, rest_j) with f_j = scores[:, j] / points[j]
      and rest_j = sum over the other items k != j of f_k; None when f_j or rest_j
      has zero variance, or with fewer than 3 learners.

    ``masters_next_tier`` (learners x items, bool, optional): whether learner
    ``i`` mastered the tier above item ``j`` in its stage. An item that more than
    :data:`NEXT_TIER_FAIL_ABOVE` of those learners did not get full points on is
    flagged :data:`OUT_OF_ORDER`.

    Returns one :class:`ItemStats` per item, in column order. Raises ValueError
    on malformed input or when there are no learners.
    """
    scores, points = _validated(scores, points)
    refs, stages, tiers = (list(refs), list(stages), list(tiers))
    items = points.size
    for name, values in (("refs", refs), ("stages", stages), ("tiers", tiers)):
        if len(values) != items:
            raise ValueError(f"{name} has {len(values)} entries for {items} items")
    learners = scores.shape[0]
    if learners == 0:
        raise ValueError("scores has no learners: difficulty is undefined")
    fractions = _fractions(scores, points)
    result = []
    for j in range(items):
        difficulty = float(fractions[:, j].mean())
        discrimination = _discrimination(fractions, j)
        result.append(
            ItemStats(
                ref=str(refs[j]),
                stage=str(stages[j]),
                tier=int(tiers[j]),
                points=float(points[j]),
                learners=learners,
                difficulty=difficulty,
                discrimination=discrimination,
                flags=_flags(difficulty, discrimination) + _order_flag(fractions[:, j], masters_next_tier, j),
            )
        )
    return result


def reliability(scores: np.ndarray, points: np.ndarray, stage: str) -> Reliability:
    """Cronbach's alpha (or KR-20 for pass/fail items) of the given item columns (all of one stage).

    ``scores``: learners x k array of points earned; ``points``: length-k array.
    With item fractions f_j = scores[:, j] / points[j] and total = row sum of f:

    * alpha = k/(k-1) * (1 - sum_j var(f_j) / var(total)), sample variances (ddof=1).
    * KR-20 = k/(k-1) * (1 - sum_j p_j q_j n/(n-1) / var(total)), p_j the proportion
      correct, q_j = 1 - p_j, n learners. p_j q_j n/(n-1) is exactly the ddof=1
      variance of a 0/1 column, so KR-20 is alpha computed on the 0/1 data; the
      textbook p_j q_j alone would mix population item variances with a sample
      total variance.

    KR-20 is used when every score is 0 or the item's full points. The
    coefficient is None with fewer than 2 items or learners, or when the total
    has zero variance. Raises ValueError on malformed input.
    """
    scores, points = _validated(scores, points)
    learners, items = scores.shape
    fractions = _fractions(scores, points)
    dichotomous = _is_dichotomous(fractions)
    method = KR20 if dichotomous else ALPHA
    if dichotomous:
        # Within the tolerance, so that p_j and the total see the same 0/1 data.
        fractions = np.round(fractions)
    coefficient = None
    if items >= 2 and learners >= 2:
        total_variance = float(fractions.sum(axis=1).var(ddof=1))
        if total_variance > _NO_SPREAD:
            item_variances = _kr20_item_variances(fractions) if dichotomous else fractions.var(axis=0, ddof=1)
            coefficient = items / (items - 1) * (1.0 - float(item_variances.sum()) / total_variance)
    return Reliability(stage=str(stage), items=items, learners=learners, coefficient=coefficient, method=method)


def stage_reliabilities(scores, points, stages) -> list[Reliability]:
    """:func:`reliability` of each stage's columns, stages in order of first appearance.

    ``scores``: learners x items; ``points`` and ``stages``: one per item.
    Returns one :class:`Reliability` per distinct stage.
    """
    scores, points = _validated(scores, points)
    stages = [str(stage) for stage in stages]
    if len(stages) != points.size:
        raise ValueError(f"stages has {len(stages)} entries for {points.size} items")
    columns: dict[str, list[int]] = {}
    for j, stage in enumerate(stages):
        columns.setdefault(stage, []).append(j)
    return [reliability(scores[:, cols], points[cols], stage) for stage, cols in columns.items()]


def _validated(scores, points) -> tuple[np.ndarray, np.ndarray]:
    """``scores`` as a float learners x items array and ``points`` as a float items array, or ValueError."""
    scores = np.asarray(scores, dtype=float)
    points = np.asarray(points, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D learners x items array, got shape {scores.shape}")
    if points.ndim != 1:
        raise ValueError(f"points must be a 1-D array with one entry per item, got shape {points.shape}")
    if scores.shape[1] != points.size:
        raise ValueError(f"scores has {scores.shape[1]} item columns but points has {points.size} entries")
    if not np.all(np.isfinite(points)) or np.any(points <= 0):
        raise ValueError("points possible must be finite and positive for every item")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite (no NaN or infinity)")
    below = scores < -_TOLERANCE
    above = scores > points + _TOLERANCE
    if np.any(below) or np.any(above):
        i, j = np.argwhere(below | above)[0]
        raise ValueError(
            f"score {scores[i, j]} of learner {i} on item {j} is outside 0..{points[j]} (its points possible)"
        )
    return scores, points


def _fractions(scores: np.ndarray, points: np.ndarray) -> np.ndarray:
    """learners x items fractions of points earned, clipped to [0, 1] (the tolerance may exceed it)."""
    return np.clip(scores / points, 0.0, 1.0)


def _discrimination(fractions: np.ndarray, j: int) -> float | None:
    """Pearson r between item ``j`` and the sum of the other items, or None when undefined."""
    if fractions.shape[0] < 3:
        return None
    # Summing the other columns (rather than total minus item) keeps a rest score
    # that is constant exactly constant, instead of constant up to rounding noise.
    rest = np.delete(fractions, j, axis=1).sum(axis=1)
    return _pearson(fractions[:, j], rest)


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation of two equal-length vectors; None when either has no spread."""
    if np.ptp(x) <= _NO_SPREAD or np.ptp(y) <= _NO_SPREAD:
        return None
    xc = x - x.mean()
    yc = y - y.mean()
    r = float(xc @ yc / np.sqrt((xc @ xc) * (yc @ yc)))
    # Rounding can carry a perfect correlation just past +-1.
    return min(1.0, max(-1.0, r))


def _flags(difficulty: float, discrimination: float | None) -> tuple[str, ...]:
    """The flags of an item, in the fixed order easy, hard, discrimination."""
    flags = []
    if difficulty > EASY_ABOVE:
        flags.append("too easy")
    if difficulty < HARD_BELOW:
        flags.append("too hard")
    if discrimination is None or discrimination < DISCRIMINATES_FROM:
        flags.append("does not discriminate")
    return tuple(flags)


def _order_flag(fractions: np.ndarray, masters_next_tier: np.ndarray | None, j: int) -> tuple[str, ...]:
    if masters_next_tier is None:
        return ()
    masters = np.asarray(masters_next_tier, dtype=bool)[:, j]
    if masters.sum() < NEXT_TIER_LEARNERS:
        return ()
    failed = fractions[masters] < 1.0 - _TOLERANCE
    return (OUT_OF_ORDER,) if failed.mean() > NEXT_TIER_FAIL_ABOVE else ()


def _is_dichotomous(fractions: np.ndarray) -> bool:
    """Whether every score is nothing or full points (up to the tolerance)."""
    return bool(np.all((fractions <= _TOLERANCE) | (fractions >= 1.0 - _TOLERANCE)))


def _kr20_item_variances(fractions: np.ndarray) -> np.ndarray:
    """p_j q_j n/(n-1) per item of a 0/1 matrix: the sample (ddof=1) variance of each column."""
    n = fractions.shape[0]
    p = fractions.mean(axis=0)
    return p * (1.0 - p) * n / (n - 1)
