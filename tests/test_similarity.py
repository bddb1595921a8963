"""Similarity check (actkit/grading/similarity.py): planted near-copies are listed, honest pairs are not.

The class of each assignment tested: the instructor's answers ("sol"), a near-copy of them with the
local variables renamed, the code re-formatted (``ast.unparse``) and comments and blank lines added
("sol_copy"); the correct variants of the wrong-answer catalogue, written differently ("alt"), and a
near-copy of those ("alt_copy"); the second variants where the catalogue has them ("alt2"); two blank
submissions (the released notebook, identical, so only the removal of the released code keeps them
apart), and a third near-copy of the instructor's answers handed in under a renamed file
(``... (1).ipynb``). Needs no grading run.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from markupsafe import escape

from actkit.grading.cells import reference_notebooks
from actkit.grading.similarity import THRESHOLD, answer_code, check, write_similarity
from actkit.instructor.notebooks import REPO_ROOT, make_submission, notebook_of, solution_cells

ASSIGNMENTS = ["01_activation_basics", "02_gradients"]
COPIES = {("sol", "sol_copy"), ("alt", "alt_copy"), ("sol", "sol_copy_renamed"), ("sol_copy", "sol_copy_renamed")}


def disguise(code: str, suffix: str) -> str:
    """A near-copy: local names renamed, the code re-formatted, a comment before every return, blank lines."""
    tree = ast.parse(code)
    local = {n.id for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
             for n in ast.walk(f) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in local:
                node.id = f"my_{node.id}{suffix}"
            return node

    lines = []
    for line in ast.unparse(Rename().visit(tree)).splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if line.lstrip().startswith("return"):
            lines += ["", f"{indent}# the result, as asked"]
        lines.append(line.replace(" = ", "  =  "))
    return "\n".join(lines) + "\n"


def code_answers(assignment: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The instructor's code answers and the catalogue's correct variants, by grade id."""
    source = nbformat.read(notebook_of(assignment), as_version=4)
    code_ids = {c.metadata.nbgrader["grade_id"] for c in source.cells
                if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    right = {k: v for k, v in solution_cells(source).items() if k in code_ids}
    alternatives: dict[str, list[str]] = {}
    for variant in importlib.import_module(f"tests.mutants.a{assignment}").ALTERNATIVES:
        alternatives.setdefault(variant.cell, []).append(variant.code)
    return right, alternatives


def make_class(root: Path, assignment: str) -> dict[str, dict[str, str] | None]:
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO_ROOT / "release" / assignment, root / "release" / assignment)
    released = notebook_of(assignment, "release", root)
    right, alternatives = code_answers(assignment)
    alt = {k: v[0] for k, v in alternatives.items() if k in right}
    students = {
        "sol": right,
        "sol_copy": {k: disguise(v, "_1") for k, v in right.items()},
        "alt": alt,
        "alt_copy": {k: disguise(v, "_2") for k, v in alt.items()},
        "alt2": {k: v[1] for k, v in alternatives.items() if k in right and len(v) > 1},
        "blank": None,
        "blank_too": None,
    }
    for student, answers in students.items():
        make_submission(released, root / "submitted" / student / assignment / released.name, answers=answers)
    renamed = root / "submitted" / "sol_copy_renamed" / assignment / f"{released.stem} (1).ipynb"
    make_submission(released, renamed, answers={k: disguise(v, "_3") for k, v in right.items()})
    return students


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def course(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"similarity-{request.param}")
    students = make_class(root, request.param)
    return root, request.param, students, write_similarity(root, request.param)


def pairs_of(result) -> set[tuple[str, str]]:
    return {tuple(sorted((p["a"], p["b"]))) for p in result["pairs"]}


def test_near_copies_listed_honest_pairs_not(course):
    root, assignment, _, result = course
    assert pairs_of(result) == {tuple(sorted(p)) for p in COPIES}
    for pair in result["pairs"]:
        assert max(pair["share_a"], pair["share_b"]) >= THRESHOLD
    # the honest pairs are not merely just below the line: every one is far from it
    everything = check(root, assignment, threshold=0.0, min_shared=0)
    honest = [p for p in everything["pairs"] if tuple(sorted((p["a"], p["b"]))) not in pairs_of(result)]
    assert honest and max(max(p["share_a"], p["share_b"]) for p in honest) < THRESHOLD - 0.1


def test_the_copies_are_disguised(course):
    """The planted copies share few lines of text with their originals (those without a local name)."""
    root, assignment, _, _ = course
    ref = reference_notebooks(root, assignment)
    name = next(iter(ref))

    def lines(student, file=name):
        nb = nbformat.read(root / "submitted" / student / assignment / f"{file}.ipynb", as_version=4)
        return {line.strip() for line in answer_code(nb, ref[name]).splitlines()
                if line.strip() and not line.strip().startswith("#")}

    original, copy = lines("sol"), lines("sol_copy")
    assert original and len(original & copy) <= len(original) // 3


def test_released_code_is_not_shared_work(course):
    """Two identical blank submissions (the released notebook) are not compared and not listed."""
    _, _, students, result = course
    assert result["students"] == len(students) + 1
    assert result["compared"] == len(students) - 1  # everyone but the two blanks
    assert not {"blank", "blank_too"} & {s for pair in pairs_of(result) for s in pair}


def test_side_by_side_view_marks_the_matching_code(course):
    _, _, _, result = course
    pair = next(p for p in result["pairs"] if {p["a"], p["b"]} == {"sol", "sol_copy"})
    views = {pair["a"]: pair["view_a"], pair["b"]: pair["view_b"]}
    for student, view in views.items():
        whole = "".join(text for text, _ in view)
        marked = "".join(text for text, found in view if found)
        assert "raise NotImplementedError" not in whole and "Args:" not in views["sol"]  # released lines removed
        # the original's code is found almost whole in the copy (the copy keeps a re-formatted docstring)
        assert len(marked) > (0.6 if student == "sol" else 0.3) * len(whole)


def test_scores_do_not_depend_on_the_hash_seed(course):
    """copydetect hashes with Python's hash(); the module's stable hash gives the same result in every process."""
    root, assignment, _, _ = course
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-m", "actkit.grading.similarity", assignment, "--root", str(root)],
                       check=True, capture_output=True, env=env, cwd=REPO_ROOT)
        outputs.append(json.loads((root / "build" / "grading" / assignment / "similarity.json").read_text()))
    assert outputs[0] == outputs[1] and outputs[0]["pairs"]


def test_report_lists_pairs_side_by_side(course):
    from actkit.grading.report import render

    root, assignment, _, result = course
    data = {"assignment": assignment, "students": [], "scores": {}, "max_score": 0.0, "pass_rate": {},
            "seconds": {}, "flagged": {}, "ungraded": [], "similarity": result}
    page = render(data, [])
    for i, pair in enumerate(result["pairs"], 1):
        assert f'<details id="pair-{i}">' in page
        assert f"{pair['a']} and {pair['b']}: side by side" in page
    assert page.count("<mark>") >= len(result["pairs"]) * 2
    # student code is escaped, never taken as HTML
    comparisons = [text for p in result["pairs"] for text, _ in p["view_a"] if "<" in text or ">" in text]
    assert comparisons and all(str(escape(text)) in page and text not in page for text in comparisons)
