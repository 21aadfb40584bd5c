# Two commands do everything on a fresh clone:
#   make demo   release the course, autograde a simulated cohort, write reports
#   make test   drift of the notebooks from their text, lint, unit and end-to-end tests, papermill and nbval runs
# Both create (or reuse) .venv and install the project into it first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# nbgrader's gradebook runs `alembic` from PATH: use the virtualenv's.
export PATH := $(abspath $(BIN)):$(PATH)
export MPLBACKEND := Agg

.PHONY: demo test lint lab bench bench-grading bench-reports clean

$(STAMP): pyproject.toml
	# The grader runs learner code inside bubblewrap (Debian package bubblewrap).
	@command -v bwrap >/dev/null || { [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -qq bubblewrap; } || echo "note: bubblewrap is not installed; grading will refuse \
	to run learner code without it (install the Debian package 'bubblewrap', or pass --unsafe-no-sandbox)"
	$(PYTHON) -m venv $(VENV)
	# torch is pinned to the CPU build torch==2.13.0 in pyproject.toml.
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mlcourse demo --out build/demo

lint: $(STAMP)
	$(BIN)/mlcourse notebooks check
	$(BIN)/mlcourse lint

test: lint
	# loadfile keeps each test file (and its session fixtures) on one worker.
	$(BIN)/pytest -n auto --dist loadfile --durations=30 tests mlcourse --doctest-modules --nbval-lax --nbval-current-env notebooks

bench: $(STAMP)
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

# mlcourse grade against plain nbgrader autograde on 30 simulated submissions (about 10 minutes on 2 cores).
bench-grading: $(STAMP)
	$(BIN)/python benchmarks/grading.py --out build/benchmarks/grading

# Every report and export for 500 learners from a real gradebook (target: under a minute).
bench-reports: $(STAMP)
	$(BIN)/python benchmarks/reports.py --out build/benchmarks/reports

lab: $(STAMP)
	$(BIN)/mlcourse release --course-dir build/course
	# Learners get nbgrader's assignment list and Validate, not its instructor tools (grader/learner_lab);
	# JupyterLab's settings and workspaces stay under build/lab. It refuses to run as root unless told.
	cd build/course/release && JUPYTER_CONFIG_DIR=$(abspath grader/learner_lab) \
		JUPYTERLAB_SETTINGS_DIR=$(abspath build/lab/settings) JUPYTERLAB_WORKSPACES_DIR=$(abspath build/lab/workspaces) \
		$(abspath $(BIN))/jupyter lab $$( [ "$$(id -u)" -eq 0 ] && echo --allow-root )

clean:
	rm -rf build course .pytest_cache .hypothesis
