"""The proficiency rubric: loaded from YAML, validated, and turned into objects.

The rubric is data (``rubrics/proficiency.yaml``). This module checks it in two
passes: the JSON schema (``rubrics/rubric.schema.json``) for shape and ranges,
then the cross-references a schema cannot express (each level 1-5 described
once, role ``includes`` naming an earlier role, ``at_least`` not exceeding the
stages a rule names). Every failure is a :class:`RubricError` whose message
names the offending key and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from grader.errors import CourseError
from grader.paths import RUBRICS_DIR

DEFAULT_RUBRIC = RUBRICS_DIR / "proficiency.yaml"
SCHEMA_PATH = RUBRICS_DIR / "rubric.schema.json"


class RubricError(CourseError):
    """The rubric file is missing, unreadable, or breaks the schema."""


@dataclass(frozen=True)
class Stage:
    id: str
    number: int
    title: str
    descriptors: dict[int, str]  # level 1..5 -> what that level means


@dataclass(frozen=True)
class LevelRule:
    """``at_least`` of ``stages`` must reach ``min_level``."""

    stages: tuple[str, ...]
    min_level: int
    at_least: int


@dataclass(frozen=True)
class CapstoneRule:
    """The capstone assignment must be passed."""


Requirement = LevelRule | CapstoneRule


@dataclass(frozen=True)
class Role:
    id: str
    title: str
    summary: str
    requires: tuple[Requirement, ...]  # own rules plus those of included roles


@dataclass(frozen=True)
class MasteryRule:
    """When a tier counts as mastered (``rubrics/proficiency.yaml`` explains the rule in words)."""

    fraction: float             # share of the tier's points that masters it
    max_failed_fraction: float  # a tier with this share of its cells failed, or more, is never mastered
    slip_cells: int             # ... but this many failed cells are forgiven
    slip_from_cells: int        # ... in a tier of at least this many cells


@dataclass(frozen=True)
class Evidence:
    """The least evidence a stage notebook gives per tier, and the mutation score its exercises reach."""

    min_cells_per_tier: int
    min_exercises_per_tier: int
    exercises_from_tier: int
    mutation_score: float
    mutation_from_tier: int


@dataclass(frozen=True)
class Rubric:
    title: str
    mastery_fraction: float
    stages: tuple[Stage, ...]  # in roadmap order
    key_areas: tuple[str, ...]
    capstone_assignment: str
    capstone_pass_fraction: float
    roles: tuple[Role, ...]  # lowest first
    source: Path
    mastery: MasteryRule
    evidence: Evidence

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(stage.id for stage in self.stages)

    def role_profile(self, role: Role) -> dict[str, int]:
        """Minimum level per stage that ``role`` demands of every listed stage.

        Rules that ask for only some of their stages (``at_least``) cannot be
        drawn as one profile and are left out; reports state them in words.
        """
        profile = dict.fromkeys(self.stage_ids, 0)
        for rule in role.requires:
            if isinstance(rule, LevelRule) and rule.at_least == len(rule.stages):
                for stage_id in rule.stages:
                    profile[stage_id] = max(profile[stage_id], rule.min_level)
        return profile


def _path_of(error: jsonschema.ValidationError) -> str:
    parts = ""
    for key in error.absolute_path:
        parts += f"[{key}]" if isinstance(key, int) else (f".{key}" if parts else str(key))
    return parts or "(top level)"


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise RubricError(f"rubric file {path} does not exist; pass the path of a rubric YAML file")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RubricError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None


def _check_schema(data: Any, path: Path) -> None:
    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        raise RubricError(f"{path}: {_path_of(error)}: {error.message}")


def _build_stages(data: dict, path: Path) -> tuple[Stage, ...]:
    stages = []
    for stage_id, spec in data["stages"].items():
        levels = [entry["level"] for entry in spec["levels"]]
        if sorted(levels) != [1, 2, 3, 4, 5]:
            raise RubricError(
                f"{path}: stages.{stage_id}.levels: must describe each level 1-5 exactly once, got {levels}"
            )
        descriptors = {entry["level"]: entry["descriptor"] for entry in spec["levels"]}
        stages.append(Stage(stage_id, spec["number"], spec["title"], descriptors))
    numbers = sorted(stage.number for stage in stages)
    if numbers != list(range(1, len(stages) + 1)):
        raise RubricError(f"{path}: stages: numbers must be 1-{len(stages)} once each, got {numbers}")
    return tuple(sorted(stages, key=lambda stage: stage.number))


def _build_rule(spec: dict, where: str, stage_ids: tuple[str, ...], key_areas: tuple[str, ...]) -> Requirement:
    if "capstone" in spec:
        return CapstoneRule()
    named = spec["stages"]
    stages = {"all": stage_ids, "key_areas": key_areas}[named] if isinstance(named, str) else tuple(named)
    at_least = spec.get("at_least", len(stages))
    if at_least > len(stages):
        raise RubricError(f"{where}.at_least: {at_least} exceeds the {len(stages)} stage(s) the rule names")
    return LevelRule(stages=stages, min_level=spec["min_level"], at_least=at_least)


def _build_roles(data: dict, path: Path, stage_ids: tuple[str, ...], key_areas: tuple[str, ...]) -> tuple[Role, ...]:
    roles: dict[str, Role] = {}
    for index, spec in enumerate(data["roles"]):
        where = f"{path}: roles[{index}]"
        if spec["id"] in roles:
            raise RubricError(f"{where}.id: role '{spec['id']}' is defined twice")
        inherited: tuple[Requirement, ...] = ()
        if "includes" in spec:
            if spec["includes"] not in roles:
                raise RubricError(
                    f"{where}.includes: '{spec['includes']}' is not a role defined above it "
                    f"(known: {', '.join(roles) or 'none'})"
                )
            inherited = roles[spec["includes"]].requires
        own = tuple(
            _build_rule(rule, f"{where}.requires[{i}]", stage_ids, key_areas) for i, rule in enumerate(spec["requires"])
        )
        roles[spec["id"]] = Role(spec["id"], spec["title"], spec["summary"], inherited + own)
    return tuple(roles.values())


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Load and validate a rubric file (default: ``rubrics/proficiency.yaml``).

    Returns
    -------
    Rubric
        Stages in roadmap order, roles lowest first, each role's requirements
        flattened to include those of the roles it includes.

    Raises
    ------
    RubricError
        With a message ``<file>: <key path>: <reason>`` for the first problem.
    """
    path = Path(path) if path is not None else DEFAULT_RUBRIC
    data = _read_yaml(path)
    _check_schema(data, path)
    stages = _build_stages(data, path)
    stage_ids = tuple(stage.id for stage in stages)
    key_areas = tuple(data["key_areas"])
    return Rubric(
        title=data["title"],
        mastery_fraction=float(data["mastery_fraction"]),
        stages=stages,
        key_areas=key_areas,
        capstone_assignment=data["capstone"]["assignment"],
        capstone_pass_fraction=float(data["capstone"]["pass_fraction"]),
        roles=_build_roles(data, path, stage_ids, key_areas),
        source=path,
        mastery=MasteryRule(float(data["mastery_fraction"]), float(data["mastery"]["max_failed_fraction"]),
                            int(data["mastery"]["slip"]["cells"]), int(data["mastery"]["slip"]["from_cells"])),
        evidence=Evidence(**data["evidence"]),
    )
