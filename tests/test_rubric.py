"""The rubric as data: the shipped file is valid, and each kind of breakage is named."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from grader.assessment.rubric import DEFAULT_RUBRIC, LevelRule, RubricError, load_rubric


def _write(tmp_path, data):
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def raw():
    return yaml.safe_load(DEFAULT_RUBRIC.read_text())


def test_shipped_rubric_has_the_roadmap_structure(rubric):
    assert len(rubric.stage_ids) == 9
    assert [s.number for s in rubric.stages] == list(range(1, 10))
    assert all(sorted(s.descriptors) == [1, 2, 3, 4, 5] for s in rubric.stages)
    assert [r.id for r in rubric.roles] == ["junior", "senior", "staff"]
    assert 0 < rubric.mastery_fraction <= 1
    assert set(rubric.key_areas) <= set(rubric.stage_ids)


def test_junior_profile_follows_the_roadmap(rubric):
    # "proficiency (scoring 3) in dataset creation, feature engineering, modeling,
    # evaluation, and inference, with a basic understanding (scoring 2) in other areas"
    profile = rubric.role_profile(rubric.roles[0])
    core = {"dataset", "features", "modeling", "evaluation", "inference"}
    assert {s: lvl for s, lvl in profile.items() if s in core} == dict.fromkeys(core, 3)
    assert {lvl for s, lvl in profile.items() if s not in core} == {2}


def test_roles_include_lower_roles_requirements(rubric):
    junior, senior, staff = rubric.roles
    assert set(junior.requires) <= set(senior.requires) <= set(staff.requires)
    some_of = [r for r in staff.requires if isinstance(r, LevelRule) and r.at_least < len(r.stages)]
    assert some_of and some_of[0].min_level == 5 and some_of[0].at_least == 2


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda d: d["stages"].pop("monitoring"), r"stages: 'monitoring' is a required property"),
        (lambda d: d["stages"]["modeling"]["levels"][4].update(level=6), r"stages\.modeling\.levels\[4\]\.level: 6"),
        (lambda d: d["stages"]["modeling"]["levels"][4].update(level=0), r"levels\[4\]\.level: 0 is less than"),
        (lambda d: d["stages"]["modeling"]["levels"][4].update(level=4), r"stages\.modeling\.levels: must describe each level 1-5"),
        (lambda d: d["roles"][0]["requires"][0]["stages"].append("deployment"), r"roles\[0\]\.requires\[0\]\.stages\[5\]: 'deployment' is not one of"),
        (lambda d: d["key_areas"].append("marketing"), r"key_areas\[4\]: 'marketing' is not one of"),
        (lambda d: d.update(mastery_fraction=0), r"mastery_fraction: 0 is less than or equal to the minimum of 0"),
        (lambda d: d.update(mastery_fraction=1.2), r"mastery_fraction: 1\.2 is greater than the maximum of 1"),
        (lambda d: d["roles"][1].update(includes="principal"), r"roles\[1\]\.includes: 'principal' is not a role defined above it"),
        (lambda d: d["roles"][2]["requires"][0].update(at_least=7), r"roles\[2\]\.requires\[0\]\.at_least: 7 exceeds the 4 stage"),
        (lambda d: d["roles"].append(dict(d["roles"][0])), r"roles\[3\]\.id: role 'junior' is defined twice"),
        (lambda d: d["stages"]["dataset"].update(number=2), r"stages: numbers must be 1-9 once each"),
    ],
)
def test_broken_rubric_names_key_and_reason(tmp_path, raw, breakage, expected):
    breakage(raw)
    with pytest.raises(RubricError, match=expected):
        load_rubric(_write(tmp_path, raw))


def test_unreadable_rubric_files(tmp_path):
    with pytest.raises(RubricError, match="does not exist"):
        load_rubric(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [unclosed\n")
    with pytest.raises(RubricError, match=r"bad\.yaml at line \d+: not valid YAML"):
        load_rubric(bad)


def test_cli_rubric_check_prints_one_line_not_a_traceback(tmp_path, raw):
    raw["stages"].pop("feedback")
    path = _write(tmp_path, raw)
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "rubric", "check", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "'feedback' is a required property" in result.stderr

    ok = subprocess.run([sys.executable, "-m", "grader.cli", "rubric", "check"], capture_output=True, text=True)
    assert ok.returncode == 0 and ": ok (9 stages" in ok.stdout
