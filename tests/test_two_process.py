"""The tester and the bridge: what crosses between the student's kernel and the tests, and how.

Unit tests drive a plain kernel with the bridge installed and a Tester in this process; the last
test grades real wrong answers of assignment 01 (from its catalogue) through `nbgrader autograde`,
so the catalogue's input-mutation and overflow mutants are caught through the two-process path too.
"""

from __future__ import annotations

import nbformat
import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

from actkit.grading.tester import Bridge, Tester
from actkit.instructor.notebooks import (
    fresh_course,
    make_submission,
    nbgrader,
    notebook_of,
    read_scores,
    solution_cells,
)
from tests.mutants import a01_activation_basics as catalogue

STUDENT = '''
import numpy as np
import warnings

def shout(x):
    x = np.asarray(x)
    x *= 2                      # changes its input
    return x

def same(x):
    return x

def noisy(x):
    warnings.warn("loud", RuntimeWarning)
    return np.asarray(x, dtype=float) + 1

def fails(x):
    raise ValueError("bad value: " + str(x))

def talks(x):
    print("talking")
    return x + 1

class Thing:
    size = 3
    def __len__(self):
        return 7

thing = Thing()
numbers = {"a": [1, 2.5, None], "b": (np.float32(1.5), np.arange(3))}
'''


def bridged_tester(student: str, setup: str):
    """A student kernel with the grading bridge that ran ``student``, and a tester reaching it through proxies
    (the tester ran ``setup`` first): yields the tester, shuts the kernel down afterwards."""
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive("__import__('actkit.grading.bridge', fromlist=['install']).install()", timeout=60)
        kc.execute_interactive(student, timeout=120)
        info = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in km.get_connection_info().items()}
        t = Tester(Bridge(info))
        t.run(setup, 60)
        yield t
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def tester():
    yield from bridged_tester(STUDENT, "import numpy as np\nimport warnings")


def ok(tester, source):
    answer = tester.run(source, 60)
    assert answer["status"] == "ok", answer["outputs"]
    return answer


def test_data_crosses_as_data(tester):
    ok(tester, "assert type(numbers['b'][0]) is np.float32 and type(numbers['b'][1]) is np.ndarray\n"
               "assert numbers['a'] == [1, 2.5, None] and type(numbers['b']) is tuple")


def test_input_changes_come_back_and_identity_is_kept(tester):
    ok(tester, "x = np.array([1.0, 2.0])\nout = shout(x)\nassert x.tolist() == [2.0, 4.0], x\n"
               "y = np.array([3.0])\nassert same(y) is y")


def test_warnings_are_reissued_and_exceptions_reraised(tester):
    ok(tester, "with warnings.catch_warnings(record=True) as caught:\n    warnings.simplefilter('always')\n"
               "    noisy([1.0])\nassert [w.category for w in caught] == [RuntimeWarning], caught\n"
               "try:\n    fails(3)\nexcept ValueError as exc:\n    assert 'bad value: 3' in str(exc)\n"
               "else:\n    raise AssertionError('no exception')")
    answer = tester.run("noisy([1.0])", 60)  # a warning the test does not catch goes to stderr (scores 0)
    assert any(o.get("name") == "stderr" and "loud" in o["text"] for o in answer["outputs"]), answer


def test_other_objects_are_handles_answering_with_data(tester):
    ok(tester, "assert type(thing).__name__ == 'Remote' and thing.size == 3 and len(thing) == 7\n"
               "assert not isinstance(thing, np.ndarray) and thing != thing.size")


def test_the_tests_own_names_win(tester):
    ok(tester, "def same(x):\n    return 'mine'\n")
    ok(tester, "assert same(1) == 'mine'")


def _until_idle(watcher, msg_id: str) -> list[dict]:
    """What ``watcher`` sees on IOPub until the kernel is idle after the request ``msg_id``."""
    seen = []
    while True:
        msg = watcher.iopub_channel.get_msg(timeout=30)
        seen.append(msg)
        if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                and msg["parent_header"].get("msg_id") == msg_id):
            return seen


def test_requests_skip_the_status_messages_and_prints_keep_their_parent(tester):
    """bridge._direct_dispatch: a request gets no busy/idle status, and what the student's code prints
    during a call goes out with the request as its parent, never into the next cell's output."""
    kc = tester.bridge.kc
    watcher = BlockingKernelClient()
    watcher.load_connection_info(kc.get_connection_info())
    watcher.start_channels(shell=False, iopub=True, stdin=False, hb=False, control=False)
    try:
        while True:  # IOPub is a subscription: wait until the watcher hears a whole request
            msg_id = kc.execute("pass")
            kc.get_shell_msg(timeout=30)
            try:
                _until_idle(watcher, msg_id)
                break
            except Exception:  # noqa: BLE001 - queue.Empty: not connected yet
                continue
        ok(tester, "assert talks(2) == 3")
        msg_id = kc.execute("print('cell')")
        kc.get_shell_msg(timeout=30)
        seen = _until_idle(watcher, msg_id)
    finally:
        watcher.stop_channels()
    replies = [m for m in seen if m["msg_type"] == "comm_msg"]
    assert replies and all(m["parent_header"]["msg_type"] == "comm_msg" for m in replies), seen
    assert not [m for m in seen if m["msg_type"] == "status" and m["parent_header"].get("msg_type") == "comm_msg"]
    talking = [m for m in seen if m["msg_type"] == "stream" and "talking" in m["content"]["text"]]
    assert talking and all(m["parent_header"]["msg_type"] == "comm_msg" for m in talking), seen
    assert [m["content"]["text"] for m in seen if m["msg_type"] == "stream"
            and m["parent_header"].get("msg_id") == msg_id] == ["cell\n"]


def test_catalogue_mutants_are_caught_through_nbgrader(tmp_path):
    """Wrong answers that change their input, overflow (a warning) or mishandle arguments score 0."""
    assignment = "01_activation_basics"
    wanted = {("relu", "modifies input in place"), ("softmax", "in-place shift modifies input"),
              ("sigmoid", "textbook formula overflows"), ("tanh", "exponential quotient overflows")}
    mutants = {m.cell: m.code for m in catalogue.MUTANTS if (m.cell, m.name) in wanted}
    assert len(mutants) == len(wanted), "the catalogue changed: pick its input and overflow mutants again"
    fresh_course(tmp_path, [assignment])
    nbgrader("generate_assignment", assignment, "--force", root=tmp_path)
    released = notebook_of(assignment, "release", tmp_path)
    right = solution_cells(nbformat.read(notebook_of(assignment), as_version=4))
    make_submission(released, tmp_path / "submitted" / "mia" / assignment / released.name,
                    answers={**right, **mutants})
    nbgrader("autograde", assignment, "--create", root=tmp_path)
    cells = {c.grade_id: c for c in read_scores(tmp_path, assignment)["mia"].cells if c.auto}
    for gid, cell in cells.items():
        expected = 0 if gid.removeprefix("test_") in mutants else cell.max_score
        assert cell.score == expected, (gid, cell.score)


def test_a_kernel_that_cannot_start_leaves_nothing_behind(monkeypatch, tmp_path):
    from jupyter_client.provisioning import local_provisioner
    from jupyter_core.utils import run_sync  # as nbclient runs it (an event loop may be running already)

    from actkit.grading import sandbox

    def refuse(*args, **kwargs):
        raise PermissionError("cannot run the kernel's Python")

    monkeypatch.setenv("ACTKIT_SANDBOX_RUNTIME", str(tmp_path))
    monkeypatch.setattr(local_provisioner, "launch_kernel", refuse)
    km = sandbox.SandboxKernelManager()
    with pytest.raises(PermissionError):
        run_sync(km.start_kernel)()
    assert not list(tmp_path.iterdir()), "the kernel's private folder was left behind"


def test_a_machine_that_cannot_sandbox_is_named_in_one_line(monkeypatch):
    from actkit.grading import sandbox

    monkeypatch.setattr(sandbox, "_PROBED", {sandbox.privileged(): "setting up uid map: Permission denied"})
    with pytest.raises(sandbox.SandboxError) as error:
        sandbox.require()
    message = str(error.value)
    assert "\n" not in message and "Permission denied" in message and "ACTKIT_SANDBOX=0" in message


def _printed(answer: dict) -> str:
    return "".join(o.get("text", "") for o in answer["outputs"] if o.get("output_type") == "stream")


def test_each_notebook_gets_a_fresh_tester_forked_from_one_warm_server():
    from actkit.grading.execute import FORK_SERVER, TesterProcess

    first = TesterProcess(None, modules=["fractions"])
    starts = FORK_SERVER.starts
    try:
        answer = first.run("import os, sys\nleft_behind = 1\nprint(os.getpid(), 'fractions' in sys.modules)", 30)
    finally:
        first.close()
    pid, preloaded = _printed(answer).split()
    assert preloaded == "True", "the server loads the modules the read-only cells import before it forks"

    second = TesterProcess(None, modules=["fractions"])
    try:
        answer = second.run("import os\nprint(os.getpid(), 'left_behind' in globals())", 30)
        assert FORK_SERVER.starts == starts, "a notebook importing nothing new reuses the warm server"
        other_pid, leaked = _printed(answer).split()
        assert other_pid != pid and leaked == "False", "every notebook has a tester of its own, with nothing left over"
        with pytest.raises(RuntimeError, match="tester stopped"):
            second.run("import os\nos._exit(3)", 30)  # a tester that dies is the grader's failure, never a score
    finally:
        second.close()

    third = TesterProcess(None, modules=["fractions", "decimal"])
    try:
        answer = third.run("import sys\nprint('decimal' in sys.modules, 'fractions' in sys.modules)", 30)
        assert FORK_SERVER.starts == starts + 1 and _printed(answer).split() == ["True", "True"], \
            "a notebook importing more starts a server with the union"
    finally:
        third.close()


def test_processes_of_one_machine_share_one_warm_server(tmp_path):
    import glob
    import json
    import os
    import socket
    import stat
    import tempfile

    from actkit.grading.execute import ForkServer, tester_environment

    shared, worker = ForkServer(), ForkServer()
    address = shared.share(tester_environment(), ["fractions"])
    try:
        folder = os.path.dirname(address)
        assert address in glob.glob(os.path.join(tempfile.gettempdir(), "actkit-fork-*", "socket")), \
            "where the sandbox test of tests/adversarial.py ('tamper') looks for it"
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, "only the grader's user can reach the socket"
        worker.use(address, ["fractions"])
        with open(tmp_path / "log", "ab") as log:
            forked = [worker.fork({}, ["fractions"], str(tmp_path), log) for _ in range(2)]
        assert all(f is not None for f in forked) and worker.starts == 0, "the worker forks from the shared server"
        forked[0].stdin.write(b'{"connection": null}\n{"source": "import sys\\nprint(\'fractions\' in sys.modules)"}\n')
        forked[0].stdin.flush()
        answer = json.loads(forked[0].channel.makefile("rb").readline())
        assert _printed(answer) == "True\n", "a tester of the shared server has its modules loaded"
        for f in forked:
            f.channel.shutdown(socket.SHUT_WR)  # the tester ends at end of input
            f.wait(timeout=30)
        with open(tmp_path / "log", "ab") as log:
            own = worker.fork(tester_environment(), ["decimal"], str(tmp_path), log)
        assert own is not None and worker.starts == 1, "a notebook importing more gets a server of the worker's own"
        own.channel.shutdown(socket.SHUT_WR)
        own.wait(timeout=30)
    finally:
        worker.close()
        server = shared.proc
        shared.close()
    assert server.returncode == 0 and not os.path.exists(folder), "the server ends and its folder goes with it"
