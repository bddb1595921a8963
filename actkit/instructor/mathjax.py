"""Formulas typeset without a network: MathJax 3 inlined into the HTML that nbconvert writes.

nbconvert's templates (and nbgrader's feedback and formgrader templates, which call the same
``mathjax()`` macro) load MathJax 2 from a CDN, so offline every formula stays raw ``$$...$$``.
This module swaps that macro for one that inlines MathJax 3 (``tex-svg-full.js``: every TeX
extension, SVG output, so no font files; about 2.3 MB) from the PyPI package
``django-static-mathjax`` (plain MathJax 3.2.2 files, Apache-2.0; Django is not needed). Each page
is then self-contained: a feedback file that ``nbgrader release_feedback`` copies on its own, a
page opened from ``file://`` or the formgrader on a machine without a network all typeset their
formulas. MathJax 3 also adds hidden MathML for screen readers (its assistive-MathML extension).

How it is wired:

- ``templates/base/mathjax.html.j2`` (this package) shadows nbconvert's macro; it is found first
  because ``templates/`` is listed in ``HTMLExporter.extra_template_basedirs``;
- the macro calls the Jinja filter ``offline_mathjax`` (:func:`script_tags`);
- :func:`exporter_config` returns that configuration; :mod:`actkit.instructor.site` uses it, and
  ``nbgrader_config.py`` (feedback and the formgrader) through :func:`actkit.grading.sanitize.exporter_config`,
  which adds a Content-Security-Policy that allows these two scripts by their hash;
- nbgrader's ``formgrade.js`` waits for MathJax 2's startup signal (``MathJax.Hub.Startup.signal``); the
  configuration gives it one from MathJax 3's startup promise, or the formgrader's scripts stop halfway.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

__all__ = ["BUNDLE", "TEMPLATES", "bundle_path", "exporter_config", "script_tags"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
BUNDLE = "tex-svg-full.js"

# The delimiters and options of nbconvert's MathJax 2 configuration, in MathJax 3's terms.
CONFIG = r"""window.MathJax = {
  tex: {
    inlineMath: [['$', '$'], ['\\(', '\\)']],
    displayMath: [['$$', '$$'], ['\\[', '\\]']],
    processEscapes: true,
    processEnvironments: true,
    tags: 'ams'
  },
  svg: {fontCache: 'global'},
  options: {ignoreHtmlClass: 'tex2jax_ignore', processHtmlClass: 'tex2jax_process'},
  startup: {
    ready() {
      MathJax.startup.defaultReady();
      // nbgrader's formgrade.js waits for MathJax 2's startup signal: the same signal, from MathJax 3's promise
      MathJax.Hub = {Startup: {signal: {Interest(f) { MathJax.startup.promise.then(() => f('End')); }}}};
    }
  }
};"""


def bundle_path() -> Path:
    """The MathJax 3 file that is inlined (from the ``django-static-mathjax`` package).

    Raises:
        FileNotFoundError: the package is not installed (it is pinned in requirements.txt).
    """
    spec = importlib.util.find_spec("mathjax")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "static" / "mathjax" / "es5" / BUNDLE
        if path.is_file():
            return path
    raise FileNotFoundError(f"MathJax 3 ({BUNDLE}) not found: `pip install django-static-mathjax` "
                            "(pinned in requirements.txt) provides it")


@lru_cache(maxsize=1)
def _bundle() -> str:
    code = bundle_path().read_text(encoding="utf-8")
    if "</script" in code.lower():  # would end the inline <script> early
        raise ValueError(f"{BUNDLE} contains '</script' and cannot be inlined")
    return code


def script_tags(url: object = None) -> str:
    """The ``<script>`` elements that configure and load MathJax 3 inline (the ``offline_mathjax`` filter).

    Args:
        url: the CDN address nbconvert's templates pass to their ``mathjax()`` macro; ignored.

    Returns:
        HTML text: the configuration, then the whole MathJax bundle, both inline.
    """
    return (f"<!-- MathJax 3 ({BUNDLE}), inlined so that formulas are typeset offline -->\n"
            f"<script>\n{CONFIG}\n</script>\n<script>\n{_bundle()}\n</script>")


def exporter_config(*extra_basedirs: str | Path):
    """The nbconvert configuration that makes ``HTMLExporter`` inline MathJax 3.

    Args:
        extra_basedirs: further template base folders, searched after this package's (nbgrader's
            ``feedback`` and ``formgrade`` templates for ``nbgrader_config.py``).

    Returns:
        A traitlets ``Config`` to merge into an exporter's or an application's configuration.

    Example:
        >>> sorted(exporter_config().HTMLExporter.filters)
        ['offline_mathjax']
    """
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), *map(str, extra_basedirs)]
    c.HTMLExporter.filters = {"offline_mathjax": "actkit.instructor.mathjax.script_tags"}
    return c
