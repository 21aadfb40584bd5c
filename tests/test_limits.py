"""Every sandbox limit is defined once (grader.autograde.limits) and reaches each place that applies it.

The parametrized tests run over ``LIMITS`` itself, so a limit added there is
checked everywhere without another edit; the literal cases pin down what the
derivation must give for the limits we know.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from traitlets.config import Config

from grader.autograde.limits import LIMITS, SandboxLimits
from grader.autograde.sandbox import SandboxedKernelManager
from grader.autograde.settings import apply_course_settings
from grader.cli import build_parser, limits_from

ODD = 7_919  # a value no default has


@pytest.fixture(scope="module")
def grade_help() -> str:
    return subprocess.run([sys.executable, "-m", "grader.cli", "grade", "--help"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.name)
def test_each_limit_is_an_option_of_grade_with_its_default_in_the_help(limit, grade_help):
    assert limit.option in grade_help
    args = build_parser().parse_args(["grade", "subs", limit.option, str(ODD)])
    assert getattr(limits_from(args), limit.name) == ODD
    others = {entry.name for entry in LIMITS} - {limit.name}
    assert all(getattr(limits_from(args), name) == getattr(SandboxLimits(), name) for name in others)


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.name)
def test_each_limit_reaches_nbgrader_through_the_course_settings(limit, tmp_path):
    config = Config()
    apply_course_settings(config, tmp_path, SandboxLimits(**{limit.name: ODD}))
    section, trait = limit.setting.split(".")
    assert config[section][trait] == ODD
    unconfined = Config()
    apply_course_settings(unconfined, tmp_path, SandboxLimits(**{limit.name: ODD}), sandbox=False)
    assert (trait in unconfined[section]) == (not limit.rlimit), "the kernel's own limits need the sandbox"


@pytest.mark.parametrize("limit", [entry for entry in LIMITS if entry.rlimit], ids=lambda limit: limit.name)
def test_each_kernel_limit_is_a_trait_and_a_prlimit_option(limit, tmp_path):
    config = Config()
    apply_course_settings(config, tmp_path, SandboxLimits(**{limit.name: ODD}))
    manager = SandboxedKernelManager(config=config)
    assert getattr(manager, limit.name) == ODD
    assert f"{limit.rlimit}={ODD * limit.per_unit}" in manager.limits.prlimit_args()


def test_prlimit_gets_bytes_for_mebibytes_and_never_a_core_dump():
    args = SandboxLimits(memory_mb=300, file_size_mb=2).prlimit_args()
    assert sorted(args) == sorted(["--as=314572800", "--cpu=1800", "--nproc=256", "--fsize=2097152", "--core=0"])


def test_the_options_are_named_after_the_limits():
    assert {limit.name: limit.option for limit in LIMITS} == {
        "memory_mb": "--memory-mb", "cpu_seconds": "--cpu-seconds", "processes": "--processes",
        "file_size_mb": "--file-size-mb", "cell_timeout_s": "--cell-timeout", "notebook_timeout_s": "--notebook-timeout"}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "256"])
def test_limits_must_be_positive_integers(bad):
    with pytest.raises(ValueError, match="processes must be a positive integer"):
        SandboxLimits(processes=bad)
