"""A notebook handed in from Google Colab grades exactly like the same answers handed in from Jupyter (issue 12).

Colab saves a notebook differently: nbformat 4.0 (``nbformat_minor`` 0), no cell ids (Colab keeps its own
``id`` in each cell's metadata), its own notebook metadata (``colab``, ``accelerator``, a shorter
``kernelspec``, ``language_info`` without a version), execution counts and outputs of its run, and the file
is called ``Copy of <name>.ipynb`` when the student saved a copy in Drive. The all-right submission of 01 is
converted to that form and graded through ``nbgrader autograde`` (the renamed file staged under its expected
name by ``actkit.grading.preflight.stage_renamed``, as ``actkit-grade`` does); every cell's score must equal
the score of the original form.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import nbformat
import pytest

from actkit.grading import preflight
from actkit.instructor.notebooks import (
    fresh_course,
    make_submission,
    nbgrader,
    notebook_of,
    read_scores,
    solution_cells,
)

A = "01_activation_basics"


def colab_form(path: Path, name: str) -> str:
    """The notebook at ``path`` as Colab's File > Download > Download .ipynb writes it."""
    nb = json.loads(path.read_text())
    nb["nbformat"], nb["nbformat_minor"] = 4, 0
    nb["metadata"] = {
        "colab": {"provenance": [], "name": name, "toc_visible": True},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
    }
    count = 0
    for index, cell in enumerate(nb["cells"]):
        cell.pop("id", None)
        cell.setdefault("metadata", {})["id"] = f"Xq{index:04d}colabCell"
        if cell["cell_type"] == "code":
            count += 1
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            cell["metadata"]["outputId"] = f"{index:08x}-0000-4000-8000-colab0000000"
            cell["execution_count"] = count
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ran in Colab\n"]}]
    return json.dumps(nb, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    warnings.filterwarnings("ignore", module=r"nbgrader\.api")
    root = tmp_path_factory.mktemp("colab-course")
    fresh_course(root, [A])
    nbgrader("generate_assignment", A, "--force", root=root)
    released = notebook_of(A, "release", root)
    right = solution_cells(nbformat.read(notebook_of(A), as_version=4))
    original = root / "submitted" / "jupyter" / A / released.name
    make_submission(released, original, answers=right)
    colab = root / "submitted" / "colab" / A / f"Copy of {released.name}"
    colab.parent.mkdir(parents=True)
    colab.write_text(colab_form(original, colab.name))
    nbgrader("autograde", A, "--create", "--force", "--student", "jupyter", root=root, timeout=900)
    staged = preflight.stage_renamed(root, A, "colab")
    renamed = os.path.relpath(staged.parent.parent, root)  # build/grading/<A>/renamed (student/assignment below)
    nbgrader("autograde", A, "--create", "--force", "--student", "colab",
             f"--CourseDirectory.submitted_directory={renamed}", root=root, timeout=900)
    return root, colab, read_scores(root, A)


def test_the_colab_form_is_what_colab_saves(graded):
    _, colab, _ = graded
    nb = json.loads(colab.read_text())
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 0) and "colab" in nb["metadata"]
    assert all("id" not in c and "id" in c["metadata"] for c in nb["cells"])
    assert colab.name.startswith("Copy of ")


def test_a_colab_download_grades_exactly_like_the_original(graded):
    _, _, scores = graded
    original = {c.grade_id: (c.score, c.max_score) for c in scores["jupyter"].cells if c.auto}
    colab = {c.grade_id: (c.score, c.max_score) for c in scores["colab"].cells if c.auto}
    assert original and colab == original
    assert scores["jupyter"].auto_score == scores["jupyter"].auto_max > 0, "the all-right answers get every point"


def test_the_colab_download_is_graded_from_a_copy_and_flagged_once(graded):
    root, colab, _ = graded
    problems = preflight.preflight(root, A, "colab")
    assert [p.message for p in problems] == [
        f"missing; found {colab.name} instead: the same notebook renamed, graded as {A}.ipynb"]
    assert sorted(p.name for p in colab.parent.iterdir()) == [colab.name], "submitted/ is never changed"
