"""Shared fixtures of the course's test-suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

# The same environment `make` gives the kernels (also when pytest is run by hand).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
if SHARED_DATA.is_dir():
    os.environ.setdefault("COURSE_DATA_DIR", str(SHARED_DATA))


def _no_sandbox() -> str | None:
    """Why this machine cannot run the grading sandbox (None: it can)."""
    from actkit.grading import sandbox

    try:
        sandbox.require()
    except sandbox.SandboxError as exc:
        return exc.cause
    return None


# Without a sandbox (no bubblewrap, or one that cannot start), the tests of the sandbox itself are skipped and
# every other test grades the course's own code without it: one line in the header says so.
NO_SANDBOX = _no_sandbox()
if NO_SANDBOX:
    os.environ["ACTKIT_SANDBOX"] = "0"


def pytest_report_header(config):
    if NO_SANDBOX:
        return (f"sandbox: {NO_SANDBOX}: the tests marked 'sandbox' are skipped and the others grade without it "
                "(sudo apt-get install bubblewrap)")
    return None


# The longest test files (seconds of one worker, pytest --durations=0, 2026-12-06), run first: pytest-xdist's
# --dist loadfile hands files out in collection order, so a long file that starts last ends the run alone.
LONGEST_FIRST = ("test_mutants.py", "test_integrity.py", "test_roundtrip.py", "test_publish.py",  # 360 290 260 220
                 "test_grading.py", "test_hub.py", "test_xss.py", "test_demo_anywhere.py", "test_quiet.py")  # 50-70


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's own order is kept
    if NO_SANDBOX:
        skip = pytest.mark.skip(reason=f"no grading sandbox on this machine ({NO_SANDBOX})")
        for item in items:
            if item.get_closest_marker("sandbox"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.fail(f"the offline data mirror is missing: {SHARED_DATA} (CI clones ../shared beside the repo)")
    return SHARED_DATA


_runners: dict = {}


@pytest.fixture(scope="session")
def runner_for():
    """assignment -> a tests.harness.MutationRunner of its source notebook, executed once per session
    and shared by every test file that runs in this process (test_mutants.py; it also collects disjoint.py)."""
    from actkit.instructor.notebooks import notebook_of
    from tests.harness import MutationRunner

    def get(assignment: str):
        if assignment not in _runners:
            _runners[assignment] = MutationRunner(notebook_of(assignment))
        return _runners[assignment]

    yield get
    for runner in _runners.values():
        runner.close()
    _runners.clear()
