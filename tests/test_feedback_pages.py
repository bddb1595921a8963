"""Feedback pages a student can read with a screen reader and without a network.

One graded class of assignment 01 (two students, graded by ``nbgrader autograde``, then
``nbgrader generate_feedback``): ada hands in the released notebook with her answers, ben hands in the
same answers with every cell's metadata ``alt`` gone (as when a student re-creates a figure cell), and
a figure of his own drawn in an answer cell. The feedback generation must not warn about missing
alternative text, every ``<img>`` must carry a description (the course's own for ada's figures, one
built from the figure's code for ben's), and the page must typeset its formulas in Chromium with the
network blocked (MathJax 3 inline, actkit/instructor/mathjax.py).
"""

from __future__ import annotations

import concurrent.futures
import html
import re
import shutil

import nbformat
import pytest

from actkit.grading.alttext import IMAGE_TYPES, FigureAltText, describe_cell_figure, figure_texts, missing_alt
from actkit.instructor import mathjax
from actkit.instructor.notebooks import fresh_course, make_submission, nbgrader, notebook_of, solution_cells
from tests.test_browser import BROWSER_ARGS, CHROMIUM, offline_context

ASSIGNMENT = "01_activation_basics"
DEFAULT_ALT = "No description has been provided for this image"
MISSING_ALT_WARNING = "Alternative text is missing"
STUDENT_FIGURE = (
    "\nimport matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots()\n"
    "ax.plot([-1, 0, 1], [0, 0, 1], label='my relu')\n"
    "ax.set(title='My own ReLU check', xlabel='input', ylabel='output')\n"
    "ax.legend()\n"
    "plt.show()\n"
)


def figure_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("alt")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback_course")
    fresh_course(root, [ASSIGNMENT])
    nbgrader("generate_assignment", ASSIGNMENT, "--force", root=root)
    released = notebook_of(ASSIGNMENT, "release", root)
    answers = solution_cells(nbformat.read(notebook_of(ASSIGNMENT), as_version=4))
    make_submission(released, root / "submitted" / "ada" / ASSIGNMENT / released.name, answers=answers)

    ben = root / "submitted" / "ben" / ASSIGNMENT / released.name
    first = next(gid for gid, code in answers.items() if "def " in code)
    make_submission(released, ben, answers={**answers, first: answers[first] + STUDENT_FIGURE})
    nb = nbformat.read(ben, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("alt", None)
    nbformat.write(nb, ben)

    nbgrader("autograde", ASSIGNMENT, "--create", "--force", root=root)
    proc = nbgrader("generate_feedback", ASSIGNMENT, "--force", root=root)
    pages = {student: root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html" for student in ("ada", "ben")}
    return root, proc.stdout + proc.stderr, pages


def img_alts(page: str) -> list[str | None]:
    """The alt attribute of every <img> of a page (None where it has none), entities decoded."""
    alts = []
    for tag in re.findall(r"<img\b[^>]*>", page):
        found = re.search(r"""\balt=(["'])(.*?)\1""", tag, re.S)
        alts.append(html.unescape(found.group(2)) if found else None)
    return alts


def test_feedback_generation_warns_about_no_missing_alt_text(course):
    _, output, pages = course
    assert MISSING_ALT_WARNING not in output, output
    assert all(page.is_file() for page in pages.values())


def test_every_feedback_image_has_a_real_description(course, repo):
    root, _, pages = course
    source = nbformat.read(notebook_of(ASSIGNMENT), as_version=4)
    course_alts = [c.metadata["alt"] for c in figure_cells(source)]
    assert course_alts, "the assignment's figure cells carry alt text (cell metadata)"
    for student, page in pages.items():
        autograded = nbformat.read(notebook_of(ASSIGNMENT, f"autograded/{student}", root), as_version=4)
        images = sum(1 for c in autograded.cells for o in c.get("outputs", [])
                     if any(m in o.get("data", {}) for m in IMAGE_TYPES))
        alts = img_alts(page.read_text(encoding="utf-8"))
        plots = [a for a in alts if a != "Open In Colab"]
        assert len(plots) == images >= len(course_alts), (student, alts)
        assert all(a and a != DEFAULT_ALT and len(a.split()) >= 4 for a in plots), (student, alts)
        if student == "ada":  # the course's own descriptions reach the feedback
            assert all(alt in plots for alt in course_alts), (course_alts, plots)
        else:  # built from the figure's code: the student's figure is named by its title
            assert any("My own ReLU check" in a and "drawn by your code" in a for a in plots), plots


def test_feedback_loads_no_script_from_the_network(course):
    _, _, pages = course
    text = pages["ada"].read_text(encoding="utf-8")
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", text)
    assert not [s for s in sources if "mathjax" in s.lower()], sources
    assert mathjax.script_tags() in text


def test_feedback_formulas_are_typeset_offline(course):
    """Chromium with every request that is not a local file aborted: MathJax typesets the page's formulas."""
    _, _, pages = course
    assert "$" in pages["ada"].read_text(encoding="utf-8"), "the feedback page has formulas to typeset"
    assert CHROMIUM, "no Chromium executable: `apt-get install -y chromium` (.ci/run does)"
    # in a thread of its own: Playwright's sync API refuses a thread where an event loop is running, which
    # an earlier test in the same process (nbclient, the formgrader) may have left behind
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        typeset, text = pool.submit(_typeset_offline, pages["ada"]).result()
    assert typeset >= 5, typeset
    assert not re.search(r"\$[^$\n]{1,80}\$", text), "raw $...$ left in the page"


def _typeset_offline(path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context, blocked = offline_context(browser)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path.as_uri())
        page.wait_for_selector("mjx-container svg", timeout=30_000)
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
        page.evaluate("() => MathJax.startup.promise")
        typeset = page.locator("mjx-container").count()
        text = page.inner_text("body")
        browser.close()
    assert not errors, errors
    assert not [u for u in blocked if "mathjax" in u.lower()], blocked
    return typeset, text


def test_formgrader_page_inlines_mathjax_and_describes_every_figure(course, repo, monkeypatch):
    """The formgrader's submission view, rendered as its handler does, with the course's configuration."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    root, _, _ = course
    # as when the formgrader runs in the course directory: its nbgrader_config.py is read last, after the
    # formgrader's own settings (which a configuration read from the working directory does not override)
    shutil.copy(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    monkeypatch.chdir(root)
    monkeypatch.setenv("NBGRADER_COURSE_ROOT", str(root))
    extension = FormgradeExtension()
    extension.root_dir = str(root)
    extension.initialize([])
    resources = {"assignment_id": ASSIGNMENT, "notebook_id": ASSIGNMENT, "submission_id": "x", "index": 0,
                 "total": 2, "base_url": "", "student": "ben", "last_name": None, "first_name": None,
                 "notebook_path": "autograded/ben"}
    page, _ = HTMLExporter(config=extension.config).from_filename(
        str(notebook_of(ASSIGNMENT, "autograded/ben", root)), resources=resources)
    assert "formgrade" in page.lower() and mathjax.script_tags() in page
    plots = [a for a in img_alts(page) if a != "Open In Colab"]
    assert plots and all(a and a != DEFAULT_ALT for a in plots), plots


# --- the preprocessor on its own ------------------------------------------------------------------

def test_figure_texts_reads_titles_labels_and_curves():
    texts = figure_texts('fig = plot_functions(xs, {"ReLU": relu, f"leaky {a}": f}, title="Two $x_1$ curves")\n'
                         'ax.set_xlabel("input x")\nax.set(ylabel="f(x)")\n%matplotlib inline\n')
    assert texts["title"] == ["Two x_1 curves"] and texts["x axis"] == ["input x"] and texts["y axis"] == ["f(x)"]
    assert texts["curves"] == ["ReLU", "leaky …"]
    assert figure_texts("this is not python(") == {k: [] for k in texts}


def test_preprocessor_describes_images_without_alt_and_keeps_the_others():
    png = {"image/png": "iVBORw0KGgo="}
    figure = nbformat.v4.new_code_cell('ax.set(title="Loss per epoch", xlabel="epoch")\nplt.show()', outputs=[
        nbformat.v4.new_output("display_data", data=png),
        nbformat.v4.new_output("display_data", data=png, metadata={"image/png": {"alt": "Kept as written."}})])
    by_cell = nbformat.v4.new_code_cell("plt.show()", metadata={"alt": "The cell's own."},
                                        outputs=[nbformat.v4.new_output("display_data", data=png)])
    answer = nbformat.v4.new_code_cell('plt.title("Mine")', outputs=[nbformat.v4.new_output("display_data", data=png)])
    answer.metadata["nbgrader"] = {"grade": False, "solution": True, "grade_id": "my_plot", "locked": False}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## 3. Training\ntext"), figure, by_cell,
                                         nbformat.v4.new_markdown_cell("# Part B"), answer])
    assert missing_alt(nb) == [(1, 0), (4, 0)]
    nb, _ = FigureAltText().preprocess(nb, {})
    assert missing_alt(nb) == []
    assert nb.cells[1].outputs[0].metadata["image/png"]["alt"] == (
        'Figure 1 of 2 in section "3. Training", titled "Loss per epoch", with x axis: epoch.')
    assert nb.cells[1].outputs[1].metadata["image/png"]["alt"] == "Kept as written."
    assert "alt" not in nb.cells[2].outputs[0].get("metadata", {}).get("image/png", {})
    assert nb.cells[4].outputs[0].metadata["image/png"]["alt"] == describe_cell_figure(nb.cells[4], "Part B")
    assert "drawn by your code" in nb.cells[4].outputs[0].metadata["image/png"]["alt"]
