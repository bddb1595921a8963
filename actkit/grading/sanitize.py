"""What a student hands in is shown as data: the sanitiser and the Content-Security-Policy of the grading pages.

The formgrader's submission page and the feedback page are nbconvert ``HTMLExporter`` pages (templates
``formgrade`` and ``feedback`` of nbgrader). Left as they are, they copy a student's markdown, ``text/html``
and ``application/javascript`` into the page, where a ``<script>`` or an ``<img onerror>`` runs with the
logged-in instructor's rights (it can read ``_xsrf`` and rewrite every grade). Two layers stop that:

1. **An allow-list sanitiser** (bleach, the library nbconvert itself uses; an HTML5 parser, not regular
   expressions). Every piece of HTML that comes from the notebook is parsed and rebuilt with known tags
   and attributes only; anything else is escaped and shown as text, so the instructor sees what was
   written. Links: ``http(s)``, ``mailto`` and ``#fragments`` only (a relative link would open the
   student's own files on the formgrader's origin); images: ``data:image/...`` only (no request leaves
   the page; nbconvert inlines attachments and figures that way). ``id`` and ``name`` are dropped, and
   ``class`` is kept only with code-highlighting classes (nbconvert's, Pygments' short ones): the
   formgrader's script finds its score boxes by ``id`` = grade id and by class (``score``,
   ``tabbable``). ``style`` keeps a list of harmless CSS properties (no positioning, no ``url()``).
   Where it applies:

   - markdown cells (written answers included): the ``strip_files_prefix`` filter, which every
     nbconvert and nbgrader HTML template applies to the HTML of a markdown cell, is replaced by
     :func:`markdown_html` (nbconvert's filter, then the sanitiser). Sanitising the markdown source
     instead would break it (``>`` quotes, code spans), and nbgrader's templates ignore
     ``sanitize_html`` for markdown cells;
   - outputs: ``HTMLExporter.sanitize_html = True`` makes nbconvert pass ``text/html`` and
     ``text/markdown`` outputs through its ``clean_html`` filter, replaced here by :func:`clean`
     (nbconvert's own allow-list escapes headings, paragraphs and images), and never write
     ``application/javascript`` or widget scripts;
   - :class:`ShowAsData` (a preprocessor of the formgrader's and the feedback's exporter) keeps only the
     output types the pages show as data (:data:`SHOWN`); a Bokeh plot, whose drawing is a script,
     becomes a static note that says so (:data:`BOKEH_NOTE`); the names of the student
     (folder name, first and last name, notebook path) become text; a grade id that nbgrader would not
     accept is escaped; an output's metadata keeps only an image's alt text and its sizes as whole
     numbers (nbconvert writes sizes into ``<img>`` unquoted).

2. **A Content-Security-Policy** in the page itself (``<meta http-equiv>``), written in ``<head>`` right
   before the inlined MathJax (:func:`mathjax_under_policy`, the ``offline_mathjax`` filter of these pages):
   scripts run only when their SHA-256 is listed: MathJax's two scripts (actkit/instructor/mathjax.py), and the
   formgrader's own inline script and ``onclick`` handlers of its navigation bar (read from nbgrader's
   template, so an nbgrader upgrade changes them together). The formgrader's script files are loaded
   before the policy, in ``<head>``; its requests to its own API stay allowed (``connect-src 'self'``);
   images only from ``data:``, nothing else from anywhere. A student script that slipped through the
   sanitiser would still not run, and a remote image would not load. A ``<meta>`` policy and not an HTTP
   header, because the feedback page is a file (opened from disk or copied by ``release_feedback``)
   and the formgrader is nbgrader's server extension: the page carries its policy wherever it goes.

Why not a sandboxed ``<iframe>``: the formgrader's score and comment boxes sit between the cells, in the
same page, and a frame per cell would need its own MathJax; a Bokeh plot would still not draw (BokehJS
is loaded by another output). Students' interactive plots are not graded by hand.

Formulas still typeset (MathJax inline, allowed by hash), figures (``image/png``, ``image/jpeg``,
``image/svg+xml`` as ``<img>``) and their alt text (actkit/grading/alttext.py, escaped by nbconvert)
still show, tables (markdown and HTML) still show, and a Bokeh plot shows as a note.

The formgrader's other pages (lists of students and submissions) are nbgrader's own Jinja templates,
rendered without autoescaping: :func:`escape_formgrader_pages` turns it on (their values are ids, names and
nbgrader's settings, never markup). The report and the similarity view (actkit/grading/report.py) are Jinja
pages with autoescaping and a policy of their own without any script.

The hostile and the legitimate pages are opened in Chromium as the logged-in instructor by tests/test_xss.py.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import threading
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import bleach
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer
from markupsafe import Markup, escape
from nbconvert.filters.strings import strip_files_prefix
from nbconvert.utils.base import NbConvertBase
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List

from actkit.instructor import mathjax

__all__ = ["BOKEH_NOTE", "SHOWN", "ShowAsData", "clean", "content_policy", "escape_formgrader_pages",
           "exporter_config", "markdown_html", "mathjax_under_policy"]

TAGS = frozenset({
    "a", "abbr", "acronym", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
ATTRIBUTES = {
    "*": {"title", "lang", "dir", "style", "class"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
}
CSS = CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES | {
    "border", "border-width", "border-style", "border-radius", "border-top", "border-bottom", "border-left",
    "border-right", "padding", "padding-top", "padding-bottom", "padding-left", "padding-right", "max-width"})
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")  # <img> runs no script
CLASSES = {"highlight", "anchor-link"}  # nbconvert's markdown; Pygments' token classes are 1-3 letters + digit

# Output types the pages show as data: text, escaped LaTeX, images as <img>, and HTML/markdown through clean().
SHOWN = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml")
BOKEH_EXEC = "application/vnd.bokehjs_exec.v0+json"
BOKEH_LOAD = "application/vnd.bokehjs_load.v0+json"
BOKEH_NOTE = ("[Interactive Bokeh plot: not drawn on this page. BokehJS draws it with a script, and no script "
              "from a submission runs on a grading page. Open the notebook in Jupyter to see the plot.]")
NBGRADER_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")  # nbgrader's rule


def _token_ok(token: str) -> bool:
    short = token.rstrip("0123456789")
    return token in CLASSES or token.startswith("hl-") or (short.isalpha() and short.islower() and len(short) <= 3)


def _url_ok(tag: str, value: str) -> bool:
    url = value.strip()
    if tag == "img":
        return url.lower().startswith(tuple(f"data:{kind};" for kind in IMAGES))
    return url.startswith("#") or urlsplit(url).scheme.lower() in {"http", "https", "mailto"}


def _attribute_ok(tag: str, name: str, value: str) -> bool:
    if name not in ATTRIBUTES["*"] | ATTRIBUTES.get(tag, set()):
        return False
    if name == "class":
        return all(_token_ok(t) for t in value.split())
    if name in ("href", "src"):
        return _url_ok(tag, value)
    return True


_local = threading.local()  # a bleach Cleaner is not thread-safe


def clean(html) -> str:
    """Student HTML rebuilt from allowed tags and attributes (the ``clean_html`` filter of the grading pages).

    Example:
        >>> clean('<p onclick="x()">a <b>table</b>?<script>alert(1)</script><img src="http://x/y.png"></p>')
        '<p>a <b>table</b>?&lt;script&gt;alert(1)&lt;/script&gt;<img></p>'
    """
    if not hasattr(_local, "cleaner"):
        _local.cleaner = bleach.Cleaner(tags=TAGS, attributes=_attribute_ok, protocols={"http", "https", "mailto",
                                        "data"}, strip=False, strip_comments=True, css_sanitizer=CSS)
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else str(html)
    return _local.cleaner.clean(text)


def markdown_html(html) -> str:
    """The HTML of a markdown cell: nbconvert's ``strip_files_prefix``, then :func:`clean`.

    Registered as the ``strip_files_prefix`` filter of the grading pages: every HTML template (nbconvert's
    and nbgrader's, which ignore ``sanitize_html`` for markdown cells) applies it to ``markdown2html``'s output.
    """
    return clean(strip_files_prefix(html))


class ShowAsData(NbGraderPreprocessor):
    """Keep only outputs the page can show as data; a Bokeh plot becomes a note; names become text."""

    # configurable as in nbconvert (NbGraderPreprocessor redeclares it without config=True, see alttext.py)
    display_data_priority = List(NbConvertBase.display_data_priority.default()).tag(config=True)

    def preprocess(self, nb, resources):
        for key in ("student", "first_name", "last_name", "notebook_path", "filename"):
            if isinstance(resources.get(key), str):
                resources[key] = escape(resources[key])
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if isinstance(grade_id, str) and not set(grade_id) <= NBGRADER_ID:
                cell.metadata.nbgrader.grade_id = str(escape(grade_id))
            if cell.cell_type == "code":
                cell.outputs = [o for o in map(self.shown, cell.get("outputs", [])) if o is not None]
        return nb, resources

    @staticmethod
    def shown(output):
        """The output as the page may show it, or None for one that shows nothing (BokehJS's loader)."""
        if "data" not in output:  # stream and error outputs are escaped text
            return output
        data = output["data"]
        if BOKEH_LOAD in data:
            return None
        if BOKEH_EXEC in data:
            output["data"] = {"text/plain": BOKEH_NOTE}
            output["metadata"] = {}
            return output
        dropped = sorted(set(data) - set(SHOWN))
        output["data"] = {kind: value for kind, value in data.items() if kind in SHOWN}
        if not output["data"]:
            output["data"] = {"text/plain": f"[output of type {', '.join(dropped)}: not shown, scripts from a "
                                            "submission never run on a grading page]"}
        output["metadata"] = _shown_metadata(output.get("metadata", {}))
        return output


def _shown_metadata(metadata: dict) -> dict:
    """Of an output's metadata, only what showing an image needs: its alt text (written quoted and escaped) and
    its width and height as whole numbers (nbconvert writes those unquoted into ``<img>``: a width of
    ``1 style=...`` would add attributes). No ``isolated`` iframe either: the policy blocks it."""
    def kept(values: dict) -> dict:
        return {key: (value if key == "alt" else int(value)) for key, value in values.items() if
                (key == "alt" and isinstance(value, str)) or (key in ("width", "height") and (
                    type(value) is int or (isinstance(value, str) and value.isdigit() and len(value) < 6)))}

    found = kept(metadata)
    for kind, values in metadata.items():
        if kind in SHOWN and isinstance(values, dict) and (shown := kept(values)):
            found[kind] = shown
    return found


# --- the Content-Security-Policy -----------------------------------------------------------------------------

FORMGRADER_TEMPLATES = Path(__import__("nbgrader").__file__).parent / "server_extensions" / "formgrader" / "templates"


class _InlineCode(HTMLParser):
    """The inline scripts and event handlers of a template that hold no template expression."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts, self.handlers, self._script = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._script = [] if tag == "script" and not attrs.get("src") else None
        self.handlers += [v for k, v in attrs.items() if k.startswith("on") and v and "{" not in v]

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            code = "".join(self._script)
            if "{{" not in code and "{%" not in code:
                self.scripts.append(code)
            self._script = None


def _sha256(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode() + "'"


@lru_cache(maxsize=1)
def content_policy() -> str:
    """The policy of the formgrader's and the feedback's pages (see the module's docstring)."""
    mathjax_scripts = ["\n" + mathjax.CONFIG + "\n", "\n" + mathjax._bundle() + "\n"]  # as script_tags writes them
    parser = _InlineCode()
    parser.feed((FORMGRADER_TEMPLATES / "formgrade" / "formgrade_macros.html.j2").read_text(encoding="utf-8"))
    scripts = " ".join(_sha256(code) for code in mathjax_scripts + parser.scripts)
    handlers = " ".join(_sha256(code) for code in parser.handlers)
    return "; ".join([
        "default-src 'none'",
        f"script-src {scripts}" + (f" 'unsafe-hashes' {handlers}" if handlers else ""),
        "style-src 'self' 'unsafe-inline'",
        "img-src data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    ])


def mathjax_under_policy(url: object = None) -> str:
    """The ``offline_mathjax`` filter of the grading pages: the policy's ``<meta>``, then MathJax inline."""
    meta = Markup('<meta http-equiv="Content-Security-Policy" content="{}">').format(content_policy())
    return f"{meta}\n{mathjax.script_tags(url)}"


def escape_formgrader_pages() -> None:
    """Autoescape the formgrader's own pages (nbgrader's ``.tpl`` templates), from ``nbgrader_config.py``.

    nbgrader renders them with a Jinja environment without autoescaping, and puts the student id of the URL
    into the page as it is (``manage_students/<id>`` and ``manage_students/<id>/<assignment>``): a student
    folder named ``<img src=x onerror=...>`` ran its script there. With autoescaping every value is text
    (in their inline ``var student_id = "..."`` too: a quote or ``<`` cannot end the string or the script).
    Only in the server's process (where the formgrader extension, already imported, reads this config
    before it builds its environment); other nbgrader commands import nothing more.
    """
    formgrader = sys.modules.get("nbgrader.server_extensions.formgrader.formgrader")
    extension = getattr(formgrader, "FormgradeExtension", None)
    if extension is None or getattr(extension.init_tornado_settings, "escapes_pages", False):
        return
    original = extension.init_tornado_settings

    def init_tornado_settings(self, webapp):
        original(self, webapp)
        webapp.settings["nbgrader_jinja2_env"].autoescape = True

    init_tornado_settings.escapes_pages = True
    extension.init_tornado_settings = init_tornado_settings


def exporter_config(*extra_basedirs: str | Path):
    """:func:`actkit.instructor.mathjax.exporter_config` for pages that show submissions: sanitised, under the policy.

    ``nbgrader_config.py`` merges it (the formgrader and ``nbgrader generate_feedback``) and adds
    :class:`ShowAsData` to ``HTMLExporter.preprocessors``.
    """
    c = mathjax.exporter_config(*extra_basedirs)
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.filters.update({"offline_mathjax": f"{__name__}.mathjax_under_policy",
                                   "clean_html": f"{__name__}.clean",
                                   "strip_files_prefix": f"{__name__}.markdown_html"})
    return c
