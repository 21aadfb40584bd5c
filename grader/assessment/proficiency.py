"""From per-exercise points to stage levels, a role verdict, and the reasons.

Semantics (all numbers come from the rubric):

* A stage's level is the highest tier ``t`` such that the learner mastered
  *every* tier ``1..t`` of that stage. A tier is mastered under the rubric's
  :class:`~grader.assessment.rubric.MasteryRule`: fewer than
  ``max_failed_fraction`` of its graded cells failed, and either
  ``mastery_fraction`` of its points earned or, in a tier of at least
  ``slip_from_cells`` cells, no more than ``slip_cells`` failed. A tier without
  exercises cannot be demonstrated, so it caps the level.
* The capstone assignment's exercises count only towards the capstone rule
  (passed at ``capstone.pass_fraction`` of its points), never towards a stage level.
* A role is met when all of its requirements are met; the verdict is the
  highest role met, or ``None``.
* Every unmet requirement becomes a :class:`Gap` that says what is missing, by
  how much, and which exercises would close it.

Earning more points never lowers a level or the verdict: each tier fraction
grows with points and the failed cells only shrink, a level is a minimum over
tier tests, and every requirement is a threshold on levels or on the capstone
fraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from grader.assessment.rubric import CapstoneRule, LevelRule, MasteryRule, Role, Rubric

TIERS = (1, 2, 3, 4, 5)
# Points are floats from nbgrader; compare fractions with a little slack so
# that 7 of 10 points counts as 70%.
_EPS = 1e-9


@dataclass(frozen=True)
class Exercise:
    """One graded test cell, as declared in a source notebook."""

    assignment: str
    notebook: str
    grade_id: str
    stage: str
    tier: int
    points: float
    task: str = ""  # the exercise this cell judges: its first solution cell's grade_id (see catalogue.exercise_blocks)

    @property
    def exercise_id(self) -> str:
        """The exercise this graded cell belongs to (several cells can judge one exercise)."""
        return self.task or self.grade_id

    @property
    def ref(self) -> str:
        """``assignment/grade_id``: how reports and gaps name the exercise."""
        return f"{self.assignment}/{self.grade_id}"


@dataclass(frozen=True)
class Measurement:
    """An outcome a test cell measured against a stated target (the capstone's, for instance).

    ``comparison`` is ``"<="`` or ``">="``; ``measured`` is None when nothing
    could be measured. Informational: the points are what count.
    """

    name: str
    measured: float | None
    target: float
    comparison: str
    unit: str = ""
    passed: bool = False
    detail: str = ""

    def describe(self) -> str:
        """``serving (p99 latency): 31.2 ms (target <= 25 ms)``."""
        unit = f" {self.unit}" if self.unit else ""
        value = "not measured" if self.measured is None else f"{self.measured:.4g}{unit}"
        return f"{self.name}: {value} (target {self.comparison} {self.target:.4g}{unit})"


@dataclass(frozen=True)
class Outcome:
    """Points a learner earned on one exercise, why any were lost, and what its test measured."""

    exercise: Exercise
    earned: float
    reason: str = ""
    measurements: tuple[Measurement, ...] = ()

    @property
    def complete(self) -> bool:
        return self.earned >= self.exercise.points - _EPS


@dataclass(frozen=True)
class PointShare:
    """A group of outcomes that counts when ``required_fraction`` of its points are earned."""

    outcomes: tuple[Outcome, ...]
    required_fraction: float

    # The results are immutable, and a cohort's reports ask each of these many times (every role, every gap):
    # they are computed once per result (cached_property writes the instance's __dict__, which a frozen
    # dataclass allows).

    @cached_property
    def earned(self) -> float:
        return sum(o.earned for o in self.outcomes)

    @cached_property
    def possible(self) -> float:
        return sum(o.exercise.points for o in self.outcomes)

    @cached_property
    def fraction(self) -> float:
        """Share of the points earned; 0.0 when the group has no exercises."""
        return self.earned / self.possible if self.possible else 0.0

    @cached_property
    def reached(self) -> bool:
        return self.possible > 0 and self.earned >= self.required_fraction * self.possible - _EPS


@dataclass(frozen=True)
class TierResult(PointShare):
    tier: int = 0
    rule: MasteryRule | None = None  # None: mastered at required_fraction of the points, nothing else

    @cached_property
    def failed_cells(self) -> int:
        return sum(1 for o in self.outcomes if not o.complete)

    @property
    def slip_forgiven(self) -> bool:
        """Mastered by the slip rule rather than by the share of points."""
        rule = self.rule
        return (rule is not None and not self.reached and self._below_failed_limit()
                and len(self.outcomes) >= rule.slip_from_cells and self.failed_cells <= rule.slip_cells)

    def _below_failed_limit(self) -> bool:
        rule = self.rule
        return rule is None or self.failed_cells < rule.max_failed_fraction * len(self.outcomes) - _EPS

    @cached_property
    def mastered(self) -> bool:
        return self.possible > 0 and ((self.reached and self._below_failed_limit()) or self.slip_forgiven)

    def describe(self) -> str:
        """``tier 3 at 50%, needs 70%``, or why the tier cannot be mastered."""
        if not self.possible:
            return f"tier {self.tier} has no exercises in this course release"
        if self.reached and not self._below_failed_limit():
            return (f"tier {self.tier} at {self.fraction:.0%}, but {self.failed_cells} of its {len(self.outcomes)} "
                    f"cells failed")
        return f"tier {self.tier} at {self.fraction:.0%}, needs {self.required_fraction:.0%}"


@dataclass(frozen=True)
class StageResult:
    stage: str
    tiers: tuple[TierResult, ...]  # tiers 1..5

    @cached_property
    def level(self) -> int:
        level = 0
        for tier in self.tiers:
            if not tier.mastered:
                break
            level = tier.tier
        return level

    def blocking_tier(self) -> TierResult | None:
        """The first tier not mastered: the one to work on next."""
        return next((tier for tier in self.tiers if not tier.mastered), None)

    def exercises_to_reach(self, target: int) -> tuple[str, ...]:
        """Unfinished exercises at the tiers between the current level and ``target``."""
        return tuple(
            o.exercise.ref
            for tier in self.tiers
            if self.level < tier.tier <= target
            for o in tier.outcomes
            if not o.complete
        )

    def evidence(self) -> str:
        """What the level rests on: ``level 4: 11 of 12 cells at tiers 1-4, from 7 exercises``."""
        counted = [o for tier in self.tiers if tier.tier <= max(self.level, 1) for o in tier.outcomes]
        passed = sum(1 for o in counted if o.complete)
        exercises = len({(o.exercise.assignment, o.exercise.exercise_id) for o in counted})
        span = "tier 1" if self.level <= 1 else f"tiers 1-{self.level}"
        return (f"level {self.level}: {passed} of {len(counted)} cells at {span}, "
                f"from {exercises} exercise{'s' if exercises != 1 else ''}")

    def shortfall(self) -> str:
        """``now level 2; tier 3 at 50%, needs 70%``: where the stage stands and what blocks it."""
        blocking = self.blocking_tier()
        return f"now level {self.level}" + (f"; {blocking.describe()}" if blocking is not None else "")


@dataclass(frozen=True)
class CapstoneResult(PointShare):
    assignment: str = ""

    @property
    def passed(self) -> bool:
        return self.reached

    def describe(self) -> str:
        if not self.possible:
            return f"capstone {self.assignment} is not part of this course release"
        return f"capstone {self.assignment} at {self.fraction:.0%} of its points (needs {self.required_fraction:.0%})"


@dataclass(frozen=True)
class Gap:
    """One unmet requirement: what it asks, where the learner stands, what closes it."""

    requirement: str
    shortfall: str
    exercises: tuple[str, ...] = ()

    def __str__(self) -> str:
        todo = f"; work on: {', '.join(self.exercises)}" if self.exercises else ""
        return f"{self.requirement}: {self.shortfall}{todo}"


@dataclass(frozen=True)
class RoleCheck:
    role: Role
    gaps: tuple[Gap, ...]

    @property
    def met(self) -> bool:
        return not self.gaps


@dataclass(frozen=True)
class Proficiency:
    """A learner's assessment: levels, verdict, and the reasons behind both."""

    learner: str
    stages: dict[str, StageResult]
    capstone: CapstoneResult
    roles: tuple[RoleCheck, ...]  # lowest role first
    rubric: Rubric = field(repr=False)

    @property
    def levels(self) -> dict[str, int]:
        return {stage_id: result.level for stage_id, result in self.stages.items()}

    @property
    def verdict(self) -> Role | None:
        met = [check.role for check in self.roles if check.met]
        return met[-1] if met else None

    @property
    def next_role(self) -> RoleCheck | None:
        """The lowest role not yet met: the one the explanation is about."""
        return next((check for check in self.roles if not check.met), None)

    def explanation(self) -> list[str]:
        """Plain-language lines: the verdict, then what the next role is missing."""
        verdict = self.verdict
        lines = [
            f"Meets the {verdict.title} requirements." if verdict else "Does not yet meet the requirements of any role."
        ]
        upcoming = self.next_role
        if upcoming is not None:
            lines.append(f"For {upcoming.role.title}:")
            lines.extend(f"- {gap}" for gap in upcoming.gaps)
        return lines


def score_stage(stage: str, outcomes: Iterable[Outcome], rule: MasteryRule) -> StageResult:
    """Group one stage's outcomes by tier and wrap them as a :class:`StageResult`."""
    by_tier: dict[int, list[Outcome]] = {tier: [] for tier in TIERS}
    for outcome in outcomes:
        if outcome.exercise.stage == stage:
            by_tier[outcome.exercise.tier].append(outcome)
    return StageResult(stage, tuple(TierResult(tuple(by_tier[t]), rule.fraction, tier=t, rule=rule) for t in TIERS))


def score_capstone(outcomes: Iterable[Outcome], rubric: Rubric) -> CapstoneResult:
    mine = tuple(o for o in outcomes if o.exercise.assignment == rubric.capstone_assignment)
    return CapstoneResult(mine, rubric.capstone_pass_fraction, assignment=rubric.capstone_assignment)


def _stage_targets(role: Role) -> dict[str, int]:
    """The level every stage must reach under the role's all-of rules."""
    targets: dict[str, int] = {}
    for rule in role.requires:
        if isinstance(rule, LevelRule) and rule.at_least == len(rule.stages):
            for stage in rule.stages:
                targets[stage] = max(targets.get(stage, 0), rule.min_level)
    return targets


def _closeness(result: StageResult) -> tuple[int, float]:
    blocking = result.blocking_tier()
    return (result.level, blocking.fraction if blocking else 1.0)


def _some_of_gap(rule: LevelRule, stages: dict[str, StageResult]) -> Gap | None:
    reached = [s for s in rule.stages if stages[s].level >= rule.min_level]
    missing = rule.at_least - len(reached)
    if missing <= 0:
        return None
    candidates = sorted((stages[s] for s in rule.stages if s not in reached), key=_closeness, reverse=True)
    closest = candidates[:missing]
    has = f"has {len(reached)}" + (f" ({', '.join(reached)})" if reached else "")
    shortfall = f"{has}, needs {missing} more; closest: " + "; ".join(
        f"{result.stage} ({result.shortfall()})" for result in closest
    )
    exercises = tuple(ref for result in closest for ref in result.exercises_to_reach(rule.min_level))
    return Gap(f"level {rule.min_level} in {rule.at_least} of {', '.join(rule.stages)}", shortfall, exercises)


def check_role(role: Role, stages: dict[str, StageResult], capstone: CapstoneResult) -> RoleCheck:
    """Compare the learner's stage results with every requirement of ``role``."""
    gaps: list[Gap] = []
    for stage, target in _stage_targets(role).items():
        result = stages[stage]
        if result.level < target:
            gaps.append(Gap(f"level {target} in {stage}", result.shortfall(), result.exercises_to_reach(target)))
    for rule in role.requires:
        if isinstance(rule, LevelRule) and rule.at_least < len(rule.stages):
            gap = _some_of_gap(rule, stages)
            if gap is not None:
                gaps.append(gap)
        elif isinstance(rule, CapstoneRule) and not capstone.passed:
            unfinished = tuple(o.exercise.ref for o in capstone.outcomes if not o.complete)
            gaps.append(Gap("capstone passed", capstone.describe(), unfinished))
    return RoleCheck(role, tuple(gaps))


def assess(learner: str, outcomes: Sequence[Outcome], rubric: Rubric) -> Proficiency:
    """Score one learner.

    Parameters
    ----------
    learner
        The learner's id, as in the gradebook.
    outcomes
        One :class:`Outcome` per graded exercise in the course, with the points
        earned (0 for exercises not submitted). Stage and tier come from the
        source notebooks, never from the submission.
    rubric
        The validated rubric.
    """
    unknown = {o.exercise.stage for o in outcomes} - set(rubric.stage_ids)
    if unknown:
        raise ValueError(f"outcomes name stages the rubric does not define: {sorted(unknown)}")
    # The capstone counts towards the Staff rule only: a stage level always
    # means the same set of stage exercises, whether or not a release ships the capstone.
    stage_outcomes = [o for o in outcomes if o.exercise.assignment != rubric.capstone_assignment]
    stages = {s: score_stage(s, stage_outcomes, rubric.mastery) for s in rubric.stage_ids}
    capstone = score_capstone(outcomes, rubric)
    roles = tuple(check_role(role, stages, capstone) for role in rubric.roles)
    return Proficiency(learner, stages, capstone, roles, rubric)
