"""Figures shared by the course notebooks (matplotlib).

Every helper draws a complete figure: a title, labelled axes, and a legend or colour bar
where one makes sense. Each returns the matplotlib ``Figure`` so a notebook can save it or
adjust it further.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "describe_figure",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_function_and_derivative",
    "plot_functions",
    "plot_image_grid",
    "plot_map_mosaic",
    "show_figure",
]


def _values(f: Callable | np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(f(x) if callable(f) else f, dtype=float)


def plot_functions(
    x: np.ndarray,
    functions: Mapping[str, Callable | np.ndarray],
    *,
    title: str = "Activation functions",
    xlabel: str = "input x",
    ylabel: str = "output f(x)",
    ax: plt.Axes | None = None,
    ylim: tuple[float, float] | None = None,
    styles: Mapping[str, Mapping[str, object]] | None = None,
) -> plt.Figure:
    """Plot several functions of ``x`` on one set of axes, one legend entry each.

    Args:
        x: 1-D input grid.
        functions: label -> function (called on ``x``) or precomputed values.
        title, xlabel, ylabel: texts of the figure.
        ax: axes to draw on; a new figure is made when omitted.
        ylim: optional y limits.
        styles: optional label -> extra ``ax.plot`` keyword arguments for that curve, to set a
            reference curve apart (e.g. ``{"ReLU": {"linestyle": "--", "color": "0.5"}}``).
            Labels without an entry keep the default style.

    Returns:
        The figure.

    Example:
        >>> fig = plot_functions(np.linspace(-3, 3, 61), {"identity": lambda t: t, "ReLU": lambda t: t.clip(0)},
        ...                      styles={"identity": {"linestyle": ":"}})
    """
    fig, ax = _figure(ax, (7, 4.5))
    for label, f in functions.items():
        ax.plot(x, _values(f, x), label=label, **{"linewidth": 2, **(styles or {}).get(label, {})})
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.axvline(0, color="0.6", linewidth=0.8)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig


def plot_function_and_derivative(
    x: np.ndarray,
    f: Callable | np.ndarray,
    df: Callable | np.ndarray,
    *,
    name: str,
    extra: Mapping[str, Callable | np.ndarray] | None = None,
    axes: Sequence[plt.Axes] | None = None,
) -> plt.Figure:
    """Draw a function (left) beside its derivative (right).

    Args:
        x: 1-D input grid.
        f: the function (callable or values on ``x``).
        df: its derivative (callable or values on ``x``).
        name: the function's name, used in titles and legends (e.g. ``"sigmoid"``).
        extra: more curves for the derivative panel, label -> callable/values (for example
            a finite-difference estimate to compare with).
        axes: two axes to draw on; a new 1x2 figure is made when omitted.

    Returns:
        The figure.

    Example:
        >>> sig = lambda t: 1 / (1 + np.exp(-t))
        >>> fig = plot_function_and_derivative(np.linspace(-6, 6, 121), sig, lambda t: sig(t) * (1 - sig(t)),
        ...                                    name="sigmoid")
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    else:
        fig = axes[0].figure
    left, right = axes
    left.plot(x, _values(f, x), linewidth=2, label=f"{name}(x)")
    right.plot(x, _values(df, x), linewidth=2, color="C1", label=f"{name}'(x)")
    for label, g in (extra or {}).items():
        right.plot(x, _values(g, x), linestyle="--", linewidth=1.5, label=label)
    for ax, what, ylabel in ((left, name, "f(x)"), (right, f"derivative of {name}", "f'(x)")):
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.set(title=what, xlabel="input x", ylabel=ylabel)
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    fig.tight_layout()
    return fig


def plot_image_grid(
    images: np.ndarray | Sequence[np.ndarray],
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    title: str = "",
    cmap: str = "viridis",
    colorbar_label: str | None = None,
    panel_size: float = 1.4,
) -> plt.Figure:
    """Show a grid of 2-D images (feature maps, digits), each with an optional caption.

    Args:
        images: ``(n, h, w)`` array or a sequence of ``(h, w)`` arrays. A ``(h, w, n)`` stack of
            feature maps should be moved first: ``np.moveaxis(maps, -1, 0)``.
        titles: one caption per image (e.g. ``"filter 3"`` or ``"true 7"``).
        ncols: images per row.
        title: the figure's title.
        cmap: matplotlib colour map.
        colorbar_label: when given, all images share one colour scale and a labelled colour
            bar (the grid's legend) is drawn.
        panel_size: inches per image.

    Returns:
        The figure.

    Example:
        >>> fig = plot_image_grid(np.random.rand(6, 5, 5), titles=[f"filter {i}" for i in range(6)], ncols=3,
        ...                       title="Random maps", colorbar_label="activation")
    """
    images = [np.asarray(im) for im in images]
    if not images:
        raise ValueError("no images to plot")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(titles)} titles for {len(images)} images")
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols + (0.8 if colorbar_label else 0), panel_size * nrows + 0.6),
        squeeze=False,
    )
    shared = {}
    if colorbar_label:
        lo = min(float(im.min()) for im in images)
        hi = max(float(im.max()) for im in images)
        shared = {"vmin": lo, "vmax": hi if hi > lo else lo + 1}
    mappable = None
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(images):
            ax.axis("off")
            continue
        mappable = ax.imshow(images[i], cmap=cmap, **shared)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if title:
        fig.suptitle(title)
    if colorbar_label and mappable is not None:
        fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.8, label=colorbar_label)
    return fig


def plot_confusion_matrix(
    cm: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    normalize: bool = False,
    title: str = "Confusion matrix",
    cmap: str = "Blues",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Draw a confusion matrix: rows are true classes, columns are predicted classes.

    Args:
        cm: square array of counts, ``cm[i, j]`` = samples of class ``i`` predicted as ``j``.
        class_names: tick labels; ``0..n-1`` when omitted.
        normalize: show each row as fractions of that class (recall on the diagonal).
        title: the figure's title.
        cmap: matplotlib colour map.
        ax: axes to draw on; a new figure is made when omitted.

    Returns:
        The figure, with every cell annotated and a labelled colour bar.

    Example:
        >>> fig = plot_confusion_matrix(np.array([[5, 1], [0, 4]]), ["cat", "dog"])
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square, got shape {cm.shape}")
    n = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    values = cm.astype(float)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    fig, ax = _figure(ax, (0.55 * n + 3, 0.55 * n + 2.2))
    image = ax.imshow(values, cmap=cmap)
    fig.colorbar(image, ax=ax, label="fraction of true class" if normalize else "number of samples")
    threshold = values.max() / 2 if values.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{values[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if values[i, j] > threshold else "black")
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right")
    ax.set_yticks(range(n), names)
    ax.set(title=title, xlabel="predicted class", ylabel="true class")
    fig.tight_layout()
    return fig


def plot_decision_boundary(
    xx: np.ndarray,
    yy: np.ndarray,
    p: np.ndarray,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    title: str = "Decision boundary",
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Shade a model's class-1 probability over a grid, draw the 0.5 contour and the data on top.

    Args:
        xx, yy: grid coordinates from ``np.meshgrid``.
        p: probabilities on the grid, same shape as ``xx``.
        X, y: optional data points ``(n, 2)`` and their 0/1 labels.
        title, xlabel, ylabel: texts of the figure.
        ax: axes to draw on; a new figure is made when omitted.

    Returns:
        The figure, with a colour bar and a legend for the classes and the boundary.

    Example:
        >>> xx, yy = np.meshgrid(np.linspace(0, 1, 20), np.linspace(0, 1, 20))
        >>> fig = plot_decision_boundary(xx, yy, xx, title="p = x1")
    """
    fig, ax = _figure(ax, (5.5, 4.5))
    mesh = ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    fig.colorbar(mesh, ax=ax, label="P(class 1)")
    if np.nanmin(p) < 0.5 < np.nanmax(p):
        ax.contour(xx, yy, p, levels=[0.5], colors="k", linewidths=1.5)
    handles = [plt.Line2D([], [], color="k", linewidth=1.5, label="p = 0.5 boundary")]
    if X is not None and y is not None:
        X, y = np.asarray(X), np.asarray(y)
        for cls, colour in ((0, "tab:blue"), (1, "tab:red")):
            pts = X[y == cls]
            handles.append(ax.scatter(pts[:, 0], pts[:, 1], s=18, color=colour, edgecolor="k", linewidth=0.5,
                                      label=f"class {cls}"))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(handles=handles, loc="upper center", fontsize=8, framealpha=0.9)
    return fig


def _figure(ax: plt.Axes | None, size: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def plot_map_mosaic(
    maps: np.ndarray | Sequence[np.ndarray],
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    title: str = "",
    cmap: str = "viridis",
    colorbar_label: str = "activation",
    tile_size: float = 1.1,
) -> plt.Figure:
    """Many 2-D maps (feature maps, pooled maps) in one image: a fast alternative to ``plot_image_grid``.

    Every map gets a tile as large as the largest map and is centred in it, so a pooled map shows
    at its true, smaller size beside the map it came from. All maps share one colour scale and one
    labelled colour bar; the caption of each map is written above its tile. One ``imshow`` for all
    maps draws dozens of them in a fraction of the time of a grid of subplots.

    Args:
        maps: ``(n, h, w)`` array or a sequence of 2-D arrays (sizes may differ). A ``(h, w, n)``
            stack of feature maps should be moved first: ``np.moveaxis(maps, -1, 0)``.
        titles: one caption per map (e.g. ``"filter 3"``).
        ncols: maps per row.
        title: the figure's title.
        cmap: matplotlib colour map; the gaps between tiles are white.
        colorbar_label: the colour bar's label.
        tile_size: inches per tile.

    Returns:
        The figure.

    Example:
        >>> fig = plot_map_mosaic([np.random.rand(6, 6), np.random.rand(3, 3)], titles=["map", "pooled"],
        ...                       title="A map and its pooled map")
    """
    maps = [np.asarray(m, dtype=float) for m in maps]
    if not maps or any(m.ndim != 2 for m in maps):
        raise ValueError("maps must be a non-empty sequence of 2-D arrays")
    if titles is not None and len(titles) != len(maps):
        raise ValueError(f"{len(titles)} titles for {len(maps)} maps")
    ncols = max(1, min(ncols, len(maps)))
    nrows = -(-len(maps) // ncols)
    h = max(m.shape[0] for m in maps)
    w = max(m.shape[1] for m in maps)
    gap = max(1, h // 6)  # room between tiles (and above each tile for its caption)
    cell_h, cell_w = h + 2 * gap, w + gap
    canvas = np.full((nrows * cell_h, ncols * cell_w), np.nan)
    for i, m in enumerate(maps):
        top = (i // ncols) * cell_h + 2 * gap + (h - m.shape[0]) // 2
        left = (i % ncols) * cell_w + (w - m.shape[1]) // 2
        canvas[top : top + m.shape[0], left : left + m.shape[1]] = m
    lo, hi = float(np.nanmin(canvas)), float(np.nanmax(canvas))
    fig, ax = plt.subplots(figsize=(tile_size * ncols + 1.0, tile_size * nrows * cell_h / cell_w + 0.7))
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    shown = ax.imshow(canvas, cmap=colours, vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
    if titles is not None:
        for i, caption in enumerate(titles):
            ax.text((i % ncols) * cell_w + w / 2 - 0.5, (i // ncols) * cell_h + 1.6 * gap - 0.5, caption,
                    ha="center", va="bottom", fontsize=7)
    ax.set_axis_off()
    ax.set_title(title)
    fig.colorbar(shown, ax=ax, shrink=0.8, label=colorbar_label)
    return fig


# --------------------------------------------------------------------------------------------------
# Text alternatives: a figure shown in a notebook carries a description of what it shows

def describe_figure(fig: plt.Figure) -> str:
    """A text alternative for a figure, from its own texts: suptitle, panel titles, axis labels, legends.

    Use it as a fallback: a sentence written for the figure (what it shows, what to notice) is
    better. Colour bars count as panels (their label is read).

    Args:
        fig: a matplotlib figure.

    Returns:
        One sentence, e.g. ``Figure "Activation functions": panel "sigmoid" (x: input x; y: f(x);
        curves: sigmoid(x)).``; ``"Figure without titles or labels."`` when it has none.

    Example:
        >>> fig = plot_functions(np.linspace(-1, 1, 5), {"ReLU": lambda t: t.clip(0)}, title="ReLU")
        >>> describe_figure(fig)
        'Figure: panel "ReLU" (x: input x; y: output f(x); curves: ReLU).'
    """
    def clean(text: str) -> str:
        return " ".join(text.replace("$", "").split())

    panels = []
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison and not ax.get_title() and not ax.images:
            continue
        details = []
        xlabel, ylabel = clean(ax.get_xlabel()), clean(ax.get_ylabel())
        if xlabel:
            details.append(f"x: {xlabel}")
        if ylabel:
            details.append(f"y: {ylabel}")
        legend = ax.get_legend()
        if legend is not None:
            curves = [clean(t.get_text()) for t in legend.get_texts() if clean(t.get_text())]
            if curves:
                details.append("curves: " + ", ".join(curves))
        title = clean(ax.get_title())
        if not title and not details:
            continue
        text = f'panel "{title}"' if title else "panel"
        panels.append(text + (f" ({'; '.join(details)})" if details else ""))
    suptitle = clean(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) is not None else ""
    head = f'Figure "{suptitle}"' if suptitle else "Figure"
    if not panels:
        return f"{head}." if suptitle else "Figure without titles or labels."
    shown = panels[:12] + ([f"{len(panels) - 12} more panels"] if len(panels) > 12 else [])
    return f"{head}: " + ", ".join(shown) + "."


def show_figure(fig: plt.Figure | None = None, alt: str | None = None, *, dpi: int = 100) -> str:
    """Show a figure in a notebook as a PNG that carries a text alternative, instead of ``plt.show()``.

    The output's metadata holds ``{"image/png": {"alt": alt}}``: nbconvert (HTML export, nbgrader
    feedback) writes it as the ``<img>``'s ``alt`` attribute and screen readers read it. The figure
    is closed afterwards, so the inline backend does not show it a second time.

    Args:
        fig: the figure; the current figure when omitted.
        alt: the text alternative: what the figure shows and what to notice in it. When omitted,
            :func:`describe_figure` builds one from the figure's titles, axis labels and legends.
        dpi: resolution of the PNG.

    Returns:
        The alt text used.

    Example:
        >>> fig = plot_functions(np.linspace(-1, 1, 5), {"ReLU": lambda t: t.clip(0)})
        >>> show_figure(fig, "ReLU is 0 for negative inputs and the identity for positive ones.")  # doctest: +SKIP
    """
    import base64
    import io

    from IPython.display import display

    fig = plt.gcf() if fig is None else fig
    text = alt if alt else describe_figure(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    display({"image/png": png, "text/plain": f"<Figure: {text}>"}, raw=True, metadata={"image/png": {"alt": text}})
    return text
