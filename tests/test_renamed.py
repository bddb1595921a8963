"""Notebooks handed in under another name (issue 14): matched when unambiguous, graded and flagged in one
line; flagged for review and left without a score when ambiguous; the report leaves ungraded students out
of the mean and lists them. A tiny synthetic course; no notebook is executed.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from actkit.grading import parallel, preflight
from actkit.grading.preflight import match_renamed
from actkit.grading.report import collect, write_report

A = "hw_x"
SUBMISSIONS = {  # student -> files handed in
    "paren": ["hw_x (1).ipynb"],             # a browser's second download
    "canvas": ["hw_x-1.ipynb"],              # Canvas' resubmission suffix
    "copy": ["Copy of HW_X.ipynb"],          # Google Drive / Colab copy, other case
    "both": ["hw_x.ipynb", "hw_x (1).ipynb"],  # the right one is there: the copy is an extra
    "ambiguous": ["hw_x (1).ipynb", "hw_x-2.ipynb"],
    "other": ["homework.ipynb"],
    "missing": ["notes.txt"],
}


@pytest.fixture(autouse=True)
def alembic_head_in_process(monkeypatch):
    """nbgrader stamps a new gradebook with the schema version it asks an ``alembic heads`` subprocess for
    (1-10 s on a busy machine); the same answer, read in-process from nbgrader's migrations."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
    monkeypatch.setattr("nbgrader.api.get_alembic_version", lambda: head)


@pytest.mark.parametrize("stem, expected", [
    ("hw_x (1)", True), ("hw_x-1", True), ("Copy of HW_X", True), ("copy of hw_x (2)", True), ("HW_X-12", True),
    ("hw_x_v2", False), ("hw_y (1)", False), ("my hw_x", False),
])
def test_renamed_names_that_match(stem, expected):
    matched, _ = match_renamed({stem: Path(f"{stem}.ipynb")}, {A: None})
    assert (A in matched) is expected


@pytest.fixture
def course(tmp_path):
    warnings.filterwarnings("ignore", module=r"nbgrader\.api")
    root = tmp_path / "course"
    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    (root / "release" / A).mkdir(parents=True)
    nbformat.write(released, root / "release" / A / f"{A}.ipynb")
    for student, files in SUBMISSIONS.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        for name in files:
            if name.endswith(".ipynb"):
                nbformat.write(released, folder / name)
            else:
                (folder / name).write_text("notes")
    return root


@pytest.fixture
def gradebook(course):
    """The course's gradebook: the assignment with one test cell (4 points)."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment(A)
        gb.update_or_create_notebook(A, A)
        gb.update_or_create_grade_cell("test_f", A, A, max_score=4.0, cell_type="code")
    return course / "gradebook.db"


def lines(problems) -> list[str]:
    return [p.message for p in problems]


def test_unambiguous_renames_are_graded_with_one_flag_line(course):
    for student in ("paren", "canvas", "copy"):
        original = SUBMISSIONS[student][0]
        before = sorted(p.name for p in (course / "submitted" / student / A).iterdir())
        staged = preflight.stage_renamed(course, A, student)
        assert sorted(p.name for p in (course / "submitted" / student / A).iterdir()) == before, \
            "submitted/ is never changed"
        assert staged == parallel.submission_folder(course, A, student) != course / "submitted" / student / A
        assert sorted(p.name for p in staged.iterdir()) == [f"{A}.ipynb"]
        assert (staged / f"{A}.ipynb").read_bytes() == (course / "submitted" / student / A / original).read_bytes()
        problems = preflight.preflight(course, A, student)
        assert lines(problems) == [f"missing; found {original} instead: the same notebook renamed, graded as "
                                   f"{A}.ipynb"], "exactly one line"
        assert not any(p.fatal for p in problems)
    (course / "submitted" / "canvas" / A / "hw_x-1.ipynb").rename(course / "submitted" / "canvas" / A / f"{A}.ipynb")
    assert preflight.stage_renamed(course, A, "canvas") is None, "handed in again under the right name"
    assert parallel.submission_folder(course, A, "canvas") == course / "submitted" / "canvas" / A


def test_the_expected_name_wins_and_the_copy_is_an_extra(course):
    assert preflight.stage_renamed(course, A, "both") is None
    assert lines(preflight.preflight(course, A, "both")) == ["extra notebook (not graded)"]


@pytest.mark.parametrize("student, names, reason", [
    ("ambiguous", "hw_x (1).ipynb, hw_x-2.ipynb", "each could be it"),
    ("other", "homework.ipynb", "misnamed?"),
])
def test_ambiguous_or_unknown_names_are_left_for_review(course, student, names, reason):
    assert preflight.stage_renamed(course, A, student) is None, "nothing is staged"
    problems = preflight.preflight(course, A, student)
    assert len(problems) == 1 and problems[0].fatal and problems[0].review
    assert f"found {names} instead ({reason}; not graded and not scored: flagged for review" in problems[0].message


def test_actkit_grade_zeroes_missing_but_not_ambiguous_and_the_report_lists_them(course, gradebook):
    """actkit-grade's decision (parallel._finish) on the preflight's findings, then the report."""
    candidates = sorted(SUBMISSIONS)
    for student in candidates:
        preflight.stage_renamed(course, A, student)
    plan = parallel._Plan(A, candidates)
    plan.found = {s: preflight.preflight(course, A, s) for s in candidates}
    refs = {A: None}
    plan.ungradable = [s for s, found in plan.found.items() if not preflight.gradable(found, refs)]
    assert sorted(plan.ungradable) == ["ambiguous", "missing", "other"]
    run = parallel._finish(course, plan, {}, time.perf_counter(), lambda *a: None)
    assert any("ambiguous / hw_x.ipynb: missing; found" in line for line in run.lines)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "missing").score == 0, "nothing handed in: scored 0"
        for student in ("ambiguous", "other"):
            with pytest.raises(MissingEntry):
                gb.find_submission(A, student)
        # the graded ones (nbgrader's autograde would write these; a full score stands in for it here)
        for student in ("paren", "canvas", "copy", "both"):
            gb.update_or_create_student(student)
            sub = gb.add_submission(A, student)
            sub.notebooks[0].grades[0].auto_score = 4.0
        gb.db.commit()
    data = collect(course, A)
    assert data["ungraded"] == ["ambiguous", "other"]
    assert sorted(data["scores"]) == ["both", "canvas", "copy", "missing", "paren"]
    assert data["pass_rate"] == {"test_f": pytest.approx(0.8)}, "the ungraded are not in the pass rates"
    page = write_report(course, A).read_text()
    assert "2 not graded, left out of the mean" in page and "mean autograded score 3.2 / 4" in page
    ungraded_list = page.split('id="ungraded"')[1]
    assert "<b>ambiguous</b>: hw_x.ipynb: missing; found hw_x (1).ipynb, hw_x-2.ipynb" in ungraded_list
    shutil.rmtree(course / "build")
