"""Text alternatives for the figures of the feedback: the preprocessor ``nbgrader generate_feedback`` runs.

nbconvert writes ``alt="No description has been provided for this image"`` (and warns "Alternative
text is missing on N image(s)") for every image output without an ``alt``, either in the output's
metadata (``{"image/png": {"alt": ...}}``, as :func:`actkit.plotting.show_figure` writes it) or in
its cell's metadata (``"alt"``, as the course's figure cells carry it). Students' notebooks lose
those when a student re-creates a cell, and students' own figures never have one.

:class:`FigureAltText` gives every image output that has none a description built from what the
notebook says about the figure, in this order:

1. the texts the cell's code gives the figure: string arguments ``title=``, ``suptitle(...)``,
   ``set_title(...)``, ``xlabel=``/``ylabel=`` (and ``set_xlabel``/``set_ylabel``), ``label=`` of
   the curves, ``colorbar_label=``, and the keys of a literal dict of curves (``plot_functions``);
2. where the figure is: the cell's nbgrader ``grade_id`` and the nearest heading above it;
3. whether it is the student's own figure (a cell the student wrote, not a locked one).

The description names no hidden test and no solution: it is built from the cell's own source
without its hidden-test regions (what the student wrote or saw) and from the notebook's headings.
It also runs in the formgrader (``HTMLExporter.preprocessors``), so its pages describe every figure too.
"""

from __future__ import annotations

import ast
import re

from nbconvert.utils.base import NbConvertBase
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List

__all__ = ["IMAGE_TYPES", "FigureAltText", "describe_cell_figure", "figure_texts", "missing_alt"]

IMAGE_TYPES = ("image/png", "image/jpeg")
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS.*?(### END HIDDEN TESTS|$)", re.S)  # never described
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
TITLE_CALLS = {"suptitle", "set_title", "title"}
LABEL_CALLS = {"set_xlabel": "x axis", "set_ylabel": "y axis", "xlabel": "x axis", "ylabel": "y axis"}
KEYWORDS = {"title": "title", "xlabel": "x axis", "ylabel": "y axis", "colorbar_label": "colour scale",
            "name": "title"}


def _string(node: ast.AST) -> str | None:
    """The text of a string literal or an f-string (its formatted parts written as "...")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    return None


def figure_texts(source: str) -> dict[str, list[str]]:
    """The texts a cell's code gives its figure: titles, axis labels, curve labels, colour scales.

    Args:
        source: the code of the cell (IPython magics and shell escapes are ignored).

    Returns:
        ``{"title": [...], "x axis": [...], "y axis": [...], "curves": [...], "colour scale": [...]}``,
        each in the order of the code, without repeats; empty lists where the code gives none.

    Example:
        >>> figure_texts('ax.set(title="Loss", xlabel="epoch")\\nax.plot(x, y, label="training")')["x axis"]
        ['epoch']
    """
    found: dict[str, list[str]] = {"title": [], "x axis": [], "y axis": [], "curves": [], "colour scale": []}

    def add(kind: str, text: str | None) -> None:
        text = " ".join((text or "").replace("$", "").split())  # "$x_1$" reads as "x_1"
        if text and text not in found[kind]:
            found[kind].append(text)

    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in TITLE_CALLS and node.args:
            add("title", _string(node.args[0]))
        if name in LABEL_CALLS and node.args:
            add(LABEL_CALLS[name], _string(node.args[0]))
        for kw in node.keywords:
            if kw.arg in KEYWORDS and not (kw.arg == "name" and not name.startswith("plot_")):
                add(KEYWORDS[kw.arg], _string(kw.value))
            elif kw.arg == "label":
                add("curves", _string(kw.value))
            elif kw.arg == "titles" and isinstance(kw.value, ast.List | ast.Tuple):
                for element in kw.value.elts[:6]:
                    add("curves", _string(element))
        if name.startswith("plot_"):  # the course's helpers: plot_functions(x, {"label": f, ...})
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    for key in arg.keys:
                        add("curves", _string(key) if key is not None else None)
    return found


def _sentence(texts: dict[str, list[str]]) -> str:
    parts = []
    if texts["title"]:
        parts.append("titled " + "; ".join(f'"{t}"' for t in texts["title"][:4]))
    axes = [f"{axis}: {', '.join(texts[axis][:2])}" for axis in ("x axis", "y axis") if texts[axis]]
    if axes:
        parts.append("with " + " and ".join(axes))
    if texts["curves"]:
        shown = texts["curves"][:8]
        more = len(texts["curves"]) - len(shown)
        parts.append("showing " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    if texts["colour scale"]:
        parts.append("colour scale: " + ", ".join(texts["colour scale"][:2]))
    return ", ".join(parts)


def describe_cell_figure(cell, heading: str = "", *, number: int = 1, count: int = 1) -> str:
    """A description of a figure that a cell displays, from its code and where it stands.

    Args:
        cell: the notebook cell (its ``source`` and nbgrader metadata are read).
        heading: the nearest heading above the cell ("" when there is none).
        number, count: which of the cell's figures this is, of how many.

    Returns:
        One sentence, e.g. ``Figure in "10. All of them in one figure", titled "Activation functions on
        [-4, 4]", showing linear, sigmoid, tanh.``

    Example:
        >>> import nbformat
        >>> cell = nbformat.v4.new_code_cell('plot_functions(xs, {"ReLU": relu}, title="ReLU")')
        >>> describe_cell_figure(cell, "3. ReLU")
        'Figure in section "3. ReLU", titled "ReLU", showing ReLU.'
    """
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    which = f"Figure {number} of {count}" if count > 1 else "Figure"
    if nbgrader.get("solution") or (nbgrader and not nbgrader.get("locked")):
        which += " drawn by your code"
    where = []
    if heading:
        where.append(f'in section "{heading}"')
    if nbgrader.get("grade_id"):
        where.append(f"(cell {nbgrader['grade_id']})")
    what = _sentence(figure_texts(HIDDEN_REGION.sub("", cell.get("source", ""))))
    text = " ".join([which, *where])
    if what:
        text += ", " + what
    return text + "."


def _has_alt(output, mime: str) -> bool:
    return bool(output.get("metadata", {}).get(mime, {}).get("alt"))


def missing_alt(nb) -> list[tuple[int, int]]:
    """``(cell index, output index)`` of every image output that would be written without alt text."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.get("metadata", {}).get("alt"):
            continue
        for j, output in enumerate(cell.get("outputs", [])):
            if any(mime in output.get("data", {}) and not _has_alt(output, mime) for mime in IMAGE_TYPES):
                found.append((i, j))
    return found


class FigureAltText(NbGraderPreprocessor):
    """Give every image output without a text alternative a description of its figure.

    Image outputs with an ``alt`` in their metadata, and cells with ``alt`` in theirs, are left as
    they are. Runs in ``nbgrader generate_feedback`` and in the formgrader's pages (``nbgrader_config.py``).
    """

    # configurable as in nbconvert (NbGraderPreprocessor redeclares it without config=True, so nbgrader warns
    # "Config option `display_data_priority` not recognized" for every NbGraderPreprocessor in generate_feedback)
    display_data_priority = List(NbConvertBase.display_data_priority.default()).tag(config=True)

    def preprocess(self, nb, resources):
        heading = ""
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                headings = HEADING.findall(cell.source)
                if headings:
                    heading = headings[-1].strip()
                continue
            if cell.cell_type != "code" or cell.get("metadata", {}).get("alt"):
                continue
            images = [o for o in cell.get("outputs", []) if any(m in o.get("data", {}) for m in IMAGE_TYPES)]
            for number, output in enumerate(images, start=1):
                for mime in IMAGE_TYPES:
                    if mime in output.get("data", {}) and not _has_alt(output, mime):
                        output.setdefault("metadata", {}).setdefault(mime, {})["alt"] = describe_cell_figure(
                            cell, heading, number=number, count=len(images))
        return nb, resources
