"""The real nbgrader loop: generate, submit, autograde, feedback, export.

For every assignment: the all-right submission gets full autograded marks and the blank release
gets zero. For 01, the demo's partial submission (two functions wrong) gets exactly the points of
the other test cells, the CSV export lists all three students, and no feedback shows hidden tests.
"""

from __future__ import annotations

import nbformat
import pytest

from actkit.instructor.demo import CLEO_MISTAKES, read_csv, run_demo
from actkit.instructor.notebooks import (
    assignments,
    autograded_max,
    fresh_course,
    grade_cells,
    make_submission,
    nbgrader,
    notebook_of,
    read_scores,
    solution_cells,
)
from tests.test_release import secret_lines

OTHERS = [a for a in assignments() if a != "01_activation_basics"]


def assert_no_hidden_tests_in_feedback(root, assignment):
    _, hidden = secret_lines(nbformat.read(notebook_of(assignment), as_version=4))
    pages = list((root / "feedback").rglob("*.html"))
    assert pages, "no feedback generated"
    for page in pages:
        html = page.read_text()
        assert "HIDDEN TESTS" not in html and "BEGIN SOLUTION" not in html, page
        leaked = [line for line in hidden if line in html or line.replace('"', "&quot;") in html]
        assert not leaked, f"{page}: hidden test lines {leaked[:3]}"


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    return root, run_demo(root, quiet=True)


def test_demo_all_right_gets_full_marks(demo):
    _, scores = demo
    ada = scores["ada"]
    assert ada.auto_max == autograded_max(nbformat.read(notebook_of("01_activation_basics"), as_version=4))
    assert ada.auto_score == ada.auto_max > 0


def test_demo_blank_gets_zero(demo):
    _, scores = demo
    assert scores["ben"].auto_score == 0


def test_demo_partial_loses_exactly_the_broken_questions(demo):
    _, scores = demo
    points = {gid: m["points"] for gid, m in grade_cells(
        nbformat.read(notebook_of("01_activation_basics"), as_version=4)).items()}
    broken = {f"test_{name}" for name in CLEO_MISTAKES}
    cleo = {c.grade_id: c.score for c in scores["cleo"].cells if c.auto}
    assert {gid for gid, s in cleo.items() if s == 0} == broken
    assert scores["cleo"].auto_score == scores["cleo"].auto_max - sum(points[g] for g in broken)


def test_demo_exports_csv_and_safe_feedback(demo):
    root, _ = demo
    rows = read_csv(root / "grades.csv")
    assert sorted(r["student_id"] for r in rows) == ["ada", "ben", "cleo"]
    by_student = {r["student_id"]: float(r["raw_score"]) for r in rows}
    assert by_student["ada"] > by_student["cleo"] > by_student["ben"] == 0
    assert_no_hidden_tests_in_feedback(root, "01_activation_basics")


@pytest.mark.parametrize("assignment", OTHERS)
def test_roundtrip_right_and_blank(tmp_path, assignment):
    fresh_course(tmp_path, [assignment])
    nbgrader("generate_assignment", assignment, "--force", root=tmp_path)
    released = notebook_of(assignment, "release", tmp_path)
    right = solution_cells(nbformat.read(notebook_of(assignment), as_version=4))
    make_submission(released, tmp_path / "submitted" / "right" / assignment / released.name, answers=right)
    make_submission(released, tmp_path / "submitted" / "blank" / assignment / released.name)
    nbgrader("autograde", assignment, "--create", "--force", root=tmp_path)
    scores = read_scores(tmp_path, assignment)
    assert scores["right"].auto_score == scores["right"].auto_max > 0, [
        c for c in scores["right"].cells if c.auto and c.score != c.max_score]
    assert scores["blank"].auto_score == 0
    nbgrader("generate_feedback", assignment, "--force", root=tmp_path)
    assert_no_hidden_tests_in_feedback(tmp_path, assignment)
