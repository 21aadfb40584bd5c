"""The course's rules for exercises, by name, and the modules exempt from some of them until their rebuild lands.

``notebooks/exemptions.yaml`` is the one place that lists exemptions: per
assignment, the rules it does not meet yet and the issue whose work removes
them. ``mlcourse lint`` and ``mlcourse check`` skip exactly those rules for
those modules and say so; a module that meets a rule it is exempt from is
reported too, so that the exemption is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.errors import CourseError

#: Every rule an exemption may name, and what it asks.
RULES = {
    "forbid": "every solution cell declares metadata.mlcourse.forbid (an empty list needs a forbid_reason)",
    "visible-tests": "visible test regions define no function or lambda and use nothing the exercise forbids",
    "evidence": "the rubric's minimum graded cells per tier, and exercises per tier from its exercises_from_tier",
    "mistakes": "every solution cell from tier 3 lists its mistakes, the nearest readable thing among them",
    "mutation": "every exercise from the rubric's mutation_from_tier catches its share of mutants",
    "copy-paste": "the simulated copy-paste learner stays at level 2 or below in the module's stage",
}
FORBID, VISIBLE_TESTS, EVIDENCE, MISTAKES, MUTATION, COPY_PASTE = RULES
EXEMPTIONS_FILE = "exemptions.yaml"


@dataclass(frozen=True)
class Exemption:
    assignment: str
    issue: int
    rules: frozenset[str]

    def covers(self, rule: str) -> bool:
        return rule in self.rules


def load_exemptions(notebooks_dir: Path) -> dict[str, Exemption]:
    """``notebooks_dir/exemptions.yaml`` read and checked; {} when there is none."""
    path = Path(notebooks_dir) / EXEMPTIONS_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CourseError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise CourseError(f"{path}: expected assignment: {{issue: N, rules: [...]}} entries")
    found = {}
    for assignment, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("issue"), int) \
                or not isinstance(entry.get("rules"), list) or not entry["rules"]:
            raise CourseError(f"{path}: {assignment}: needs issue: <number> and a non-empty rules: [...] list")
        unknown = sorted(set(map(str, entry["rules"])) - set(RULES))
        if unknown:
            raise CourseError(f"{path}: {assignment}: unknown rule(s) {', '.join(unknown)}; the rules are "
                              f"{', '.join(RULES)}")
        found[str(assignment)] = Exemption(str(assignment), entry["issue"], frozenset(map(str, entry["rules"])))
    return found


def exempt(exemptions: dict[str, Exemption], assignment: str, rule: str) -> bool:
    return assignment in exemptions and exemptions[assignment].covers(rule)
