"""Grading integrity: hostile, hanging, crashing and broken submissions are graded right.

One course directory holds the three demo students (right, blank, partial) and the adversarial
students of ``tests/adversarial.py`` (generated from the released notebook). One ``actkit-grade``
run (the real path: preflight, Dask workers executing in the bubblewrap sandbox with the tests in
the tester, then ``nbgrader autograde``) grades all of them; plain serial ``nbgrader autograde``
grades the kinds of attack in ``adversarial.BOTH_PATHS`` with the controls, and a reference run
grades only the demo students. Every case of ``adversarial.CASES`` is then checked on its own
question, and each run as a whole: the other students' grades are unchanged, the gradebook is
consistent, nothing outside a submission's own output was touched, the hidden tests appear
nowhere in the feedback, and every problem is one line for the instructor.

The hanging cases use a 10 s cell timeout (``ACTKIT_CELL_TIMEOUT``), the memory and process
limits are lowered (512 MiB, 64 processes) so that exhausting them is quick.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import html
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from actkit.grading import preflight, sandbox, scan
from actkit.grading.parallel import grade
from actkit.grading.paths import grading_dir
from actkit.grading.report import collect
from actkit.instructor.notebooks import (
    REPO_ROOT,
    assignments,
    fresh_course,
    make_submission,
    nbgrader,
    notebook_of,
    read_scores,
    solution_cells,
)
from actkit.instructor.release import main as release_main
from tests import adversarial
from tests.adversarial import ASSIGNMENT, CALLS_EVERY_FUNCTION, CASES, CONTROLS, TESTS

ENV = {
    "ACTKIT_SANDBOX": "1",
    "ACTKIT_CELL_TIMEOUT": "10",
    "ACTKIT_SANDBOX_MEMORY": "512M",
    "ACTKIT_SANDBOX_NPROC": "64",
    "ACTKIT_TEST_SECRET": "not-for-students",
    # kernel uids of this suite's own runs (base + launcher pid): apart from those of tests that run sandboxed
    # kernels in other processes at the same time, which the leftover check must not count
    "ACTKIT_SANDBOX_UID_BASE": "100000000",
    "ACTKIT_GRADER_MEMORY": "2G",  # the ceiling of the nbgrader process, the Dask workers and the testers
}
pytestmark = pytest.mark.sandbox  # skipped, in one line, on a machine that cannot run the sandbox (conftest.py)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a uid of its own per kernel (unprivileged, "
                                "the kernels share the instructor's uid, its process limit and its processes)")


def per_cell(scores, students):
    return {s: sorted((c.grade_id, c.score) for c in scores[s].cells) for s in students}


# The suite's own temporary folder: what its grading runs leave behind is found there, never another test's
# (tests in the other xdist worker grade at the same time, in the machine's temporary folder).
SUITE_TMP = Path(tempfile.mkdtemp(prefix="actkit-integrity-"))
SUITE_TMP.chmod(0o755)
atexit.register(shutil.rmtree, SUITE_TMP, ignore_errors=True)


@contextlib.contextmanager
def sandbox_env():
    """The suite's tight limits and temporary folder, only while its own courses are graded (xdist runs other tests
    in this process)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**ENV, "TMPDIR": str(SUITE_TMP)}.items():
            patch.setenv(name, value)
        patch.setattr(tempfile, "tempdir", str(SUITE_TMP))
        yield


class Listener:
    """A TCP server on the grader's loopback that no submission may reach."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = []
        self.sock.settimeout(0.5)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(addr)
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@dataclass
class Graded:
    root: Path
    lines: list
    scores: dict
    printed: str
    before: dict
    seconds: float
    path: str = "parallel"
    parent_peak: float = 0.0  # MiB the grading parent's resident memory grew by (actkit-grade: this process)
    returncode: int = 0


def _course_state(root: Path) -> dict[str, str]:
    """Checksums of everything a grading run must not change (links are hashed as links)."""
    state = {}
    for top in ("submitted", "source", "release"):
        for p in sorted((root / top).rglob("*")):
            if p.is_symlink():
                state[str(p.relative_to(root))] = "-> " + os.readlink(p)
            elif p.is_file():
                state[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return state


@pytest.fixture(scope="session")
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="session")
def canary(tmp_path_factory):
    folder = tmp_path_factory.mktemp("canary")
    (folder / "canary.txt").write_text("still here\n")
    return folder


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """Plain serial `nbgrader autograde` (sandboxed) of the three demo students alone."""
    root = tmp_path_factory.mktemp("reference")
    fresh_course(root, [ASSIGNMENT])
    nbgrader("generate_assignment", ASSIGNMENT, "--force", root=root)
    released = notebook_of(ASSIGNMENT, "release", root)
    right = solution_cells(nbformat.read(notebook_of(ASSIGNMENT), as_version=4))
    from actkit.instructor.demo import CLEO_MISTAKES

    for student, answers in (("ada", right), ("ben", None), ("cleo", {**right, **CLEO_MISTAKES})):
        make_submission(released, root / "submitted" / student / ASSIGNMENT / released.name, answers=answers)
    with sandbox_env():
        nbgrader("autograde", ASSIGNMENT, "--create", "--force", root=root)
    return per_cell(read_scores(root, ASSIGNMENT), CONTROLS)


def _leftovers() -> set[str]:
    """The grader's temporary folders of this suite's runs that exist now (kernels, working folders, testers)."""
    return {str(p) for prefix in (sandbox.PRIVATE_PREFIX, "actkit-work-", "actkit-tester-")
            for p in SUITE_TMP.glob(f"{prefix}*")}


def _adversarial_course(root: Path, listener, canary, keep: list[str] | None = None) -> Path:
    fresh_course(root, [ASSIGNMENT])
    nbgrader("generate_assignment", ASSIGNMENT, "--force", root=root)
    adversarial.build(root, listener_port=listener.port, canary=canary)
    for folder in (root / "submitted").iterdir():
        if keep is not None and folder.name not in keep:
            shutil.rmtree(folder)
    Path(adversarial.PWNED).unlink(missing_ok=True)
    return root


@pytest.fixture(scope="session")
def parallel(tmp_path_factory, listener, canary):
    """The adversarial course, graded once by actkit-grade with two workers."""
    root = _adversarial_course(tmp_path_factory.mktemp("adversarial"), listener, canary)
    before = _course_state(root)
    printed = io.StringIO()
    t0 = time.perf_counter()
    baseline = _reset_peak()
    with contextlib.redirect_stderr(printed), sandbox_env():
        run = grade(root, ASSIGNMENT, workers=2)
    seconds = time.perf_counter() - t0
    return Graded(root, run.lines, read_scores(root, ASSIGNMENT), printed.getvalue(), before, seconds,
                  parent_peak=_status_mib("VmHWM") - baseline)


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> float:
    """Reset this process's peak resident memory (``VmHWM``) to what it uses now; that (MiB)."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmHWM")


@pytest.fixture(scope="session")
def serial(tmp_path_factory, listener, canary):
    """The kinds of attack of BOTH_PATHS and the controls, graded by plain `nbgrader autograde`."""
    root = _adversarial_course(tmp_path_factory.mktemp("serial"), listener, canary,
                               keep=adversarial.BOTH_PATHS + CONTROLS)
    before = _course_state(root)
    t0 = time.perf_counter()
    with sandbox_env():
        proc = nbgrader("autograde", ASSIGNMENT, "--create", "--force", root=root, check=False)
    seconds = time.perf_counter() - t0
    lines = [p.line() for p in preflight.runtime_findings(root, ASSIGNMENT)]
    return Graded(root, lines, read_scores(root, ASSIGNMENT), proc.stdout + proc.stderr, before, seconds, "serial",
                  returncode=proc.returncode)


# recorded as 0 by the preflight, never executed
UNREADABLE = ["deep_json", "huge_json", "linked_files", "not_json", "invalid_json"]


@pytest.fixture(params=["parallel", "serial"])
def graded(request):
    return request.getfixturevalue(request.param)


def _lines(graded, student):
    return [line for line in graded.lines if line.startswith(f"{student} / ")]


def _outputs(graded, student, marker):
    """The text a submission printed after ``marker`` (from its autograded notebook)."""
    path = graded.root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if marker in text:
                return text.split(marker, 1)[1].splitlines()[0].strip()
    raise AssertionError(f"{student} printed no {marker!r}")


# ---------------------------------------------------------------------------- every case

def on_paths(items, student_of):
    """(path, item) pairs: every item on actkit-grade, the kinds of BOTH_PATHS on nbgrader autograde too."""
    return [pytest.param(path, item, id=f"{path}-{student_of(item)}:{str(getattr(item, 'case', ''))[:40]}")
            for path in ("parallel", "serial") for item in items
            if path == "parallel" or student_of(item) in adversarial.BOTH_PATHS]


@pytest.mark.parametrize(("path", "case"), on_paths(CASES, lambda c: c.student))
def test_case_outcome(request, path, case):
    graded = request.getfixturevalue(path)
    scores = {c.grade_id: c for c in graded.scores[case.student].cells}
    for gid in case.zero:
        assert scores[gid].score == 0, f"{case.case}: {gid} scored {scores[gid].score}"
    lines = _lines(graded, case.student)
    for word in case.flags:
        assert any(word in line for line in lines), f"{case.case}: no line mentions {word!r}:\n" + "\n".join(lines)


STUDENTS = sorted({c.student for c in CASES})


@pytest.mark.parametrize(("path", "student"), on_paths(STUDENTS, lambda s: s))
def test_rest_of_the_notebook_still_counts(request, path, student):
    """Only the targeted questions are lost: every other test cell keeps its full points."""
    graded = request.getfixturevalue(path)
    targeted = {gid for c in CASES if c.student == student for gid in c.zero}
    cells = {c.grade_id: c for c in graded.scores[student].cells if c.auto}
    assert set(cells) == set(TESTS), f"{student} has grades for {sorted(cells)}"
    spared = set(TESTS) - targeted - ({CALLS_EVERY_FUNCTION} if targeted else set())
    for gid in spared:
        assert cells[gid].score == cells[gid].max_score, f"{student}: {gid} scored {cells[gid].score}"


def test_other_students_graded_as_without_the_bad_submissions(graded, reference):
    assert per_cell(graded.scores, CONTROLS) == reference
    assert graded.scores["ada"].auto_score == graded.scores["ada"].auto_max > 0
    assert graded.scores["ben"].auto_score == 0
    for student in CONTROLS:
        assert not _lines(graded, student), _lines(graded, student)


def test_unreadable_submissions_are_zero_and_the_rest_graded(graded):
    for student in UNREADABLE:
        assert graded.scores[student].auto_score == 0, student
        assert _lines(graded, student), student
    for student in CONTROLS + ["o'neil ünï"]:
        assert graded.scores[student].auto_score > 0 or student == "ben", f"{student} was not graded"


def test_gradebook_consistent(graded):
    """One submission per student, one grade per graded cell, scores for every test, no lock errors."""
    db_path = graded.root / "gradebook.db"
    assert preflight.check_gradebook(db_path) is None
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT s.student_id, c.name FROM submitted_assignment s "
            "JOIN submitted_notebook n ON n.assignment_id = s.id JOIN grade g ON g.notebook_id = n.id "
            "JOIN base_cell c ON c.id = g.cell_id "
            "JOIN assignment a ON a.id = s.assignment_id WHERE a.name = ?", (ASSIGNMENT,)).fetchall()
        submissions = db.execute("SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id").fetchall()
    students = sorted(p.name for p in (graded.root / "submitted").iterdir())
    assert sorted(s for s, _ in submissions) == students
    assert all(n == 1 for _, n in submissions)
    graded_cells = len(TESTS) + 1  # the tests and the written answer
    per_student = {}
    for student, name in rows:
        per_student.setdefault(student, []).append(name)
    for student in students:
        names = per_student.get(student, [])
        assert len(names) == len(set(names)) == graded_cells, (student, sorted(names))
        for cell in graded.scores[student].cells:
            if cell.auto:
                assert cell.score is not None, (student, cell.grade_id)
    log_path = grading_dir(graded.root, ASSIGNMENT) / "nbgrader.log"
    assert "database is locked" not in (log_path.read_text() if log_path.is_file() else graded.printed)


def test_one_clear_line_per_problem(parallel):
    assert "Traceback" not in parallel.printed
    pattern = re.compile(r"^[\w.-]+ / [^:]+: .+$")
    for line in parallel.lines:
        assert pattern.match(line) and len(line) < 400, line
        assert f"  {line}" in parallel.printed
    flagged = collect(parallel.root, ASSIGNMENT)["flagged"]
    for student in STUDENTS:
        if any(c.flags for c in CASES if c.student == student):
            assert _lines(parallel, student), f"nothing reported for {student}"
            assert student in flagged, student


def test_nothing_outside_its_own_output_changed(graded, listener, canary):
    assert _course_state(graded.root) == graded.before
    assert (canary / "canary.txt").read_text() == "still here\n"
    assert not (canary / "planted.txt").exists()
    assert not Path(adversarial.PWNED).exists(), "the tester ran code the student sent"
    assert not list((grading_dir(graded.root, ASSIGNMENT) / "cache").glob("planted*"))
    assert not (graded.root / "autograded" / "ada" / "x.ipynb").exists()
    assert listener.connections == []
    links = [p for p in (graded.root / "autograded").rglob("*") if p.is_symlink()]
    assert not links, f"links in autograded/: {links}"
    ada = nbformat.read(graded.root / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert ada.cells, "ada's autograded notebook was overwritten"
    if graded.path == "parallel":
        tried = json.loads(_outputs(graded, "tamper", "TAMPER "))
        assert tried.pop("write_own_folder") == "DONE"
        assert all(result != "DONE" for result in tried.values()), tried
        seen = json.loads(_outputs(graded, "snoop", "SNOOP "))
        assert "READ" not in seen.values() and seen["secret"] == "absent", seen
        assert seen["gradebook"] != "DONE" and not str(seen["gradebook"]).startswith("(")


def _hidden_lines() -> list[str]:
    source = nbformat.read(notebook_of(ASSIGNMENT), as_version=4)
    lines = []
    for cell in source.cells:
        if "BEGIN HIDDEN TESTS" in cell.source:
            hidden = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
            lines += [line.strip() for line in hidden.splitlines() if len(line.strip()) >= 20]
    assert lines, "assignment 01 has no hidden tests"
    return lines


def test_hidden_tests_appear_nowhere_in_the_feedback(graded):
    nbgrader("generate_feedback", ASSIGNMENT, "--force", root=graded.root, check=False)
    pages = sorted((graded.root / "feedback").rglob("*.html"))
    assert len(pages) >= len(CONTROLS), pages
    texts = {p: html.unescape(re.sub(r"<[^>]+>", "", p.read_text(errors="replace"))) for p in pages}
    leaked = json.loads(_outputs(graded, "leak_hidden", adversarial.LEAK_MARKER))
    for line in _hidden_lines():
        for page, text in texts.items():
            assert line not in text, f"hidden test line in {page.relative_to(graded.root)}: {line}"
        assert not any(line in found for found in leaked), f"the student's kernel saw a hidden line: {line}"


def _sandbox_processes() -> list[str]:
    """The processes with a uid of this suite's sandboxes: pid, state and command."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, KeyError, ValueError):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            if int(fields["Uid"].split()[0]) >= int(ENV["ACTKIT_SANDBOX_UID_BASE"]):
                found.append(f"{status.parent.name} {fields['State'].strip()} {fields['Name'].strip()}")
    return found


@needs_root
def test_exhaustion_is_bounded(parallel):
    graded = parallel
    forks = _outputs(graded, "exhaust_a", "FORKS ")
    count = int(forks.split()[0])
    assert "stopped by" in forks and count < int(ENV["ACTKIT_SANDBOX_NPROC"]), forks
    assert "stopped after" in _outputs(graded, "exhaust_a", "MEMORY ")
    deadline = time.monotonic() + 10  # a killed sandbox's processes end (and are reaped) a moment later
    while (leftovers := _sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leftovers, f"sandbox processes survived: {leftovers}"
    assert not _leftovers(), "grader folders left behind"
    nb = nbformat.read(graded.root / "autograded" / "exhaust_c" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert sum(len(json.dumps(c.get("outputs", []))) for c in nb.cells) < 3_000_000


def test_regrading_adds_no_grade(parallel):
    before = per_cell(read_scores(parallel.root, ASSIGNMENT), ["tamper", "ada"])
    with sandbox_env():
        grade(parallel.root, ASSIGNMENT, students=["tamper"], force=True, workers=1, quiet=True)
    assert per_cell(read_scores(parallel.root, ASSIGNMENT), ["tamper", "ada"]) == before
    test_gradebook_consistent(parallel)


# ------------------------------------------------------------------- the instructor's input

@pytest.fixture
def small_course(tmp_path):
    fresh_course(tmp_path, [ASSIGNMENT])
    return tmp_path


def test_missing_assignment_is_a_clear_error(small_course):
    with pytest.raises(SystemExit, match=r"error: no assignment '99_missing' .*available: 01_activation_basics"):
        grade(small_course, "99_missing", quiet=True)


@pytest.mark.parametrize(("breakage", "message"), [
    ("unpaired", "unpaired ### BEGIN/END HIDDEN TESTS markers"),
    ("no_points", "test cell without points"),
])
def test_broken_source_notebook_is_a_clear_error(small_course, breakage, message):
    path = notebook_of(ASSIGNMENT, root=small_course)
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_relu")
    if breakage == "unpaired":
        cell.source = cell.source.replace("### END HIDDEN TESTS", "")
    else:
        cell.metadata["nbgrader"]["points"] = 0
    nbformat.write(nb, path)
    with pytest.raises(SystemExit, match=re.escape(message)) as error:
        grade(small_course, ASSIGNMENT, quiet=True)
    assert "test_relu" in str(error.value)
    # make release refuses it too, before nbgrader writes anything to release/
    with pytest.raises(SystemExit, match=re.escape(message)):
        release_main([ASSIGNMENT, "--root", str(small_course)])
    assert not (small_course / "release").exists() and not (small_course / "gradebook.db").exists()


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated"])
def test_damaged_gradebook_is_refused_and_left_untouched(small_course, damage):
    db = small_course / "gradebook.db"
    if damage == "truncated":
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{db}") as gb:
            gb.add_assignment(ASSIGNMENT)
        db.write_bytes(db.read_bytes()[:6000])
    else:
        db.write_bytes(b"" if damage == "empty" else b"this is not a database\n" * 50)
    content = db.read_bytes()
    with pytest.raises(SystemExit, match="gradebook .* is damaged") as error:
        grade(small_course, ASSIGNMENT, quiet=True)
    assert "not touched" in str(error.value)
    assert db.read_bytes() == content
    proc = subprocess.run([sys.executable, "-m", "actkit.grading.preflight", "check", ASSIGNMENT,
                           "--root", str(small_course)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode != 0 and "damaged" in proc.stderr and "Traceback" not in proc.stderr
    assert db.read_bytes() == content


# ---------------------------------------------------------------------- scan and sandbox

def test_scan_accepts_honest_code():
    """No flag for the instructor's answers, the blank release, or any catalogued answer (right or wrong)."""
    import importlib
    import pkgutil

    from tests import mutants as catalogue_pkg

    catalogues = {m.ASSIGNMENT: m for info in pkgutil.iter_modules(catalogue_pkg.__path__)
                  if (m := importlib.import_module(f"tests.mutants.{info.name}"))}
    for assignment in assignments():
        source = nbformat.read(notebook_of(assignment), as_version=4)
        release = nbformat.read(notebook_of(assignment, "release"), as_version=4)
        assert scan.scan(release, release) == [], assignment
        right = solution_cells(source)
        answered = nbformat.read(notebook_of(assignment, "release"), as_version=4)
        for cell in answered.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in right:
                cell.source = right[gid]
        assert scan.scan(answered, release) == [], assignment
        catalogue = catalogues.get(assignment)
        for answer in (getattr(catalogue, "MUTANTS", []) + getattr(catalogue, "ALTERNATIVES", [])):
            reasons = scan.scan_source(answer.code, modules={"np", "math", "tf", "keras"}, protected=set())
            assert not reasons, f"{assignment} {answer}: {reasons}"


def test_sandbox_command_isolates_the_kernel(tmp_path):
    (tmp_path / "actkit-kernel-x").mkdir()
    command = sandbox.sandbox_command(str(tmp_path / "actkit-kernel-x" / "kernel.json"), [], cwd=str(tmp_path),
                                      uid=200123, env={"COURSE_DATA_DIR": str(REPO_ROOT.parent / "shared" / "data")})
    text = " ".join(command)
    for option in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv", "--data=", "--nproc=",
                   "--reuid=200123", "--no-new-privs"):
        assert option in text, option
    binds = {command[i + 2] for i, arg in enumerate(command) if arg in ("--bind", "--ro-bind")}
    assert str(REPO_ROOT) not in binds and str(REPO_ROOT / "source") not in binds
    assert {str(tmp_path), str(REPO_ROOT / "actkit")} <= binds
    writable = {command[i + 2] for i, arg in enumerate(command) if arg == "--bind"}
    assert writable == {str(tmp_path), str(tmp_path / "actkit-kernel-x")}


def test_sandbox_check_reports_no_network():
    proc = subprocess.run([sys.executable, "-m", "actkit.grading.sandbox", "check"], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "network blocked" in proc.stdout and "source" not in proc.stdout
    assert shutil.which("bwrap")


# ------------------------------------------------------------------------------- issue 24

def test_the_class_run_never_stops(serial):
    """Plain `nbgrader autograde` grades every submission of the serial course, hostile files and metadata
    included: a file that is not JSON costs one line, not a NotJSONError traceback; only the folder with links
    is stopped (and recorded as 0) by an error."""
    failed = set(re.findall(r"There was an error processing assignment '[^']+' for student '([^']+)'", serial.printed))
    assert failed == {"linked_files"}, failed  # refused by RefuseSubmission, which stops nbgrader's copy of its links
    assert "NotJSONError" not in serial.printed
    assert all(serial.scores[s].cells for s in adversarial.BOTH_PATHS + CONTROLS)
    for student in ("not_json", "invalid_json"):
        lines = [line for line in serial.printed.splitlines() if f"{student} / " in line]
        assert len(lines) == 1, lines


def test_grading_processes_stay_under_their_ceiling(graded):
    """Under a 100 MB display_data, a 180 MB comm reply, 45 MB of comm JSON and a 20000 x 20000 .keras model:
    the process that reads the kernel (nbgrader's on the serial path, the Dask workers on actkit-grade) and the
    testers stay under the ceiling; actkit-grade's own process grows by little."""
    from actkit.grading.limits import _bytes

    ceiling = _bytes(ENV["ACTKIT_GRADER_MEMORY"]) / 2**20
    peaks = {}
    for path in (grading_dir(graded.root, ASSIGNMENT) / "integrity").glob("*.json"):
        data = json.loads(path.read_text())
        if data.get("peak_mib"):
            peaks[data["student"]] = data["peak_mib"]
    assert {"bomb_kernel", "bomb_bridge", "ada"} <= set(peaks), sorted(peaks)
    worst = {kind: max(p[kind] for p in peaks.values()) for kind in ("grader", "tester")}
    print(f"{graded.path}: peak resident memory (MiB) {worst}, the parent grew by {graded.parent_peak:.0f}, "
          f"ceiling {ceiling:.0f}")
    assert 0 < worst["grader"] < ceiling and 0 < worst["tester"] < ceiling, worst
    assert peaks["bomb_bridge"]["tester"] < ceiling / 4, peaks["bomb_bridge"]
    assert graded.parent_peak < 512, graded.parent_peak


def _echoes(text: str) -> list[str]:
    return re.findall(r"ECHO-(?:CALL|DISPLAY|THREAD|WARN|RAISE) \[[^\n]{0,80}", text)


def test_tester_arguments_reach_no_output(graded):
    """The echo submission records what the tests pass and echoes it every way it can: nothing of it is in its
    autograded notebook or its feedback; the error it raised in a hidden check is there without its message."""
    from actkit.grading.feedback import WITHHELD

    path = graded.root / "autograded" / "echo" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert not _echoes(outputs), _echoes(outputs)
    assert _outputs(graded, "echo", adversarial.ECHO_LAST) == "[]"  # the last cell ran before any test
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_linear")
    assert [o.get("evalue") for o in test.outputs if o.get("output_type") == "error"] == [WITHHELD]
    nbgrader("generate_feedback", ASSIGNMENT, "--student", "echo", "--force", root=graded.root)
    page = next((graded.root / "feedback" / "echo").rglob("*.html")).read_text(errors="replace")
    assert not _echoes(html.unescape(page)), _echoes(html.unescape(page))
