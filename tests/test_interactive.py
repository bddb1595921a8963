"""actkit.interactive (the Bokeh figures of lecture 02) and actkit.instructor.site (the static site export).

The curves of the 1-D figures are computed in the browser, so their values are checked by running
each figure's ``CustomJS`` code in Node (with stand-ins for the data source and the slider) and
comparing the result with independent formulas; tests/test_browser.py does the same in Chromium.
"""

from __future__ import annotations

import base64
import inspect
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser

import nbformat
import numpy as np
import pytest
from bokeh.models import ColorBar, CustomJS, GlyphRenderer, HoverTool, Image, Line, Slider

import actkit.interactive as interactive
from actkit.instructor import mathjax
from actkit.instructor.site import build_site, export_notebooks, write_interactive_pages
from actkit.interactive import (
    ACTIVATIONS,
    activation_figure,
    curve_code,
    derivative_overview,
    interactive_pages,
    maxout_heatmaps,
    maxout_surfaces,
    softmax_heatmaps,
    softmax_surfaces,
    x_grid,
    z_grid,
)

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (the browser test covers this)")


def _sigmoid(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


C = math.sqrt(2 / math.pi)


def _gelu(v):
    return 0.5 * v * (1 + math.tanh(C * (v + 0.044715 * v ** 3)))


def _gelu_slope(v):
    t = math.tanh(C * (v + 0.044715 * v ** 3))
    return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * C * (1 + 3 * 0.044715 * v * v)


# Independent references, one point at a time with the math module (TensorFlow's values at 0).
REFERENCE = {
    "sigmoid": (lambda v, a: _sigmoid(v), lambda v, a: _sigmoid(v) * (1 - _sigmoid(v))),
    "tanh": (lambda v, a: math.tanh(v), lambda v, a: 1 / math.cosh(v) ** 2),
    "relu": (lambda v, a: max(v, 0.0), lambda v, a: 1.0 if v > 0 else 0.0),
    "leaky_relu": (lambda v, a: v if v > 0 else a * v, lambda v, a: 1.0 if v > 0 else a),
    "elu": (lambda v, a: v if v > 0 else a * (math.exp(v) - 1), lambda v, a: 1.0 if v >= 0 else a * math.exp(v)),
    "gelu": (lambda v, a: _gelu(v), lambda v, a: _gelu_slope(v)),
    "silu": (lambda v, a: v * _sigmoid(v), lambda v, a: _sigmoid(v) + v * _sigmoid(v) * (1 - _sigmoid(v))),
}
POINTS = [-4.0, -1.3, -0.2, 0.0, 0.2, 1.7, 4.5]


def slope_tolerance(key):
    """SiLU's derivative is drawn as a central difference (assignment 2 asks for the formula)."""
    return {"rtol": 1e-8, "atol": 1e-10} if key == "silu" else {"rtol": 1e-12, "atol": 1e-15}
SLIDERS = {"leaky_relu": (0.0, 1.0, 0.01, 0.3), "elu": (0.1, 2.0, 0.05, 1.0)}  # start, end, step, value


def find(layout, name):
    model = layout.select_one({"name": name})
    assert model is not None, f"no model named {name!r}"
    return model


def expected(key, x, alpha):
    f, df = REFERENCE[key]
    return np.array([f(v, alpha) for v in x]), np.array([df(v, alpha) for v in x])


def run_js(code, x, slider_value=None, tmp_path=None):
    """Run a CustomJS body in Node with a stand-in source (column x) and slider; return its columns."""
    script = (
        f"const slider = {{value: {json.dumps(slider_value)}}};\n"
        f"const source = {{data: {{x: {json.dumps([float(v) for v in x])}, f: [], df: []}}}};\n"
        f"(new Function('source', 'slider', {json.dumps(code)}))(source, slider);\n"
        "console.log(JSON.stringify({x: Array.from(source.data.x), f: Array.from(source.data.f),"
        " df: Array.from(source.data.df)}));\n"
    )
    out = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


# --- the package holds no answer ----------------------------------------------------------------

def test_no_python_function_computes_an_activation_or_a_derivative():
    """actkit.interactive computes no activation curve in Python (assignments 1 and 2 grade them)."""
    public = {name for name, obj in vars(interactive).items() if callable(obj) and not name.startswith("_")}
    assert "activation_curves" not in public
    for key in ACTIVATIONS:
        layout = activation_figure(key)
        source = find(layout, f"{key}_source")
        assert np.all(np.isnan(source.data["f"])) and np.all(np.isnan(source.data["df"])), key
    source = inspect.getsource(interactive)
    for forbidden in ("np.exp(", "np.tanh(", "np.expm1(", "np.logaddexp(", "np.maximum(x"):
        assert forbidden not in source.split("def softmax_surfaces")[0], forbidden


# --- curves (JavaScript) ---------------------------------------------------------------------------

def test_grids_contain_zero_exactly_and_are_symmetric():
    for grid in (x_grid(), z_grid(), x_grid(2.5, 8)):
        assert 0.0 in grid
        np.testing.assert_array_equal(grid, -grid[::-1])
        assert np.all(np.diff(grid) > 0)


@needs_node
@pytest.mark.parametrize("key", sorted(REFERENCE))
@pytest.mark.parametrize("alpha", [None, 0.05, 1.7])
def test_curves_match_formulas(key, alpha):
    a = ACTIVATIONS[key].alpha if alpha is None else alpha
    out = run_js(curve_code(key, alpha), POINTS)
    ef, edf = expected(key, POINTS, a)
    assert out["x"] == POINTS
    np.testing.assert_allclose(out["f"], ef, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["df"], edf, **slope_tolerance(key))


@needs_node
def test_conventions_at_zero_follow_tensorflow():
    def slope_at_zero(key, alpha=None):
        return run_js(curve_code(key, alpha), [0.0])["df"][0]

    assert slope_at_zero("relu") == 0.0
    assert slope_at_zero("leaky_relu", 0.2) == 0.2
    assert slope_at_zero("elu", 0.5) == 1.0
    assert slope_at_zero("sigmoid") == 0.25 and slope_at_zero("tanh") == 1.0
    assert slope_at_zero("silu") == pytest.approx(0.5, abs=1e-10) and slope_at_zero("gelu") == 0.5


@needs_node
def test_curves_stable_for_large_inputs():
    x = [-1e4, -800.0, 800.0, 1e4]
    for key in ACTIVATIONS:
        out = run_js(curve_code(key), x)
        assert all(v is not None and math.isfinite(v) for v in out["f"] + out["df"]), key


def test_unknown_activation_is_an_error():
    with pytest.raises(ValueError, match="unknown activation"):
        curve_code("swish")
    with pytest.raises(ValueError):
        activation_figure("swish")


# --- function + derivative layouts ----------------------------------------------------------------

@needs_node
@pytest.mark.parametrize("key", sorted(ACTIVATIONS))
def test_figure_data_titles_labels_hover(key):
    layout = activation_figure(key)
    source = find(layout, f"{key}_source")
    x = np.asarray(source.data["x"])
    np.testing.assert_array_equal(x, x_grid())
    callback = find(layout, f"{key}_callback")
    assert callback.args["source"] is source
    left = find(layout, f"{key}_function")
    assert callback in left.js_property_callbacks["change:inner_width"], "curves are drawn when the page is laid out"
    slider = layout.select_one({"name": f"{key}_alpha"})
    out = run_js(callback.code, x, None if slider is None else slider.value)
    ef, edf = expected(key, x, ACTIVATIONS[key].alpha)
    np.testing.assert_allclose(out["f"], ef, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["df"], edf, **slope_tolerance(key))
    for part, column, ylabel in (("function", "f", "f(x)"), ("derivative", "df", "f'(x)")):
        fig = find(layout, f"{key}_{part}")
        line = find(layout, f"{key}_{part}_line")
        assert isinstance(line, GlyphRenderer) and isinstance(line.glyph, Line)
        assert line.data_source is source and line.glyph.x == "x" and line.glyph.y == column
        assert fig.title.text and fig.xaxis[0].axis_label == "input x" and fig.yaxis[0].axis_label == ylabel
        assert len(fig.legend[0].items) == 1
        hovers = [t for t in fig.tools if isinstance(t, HoverTool)]
        assert len(hovers) == 1 and hovers[0].renderers == [line]
        assert any(f"@{column}" in value for _, value in hovers[0].tooltips)
    assert "derivative" in find(layout, f"{key}_derivative").title.text


@pytest.mark.parametrize("key", ["sigmoid", "tanh", "relu", "gelu", "silu"])
def test_no_slider_without_parameter(key):
    assert not list(activation_figure(key).select({"type": Slider}))


@pytest.mark.parametrize("key", sorted(SLIDERS))
def test_slider_range_and_initial_value(key):
    start, end, step, value = SLIDERS[key]
    slider = find(activation_figure(key), f"{key}_alpha")
    assert (slider.start, slider.end, slider.step, slider.value) == (start, end, step, value)
    assert "α" in slider.title
    assert not list(activation_figure(key, slider=False).select({"type": Slider}))


@needs_node
@pytest.mark.parametrize("key", sorted(SLIDERS))
def test_initial_alpha_sets_slider_and_both_curves(key):
    layout = activation_figure(key, alpha=0.45)
    slider = find(layout, f"{key}_alpha")
    assert slider.value == 0.45
    source = find(layout, f"{key}_source")
    out = run_js(find(layout, f"{key}_callback").code, source.data["x"], slider.value)
    ef, edf = expected(key, source.data["x"], 0.45)
    np.testing.assert_allclose(out["f"], ef, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["df"], edf, **slope_tolerance(key))
    fixed = activation_figure(key, alpha=0.45, slider=False)  # no slider: alpha is baked into the code
    out = run_js(find(fixed, f"{key}_callback").code, source.data["x"])
    np.testing.assert_allclose(out["df"], edf, **slope_tolerance(key))


@pytest.mark.parametrize("key", sorted(SLIDERS))
def test_callback_wired_to_slider_and_source(key):
    layout = activation_figure(key)
    slider, source = find(layout, f"{key}_alpha"), find(layout, f"{key}_source")
    callbacks = slider.js_property_callbacks["change:value"]
    assert len(callbacks) == 1 and isinstance(callbacks[0], CustomJS)
    cb = callbacks[0]
    assert cb.name == f"{key}_callback"
    assert cb.args["source"] is source and cb.args["slider"] is slider
    code = cb.code
    assert "slider.value" in code and "source.data.x" in code
    assert re.search(r"source\.data\s*=\s*\{[^}]*\bf:\s*\w+,\s*df:\s*\w+", code), "both columns must be replaced"
    if key == "elu":
        assert "Math.expm1" in code and "Math.exp(" in code


@needs_node
@pytest.mark.parametrize("key", sorted(SLIDERS))
def test_callback_javascript_follows_the_slider(key):
    layout = activation_figure(key)
    cb = find(layout, f"{key}_alpha").js_property_callbacks["change:value"][0]
    x = x_grid(3, 4)
    for alpha in (0.37, 0.9):
        out = run_js(cb.code, x, alpha)
        assert out["x"] == x.tolist()
        ef, edf = expected(key, x, alpha)
        np.testing.assert_allclose(out["f"], ef, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["df"], edf, **slope_tolerance(key))


@needs_node
def test_derivative_overview_has_every_activation():
    p = derivative_overview()
    assert p.title.text and p.xaxis[0].axis_label and p.yaxis[0].axis_label == "f'(x)"
    assert len(p.legend[0].items) == len(ACTIVATIONS) and p.legend[0].click_policy == "hide"
    callbacks = p.js_property_callbacks["change:inner_width"]
    for key in ACTIVATIONS:
        line = find(p, f"{key}_overview_line")
        source = line.data_source
        assert source.name == f"{key}_overview_source" and line.glyph.y == "df"
        (cb,) = [c for c in callbacks if c.name == f"{key}_overview_callback"]
        assert cb.args["source"] is source
        out = run_js(cb.code, x_grid())
        np.testing.assert_allclose(out["df"], expected(key, x_grid(), ACTIVATIONS[key].alpha)[1],
                                   **slope_tolerance(key))


# --- heatmaps ---------------------------------------------------------------------------------------

def test_softmax_surfaces_full_jacobian():
    z = np.array([-3.0, 0.0, 0.5, 2.0])
    s = softmax_surfaces(z)
    for i, z2 in enumerate(z):  # rows follow z2, columns follow z1
        for j, z1 in enumerate(z):
            s1 = math.exp(z1) / (math.exp(z1) + math.exp(z2))
            s2 = 1 - s1
            want = {"s1": s1, "s2": s2, "ds1_dz1": s1 * (1 - s1), "ds1_dz2": -s1 * s2,
                    "ds2_dz1": -s2 * s1, "ds2_dz2": s2 * (1 - s2)}
            for key, value in want.items():
                assert s[key][i, j] == pytest.approx(value, rel=1e-12, abs=1e-15), (key, z1, z2)
    np.testing.assert_allclose(s["ds1_dz1"] + s["ds1_dz2"], 0, atol=1e-15)  # rows of J sum to zero
    np.testing.assert_allclose(s["ds2_dz1"] + s["ds2_dz2"], 0, atol=1e-15)
    assert np.any(s["ds1_dz2"] < -0.2), "the off-diagonal terms are part of the Jacobian"


def test_softmax_surfaces_stable():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = softmax_surfaces(np.array([-1000.0, 0.0, 1000.0]))
    assert s["s1"][0, 2] == 1.0 and s["s2"][0, 2] == 0.0 and np.all(np.isfinite(s["ds1_dz2"]))


def test_maxout_surfaces_and_tie_convention():
    z = np.array([-1.0, 0.0, 2.0])
    s = maxout_surfaces(z)
    z1, z2 = np.meshgrid(z, z)
    np.testing.assert_array_equal(s["m"], np.maximum(z1, z2))
    np.testing.assert_array_equal(s["dm_dz1"] + s["dm_dz2"], 1.0)
    np.testing.assert_array_equal(np.diag(s["dm_dz1"]), 1.0)  # a tie goes to z1, like tf.maximum
    assert s["dm_dz1"][0, 2] == 1.0 and s["dm_dz2"][2, 0] == 1.0  # (z1=2, z2=-1) and (z1=-1, z2=2)


def check_heatmap(fig, values):
    assert fig.title.text and fig.xaxis[0].axis_label == "input z1" and fig.yaxis[0].axis_label == "input z2"
    images = [r for r in fig.renderers if isinstance(r.glyph, Image)]
    assert len(images) == 1
    np.testing.assert_allclose(images[0].data_source.data["image"][0], values, rtol=1e-6, atol=1e-7)
    bars = [b for b in fig.right if isinstance(b, ColorBar)]
    assert len(bars) == 1 and bars[0].title
    assert any(isinstance(t, HoverTool) for t in fig.tools)


def test_softmax_heatmaps_show_outputs_and_the_whole_jacobian():
    z = np.linspace(-2, 2, 9)
    grid = softmax_heatmaps(z)
    surfaces = softmax_surfaces(z)
    assert set(surfaces) == {"s1", "s2", "ds1_dz1", "ds1_dz2", "ds2_dz1", "ds2_dz2"}
    for key, values in surfaces.items():
        check_heatmap(find(grid, f"softmax_{key}"), values)


def test_maxout_heatmaps():
    z = np.linspace(-2, 2, 9)
    layout = maxout_heatmaps(z)
    for key, values in maxout_surfaces(z).items():
        check_heatmap(find(layout, f"maxout_{key}"), values)


def test_interactive_pages_are_fresh_layouts():
    first, second = interactive_pages(), interactive_pages()
    assert {"leaky_relu", "elu", "sigmoid", "tanh", "relu", "gelu", "silu", "softmax", "maxout",
            "derivatives"} <= set(first)
    assert all(page.title and page.description.endswith(".") for page in first.values())
    assert first["elu"].layout is not second["elu"].layout


# --- site --------------------------------------------------------------------------------------------

def test_interactive_pages_are_self_contained(tmp_path):
    paths = write_interactive_pages(tmp_path)
    assert {p.name for p in paths} >= {"leaky_relu.html", "elu.html"}
    for path in paths:
        page = path.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]*\bsrc=", page), f"{path.name} loads a script from elsewhere"
        assert "cdn.bokeh.org" not in page
        assert "Bokeh.embed.embed_items" in page and "3.9.2" in page
    assert "leaky_relu_alpha" in (tmp_path / "leaky_relu.html").read_text(encoding="utf-8")


def test_build_site_index(tmp_path):
    written = build_site(tmp_path, notebooks=False)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert written[-1] == tmp_path / "index.html"
    assert 'href="interactive/leaky_relu.html"' in index and 'href="interactive/elu.html"' in index


class PageText(HTMLParser):
    """The text of the <title>, <h1> and <p> elements of an HTML page, and its links."""

    def __init__(self):
        super().__init__()
        self.text: dict[str, list[str]] = {"title": [], "h1": [], "p": []}
        self.links: list[str | None] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.text:
            self._open.append(tag)
            self.text[tag].append("")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            self.text[self._open[-1]][-1] += data


def test_every_interactive_page_has_title_description_and_way_back(tmp_path):
    """Each page: its title as <title> and heading, one sentence saying what it shows, a link to the index."""
    build_site(tmp_path, notebooks=False)
    pages = interactive_pages()
    for stem, page in pages.items():
        path = tmp_path / "interactive" / f"{stem}.html"
        parsed = PageText()
        parsed.feed(path.read_text(encoding="utf-8"))
        assert [t.strip() for t in parsed.text["title"]] == [page.title], stem
        assert [t.strip() for t in parsed.text["h1"]] == [page.title], stem
        assert page.description in [" ".join(p.split()) for p in parsed.text["p"]], stem
        assert len(page.description.split()) >= 12 and page.description.count(". ") == 0, stem
        back = [href for href in parsed.links if href and href.endswith("index.html")]
        assert back and (path.parent / back[0]).resolve() == (tmp_path / "index.html").resolve(), stem
    assert len({page.description for page in pages.values()}) == len(pages), "every page says what it shows"


def test_export_lecture_notebook(tmp_path, repo):
    (path,) = export_notebooks(tmp_path, [repo / "notebooks" / "02_gradients.ipynb"])
    page = path.read_text(encoding="utf-8")
    assert path.name == "02_gradients.html"
    assert "Derivatives of activation functions" in page and "Learning objectives" in page
    assert "<title>Lecture 2: Derivatives of activation functions</title>" in page


def test_lecture_pages_load_mathjax_inline_not_from_a_cdn(tmp_path, repo):
    """The site's formulas need no network: MathJax 3 is inlined, the CDN address is gone (browser test:
    tests/test_browser.py)."""
    (path,) = export_notebooks(tmp_path, [repo / "notebooks" / "01_activation_functions.ipynb"])
    page = path.read_text(encoding="utf-8")
    assert "mathjax" not in " ".join(re.findall(r"<script[^>]*\bsrc=[^>]*>", page, re.I)).lower()
    assert "cdnjs.cloudflare.com/ajax/libs/mathjax" not in page
    assert mathjax.script_tags() in page and "$$" in page


def test_lecture_pages_carry_the_alt_text_of_cells_and_outputs(tmp_path):
    """The site's template writes the alt text of an image output's metadata, else of its cell."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    by_output = nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": png}, metadata={"image/png": {"alt": "A rising <curve>"}})])
    by_cell = nbformat.v4.new_code_cell("plot()", metadata={"alt": "Two panels & a legend"}, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": png})])
    source = tmp_path / "figures.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Figures"), by_output, by_cell]),
                   source)
    (path,) = export_notebooks(tmp_path / "site", [source])
    alts = re.findall(r'<img[^>]*\balt="([^"]*)"', path.read_text(encoding="utf-8"))
    assert alts == ["A rising &lt;curve&gt;", "Two panels &amp; a legend"]
