"""The course on a real JupyterHub (``make hub``), driven in headless Chromium like a class would use it.

A copy of the course (two roster students, one instructor) gets a hub of its own on free localhost ports,
started by ``python -m actkit.grading.hub`` with ``actkit/grading/jupyterhub_config.py``. The instructor
releases 01 from the formgrader; each student logs in on the hub's login page and fetches it from the
Assignments tab; one student's notebook gets the instructor's answers (written as that student through the
contents API), the other stays blank, and both submit from the tab. The instructor collects, autogrades (the
course's sandbox and tester, as a user who is not root), grades the written answer by hand, generates and
releases feedback; each student fetches it from the tab and sees their own score. As root (CI) the accounts
are system users made by the hub, and the test checks what a student cannot reach; otherwise the hub's local
trial (one uid, a shared password) runs the same round trip. Needs Chromium and configurable-http-proxy (npm,
installed by the Makefile's set-up): skipped, in one line, only on a machine without npm.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect, sync_playwright

from actkit.grading.hub import CHP
from actkit.grading.roster import import_roster
from actkit.instructor.notebooks import REPO_ROOT, autograded_max, notebook_of, solution_cells
from tests.searchable import searchable
from tests.test_browser import BROWSER_ARGS, CHROMIUM

ROOT = os.geteuid() == 0
A = "01_activation_basics"
SOURCE = nbformat.read(notebook_of(A), as_version=4)
TESTS_MAX = autograded_max(SOURCE)  # 22 points of test cells
WRITTEN = {m["grade_id"]: m["points"] for c in SOURCE.cells
           if (m := c.metadata.get("nbgrader", {})).get("solution") and m.get("grade")}
PASSWORD = "Pw-" + os.urandom(9).hex()
API = """async ([method, url, body]) => {
    const xsrf = decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/) || [, ''])[1]);
    const r = await fetch(url, {method, headers: {'X-XSRFToken': xsrf, 'Content-Type': 'application/json'},
                                body: body === null ? undefined : JSON.stringify(body)});
    return [r.status, await r.text()];
}"""


def _ports() -> int:
    """A port P with P, P+1 and P+2 free on 127.0.0.1 (the hub, its API, the proxy's API)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and all(_free(port + i) for i in (1, 2)):
            return port
    raise RuntimeError("no three free ports in a row")


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _processes(uids: set[int], mention: str) -> list[int]:
    """Processes of these users, or whose environment names ``mention`` (the hub, its proxy, servers, kernels)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.stat().st_uid in uids or mention.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or another user's environment (not root)
            pass
    return [pid for pid in found if pid != os.getpid()]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The running hub: {'url', 'instructor', 'students', 'course', 'exchange', 'base', ...}; all removed after
    but its log (copied to pytest's temporary folder ``hub-log*``)."""
    if not CHP.exists() and not shutil.which("npm"):  # the one thing make test leaves out without npm (.ci/run has it)
        pytest.skip("npm not found: no configurable-http-proxy for the hub (apt-get install nodejs npm)")
    assert CHP.exists(), f"configurable-http-proxy missing ({CHP}): rm .venv/.installed && make venv"
    assert CHROMIUM, "no Chromium executable: apt-get install -y chromium (.ci/run does)"
    base = Path(tempfile.mkdtemp(prefix="actkit-hub-"))
    base.chmod(0o755)  # the accounts reach the exchange in it
    tag = os.getpid() % 100000
    instructor = f"hubi{tag}" if ROOT else pwd.getpwuid(os.getuid()).pw_name
    students = [f"hubs{tag}a", f"hubs{tag}b"]
    course, exchange = base / "course", base / "exchange"
    course.mkdir()
    for name in ("source", "release", "autograded"):
        shutil.copytree(REPO_ROOT / name, course / name)
    for name in ("nbgrader_config.py", "course.toml"):
        shutil.copy2(REPO_ROOT / name, course)
    roster = base / "students.csv"
    roster.write_text("id,first_name,last_name,email,lms_user_id\n"
                      + "".join(f"{s},Student,{s[-1].upper()},{s}@example.org,{9000 + i}\n"
                                for i, s in enumerate(students)))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               ACTKIT_HUB_COURSE=str(course), ACTKIT_HUB_EXCHANGE=str(exchange),
               ACTKIT_HUB_STATE=str(base / "state"), ACTKIT_HUB_HOMES=str(base / "home"),
               ACTKIT_HUB_INSTRUCTOR=instructor, ACTKIT_HUB_URL=f"http://127.0.0.1:{_ports()}",
               ACTKIT_HUB_PASSWORD=PASSWORD)
    os.environ["PATH"] = env["PATH"]  # nbgrader's gradebook runs `alembic`
    import_roster(course, roster)
    made = []
    hub = None
    stack = contextlib.ExitStack()  # the folders on the way to the course's Python, passable while the hub runs
    try:
        if ROOT:
            stack.enter_context(searchable([course, Path(sys.executable).parent, Path(sys.executable)]))
            (base / "home").mkdir()
            subprocess.run(["useradd", "--create-home", "--base-dir", str(base / "home"), "--user-group",
                            "--shell", "/bin/bash", instructor], check=True)
            made.append(instructor)
            subprocess.run(["chown", "-R", f"{instructor}:", str(course)], check=True)
        log = (base / "hub.log").open("w")
        started = time.monotonic()
        hub = subprocess.Popen([sys.executable, "-m", "actkit.grading.hub"], cwd=base, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
        made += students if ROOT else []  # the hub creates them (checked below)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(env["ACTKIT_HUB_URL"] + "/hub/login", timeout=5)
                break
            except OSError:
                if hub.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the hub did not start: {(base / 'hub.log').read_text()[-3_000:]}", pytrace=False)
                time.sleep(0.5)
        if ROOT:
            for name in students:
                pwd.getpwnam(name)  # made by the hub from the roster
            subprocess.run(["chpasswd"], input="".join(f"{n}:{PASSWORD}\n" for n in made), text=True, check=True)

        def student_env(name):  # what the hub gives a student's server (a terminal there has the same)
            home = pwd.getpwnam(name).pw_dir if ROOT else str(base / "home" / name)
            return {"PATH": env["PATH"], "HOME": home, "JUPYTERHUB_USER": name,
                    "JUPYTER_CONFIG_PATH": str(base / "state" / "jupyter" / "student")}

        yield {"url": env["ACTKIT_HUB_URL"], "instructor": instructor, "students": students, "course": course,
               "exchange": exchange, "base": base, "started": started, "student_env": student_env}
    finally:
        uids = {pwd.getpwnam(n).pw_uid for n in made if _exists(n)}
        if hub is not None:
            hub.send_signal(signal.SIGTERM)  # the hub stops every server it started, and the proxy
            try:
                hub.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait()
        left = _processes(uids, str(base))
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if (base / "hub.log").exists():
            shutil.copy2(base / "hub.log", tmp_path_factory.mktemp("hub-log"))
            print((base / "hub.log").read_text()[-5_000:])
        for name in made:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
        stack.close()
        assert not left, f"processes of the hub or its users outlived it: {left}"
        assert not [n for n in made if _exists(n)], "users left behind"
        assert not base.exists(), "files left behind"


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _login(browser, url: str, name: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")  # the hub starts this user's server; the page lands on it when it is up
    return page


def _landed(page, name: str, where: str = "tree"):
    page.wait_for_url(f"**/user/{name}/{where}**", timeout=180_000)
    return page


def _api(page, method: str, path: str, body=None):
    status, text = page.evaluate(API, [method, path, body])
    return status, (json.loads(text) if text.startswith(("{", "[")) else text)


def _assignments_tab(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    expect(page.locator(".lm-Menu-itemLabel", has_text="Assignment List")).to_be_visible()
    expect(page.locator(".lm-Menu-itemLabel", has_text="Formgrader")).to_have_count(0)  # no instructor tools
    expect(page.locator(".lm-Menu-itemLabel", has_text="Course")).to_have_count(0)
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    expect(page.locator("#released_assignments_list")).to_be_visible(timeout=60_000)


def _row(page, listing: str, button: str):
    return page.locator(f"#{listing} .list_item", has_text=A).get_by_role("button", name=button, exact=True)


def _as_user(name: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """``python <args>`` run as the system user ``name``."""
    entry = pwd.getpwnam(name)
    return subprocess.run(["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups",
                           "--", sys.executable, *args], capture_output=True, text=True, **kwargs)


def _unreadable(name: str, path: Path) -> bool:
    """``name`` can neither list nor read ``path``."""
    probe = _as_user(name, "-c", f"import os,sys\np={str(path)!r}\ntry:\n os.listdir(p) if os.path.isdir(p) else "
                           "open(p).read()\nexcept PermissionError:\n sys.exit(0)\nsys.exit(1)")
    return probe.returncode == 0


def test_class_round_trip_on_jupyterhub(classroom, tmp_path):
    # Playwright's sync API refuses a thread where an asyncio loop runs (a server another test file started in this
    # xdist worker may have left one, as in CI): the browser gets a thread of its own
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(_class_round_trip, classroom, tmp_path).result()


def _class_round_trip(classroom, tmp_path):
    def lap(what):  # seconds since the hub was started (pytest -s, or the report of a failure, shows them)
        print(f"hub test: {time.monotonic() - classroom['started']:6.1f} s  {what}")

    url, instructor, (right, blank) = classroom["url"], classroom["instructor"], classroom["students"]
    base_i = f"/user/{instructor}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            logins = {name: _login(browser, url, name) for name in (instructor, right, blank)}  # 3 spawns at once
            teacher = _landed(logins[instructor], instructor, "formgrader")  # the instructor lands there
            lap("instructor's server up")
            expect(teacher.get_by_text("Manage Assignments").first).to_be_visible(timeout=60_000)
            for action in ("assign", "release"):  # generate (records 01 in the gradebook), release
                status, answer = _api(teacher, "POST", f"{base_i}/formgrader/api/assignment/{A}/{action}")
                assert status == 200 and answer["success"], answer

            lap("01 generated and released from the formgrader")
            pages = {name: _landed(logins[name], name) for name in (right, blank)}
            lap("both students' servers up")
            for page in pages.values():
                _assignments_tab(page)
                _row(page, "released_assignments_list", "Fetch").click()
                expect(_row(page, "fetched_assignments_list", "Submit")).to_be_visible(timeout=60_000)
                lap("a student fetched 01 from the Assignments tab")
            tab = pages[right]
            expect(tab.locator(".lm-TabBar-tab", has_text="Assignments")).to_be_visible()
            expect(tab.locator("#released_assignments_list_placeholder")).to_be_visible()  # fetched: none left
            expect(_row(tab, "fetched_assignments_list", "Submit")).to_be_visible()
            shot = tmp_path / "student-assignments.png"
            tab.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000

            page = pages[right]  # the instructor's answers, written as this student through the contents API
            nb_path = f"/user/{right}/api/contents/{A}/{A}.ipynb"
            status, model = _api(page, "GET", nb_path)
            assert status == 200, model
            answers = solution_cells(SOURCE)
            for cell in model["content"]["cells"]:
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if grade_id in answers:
                    cell["source"] = answers.pop(grade_id)
            assert not answers, f"solution cells not in the fetched notebook: {answers}"
            status, saved = _api(page, "PUT", nb_path, {"type": "notebook", "format": "json",
                                                         "content": model["content"]})
            assert status == 200, saved
            validate = page.locator("#fetched_assignments_list").get_by_role("button", name="Validate", exact=True)
            if not validate.is_visible():  # the notebooks of an assignment are listed when it is opened
                page.locator("#fetched_assignments_list a", has_text=A).first.click()
            validate.click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_contain_text("Success! Your notebook passes all the tests.", timeout=120_000)
            dialog.locator(".jp-mod-accept").click()
            lap("the answered notebook validated from the tab")
            for page in pages.values():
                _row(page, "fetched_assignments_list", "Submit").click()
                expect(_row(page, "submitted_assignments_list", "Fetch Feedback")).to_be_visible(timeout=60_000)

            if ROOT:  # a student reaches no other student's work, no solution, no instructor tool
                course, exchange = classroom["course"], classroom["exchange"]
                forged = _as_user(blank, "-m", "nbgrader", "submit", A, "--course", "activation-functions",
                                  f"--CourseDirectory.student_id={right}", cwd=pwd.getpwnam(blank).pw_dir,
                                  env=classroom["student_env"](blank))
                assert forged.returncode == 0, forged.stderr  # a newer submission in the classmate's name
                inbound = exchange / "activation-functions" / "inbound"
                named = sorted((d for d in inbound.iterdir() if d.name.startswith(right + "+")), key=lambda d: d.name)
                assert [pwd.getpwuid(d.stat().st_uid).pw_name for d in named] == [right, blank]
                mine = named[0]
                assert _unreadable(blank, inbound)
                assert _unreadable(blank, Path(pwd.getpwnam(right).pw_dir))
                assert _unreadable(blank, course / "source" / A / f"{A}.ipynb")
                assert _unreadable(blank, course / "gradebook.db")
                assert _unreadable(right, course / "submitted")
                assert not _unreadable(right, mine / f"{A}.ipynb")  # nbgrader's modes: the owner's own
            released = list((classroom["exchange"] / "activation-functions" / "outbound" / A).glob("*.ipynb"))
            outbound = "".join(p.read_text() for p in released)
            assert released and "BEGIN SOLUTION" not in outbound and "BEGIN HIDDEN" not in outbound, released
            for name, page in pages.items():
                assert _api(page, "GET", f"/user/{name}/formgrader")[0] == 404
                assert _api(page, "GET", f"{base_i}/formgrader/api/assignments")[0] in (403, 404)
                assert _api(page, "GET", f"{base_i}/api/contents")[0] in (403, 404)

            lap("both submitted from the tab; access checks done")
            for action in ("collect",):
                status, answer = _api(teacher, "POST", f"{base_i}/formgrader/api/assignment/{A}/{action}")
                assert status == 200 and answer["success"], answer
            for name in (right, blank):
                status, answer = _api(teacher, "POST", f"{base_i}/formgrader/api/submission/{A}/{name}/autograde")
                assert status == 200 and answer["success"], answer
            lap("collected and autograded from the formgrader")
            status, notebooks = _api(teacher, "GET", f"{base_i}/formgrader/api/submitted_notebooks/{A}/{A}")
            for submitted in notebooks:  # the written answer, by hand: full marks for the instructor's text
                status, grades = _api(teacher, "GET", f"{base_i}/formgrader/api/grades?submission_id={submitted['id']}")
                for grade in grades:
                    if grade["name"] in WRITTEN:
                        score = WRITTEN[grade["name"]] if submitted["student"] == right else 0
                        status, _ = _api(teacher, "PUT", f"{base_i}/formgrader/api/grade/{grade['id']}",
                                         {"manual_score": score})
                        assert status == 200
            for action in ("generate_feedback", "release_feedback"):
                status, answer = _api(teacher, "POST", f"{base_i}/formgrader/api/assignment/{A}/{action}")
                assert status == 200 and answer["success"], answer
            lap("graded by hand, feedback generated and released")
            teacher.goto(f"{url}{base_i}/formgrader/manage_submissions/{A}")
            total = TESTS_MAX + sum(WRITTEN.values())
            for name, score in ((right, total), (blank, 0)):  # the roster's names, the gradebook's scores
                row = teacher.locator("tr", has_text=name).first
                expect(row).to_contain_text(f"{name[-1].upper()}, Student", timeout=30_000)
                expect(row).to_contain_text(f"{score:g} / {total:g}")
                expect(row).to_contain_text("graded")
            expect(teacher.get_by_text("Manage Submissions").first).to_be_visible()
            shot = tmp_path / "formgrader.png"
            teacher.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000

            for name, want in ((right, TESTS_MAX), (blank, 0.0)):
                page = pages[name]
                _row(page, "submitted_assignments_list", "Fetch Feedback").click()
                expect(page.locator("#submitted_assignments_list", has_text="view feedback")).to_be_visible(
                    timeout=60_000)
                status, listing = _api(page, "GET", f"/user/{name}/api/contents/{A}/feedback")
                assert status == 200 and len(listing["content"]) == 1, listing
                page.goto(f"{url}/user/{name}/files/{listing['content'][0]['path']}/{A}.html")
                text = page.inner_text("body")
                tests = [tuple(map(float, m)) for m in re.findall(r"Test cell \(Score: ([\d.]+) / ([\d.]+)\)", text)]
                assert (sum(s for s, _ in tests), sum(m for _, m in tests)) == (want, TESTS_MAX), tests
                whole = re.search(rf"{A} \(Score: ([\d.]+) / ([\d.]+)\)", text)
                assert whole and float(whole[2]) == total
                assert float(whole[1]) == (total if name == right else 0.0)
                assert "BEGIN HIDDEN" not in text and name in page.url
                lap(f"{name} fetched feedback: {whole[0]}")
        finally:
            browser.close()
        # the LMS export reads the grades of the same gradebook (run by the instructor, as on the hub's terminal)
        export = ["-m", "nbgrader", "export", "--exporter=actkit.grading.lms.CanvasExport"]
        env = dict(classroom["student_env"](instructor), JUPYTER_CONFIG_PATH=str(
            classroom["base"] / "state" / "jupyter" / "instructor"))
        course = classroom["course"]
        done = (_as_user(instructor, *export, cwd=course, env=env) if ROOT else
                subprocess.run([sys.executable, *export], cwd=course, env=env, capture_output=True, text=True))
        assert done.returncode == 0, done.stderr
        with (course / "grades_canvas.csv").open() as f:
            rows = {row["ID"]: row for row in csv.DictReader(f)}
        column = next(c for c in next(iter(rows.values())) if c.startswith(A))
        assert {lms: float(rows[lms][column]) for lms in ("9000", "9001")} == {"9000": total, "9001": 0.0}
        if ROOT:  # feedback: the other student can list no feedback, and no student the course's feedback/
            feedback = classroom["exchange"] / "activation-functions" / "feedback"
            assert _unreadable(blank, feedback) and _unreadable(right, feedback)
            assert _unreadable(blank, Path(pwd.getpwnam(right).pw_dir) / A / "feedback")
            assert stat.S_IMODE(classroom["exchange"].stat().st_mode) == 0o1777
            ours, taken = (str(classroom["exchange"] / name) for name in ("activation-functions", "taken"))
            moved = _as_user(blank, "-c", f"import os; os.rename({ours!r}, {taken!r})")
            assert "PermissionError" in moved.stderr, "a student cannot take the course's folder of the exchange"


@pytest.mark.parametrize("url", ["https://hub.example.org", "http://127.0.0.1/hub", "http://[::1]"])
def test_a_hub_url_without_a_port_is_refused_in_one_line(url, tmp_path):
    from traitlets.config import Config

    from actkit.grading.hub import configure

    with pytest.raises(SystemExit, match=r"^hub: ACTKIT_HUB_URL=.* needs a port, e\.g\. http://0\.0\.0\.0:8000"):
        configure(Config(), course=tmp_path, exchange=tmp_path / "exchange", state=tmp_path / "state", homes=None,
                  instructor="teacher", url=url)
    assert not (tmp_path / "exchange").exists(), "refused before anything is made"
