"""Lint of the nbgrader source notebooks: metadata, markers, structure of a course notebook."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

try:
    from actkit.grading import preflight as integrity
except ImportError:  # the layout before actkit/grading/
    from actkit import integrity
from actkit.notebooks import REPO_ROOT, assignments, notebook_of

ASSIGNMENTS = assignments()
HEADER = nbformat.read(REPO_ROOT / "source" / "header.ipynb", as_version=4)


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def load(assignment):
    return nbformat.read(notebook_of(assignment), as_version=4)


def test_there_are_assignments():
    assert ASSIGNMENTS and "01_activation_basics" in ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_notebook_named_after_the_assignment(assignment):
    assert notebook_of(assignment).stem == assignment


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_ids_unique_and_descriptive(assignment):
    ids = [meta(c)["grade_id"] for c in HEADER.cells + load(assignment).cells if meta(c)]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate grade ids: {duplicates}"
    generic = [i for i in ids if re.fullmatch(r"(cell|test|answer)[-_]?[0-9a-f]*", i)]
    assert not generic, f"grade ids must say what they grade: {generic}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_passes_the_checks_grading_and_release_make(assignment):
    """Paired markers, locked test cells with points, graded answers with points: the checks that
    `make release` and actkit-grade make themselves (actkit.integrity.source_problems)."""
    assert integrity.source_problems(load(assignment)) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_have_visible_and_hidden_tests(assignment):
    nb = load(assignment)
    tests = [c for c in nb.cells if meta(c).get("grade") and not meta(c).get("solution")]
    assert tests
    for c in tests:
        m = meta(c)
        assert c.cell_type == "code", m["grade_id"]
        assert "### BEGIN HIDDEN TESTS" in c.source, f"{m['grade_id']} has no hidden tests"
        assert c.source.strip().split("\n")[0] != "### BEGIN HIDDEN TESTS", f"{m['grade_id']} has no visible test"
    answers = [c for c in nb.cells if meta(c).get("grade") and meta(c).get("solution")]
    for c in answers:
        assert c.cell_type == "markdown", meta(c)["grade_id"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_markers_in_the_right_cells(assignment):
    for c in load(assignment).cells:
        m = meta(c)
        is_test = m.get("grade") and not m.get("solution")
        for kind, allowed in (("SOLUTION", m.get("solution")), ("HIDDEN TESTS", is_test)):
            if not allowed:
                assert f"### BEGIN {kind}" not in c.source and f"### END {kind}" not in c.source, \
                    f"{kind} markers outside a proper cell: {c.source[:80]!r}"
        if m.get("solution"):
            assert "### BEGIN SOLUTION" in c.source, f"solution cell {m['grade_id']} has no SOLUTION region"


def graded_functions(nb):
    """(function node, cell) for every function defined in a solution code cell."""
    for c in nb.cells:
        if c.cell_type == "code" and meta(c).get("solution"):
            for node in ast.parse(c.source).body:
                if isinstance(node, ast.FunctionDef):
                    yield node, c


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_functions_documented_and_tested(assignment):
    nb = load(assignment)
    tests = [c.source for c in nb.cells if meta(c).get("grade") and not meta(c).get("solution")]
    functions = list(graded_functions(nb))
    assert functions
    for node, cell in functions:
        doc = ast.get_docstring(node) or ""
        for part in ("Args", "Returns", "Example"):
            assert part in doc, f"{node.name}: docstring has no {part} section"
        body_lines = cell.source.split("\n")[node.body[0].end_lineno : node.end_lineno]
        assert any("### BEGIN SOLUTION" in line for line in body_lines), f"{node.name}: marker not in body"
        assert any(re.search(rf"\b{node.name}\(", t) for t in tests), f"{node.name} has no test cell"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_test_cell_is_explained(assignment):
    cells = load(assignment).cells
    for i, c in enumerate(cells):
        if meta(c).get("grade") and not meta(c).get("solution"):
            before = cells[i - 1]
            assert before.cell_type == "markdown" and "What the tests check" in before.source, meta(c)["grade_id"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_course_notebook_skeleton(assignment):
    cells = load(assignment).cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    intro = next((c.source for c in cells if "Learning objectives" in c.source), "")
    after = intro.split("Learning objectives", 1)[-1]
    count = len(re.findall(r"^\d+\. ", after, re.M))
    assert 3 <= count <= 5, f"{count} learning objectives"
    for heading in ("## Setup", "## Summary", "## Exercises"):
        assert re.search(rf"^{heading}", text, re.M), f"missing section {heading}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_is_clean_and_python3(assignment):
    nb = load(assignment)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, "commit source notebooks without outputs"
        assert "import *" not in c.source
