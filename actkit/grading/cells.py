"""The kinds of cells grading tells apart, from their nbgrader metadata."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from actkit.instructor.notebooks import REPO_ROOT


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell) -> bool:
    m = meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def is_helper_cell(cell) -> bool:
    """A read-only instructor code cell that is not a test (``test_helpers``, setup helpers)."""
    m = meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("locked")) and not m.get("grade") \
        and not m.get("solution")


def is_answer_cell(cell) -> bool:
    return bool(meta(cell).get("solution"))


def reference_notebooks(root: Path, assignment: str) -> dict[str, NotebookNode]:
    """The released notebooks of an assignment (the student's starting point), by name.

    Read once per file version and shared by every caller: read them, copy a cell before changing it.
    """
    refs = {}
    for folder in (Path(root) / "release" / assignment, REPO_ROOT / "release" / assignment):
        for path in sorted(folder.glob("*.ipynb")):
            refs.setdefault(path.stem, _read(path))
        if refs:
            break
    if not refs:  # no release folder: the source notebook has the same cells and ids
        for path in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
            refs[path.stem] = _read(path)
    return refs


def _read(path: Path) -> NotebookNode:
    info = path.stat()
    return _read_version(str(path), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=32)
def _read_version(path: str, mtime_ns: int, size: int) -> NotebookNode:
    return nbformat.read(path, as_version=4)
