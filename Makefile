# The course's commands. `make demo` and `make test` are the whole set-up on a fresh machine:
# both create .venv from requirements.txt when it is missing or stale.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python
CHP_VERSION := 5.3.0# configurable-http-proxy from npm, for make hub (into $(VENV)/node, linked into $(VENV)/bin)

# Kernels started by nbgrader, nbval and the tests inherit these.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0
ifneq ($(wildcard ../shared/data),)
export COURSE_DATA_DIR ?= $(abspath ../shared/data)
endif

ASSIGNMENT ?= 01_activation_basics
WORKERS ?=

.PHONY: help venv demo test lint release publish grade report similarity bench clean site sandbox roster hub test-hub lms-feedback

help:
	@echo "make demo     release, submit, autograde, feedback and export for assignment 01 (prints grades)"
	@echo "make test     the whole test suite (lint, helpers, notebooks, nbgrader round trips)"
	@echo "make release  regenerate release/ from source/ (commit the result)"
	@echo "make publish  write the public student repository DEST=<folder> (course.toml names it)"
	@echo "make lint     ruff over code and notebooks"
	@echo "make grade    autograde ASSIGNMENT=<name> in parallel (WORKERS=<n>) and write the report"
	@echo "make bench    time serial nbgrader vs actkit-grade vs bare execution (updates README)"
	@echo "make report   the instructor report of ASSIGNMENT=<name> (build/report/<name>/index.html)"
	@echo "make similarity  pairs of submissions of ASSIGNMENT=<name> with similar answer code, into the report"
	@echo "make site     lecture notebooks as HTML + offline interactive plots in build/site/"
	@echo "make sandbox  install and check the grading sandbox kernel (on by default; actkit/SECURITY.md)"
	@echo "make roster   import the class list FILE=<Canvas/Moodle export or students.csv> into the gradebook"
	@echo "make lms-feedback  feedback of ASSIGNMENT=<name> packaged for the LMS in build/lms/<name>/"
	@echo "make hub      JupyterHub for the course: formgrader for the instructor, Assignments tab for the roster"
	@echo "make test-hub the JupyterHub round trip in Chromium alone (tests/test_hub.py, also in make test)"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m actkit.grading.sandbox install
	@if command -v npm >/dev/null; then npm install --prefix $(VENV)/node --no-audit --no-fund --loglevel=error \
	  configurable-http-proxy@$(CHP_VERSION) && ln -sf ../node/node_modules/.bin/configurable-http-proxy $(VENV)/bin/; \
	  else echo "npm not found: no configurable-http-proxy, so no make hub or hub test (apt-get install nodejs npm)"; fi
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m actkit.instructor.demo

lint: $(STAMP)
	$(PY) -m ruff check .

# pytest-xdist spreads the suite over TEST_JOBS processes, one test file at a time (--dist loadfile),
# so the expensive session fixtures of a file (a notebook run, a graded course) are built once.
TEST_JOBS ?= 2
XDIST := $(if $(filter-out 0 1,$(TEST_JOBS)),-n $(TEST_JOBS))

# The lectures' committed outputs are checked by nbval (notebooks/sanitize.cfg) inside the suite, on the published
# student repository in a fresh virtual environment (tests/test_publish.py), with the released notebooks.
test: $(STAMP) lint
	$(PY) -m pytest tests $(XDIST) --dist loadfile --durations=12 -rs

release: $(STAMP)
	$(PY) -m actkit.instructor.release

# The public student repository (release/, lectures, student actkit, README, LICENSE) that Colab opens and
# installs actkit from; course.toml names it. DEST is a folder outside the course, e.g. a clone of it.
DEST ?=
publish: $(STAMP)
	$(PY) -m actkit.instructor.publish $(DEST)

# Static site (git-ignored): notebooks/*.ipynb as HTML, interactive/*.html with inline BokehJS.
site: $(STAMP)
	$(PY) -m actkit.instructor.site --out build/site

grade: $(STAMP)
	$(PY) -m actkit.grading.parallel $(ASSIGNMENT) $(if $(WORKERS),--workers $(WORKERS)) --report

report: $(STAMP)
	$(PY) -m actkit.grading.report $(ASSIGNMENT)

# Similar answer code between the submissions of ASSIGNMENT (copydetect; the released code left out): one line per
# pair above the threshold, and the report's side-by-side view (actkit/grading/similarity.py).
similarity: $(STAMP)
	$(PY) -m actkit.grading.similarity $(ASSIGNMENT) --report

# The grading sandbox (bubblewrap kernel; on by default, ACTKIT_SANDBOX=0 turns it off): kernel spec + a probe run.
sandbox: $(STAMP)
	$(PY) -m actkit.grading.sandbox install
	$(PY) -m actkit.grading.sandbox check

# The class list (id, first_name, last_name, email, lms_user_id) into the gradebook; run it again after
# every change of the list: students are added or updated, never removed (actkit/grading/roster.py). FILE may be
# Canvas' gradebook export or Moodle's participants or grades export, unedited.
FILE ?= students.csv
roster: $(STAMP)
	$(PY) -m actkit.grading.roster $(FILE)

# After nbgrader generate_feedback: what the LMS takes back (Moodle: feedback zip + grading worksheet) in
# build/lms/$(ASSIGNMENT)/ (actkit/grading/lms_feedback.py).
lms-feedback: $(STAMP)
	$(PY) -m actkit.grading.lms_feedback $(ASSIGNMENT)

# The course on JupyterHub (actkit/grading/jupyterhub_config.py holds every path; README "On JupyterHub"):
# as root, the roster's students and the instructor become system users; otherwise a local trial.
hub: $(STAMP)
	$(PY) -m actkit.grading.hub

test-hub: $(STAMP)
	$(PY) -m pytest tests/test_hub.py --durations=3

bench: $(STAMP)
	$(PY) -m tests.bench

clean:
	rm -rf build gradebook.db submitted feedback
	find autograded -mindepth 1 ! -name README.md -exec rm -rf {} +
