"""Where the grader keeps what it writes for an assignment: ``build/grading/<assignment>/`` of the course.

One module that every stage imports (preflight, execution, the parallel grader, the similarity check, the
report), so that none of them imports another only for a path.
"""

from __future__ import annotations

from pathlib import Path


def grading_dir(root: str | Path, assignment: str) -> Path:
    """The grader's folder of ``assignment``: flags, problems, the execution cache, integrity findings."""
    return Path(root) / "build" / "grading" / assignment


def similarity_path(root: str | Path, assignment: str) -> Path:
    """The similarity check's result, which the instructor report reads."""
    return grading_dir(root, assignment) / "similarity.json"
