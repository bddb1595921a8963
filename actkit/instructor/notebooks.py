"""Instructor-side tools around nbgrader: reading graded cells, building example submissions,
running the nbgrader commands, and reading scores back from the gradebook.

Used by ``make demo`` (:mod:`actkit.instructor.demo`) and by the test-suite. No reference solution lives here:
an "all-right" submission is built at run time from the instructor's ``source/`` notebook.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "REPO_ROOT",
    "CellScore",
    "SubmissionScore",
    "assignments",
    "autograded_max",
    "grade_cells",
    "make_submission",
    "nbgrader",
    "notebook_of",
    "read_scores",
    "solution_cells",
    "strip_solution_markers",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^\s*(#+\s*)?### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def assignments(root: Path = REPO_ROOT) -> list[str]:
    """Names of the assignments in ``root/source`` (folders holding a notebook), sorted."""
    return sorted(p.name for p in (root / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebook_of(assignment: str, folder: str = "source", root: Path = REPO_ROOT) -> Path:
    """The single notebook of an assignment in ``root/folder/assignment``."""
    notebooks = sorted((root / folder / assignment).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise ValueError(f"{root / folder / assignment}: expected one notebook, found {len(notebooks)}")
    return notebooks[0]


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_cells(nb) -> dict[str, dict]:
    """grade_id -> nbgrader metadata of every cell that carries points (tests and written answers)."""
    return {m["grade_id"]: m for c in nb.cells if (m := _nbgrader_meta(c)).get("grade")}


def autograded_max(nb) -> float:
    """Total points of the autograded (test) cells of a notebook."""
    return float(sum(m.get("points", 0) for m in grade_cells(nb).values() if not m.get("solution")))


def strip_solution_markers(source: str) -> str:
    """Remove the ``### BEGIN/END SOLUTION`` lines, keeping the instructor's answer between them."""
    return "\n".join(line for line in source.split("\n") if not MARKER.match(line))


def solution_cells(source_nb) -> dict[str, str]:
    """grade_id -> the instructor's answer (markers removed) for every solution cell of a source notebook."""
    return {
        m["grade_id"]: strip_solution_markers(c.source)
        for c in source_nb.cells
        if (m := _nbgrader_meta(c)).get("solution")
    }


def make_submission(
    release_path: Path,
    out_path: Path,
    *,
    answers: dict[str, str] | None = None,
) -> None:
    """Write a student submission: the released notebook with some solution cells filled in.

    Args:
        release_path: the student version from ``release/``.
        out_path: where the submission is written (folders are created).
        answers: grade_id -> new cell source. Cells not named keep the released stub, so
            ``answers=None`` gives the blank submission.
    """
    nb = nbformat.read(release_path, as_version=4)
    answers = dict(answers or {})
    for cell in nb.cells:
        grade_id = _nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers.pop(grade_id)
    if answers:
        raise KeyError(f"{release_path.name} has no solution cells named {sorted(answers)}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_path)


def nbgrader(*args: str, root: Path, check: bool = True, timeout: float | None = None,
             env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` with the course config for the course directory ``root``."""
    # nbgrader calls the `alembic` script of its own environment: put that environment first on PATH.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    full_env = dict(os.environ, NBGRADER_COURSE_ROOT=str(root), PATH=path, **(env or {}))
    cmd = [sys.executable, "-m", "nbgrader", *args]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass
class CellScore:
    grade_id: str
    score: float | None
    max_score: float
    auto: bool


@dataclass
class SubmissionScore:
    student: str
    cells: list[CellScore]

    @property
    def auto_score(self) -> float:
        return sum(c.score or 0.0 for c in self.cells if c.auto)

    @property
    def auto_max(self) -> float:
        return sum(c.max_score for c in self.cells if c.auto)

    @property
    def manual_max(self) -> float:
        return sum(c.max_score for c in self.cells if not c.auto)


def read_scores(root: Path, assignment: str) -> dict[str, SubmissionScore]:
    """Per-student, per-cell scores of one assignment from the gradebook of course directory ``root``."""
    from nbgrader.api import Gradebook

    scores: dict[str, SubmissionScore] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(assignment):
            cells = []
            for notebook in submission.notebooks:
                for grade in sorted(notebook.grades, key=lambda g: g.name):
                    auto = grade.cell.cell_type == "code"  # test cells; written answers are markdown
                    cells.append(CellScore(grade.name, grade.score, grade.max_score, auto))
            scores[submission.student_id] = SubmissionScore(submission.student_id, cells)
    return scores


def fresh_course(root: Path, assignments_: list[str]) -> None:
    """Make ``root`` an empty course directory whose ``source/`` holds copies of the given assignments."""
    if root.exists():
        shutil.rmtree(root)
    (root / "source").mkdir(parents=True)
    for name in assignments_:
        shutil.copytree(REPO_ROOT / "source" / name, root / "source" / name)
