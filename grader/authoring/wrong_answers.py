"""Wrong answers an exercise must catch: its hand-written mistakes and generated mutants.

* **Mistakes** are written by the author as cells after a solution cell in the
  module's text, folded into ``metadata.mlcourse.mistakes`` of the source
  notebook (:mod:`grader.authoring.notebook_text`): ``{"id", "why", "code"}``,
  and ``"readable"`` (where a learner reads it) for the nearest thing a learner
  could paste. ``code`` is the whole cell as a learner would submit it. Each
  must lose points on its own exercise.
* **Mutants** come from :mod:`grader.authoring.mutants`; those an author judged
  equivalent are listed, with the reason, in ``metadata.mlcourse.equivalent_mutants``.
  An exercise's mutation score is the share of the other mutants its graded
  cells catch.

Both run through :mod:`grader.authoring.trials`: the notebook's setup once,
each wrong answer on its own exercise's cells only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.authoring.mutants import mutants
from grader.authoring.trials import Trial, TrialResult, run_trials
from grader.catalogue import exercise_blocks, read_notebook, select_assignments, solution_cells

MISTAKE, MUTANT = "mistake", "mutant"


@dataclass(frozen=True)
class MistakeCheck:
    """One hand-written mistake and what its exercise's graded cells made of it."""

    assignment: str
    solution: str
    tier: int
    mistake: str
    why: str
    readable: str
    result: TrialResult | None
    problem: str = ""  # why it could not be judged

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.caught

    def describe(self) -> str:
        what = f"{self.assignment}/{self.solution} mistake {self.mistake} ({self.why})"
        if self.result is None:
            return f"{what}: NOT JUDGED: {self.problem}"
        if not self.ok:
            return f"{what}: SURVIVES: every graded cell of the exercise passes it"
        kept = self.result.points - self.result.points_lost
        cut = f"; {self.result.problem}" if self.result.problem else ""
        return (f"{what}: caught, keeps {kept:g} of {self.result.points:g} points "
                f"(fails {', '.join(self.result.failed)}{cut})")


@dataclass(frozen=True)
class MutationScore:
    """How many of one solution cell's mutants its exercise's graded cells catch."""

    assignment: str
    solution: str
    tier: int
    killed: int
    judged: int                # mutants run (equivalent ones and, in a sample, the others left out)
    generated: int             # every mutant of the solution region
    equivalent: int
    survivors: tuple[str, ...]
    stale_marks: tuple[str, ...]  # equivalent_mutants entries that name no mutant of today's solution
    problem: str = ""

    @property
    def score(self) -> float | None:
        return self.killed / self.judged if self.judged else None

    def describe(self) -> str:
        score = "n/a" if self.score is None else f"{self.score:.0%}"
        return (f"{self.assignment}/{self.solution} (tier {self.tier}): {score} "
                f"({self.killed} killed of {self.judged} run; {self.equivalent} equivalent, "
                f"{self.generated} generated)" + (f"; {self.problem}" if self.problem else ""))


@dataclass(frozen=True)
class WrongAnswers:
    mistakes: list[MistakeCheck]
    mutation: list[MutationScore]
    seconds: float  # the workers' time, setup included

    def to_json(self) -> str:
        """Mistakes and mutation scores as JSON (the README's table and the benchmark read it)."""
        mistakes = [{"assignment": m.assignment, "solution": m.solution, "tier": m.tier, "mistake": m.mistake,
                     "why": m.why, "readable": m.readable, "caught": m.ok, "problem": m.problem,
                     "failed": list(m.result.failed) if m.result else [],
                     "points_kept": (m.result.points - m.result.points_lost) if m.result else None,
                     "points": m.result.points if m.result else None} for m in self.mistakes]
        scores = [{"assignment": s.assignment, "solution": s.solution, "tier": s.tier, "score": s.score,
                   "killed": s.killed, "judged": s.judged, "generated": s.generated, "equivalent": s.equivalent,
                   "survivors": list(s.survivors), "problem": s.problem} for s in self.mutation]
        return json.dumps({"seconds": round(self.seconds, 1), "mistakes": mistakes, "mutation": scores}, indent=2)


def _tags(cell) -> dict:
    tags = cell.get("metadata", {}).get("mlcourse", {})
    return tags if isinstance(tags, dict) else {}


def mistake_trials(nb) -> list[Trial]:
    """A trial per hand-written mistake of every solution cell of ``nb`` (a source notebook)."""
    return [Trial(grade_id, f"{MISTAKE} {m['id']}", m["code"])
            for grade_id, cell in solution_cells(nb).items() for m in _tags(cell).get("mistakes", [])]


def _sampled(found: list, sample: int | None) -> list:
    """A fixed sample of ``sample`` mutants (all when None): the same ones on every run, for CI."""
    if sample is None or len(found) <= sample:
        return found
    return sorted(found, key=lambda m: hashlib.sha1(m.id.encode()).hexdigest())[:sample]


def mutant_trials(nb, sample: int | None = None) -> tuple[list[Trial], dict[str, dict]]:
    """Trials for the non-equivalent mutants of every solution cell, and per cell what was left out."""
    trials: list[Trial] = []
    counts: dict[str, dict] = {}
    for grade_id, cell in solution_cells(nb).items():
        found = mutants(cell.source)
        marks = _tags(cell).get("equivalent_mutants", {})
        ids = {m.id for m in found}
        chosen = _sampled([m for m in found if m.id not in marks], sample)
        counts[grade_id] = {"generated": len(found), "equivalent": len(ids & set(marks)),
                            "stale": tuple(sorted(set(marks) - ids))}
        trials += [Trial(grade_id, f"{MUTANT} {m.id}", m.code, stop_at_first_failure=True) for m in chosen]
    return trials, counts


def try_wrong_answers(notebooks_dir: Path, assignments: list[str] | None = None, with_mutants: bool = False,
                      sample: int | None = None, jobs: int | None = None,
                      progress: Callable[[str], None] = print) -> WrongAnswers:
    """Run every mistake (and, ``with_mutants``, every mutant or a fixed ``sample`` per cell) of the assignments."""
    found_mistakes: list[MistakeCheck] = []
    scores: list[MutationScore] = []
    seconds = 0.0
    for assignment in select_assignments(notebooks_dir, assignments):
        for path in assignment.notebooks:
            nb = read_notebook(path)
            trials = mistake_trials(nb)
            mutated, counts = mutant_trials(nb, sample) if with_mutants else ([], {})
            if not trials and not mutated:
                continue
            progress(f"{assignment.id}: {len(trials)} mistake(s), {len(mutated)} mutant(s)")
            run = run_trials(path, trials + mutated, jobs=jobs, progress=lambda line: progress(f"{assignment.id}/{line}"))
            seconds += run.seconds
            found_mistakes += _mistake_checks(assignment.id, nb, run)
            scores += _scores(assignment.id, nb, run, counts)
    return WrongAnswers(found_mistakes, scores, seconds)


def _problem(run, block_of: dict[str, str], grade_id: str) -> str:
    if grade_id in run.unknown:
        return "the notebook has no such solution cell"
    return run.unreliable.get(block_of.get(grade_id, grade_id), "")


def _blocks(nb) -> dict[str, str]:
    return {g: block.id for block in exercise_blocks(nb) for g in block.solutions}


def _mistake_checks(assignment: str, nb, run) -> list[MistakeCheck]:
    results = {(r.trial.solution, r.trial.name): r for r in run.results}
    block_of = _blocks(nb)
    checks = []
    for grade_id, cell in solution_cells(nb).items():
        for m in _tags(cell).get("mistakes", []):
            result = results.get((grade_id, f"{MISTAKE} {m['id']}"))
            checks.append(MistakeCheck(assignment, grade_id, int(_tags(cell).get("tier", 0)), m["id"], m["why"],
                                       str(m.get("readable", "")), result,
                                       "" if result else _problem(run, block_of, grade_id) or "not run"))
    return checks


def _scores(assignment: str, nb, run, counts: dict[str, dict]) -> list[MutationScore]:
    block_of = _blocks(nb)
    scores = []
    for grade_id, count in counts.items():
        mine = [r for r in run.results if r.trial.solution == grade_id and r.trial.name.startswith(MUTANT)]
        survivors = tuple(r.trial.name.removeprefix(f"{MUTANT} ") for r in mine if not r.caught)
        scores.append(MutationScore(assignment, grade_id, int(_tags(solution_cells(nb)[grade_id]).get("tier", 0)),
                                    len(mine) - len(survivors), len(mine), count["generated"], count["equivalent"],
                                    survivors, count["stale"], _problem(run, block_of, grade_id)))
    return scores
