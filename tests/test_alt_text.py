"""Every figure of the course has a text alternative (issue 14, item 8).

- every image output of the lecture notebooks (committed executed) carries an alt text, in the
  output's metadata or in its cell's ``alt`` metadata, that is a description and not nbconvert's
  "No description has been provided for this image";
- every instructor-made figure cell of the assignments (``source/``, and so ``release/``) carries
  cell metadata ``alt`` (students' own figures are described at feedback time: test_feedback_pages.py);
- ``actkit.plotting.show_figure`` displays a figure as a PNG whose metadata holds the alt text,
  given or built by ``describe_figure`` from the figure's own titles, labels and legends.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from actkit import plotting
from actkit.grading.alttext import IMAGE_TYPES, missing_alt
from actkit.instructor.notebooks import REPO_ROOT, assignments, notebook_of

LECTURES = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
DEFAULT_ALT = "No description has been provided for this image"


def alt_of(cell, output) -> str:
    for mime in IMAGE_TYPES:
        if mime in output.get("data", {}):
            return output.get("metadata", {}).get(mime, {}).get("alt") or cell.get("metadata", {}).get("alt", "")
    return ""


def is_description(text: str) -> bool:
    """A sentence or more about the figure: at least 12 words, not a file name or nbconvert's placeholder."""
    return bool(text) and text != DEFAULT_ALT and len(text.split()) >= 12 and not re.search(r"\.(png|jpe?g)\b", text)


@pytest.mark.parametrize("lecture", LECTURES, ids=lambda p: p.stem)
def test_every_lecture_figure_has_a_description(lecture):
    nb = nbformat.read(lecture, as_version=4)
    figures = [(i, cell, output) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
               for output in cell.get("outputs", []) if any(m in output.get("data", {}) for m in IMAGE_TYPES)]
    assert figures, f"{lecture.name} shows no figure"
    assert missing_alt(nb) == [], f"{lecture.name}: image outputs without alt text (cell, output): {missing_alt(nb)}"
    for i, cell, output in figures:
        assert is_description(alt_of(cell, output)), f"{lecture.name} cell {i}: {alt_of(cell, output)!r}"


def figure_cells(nb) -> list[tuple[int, object]]:
    """Instructor-made cells that display a figure: plt.show() or display(...), not a student's answer cell."""
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and not c.metadata.get("nbgrader", {}).get("solution")
            and re.search(r"^\s*(plt\.show\(\)|display\(|plotting\.show_figure\(|show_figure\()", c.source, re.M)]


@pytest.mark.parametrize("assignment", assignments())
def test_every_assignment_figure_cell_has_a_description(assignment):
    """source/ carries the alt texts; release/ (generated from it) keeps them."""
    source = nbformat.read(notebook_of(assignment), as_version=4)
    cells = figure_cells(source)
    assert cells, f"{assignment} shows no figure"
    for i, cell in cells:
        assert is_description(cell.metadata.get("alt", "")), f"{assignment} cell {i}: no alt: {cell.source[:60]!r}"
    released = nbformat.read(notebook_of(assignment, "release"), as_version=4)
    assert sorted(c.metadata["alt"] for _, c in cells) == sorted(c.metadata["alt"] for _, c in figure_cells(released))


# --- actkit.plotting --------------------------------------------------------------------------------

def test_describe_figure_reads_titles_labels_and_legends():
    x = np.linspace(-3, 3, 61)
    fig = plotting.plot_function_and_derivative(x, np.tanh(x), 1 - np.tanh(x) ** 2, name="tanh")
    fig.suptitle("The $\\tanh$ pair")
    text = plotting.describe_figure(fig)
    plt.close(fig)
    assert text.startswith('Figure "The \\tanh pair":')
    for part in ('panel "tanh"', 'panel "derivative of tanh"', "x: input x", "y: f'(x)", "curves: tanh(x)"):
        assert part in text, (part, text)
    bare, _ = plt.subplots()
    assert plotting.describe_figure(bare) == "Figure without titles or labels."
    plt.close(bare)


def test_show_figure_displays_a_png_with_its_alt_text(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *args, **kw: shown.append((args, kw)))
    x = np.linspace(-2, 2, 41)
    fig = plotting.plot_functions(x, {"ReLU": x.clip(0)}, title="ReLU")
    alt = "ReLU is 0 for negative inputs and equal to x for positive ones, a kink at the origin."
    assert plotting.show_figure(fig, alt) == alt
    assert not plt.fignum_exists(fig.number), "the figure is closed (not shown a second time)"
    fig = plotting.plot_functions(x, {"ReLU": x.clip(0)}, title="ReLU")
    fallback = plotting.show_figure(fig)
    assert fallback.startswith('Figure: panel "ReLU"') and "curves: ReLU" in fallback, fallback
    for (args, kw), text in zip(shown, (alt, fallback), strict=True):
        (data,) = args
        assert kw["raw"] is True and kw["metadata"] == {"image/png": {"alt": text}}
        assert data["image/png"].startswith("iVBORw0KGgo")  # a base64 PNG
