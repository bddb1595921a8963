"""No student HTML or JavaScript runs with the instructor's rights (issue 24, part 1; actkit/grading/sanitize.py).

One course of assignment 01 in a temporary folder: the gradebook and the autograded notebooks are written
directly (what ``nbgrader autograde`` leaves: the student's markdown and the outputs their code displayed),
then the real ``nbgrader generate_feedback``, the real formgrader (``jupyter server`` with nbgrader's
extension, token login, on a free localhost port, with the course's ``nbgrader_config.py``), the real
similarity check and report. Headless Chromium opens every page as the logged-in instructor.

Every hostile script does what the attack of the issue did: it reads ``_xsrf`` and PUTs full marks on every
grade of the submission; it also changes the page's title, sets ``window.__pwned`` and sends a request to a
beacon server of the test. The tests watch all of these, every request the page makes, and the gradebook.
A last test runs the same payload as the instructor's own script (CSP bypassed) and sees every effect: the
watchers can see an attack.

A legitimate submission's pages still show its figure (with alt text), its typeset formulas, its tables and
its Bokeh plot's note, and the formgrader's own scripts still work (no policy violation; "Full credit" saves).
Needs Debian's ``chromium`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import concurrent.futures
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_output
from playwright.sync_api import expect

from actkit.grading.sanitize import BOKEH_NOTE
from actkit.instructor.notebooks import make_submission, nbgrader, notebook_of, solution_cells
from tests.test_browser import BROWSER_ARGS, CHROMIUM

ASSIGNMENT = "01_activation_basics"
WRITTEN = "one_node_softmax_output"  # the markdown answer, graded by hand
CODE = "linear"  # the answer cell that carries the displayed outputs
TOKEN = "xss-test-token"
# a folder name and a gradebook name are data: no slash is possible in a folder name, so a short payload
NAME = "<img src=x onerror=\"document.title='PWNED name';window.__pwned='name'\">\"'&"
LEGIT_FIGURE_TITLE = "Legit sigmoid figure"
ALT_ATTACK = "\"><img src=x onerror=\"document.title='PWNED alt'\">"


def payload(kind: str, beacon: str) -> str:
    """The attack of the issue: full marks on every grade of the submission, with every effect we can watch."""
    return (
        "(function(kind){document.title='PWNED '+kind;window.__pwned=kind;"
        f"try{{fetch('{beacon}/'+kind,{{mode:'no-cors'}})}}catch(e){{}}"
        f"try{{(new Image()).src='{beacon}/img-'+kind}}catch(e){{}}"
        "var base=(typeof base_url==='string')?base_url:'/formgrader';"
        "var m=document.cookie.match(/_xsrf=([^;]*)/),x=m?decodeURIComponent(m[1]):'';"
        "if(typeof submission_id==='string'){fetch(base+'/api/grades?submission_id='+submission_id)"
        ".then(function(r){return r.json()}).then(function(gs){gs.forEach(function(g){"
        "fetch(base+'/api/grade/'+g.id,{method:'PUT',headers:{'X-XSRFToken':x,'Content-Type':'application/json'},"
        "body:JSON.stringify({manual_score:g.max_score,extra_credit:5})})})})}"
        f"}})('{kind}')"
    )


def _png() -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([-1, 0, 1], [0.27, 0.5, 0.73])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    plt.close(fig)
    return new_output("display_data", data={"image/png": base64.b64encode(buffer.getvalue()).decode(),
                                            "text/plain": "<Figure>"})


def _bokeh_outputs() -> list:
    """What ``output_notebook(); show(p)`` displays in a notebook (Bokeh's own bundles, captured here)."""
    import bokeh.io.notebook as notebook
    from bokeh.io import output_notebook, show
    from bokeh.plotting import figure

    captured = []
    original = notebook.publish_display_data
    notebook.publish_display_data = lambda data, metadata=None, **_: captured.append((data, metadata or {}))
    try:
        output_notebook(hide_banner=True)
        plot = figure(title="Legit Bokeh ReLU", width=300, height=200)
        plot.line([-1, 0, 1], [0, 0, 1])
        show(plot)
    finally:
        notebook.publish_display_data = original
        from bokeh.io.state import curstate

        curstate().reset()
    return [new_output("display_data", data=data, metadata=metadata) for data, metadata in captured]


def submissions(beacon: str) -> dict[str, dict]:
    """student -> (first name, last name), written answer, extra source and outputs of the ``linear`` cell."""
    js = {kind: payload(kind, beacon) for kind in ("md_script", "md_onerror", "out_html", "out_js", "out_md",
                                                   "svg", "bokeh")}
    return {
        "legit": {"name": ("Ada", "Lovelace"), "written": (
            "A sigmoid output node: $\\sigma(z) = \\frac{1}{1 + e^{-z}}$ gives $P(y = 1)$.\n\n"
            "$$\\mathrm{softmax}(z)_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}$$\n\n"
            "| output | range |\n|---|---|\n| sigmoid | (0, 1) |\n| softmax | simplex |\n"),
            "code": f"\nimport matplotlib.pyplot as plt\nplt.plot(xs, xs)\nplt.title('{LEGIT_FIGURE_TITLE}')\n",
            "outputs": [_png(), new_output("display_data", data={
                "text/html": "<table><tr><th>activation</th><th>range</th></tr><tr><td>tanh</td><td>(-1, 1)</td>"
                             "</tr></table>", "text/plain": "table"}), *_bokeh_outputs()]},
        "md_script": {"name": ("Mallory", "Script"),
                      "written": f"My answer.\n\n<script>{js['md_script']}</script>\n"},
        "md_onerror": {"name": ("Mallory", "Onerror"), "written": (
            f"Look: <img src=x onerror=\"{js['md_onerror']}\"> and <svg onload=\"{js['md_onerror']}\"></svg>\n\n"
            f"<iframe srcdoc=\"<script>{js['md_onerror']}</script>\"></iframe>"
            f"<img src=\"{beacon}/md-remote-image\">"
            f"<meta http-equiv=\"refresh\" content=\"0;url={beacon}/md-refresh\">"
            f"<style>@import url({beacon}/md-style);</style>\n\n"
            "<div class=\"score tabbable\" id=\"test_linear\">a decoy score box</div>\n\n"
            f"<math><mtext><table><mglyph><style><img src=x onerror=\"{js['md_onerror']}\">\n")},
        "out_html": {"name": ("Mallory", "Html"), "code": f"\nplt.title('{ALT_ATTACK}')\n", "outputs": [
            new_output("display_data", data={"text/html": f"<b>bold</b><script>{js['out_html']}</script>"
                                                          f"<img src=x onerror=\"{js['out_html']}\">"}),
            new_output("execute_result", data={"text/html": f"<script>{js['out_html']}</script>",
                                               "text/plain": "x"}, execution_count=3),
            new_output("display_data", data={"text/html": f"<script>{js['out_html']}</script>"},
                       metadata={"text/html": {"isolated": True}}),
            _png()]},
        "out_js": {"name": ("Mallory", "Javascript"), "outputs": [
            new_output("display_data", data={"application/javascript": js["out_js"],
                                             "text/plain": "<IPython.core.display.Javascript object>"}),
            new_output("display_data", data={"application/javascript": js["out_js"]}),
            new_output("display_data", data={"text/markdown": f"*md* <script>{js['out_md']}</script>"}),
            new_output("display_data", data={"image/svg+xml": f"<svg xmlns='http://www.w3.org/2000/svg' "
                                             f"onload=\"{js['svg']}\"><script>{js['svg']}</script></svg>"}),
            new_output("display_data", data={"application/javascript": js["bokeh"],
                                             "application/vnd.bokehjs_exec.v0+json": ""},
                       metadata={"application/vnd.bokehjs_exec.v0+json": {"id": "p1"}}),
            new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                                             "text/html": f"<script>{js['out_js']}</script>"})]},
        NAME: {"name": (f"<script>{js['md_script']}</script>", NAME), "written": "A plain answer."},
        "control": {"name": ("Carl", "Control"), "written": "The control of the watchers."},
    }


class Beacon(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        Beacon.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _build(root: Path, beacon: str, repo: Path) -> dict[str, str]:
    """The course: gradebook, autograded notebooks, two submissions for the similarity check, flags."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveCells

    root.mkdir(parents=True)
    shutil.copy(repo / "nbgrader_config.py", root / "nbgrader_config.py")  # the formgrader reads it from its folder
    shutil.copytree(repo / "release" / ASSIGNMENT, root / "release" / ASSIGNMENT)
    released = notebook_of(ASSIGNMENT, "release", root)
    answers = solution_cells(nbformat.read(notebook_of(ASSIGNMENT), as_version=4))
    cases = submissions(beacon)
    ids = {}
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(db_url) as gb:  # what `nbgrader generate_assignment` records: the assignment and its cells
        gb.update_or_create_assignment(ASSIGNMENT)
    SaveCells().preprocess(nbformat.read(released, as_version=4),
                           {"nbgrader": {"notebook": ASSIGNMENT, "assignment": ASSIGNMENT, "db_url": db_url}})
    with Gradebook(db_url) as gb:
        for student, case in cases.items():
            mine = {**answers, WRITTEN: case.get("written", answers.get(WRITTEN, "")),
                    CODE: answers[CODE] + case.get("code", "")}
            path = root / "autograded" / student / ASSIGNMENT / released.name
            make_submission(released, path, answers=mine)
            nb = nbformat.read(path, as_version=4)
            cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == CODE)
            cell.outputs = case.get("outputs", [])
            nbformat.write(nb, path)
            if student in ("out_html", NAME):  # the similarity check compares what was handed in
                evil = f"    # </code></pre><script>{payload('similarity', beacon)}</script>\n"
                make_submission(released, root / "submitted" / student / ASSIGNMENT / released.name,
                                answers={k: v + evil if k != WRITTEN else v for k, v in answers.items()})
            gb.update_or_create_student(student, first_name=case["name"][0], last_name=case["name"][1])
            submission = gb.add_submission(ASSIGNMENT, student)
            for notebook in submission.notebooks:
                ids[student] = notebook.id
                for grade in notebook.grades:
                    if grade.cell.cell_type == "code":
                        grade.auto_score = grade.max_score / 2
                        grade.needs_manual_grade = False
            gb.db.commit()
    grading = root / "build" / "grading" / ASSIGNMENT
    grading.mkdir(parents=True)
    (grading / "flags.json").write_text(json.dumps({NAME: [f"<script>{payload('flags', beacon)}</script>"]}))
    (grading / "executions.json").write_text(json.dumps({
        NAME: {"seconds": 1.5, "error": f"<img src=x onerror=\"{payload('timing', beacon)}\">"},
        "out_html": {"seconds": 2.5}}))
    return ids


def grades(root: Path) -> dict[str, dict]:
    """student -> every grade and comment of their submission, as the gradebook holds it."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in gb.students:
            notebook = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student.id)
            found[student.id] = {g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                                 for g in notebook.grades}
            found[student.id].update({f"comment {c.name}": c.manual_comment for c in notebook.comments})
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory, repo):
    Beacon.hits = []
    beacon_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Beacon)
    threading.Thread(target=beacon_server.serve_forever, daemon=True).start()
    beacon = f"http://127.0.0.1:{beacon_server.server_address[1]}"
    root = tmp_path_factory.mktemp("xss") / "course"
    ids = _build(root, beacon, repo)
    nbgrader("generate_feedback", ASSIGNMENT, "--force", root=root)
    from actkit.grading.report import write_report
    from actkit.grading.similarity import write_similarity

    write_similarity(root, ASSIGNMENT)
    report = write_report(root, ASSIGNMENT)

    port = _free_port()
    log = root.parent / "jupyter_server.log"
    config = root.parent / "jupyter_server_config.json"  # the formgrader alone starts faster
    config.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {name: name.endswith(".formgrader") for name in (
        "jupyterlab", "jupyter_lsp", "jupyter_server_terminals", "notebook", "notebook_shim",
        "nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.assignment_list",
        "nbgrader.server_extensions.course_list", "nbgrader.server_extensions.validate_assignment")}}}))
    env = dict(os.environ, NBGRADER_COURSE_ROOT=str(root),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}",
         "--ServerApp.port_retries=0", "--ServerApp.allow_root=True", f"--config={config}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError as exc:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"jupyter server did not start: {log.read_text()[-3000:]}") from exc
            time.sleep(0.2)
    before = grades(root)
    try:
        yield {"root": root, "url": url, "ids": ids, "beacon": beacon, "before": before, "report": report}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        beacon_server.shutdown()


# --- the browser ------------------------------------------------------------------------------------------

class Browser:
    """Chromium in a thread of its own (Playwright's sync API refuses a thread with a running event loop)."""

    def __init__(self):
        self.pool = concurrent.futures.ThreadPoolExecutor(1)
        self.run(self._start)

    def run(self, fn, *args):
        return self.pool.submit(fn, *args).result()

    def _start(self):
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)

    def close(self):
        def stop():
            self.browser.close()
            self.playwright.stop()

        self.run(stop)
        self.pool.shutdown()


@pytest.fixture(scope="module")
def browser(course):
    assert CHROMIUM, "no Chromium executable: `apt-get install -y chromium` (.ci/run does)"
    chromium = Browser()

    def login():
        context = chromium.browser.new_context(viewport={"width": 1100, "height": 800})
        page = context.new_page()
        page.goto(f"{course['url']}/formgrader/gradebook?token={TOKEN}")  # token login: sets the cookies
        return context

    chromium.instructor = chromium.run(login)
    yield chromium
    chromium.run(chromium.instructor.close)
    chromium.close()


def visit(browser, url: str, *, wait_for_math: bool = True, bypass_csp: bool = False, then=None) -> dict:
    """Open ``url`` as the logged-in instructor; everything a student's script could have done, and the page."""

    def go():
        context = browser.instructor
        if bypass_csp:
            state = context.storage_state()
            context = browser.browser.new_context(bypass_csp=True, storage_state=state)
        page = context.new_page()
        requests, console, errors = [], [], []
        page.on("request", lambda r: requests.append((r.method, r.url)))
        page.on("console", lambda m: console.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        title = page.title()
        if wait_for_math:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=30_000)
            page.evaluate("() => MathJax.startup.promise")
        extra = then(page) if then else None
        page.wait_for_timeout(400)  # onerror, onload and fetches of a script that ran
        found = {"title_at_load": title, "title": page.title(), "pwned": page.evaluate("() => window.__pwned || null"),
                 "requests": requests, "console": console, "errors": errors, "text": page.inner_text("body"),
                 "extra": extra}
        page.close()
        if bypass_csp:
            context.close()
        return found

    return browser.run(go)


def assert_no_script_ran(seen: dict, course: dict, origin: str) -> None:
    assert "PWNED" not in seen["title"] and "PWNED" not in seen["title_at_load"], seen["title"]
    assert seen["pwned"] is None, seen["pwned"]
    assert not [r for r in seen["requests"] if r[0] != "GET"], seen["requests"]
    assert not [u for _, u in seen["requests"] if not u.startswith((origin, "data:"))], seen["requests"]
    assert not Beacon.hits, Beacon.hits


def submission_url(course, student: str) -> str:
    return f"{course['url']}/formgrader/submissions/{course['ids'][student]}/"


HOSTILE = ["md_script", "md_onerror", "out_html", "out_js", NAME]


@pytest.mark.parametrize("student", HOSTILE, ids=["md_script", "md_onerror", "out_html", "out_js", "name"])
def test_formgrader_submission_page_runs_no_student_script(course, browser, student):
    seen = visit(browser, submission_url(course, student),
                 then=lambda page: page.eval_on_selector_all("a.name-shown", "els => els.map(e => e.textContent)"))
    assert_no_script_ran(seen, course, course["url"])
    assert not seen["errors"], seen["errors"]
    if student == NAME:  # the names are shown, as text (last, first)
        assert [name.strip() for name in seen["extra"]] == [f"{NAME}, <script>{payload('md_script', course['beacon'])}"
                                                            "</script>"], seen["extra"]
    if student == "md_onerror":  # disallowed markup is shown as text: the instructor sees what was written
        assert "<iframe srcdoc=" in seen["text"] and "a decoy score box" in seen["text"]
    if student == "out_html":  # the alt text built from the student's title is an attribute value, not markup
        assert "PWNED alt" not in seen["title"]
    if student == "out_js":
        assert BOKEH_NOTE in seen["text"]


def test_formgrader_list_pages_show_names_as_text(course, browser):
    quoted = urllib.parse.quote(NAME, safe="")
    pages = [f"gradebook/{ASSIGNMENT}/{ASSIGNMENT}", "manage_students", f"manage_students/{quoted}",
             f"manage_students/{quoted}/{ASSIGNMENT}", f"manage_submissions/{ASSIGNMENT}"]
    for page in pages:
        seen = visit(browser, f"{course['url']}/formgrader/{page}", wait_for_math=False,
                     then=lambda p: p.wait_for_load_state("networkidle"))
        assert_no_script_ran(seen, course, course["url"])


def test_feedback_pages_run_no_student_script(course, browser):
    root = course["root"]
    for student in HOSTILE:
        page = root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        seen = visit(browser, page.as_uri())
        assert_no_script_ran(seen, course, "file:")


def test_report_and_similarity_view_run_no_student_script(course, browser):
    seen = visit(browser, course["report"].as_uri(), wait_for_math=False,
                 then=lambda p: p.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)"))
    assert_no_script_ran(seen, course, "file:")
    assert seen["title"] == f"Report: {ASSIGNMENT}"
    assert NAME in seen["text"], "the student's folder name is shown as text"
    assert "</code></pre><script>" in seen["text"], "the similar code is shown as text"


def test_no_grade_changed(course, browser):
    """Runs after the pages above were opened (and before the control): every hostile student's grades as before."""
    after = grades(course["root"])
    for student in HOSTILE:
        assert after[student] == course["before"][student], student


# --- what still shows -------------------------------------------------------------------------------------

LEGIT_CHECKS = """() => {
  const imgs = Array.from(document.querySelectorAll('img')).filter(i => i.src.startsWith('data:image/png'));
  return {
    figures: imgs.map(i => ({alt: i.alt, width: i.naturalWidth})),
    formulas: document.querySelectorAll('mjx-container').length,
    tables: Array.from(document.querySelectorAll('table th')).map(th => th.textContent.trim()),
  };
}"""


def _check_legit(seen: dict) -> None:
    shown = seen["extra"]
    assert any(LEGIT_FIGURE_TITLE in f["alt"] and f["width"] > 0 for f in shown["figures"]), shown["figures"]
    assert shown["formulas"] >= 3, shown
    assert "A sigmoid output node" in seen["text"] and "\\frac{1}{1 + e^{-z}}" not in seen["text"], "typeset"
    assert "activation" in shown["tables"] and "output" in shown["tables"], shown["tables"]
    assert BOKEH_NOTE in seen["text"]
    assert not [m for m in seen["console"] if "Content Security Policy" in m], seen["console"]
    assert not seen["errors"], seen["errors"]


def test_legit_submission_shows_in_the_formgrader_and_its_scripts_work(course, browser):
    def full_credit(page):
        shown = page.evaluate(LEGIT_CHECKS)
        page.wait_for_function("() => formgrader.loaded && formgrader.grades.loaded && MathJax.loaded")
        written = page.locator(f"#{WRITTEN}").locator("xpath=ancestor::div[contains(@class,'nbgrader_cell')]")
        # the events go to the elements themselves: a click at coordinates can miss when a late image or
        # formula moves the page between Playwright's check and the click (seen once in CI: no PUT)
        button = written.locator("button.full-credit")
        expect(button).to_be_visible()
        with page.expect_response(lambda r: r.request.method == "PUT", timeout=60_000):
            button.dispatch_event("click")
        page.locator(".name-hidden.glyphicon").dispatch_event("click")  # the formgrader's inline onclick handler
        shown["name_shown"] = page.locator("a.name-shown").is_visible()
        return shown

    seen = visit(browser, submission_url(course, "legit"), then=full_credit)
    _check_legit(seen)
    assert seen["extra"]["name_shown"]
    assert grades(course["root"])["legit"][WRITTEN][1] == 3, "the instructor's full credit was saved"


def test_legit_feedback_page_shows_everything(course, browser):
    page = course["root"] / "feedback" / "legit" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    seen = visit(browser, page.as_uri(), then=lambda p: p.evaluate(LEGIT_CHECKS))
    _check_legit(seen)


# --- the watchers see an attack -------------------------------------------------------------------------

def test_control_the_payload_does_all_it_should_when_it_runs(course, browser):
    """The same payload, run as the page's own script with the policy bypassed, on the control's page."""
    grades_of_control = [name for name in course["before"]["control"] if not name.startswith("comment")]

    def attack(page):  # until every grade's PUT has its answer and the beacon its hit (60 s at most)
        answered = []
        page.on("response", lambda r: answered.append(r.url) if r.request.method == "PUT" else None)
        page.evaluate(payload("control", course["beacon"]))
        page.wait_for_function("() => document.title === 'PWNED control'")
        deadline = time.monotonic() + 60
        while (len(answered) < len(grades_of_control) or not any(h.endswith("/control") for h in Beacon.hits)) \
                and time.monotonic() < deadline:
            page.wait_for_timeout(100)

    seen = visit(browser, submission_url(course, "control"), bypass_csp=True, then=attack)
    assert seen["title"] == "PWNED control" and seen["pwned"] == "control"
    assert [m for m, _ in seen["requests"]].count("PUT") == len(grades_of_control) >= 3, "a PUT for every grade"
    assert any(h.endswith("/control") for h in Beacon.hits), Beacon.hits
    after, before = grades(course["root"]), course["before"]
    assert after["control"] != before["control"] and all(
        value[1] is not None for name, value in after["control"].items() if not name.startswith("comment"))
    Beacon.hits.clear()


def test_show_as_data_on_its_own():
    """Names and a grade id with markup become text; script types go, with a note; a Bokeh plot becomes a note;
    output metadata keeps only an image's alt text and its sizes as whole numbers."""
    from actkit.grading.sanitize import ShowAsData

    cell = nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade_id": '"><img src=x onerror=alert(1)>'}})
    cell.outputs = [new_output("display_data", data={"application/javascript": "alert(1)"}),
                    new_output("display_data", data={"application/vnd.bokehjs_load.v0+json": "", "text/html": "x"}),
                    new_output("display_data", data={"application/vnd.bokehjs_exec.v0+json": "",
                                                     "application/javascript": "alert(1)"}),
                    new_output("display_data", data={"text/html": "<b>x</b>", "image/png": "iVBO", "text/plain": "x",
                                                     "application/vnd.custom+json": {}},
                               metadata={"text/html": {"isolated": True}}),
                    new_output("stream", name="stdout", text="<script>"),
                    new_output("display_data", data={"image/png": "iVBO"}, metadata={
                        "width": "1 style=position:fixed", "height": 90,
                        "image/png": {"width": "1 class=score style=position:fixed;z-index:9", "height": "120",
                                      "alt": "A figure", "needs_background": "light"}})]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, resources = ShowAsData().preprocess(nb, {"student": "<b>s</b>", "notebook_path": 'a"b', "index": 0})
    assert resources["student"] == "&lt;b&gt;s&lt;/b&gt;" and resources["notebook_path"] == "a&#34;b"
    assert cell.metadata.nbgrader.grade_id == "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
    kinds = [sorted(o.get("data", {})) for o in cell.outputs]
    assert kinds == [["text/plain"], ["text/plain"], ["image/png", "text/html", "text/plain"], [], ["image/png"]]
    # an image's size stays, as a whole number; what else its metadata says (nbconvert's unquoted attributes) goes
    assert cell.outputs[4].metadata == {"height": 90, "image/png": {"height": 120, "alt": "A figure"}}
    assert "application/javascript" in cell.outputs[0].data["text/plain"]
    assert cell.outputs[1].data["text/plain"] == BOKEH_NOTE and "text/html" not in cell.outputs[2].metadata
