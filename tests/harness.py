"""Run a source notebook in one kernel and judge its test cells the way nbgrader does.

``GradingKernel`` executes cells one by one. A test cell *fails* when it raises or writes to
stderr (nbgrader scores both as zero), after dropping TensorFlow log lines with the same pattern
nbgrader's ``IgnorePattern`` uses. The mutation tests run the instructor notebook once, then for
each wrong answer of a catalogue redefine one solution cell, re-run every test cell and restore
the right answer: a wrong answer must make at least one test cell fail.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

from actkit.grading import TF_LOG_PATTERN

IGNORE = re.compile(TF_LOG_PATTERN)


@dataclass
class CellResult:
    ok: bool
    error: str = ""
    stdout: str = ""
    stderr: str = ""
    outputs: list = field(default_factory=list)


@dataclass(frozen=True)
class Mutant:
    """A plausible wrong answer: ``code`` replaces solution cell ``cell``."""

    cell: str
    name: str
    code: str

    def __str__(self) -> str:
        return f"{self.cell}:{self.name}"


class GradingKernel:
    def __init__(self, cwd: Path, timeout: float = 300):
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd))
        self.timeout = timeout

    def run(self, code: str, timeout: float | None = None) -> CellResult:
        result = CellResult(ok=True)

        def hook(msg):
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stderr":
                    result.stderr += content["text"]
                else:
                    result.stdout += content["text"]
            elif kind == "error":
                result.error = f"{content['ename']}: {content['evalue']}"
            elif kind in ("execute_result", "display_data"):
                result.outputs.append(content.get("data", {}))

        reply = self.kc.execute_interactive(code, timeout=timeout or self.timeout, output_hook=hook,
                                            allow_stdin=False)
        stderr = result.stderr if not IGNORE.search(result.stderr) else ""
        result.ok = reply["content"]["status"] == "ok" and not stderr
        if reply["content"]["status"] != "ok" and not result.error:
            result.error = reply["content"].get("ename", "error")
        if stderr and not result.error:
            result.error = "stderr: " + stderr.strip()[:300]
        return result

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def bound_names(code: str) -> set[str]:
    """Names a cell binds at top level (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def nbgrader_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_test_cell(cell) -> bool:
    m = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and m.get("grade") and not m.get("solution")


class MutationRunner:
    """Executes a source notebook once, then judges wrong answers against its test cells."""

    def __init__(self, notebook: Path):
        self.nb = nbformat.read(notebook, as_version=4)
        self.kernel = GradingKernel(notebook.parent)
        self.solutions = {nbgrader_id(c): c.source for c in self.nb.cells
                          if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}
        self.tests = [(nbgrader_id(c), c.source) for c in self.nb.cells if is_test_cell(c)]
        self.others = [c.source for c in self.nb.cells  # cells that are neither answers nor tests (helpers, plots)
                       if c.cell_type == "code" and not is_test_cell(c) and nbgrader_id(c) not in self.solutions]
        self.baseline: dict[str, CellResult] = {}
        self.cell_errors: dict[int, str] = {}  # other cells of the instructor notebook that failed
        self.dirty: str | None = None  # a solution cell whose wrong answer is still defined
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            res = self.kernel.run(cell.source)
            if is_test_cell(cell):
                self.baseline[nbgrader_id(cell)] = res
            elif res.error:  # as nbval-lax judges the instructor notebook: errors, not warnings
                self.cell_errors[index + 1] = res.error

    def failing_tests(self, mutant: Mutant, first_only: bool = False) -> dict[str, str]:
        """grade_id -> reason, for the test cells that fail with the mutant in place.

        With ``first_only`` the test cells that name a function of the mutated cell run first and
        the search stops at the first failure (enough to show a wrong answer loses points). Without it
        (a right answer written differently must pass) only the test cells that ``depend_on`` the
        mutated cell run: the others see exactly what they see with the instructor's answer.
        """
        if mutant.cell not in self.solutions:
            raise KeyError(f"no solution cell {mutant.cell!r}")
        # Restoring a cell can be slow (the exercise cells train models). The previous wrong answer
        # may stay only if this one replaces the same cell and rebinds every name the cell binds.
        if self.dirty and (self.dirty != mutant.cell or not first_only
                           or not bound_names(self.solutions[mutant.cell]) <= bound_names(mutant.code)):
            self.restore()
        defined = self.kernel.run(mutant.code)
        if not defined.ok:
            raise AssertionError(f"mutant {mutant} does not even run: {defined.error}")
        if first_only:
            names = set(re.findall(r"^def (\w+)", self.solutions[mutant.cell], re.M))
            order = sorted(self.tests, key=lambda t: not any(re.search(rf"\b{n}\(", t[1]) for n in names))
        else:
            order = self.depend_on(bound_names(self.solutions[mutant.cell]) | bound_names(mutant.code))
        failing: dict[str, str] = {}
        self.dirty = mutant.cell
        for gid, src in order:
            result = self.kernel.run(src)
            if not result.ok:
                failing[gid] = result.error
                if first_only:
                    break
        if not first_only:
            self.restore()
        return failing

    def depend_on(self, names: set[str]) -> list[tuple[str, str]]:
        """The test cells (grade_id, source) that name one of ``names``, or a name bound by another cell
        (a helper, a plot) that names one of them, and so on, in notebook order."""
        names, grown = set(names), True
        while grown:
            before = len(names)
            for src in self.others:
                if any(re.search(rf"\b{re.escape(n)}\b", src) for n in names):
                    names |= bound_names(src)
            grown = len(names) > before
        return [(gid, src) for gid, src in self.tests if any(re.search(rf"\b{re.escape(n)}\b", src) for n in names)]

    def tests_calling(self, name: str) -> list[tuple[str, str]]:
        """The test cells (grade_id, source) that call ``name``, in notebook order."""
        return [(gid, src) for gid, src in self.tests if re.search(rf"\b{re.escape(name)}\(", src)]

    def passes_as(self, name: str, code: str, timeout: float = 120) -> tuple[bool, str]:
        """Run ``code`` (which rebinds the graded function ``name`` to a candidate answer), then the
        test cells that call ``name``. Returns (True, "") when every one of them passes, else
        (False, the first failure). The instructor's ``name`` is bound again afterwards (only that
        name: ``code`` must not rebind others), so no solution cell is executed again. A test cell
        that runs longer than ``timeout`` seconds is interrupted and counts as failed.
        """
        self.restore()
        saved = f"_harness_saved_{name}"
        assert self.kernel.run(f"{saved} = {name}").ok, f"{name} is not defined"
        try:
            defined = self.kernel.run(code)
            if not defined.ok:
                return False, f"does not run: {defined.error}"
            for gid, src in self.tests_calling(name):
                try:
                    result = self.kernel.run(src, timeout=timeout)
                except TimeoutError:
                    self.kernel.km.interrupt_kernel()
                    self.kernel.run("pass", timeout=60)  # wait until the interrupted cell has stopped
                    return False, f"{gid}: timeout after {timeout:.0f} s"
                if not result.ok:
                    return False, f"{gid}: {result.error}"
            return True, ""
        finally:
            restored = self.kernel.run(f"{name} = {saved}")
            assert restored.ok, restored.error

    def screen(self, name: str, candidates: dict[str, str], timeout: float = 60) -> list[str]:
        """A quick first pass for many candidate answers of the graded function ``name``.

        In one kernel execution, each candidate's ``code`` (which rebinds ``name``) runs, then the
        source of every test cell that calls ``name``, with ``exec`` in the notebook's namespace.
        Returns the labels of the candidates under which nothing raised (each limited to ``timeout``
        seconds). A candidate that raises fails the real test cells too; the survivors still have
        to be judged one by one with ``passes_as`` (which also counts stderr output as a failure).
        """
        self.restore()
        tests = [src for _, src in self.tests_calling(name)]
        code = f"""
import contextlib as _h_cl, io as _h_io, json as _h_json, signal as _h_signal
_h_survivors, _h_saved = [], {name}


def _h_timeout(signum, frame):
    raise TimeoutError("candidate ran too long")


_h_previous = _h_signal.signal(_h_signal.SIGALRM, _h_timeout)
for _h_label, _h_code in {candidates!r}.items():
    try:
        _h_signal.alarm({int(timeout)})
        with _h_cl.redirect_stdout(_h_io.StringIO()), _h_cl.redirect_stderr(_h_io.StringIO()):
            exec(_h_code, globals())
            for _h_src in {tests!r}:
                exec(compile(_h_src, "<test cell>", "exec"), globals())
    except Exception:
        pass
    else:
        _h_survivors.append(_h_label)
    finally:
        _h_signal.alarm(0)
        globals()[{name!r}] = _h_saved
        if "matplotlib.pyplot" in __import__("sys").modules:
            __import__("matplotlib.pyplot").pyplot.close("all")
_h_signal.signal(_h_signal.SIGALRM, _h_previous)
print("SURVIVORS" + _h_json.dumps(_h_survivors))
"""
        result = self.kernel.run(code, timeout=timeout * (len(candidates) + 1))
        assert result.ok, f"the screening cell failed: {result.error}"
        line = next(line for line in result.stdout.splitlines() if line.startswith("SURVIVORS"))
        return json.loads(line.removeprefix("SURVIVORS"))

    def restore(self) -> None:
        """Define the instructor's answer of the mutated cell again."""
        if self.dirty:
            restored = self.kernel.run(self.solutions[self.dirty])
            assert restored.ok, restored.error
            self.dirty = None

    def close(self) -> None:
        self.kernel.close()
