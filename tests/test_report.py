"""The instructor report is readable with colour blindness and every figure has a text alternative.

Built from made-up grading data (no grading run): three test cells, one that most submissions fail.
Colour-vision deficiencies are simulated with the matrices of Machado, Oliveira & Fernandes (2009,
severity 1.0, linear RGB); two colours count as distinguishable when their CIELAB distance stays
above 40 for protanopia, deuteranopia and tritanopia (red and green fall to about 7 for deuteranopia).
"""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from importlib import resources

import matplotlib.image
import numpy as np
import pytest

from actkit.grading.report import COLOURS, PASS_MARK, TEMPLATE, figures, render
from actkit.instructor.notebooks import REPO_ROOT

CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
DISTINCT = 40.0  # CIELAB distance


def linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(
        rgb_linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def worst_distance(a: str, b: str) -> float:
    """The smallest CIELAB distance between two colours over the simulated colour-vision deficiencies."""
    return min(float(np.linalg.norm(lab(np.array(m) @ linear(a)) - lab(np.array(m) @ linear(b)))) for m in CVD.values())


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio."""
    lum = [float(np.dot([0.2126, 0.7152, 0.0722], linear(c))) for c in (fg, bg)]
    return (max(lum) + 0.05) / (min(lum) + 0.05)


DATA = {
    "assignment": "01_activation_basics",
    "students": ["ada", "ben", "cleo", "dan"],
    "scores": {"ada": 22.0, "ben": 0.0, "cleo": 15.0, "dan": 19.0},
    "max_score": 22.0,
    "pass_rate": {"test_linear": 1.0, "test_softmax": 0.25, "test_tanh": 0.75},
    "seconds": {"ada": 4.2, "ben": 2.9, "cleo": 3.6, "dan": 12.4},
    "flagged": {"dan": ["a cell was cut off by the timeout"]},
    "ungraded": ["eve"],
    "similarity": None,
}


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    figs = figures(DATA, out)
    page = render(DATA, figs)
    parser = Images()
    parser.feed(page)
    return page, figs, parser.images


def test_status_colours_survive_colour_blindness():
    assert worst_distance(COLOURS["pass"], COLOURS["fail"]) > DISTINCT
    assert worst_distance("#2ca02c", "#d62728") < DISTINCT  # the old green/red pair: the check tells them apart
    # the status words on their colours are readable (WCAG AA: 4.5)
    assert contrast("#ffffff", COLOURS["pass"]) >= 4.5 and contrast("#000000", COLOURS["fail"]) >= 4.5


def test_every_status_is_also_a_word(report):
    page, _, _ = report
    rows = re.findall(r"<tr><td>(test_\w+)</td><td>(\d+)%</td>\s*<td><span class=\"status (\w+)\">\W+ (\w+)</span>",
                      page)
    assert {r[0] for r in rows} == set(DATA["pass_rate"])
    for cell, percent, css, word in rows:
        expected = "pass" if int(percent) >= PASS_MARK else "fail"
        assert css == word == expected, cell
    style = page[page.index("<style>"):page.index("</style>")]
    used = {c.upper() for c in re.findall(r"#[0-9A-Fa-f]{6}\b|#[0-9A-Fa-f]{3}\b", style)}
    neutral = {"#FFF", "#000", "#222", "#999"}
    assert used - neutral <= {c.upper() for c in COLOURS.values()}, used


def test_pass_rate_figure_uses_the_palette_and_labels_every_bar(report):
    _, figs, _ = report
    path = next(f["path"] for f in figs if f["name"] == "pass_rate")
    pixels = (matplotlib.image.imread(path)[..., :3] * 255).reshape(-1, 3)

    def share(hex_colour: str) -> float:
        target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
        return float(np.mean(np.abs(pixels - target).max(axis=1) <= 6))

    assert share(COLOURS["pass"]) > 0.01 and share(COLOURS["fail"]) > 0.002  # the failing bar is hatched
    assert share("#d62728") == 0 and share("#2ca02c") == 0


def test_every_figure_has_a_real_text_alternative(report):
    page, figs, images = report
    assert len(images) == len(figs) == 3
    for image in images:
        alt = image.get("alt", "")
        assert len(alt.split()) >= 12, alt
        assert "no description" not in alt.lower()
    alts = {f["name"]: f["alt"] for f in figs}
    # the alternatives say what the figures show: the numbers, not just the kind of chart
    assert "4 submissions" in alts["scores"] and "mean 14.0" in alts["scores"] and "1 at full marks" in alts["scores"]
    for cell, rate in DATA["pass_rate"].items():
        assert f"{cell} {100 * rate:.0f}% ({'pass' if 100 * rate >= PASS_MARK else 'fail'})" in alts["pass_rate"]
    assert "3 s (ben) to 12 s (dan), median 4 s" in alts["time"]


def test_empty_report_still_describes_its_figures(tmp_path):
    empty = {**DATA, "students": [], "scores": {}, "pass_rate": {}, "seconds": {}, "flagged": {}, "ungraded": []}
    figs = figures(empty, tmp_path)
    assert all(f["alt"] and "empty" in f["alt"] for f in figs)
    assert "<li>none</li>" in render(empty, figs)


def test_template_is_package_data():
    assert resources.files("actkit.grading").joinpath("templates", TEMPLATE).is_file()
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]  # the templates folder is a package of its own (namespace)
    patterns = [f"templates/{p}" for p in data.get("actkit.grading.templates", [])] + data.get("actkit.grading", [])
    assert any(re.fullmatch(p.replace(".", r"\.").replace("*", ".*"), f"templates/{TEMPLATE}") for p in patterns)


def test_names_are_escaped(tmp_path):
    hostile = {**DATA, "flagged": {"<script>x</script>": ["<b>bold</b>"]}}
    page = render(hostile, figures(hostile, tmp_path))
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_page_runs_no_script_and_loads_nothing(tmp_path):
    """Student data in every place the page shows it; no script of the page's own, and a policy allowing none."""
    evil = "<script>alert(1)</script>"
    similarity = {"threshold": 0.5, "min_shared": 120, "students": 2, "compared": 2, "notes": [evil],
                  "pairs": [{"a": evil, "b": "ben", "share_a": 1.0, "share_b": 1.0, "shared_tokens": 200,
                             "view_a": [[evil, True]], "view_b": [["x = 1", False]]}]}
    hostile = {**DATA, "flagged": {evil: [evil]}, "ungraded": [evil], "similarity": similarity}
    page = render(hostile, figures(hostile, tmp_path))
    assert "<script" not in page.lower() and page.count("&lt;script&gt;") >= 6
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert policy and "default-src 'none'" in policy.group(1) and "script-src" not in policy.group(1)
