"""Trusted execution: nbgrader's ``Execute`` with the tests in a process the student never touches.

:class:`TrustedExecute` replaces nbgrader's ``Execute`` in ``nbgrader autograde`` (through
``nbgrader_config.py``) and on ``actkit-grade``'s workers. For one notebook it

- copies the submission's other files (regular files only, no links, size-capped) into a
  throwaway folder and starts the student kernel there, in the sandbox
  (:mod:`actkit.grading.sandbox`) unless it is switched off; only the notebook comes back;
- installs the bridge (:mod:`actkit.grading.bridge`) in that kernel before any student code;
- starts the tester (:mod:`actkit.grading.tester`), a process of the grader's, and runs every cell
  where it belongs: answer and free cells in the student kernel; read-only cells (setup, helpers)
  in both; test cells only in the tester, whose outputs become the cell's outputs, so nbgrader
  scores them as usual and nothing the student's process prints or replies can change a score;
- recovers from a student kernel that crashed, exited or hung (restart, replay the cells that had
  run, go on), keeps at most ``max_output_bytes`` of output per cell, and bounds the notebook's time;
- records what happened (findings) beside the gradebook, for the flags of the report.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum, Integer, List, Unicode

from actkit.grading import sandbox
from actkit.grading.cells import is_helper_cell, is_test_cell, meta, reference_notebooks
from actkit.grading.feedback import withhold_student_text
from actkit.grading.limits import AsyncBoundedClient, MessageTooLarge, peak_mib
from actkit.grading.paths import grading_dir
from actkit.grading.scan import scan
from actkit.grading.tester import imported_modules

__all__ = ["TrustedExecute", "copy_submission"]

GRADING_ERROR = "GradingError"
MAX_COPIED_BYTES = 50 * 2**20
INSTALL_BRIDGE = "__import__('actkit.grading.bridge', fromlist=['install']).install()"


def copy_submission(source: str | Path, target: str | Path, limit: int = MAX_COPIED_BYTES) -> list[str]:
    """Copy the regular files of a submission folder (not notebooks, no links); what was skipped."""
    skipped, total = [], 0
    source = Path(source)
    for folder, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(folder, d)))
        for name in sorted(files):
            path = Path(folder) / name
            rel = path.relative_to(source)
            if name.endswith(".ipynb") or name.startswith("."):
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                skipped.append(f"{rel} (a link or unreadable)")
                continue
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    skipped.append(f"{rel} (not a regular file)")
                    continue
                total += info.st_size
                if total > limit:
                    skipped.append(f"{rel} (over {limit // 2**20} MB in all)")
                    continue
                dest = Path(target) / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(handle.read())
    return skipped


class _Forked:
    """A tester forked by the fork server, with the little of ``subprocess.Popen`` the grader uses."""

    def __init__(self, channel: socket.socket, pid: int):
        self.channel, self.pid = channel, pid
        self.stdin = channel.makefile("wb")
        self.stdout = channel

    def wait(self, timeout: float | None = None) -> int:
        """Until the tester has closed its end (it has ended)."""
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        with selectors.DefaultSelector() as selector:
            selector.register(self.channel, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise subprocess.TimeoutExpired(f"tester {self.pid}", timeout)
                try:
                    if not self.channel.recv(1 << 16):
                        break
                except OSError:
                    break
        with contextlib.suppress(OSError):  # unsent bytes to a tester that has gone
            self.stdin.close()
        self.channel.close()
        return 0

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class ForkServer:
    """One warm tester per grading process: it imports what the instructor's cells import once, then
    forks a fresh tester for every notebook (no state passes between notebooks: each tester is a copy
    of a process that has run no cell). Saves the tester's interpreter start and imports per notebook
    (TensorFlow: 4-5 s of CPU). A notebook importing more starts a new server with the union.

    The processes of one machine can share a server: :meth:`share` starts one that also listens on a
    Unix socket in a folder of its own (mode 0700, outside every sandbox), :meth:`use` makes another
    process fork its testers there (actkit-grade's local workers: one TensorFlow import, not one per
    worker). A notebook importing what the shared server lacks gets a server of its own process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.modules: frozenset[str] = frozenset()
        self.env: dict = {}
        self.folder: str | None = None  # where the socket of a shared server lies
        self.starts = 0

    def fork(self, env: dict, modules: list[str], cwd: str, log) -> _Forked | None:
        """A new tester, or None when no server can be had (the caller starts one the plain way)."""
        with self.lock:
            try:
                shared = self.control is not None and self.proc is None
                if not self.modules.issuperset(modules) or not shared and (
                        self.proc is None or self.proc.poll() is not None or env != self.env):
                    self._start(env, self.modules.union(modules) if env == self.env else frozenset(modules))
                grader_end, tester_end = socket.socketpair()
                try:
                    socket.send_fds(self.control, [json.dumps({"cwd": cwd}).encode()],
                                    [tester_end.fileno(), log.fileno()])
                finally:
                    tester_end.close()
                reply = self.control.makefile("rb").readline()
                return _Forked(grader_end, int(json.loads(reply)["pid"]))
            except (OSError, ValueError, KeyError):
                self.close()
                return None

    def share(self, env: dict, modules: list[str]) -> str:
        """Start a server other processes of this user can fork testers from; the address to :meth:`use`."""
        with self.lock:
            folder = tempfile.mkdtemp(prefix="actkit-fork-")  # 0700: no other user, no sandbox
            address = os.path.join(folder, "socket")
            try:
                with socket.socket(socket.AF_UNIX) as listener:
                    listener.bind(address)
                    listener.listen(64)
                    self._start(env, frozenset(modules), listener)
            finally:
                self.folder = folder  # removed by close()
            return address

    def use(self, address: str, modules: list[str]) -> None:
        """Fork testers from the server :meth:`share` started at ``address``, which has loaded ``modules``."""
        with self.lock:
            self.close()
            control = socket.socket(socket.AF_UNIX)
            try:
                control.connect(address)
            except OSError:
                control.close()
                return
            self.control, self.modules, self.env = control, frozenset(modules), {}

    def _start(self, env: dict, modules: frozenset[str], listener: socket.socket | None = None) -> None:
        self.close()
        ours, theirs = socket.socketpair()
        listening = [listener.fileno()] if listener is not None else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actkit.grading.tester", "--fork-server", str(theirs.fileno()),
             json.dumps(sorted(modules)), *map(str, listening)], pass_fds=[theirs.fileno(), *listening], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
        theirs.close()
        self.control, self.modules, self.env = ours, modules, env
        self.starts += 1

    def close(self) -> None:
        if self.control is not None:
            self.control.close()  # the server ends at end of file (a shared one: when its starter closes)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.proc = self.control = self.folder = None
        self.modules = frozenset()


FORK_SERVER = ForkServer()
atexit.register(FORK_SERVER.close)


def _work_folder() -> str:
    """A throwaway folder for one notebook's kernel (its working directory, bound into the sandbox)."""
    work = tempfile.mkdtemp(prefix="actkit-work-", dir=os.environ.get("ACTKIT_SANDBOX_RUNTIME"))
    os.chmod(work, 0o755)
    return work


def _kernel_key(client) -> tuple:
    """What a kernel is started with: a spare kernel serves only a notebook that would start the same."""
    name = client.kernel_name or client.nb.metadata.get("kernelspec", {}).get("name", "")
    arguments = tuple(a for a in client.extra_arguments if not a.startswith("--HistoryManager.hist_file="))
    return client.kernel_manager_class, name, arguments


def _preload_argument(modules: list[str]) -> str:
    """IPython's start-up lines that import ``modules`` and bind no name (nothing a notebook could see)."""
    return f"--IPKernelApp.exec_lines=__m = [__import__(m) for m in {sorted(modules)!r}]; del __m"


class SpareKernel:
    """actkit-grade's workers: the next notebook's kernel, started while this notebook runs.

    A worker executes one notebook after another, so the next kernel can boot (interpreter, IPython,
    the sandbox, and the modules this notebook's read-only cells import, which the next notebook of
    the same assignment imports first thing) while the current notebook's cells run, instead of
    between notebooks. The spare kernel is a fresh process in a fresh, empty folder that has run no
    student code; it is given to exactly one notebook, whose files are then copied into its folder,
    and never reused.
    """

    def __init__(self):
        self.km = self.work = self.key = None

    def start(self, client, modules: list[str]) -> None:
        """Start a kernel like ``client``'s (kernel manager class, kernel, arguments) that imports ``modules``."""
        self.discard()
        work = _work_folder()
        km = client.kernel_manager_class(kernel_name=_kernel_key(client)[1], config=client.config)
        arguments = list(client.extra_arguments) + ([_preload_argument(modules)] if modules else [])
        try:  # client's arguments already hold nbclient's history file argument (it started client's kernel)
            run_sync(km.start_kernel)(extra_arguments=arguments, cwd=work)
        except Exception:  # noqa: BLE001 - no spare: the next notebook starts its kernel itself
            self.km, self.work = km, work
            self.discard()
            return
        self.km, self.work, self.key = km, work, _kernel_key(client)

    def take(self, client) -> tuple | None:
        """The spare kernel and its folder for ``client``'s notebook, or None (none, dead or unlike)."""
        km, work, key = self.km, self.work, self.key
        if km is None:
            return None
        self.km = self.work = None
        if key == _kernel_key(client) and run_sync(km.is_alive)():
            return km, work
        self.km, self.work = km, work
        self.discard()
        return None

    def discard(self) -> None:
        km, work = self.km, self.work
        self.km = self.work = None
        if km is not None:
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


SPARE_KERNEL = SpareKernel()
atexit.register(SPARE_KERNEL.discard)


def tester_environment() -> dict:
    """The environment of a tester: the grader's, with this copy of actkit first on the path."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                      env.get("PYTHONPATH")]))
    return env


def warm_up(modules: list[str], address: str | None = None) -> None:
    """Before a grading worker's first notebook: connect this process to the fork server shared at
    ``address`` (see :meth:`ForkServer.share`) or, without one, start this process's own now."""
    if address is not None:
        FORK_SERVER.use(address, modules)
        return
    with tempfile.TemporaryDirectory(prefix="actkit-warm-") as folder, open(os.path.join(folder, "log"), "ab") as log:
        forked = FORK_SERVER.fork(tester_environment(), modules, folder, log)
        if forked is not None:  # a tester that ends at once: the server has loaded everything
            forked.channel.shutdown(socket.SHUT_WR)
            forked.wait(timeout=120)


class TesterProcess:
    """The grader's end of one tester process (JSON lines over its stdin/stdout)."""

    def __init__(self, connection: dict | None, timeout_margin: float = 30, modules: list[str] | None = None):
        self.folder = tempfile.mkdtemp(prefix="actkit-tester-")
        self.margin = timeout_margin
        self.connection = connection
        self.modules = modules  # None: a plain process per notebook; a list: forked by FORK_SERVER
        self.replay: list[str] = []
        self.pending: list[tuple[str, float]] = []
        self.failed: list[str] = []
        self._start()

    def _start(self) -> None:
        env = tester_environment()
        self.log = open(os.path.join(self.folder, "tester.log"), "ab")  # noqa: SIM115 - closed in close()
        forked = FORK_SERVER.fork(env, self.modules, self.folder, self.log) if self.modules is not None else None
        self.proc = forked or subprocess.Popen(
            [sys.executable, "-m", "actkit.grading.tester"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, cwd=self.folder, env=env)
        self.buffer = b""
        self.pending = []
        self._write({"connection": self.connection})

    def _write(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def _read(self, timeout: float, idle=None) -> dict | None:
        """The tester's next answer; ``idle()`` is called every 0.1 s while it is awaited."""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if not selector.select(min(remaining, 0.1) if idle else remaining):
                    if idle:
                        idle()
                        continue
                    return None
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    return None
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def submit(self, source: str, timeout: float) -> None:
        """Send a read-only cell without waiting: the tester runs it while the student kernel goes on."""
        self.replay.append(source)
        try:
            self._write({"op": "run", "source": source, "timeout": timeout})
            self.pending.append((source[:60], timeout))
        except (OSError, ValueError):
            self.pending.append((source[:60], 0))

    def failed_helpers(self) -> list[str]:
        """Read the answers of the read-only cells sent so far; the first error line of each that failed."""
        failed = []
        while self.pending:
            _, timeout = self.pending.pop(0)
            try:
                answer = self._read(timeout + self.margin) if timeout else None
            except (OSError, ValueError):
                answer = None
            if answer is None or answer.get("status") != "ok":
                failed.append(_first_error(answer or {}) if answer else "the tester did not answer")
        return failed

    def run(self, source: str, timeout: float, name: str = "", idle=None) -> dict:
        """Run a test cell in the tester (tracebacks name it ``<name>``); the grader's failure raises."""
        self.failed = self.failed_helpers()
        try:
            self._write({"op": "run", "source": source, "timeout": timeout, "name": name})
            answer = self._read(timeout + self.margin, idle)
        except (OSError, ValueError):
            answer = None
        if answer is None:  # the grader's own failure: no score is better than a wrong one
            raise RuntimeError(f"the tester stopped while running a test cell: {self.tail()[-600:]}")
        return answer

    def reset(self) -> None:
        """The busy student kernel was interrupted: let the tester ask it again."""
        self._write({"op": "reset"})

    def reconnect(self, connection: dict | None) -> None:
        """A new student kernel: a new tester with the same read-only cells run again."""
        self.connection = connection
        self.restart()

    def restart(self) -> None:
        self._stop()
        self._start()
        for source in self.replay:
            self._write({"op": "run", "source": source, "timeout": 240})
            self.pending.append((source[:60], 240))

    def _stop(self) -> None:
        try:
            self._write({"op": "stop"})
            self.proc.wait(timeout=5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def tail(self) -> str:
        try:
            return Path(self.folder, "tester.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _connection(km) -> dict | None:
    if km is None:
        return None
    info = km.get_connection_info()
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in info.items()}


class TrustedExecute(Execute):
    """nbgrader's ``Execute``; the student's cells in the (sandboxed) kernel, the tests in the tester."""

    max_output_bytes = Integer(2_000_000, help="output kept per cell (the rest is dropped)").tag(config=True)
    max_notebook_output_bytes = Integer(20_000_000, help="output kept per notebook (each nested dict or list "
                                                         "counts 64 bytes)").tag(config=True)
    notebook_timeout = Integer(3600, help="wall-clock budget of one notebook, restarts included").tag(config=True)
    max_restarts = Integer(3, help="kernel restarts per notebook after a crash or hang").tag(config=True)
    warm_tester = Bool(True, help="fork each notebook's tester from a process that has imported what the "
                                  "read-only cells import (False: start a new interpreter)").tag(config=True)
    tester_modules = List(Unicode(), help="modules the warm tester also imports (actkit-grade: those of every "
                                          "assignment of the run, so one server serves them all)").tag(config=True)
    spare_kernel = Bool(False, help="start the next notebook's kernel, with read-only imports loaded (see "
                                    "spare_imports), while this one runs (actkit-grade's workers, which execute "
                                    "one notebook after another)").tag(config=True)
    start_spare = Bool(True, help="with spare_kernel: start a spare kernel for the next notebook (False: none "
                                  "follows on this worker; a spare started before is still used)").tag(config=True)
    spare_imports = List(Unicode(), allow_none=True, default_value=None,
                         help="what the spare kernel imports (None: this notebook's read-only imports; "
                              "actkit-grade: what the notebooks likely to come next on this worker all "
                              "import)").tag(config=True)
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate",
                           help="how the student's kernel ends after its notebook: killed at once (its folder is "
                                "thrown away; a graceful shutdown would run the student's exit handlers)",
                           ).tag(config=True)

    def __init__(self, **kw):
        if sandbox.enabled():
            sandbox.ensure_installed()  # the kernel spec names this copy of the launcher
            kw.setdefault("kernel_manager_class", sandbox.SandboxKernelManager)
            kw.setdefault("kernel_name", sandbox.KERNEL_NAME)
        super().__init__(**kw)

    # ---------------------------------------------------------------- the loop
    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient

        refused = nb.metadata.get("actkit", {}).get("refused")  # preflight.RefusedAsReleased: nothing to run
        if refused:
            for cell in nb.cells:
                if is_test_cell(cell):
                    cell.outputs = []
                    self._error(cell, f"not graded: {refused}")
            return nb, resources
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._findings: list[str] = []
        self._output_bytes: dict[int, int] = {}
        self._truncated: set[int] = set()
        self._tests = {i for i, c in enumerate(nb.cells) if is_test_cell(c)}
        self._tester_peak = 0.0
        self._restarts = 0
        self._t0 = time.monotonic()
        metadata = self.resources.setdefault("metadata", {})
        submission = metadata.get("path") or "."
        origin = self._submitted_folder() or submission
        spare = SPARE_KERNEL.take(self) if self.spare_kernel else None
        if spare is not None:  # nbclient uses it and shuts it down as if it had started it
            self.km, work = spare
            self.owns_km = True
        else:
            work = _work_folder()
        self._tester = None
        self.timing = {"tester start": 0.0, "test cells": 0.0, "proxy calls": 0, "proxy seconds": 0.0}
        try:
            for skipped in copy_submission(origin, work):
                self._finding(None, f"file not given to the kernel: {skipped}")
            for reason in self._scan():
                self._finding(None, f"flagged for review: {reason}")
            metadata["path"] = work
            with self.setup_kernel():
                self._kernel_ready()
                helper_imports = imported_modules(c.source for c in nb.cells if is_helper_cell(c))
                if self.spare_kernel and self.start_spare:
                    SPARE_KERNEL.start(self, helper_imports if self.spare_imports is None else self.spare_imports)
                started = time.perf_counter()
                modules = sorted(set(helper_imports) | set(self.tester_modules)) if self.warm_tester else None
                self._tester = TesterProcess(_connection(self.km), modules=modules)
                self.timing["tester start"] = time.perf_counter() - started
                self._run_cells()
        finally:
            metadata["path"] = submission
            if self._tester is not None:
                self._tester.close()
            if spare is not None and self.km is spare[0]:  # given a spare kernel, stopped before it was used
                with contextlib.suppress(Exception):
                    run_sync(self.km.shutdown_kernel)(now=True)
            shutil.rmtree(work, ignore_errors=True)
        self.set_widgets_metadata()
        self.nb.metadata.setdefault("actkit", {})["integrity"] = {
            "findings": self._findings, "restarts": self._restarts, "sandbox": sandbox.enabled(),
            "peak_mib": {"grader": peak_mib(), "tester": self._tester_peak}}
        self.nb.metadata["actkit"]["timing"] = {k: round(v, 3) for k, v in self.timing.items()}
        self.record(self.nb, resources)
        return self.nb, self.resources

    def _scan(self) -> list[str]:
        """The static scan, when nbgrader grades in this process (actkit-grade scans in its preflight)."""
        info = self.resources.get("nbgrader", {})
        try:
            root = Path(self.config.CourseDirectory.root)
        except (AttributeError, TypeError):
            return []
        ref = reference_notebooks(root, str(info.get("assignment", ""))).get(str(info.get("notebook", "")))
        return scan(self.nb, ref) if ref is not None and info.get("student") else []

    def _submitted_folder(self) -> Path | None:
        """The student's own folder in ``submitted/`` (nbgrader's copy in ``autograded/`` follows links)."""
        info = self.resources.get("nbgrader", {})
        try:
            root = Path(self.config.CourseDirectory.root)
        except (AttributeError, TypeError):
            return None
        folder = root / "submitted" / str(info.get("student", "")) / str(info.get("assignment", ""))
        return folder if info.get("student") and info.get("assignment") and folder.is_dir() else None

    def _label(self, index: int | None) -> str:
        if index is None:
            return "submission"
        m = meta(self.nb.cells[index])
        if index in self._tests:
            return m["grade_id"]
        if m.get("solution") and m.get("grade_id"):
            return f"answer cell {m['grade_id']}"
        if m.get("grade_id"):
            return f"read-only cell {m['grade_id']}"
        return f"cell {index + 1}"

    def _finding(self, index: int | None, message: str) -> None:
        text = message if index is None else f"{self._label(index)}: {message}"
        if text not in self._findings:
            self._findings.append(text)
            info = self.resources.get("nbgrader", {})
            self.log.warning("%s / %s: %s", info.get("student", "?"), info.get("notebook", "?"), text)

    @staticmethod
    def _error(cell, message: str) -> None:
        cell.setdefault("outputs", []).append(NotebookNode(
            output_type="error", ename=GRADING_ERROR, evalue=message, traceback=[f"{GRADING_ERROR}: {message}"]))

    def _run_cells(self) -> None:
        """Every cell of the student kernel first, in order, then the test cells in the tester.

        Nothing the tester sends into the kernel (the tests' arguments, hidden ones included) can
        reach a cell's output: no cell runs in the kernel after the first test has called into it.
        The tests see the kernel as the whole notebook left it (a test cell sees names defined
        after it; honest notebooks do not rebind the graded names).
        """
        cells = self.nb.cells
        ran_ok = self._ran_ok = [False] * len(cells)
        order = [i for i in range(len(cells)) if i not in self._tests] + sorted(self._tests)
        broken = ""
        for index in order:
            cell = cells[index]
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if not broken and time.monotonic() - self._t0 > self.notebook_timeout:
                broken = f"not run: the notebook used up its time budget of {self.notebook_timeout} s"
                self._finding(index, broken)
            if broken:
                cell.outputs = []
                self._error(cell, broken)
                continue
            if index in self._tests:
                if not self._run_test(index, cell):
                    broken = "not run: the kernel could not be restarted after a crash or hang"
                continue
            failure = ""
            try:
                self.execute_cell(cell, index, store_history=True)
                if self._iopub_dropped():  # the kernel answered, but ZeroMQ ended IOPub: a part too large
                    raise MessageTooLarge(0, 0, None)
                ran_ok[index] = True
            except DeadKernelError:
                failure = "the kernel died while running this cell (crash, exit or memory limit)"
            except CellTimeoutError as exc:
                failure = f"the cell ran longer than {self.timeout} s and ignored the interrupt"
                if self._iopub_dropped():  # nbclient's IOPub timeout: what ZeroMQ refused never came
                    failure = str(MessageTooLarge(0, 0, None))
                elif "IOPub" in str(exc):  # the reply came, its output not within nbclient's iopub_timeout
                    failure = "the kernel's output did not arrive in time (a flood, or a message too large to read)"
            except MessageTooLarge as exc:
                failure = str(exc)
            except Exception as exc:  # noqa: BLE001 - a message nbclient cannot read (nested too deeply, ...)
                failure = f"the kernel sent a message the grader cannot read ({type(exc).__name__})"
            if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
                self._finding(index, f"cut off after {self.timeout} s (timeout)")
                ran_ok[index] = False
                if not failure and not self._responsive():
                    failure = "the kernel stopped responding after the timeout"
            if failure:
                self._finding(index, failure)
                self._error(cell, failure + "; the kernel was restarted and the cells before it run again")
                if not self._restart_and_replay(ran_ok, index):
                    broken = "not run: the kernel could not be restarted after a crash or hang"
                continue
            if is_helper_cell(cell):
                self._tester.submit(cell.source, self.timeout or 240)

    def _run_test(self, index: int, cell) -> bool:
        """Run a test cell in the tester; False when the student kernel could not be brought back."""
        started = time.perf_counter()
        answer = self._tester.run(cell.source, self.timeout or 240, meta(cell).get("grade_id", ""),
                                  idle=self._drain)
        self._tester_peak = max(self._tester_peak, float(answer.get("peak_mib") or 0))
        for refused in answer.get("refused") or []:
            self._finding(index, f"the student's answer was refused: {refused}")
        self.timing["test cells"] += time.perf_counter() - started
        self.timing["proxy calls"] = answer.get("requests", 0)  # counted by the tester since it started
        self.timing["proxy seconds"] = answer.get("request_seconds", 0.0)
        for error in self._tester.failed:
            self._finding(index, f"an instructor's read-only cell failed in the tester before this test: {error}")
        cell.outputs = [NotebookNode(o) for o in answer.get("outputs", [])]
        withhold_student_text(cell)  # what the student's code raised or warned during a hidden check
        cell.execution_count = self.code_cells_executed = (self.code_cells_executed or 0) + 1
        state = answer.get("kernel")
        if state == "ok":
            return True
        if state == "busy":
            self._finding(index, f"cut off after {self.timeout} s (timeout)")
            if self._responsive():
                self._tester.reset()
                return True
            self._finding(index, "the student's code ignored the interrupt; the kernel was restarted")
        elif not answer.get("refused"):  # (refused: a message too large ended the connection, said above)
            self._finding(index, "the kernel died while running this cell (crash, exit or memory limit)")
        return self._restart_and_replay(self._ran_ok, len(self.nb.cells))

    # ---------------------------------------------------------------- kernel control
    async def async_start_new_kernel_client(self):
        """nbclient's, with a client whose every socket and channel is bounded (:mod:`actkit.grading.limits`)
        and no stdin channel (never read: what the kernel sent there would pile up)."""
        self.km.client_factory = AsyncBoundedClient
        kc = await super().async_start_new_kernel_client()
        kc.stdin_channel.close()
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _iopub_dropped(self) -> bool:
        """ZeroMQ ended the IOPub connection of a kernel that is still alive (a part over its limit)."""
        try:
            return self.kc.iopub_channel.dropped() and run_sync(self.km.is_alive)()
        except Exception:  # noqa: BLE001 - no client or kernel: not this
            return False

    def _drain(self) -> None:
        """Read (and drop) what the kernel publishes while the tester calls into it: nothing of it belongs
        to a cell, and a flood left unread would pile up in this process."""
        from queue import Empty

        for _ in range(1000):
            try:
                run_sync(self.kc.iopub_channel.get_msg)(timeout=0)
            except Empty:
                return
            except MessageTooLarge:
                continue
            except Exception:  # noqa: BLE001 - a dead channel, an unreadable message
                return

    async def _async_handle_timeout(self, timeout: int, cell=None):
        """nbclient's, without its two ERROR lines per timeout: the timeout becomes one finding (_run_cells)."""
        if not self.interrupt_on_timeout:
            return await super()._async_handle_timeout(timeout, cell)
        await ensure_async(self.km.interrupt_kernel())
        return {"content": {**self.error_on_timeout, "status": "error"}} if self.error_on_timeout else None

    def _kernel_ready(self) -> None:
        info = self.wait_for_reply(self.kc.kernel_info())
        if info:
            self.nb.metadata["language_info"] = info["content"]["language_info"]
        if not self._silent(INSTALL_BRIDGE, 60):
            content = (self._last_silent or {}).get("content", {})
            raise RuntimeError("the student kernel started without the grading bridge (actkit.grading.bridge: "
                               f"{content.get('ename', 'no answer')}: {content.get('evalue', '')}); "
                               "check `python -m actkit.grading.sandbox check`")

    def _silent(self, code: str, timeout: float) -> bool:
        self._last_silent = None
        try:
            msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False, stop_on_error=False)
        except Exception:  # noqa: BLE001 - a dead channel
            return False
        reply = self._last_silent = self._reply(msg_id, timeout)
        return reply is not None and reply["content"].get("status") == "ok"

    def _responsive(self) -> bool:
        try:
            run_sync(self.km.interrupt_kernel)()
        except Exception:  # noqa: BLE001
            return False
        return self._silent("pass", 10)

    def _restart_and_replay(self, ran_ok: list[bool], upto: int) -> bool:
        if self._restarts >= self.max_restarts:
            return False
        self._restarts += 1
        self._kill_kernel()
        try:
            self.km = self.create_kernel_manager()
            self.start_new_kernel()
            self.start_new_kernel_client()
            if not self._silent(INSTALL_BRIDGE, 60):
                return False
            for j in range(upto):
                if j < len(ran_ok) and ran_ok[j] and j not in self._tests:
                    if not self._silent(self.nb.cells[j].source, self.timeout or 240):
                        self.log.info("replaying cell %d after a restart failed", j + 1)
            self._tester.reconnect(_connection(self.km))
        except Exception as exc:  # noqa: BLE001 - a restart that fails ends the notebook, reported
            self.log.warning("restarting the kernel failed: %s", exc)
            return False
        return True

    def _kill_kernel(self) -> None:
        try:
            if self.km is not None:
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - it is dead already
            pass
        try:
            self._cleanup_kernel()
        except Exception:  # noqa: BLE001
            self.kc = self.km = None

    def _reply(self, msg_id: str, timeout: float):
        from queue import Empty

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                msg = run_sync(self.kc.shell_channel.get_msg)(timeout=min(remaining, 0.2))
            except (Empty, TimeoutError):
                if not run_sync(self.kc.is_alive)():
                    return None
                self._drain()  # no cell reads IOPub during a silent execution
                continue
            except Exception:  # noqa: BLE001 - a dead channel
                return None
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    # ---------------------------------------------------------------- outputs
    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        kind = msg.get("msg_type")
        size = _weight(content.get("text", "") if kind == "stream" else
                       [content.get("data"), content.get("evalue"), content.get("traceback")],
                       self.max_notebook_output_bytes)
        self._output_bytes[-1] = self._output_bytes.get(-1, 0) + size  # the whole notebook
        if self._output_bytes[-1] > self.max_notebook_output_bytes:
            size = self.max_output_bytes + 1  # nothing more is kept in any cell
        used = self._output_bytes.get(cell_index, 0) + size
        self._output_bytes[cell_index] = used
        if used <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if cell_index not in self._truncated:
            self._truncated.add(cell_index)
            self._finding(cell_index, f"more than {self.max_output_bytes} bytes of output (the rest was dropped)")
            note = f"\n[... output cut by the grader after {self.max_output_bytes} bytes ...]\n"
            outs.append(NotebookNode(output_type="stream", name="stdout", text=note))
        return None

    # ---------------------------------------------------------------- records
    def record(self, nb, resources) -> None:
        """Write the findings of one executed notebook beside the gradebook (for the flags)."""
        info = (resources or {}).get("nbgrader", {})
        findings = nb.metadata.get("actkit", {}).get("integrity")
        if not info.get("student") or findings is None:
            return
        try:
            root = Path(self.config.CourseDirectory.root)
        except (AttributeError, TypeError):
            return
        if not str(root) or str(root) == "." or not root.is_dir():
            return
        folder = grading_dir(root, info["assignment"]) / "integrity"
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / f"{info['student']}__{info['notebook']}.json",
                     json.dumps({"student": info["student"], "notebook": f"{info['notebook']}.ipynb", **findings},
                                indent=1))


def _weight(value, limit: int) -> int:
    """What an output costs the grader: its characters, and 64 for each dict or list (JSON data that is
    small as text can be large in memory); counting stops past ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            total += 64 + sum(len(k) for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            total += 64
            stack.extend(item)
        else:
            total += 16
    return total


def write_atomic(path: Path, text: str) -> None:
    """Write through a new file and rename it over ``path``: a link at ``path`` is replaced, never followed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _first_error(answer: dict) -> str:
    for out in answer.get("outputs", []):
        if out.get("output_type") == "error":
            lines = str(out.get("evalue") or "").splitlines()
            return f"{out.get('ename')}: {lines[0][:200] if lines else ''}"
    return "stderr output"
