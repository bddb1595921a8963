"""Every clause of every graded function of 03 and 04 names the wrong answer that shows a test reaches it.

No kernel runs here: ``tests/test_mutants.py`` runs the named wrong answers and shows each loses points.
"""

from __future__ import annotations

import pytest

from tests.clauses_a34 import CLAUSES, UNTESTED
from tests.disjoint import graded_functions
from tests.mutants import a03_nonlinearity, a04_cnn_activation_maps

CATALOGUES = {mod.ASSIGNMENT: mod.MUTANTS for mod in (a03_nonlinearity, a04_cnn_activation_maps)}


@pytest.mark.parametrize("assignment", sorted(CLAUSES))
def test_every_graded_function_has_a_clause_table(assignment):
    graded = {name for name, _ in graded_functions(assignment)}
    assert graded == set(CLAUSES[assignment]), (
        f"{assignment}: graded functions without a clause table: {sorted(graded - set(CLAUSES[assignment]))}; "
        f"tables without a graded function: {sorted(set(CLAUSES[assignment]) - graded)}")


@pytest.mark.parametrize("assignment", sorted(CLAUSES))
def test_every_clause_is_reached_or_says_why_not(assignment):
    wrong = {(m.cell, m.name) for m in CATALOGUES[assignment]}
    problems = []
    for function, clauses in CLAUSES[assignment].items():
        assert clauses, f"{function}: an empty clause table"
        for clause, reach in clauses:
            if reach.startswith(UNTESTED):
                if len(reach) - len(UNTESTED) < 20:
                    problems.append(f"{function}: {clause!r} is untested without a reason")
            elif (function, reach) not in wrong:
                problems.append(f"{function}: {clause!r} names no wrong answer of the catalogue ({reach!r})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", sorted(CLAUSES))
def test_every_wrong_answer_of_a_graded_function_is_a_clause(assignment):
    """The table and the catalogue grow together: a new wrong answer names the clause it breaks."""
    listed = {(function, reach) for function, clauses in CLAUSES[assignment].items() for _, reach in clauses}
    unlisted = sorted(f"{m.cell}: {m.name}" for m in CATALOGUES[assignment]
                      if m.cell in CLAUSES[assignment] and (m.cell, m.name) not in listed)
    assert not unlisted, f"wrong answers whose clause is not in tests/clauses_a34.py: {unlisted}"
