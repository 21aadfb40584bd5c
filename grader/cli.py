"""``mlcourse``: the instructor's and assessor's command line.

    mlcourse release [ASSIGNMENT ...]      student versions via nbgrader generate_assignment
                                           (--per-learner ROSTER.csv --secret-file F: one variant per learner)
    mlcourse grade SUBMISSIONS_DIR         autograde <learner>/<assignment>/ folders with nbgrader, sandboxed,
                                           in parallel (--workers N) or on a Dask cluster (--scheduler)
    mlcourse feedback                      learners' feedback pages, hidden tests removed
    mlcourse report                        proficiency reports (HTML + JSON per learner, cohort report, exports)
    mlcourse demo                          all of the above on a simulated cohort
    mlcourse rubric check [PATH]           validate a rubric file
    mlcourse lint [NOTEBOOKS_DIR]          check the source notebooks against the course rules
    mlcourse check [ASSIGNMENT ...]        prove every graded cell fails on the stub, passes solved, and every
                                           listed mistake loses points (--mutants: mutation scores too)
    mlcourse bench inference [--quick]     precision x batch-size benchmark of the course model

A problem the user can fix is printed as one line, ``mlcourse: error: ...``,
with exit status 2; never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.errors import CourseError
from grader.paths import NOTEBOOKS_DIR

DEFAULT_COURSE_DIR = Path(os.environ.get("MLCOURSE_COURSE_DIR", "course"))


def limits_from(args):
    """The :class:`SandboxLimits` the command line asks for: each limit's option if given, else its default."""
    from grader.autograde.limits import LIMITS, SandboxLimits

    given = {limit.name: getattr(args, limit.name) for limit in LIMITS if getattr(args, limit.name, None) is not None}
    try:
        return SandboxLimits(**given)
    except ValueError as exc:
        raise CourseError(str(exc)) from None


def _sandboxed(args) -> bool:
    if getattr(args, "unsafe_no_sandbox", False):
        print("mlcourse: warning: --unsafe-no-sandbox: learner code runs unconfined, as this user", file=sys.stderr)
        return False
    return True


def _course(args):
    from grader.course import Course

    return Course(args.course_dir, notebooks_dir=args.notebooks, db_url=args.db, limits=limits_from(args),
                  sandbox=_sandboxed(args))


def cmd_release(args) -> int:
    from grader.commands import release_course

    release_course(_course(args), args.assignments, roster=args.per_learner, secret_file=args.secret_file)
    return 0


def cmd_grade(args) -> int:
    from grader.commands import grade_course

    summary = grade_course(_course(args), args.submissions, args.assignment, workers=args.workers,
                           scheduler=args.scheduler, force=args.force)
    return 1 if summary.failures else 0


def cmd_report(args) -> int:
    from grader.commands import report_course
    from grader.assessment.rubric import load_rubric

    course = _course(args)
    out = args.out or course.root / "reports"
    reports = report_course(course, load_rubric(args.rubric), out)
    print(f"learner reports: {out}/<learner>.html (and .json); cohort: {reports.cohort_page} (and .json), "
          f"{reports.cohort_csv}; exports: {out / 'exports'}")
    return 0


def cmd_feedback(args) -> int:
    from grader.commands import feedback_course

    written = feedback_course(_course(args), args.assignment, args.learner)
    print(f"{len(written)} feedback page(s) under {args.course_dir / 'feedback'}")
    return 0


def cmd_demo(args) -> int:
    from grader.commands import run_demo

    reports = run_demo(args.out, args.rubric, sandbox=_sandboxed(args))
    print("\nReports written:")
    for learner, page in reports.learner_pages.items():
        print(f"  {learner:>8}: {page}")
    print(f"  {'cohort':>8}: {reports.cohort_page}")
    print(f"  {'exports':>8}: {reports.exports[0].parent}")
    return 0


def cmd_rubric_check(args) -> int:
    from grader.assessment.rubric import load_rubric

    rubric = load_rubric(args.path)
    print(
        f"{rubric.source}: ok ({len(rubric.stages)} stages, roles {', '.join(r.title for r in rubric.roles)}, "
        f"mastery {rubric.mastery_fraction:.0%})"
    )
    return 0


def cmd_notebooks_sync(args) -> int:
    from grader.authoring.notebook_text import sync

    changed = sync(args.notebooks_dir)
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} notebook(s) written from their text" if changed else f"{args.notebooks_dir}: in sync")
    return 0


def cmd_notebooks_check(args) -> int:
    from grader.authoring.notebook_text import drift

    problems = drift(args.notebooks_dir)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} notebook(s) out of step with their text" if problems else
          f"{args.notebooks_dir}: every notebook is what its text generates")
    return 1 if problems else 0


def cmd_lint(args) -> int:
    from grader.authoring.lint import failing, lint_course
    from grader.assessment.rubric import load_rubric

    found = lint_course(args.notebooks_dir, load_rubric(args.rubric))
    problems = failing(found)
    for problem in problems:
        print(problem)
    exempt: dict[tuple[str, int], dict[str, int]] = {}
    for problem in found:
        if problem.exempt_until is not None:
            rules = exempt.setdefault((problem.path.parent.name, problem.exempt_until), {})
            rules[problem.rule] = rules.get(problem.rule, 0) + 1
    for (assignment, issue), rules in sorted(exempt.items()):
        print(f"{assignment}: exempt until issue {issue}: "
              + ", ".join(f"{count} under {rule}" for rule, count in rules.items()))
    print(f"{len(problems)} problem(s)" if problems else f"{args.notebooks_dir}: clean")
    return 1 if problems else 0


def cmd_check(args) -> int:
    from grader.assessment.rubric import load_rubric
    from grader.authoring.selfcheck import check_assignments, mutation_failures
    from grader.authoring.wrong_answers import try_wrong_answers

    broken: list = []
    if not args.mistakes_only:
        checks = check_assignments(args.notebooks, args.assignments, args.keep, sandbox=_sandboxed(args))
        for check in checks:
            print(check.describe())
        broken = [c for c in checks if not c.ok]
        print(f"{len(checks) - len(broken)} of {len(checks)} graded cells fail on the stub and pass on the solution")
    found = try_wrong_answers(args.notebooks, args.assignments, with_mutants=args.mutants or args.sample is not None,
                              sample=args.sample, jobs=args.jobs, progress=lambda line: print(line, file=sys.stderr))
    for mistake in found.mistakes:
        print(mistake.describe())
    surviving = [m for m in found.mistakes if not m.ok]
    print(f"{len(found.mistakes) - len(surviving)} of {len(found.mistakes)} mistakes lose points on their exercise")
    weak: list[str] = []
    if found.mutation:
        for score in found.mutation:
            print(score.describe())
        weak = mutation_failures(found.mutation, args.notebooks, load_rubric(None))
        for line in weak:
            print(line)
        print(f"mutants: {sum(s.killed for s in found.mutation)} killed of {sum(s.judged for s in found.mutation)} "
              f"in {found.seconds:.0f} s")
    if args.json:
        args.json.write_text(found.to_json())
    return 1 if broken or surviving or weak else 0


def cmd_bench_inference(args) -> int:
    from mlcourse import inference

    print(inference.hardware_report())
    df = inference.run_inference_benchmark(args.out, quick=args.quick, progress=True, threads=args.threads)
    print(inference.benchmark_report(df))
    print(f"\nwrote {args.out}/inference.json, latency_vs_batch.png, accuracy_speed.png")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from grader.autograde.limits import LIMITS

    parser = argparse.ArgumentParser(
        prog="mlcourse",
        description="Release, autograde and report on the mlcourse ML-engineering curriculum (built on nbgrader).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def course_options(p):
        p.add_argument("--course-dir", type=Path, default=DEFAULT_COURSE_DIR,
                       help="nbgrader course directory (default: ./course or $MLCOURSE_COURSE_DIR)")
        p.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, help="source notebooks folder")
        p.add_argument("--db", default=None, metavar="URL",
                       help="gradebook: sqlite:///PATH or postgresql://USER@HOST/DB (default: the course folder's "
                            "nbgrader_config.py, else sqlite:///<course-dir>/gradebook.db)")

    p = sub.add_parser("release", help="generate student versions of the assignments with nbgrader")
    p.add_argument("assignments", nargs="*", help="assignment ids such as 04_evaluation (default: all)")
    p.add_argument("--per-learner", type=Path, metavar="ROSTER.csv",
                   help="also write each learner's own variant (their SEED) to <course-dir>/variants/<learner>/; "
                        "the CSV has a 'learner' (or 'id') column")
    p.add_argument("--secret-file", type=Path, metavar="FILE",
                   help="the course secret the learners' seeds are derived from (at least 16 bytes; keep it private)")
    course_options(p)
    p.set_defaults(func=cmd_release)

    def sandbox_options(p, limits=True):
        p.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run learner code unconfined (no bubblewrap); only for code you trust")
        if not limits:
            return
        for limit in LIMITS:
            p.add_argument(limit.option, dest=limit.name, type=int, default=None, help=limit.described)

    p = sub.add_parser("grade", help="autograde submissions with nbgrader into the gradebook, in a sandbox")
    p.add_argument("submissions", type=Path, help="folder of <learner>/<assignment>/<notebook>.ipynb")
    p.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    p.add_argument("--workers", type=int, default=None,
                   help="grade this many submissions at once on this machine (default: one per CPU core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="grade on a Dask cluster instead, e.g. tcp://10.0.0.5:8786 (its workers need this project, "
                        "bubblewrap and root)")
    p.add_argument("--force", action="store_true", help="grade again submissions unchanged since they were graded")
    course_options(p)
    sandbox_options(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("feedback", help="feedback pages for learners, with hidden tests removed")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.add_argument("--learner", action="append", help="only this learner (repeatable)")
    course_options(p)
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("report", help="write proficiency reports from the gradebook")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <course-dir>/reports)")
    p.add_argument("--rubric", type=Path, default=None, help="rubric YAML (default: rubrics/proficiency.yaml)")
    course_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="release, simulate a cohort, autograde and report, end to end")
    p.add_argument("--out", type=Path, default=Path("build/demo"), help="output folder (default: build/demo)")
    p.add_argument("--rubric", type=Path, default=None, help="rubric YAML (default: rubrics/proficiency.yaml)")
    sandbox_options(p, limits=False)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("rubric", help="rubric tools")
    rubric_sub = p.add_subparsers(dest="rubric_command", required=True, metavar="ACTION")
    check = rubric_sub.add_parser("check", help="validate a rubric file")
    check.add_argument("path", nargs="?", type=Path, default=None, help="rubric YAML (default: the course rubric)")
    check.set_defaults(func=cmd_rubric_check)

    p = sub.add_parser("bench", help="performance benchmarks (JSON, plots)")
    bench_sub = p.add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    inf = bench_sub.add_parser("inference", help="the course model in every precision: latency, throughput, accuracy")
    inf.add_argument("--out", type=Path, default=Path("build/benchmarks/inference"), help="output folder")
    inf.add_argument("--quick", action="store_true", help="fewer batch sizes and repetitions")
    inf.add_argument("--threads", type=int, default=1, help="torch intra-op threads while timing (default 1)")
    inf.set_defaults(func=cmd_bench_inference)

    p = sub.add_parser("check", help="prove every graded cell fails on the stub and passes on the solution")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, help="source notebooks folder")
    p.add_argument("--keep", type=Path, default=None, help="keep the scratch course in this folder")
    p.add_argument("--mistakes-only", action="store_true",
                   help="skip nbgrader's stub and solution runs: only the exercises' mistakes (and mutants)")
    p.add_argument("--mutants", action="store_true", help="also run every generated mutant and print mutation scores")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="run a fixed sample of N mutants per solution cell (implies --mutants)")
    p.add_argument("--jobs", type=int, default=None, help="wrong answers tried at once (default: the CPUs)")
    p.add_argument("--json", type=Path, default=None, help="write the mistakes and mutation scores as JSON here")
    sandbox_options(p, limits=False)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("notebooks", help="the source notebooks' text files (NN_stage.pct.py): sync or check")
    notebooks_sub = p.add_subparsers(dest="notebooks_command", required=True, metavar="ACTION")
    for name, func, what in (("sync", cmd_notebooks_sync, "write each .ipynb from its text source"),
                             ("check", cmd_notebooks_check, "fail if any .ipynb differs from what its text generates")):
        action = notebooks_sub.add_parser(name, help=what)
        action.add_argument("notebooks_dir", nargs="?", type=Path, default=NOTEBOOKS_DIR)
        action.set_defaults(func=func)

    p = sub.add_parser("lint", help="check source notebooks against the course rules")
    p.add_argument("notebooks_dir", nargs="?", type=Path, default=NOTEBOOKS_DIR)
    p.add_argument("--rubric", type=Path, default=None)
    p.set_defaults(func=cmd_lint)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"mlcourse: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mlcourse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
