"""A grading run says what matters and nothing else (issue 14, item 7).

One small class of assignment 01, graded by plain ``nbgrader autograde`` and by ``actkit-grade
--similarity --report`` (the command behind ``make grade``), each as its own process, with the cell
timeout at 10 s:

- ``edited`` changed a test cell: a real problem, one line (the course's flag line; on plain nbgrader also
  nbgrader's own checksum warning for that cell);
- ``sleeper``'s ``relu`` hangs the first time the visible test calls it, inside its proxy call: a real
  problem, one timeout line (nbclient added two ERROR lines). When the interrupt that ends a hang
  lands between two messages, the kernel logs "KeyboardInterrupt caught in kernel"; that happens at
  random, so the answer cell writes the same line to the kernel's log itself;
- every other test cell is untouched, which made nbgrader warn that its checksum had changed (the
  gradebook keeps the test with its hidden part, the released notebook has it removed).

Dask's default dashboard port 8787 is held by the test while actkit-grade runs, so a cluster that
asked for it would warn. Wall time: about 45 s (two grading runs of two submissions, one 10 s timeout each).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from actkit.instructor.notebooks import REPO_ROOT, fresh_course, make_submission, nbgrader, notebook_of, solution_cells

ASSIGNMENT = "01_activation_basics"
SLEEPY_RELU = '''import logging

# the line ipykernel logs when an interrupt lands between two messages (after a timeout, at random)
logging.getLogger("IPKernelApp").error("KeyboardInterrupt caught in kernel.")
_calls = []


def relu(x, max_value=None):
    # the visible test's first call hangs (the notebook's own cells, which run before the tests, call it on a grid)
    if not _calls and np.array_equal(x, [-2.0, 0.0, 3.0]):
        _calls.append(x)
        import time
        time.sleep(300)
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    return x if max_value is None else np.minimum(x, max_value)
'''
NOISE = [
    "Attribute 'checksum' for cell test_linear",  # an untouched test cell
    "checksum' for cell test_sigmoid",
    "KeyboardInterrupt caught",
    "Timeout waiting for execute reply",
    "Interrupting kernel",
    "already in use",
    "8787",
    "SAWarning",
    "Traceback",
    "without encryption",
]
TIMEOUT = 10  # s, as in the integrity suite: no honest cell of 01 comes near it on a loaded machine
ENV = {"ACTKIT_CELL_TIMEOUT": str(TIMEOUT)}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("quiet")
    fresh_course(root, [ASSIGNMENT])
    nbgrader("generate_assignment", ASSIGNMENT, "--force", root=root)
    released = notebook_of(ASSIGNMENT, "release", root)
    right = solution_cells(nbformat.read(notebook_of(ASSIGNMENT), as_version=4))
    edited = root / "submitted" / "edited" / ASSIGNMENT / released.name
    make_submission(released, edited, answers=right)
    nb = nbformat.read(edited, as_version=4)
    test_relu = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_relu")
    test_relu.source = "assert True  # checked by hand\n"
    nbformat.write(nb, edited)
    make_submission(released, root / "submitted" / "sleeper" / ASSIGNMENT / released.name,
                    answers={**right, "relu": SLEEPY_RELU})
    return root


def assert_quiet(output: str) -> None:
    for noise in NOISE:
        assert noise not in output, f"{noise!r} in the grading output:\n{output}"


def test_nbgrader_autograde_output(course):
    proc = nbgrader("autograde", ASSIGNMENT, "--create", root=course, env=ENV)
    output = proc.stdout + proc.stderr
    assert_quiet(output)
    warnings = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    # one line per real problem: the edited test cell (the course's line, and nbgrader's own checksum warning
    # for that cell, which nbgrader prints itself), the timeout; nothing else above INFO
    edited = f"edited / {ASSIGNMENT}.ipynb: test cell test_relu was edited (the instructor's version is graded)"
    assert len([w for w in warnings if edited in w]) == 1
    assert len([w for w in warnings if "Attribute 'checksum' for cell test_relu has changed" in w]) == 1
    timeout = f"sleeper / {ASSIGNMENT}: test_relu: cut off after {TIMEOUT} s (timeout)"
    assert len([w for w in warnings if timeout in w]) == 1
    assert len(warnings) == 3, "\n".join(warnings)


class Stream(threading.Thread):
    """Reads a pipe as it is written (so that the process never blocks on a full pipe)."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.pieces = pipe, []

    def run(self):
        while chunk := os.read(self.pipe.fileno(), 4096):
            self.pieces.append(chunk.decode(errors="replace"))

    def text(self) -> str:
        return "".join(self.pieces)

    def where(self, pattern: str) -> int:
        """Where the first match of the regular expression ``pattern`` stands in the stream (its order of writing)."""
        found = re.search(pattern, self.text())
        assert found, f"{pattern!r} never matched:\n{self.text()}"
        return found.start()


@pytest.fixture
def dashboard_port_taken():
    """Hold Dask's default dashboard port (if nothing else holds it already)."""
    sock = socket.socket()
    try:
        sock.bind(("", 8787))
        sock.listen()
    except OSError:
        pass  # already in use: just as good
    yield
    sock.close()


def test_actkit_grade_output(course, dashboard_port_taken):
    env = dict(os.environ, **ENV, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    cmd = [sys.executable, "-m", "actkit.grading.parallel", ASSIGNMENT, "--root", str(course), "--workers", "2",
           "--force", "--similarity", "--report"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT, env=env)
    out, err = Stream(proc.stdout), Stream(proc.stderr)
    out.start(), err.start()
    assert proc.wait(timeout=600) == 0
    out.join(), err.join()
    output = out.text() + err.text()
    assert_quiet(output)

    # the progress bars (tqdm): shown at once, counting notebooks, with rate and time left
    # written in this order (positions in the stream: two writes can arrive in one read)
    assert err.where("prepare:") < err.where("grade:   0%")  # shown before any grading, whatever the machine's load
    # the grading bar's own count (the prepare bar also reaches 1/2 when preparing is slow)
    assert err.where("grade:   0%") < err.where(r"grade: +\d+%\|[^\r\n]*\| 1/2 ")
    assert re.search(r"grade: 100%\|[^\r\n]*\| 2/2 \[\d\d:\d\d<00:00, +\d+\.\d+s/notebook", output), output

    # everything else is one line per real problem, or a summary
    lines = [line.strip("\n") for line in re.split(r"[\r\n]", output) if line.strip()]
    bars = re.compile(r"^(prepare|grade):")
    summaries = re.compile(rf"^{ASSIGNMENT}: (\d+ submission\(s\) to grade|graded \d+ submission\(s\) in \d+ s"
                           r"|\d+ of \d+ submission\(s\) compared)|.*/index\.html$")
    pairs = [line for line in lines if re.match(r"^  \S+ ~ \S+: ", line)]
    problems = [line for line in lines if re.match(r"^  \S+ / \S+: ", line) and line not in pairs]
    other = [line for line in lines if not (bars.match(line) or summaries.match(line) or line in problems + pairs)]
    assert not other, "\n".join(other)
    assert sorted(problems) == [
        f"  edited / {ASSIGNMENT}.ipynb: test cell test_relu was edited (the instructor's version is graded)",
        f"  sleeper / {ASSIGNMENT}.ipynb: test_relu: cut off after {TIMEOUT} s (timeout)",
    ]
    assert len(pairs) == 1 and pairs[0].startswith("  edited ~ sleeper:")  # both hand in the instructor's code
    report = (course / "build" / "report" / ASSIGNMENT / "index.html").read_text()
    assert "edited and sleeper: side by side" in report
