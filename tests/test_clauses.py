"""Every clause of a contract has a test (tests/clauses.py), and every argument of a graded function has
a clause by keyword and by position. Reads the source notebooks only: no kernel."""

from __future__ import annotations

import ast

import nbformat
import pytest

from actkit.instructor.notebooks import notebook_of
from tests.clauses import CLAUSES, NOT_TESTED


def cells_and_functions(assignment: str) -> tuple[dict[str, str], dict[str, ast.FunctionDef]]:
    nb = nbformat.read(notebook_of(assignment), as_version=4)
    tests, functions = {}, {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade") and not meta.get("solution"):
            tests[meta["grade_id"]] = cell.source
        if meta.get("solution"):
            functions |= {n.name: n for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)}
    return tests, functions


@pytest.mark.parametrize("assignment", sorted(CLAUSES))
def test_every_clause_has_a_test(assignment):
    tests, functions = cells_and_functions(assignment)
    table = CLAUSES[assignment]
    assert set(table) == set(functions), f"graded functions without a clause table: {set(functions) - set(table)}"
    untested = [f"{name}: {clause} ({gid}: {fragment!r})" for name, clauses in table.items()
                for clause, (gid, fragment) in clauses.items() if fragment not in tests.get(gid, "")]
    assert not untested, "clauses whose test is missing:\n" + "\n".join(untested)


@pytest.mark.parametrize("assignment", sorted(CLAUSES))
def test_every_argument_has_a_clause_by_keyword_and_by_position(assignment):
    _, functions = cells_and_functions(assignment)
    missing = []
    for name, fn in functions.items():
        optional = [a.arg for a in fn.args.args[len(fn.args.args) - len(fn.args.defaults):]]
        clauses = " | ".join(CLAUSES[assignment][name])
        missing += [f"{name}: {arg} by {how}" for arg in optional for how in ("keyword", "position")
                    if f"{arg} by {how}" not in clauses]
    assert not missing, f"arguments whose use no clause tests: {missing}"


def test_the_tables_sizes_and_what_is_left_out():
    """The figures of the closing note (pytest -s prints them)."""
    for assignment, table in CLAUSES.items():
        print(f"{assignment}: {sum(len(c) for c in table.values())} clauses for {len(table)} functions; "
              f"not tested: {len(NOT_TESTED[assignment])}")
    assert all(NOT_TESTED[a] for a in CLAUSES), "say what is left out, and why"
