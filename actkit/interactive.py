"""Interactive Bokeh figures of the lecture on derivatives of activation functions.

The lecture notebook (``notebooks/02_gradients.ipynb``) and the static site (``python -m actkit.instructor.site``)
build their figures with the functions below, so both show exactly the same plots.

- :func:`activation_figure`: an activation (left) beside its derivative (right), with hover
  tooltips; for leaky ReLU and ELU a slider for ``alpha`` redraws both curves;
- :func:`derivative_overview`: the derivatives of all activations on one set of axes;
- :func:`softmax_heatmaps`: the two-input softmax, its outputs and its full 2x2 Jacobian;
- :func:`maxout_heatmaps`: the two-input maxout and its two partial derivatives;
- :func:`interactive_pages`: the layouts the site exports as standalone pages.

**The curves are computed in the browser.** This package holds no reference solution, so the
activations and their derivatives are not computed in Python here (assignments 1 and 2 grade them):
each figure ships only its input grid ``x`` and a ``CustomJS`` callback, whose JavaScript
(:attr:`Activation.js`) fills the columns ``f`` and ``df`` when the page is laid out (the left
panel's ``inner_width`` is set) and again whenever the ``alpha`` slider moves. It works in a static
HTML page without a Python kernel; until it has run, ``f`` and ``df`` hold ``nan``. The tests run
that JavaScript in Node and in a real browser and compare it with the formulas.

Conventions at the kink ``x == 0`` follow TensorFlow's ``GradientTape`` (``tf.nn.relu``,
``tf.nn.leaky_relu``, ``tf.nn.elu``): ``relu'(0) = 0``, ``leaky_relu'(0) = alpha`` and ``elu'(0) = 1``.
GELU is drawn with its tanh approximation (``tf.nn.gelu(x, approximate=True)``). SiLU's derivative
is the one assignment 2 asks students to derive, so its curve is a central difference of the
function (step ``1e-5``, error below ``1e-9``) rather than the formula. For maxout, a tie
``z1 == z2`` sends the whole gradient to the first input, as ``tf.maximum`` does.

Every model a test needs has a ``name``: for an activation ``key`` (e.g. ``"leaky_relu"``) the
figures are ``key_function`` and ``key_derivative``, their line renderers ``key_function_line`` and
``key_derivative_line``, the shared data source ``key_source`` (columns ``x``, ``f``, ``df``), the
callback ``key_callback`` and, with a parameter, the slider ``key_alpha``. In a page, read them back
with ``Bokeh.documents[0].get_model_by_name(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from bokeh.layouts import column, gridplot, row
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    CustomJS,
    HoverTool,
    LinearColorMapper,
    Range1d,
    Slider,
    Span,
)
from bokeh.palettes import RdBu11, Viridis256, interp_palette
from bokeh.plotting import figure

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Page",
    "activation_figure",
    "curve_code",
    "derivative_overview",
    "interactive_pages",
    "maxout_heatmaps",
    "maxout_surfaces",
    "show",
    "softmax_heatmaps",
    "softmax_surfaces",
    "x_grid",
    "z_grid",
]

#: Blue (negative) - white (zero) - red (positive), for signed derivatives.
DIVERGING = interp_palette(RdBu11, 256)

PANEL_WIDTH = 420
PANEL_HEIGHT = 320
HEAT_SIZE = 330


def x_grid(half_width: float = 5.0, per_unit: int = 40) -> np.ndarray:
    """The input grid of the 1-D curves: ``-half_width .. half_width`` with ``x == 0`` exactly on it.

    Args:
        half_width: the grid spans ``[-half_width, half_width]``.
        per_unit: points per unit of ``x`` (the step is ``1 / per_unit``).

    Returns:
        A 1-D float array, symmetric around 0, containing 0.0 exactly.

    Example:
        >>> x_grid(1, 2)
        array([-1. , -0.5,  0. ,  0.5,  1. ])
    """
    n = int(round(half_width * per_unit))
    return np.arange(-n, n + 1) / float(per_unit)


def z_grid(half_width: float = 4.0, per_unit: int = 10) -> np.ndarray:
    """The grid of each input of the two-input heatmaps (same construction as :func:`x_grid`).

    Example:
        >>> z_grid(1, 1)
        array([-1.,  0.,  1.])
    """
    return x_grid(half_width, per_unit)


# --------------------------------------------------------------------------------------------------
# Activations: how to draw them, and the JavaScript that computes them in the browser

# A stable logistic sigmoid in JavaScript: it only ever exponentiates -|x|.
_JS_SIGMOID = "const e = Math.exp(-Math.abs(x));\n        const s = x >= 0 ? 1 / (1 + e) : e / (1 + e);"
_GELU_C = 0.7978845608028654  # sqrt(2 / pi)


@dataclass(frozen=True)
class Activation:
    """How one activation is drawn.

    Attributes:
        key: identifier used in model names (``"leaky_relu"``).
        label: human-readable name used in titles and legends.
        formula: the function in plain text, shown in the title of the left panel.
        derivative: the derivative in plain text, shown in the title of the right panel.
        js: JavaScript statements that set ``f`` and ``df`` from ``x`` and ``a`` (= alpha); they
            run in the browser for every point of the grid.
        color: line colour.
        y_range, dy_range: visible y ranges of the two panels.
        alpha: default ``alpha`` (``None`` for activations without a parameter).
        alpha_range: ``(start, end, step)`` of the slider.
    """

    key: str
    label: str
    formula: str
    derivative: str
    js: str
    color: str
    y_range: tuple[float, float]
    dy_range: tuple[float, float]
    alpha: float | None = None
    alpha_range: tuple[float, float, float] | None = None


ACTIVATIONS: dict[str, Activation] = {
    a.key: a
    for a in [
        Activation("sigmoid", "sigmoid", "σ(x) = 1 / (1 + exp(-x))", "σ'(x) = σ(x) (1 - σ(x))",
                   f"{_JS_SIGMOID}\n        f = s;\n        df = s * (1 - s);",
                   "#1b9e77", (-0.1, 1.1), (-0.05, 0.3)),
        Activation("tanh", "tanh", "tanh(x)", "tanh'(x) = 1 - tanh²(x)",
                   "f = Math.tanh(x);\n        df = 1 - f * f;",
                   "#d95f02", (-1.2, 1.2), (-0.1, 1.1)),
        Activation("relu", "ReLU", "relu(x) = max(0, x)", "relu'(x) = 1 if x > 0 else 0",
                   "f = x > 0 ? x : 0;\n        df = x > 0 ? 1 : 0;",
                   "#7570b3", (-1.0, 5.0), (-0.1, 1.2)),
        Activation("leaky_relu", "leaky ReLU", "x if x > 0 else α·x", "1 if x > 0 else α",
                   "f = x > 0 ? x : a * x;\n        df = x > 0 ? 1 : a;",
                   "#e7298a", (-3.0, 5.0), (-0.1, 1.2), alpha=0.3, alpha_range=(0.0, 1.0, 0.01)),
        Activation("elu", "ELU", "x if x > 0 else α·(exp(x) - 1)", "1 if x ≥ 0 else α·exp(x)",
                   "f = x > 0 ? x : a * Math.expm1(x);\n        df = x >= 0 ? 1 : a * Math.exp(x);",
                   "#e6ab02", (-2.5, 5.0), (-0.1, 2.1), alpha=1.0, alpha_range=(0.1, 2.0, 0.05)),
        Activation("gelu", "GELU", "x·Φ(x) (tanh approximation)", "GELU'(x) ≈ Φ(x) + x·φ(x)",
                   f"const u = {_GELU_C!r} * (x + 0.044715 * x * x * x);\n        const t = Math.tanh(u);\n"
                   "        f = 0.5 * x * (1 + t);\n"
                   f"        df = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * {_GELU_C!r} * (1 + 3 * 0.044715 * x * x);",
                   "#66a61e", (-1.0, 5.0), (-0.2, 1.2)),
        Activation("silu", "SiLU", "silu(x) = x·σ(x)", "silu'(x): derive it in assignment 2",
                   # the derivative is assignment 2's to derive: a central difference of the function here
                   "const silu = (t) => t / (1 + Math.exp(-t));\n"
                   "        const e = Math.exp(-Math.abs(x));\n"
                   "        f = x * (x >= 0 ? 1 / (1 + e) : e / (1 + e));\n"
                   "        df = (silu(x + 1e-5) - silu(x - 1e-5)) / 2e-5;",
                   "#a6761d", (-1.0, 5.0), (-0.2, 1.2)),
    ]
}


def _activation(key: str) -> Activation:
    try:
        return ACTIVATIONS[key]
    except KeyError:
        raise ValueError(f"unknown activation {key!r}; choose one of {sorted(ACTIVATIONS)}") from None


def curve_code(key: str, alpha: float | None = None, *, slider: bool = False) -> str:
    """The JavaScript body of a ``CustomJS`` callback that fills the columns ``f`` and ``df``.

    The callback's arguments are ``source`` (a data source with column ``x``) and, with
    ``slider=True``, ``slider`` (whose ``value`` is alpha). It runs in the browser only.

    Args:
        key: one of ``ACTIVATIONS``.
        alpha: the parameter when there is no slider; the activation's default when ``None``.
        slider: read alpha from ``slider.value`` instead.

    Returns:
        JavaScript source text.

    Example:
        >>> "Math.expm1" in curve_code("elu")
        True
    """
    act = _activation(key)
    a = act.alpha if alpha is None else alpha
    alpha_js = "slider.value" if slider else ("null" if a is None else repr(float(a)))
    return f"""
    // Compute the activation and its derivative on the grid x, for the current alpha.
    const a = {alpha_js};
    const xs = source.data.x;
    const fs = new Float64Array(xs.length);
    const dfs = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) {{
        const x = xs[i];
        let f, df;
        {act.js}
        fs[i] = f;
        dfs[i] = df;
    }}
    source.data = {{...source.data, f: fs, df: dfs}};
"""


# --------------------------------------------------------------------------------------------------
# 1-D figures

def _axes_lines(p) -> None:
    for dimension in ("width", "height"):
        p.add_layout(Span(location=0, dimension=dimension, line_color="#999999", line_width=1))


def _panel(title: str, ylabel: str, x: np.ndarray, y_range: tuple[float, float], name: str):
    p = figure(title=title, name=name, width=PANEL_WIDTH, height=PANEL_HEIGHT,
               x_axis_label="input x", y_axis_label=ylabel,
               x_range=Range1d(float(x[0]), float(x[-1])), y_range=Range1d(*y_range),
               tools="pan,wheel_zoom,box_zoom,reset,save")
    p.title.text_font_size = "12pt"
    _axes_lines(p)
    return p


def activation_figure(key: str, *, x: np.ndarray | None = None, alpha: float | None = None,
                      slider: bool = True):
    """An activation (left panel) beside its derivative (right panel), with hover tooltips.

    Both curves are computed in the browser by a ``CustomJS`` callback (``key_callback``, code from
    :func:`curve_code`) that runs when the page is laid out. For activations with a parameter
    (leaky ReLU, ELU) and ``slider=True`` a slider for ``alpha`` sits below the panels; moving it
    runs the same callback, so both curves follow the slider in a static HTML page, without a
    running kernel.

    Args:
        key: one of ``ACTIVATIONS``.
        x: input grid; :func:`x_grid` when omitted.
        alpha: initial parameter; the activation's default when ``None``.
        slider: add the ``alpha`` slider (only for activations that have a parameter).

    Returns:
        A Bokeh layout: ``row(function, derivative)``, or ``column(row(...), slider)``.

    Example:
        >>> layout = activation_figure("elu", alpha=0.5)
        >>> layout.select_one({"name": "elu_alpha"}).value
        0.5
    """
    act = _activation(key)
    x = x_grid() if x is None else np.asarray(x, dtype=float)
    if alpha is None:
        alpha = act.alpha
    empty = np.full_like(x, np.nan)  # filled in by the browser
    source = ColumnDataSource({"x": x, "f": empty, "df": empty.copy()}, name=f"{key}_source")

    left = _panel(f"{act.label}: {act.formula}", "f(x)", x, act.y_range, f"{key}_function")
    right = _panel(f"derivative: {act.derivative}", "f'(x)", x, act.dy_range, f"{key}_derivative")
    line_f = left.line("x", "f", source=source, line_width=3, color=act.color,
                       legend_label=f"{act.label}(x)", name=f"{key}_function_line")
    line_df = right.line("x", "df", source=source, line_width=3, color=act.color, line_dash="solid",
                         legend_label=f"{act.label}'(x)", name=f"{key}_derivative_line")
    for p, line, column_name, what in ((left, line_f, "f", "f(x)"), (right, line_df, "df", "f'(x)")):
        p.add_tools(HoverTool(renderers=[line], mode="vline",
                              tooltips=[("x", "@x{0.000}"), (what, f"@{column_name}{{0.0000}}")]))
        p.legend.location = "top_left"
    with_slider = act.alpha is not None and slider
    args: dict[str, object] = {"source": source}
    if with_slider:
        start, end, step = act.alpha_range
        args["slider"] = Slider(start=start, end=end, step=step, value=alpha, title=f"{act.label} α",
                                name=f"{key}_alpha", width=PANEL_WIDTH)
    callback = CustomJS(name=f"{key}_callback", args=args, code=curve_code(key, alpha, slider=with_slider))
    left.js_on_change("inner_width", callback)  # set when the page is laid out: the first drawing
    panels = row(left, right)
    if not with_slider:
        return panels
    args["slider"].js_on_change("value", callback)
    return column(panels, args["slider"])


def derivative_overview(*, x: np.ndarray | None = None):
    """The derivatives of all activations on one set of axes (click a legend entry to hide it).

    Each line has its own data source (columns ``x`` and ``df``, named ``key_overview_source``),
    filled in the browser by ``key_overview_callback`` when the page is laid out.

    Args:
        x: input grid; :func:`x_grid` when omitted.

    Returns:
        A Bokeh figure named ``derivative_overview``; one line per activation, each with the
        activation's default ``alpha``.

    Example:
        >>> p = derivative_overview()
        >>> len(p.renderers)
        7
    """
    x = x_grid() if x is None else np.asarray(x, dtype=float)
    p = figure(title="Derivatives of the activations", name="derivative_overview",
               width=2 * PANEL_WIDTH, height=PANEL_HEIGHT + 40, x_axis_label="input x",
               y_axis_label="f'(x)", x_range=Range1d(float(x[0]), float(x[-1])), y_range=Range1d(-0.2, 1.25),
               tools="pan,wheel_zoom,box_zoom,reset,save")
    p.title.text_font_size = "12pt"
    for key, act in ACTIVATIONS.items():
        label = act.label if act.alpha is None else f"{act.label} (α = {act.alpha:g})"
        source = ColumnDataSource({"x": x, "f": np.full_like(x, np.nan), "df": np.full_like(x, np.nan)},
                                  name=f"{key}_overview_source")
        line = p.line("x", "df", source=source, line_width=2.5, color=act.color, legend_label=label,
                      name=f"{key}_overview_line")
        p.add_tools(HoverTool(renderers=[line], tooltips=[("activation", label), ("x", "@x{0.000}"),
                                                          ("f'(x)", "@df{0.0000}")]))
        p.js_on_change("inner_width", CustomJS(name=f"{key}_overview_callback", args={"source": source},
                                               code=curve_code(key)))
    p.legend.location = "top_left"
    p.legend.click_policy = "hide"
    return p


# --------------------------------------------------------------------------------------------------
# Two-input heatmaps

def softmax_surfaces(z: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Outputs and full Jacobian of the softmax of two inputs ``(z1, z2)`` on a grid.

    Rows of every array follow ``z2`` and columns follow ``z1`` (``image[i, j]`` is the value at
    ``z1 = z[j], z2 = z[i]``), the orientation Bokeh's ``image`` glyph expects.

    Args:
        z: the 1-D grid of each input; :func:`z_grid` when omitted.

    Returns:
        A dict with ``s1``, ``s2`` (the two outputs) and ``ds1_dz1``, ``ds1_dz2``, ``ds2_dz1``,
        ``ds2_dz2`` (the four Jacobian entries ``∂s_i/∂z_j = s_i (δ_ij - s_j)``).

    Example:
        >>> out = softmax_surfaces(np.array([0.0]))
        >>> float(out["s1"][0, 0]), float(out["ds1_dz2"][0, 0])
        (0.5, -0.25)
    """
    z = z_grid() if z is None else np.asarray(z, dtype=float)
    z1, z2 = np.meshgrid(z, z)
    m = np.maximum(z1, z2)  # shift before exponentiating: no overflow
    e1, e2 = np.exp(z1 - m), np.exp(z2 - m)
    s1, s2 = e1 / (e1 + e2), e2 / (e1 + e2)
    return {"s1": s1, "s2": s2, "ds1_dz1": s1 * (1 - s1), "ds1_dz2": -s1 * s2,
            "ds2_dz1": -s2 * s1, "ds2_dz2": s2 * (1 - s2)}


def maxout_surfaces(z: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Output and partial derivatives of the maxout ``max(z1, z2)`` of two inputs on a grid.

    Same orientation as :func:`softmax_surfaces`. On a tie ``z1 == z2`` the derivative is not
    defined; like ``tf.maximum``, the whole gradient goes to the first input there.

    Returns:
        A dict with ``m`` (the output), ``dm_dz1`` and ``dm_dz2``.

    Example:
        >>> out = maxout_surfaces(np.array([0.0, 1.0]))
        >>> out["dm_dz1"]
        array([[1., 1.],
               [0., 1.]])
    """
    z = z_grid() if z is None else np.asarray(z, dtype=float)
    z1, z2 = np.meshgrid(z, z)
    first = z1 >= z2
    return {"m": np.maximum(z1, z2), "dm_dz1": first.astype(float), "dm_dz2": (~first).astype(float)}


def _heatmap(values: np.ndarray, z: np.ndarray, *, title: str, name: str, value_label: str,
             palette, low: float, high: float):
    step = float(z[1] - z[0]) if len(z) > 1 else 1.0
    lo, hi = float(z[0]) - step / 2, float(z[-1]) + step / 2
    p = figure(title=title, name=name, width=HEAT_SIZE + 70, height=HEAT_SIZE,
               x_axis_label="input z1", y_axis_label="input z2",
               x_range=Range1d(lo, hi), y_range=Range1d(lo, hi), tools="pan,wheel_zoom,reset,save",
               tooltips=[("z1", "$x{0.00}"), ("z2", "$y{0.00}"), (value_label, "@image{0.0000}")])
    p.title.text_font_size = "11pt"
    mapper = LinearColorMapper(palette=palette, low=low, high=high)
    p.image(image=[values.astype(np.float32)], x=lo, y=lo, dw=hi - lo, dh=hi - lo, color_mapper=mapper,
            name=f"{name}_image")
    p.add_layout(ColorBar(color_mapper=mapper, title=value_label, width=12), "right")
    return p


def softmax_heatmaps(z: np.ndarray | None = None):
    """Heatmaps of the two-input softmax: both outputs and all four entries of its Jacobian.

    Outputs use a sequential palette on ``[0, 1]``; derivatives a diverging palette on
    ``[-0.25, 0.25]`` (blue negative, white zero, red positive), the largest possible magnitude.

    Args:
        z: the 1-D grid of each input; :func:`z_grid` when omitted.

    Returns:
        A Bokeh grid: row 1 the outputs ``s1``, ``s2``; rows 2-3 the Jacobian ``∂s_i/∂z_j``.
        Figures are named ``softmax_<key>`` with the keys of :func:`softmax_surfaces`.

    Example:
        >>> grid = softmax_heatmaps(np.linspace(-1, 1, 5))
        >>> grid.select_one({"name": "softmax_ds1_dz2"}).title.text
        '∂s1/∂z2 = -s1·s2'
    """
    z = z_grid() if z is None else np.asarray(z, dtype=float)
    s = softmax_surfaces(z)
    titles = {
        "s1": ("output s1 = exp(z1) / (exp(z1) + exp(z2))", "s1"),
        "s2": ("output s2 = exp(z2) / (exp(z1) + exp(z2))", "s2"),
        "ds1_dz1": ("∂s1/∂z1 = s1·(1 - s1)", "∂s1/∂z1"),
        "ds1_dz2": ("∂s1/∂z2 = -s1·s2", "∂s1/∂z2"),
        "ds2_dz1": ("∂s2/∂z1 = -s2·s1", "∂s2/∂z1"),
        "ds2_dz2": ("∂s2/∂z2 = s2·(1 - s2)", "∂s2/∂z2"),
    }
    panels = {}
    for key, (title, label) in titles.items():
        output = key.startswith("s")
        panels[key] = _heatmap(s[key], z, title=title, name=f"softmax_{key}", value_label=label,
                               palette=Viridis256 if output else DIVERGING,
                               low=0.0 if output else -0.25, high=1.0 if output else 0.25)
    return gridplot([[panels["s1"], panels["s2"]], [panels["ds1_dz1"], panels["ds1_dz2"]],
                     [panels["ds2_dz1"], panels["ds2_dz2"]]], toolbar_location="right")


def maxout_heatmaps(z: np.ndarray | None = None):
    """Heatmaps of the two-input maxout ``max(z1, z2)`` and of its two partial derivatives.

    Args:
        z: the 1-D grid of each input; :func:`z_grid` when omitted.

    Returns:
        A Bokeh row of three figures named ``maxout_m``, ``maxout_dm_dz1`` and ``maxout_dm_dz2``.

    Example:
        >>> layout = maxout_heatmaps(np.linspace(-1, 1, 5))
        >>> [p.name for p in layout.children]
        ['maxout_m', 'maxout_dm_dz1', 'maxout_dm_dz2']
    """
    z = z_grid() if z is None else np.asarray(z, dtype=float)
    s = maxout_surfaces(z)
    m = _heatmap(s["m"], z, title="output max(z1, z2)", name="maxout_m", value_label="max",
                 palette=Viridis256, low=float(z[0]), high=float(z[-1]))
    d1 = _heatmap(s["dm_dz1"], z, title="∂max/∂z1 (1 where z1 ≥ z2)", name="maxout_dm_dz1",
                  value_label="∂max/∂z1", palette=DIVERGING, low=-1.0, high=1.0)
    d2 = _heatmap(s["dm_dz2"], z, title="∂max/∂z2 (1 where z2 > z1)", name="maxout_dm_dz2",
                  value_label="∂max/∂z2", palette=DIVERGING, low=-1.0, high=1.0)
    return row(m, d1, d2)


# --------------------------------------------------------------------------------------------------
# Showing a figure in a notebook (Jupyter and Google Colab)

def show(layout) -> None:
    """Show a Bokeh figure or layout in the notebook: ``bokeh.io.show``, made to work in Google Colab.

    Colab draws the output of every cell in a frame of its own, so the BokehJS that ``output_notebook()``
    loaded in the Setup cell is not there for the figures of later cells; in Colab this function loads
    it again into the cell's own output first (Colab's advice: call ``output_notebook()`` in every cell
    that shows a figure). Anywhere else it is exactly ``bokeh.io.show(layout)``.

    Args:
        layout: a Bokeh figure or layout (anything else raises ``TypeError``).
    """
    import sys

    from bokeh.io import output_notebook
    from bokeh.io import show as bokeh_show
    from bokeh.models import UIElement

    if not isinstance(layout, UIElement):
        raise TypeError(f"show() takes a Bokeh figure or layout, not {type(layout).__name__}")
    if "google.colab" in sys.modules:
        output_notebook(hide_banner=True)
    bokeh_show(layout)


# --------------------------------------------------------------------------------------------------
# Pages of the site

class Page(NamedTuple):
    """One standalone page of the site: its title, one sentence saying what it shows, the layout."""

    title: str
    description: str
    layout: object


def interactive_pages() -> dict[str, Page]:
    """The standalone pages of the site: file stem -> :class:`Page` (title, description, Bokeh layout).

    Every call builds new models (a Bokeh model belongs to one document only).

    Example:
        >>> sorted(interactive_pages())[:3]
        ['derivatives', 'elu', 'gelu']
        >>> interactive_pages()["elu"].title
        'ELU with an α slider'
    """
    pages: dict[str, Page] = {}
    for key, act in ACTIVATIONS.items():
        what = "with an α slider" if act.alpha is not None else "and its derivative"
        sentence = (f"The {act.label} activation ({act.formula}) on the left and its derivative on the right, "
                    "for inputs x from -5 to 5; hover over a curve to read its values")
        if act.alpha is not None:
            sentence += ", and move the α slider below the plots to see how α changes both curves"
        pages[key] = Page(f"{act.label} {what}", sentence + ".", activation_figure(key))
    pages["derivatives"] = Page(
        "Derivatives of the activations",
        "The derivatives of all seven activations on one set of axes, for inputs x from -5 to 5: where each "
        "one saturates (slope near 0) and where it passes gradients on (slope near 1); click a legend entry "
        "to hide or show its curve.",
        derivative_overview())
    pages["softmax"] = Page(
        "Two-input softmax and its Jacobian",
        "Heatmaps over the two inputs z1 and z2 of the softmax's two outputs s1 and s2 (top row) and of the "
        "four entries of its Jacobian ∂s_i/∂z_j (blue negative, white zero, red positive); hover for values.",
        softmax_heatmaps())
    pages["maxout"] = Page(
        "Two-input maxout and its derivatives",
        "Heatmaps over the two inputs z1 and z2 of the maxout max(z1, z2) and of its partial derivatives: "
        "the gradient goes entirely to the larger input (to z1 on a tie); hover for values.",
        maxout_heatmaps())
    return pages
