"""set_seeds and the shared plotting helpers."""

from __future__ import annotations

import random

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from actkit.plotting import (  # noqa: E402
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_function_and_derivative,
    plot_functions,
    plot_image_grid,
)
from actkit.repro import set_seeds  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_set_seeds_python_and_numpy():
    set_seeds(3)
    a = (random.random(), np.random.rand())
    set_seeds(3)
    assert (random.random(), np.random.rand()) == a
    set_seeds(4)
    assert (random.random(), np.random.rand()) != a


def test_set_seeds_tensorflow():
    import tensorflow as tf

    set_seeds(5, tensorflow=True)
    a = tf.random.uniform((3,)).numpy()
    set_seeds(5, tensorflow=True)
    assert np.array_equal(a, tf.random.uniform((3,)).numpy())


def test_plot_functions_has_title_labels_legend():
    fig = plot_functions(np.linspace(-2, 2, 5), {"id": lambda t: t, "sq": np.linspace(-2, 2, 5) ** 2},
                         title="T")
    ax = fig.axes[0]
    assert ax.get_title() == "T" and ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["id", "sq"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.linspace(-2, 2, 5) ** 2)


def test_plot_functions_styles_per_curve():
    x = np.linspace(-1, 1, 5)
    fig = plot_functions(x, {"a": np.abs, "b": np.square}, styles={"b": {"linestyle": "--", "linewidth": 1}})
    first, second = fig.axes[0].lines[:2]
    assert first.get_linestyle() == "-" and first.get_linewidth() == 2  # no entry: default style
    assert second.get_linestyle() == "--" and second.get_linewidth() == 1


def test_function_and_derivative_panels():
    x = np.linspace(-1, 1, 11)
    fig = plot_function_and_derivative(x, np.tanh, lambda t: 1 - np.tanh(t) ** 2, name="tanh",
                                       extra={"finite differences": np.gradient(np.tanh(x), x)})
    left, right = fig.axes
    assert left.get_title() == "tanh" and "derivative" in right.get_title()
    assert right.get_ylabel() == "f'(x)" and left.get_legend() and right.get_legend()
    np.testing.assert_allclose(right.lines[0].get_ydata(), 1 - np.tanh(x) ** 2)
    assert len(right.get_legend().get_texts()) == 2


def test_image_grid_layout_and_colorbar():
    maps = np.random.default_rng(0).random((10, 4, 4))
    fig = plot_image_grid(maps, titles=[f"f{i}" for i in range(10)], ncols=4, title="maps",
                          colorbar_label="activation")
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 10 and image_axes[3].get_title() == "f3"
    assert fig._suptitle.get_text() == "maps"
    assert any(ax.get_ylabel() == "activation" for ax in fig.axes)  # the colour bar
    with pytest.raises(ValueError):
        plot_image_grid(maps, titles=["only one"])


def test_confusion_matrix_annotations_and_orientation():
    cm = np.array([[5, 1], [0, 4]])
    fig = plot_confusion_matrix(cm, ["cat", "dog"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts[(0, 1)] == "1" and texts[(1, 0)] == "0"  # row = true, column = predicted
    fig = plot_confusion_matrix(cm, normalize=True)
    assert "0.83" in [t.get_text() for t in fig.axes[0].texts]
    with pytest.raises(ValueError):
        plot_confusion_matrix(np.ones((2, 3)))


def test_decision_boundary_legend():
    xx, yy = np.meshgrid(np.linspace(0, 1, 20), np.linspace(0, 1, 20))
    X = np.array([[0.1, 0.1], [0.9, 0.9]])
    fig = plot_decision_boundary(xx, yy, xx, X, np.array([0, 1]), title="boundary")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["p = 0.5 boundary", "class 0", "class 1"] and ax.get_title() == "boundary"


def test_map_mosaic_places_every_map_and_labels_it():
    from actkit.plotting import plot_map_mosaic

    rng = np.random.default_rng(1)
    maps = [rng.random((6, 6)) + 1, rng.random((3, 3)) + 1, rng.random((6, 6)) + 1]
    fig = plot_map_mosaic(maps, titles=["a", "pooled a", "b"], ncols=2, title="mosaic", colorbar_label="act")
    (ax, bar) = fig.axes
    canvas = ax.images[0].get_array()
    assert canvas.count() == 36 + 9 + 36  # every value of every map is drawn once, the rest is gap
    assert sorted(float(v) for v in canvas.compressed()) == sorted(float(v) for m in maps for v in m.ravel())
    assert [t.get_text() for t in ax.texts] == ["a", "pooled a", "b"]
    assert ax.get_title() == "mosaic" and bar.get_ylabel() == "act"
    with pytest.raises(ValueError):
        plot_map_mosaic(maps, titles=["one"])
    with pytest.raises(ValueError):
        plot_map_mosaic([np.zeros(3)])
