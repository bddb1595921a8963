"""Every wrong answer of every catalogue in tests/mutants/ must make at least one test cell fail.

The disjointness test of tests/disjoint.py (no lecture or actkit function earns a graded cell) is
collected in this file too, so that both use the same notebook runs (``runner_for``, one per
process: pytest-xdist gives each test file to one process).

The instructor notebook runs once per assignment in a kernel; each wrong answer then replaces one
solution cell, all test cells (visible and hidden) run again, and the right answer is restored.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from tests import mutants as catalogue_pkg
from tests.disjoint import (  # noqa: F401 - collected here, see below
    test_no_adapted_lecture_line_is_an_answer,
    test_no_lecture_or_actkit_function_is_an_answer,
)

CATALOGUES = {
    mod.ASSIGNMENT: mod.MUTANTS
    for info in pkgutil.iter_modules(catalogue_pkg.__path__)
    if (mod := importlib.import_module(f"tests.mutants.{info.name}"))
}
ALTERNATIVES = {
    mod.ASSIGNMENT: getattr(mod, "ALTERNATIVES", [])
    for info in pkgutil.iter_modules(catalogue_pkg.__path__)
    if (mod := importlib.import_module(f"tests.mutants.{info.name}"))
}
RIGHT = [(assignment, alt) for assignment, alts in sorted(ALTERNATIVES.items()) for alt in alts]
CASES = [(assignment, mutant) for assignment, mutants in sorted(CATALOGUES.items()) for mutant in mutants]

# runner_for (one MutationRunner per assignment, for the whole session) is in tests/conftest.py.


def test_every_assignment_has_a_catalogue():
    from actkit.instructor.notebooks import assignments

    missing = set(assignments()) - set(CATALOGUES)
    assert not missing, f"no wrong-answer catalogue in tests/mutants/ for {sorted(missing)}"


@pytest.mark.parametrize("assignment", sorted(CATALOGUES))
def test_reference_passes_every_test_cell(runner_for, assignment):
    runner = runner_for(assignment)
    failed = {gid: r.error for gid, r in runner.baseline.items() if not r.ok}
    assert not failed, f"the instructor's own answers fail: {failed}"
    assert not runner.cell_errors, f"cells of the instructor notebook fail (cell number: error): {runner.cell_errors}"
    assert runner.baseline, "no test cells found"


@pytest.mark.parametrize("assignment", sorted(CATALOGUES))
def test_catalogue_covers_every_graded_function(runner_for, assignment):
    runner = runner_for(assignment)
    targeted = {m.cell for m in CATALOGUES[assignment]}
    untested = set(runner.solutions) - targeted
    assert not untested, f"solution cells with no wrong answer in the catalogue: {sorted(untested)}"


def grouped(cases):
    return [pytest.param(a, m, id=f"{a}-{m}") for a, m in cases]


@pytest.mark.parametrize(("assignment", "mutant"), grouped(CASES))
def test_wrong_answer_loses_points(runner_for, assignment, mutant):
    failing = runner_for(assignment).failing_tests(mutant, first_only=True)
    assert failing, f"wrong answer {mutant} passes every test cell"


@pytest.mark.parametrize(("assignment", "answer"), grouped(RIGHT))
def test_right_answer_written_differently_passes(runner_for, assignment, answer):
    failing = runner_for(assignment).failing_tests(answer)
    assert not failing, f"a correct answer ({answer}) loses points: {failing}"
