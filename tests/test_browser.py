"""The standalone interactive pages in a real browser: headless Chromium driven by Playwright.

The pages are built with ``actkit.instructor.site`` into a temporary folder and opened from ``file://``
(BokehJS is inlined, nothing is fetched). The curves are computed by the page's JavaScript when it
is laid out: the first test reads every page's plotted data back from Bokeh's document and compares
it with the formulas. The others move an ``alpha`` slider with real input events (keyboard arrows
on the focused noUiSlider handle, or a mouse drag of the handle) and compare the plotted data with
the formula for the slider's new value. A broken ``CustomJS`` callback fails these tests.

The last tests block every request that is not a local file: a lecture page of the site must typeset its
formulas with the MathJax it carries inline (actkit/instructor/mathjax.py), and an interactive page's link must lead
back to the index. (The feedback page's formulas: tests/test_feedback_pages.py.)

Skipped only where no Chromium executable exists (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from playwright.sync_api import sync_playwright  # in requirements.txt: missing means failure, not skip

from actkit.instructor.site import write_interactive_pages


def _chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_EXECUTABLE"), "/usr/bin/chromium",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = _chromium()


@pytest.fixture(autouse=True)
def _needs_chromium():
    """A machine without Chromium fails these tests (never skips them)."""
    assert CHROMIUM, ("no Chromium executable (/usr/bin/chromium or chromium on PATH); install it with "
                      "`apt-get install -y chromium` (.ci/run does)")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]

# Expected curves, written independently of actkit.interactive (TensorFlow's values at x = 0).
_C = np.sqrt(2 / np.pi)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _gelu_parts(x):
    t = np.tanh(_C * (x + 0.044715 * x ** 3))
    return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _C * (1 + 3 * 0.044715 * x * x)


FORMULAS = {
    "sigmoid": (lambda x, a: _sigmoid(x), lambda x, a: _sigmoid(x) * _sigmoid(-x)),
    "tanh": (lambda x, a: np.tanh(x), lambda x, a: 1 / np.cosh(x) ** 2),
    "relu": (lambda x, a: np.maximum(x, 0.0), lambda x, a: (x > 0).astype(float)),
    "leaky_relu": (lambda x, a: np.where(x > 0, x, a * x), lambda x, a: np.where(x > 0, 1.0, a)),
    "elu": (lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
            lambda x, a: np.where(x >= 0, 1.0, a * np.exp(np.minimum(x, 0)))),
    "gelu": (lambda x, a: _gelu_parts(x)[0], lambda x, a: _gelu_parts(x)[1]),
    "silu": (lambda x, a: x * _sigmoid(x), lambda x, a: _sigmoid(x) * (1 + x * _sigmoid(-x))),
}
AT_ZERO = {"sigmoid": 0.25, "tanh": 1.0, "relu": 0.0, "elu": 1.0, "gelu": 0.5, "silu": 0.5}
INITIAL = {"leaky_relu": 0.3, "elu": 1.0}
STEP = {"leaky_relu": 0.01, "elu": 0.05}

READ_PLOT = """(key) => {
    const doc = Bokeh.documents[0];
    const plotted = (part) => {
        const renderer = doc.get_model_by_name(`${key}_${part}_line`);
        const data = renderer.data_source.data;
        return {x: Array.from(data[renderer.glyph.x.field]), y: Array.from(data[renderer.glyph.y.field])};
    };
    const slider = doc.get_model_by_name(`${key}_alpha`);
    return {alpha: slider === null ? null : slider.value,
            function: plotted("function"), derivative: plotted("derivative")};
}"""


@pytest.fixture(scope="session")
def pages(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site") / "interactive"
    write_interactive_pages(folder)
    return folder


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, pages):
    opened = []

    def open_(key, slider=True):
        context = browser.new_context(viewport={"width": 1000, "height": 700})
        page = context.new_page()
        errors, requests = [], []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto((pages / f"{key}.html").as_uri())
        page.wait_for_function(
            "(name) => window.Bokeh !== undefined && Bokeh.documents.length > 0"
            " && Bokeh.documents[0].get_model_by_name(name) !== null",
            arg=f"{key}_source", timeout=30_000)
        page.wait_for_function(  # the page's JavaScript has drawn the curves
            "(name) => !Bokeh.documents[0].get_model_by_name(name).data.df.some(Number.isNaN)",
            arg=f"{key}_source", timeout=30_000)
        handle = page.locator(".noUi-handle")  # Playwright's CSS selectors pierce Bokeh's shadow DOM
        if slider:
            handle.wait_for(state="visible", timeout=30_000)
        opened.append(context)
        return page, handle, errors, requests

    yield open_
    for context in opened:
        context.close()


def check_plot(plot, key, alpha):
    """Both plotted curves equal the formulas for ``alpha`` (exactly for the piecewise-linear ones)."""
    f, df = FORMULAS[key]
    for part, formula in (("function", f), ("derivative", df)):
        x = np.array(plot[part]["x"])
        y = np.array(plot[part]["y"])
        assert x.size > 100 and 0.0 in x
        want = formula(x, alpha)
        if key in ("leaky_relu", "relu"):
            np.testing.assert_array_equal(y, want, err_msg=f"{key} {part} for alpha={alpha}")
        elif key == "silu" and part == "derivative":  # a central difference in the page (assignment 2's formula)
            np.testing.assert_allclose(y, want, rtol=1e-8, atol=1e-10, err_msg=f"{key} {part}")
        else:  # Math.exp/expm1/tanh and NumPy's may differ in the last bits
            np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-14, err_msg=f"{key} {part} for alpha={alpha}")
    x = np.array(plot["derivative"]["x"])
    at_zero = np.array(plot["derivative"]["y"])[x == 0][0]
    want = alpha if key == "leaky_relu" else AT_ZERO[key]
    assert at_zero == pytest.approx(want, abs=1e-10 if key == "silu" else 0), f"{key}'(0) = {at_zero}"


@pytest.mark.parametrize("key", sorted(FORMULAS))
def test_page_draws_the_curves_when_loaded(open_page, key):
    page, _, errors, requests = open_page(key, slider=key in INITIAL)
    plot = page.evaluate(READ_PLOT, key)
    assert plot["alpha"] == INITIAL.get(key)
    check_plot(plot, key, plot["alpha"])
    assert not errors, errors
    assert all(url.startswith("file:") for url in requests), requests


def wait_for_alpha_change(page, key, old):
    page.wait_for_function(
        "([name, old]) => Bokeh.documents[0].get_model_by_name(name).value !== old",
        arg=[f"{key}_alpha", old], timeout=10_000)


@pytest.mark.parametrize("key", ["leaky_relu", "elu"])
def test_keyboard_moves_slider_and_both_curves_follow(open_page, key):
    page, handle, errors, requests = open_page(key)
    before = page.evaluate(READ_PLOT, key)
    assert before["alpha"] == INITIAL[key]
    check_plot(before, key, before["alpha"])

    handle.focus()
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    wait_for_alpha_change(page, key, before["alpha"])
    page.wait_for_timeout(200)  # let the last key's callback finish
    after = page.evaluate(READ_PLOT, key)
    assert after["alpha"] == pytest.approx(INITIAL[key] - 4 * STEP[key], abs=1e-9)
    assert after["function"]["y"] != before["function"]["y"], "the function curve did not change"
    assert after["derivative"]["y"] != before["derivative"]["y"], "the derivative curve did not change"
    check_plot(after, key, after["alpha"])

    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    again = page.evaluate(READ_PLOT, key)
    assert again["alpha"] == pytest.approx(INITIAL[key] - 3 * STEP[key], abs=1e-9)
    check_plot(again, key, again["alpha"])
    assert not errors, errors
    assert all(url.startswith("file:") for url in requests), requests


@pytest.mark.parametrize("key", ["leaky_relu", "elu"])
def test_mouse_drag_moves_slider_and_both_curves_follow(open_page, key):
    page, handle, errors, _ = open_page(key)
    before = page.evaluate(READ_PLOT, key)
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=8)
    page.mouse.up()
    wait_for_alpha_change(page, key, before["alpha"])
    page.wait_for_timeout(200)
    after = page.evaluate(READ_PLOT, key)
    assert after["alpha"] > before["alpha"]
    assert after["derivative"]["y"] != before["derivative"]["y"]
    check_plot(after, key, after["alpha"])
    assert not errors, errors


# --- offline math on the site's lecture pages ----------------------------------------------------------

def offline_context(browser):
    """A browser context in which every request that is not a local file is aborted (and recorded)."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context, blocked


def test_site_lecture_page_typesets_formulas_offline(browser, tmp_path):
    """Lecture 1 as the site exports it, opened with the network blocked: MathJax (inlined) typesets every
    formula; no $$ is left in the text and nothing MathJax needs was requested from the network."""
    from actkit.instructor.site import NOTEBOOKS, export_notebooks

    lecture = NOTEBOOKS / "01_activation_functions.ipynb"
    (path,) = export_notebooks(tmp_path, [lecture])
    markdown = [c.source for c in nbformat.read(lecture, as_version=4).cells if c.cell_type == "markdown"]
    displayed = sum(text.count("$$") for text in markdown) // 2
    assert displayed >= 3, "lecture 1 has display formulas"
    context, blocked = offline_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")
    shown = page.locator("mjx-container[display='true']").count()
    inline = page.locator("mjx-container:not([display='true'])").count()
    text = page.inner_text("body")
    context.close()
    assert shown >= displayed and inline >= 10, (shown, inline)
    assert "$$" not in text, "raw display math left on the page"
    assert not errors, errors
    assert not [url for url in blocked if "mathjax" in url.lower()], blocked


def test_interactive_page_links_back_to_the_index(browser, tmp_path):
    """The link on an interactive page opens the site's index (offline, from file://)."""
    from actkit.instructor.site import build_site

    build_site(tmp_path, notebooks=False)
    context, blocked = offline_context(browser)
    page = context.new_page()
    page.goto((tmp_path / "interactive" / "elu.html").as_uri())
    assert page.locator("h1").inner_text() == "ELU with an α slider"
    page.get_by_role("link", name="Back to the course site index").click()
    page.wait_for_url((tmp_path / "index.html").as_uri(), timeout=10_000)
    assert page.title() == "Activation functions: course site"
    context.close()
    assert not blocked, blocked
