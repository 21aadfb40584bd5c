"""Per-learner variants: each learner's notebooks carry their own ``SEED``, which the grader derives again.

A learner's seed is ``HMAC-SHA256(course secret, assignment + learner id)``,
cut to 31 bits, so it is fixed for a learner and an assignment, differs between
learners, and cannot be worked out without the secret. ``mlcourse release
--per-learner ROSTER.csv --secret-file F`` writes each learner's copy of the
released notebooks with papermill, which injects ``SEED = <their seed>`` after
the ``parameters`` cell, so each learner's data and numbers differ.

At grading, :class:`grader.autograde.preprocessors.InjectLearnerSeed` puts the seed the
grader derives from the roster and the secret back into the notebook (whatever
the submission's own parameters cell says) and writes it into the test cells
that check a learner's *readings* of their own data (lines marked
``# mlcourse: learner-seed``). Since those lines are in locked test cells that
nbgrader restores from the gradebook, nothing in a submission can change which
variant it is checked against. The course records what it needs in
``<course>/.mlcourse/variants.json``: the roster, the assignments released per
learner, and where the secret is kept (the secret itself stays there).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from grader.errors import CourseError
from grader.files import LEARNER_ID_PATTERN

#: Where a course folder records its per-learner variants.
VARIANTS_FILE = Path(".mlcourse") / "variants.json"
#: The shortest secret accepted, in bytes (HMAC keys shorter than this are guessable).
MIN_SECRET_BYTES = 16
#: A marker on a test cell's line: the grader writes the learner's seed over ``SEED`` there.
SEED_MARKER = "# mlcourse: learner-seed"


class UnknownLearner(CourseError):
    """A learner with per-learner variants to grade who is not on the roster."""


def learner_seed(secret: bytes, learner: str, assignment: str) -> int:
    """The learner's seed for ``assignment``: an int in [0, 2**31), from an HMAC-SHA256 of both ids."""
    mac = hmac.new(secret, f"{assignment}\0{learner}".encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:4], "big") & 0x7FFF_FFFF


def read_secret(path: Path) -> bytes:
    """The course secret in ``path`` (surrounding whitespace dropped); a clear error when missing or short."""
    path = Path(path)
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise CourseError(f"cannot read the course secret {path}: {exc.strerror}") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise CourseError(f"the course secret in {path} is {len(secret)} bytes; it needs at least {MIN_SECRET_BYTES} "
                          "(make one with: python -c 'import secrets; print(secrets.token_hex(32))' > FILE)")
    return secret


def read_roster(path: Path) -> tuple[str, ...]:
    """Learner ids from a CSV with a ``learner`` (or nbgrader's ``id``) column; clear errors name the line."""
    path = Path(path)
    try:
        rows = list(csv.DictReader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CourseError(f"cannot read the roster {path}: {exc}") from None
    column = next((name for name in ("learner", "id") if rows and name in rows[0]), None)
    if column is None:
        raise CourseError(f"the roster {path} needs a header with a 'learner' (or 'id') column and one row per learner")
    learners: list[str] = []
    for line, row in enumerate(rows, start=2):
        learner = (row.get(column) or "").strip()
        if not LEARNER_ID_PATTERN.fullmatch(learner):
            raise CourseError(f"{path}, line {line}: {learner!r} is not a valid learner id")
        if learner in learners:
            raise CourseError(f"{path}, line {line}: learner {learner!r} is listed twice")
        learners.append(learner)
    return tuple(learners)


@dataclass(frozen=True)
class Variants:
    """A course's per-learner variants: who is on the roster, for which assignments, and the secret's file."""

    roster: tuple[str, ...]
    assignments: tuple[str, ...]
    secret_file: Path

    def covers(self, assignment: str) -> bool:
        return assignment in self.assignments

    def seed(self, learner: str, assignment: str, secret: bytes | None = None) -> int:
        """``learner``'s seed for ``assignment``; :class:`UnknownLearner` when they are not on the roster."""
        if learner not in self.roster:
            raise UnknownLearner(f"{learner} is not on the roster of per-learner variants for {assignment}, "
                                 "so there is no variant to grade against")
        return learner_seed(secret or read_secret(self.secret_file), learner, assignment)

    def seeds(self, pairs) -> dict[tuple[str, str], int | UnknownLearner]:
        """The seed of each ``(learner, assignment)`` this covers (or why there is none); the secret is read once."""
        secret = read_secret(self.secret_file)
        found: dict[tuple[str, str], int | UnknownLearner] = {}
        for learner, assignment in pairs:
            if self.covers(assignment):
                try:
                    found[learner, assignment] = self.seed(learner, assignment, secret)
                except UnknownLearner as exc:
                    found[learner, assignment] = exc
        return found


def course_variants(course_root: Path) -> Variants | None:
    """The variants recorded in a course folder, or None when it has none."""
    path = Path(course_root) / VARIANTS_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return Variants(tuple(data["roster"]), tuple(data["assignments"]), Path(data["secret_file"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CourseError(f"the course's variants record {path} is damaged ({exc}); release the variants again") from None


def record_variants(course_root: Path, roster: tuple[str, ...], secret_file: Path, assignments: list[str]) -> Variants:
    """Record (or extend) the course's variants: this roster and secret, for these assignments and earlier ones."""
    earlier = course_variants(course_root)
    kept = earlier.assignments if earlier else ()
    variants = Variants(roster, tuple(sorted({*kept, *assignments})), Path(secret_file).resolve())
    path = Path(course_root) / VARIANTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"roster": list(variants.roster), "assignments": list(variants.assignments),
                                "secret_file": str(variants.secret_file)}, indent=2))
    return variants


def write_variant(release_dir: Path, out_dir: Path, seed: int) -> list[Path]:
    """One learner's copy of a released assignment: every notebook with ``SEED`` injected by papermill.

    Other files of the release (data) are copied as they are. Returns the notebooks written.
    """
    import shutil

    import nbformat
    import papermill

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(release_dir.iterdir()):
        if path.suffix != ".ipynb":
            if path.is_file():
                shutil.copy2(path, out_dir / path.name)
            continue
        out = out_dir / path.name
        papermill.execute_notebook(str(path), str(out), parameters={"SEED": seed}, prepare_only=True,
                                   progress_bar=False, log_output=False)
        nb = nbformat.read(out, as_version=4)
        # Where the instructor keeps the course is none of the learner's business.
        for key in ("input_path", "output_path", "environment_variables"):
            nb.metadata.get("papermill", {}).pop(key, None)
        nbformat.write(nb, out)
        written.append(out)
    return written
