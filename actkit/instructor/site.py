"""Build the course's static site: the lecture notebooks as HTML plus standalone interactive pages.

Usage (``make site`` runs the first form)::

    python -m actkit.instructor.site                      # everything into build/site/
    python -m actkit.instructor.site --out DIR            # somewhere else
    python -m actkit.instructor.site --no-notebooks       # only the interactive pages (fast)

Layout of the output folder:

- ``index.html``: links to every page;
- ``<notebook>.html``: each ``notebooks/*.ipynb``, converted as stored (with its outputs, not
  re-executed). Formulas are typeset offline (MathJax 3 inlined, :mod:`actkit.instructor.mathjax`); every
  figure carries the alt text stored in its output's or its cell's metadata (the ``course_lab``
  template, ``actkit/instructor/templates/``). Their Bokeh plots load BokehJS from Bokeh's CDN, as in the notebook;
- ``interactive/<name>.html``: one page per layout of :func:`actkit.interactive.interactive_pages`,
  with BokehJS **inlined**, so a page works offline and from ``file://`` (the sliders run their
  ``CustomJS`` callbacks in the browser). Each page has its title as a heading, one sentence saying
  what it shows and a link back to the index.
"""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

__all__ = ["build_site", "export_notebooks", "main", "write_interactive_pages"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "build" / "site"
NOTEBOOKS = REPO_ROOT / "notebooks"


# Bokeh's own page template, with a heading, the page's description and a link back to the index.
PAGE_TEMPLATE = """{% extends "file.html.jinja" %}
{% block inner_body %}
  <header style="font-family: sans-serif; margin: 0.6em 1em 0.4em">
    <nav><a href="../index.html">&larr; Back to the course site index</a></nav>
    <h1 style="font-size: 1.4em; margin: 0.4em 0 0.2em">{{ title | e }}</h1>
    <p class="description" style="margin: 0 0 0.6em; max-width: 60em">{{ description | e }}</p>
  </header>
  <main style="margin: 0 1em">
  {{ super() }}
  </main>
{% endblock %}
"""


def write_interactive_pages(out_dir: Path) -> list[Path]:
    """Write every interactive layout as a standalone HTML page with inline BokehJS.

    Each page starts with its title as a heading, one sentence saying what it shows, and a link back
    to ``../index.html`` (the site's index, one folder up).

    Args:
        out_dir: folder to write ``<name>.html`` into (created when missing).

    Returns:
        The written paths, in the order of :func:`actkit.interactive.interactive_pages`.
    """
    from bokeh.core.templates import get_env
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    from actkit.interactive import interactive_pages

    template = get_env().from_string(PAGE_TEMPLATE)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, page in interactive_pages().items():
        path = out_dir / f"{stem}.html"
        text = file_html(page.layout, resources=INLINE, title=page.title, template=template,
                         template_variables={"description": page.description})
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def export_notebooks(out_dir: Path, notebooks: list[Path] | None = None) -> list[Path]:
    """Convert lecture notebooks to HTML with nbconvert, outputs as stored (no execution).

    The pages typeset their formulas without a network (MathJax 3 inline) and give every figure
    the alt text of its output's or cell's metadata.

    Args:
        out_dir: folder to write ``<stem>.html`` into (created when missing).
        notebooks: the notebooks; every ``notebooks/*.ipynb`` when omitted.

    Returns:
        The written paths.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from actkit.instructor.mathjax import exporter_config

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if notebooks is None:
        notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    exporter = HTMLExporter(template_name="course_lab", config=exporter_config())
    written = []
    for nb_path in notebooks:
        nb = nbformat.read(nb_path, as_version=4)
        heading = next((found.group(1).strip() for c in nb.cells if c.cell_type == "markdown"
                        for found in [re.search(r"^# (.+)$", c.source, re.M)] if found), "")
        if heading:  # the page's <title>: the notebook's first heading rather than its file name
            nb.metadata["title"] = heading
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": nb_path.stem}})
        path = out_dir / f"{nb_path.stem}.html"
        path.write_text(body, encoding="utf-8")
        written.append(path)
    return written


def _page_title(path: Path) -> str:
    """The ``<title>`` of a written page (its file name when it has none)."""
    found = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8"), re.S)
    return html.unescape(found.group(1).strip()) if found and found.group(1).strip() else path.stem


def _index(out_dir: Path, notebooks: list[Path], pages: list[Path]) -> Path:
    def links(paths: list[Path]) -> str:
        items = "".join(
            f'<li><a href="{html.escape(p.relative_to(out_dir).as_posix())}">{html.escape(_page_title(p))}</a></li>'
            for p in paths
        )
        return f"<ul>{items}</ul>" if items else "<p>(none)</p>"

    path = out_dir / "index.html"
    path.write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Activation functions: course site</title></head><body>"
        "<h1>Activation functions</h1>"
        "<p>The course's lecture notebooks as web pages, and interactive plots of the activation functions "
        "and their derivatives. The interactive plots work offline, and formulas are typeset without a network.</p>"
        f"<h2>Lecture notebooks</h2>{links(notebooks)}"
        f"<h2>Interactive plots (work offline)</h2>{links(pages)}"
        "</body></html>\n",
        encoding="utf-8",
    )
    return path


def build_site(out_dir: Path = DEFAULT_OUT, *, notebooks: bool = True) -> list[Path]:
    """Build the whole site into ``out_dir``.

    Args:
        out_dir: the site's root folder.
        notebooks: also convert the lecture notebooks (the slow part, a few seconds each).

    Returns:
        Every written path, ``index.html`` last.
    """
    out_dir = Path(out_dir)
    pages = write_interactive_pages(out_dir / "interactive")
    converted = export_notebooks(out_dir) if notebooks else []
    return converted + pages + [_index(out_dir, converted, pages)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actkit.instructor.site", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--no-notebooks", action="store_true", help="only the interactive pages")
    args = parser.parse_args(argv)
    written = build_site(args.out, notebooks=not args.no_notebooks)
    for path in written:
        print(path)
    print(f"{len(written)} files in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
