"""The trusted tester: runs a notebook's test cells in a process of its own.

Started by :class:`actkit.grading.execute.TrustedExecute` once per notebook (``python -m
actkit.grading.tester``) and driven over its stdin/stdout, one JSON line per command: run the
source of a read-only or test cell, answer with the cell's outputs in nbformat. The student's code
never runs here, and hidden tests never leave this process.

A name a cell uses that the tester does not have (the student's functions, arrays, models)
resolves through the student kernel (:mod:`actkit.grading.bridge`, Jupyter comm messages on the
kernel's own channels): data comes back as data (:mod:`actkit.grading.codec`), anything else as a
:class:`Remote` proxy. Calling a proxy sends the arguments to the student kernel (pickled: code of
the instructor's callables may go that way, never the other), brings back the result, copies the
arrays passed in back into the caller's arrays (so tests still see a function that changes its
input), re-issues the Python warnings raised during the call here and re-raises the student's
exception with its type name and message. The tester's NumPy error state applies to the call.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import io
import json
import linecache
import os
import queue
import selectors
import signal
import socket
import sys
import time
import traceback
import uuid
import warnings

import numpy as np

from actkit.grading import derive
from actkit.grading.codec import DecodeError, arrays_in, decode
from actkit.grading.limits import MessageTooLarge, peak_mib, set_memory_ceiling

ALLOWED_DUNDERS = {"__name__", "__qualname__", "__doc__", "__module__"}
STUDENT_RAISED = "(raised by the student's code)"  # = actkit.grading.feedback.STUDENT_RAISED


class StudentCodeTimeout(TimeoutError):
    """The student kernel did not answer in time (the grader interrupts or restarts it)."""


class KernelGone(RuntimeError):
    """The student kernel died while the tester waited for it."""


class Bridge:
    """The tester's client of the student kernel's ``actkit.bridge`` comm."""

    def __init__(self, connection: dict):
        import zmq

        from actkit.grading.limits import BoundedClient

        self.kc = BoundedClient()  # every message read part by part within bounds, before it is parsed
        self.kc.load_connection_info(connection)
        self.kc.start_channels(shell=True, iopub=True, stdin=False, hb=True, control=False)
        self.comm_id = uuid.uuid4().hex
        # only this comm's messages: the kernel's other output (a cell's 100 MB display) is never sent here
        self.kc.iopub_channel.socket.setsockopt(zmq.UNSUBSCRIBE, b"")
        self.kc.iopub_channel.socket.setsockopt(zmq.SUBSCRIBE, f"comm-{self.comm_id}".encode())
        self.deadline = float("inf")
        self.counter = 0
        self.opened = False
        self.state = "ok"  # "busy": a request was left unanswered (interrupt the kernel); "dead": restart it
        self.requests, self.seconds = 0, 0.0  # proxy round trips and their time (for the bench)
        self.refused: list[str] = []  # answers over the bounds in the current cell (one line each for the grader)

    def _send(self, msg_type: str, content: dict, buffers: list | None = None) -> str:
        msg = self.kc.session.msg(msg_type, content)
        self.kc.shell_channel.send(msg) if not buffers else self.kc.session.send(
            self.kc.shell_channel.socket, msg, buffers=buffers)
        return msg["header"]["msg_id"]

    def request(self, payload: dict):
        import cloudpickle

        if self.state != "ok":
            raise StudentCodeTimeout("the student kernel is still busy with an earlier call")
        if not self.opened:
            self._send("comm_open", {"comm_id": self.comm_id, "target_name": "actkit.bridge", "data": {}})
            self.opened = True
        self.counter += 1
        self.requests += 1
        ident = self.counter
        started = time.monotonic()
        blob = cloudpickle.dumps(payload)
        self._send("comm_msg", {"comm_id": self.comm_id, "data": {"id": ident}}, buffers=[blob])
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.state = "busy"
                raise StudentCodeTimeout("the student's code did not finish within the cell's time limit")
            try:
                msg = self.kc.iopub_channel.get_msg(timeout=min(remaining, 1.0))
            except queue.Empty:
                if not self.kc.is_alive():
                    self.state = "dead"
                    raise KernelGone("the student kernel died while running the student's code") from None
                if self.kc.iopub_channel.dropped(after=3):  # alive, but ZeroMQ ended the connection: too large
                    self.state = "dead"  # nothing more comes on it: the grader restarts the kernel
                    self.refused.append(str(MessageTooLarge(0, 0, None)))
                    raise TypeError(f"the student's answer was not read: {self.refused[-1]}") from None
                continue
            except MessageTooLarge as exc:
                self.refused.append(str(exc))
                raise TypeError(f"the student's answer was not read: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - malformed, nested too deeply, not JSON
                raise TypeError(f"the student kernel sent a message that cannot be read ({type(exc).__name__})") \
                    from None
            if msg["msg_type"] != "comm_msg" or msg["content"].get("comm_id") != self.comm_id:
                continue
            data = msg["content"].get("data")
            if type(data) is not dict or data.get("id") != ident:
                continue
            self.seconds += time.monotonic() - started
            return data, msg.get("buffers") or []


class Tester:
    """Runs cells with the instructor's names first and the student's names through the bridge."""

    __test__ = False  # not a pytest class

    def __init__(self, bridge: Bridge | None):
        self.bridge = bridge
        self.namespace = StudentNamespace(self)
        self.namespace["__name__"] = "__main__"
        self.cell_cache: dict = {}
        self.count = 0

    # ------------------------------------------------------------------ answers from the student
    def answer(self, payload: dict, args=()):
        if self.bridge is None:
            raise KernelGone("there is no student kernel")
        reply, buffers = self.bridge.request(payload)
        if reply.get("ok") is not True:
            raise student_exception(reply)
        if reply.get("missing") is True:
            return _MISSING
        try:
            value = decode(reply.get("value"), buffers, self.remote, args)
            if payload["op"] == "call":
                self._copy_back(payload, reply, buffers)
                self._reissue(reply.get("warnings"))
        except DecodeError as exc:
            self.bridge.refused.append(str(exc))
            raise TypeError(f"the student's answer could not be read as data: {exc}") from None
        return value

    def _copy_back(self, payload: dict, reply: dict, buffers: list) -> None:
        mine = arrays_in(list(payload["args"]) + list(payload["kwargs"].values()))
        trees = reply.get("back_trees")
        if type(trees) is not list or len(trees) != len(mine):
            return
        for array, tree in zip(mine, trees, strict=True):
            theirs = decode(tree, buffers, self.remote)
            if type(theirs) is not np.ndarray or not array.flags.writeable:
                continue
            if (theirs.shape, theirs.dtype) != (array.shape, array.dtype):  # x.shape += (1,), x.dtype = ...
                try:  # mirrored as in one process: the same buffer seen with the new dtype and shape
                    if theirs.dtype.itemsize != array.dtype.itemsize or array.size != theirs.size:
                        raise ValueError
                    array.dtype, array.shape = theirs.dtype, theirs.shape
                except (AttributeError, TypeError, ValueError):
                    raise ValueError(f"the function changed an argument in place, from shape {array.shape} and "
                                     f"dtype {array.dtype} to shape {theirs.shape} and dtype {theirs.dtype}") from None
            np.copyto(array, theirs, casting="unsafe")

    @staticmethod
    def _reissue(caught) -> None:
        for item in caught if type(caught) is list else []:
            if type(item) is not dict:
                continue
            category = _builtin_class(item.get("category"), item.get("bases"), Warning, UserWarning)
            # every call's warnings are new ones (no registry), as each call happens anew in the kernel
            warnings.warn_explicit(str(item.get("message", ""))[:2000], category, "<student's code>", 0,
                                   module="student", registry=None)

    def remote(self, kind: str, ident: int, type_name: str, name: str):
        return Remote(self, ident, type_name, name)

    def lookup(self, name: str):
        if name not in self.cell_cache:
            self.cell_cache[name] = self.answer({"op": "lookup", "name": name})
        return self.cell_cache[name]

    # ------------------------------------------------------------------------------ running cells
    def run(self, source: str, timeout: float, name: str = "") -> dict:
        self.count += 1
        self.cell_cache = {}
        if self.bridge is not None:
            self.bridge.deadline = time.monotonic() + timeout
            self.bridge.refused = []
        filename = f"<{name or f'cell {self.count}'}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        outputs: list[dict] = []
        stdout, stderr = _Stream("stdout", outputs), _Stream("stderr", outputs)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        status = "ok"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("default")
                warnings.showwarning = _show_on_stderr  # as in a kernel, whatever the host does with warnings
                self._execute(source, filename, outputs)
        except BaseException as exc:  # noqa: BLE001 - the test's failure is its output
            status = "error"
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            tb = [line for line in tb if "actkit/grading/" not in line or filename in line]
            if _from_student(exc):
                tb.append(STUDENT_RAISED)  # its message is or quotes the student's (feedback.withhold_student_text)
            outputs.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc),
                            "traceback": [line.rstrip("\n") for line in tb]})
        finally:
            sys.stdout, sys.stderr = saved
            if self.bridge is not None:
                self.bridge.deadline = float("inf")
        return {"status": status, "outputs": outputs, "kernel": self.bridge.state if self.bridge else "ok",
                "count": self.count, "requests": self.bridge.requests if self.bridge else 0, "peak_mib": peak_mib(),
                "refused": self.bridge.refused[:5] if self.bridge else [],
                "request_seconds": self.bridge.seconds if self.bridge else 0.0}

    def _execute(self, source: str, filename: str, outputs: list) -> None:
        tree = ast.parse(source, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), self.namespace)  # noqa: S102 - the instructor's own cell
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), self.namespace)  # noqa: S307
            if value is not None:
                outputs.append({"output_type": "execute_result", "execution_count": self.count,
                                "metadata": {}, "data": {"text/plain": repr(value)}})


_MISSING = object()


class StudentNamespace(dict):
    """The tester's globals: its own names first, then the student's (resolved when first used)."""

    def __init__(self, tester: Tester):
        super().__init__()
        self._tester = tester

    def __missing__(self, name: str):
        if name.startswith("__") or hasattr(builtins, name):
            raise KeyError(name)
        value = self._tester.lookup(name)
        if value is _MISSING:
            raise KeyError(name)
        return value


class Remote:
    """An object that lives in the student kernel; every answer about it comes back as data."""

    __slots__ = ("_tester", "_id", "_type", "_name")

    def __init__(self, tester: Tester, ident: int, type_name: str, name: str):
        object.__setattr__(self, "_tester", tester)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_name", name)

    def _ask(self, op: str, **extra):
        return self._tester.answer({"op": op, "h": self._id, **extra})

    def __getattr__(self, name: str):
        if name.startswith("__") and name not in ALLOWED_DUNDERS:
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __setattr__(self, name, value):
        raise AttributeError("objects of the student's kernel cannot be changed by the tests")

    def __call__(self, *args, **kwargs):
        payload = {"op": "call", "h": self._id, "args": args, "kwargs": kwargs, "errstate": np.geterr(),
                   "derive": derive.requested()}  # a hidden test of a derivative: TensorFlow off in the call
        return self._tester.answer(payload, args)

    def __getitem__(self, key):
        return self._ask("getitem", key=key)

    def __len__(self):
        return _typed(self._ask("len"), int, "len()")

    def __iter__(self):
        return iter(_typed(self._ask("list"), list, "iteration"))

    def __array__(self, dtype=None, copy=None):
        array = _typed(self._ask("array"), np.ndarray, "np.asarray()")
        return array.astype(dtype) if dtype is not None else array

    def __bool__(self):
        return _typed(self._ask("bool"), bool, "bool()")

    def __float__(self):
        return _typed(self._ask("float"), float, "float()")

    def __int__(self):
        return _typed(self._ask("int"), int, "int()")

    def __index__(self):
        return _typed(self._ask("index"), int, "an index")

    def __repr__(self):
        text = self._ask("repr")
        return text if type(text) is str else f"<{self._type} in the student kernel>"

    def __str__(self):
        text = self._ask("str")
        return text if type(text) is str else f"<{self._type} in the student kernel>"

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return hash(("remote", self._id))

    def __reduce__(self):
        from actkit.grading import bridge

        return bridge.handle, (self._id,)


def _typed(value, kind, what: str):
    if type(value) is not kind:
        raise TypeError(f"{what} of the student's object did not give a {kind.__name__}")
    return value


def _builtin_class(name, bases, root: type, fallback: type) -> type:
    """The built-in class a student's exception or warning is (or derives from), by name only."""
    names = [name] + (list(bases) if type(bases) is list else [])
    for candidate in names:
        cls = getattr(builtins, candidate, None) if type(candidate) is str else None
        if isinstance(cls, type) and issubclass(cls, root):
            if candidate == name:
                return cls
            return type(str(name)[:100], (cls,), {"__module__": "student"})
    return fallback


def student_exception(reply: dict) -> BaseException:
    """The student's exception, re-created here from its type name, bases and message."""
    name = reply.get("type") if type(reply.get("type")) is str else "Exception"
    cls = _builtin_class(name, reply.get("bases"), BaseException, Exception)
    if cls is Exception and name != "Exception":
        cls = type(name[:100], (Exception,), {"__module__": "student"})
    message = reply.get("message") if type(reply.get("message")) is str else ""
    try:
        exc = cls(message)
    except Exception:  # noqa: BLE001 - exceptions with other constructors
        exc = RuntimeError(f"{name}: {message}")
    exc._student = True
    return exc


def _from_student(exc: BaseException | None) -> bool:
    """Whether an exception is the student's, or was raised while handling one (a checker that wraps the
    student's error in its own message, ``raise AssertionError(f"... raised {error}") from None``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if getattr(exc, "_student", False):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _show_on_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


class _Stream(io.TextIOBase):
    def __init__(self, name: str, outputs: list):
        self.name, self.outputs = name, outputs

    def write(self, text: str) -> int:
        last = self.outputs[-1] if self.outputs else None
        if last and last.get("output_type") == "stream" and last.get("name") == self.name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": self.name, "text": text})
        return len(text)


def serve(inp, out) -> None:
    """Serve the grader: one JSON command per line on ``inp``, one JSON answer per line on ``out``."""
    start = json.loads(inp.readline() or "{}")
    connection = start.get("connection")
    tester = Tester(Bridge(connection) if connection else None)
    for line in inp:
        command = json.loads(line)
        if command.get("op") == "stop":
            break
        if command.get("op") == "reset":  # the grader interrupted the busy kernel: answers flow again
            tester.bridge.state = "ok"
            continue
        answer = tester.run(command["source"], float(command.get("timeout") or 240), str(command.get("name", "")))
        out.write(json.dumps(answer) + "\n")
        out.flush()


def imported_modules(sources) -> list[str]:
    """The modules the instructor's cells import by absolute name (what a warm tester loads first)."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return sorted(names)


# What every tester imports once it starts (the bridge to the student kernel and its pickler): loaded by
# the fork server, so that a forked tester reaches its first test cell without importing anything.
TESTER_MODULES = ["jupyter_client", "cloudpickle"]


def fork_server(control: socket.socket, modules: list[str], listener: socket.socket | None = None) -> None:
    """Load the tester's own modules and ``modules`` once, then fork one tester per request.

    Requests come on ``control`` and, when given, on every connection accepted on ``listener`` (a Unix
    socket in a folder only the grader can open: the workers of a local cluster share one server). A
    request is a JSON line with the tester's working folder and two file descriptors passed with it
    (SCM_RIGHTS): the tester's end of its channel to the grader and its log. The answer, on the same
    connection, is the new tester's pid. Each tester is a fresh copy of this process, which never runs
    a cell itself, so nothing passes from one notebook to the next. Ends when ``control`` is closed.
    """
    for name in TESTER_MODULES + list(modules):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - the cell that imports it reports the error in its tester
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # testers are reaped as they end
    selector = selectors.DefaultSelector()
    for sock in filter(None, (control, listener)):
        selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            if sock is listener:
                with contextlib.suppress(OSError):
                    selector.register(listener.accept()[0], selectors.EVENT_READ)
                continue
            try:
                message, fds, _, _ = socket.recv_fds(sock, 4096, 2)
            except OSError:
                message, fds = b"", []
            if not message or len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                if sock is control:
                    return
                selector.unregister(sock)
                sock.close()
                continue
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    for other in list(selector.get_map().values()):
                        other.fileobj.close()
                    os.dup2(fds[1], 1)
                    os.dup2(fds[1], 2)
                    os.chdir(json.loads(message)["cwd"])
                    with socket.socket(fileno=fds[0]) as channel:
                        serve(channel.makefile("r", encoding="utf-8"), channel.makefile("w", encoding="utf-8"))
                    code = 0
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(OSError):
                sock.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    set_memory_ceiling()  # $ACTKIT_GRADER_MEMORY: a forked tester inherits the server's
    if args[:1] == ["--fork-server"]:  # python -m actkit.grading.tester --fork-server FD MODULES_JSON [LISTEN_FD]
        listener = socket.socket(fileno=int(args[3])) if len(args) > 3 else None
        fork_server(socket.socket(fileno=int(args[1])), json.loads(args[2]), listener)
        return
    channel = sys.stdout
    sys.stdout = sys.stderr  # nothing but answers goes to the grader's pipe
    serve(sys.stdin, channel)


if __name__ == "__main__":
    main()
