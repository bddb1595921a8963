"""release/ is what nbgrader generates from source/ and holds no solution or hidden test."""

from __future__ import annotations

import json

import nbformat
import pytest

from actkit.instructor.notebooks import MARKER, REPO_ROOT, assignments, fresh_course, nbgrader, notebook_of

ASSIGNMENTS = assignments()


def normalised(path):
    nb = json.loads(path.read_text())
    nb.get("metadata", {}).pop("celltoolbar", None)
    return nb


@pytest.fixture(scope="session")
def regenerated(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    fresh_course(root, ASSIGNMENTS)
    for name in ASSIGNMENTS:
        nbgrader("generate_assignment", name, "--force", root=root)
    return root / "release"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_fresh(regenerated, assignment):
    committed = REPO_ROOT / "release" / assignment
    assert committed.is_dir(), f"release/{assignment} is missing: run `make release` and commit it"
    fresh = regenerated / assignment
    new_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    old_files = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    assert new_files == old_files, "release/ has other files than source/ generates: run `make release`"
    for rel in new_files:
        a, b = regenerated / assignment / rel, committed / rel
        if rel.suffix == ".ipynb":
            assert normalised(a) == normalised(b), f"release/{assignment}/{rel} is stale: run `make release`"
        else:
            assert a.read_bytes() == b.read_bytes(), f"release/{assignment}/{rel} is stale: run `make release`"


def test_no_stray_release_folders():
    stray = {p.name for p in (REPO_ROOT / "release").iterdir() if p.is_dir()} - set(ASSIGNMENTS)
    assert not stray, f"release/ has folders with no source: {stray}"


def secret_lines(source_nb):
    """Lines of solutions (per grade id) and of hidden tests in a source notebook."""
    solutions, hidden = {}, set()
    for c in source_nb.cells:
        m = c.get("metadata", {}).get("nbgrader", {})
        inside, kind = False, None
        for line in c.source.split("\n"):
            mark = MARKER.match(line)
            if mark:
                inside = mark.group(2) == "BEGIN"
                kind = mark.group(3)
                continue
            text = line.strip()
            if inside and len(text) > 12 and not text.startswith("#"):
                if kind == "SOLUTION":
                    solutions.setdefault(m["grade_id"], set()).add(text)
                else:
                    hidden.add(text)
    return solutions, hidden


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_or_hidden_test_in_release(assignment):
    source = nbformat.read(notebook_of(assignment), as_version=4)
    solutions, hidden = secret_lines(source)
    assert solutions and hidden
    for path in (REPO_ROOT / "release" / assignment).rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for word in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert word not in text, f"{path}: marker {word!r}"
        if path.suffix != ".ipynb":
            continue
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        leaked = [line for line in hidden if line in code]
        assert not leaked, f"{path}: hidden test lines {leaked[:3]}"
        for c in nb.cells:
            gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            leaked = [line for line in solutions.get(gid, ()) if line in c.source]
            assert not leaked, f"{path}: solution of {gid} leaked: {leaked[:3]}"
            if gid in solutions and c.cell_type == "code":
                assert "raise NotImplementedError()" in c.source, f"{gid}: stub does not raise"
