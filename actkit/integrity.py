"""Grading integrity: every submission is graded right, or its problem is named in one line.

Used by ``actkit-grade`` (:mod:`actkit.grading`) and, through ``nbgrader_config.py``, by
``nbgrader autograde`` itself. The threat model and what each part stops or detects are in
``actkit/SECURITY.md``. Four parts:

1. **Instructor input** (before anything runs): the assignment exists, its source notebook has
   paired markers and points on every test cell, and the gradebook is a healthy SQLite file
   (``PRAGMA integrity_check``). A damaged gradebook stops grading and is never written to.
2. **Preflight** of every submission folder (:func:`preflight`): missing, misnamed, extra, empty,
   invalid-JSON and old-format notebooks; read-only cells deleted, edited or changed in type;
   nbgrader metadata removed; duplicated grade ids; cells reordered; code files shipped along.
   A submission with no readable notebook is recorded with zero points and not executed.
3. **Static scan** (:func:`scan`) of the code a student could have written: patching modules or
   builtins, IPython hooks, tracing, frame and code-object tricks, objects that fake equality or
   arrays, process, file, network and database access. Findings are *flags for manual review*.
4. **Safe execution** (:class:`SafeExecute`, nbgrader's ``Execute`` with the sandbox kernel of
   :mod:`actkit.sandbox`): after every cell it asks the in-kernel guard (:mod:`actkit.guard`) to
   verify and restore the checkers, voids a test cell during which they were changed, recovers
   from a crashed, exited or hung kernel (restart, replay the cells that had run, go on), caps the
   output kept per cell and ignores output tricks inside test cells. :class:`RestoreStructure`
   puts deleted read-only cells back and restores the released cell order before execution.

Everything found is written to ``build/grading/<assignment>/`` (``flags.json`` is what
``actkit.report`` lists) and printed as ``student / notebook: what happened``.

``python -m actkit.integrity check <assignment>`` runs part 1; ``... flags <assignment>`` prints
what the last grading run found.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import re
import secrets
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from queue import Empty

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer

from actkit import sandbox
from actkit.guard import NAME as GUARD_NAME
from actkit.notebooks import MARKER, REPO_ROOT

__all__ = [
    "Problem",
    "RepairCells",
    "RestoreStructure",
    "SafeExecute",
    "check_gradebook",
    "check_instructor_input",
    "preflight",
    "scan",
    "source_problems",
]

INTEGRITY_ERROR = "GradingIntegrityError"


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell) -> bool:
    m = _meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def is_helper_cell(cell) -> bool:
    """A read-only instructor code cell that is not a test (``test_helpers``, setup helpers)."""
    m = _meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("locked")) and not m.get("grade") \
        and not m.get("solution")


def grading_dir(root: Path, assignment: str) -> Path:
    return Path(root) / "build" / "grading" / assignment


@dataclass
class Problem:
    """One line for the instructor: who, which notebook, what happened."""

    student: str
    notebook: str
    message: str
    fatal: bool = False  # nothing of this notebook can be graded (recorded as zero)

    def __post_init__(self):
        message = " ".join(str(self.message).split())  # always one line
        self.message = message if len(message) <= 300 else message[:297] + "..."

    def line(self) -> str:
        return f"{self.student} / {self.notebook}: {self.message}"


# ====================================================================== 1. instructor input

SQLITE_HEADER = b"SQLite format 3\x00"


def check_gradebook(path: Path) -> str | None:
    """What is wrong with a gradebook file, or None if it is a healthy nbgrader gradebook.

    Read-only: the file is opened with ``mode=ro`` and never written, whatever its state.
    """
    path = Path(path)
    if not path.exists():
        return None
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes)"
    with open(path, "rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        return "it is not an SQLite database (wrong file header)"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return f"SQLite cannot open it ({exc})"
    try:
        rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        return f"SQLite cannot read it ({exc})"
    finally:
        db.close()
    if rows != ["ok"]:
        return "PRAGMA integrity_check failed: " + "; ".join(rows[:3])
    missing = {"assignment", "notebook", "grade", "submitted_assignment"} - tables
    if missing:
        return f"it is not an nbgrader gradebook (no table {sorted(missing)[0]!r})"
    return None


def source_problems(nb, label: str = "") -> list[str]:
    """Problems of an instructor's source notebook that would make grading wrong."""
    problems, seen = [], {}
    for index, cell in enumerate(nb.cells):
        m = _meta(cell)
        where = f"{label}cell {index + 1}" + (f" ({m['grade_id']})" if m.get("grade_id") else "")
        if m.get("grade_id"):
            if m["grade_id"] in seen:
                problems.append(f"{where}: grade id {m['grade_id']!r} is used twice")
            seen[m["grade_id"]] = index
        lines = [line.strip() for line in cell.get("source", "").split("\n")]
        for kind in ("SOLUTION", "HIDDEN TESTS"):
            depth = 0
            for line in lines:
                match = MARKER.match(line)
                if not match or match.group(3) != kind:
                    continue
                depth += 1 if match.group(2) == "BEGIN" else -1
                if depth not in (0, 1):
                    break
            if depth != 0:
                problems.append(f"{where}: unpaired ### BEGIN/END {kind} markers")
        if m.get("grade") and not m.get("solution") and cell.get("cell_type") == "code":
            points = m.get("points")
            if not isinstance(points, (int, float)) or points <= 0:
                problems.append(f"{where}: test cell without points")
            if not m.get("locked"):
                problems.append(f"{where}: test cell is not read-only (locked)")
        if m.get("grade") and m.get("solution") and not m.get("points"):
            problems.append(f"{where}: graded answer cell without points")
    return problems


def check_instructor_input(root: Path, assignment: str) -> None:
    """Refuse to grade with a clear ``error:`` message when the instructor's input is wrong."""
    root = Path(root)
    gradebook = root / "gradebook.db"
    damage = check_gradebook(gradebook)
    if damage:
        raise SystemExit(f"error: the gradebook {gradebook} is damaged: {damage}.\n"
                         "Grading stopped and the file was not touched. Restore it from a backup "
                         "(or move it away to start a new one) and grade again.")
    folder = root / "source" / assignment
    available = sorted(p.name for p in (root / "source").iterdir() if p.is_dir()) \
        if (root / "source").is_dir() else []
    if not folder.is_dir():
        raise SystemExit(f"error: no assignment {assignment!r} in {root / 'source'} "
                         f"(available: {', '.join(available) or 'none'})")
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"error: {folder} has no notebook")
    problems = []
    for path in notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # noqa: BLE001 - any unreadable source is reported the same way
            problems.append(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})")
            continue
        problems.extend(source_problems(nb, f"{path.name}: "))
    if problems:
        raise SystemExit("error: the source notebook of {} cannot be graded:\n  {}".format(
            assignment, "\n  ".join(problems)))


# ============================================================================== 2. preflight

def reference_notebooks(root: Path, assignment: str) -> dict[str, NotebookNode]:
    """The released notebooks of an assignment (the student's starting point), by name."""
    refs = {}
    for folder in (Path(root) / "release" / assignment, REPO_ROOT / "release" / assignment):
        for path in sorted(folder.glob("*.ipynb")):
            refs.setdefault(path.stem, nbformat.read(path, as_version=4))
        if refs:
            break
    if not refs:  # no release folder: the source notebook has the same cells and ids
        for path in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
            refs[path.stem] = nbformat.read(path, as_version=4)
    return refs


def read_submission(path: Path) -> tuple[NotebookNode | None, list[str], bool]:
    """(notebook or None, problems, fatal) for one submitted notebook file."""
    raw = path.read_bytes()
    if not raw.strip():
        return None, ["the notebook file is empty (scored 0)"], True
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, ["the notebook file is not text (scored 0)"], True
    except json.JSONDecodeError as exc:
        return None, [f"the notebook is not valid JSON (line {exc.lineno}, column {exc.colno}; scored 0)"], True
    if not isinstance(data, dict) or "nbformat" not in data or not isinstance(data.get("nbformat"), int):
        return None, ["the file is not a Jupyter notebook (no nbformat; scored 0)"], True
    problems = []
    if data["nbformat"] < 4:
        problems.append(f"old notebook format v{data['nbformat']} (converted to v4 for grading)")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any failure to read is the same finding
        return None, [f"the notebook cannot be read ({type(exc).__name__}: {str(exc)[:120]}; scored 0)"], True
    return nb, problems, False


def structure_problems(nb, ref) -> list[str]:
    """How a submission's graded and read-only cells differ from the released notebook."""
    problems = []
    ref_cells = {m["grade_id"]: c for c in ref.cells if (m := _meta(c)).get("grade_id")}
    order = list(ref_cells)
    ids = [m["grade_id"] for c in nb.cells if (m := _meta(c)).get("grade_id")]
    for gid in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"grade id {gid!r} appears {ids.count(gid)} times (nbgrader grades the last one)")
    present = {}
    for c in nb.cells:  # like nbgrader's DeduplicateIds, the last cell with an id is the graded one
        gid = _meta(c).get("grade_id")
        if gid:
            present.pop(gid, None)
            present[gid] = c
    stripped_sources = {c.get("source", "").strip() for c in nb.cells if not _meta(c).get("grade_id")}
    for gid, rc in ref_cells.items():
        rm = _meta(rc)
        kind = "test cell" if rm.get("grade") and not rm.get("solution") else (
            "answer cell" if rm.get("solution") else "read-only cell")
        cell = present.get(gid)
        if cell is None:
            if rc.get("source", "").strip() in stripped_sources and rc.get("source", "").strip():
                problems.append(f"the nbgrader metadata of {kind} {gid} was removed "
                                "(the instructor's cell is graded instead)")
            elif rm.get("solution"):
                problems.append(f"{kind} {gid} was deleted (that answer scores 0)")
            else:
                problems.append(f"{kind} {gid} was deleted (put back for grading)")
            continue
        if cell.get("cell_type") != rc.get("cell_type"):
            problems.append(f"{kind} {gid} was changed from {rc.get('cell_type')} to {cell.get('cell_type')} "
                            "(changed back for grading)")
        if rm.get("locked") and cell.get("source", "").strip() != rc.get("source", "").strip():
            problems.append(f"{kind} {gid} was edited (the instructor's version is graded)")
        m = _meta(cell)
        if rm.get("locked") and not m.get("locked"):
            problems.append(f"{kind} {gid} was unlocked in its metadata (locked again for grading)")
        if rm.get("points") is not None and m.get("points") != rm.get("points"):
            problems.append(f"the points of {gid} were changed (the released points count)")
    seq = [gid for gid in present if gid in ref_cells]
    if seq != sorted(seq, key=order.index):
        kept = _longest_in_order([order.index(gid) for gid in seq])
        moved = [gid for i, gid in enumerate(seq) if i not in kept]
        problems.append(f"cells were reordered ({', '.join(moved[:4])}{'...' if len(moved) > 4 else ''} moved; "
                        "graded in the released order)")
    return problems


def _longest_in_order(values: list[int]) -> set[int]:
    """Positions of a longest increasing subsequence (the cells that did not move)."""
    best: list[list[int]] = []
    for i, v in enumerate(values):
        candidates = [b for b in best if values[b[-1]] < v]
        best.append((max(candidates, key=len) if candidates else []) + [i])
    return set(max(best, key=len)) if best else set()


def preflight(root: Path, assignment: str, student: str) -> list[Problem]:
    """Everything wrong with one student's submission folder, as one Problem per finding."""
    folder = Path(root) / "submitted" / student / assignment
    refs = reference_notebooks(root, assignment)
    found = {p.stem: p for p in sorted(folder.glob("*.ipynb"))} if folder.is_dir() else {}
    problems: list[Problem] = []
    unexpected = [name for name in found if name not in refs]
    for name, ref in refs.items():
        notebook = f"{name}.ipynb"
        if name not in found:
            if unexpected:
                problems.append(Problem(student, notebook, "missing; found {} instead (misnamed? not graded: "
                                        "rename it to {} and grade again; scored 0)".format(
                                            ", ".join(f"{u}.ipynb" for u in unexpected), notebook), fatal=True))
            else:
                problems.append(Problem(student, notebook, "missing from the submission (scored 0)", fatal=True))
            continue
        nb, messages, fatal = read_submission(found[name])
        problems.extend(Problem(student, notebook, msg, fatal=fatal) for msg in messages)
        if nb is None:
            continue
        problems.extend(Problem(student, notebook, msg) for msg in structure_problems(nb, ref))
        problems.extend(Problem(student, notebook, f"flagged for review: {msg}") for msg in scan(nb, ref))
    if any(name in found for name in refs):
        for name in unexpected:
            problems.append(Problem(student, f"{name}.ipynb", "extra notebook (not graded)"))
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".so", ".pth", ".pyc") \
                    and ".ipynb_checkpoints" not in path.parts:
                rel = path.relative_to(folder)
                problems.append(Problem(student, str(rel), "flagged for review: code file handed in with the "
                                        "notebook (importable while grading)"))
    return problems


def gradable(problems: list[Problem], refs: dict) -> bool:
    """Whether at least one expected notebook can be executed."""
    fatal = {p.notebook for p in problems if p.fatal}
    return any(f"{name}.ipynb" not in fatal for name in refs)


def record_zero(root: Path, assignment: str, student: str) -> None:
    """Record a submission with zero autograded points (nothing in it could be graded)."""
    import warnings

    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's notes about nbgrader's session use
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.cell.cell_type == "code" or grade.auto_score is None:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        gb.db.commit()


# ============================================================================ 3. static scan

SUSPICIOUS_MODULES = {
    "os": "operating-system access", "sys": "interpreter internals", "subprocess": "runs programs",
    "socket": "network", "ctypes": "raw memory and C calls", "cffi": "raw memory and C calls",
    "signal": "signal handlers", "threading": "threads", "_thread": "threads",
    "multiprocessing": "processes", "concurrent": "threads or processes", "shutil": "file operations",
    "builtins": "the built-in functions", "importlib": "import machinery", "gc": "the garbage collector",
    "inspect": "frames and source code", "sqlite3": "databases (the gradebook)", "urllib": "network",
    "http": "network", "requests": "network", "pty": "terminals", "resource": "resource limits",
    "mmap": "raw memory", "marshal": "code objects", "types": "code and function objects",
    "IPython": "the IPython shell", "ipykernel": "the kernel", "faulthandler": "crash handling",
    "atexit": "exit handlers", "code": "an interpreter", "codeop": "compiling code", "dis": "bytecode",
    "pickle": "deserialising objects", "tempfile": "files", "glob": "listing files", "pathlib": "files",
    "io": "files and streams", "contextlib": "redirected output", "unittest": "mocking",
    "asyncio": "event loops", "zmq": "kernel sockets", "jupyter_client": "kernel sockets",
    "actkit": None,  # the course's own helpers are fine, except its grading modules (below)
}
GRADING_MODULES = {"actkit.guard", "actkit.integrity", "actkit.sandbox", "actkit.grading", "actkit.notebooks",
                   "nbgrader", "actkit.nbgrader_ext"}
DUNDER_TRICKS = {
    "__eq__": "overrides ==", "__ne__": "overrides !=", "__bool__": "overrides truth",
    "__array__": "pretends to be an array", "__array_ufunc__": "intercepts NumPy functions",
    "__array_function__": "intercepts NumPy functions", "__array_interface__": "pretends to be an array",
    "__array_priority__": "intercepts NumPy operators", "__instancecheck__": "fakes isinstance",
    "__subclasscheck__": "fakes issubclass", "__getattr__": "answers any attribute",
    "__getattribute__": "answers any attribute", "__class__": "fakes its type", "__del__": "runs code when freed",
    "__float__": "fakes a number", "__len__": "fakes a length", "__abs__": "overrides abs",
    "__lt__": "overrides comparisons", "__le__": "overrides comparisons", "__gt__": "overrides comparisons",
    "__ge__": "overrides comparisons", "__hash__": "overrides hashing", "__init_subclass__": "class hooks",
}
SUSPICIOUS_ATTRIBUTES = {
    "__code__": "replaces or reads code objects", "__globals__": "reaches a function's globals",
    "__closure__": "reaches closures", "__builtins__": "reaches the builtins", "__dict__": "edits namespaces",
    "__subclasses__": "walks the class hierarchy", "__bases__": "edits a class hierarchy",
    "__mro__": "walks the class hierarchy", "_getframe": "reads stack frames", "f_back": "reads stack frames",
    "f_locals": "reads stack frames", "f_globals": "reads stack frames", "f_lineno": "jumps in code",
    "f_trace": "traces code", "tb_frame": "reads stack frames", "gi_frame": "reads stack frames",
    "settrace": "traces code (can skip lines)", "setprofile": "profiles calls", "addaudithook": "audit hooks",
    "excepthook": "replaces the exception hook", "displayhook": "replaces the display hook",
    "showtraceback": "hides error messages", "showsyntaxerror": "hides error messages",
    "set_custom_exc": "hides error messages", "events": "IPython event hooks",
    "input_transformers_cleanup": "rewrites later cells", "input_transformers_post": "rewrites later cells",
    "input_transformer_manager": "rewrites later cells", "ast_transformers": "rewrites later cells",
    "run_cell": "reruns or skips cells", "run_code": "reruns or skips cells",
    "register_magic_function": "defines magics", "stderr": "touches the error stream",
    "stdout": "touches the output stream", "modules": "edits loaded modules (sys.modules)",
    "meta_path": "import hooks", "path_hooks": "import hooks", "_exit": "kills the process",
    "fork": "creates processes", "forkpty": "creates processes", "kill": "sends signals",
    "killpg": "sends signals", "system": "runs shell commands", "popen": "runs programs",
    "spawnv": "creates processes", "execv": "replaces the process", "execve": "replaces the process",
    "setrecursionlimit": "changes the interpreter", "seterr": "silences floating-point errors globally",
    "filterwarnings": "changes warning filters", "simplefilter": "changes warning filters",
    "resetwarnings": "changes warning filters", "clear_output": "clears cell output",
    "comm_manager": "kernel comms", "session": "kernel messages", "iopub_socket": "kernel messages",
    "kernel": "the kernel object", "shell_handlers": "kernel message handlers",
    "user_ns": "the notebook namespace", "user_global_ns": "the notebook namespace",
    "get_objects": "walks every object", "get_referrers": "walks every object",
    "string_at": "reads raw memory", "memmove": "writes raw memory", "CDLL": "loads C libraries",
    "pythonapi": "calls CPython internals",
}
SUSPICIOUS_CALLS = {
    "exec": "executes generated code", "eval": "evaluates generated code", "compile": "compiles generated code",
    "__import__": "imports by name", "setattr": "sets attributes by name", "delattr": "deletes attributes",
    "globals": "edits the global namespace", "vars": "edits namespaces", "breakpoint": "starts a debugger",
    "open": "opens files", "get_ipython": "uses the IPython shell", "exit": "stops the kernel",
    "quit": "stops the kernel", "input": "waits for input",
}
SUSPICIOUS_TEXT = [
    (re.compile(r"gradebook|nbgrader", re.I), "mentions the gradebook or nbgrader"),
    (re.compile(r"""['"][^'"\n]*(?:/source/|/submitted/|/autograded/|/feedback/|\.\./)"""),
     "a path into the course directory"),
    (re.compile(GUARD_NAME + r"|actkit\.guard"), "touches the grading guard"),
    (re.compile(r"^\s*[!%]", re.M), "shell commands or magics"),
]


def _module_names(nb) -> set[str]:
    """Names bound to imported modules anywhere in a notebook (``np``, ``math``, ``plt`` ...)."""
    names = set()
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_python_only(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.update(a.asname or a.name for a in node.names)
    return names


def _defined_names(source: str, imports: bool = True) -> set[str]:
    """Names a cell binds at its top level (functions, classes, assignments, and imports if asked)."""
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if imports:
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
    return names


def _python_only(source: str) -> str:
    """The cell source with IPython-only lines (magics, shell escapes) blanked out."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    else:
        return ""
    return ".".join(reversed(parts))


def _flat_targets(targets):
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _flat_targets(target.elts)
        elif isinstance(target, ast.Starred):
            yield from _flat_targets([target.value])
        else:
            yield target


def scan_source(source: str, *, modules: set[str], protected: set[str]) -> list[str]:
    """Suspicious constructs in one cell of student code, as short reasons (with line numbers)."""
    reasons = []

    def add(line: int, text: str) -> None:
        reason = f"line {line}: {text}"
        if reason not in reasons:
            reasons.append(reason)

    for pattern, text in SUSPICIOUS_TEXT:
        for match in pattern.finditer(source):
            add(source.count("\n", 0, match.start()) + 1, text)
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError as exc:
        return reasons + [f"line {exc.lineno}: does not parse as Python ({exc.msg}); cannot be checked"]
    top_level = set(tree.body)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if any(name == g or name.startswith(g + ".") for g in GRADING_MODULES):
                    add(line, f"imports the grading module {name}")
                elif SUSPICIOUS_MODULES.get(top):
                    add(line, f"imports {name} ({SUSPICIOUS_MODULES[top]})")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            verb = "deletes" if isinstance(node, ast.Delete) else "replaces"
            for target in _flat_targets(targets):
                if isinstance(target, ast.Attribute):
                    dotted = _dotted(target)
                    root = dotted.split(".")[0]
                    if root in modules or root in ("builtins", "__builtins__") or "()" in dotted:
                        add(line, f"{verb} {dotted}")
                elif isinstance(target, ast.Name) and target.id in protected and node in top_level:
                    add(line, f"rebinds {target.id!r} (set by the instructor's read-only cells)")
                elif isinstance(target, ast.Subscript) and _dotted(target.value) in ("sys.modules", "__builtins__"):
                    add(line, f"{verb} an entry of {_dotted(target.value)}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in protected and node in top_level:
                add(line, f"redefines {node.name!r} (defined by the instructor's read-only cells)")
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    if _dotted(base).endswith(("ndarray", "float", "int", "np.float64")):
                        add(line, f"class {node.name} subclasses {_dotted(base)} (fake results)")
                for item in node.body:
                    name = getattr(item, "name", None)
                    if isinstance(item, ast.Assign):
                        name = next((t.id for t in item.targets if isinstance(t, ast.Name)), None)
                    if name in DUNDER_TRICKS:
                        add(getattr(item, "lineno", line), f"class {node.name} defines {name} ({DUNDER_TRICKS[name]})")
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES:
            add(line, f"uses {_dotted(node) or node.attr} ({SUSPICIOUS_ATTRIBUTES[node.attr]})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SUSPICIOUS_CALLS:
            add(line, f"calls {node.func.id}() ({SUSPICIOUS_CALLS[node.func.id]})")
        elif isinstance(node, ast.Name) and node.id in ("__builtins__", GUARD_NAME):
            add(line, f"uses {node.id}")
        elif isinstance(node, ast.Global):
            add(line, f"declares global {', '.join(node.names)}")
    return reasons


def scan(nb, ref) -> list[str]:
    """Flags for the student-written code of a submission (cells that are not the instructor's)."""
    ref_locked = {m["grade_id"] for c in ref.cells if (m := _meta(c)).get("locked") and m.get("grade_id")}
    ref_sources = {c.source.strip() for c in ref.cells if c.get("cell_type") == "code" and not _meta(c).get("solution")}
    modules = _module_names(ref) | {"np", "numpy", "math", "builtins", "sys", "os", "warnings", "plt", "tf",
                                    "keras"}
    protected = set()  # what the instructor's read-only helper cells define (check_output, call_strict ...)
    for c in ref.cells:
        if is_helper_cell(c):
            protected |= _defined_names(c.source, imports=False)
    reasons = []
    for index, cell in enumerate(nb.cells):
        m = _meta(cell)
        if cell.get("cell_type") != "code" or not cell.source.strip():
            continue
        if m.get("grade_id") in ref_locked:
            continue  # replaced by the instructor's version before it runs
        if not m.get("solution") and cell.source.strip() in ref_sources:
            continue  # an unchanged instructor cell
        label = f"answer cell {m['grade_id']}" if m.get("solution") and m.get("grade_id") else f"cell {index + 1}"
        for reason in scan_source(cell.source, modules=modules, protected=protected):
            reasons.append(f"{label}, {reason}")
    return reasons


# ===================================================================== 4. restore structure

class RepairCells(NbGraderPreprocessor):
    """Runs instead of nbgrader's ``DeduplicateIds``: deduplicate ids, then undo cell-type changes.

    - Duplicated grade ids: like nbgrader, the last cell with an id keeps it; the other copies lose
      their nbgrader metadata entirely (nbgrader leaves ``{}``, on which its own
      ``OverwriteCells.add_missing_cells`` fails with ``KeyError: 'grade_id'``).
    - A graded or read-only cell whose type was changed (a test cell turned into markdown) gets its
      released type back here, before ``OverwriteCells``: nbgrader's own repair validates against
      the newest notebook schema and fails on this course's nbformat 4.4 notebooks.
    """

    def preprocess(self, nb, resources):
        from nbgrader.preprocessors import DeduplicateIds

        nb, resources = DeduplicateIds(parent=self.parent, config=self.config).preprocess(nb, resources)
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", None) == {}:
                del cell.metadata["nbgrader"]
        info = resources.get("nbgrader", {})
        ref = reference_notebooks(_course_root(self.config), info.get("assignment", "")).get(info.get("notebook", ""))
        if ref is None:
            return nb, resources
        types = {m["grade_id"]: c.cell_type for c in ref.cells if (m := _meta(c)).get("grade_id")}
        for cell in nb.cells:
            want = types.get(_meta(cell).get("grade_id"))
            if want and want != cell.cell_type:
                self.log.warning("Cell %s was changed to %s; changing it back to %s",
                                 _meta(cell)["grade_id"], cell.cell_type, want)
                cell.cell_type = want
                if want == "code":
                    cell.outputs, cell.execution_count = [], None
                else:
                    cell.pop("outputs", None)
                    cell.pop("execution_count", None)
        return nb, resources


def _course_root(config) -> Path:
    try:
        return Path(config.CourseDirectory.root or ".") if "CourseDirectory" in config else Path(".")
    except (AttributeError, TypeError):
        return Path(".")


class RestoreStructure(NbGraderPreprocessor):
    """Put deleted read-only cells back and restore the released order of graded cells.

    Runs while nbgrader sanitises a submission (after ``OverwriteCells``): a student cannot gain by
    deleting the instructor's helper cell or by moving it behind the tests. Cells the student
    added stay right after the graded or read-only cell they followed.
    """

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        refs = reference_notebooks(_course_root(self.config), info.get("assignment", ""))
        ref = refs.get(info.get("notebook", ""))
        if ref is None:
            return nb, resources
        ref_ids = [m["grade_id"] for c in ref.cells if (m := _meta(c)).get("grade_id")]
        ref_cells = {m["grade_id"]: c for c in ref.cells if (m := _meta(c)).get("grade_id")}
        present = {_meta(c).get("grade_id") for c in nb.cells}
        # 1. read-only code cells (helpers) that were deleted: insert after the previous anchored cell
        for gid in ref_ids:
            rc = ref_cells[gid]
            if gid in present or not is_helper_cell(rc):
                continue
            self.log.warning("Read-only cell %s was deleted; putting it back", gid)
            before = ref_ids[: ref_ids.index(gid)]
            position = 0
            for i, c in enumerate(nb.cells):
                if _meta(c).get("grade_id") in before:
                    position = i + 1
            nb.cells.insert(position, nbformat.from_dict(json.loads(json.dumps(rc))))
            present.add(gid)
        # 2. the released order of anchored cells; free cells travel with the anchor before them
        segments, head, seen = [], [], set()
        for cell in nb.cells:
            gid = _meta(cell).get("grade_id")
            if gid in ref_cells and gid not in seen:
                seen.add(gid)
                segments.append((ref_ids.index(gid), [cell]))
            elif segments:
                segments[-1][1].append(cell)
            else:
                head.append(cell)
        order = [s[0] for s in segments]
        if order != sorted(order):
            self.log.warning("Cells were reordered; grading them in the released order")
            segments.sort(key=lambda s: s[0])
            nb.cells = head + [c for _, cells in segments for c in cells]
        return nb, resources


# ========================================================================= 5. safe execution

class SafeExecute(Execute):
    """nbgrader's ``Execute`` in the grading sandbox, with the guard's checks and crash recovery.

    Without the sandbox (``ACTKIT_SANDBOX`` off) it is exactly nbgrader's ``Execute``.
    """

    max_output_bytes = Integer(2_000_000, help="output kept per cell (the rest is dropped)").tag(config=True)
    notebook_timeout = Integer(3600, help="wall-clock budget of one notebook, restarts included").tag(config=True)
    check_timeout = Integer(30, help="seconds the guard may take to answer").tag(config=True)
    max_restarts = Integer(3, help="kernel restarts per notebook after a crash or hang").tag(config=True)

    def __init__(self, **kw):
        if sandbox.enabled():
            kw.setdefault("kernel_manager_class", sandbox.SandboxKernelManager)
            kw.setdefault("kernel_name", sandbox.KERNEL_NAME)
        super().__init__(**kw)

    # ---------------------------------------------------------------- the loop
    def preprocess(self, nb, resources=None, km=None):
        if not sandbox.enabled():
            return super().preprocess(nb, resources, km)
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._findings: list[str] = []
        self._output_bytes: dict[int, int] = {}
        self._truncated: set[int] = set()
        self._tests = {i for i, c in enumerate(nb.cells) if is_test_cell(c)}
        self._restarts = 0
        self._t0 = time.monotonic()
        with self.setup_kernel():
            self._kernel_ready()
            self._run_cells()
        self.set_widgets_metadata()
        self.nb.metadata.setdefault("actkit", {})["integrity"] = {
            "findings": self._findings, "restarts": self._restarts, "sandbox": True}
        self.record(self.nb, resources)
        return self.nb, self.resources

    def _label(self, index: int) -> str:
        cell = self.nb.cells[index]
        m = _meta(cell)
        if index in self._tests:
            return m["grade_id"]
        if m.get("solution") and m.get("grade_id"):
            return f"answer cell {m['grade_id']}"
        if m.get("grade_id"):
            return f"read-only cell {m['grade_id']}"
        return f"cell {index + 1}"

    def _finding(self, index: int, message: str) -> None:
        text = f"{self._label(index)}: {message}"
        if text not in self._findings:
            self._findings.append(text)
            self.log.warning("integrity: %s / %s: %s", self.resources.get("nbgrader", {}).get("student", "?"),
                             self.resources.get("nbgrader", {}).get("notebook", "?"), text)

    @staticmethod
    def _error(cell, message: str) -> None:
        cell.setdefault("outputs", []).append(NotebookNode(
            output_type="error", ename=INTEGRITY_ERROR, evalue=message,
            traceback=[f"{INTEGRITY_ERROR}: {message}"]))

    def _run_cells(self) -> None:
        cells = self.nb.cells
        ran_ok = [False] * len(cells)
        broken = ""
        for index, cell in enumerate(cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if not broken and time.monotonic() - self._t0 > self.notebook_timeout:
                broken = f"not run: the notebook used up its time budget of {self.notebook_timeout} s"
                self._finding(index, broken)
            if broken:
                cell.outputs = []
                self._error(cell, broken)
                continue
            self._last_reply = None
            failure = ""
            try:
                self.execute_cell(cell, index, store_history=True)
            except DeadKernelError:
                failure = "the kernel died while running this cell (crash, exit or memory limit)"
            except CellTimeoutError:
                failure = f"the cell ran longer than {self.timeout} s and ignored the interrupt"
            if not failure:
                timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
                if timed_out:
                    self._finding(index, f"cut off after {self.timeout} s (timeout)")
                problems = self._guard(protect=is_helper_cell(cell), timeout=10 if timed_out else None)
                if problems is None:
                    alive = self.km is not None and run_sync(self.km.is_alive)()
                    failure = ("the kernel died after this cell (exit, crash or memory limit)" if not alive else
                               "the kernel stopped responding after the timeout" if timed_out else
                               "the kernel's integrity check did not answer after this cell")
                else:
                    for problem in problems:
                        self._finding(index, problem)
                    if problems and index in self._tests:
                        self._error(cell, "the grading environment was changed while this test ran; "
                                          "the test scores 0 and the submission is flagged for review")
                    status = (self._last_reply or {}).get("content", {}).get("status")
                    ran_ok[index] = status == "ok" and not timed_out
            if failure:
                self._finding(index, failure)
                self._error(cell, failure + "; the kernel was restarted and the cells before it run again")
                if not self._restart_and_replay(ran_ok, index):
                    broken = "not run: the kernel could not be restarted after a crash or hang"
            if index in self._tests:
                self._harden_test_outputs(index, cell)

    def _harden_test_outputs(self, index: int, cell) -> None:
        """A test cell with an error or stderr output scores 0: no partial-credit result may precede it."""
        outputs = cell.get("outputs", [])
        bad = [i for i, o in enumerate(outputs)
               if o.get("output_type") == "error" or (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        if bad:
            early = [i for i, o in enumerate(outputs[: bad[0]]) if o.get("output_type") == "execute_result"]
            if early:
                self._finding(index, "a score-like result was shown before the test's error (ignored)")
                cell.outputs = [o for i, o in enumerate(outputs) if i not in early]

    # ---------------------------------------------------------------- kernel control
    def _kernel_ready(self) -> None:
        info = self.wait_for_reply(self.kc.kernel_info())
        if info:
            self.nb.metadata["language_info"] = info["content"]["language_info"]
        if self._guard(baseline=True) is None:
            raise RuntimeError("the grading sandbox kernel started without its integrity guard "
                               "(actkit.guard); check `python -m actkit.sandbox check`")

    def _restart_and_replay(self, ran_ok: list[bool], upto: int) -> bool:
        if self._restarts >= self.max_restarts:
            return False
        self._restarts += 1
        self._kill_kernel()
        try:
            self.km = self.create_kernel_manager()
            self.start_new_kernel()
            self.start_new_kernel_client()
            if self._guard(baseline=True) is None:
                return False
            for j in range(upto):
                if not ran_ok[j]:
                    continue
                msg_id = self.kc.execute(self.nb.cells[j].source, store_history=True, allow_stdin=False,
                                         stop_on_error=False)
                if self._reply(msg_id, self.timeout or 240) is None:
                    return False
                if self._guard(protect=is_helper_cell(self.nb.cells[j])) is None:
                    return False
        except Exception as exc:  # noqa: BLE001 - a restart that fails ends the notebook, reported
            self.log.warning("integrity: restarting the kernel failed: %s", exc)
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

    async def _async_reply(self, msg_id: str, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=min(remaining, 2.0))
            except Empty:
                if not await self.kc.is_alive():
                    return None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def _reply(self, msg_id: str, timeout: float):
        try:
            return run_sync(self._async_reply)(msg_id, timeout)
        except (DeadKernelError, asyncio.CancelledError, RuntimeError):
            return None

    def _guard(self, protect: bool = False, baseline: bool = False, timeout: float | None = None) -> list[str] | None:
        """Run the guard's check in the kernel; its problems, or None if it could not answer."""
        nonce = secrets.token_hex(8)
        expression = f"{GUARD_NAME}({nonce!r}, {bool(protect)!r}, {bool(baseline)!r})"
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                                     user_expressions={"guard": expression}, stop_on_error=False)
        except Exception:  # noqa: BLE001 - a dead channel is "no answer"
            return None
        reply = self._reply(msg_id, timeout or self.check_timeout)
        if reply is None:
            return None
        result = reply["content"].get("user_expressions", {}).get("guard", {})
        if result.get("status") != "ok":
            return None
        try:
            data = json.loads(ast.literal_eval(result["data"]["text/plain"]))
        except (KeyError, ValueError, SyntaxError, TypeError):
            return None
        if not isinstance(data, dict) or data.get("nonce") != nonce or not isinstance(data.get("problems"), list):
            return None
        return [str(p)[:300] for p in data["problems"]][:50]

    # ---------------------------------------------------------------- outputs
    def on_cell_executed(self, **kwargs):
        self._last_reply = kwargs.get("execute_reply")
        return super().on_cell_executed(**kwargs)

    def output(self, outs, msg, display_id, cell_index):
        if not sandbox.enabled():
            return super().output(outs, msg, display_id, cell_index)
        content = msg.get("content", {})
        kind = msg.get("msg_type")
        if kind == "stream":
            size = len(content.get("text", ""))
        else:
            size = (sum(len(str(v)) for v in (content.get("data") or {}).values())
                    + len(str(content.get("evalue", "")))
                    + sum(len(str(line)) for line in content.get("traceback", []) or []))
        used = self._output_bytes.get(cell_index, 0) + size
        self._output_bytes[cell_index] = used
        if used <= self.max_output_bytes:
            return self._output_no_hooks(outs, msg, display_id, cell_index)
        if cell_index not in self._truncated:
            self._truncated.add(cell_index)
            self._finding(cell_index, f"more than {self.max_output_bytes} bytes of output (the rest was dropped)")
            note = f"\n[... output cut by the grader after {self.max_output_bytes} bytes ...]\n"
            outs.append(NotebookNode(output_type="stream", name="stdout", text=note))
        if kind == "error":  # keep the error itself (it decides the score), shortened
            content = dict(content, evalue=str(content.get("evalue", ""))[:2000],
                           traceback=[str(t)[:2000] for t in (content.get("traceback") or [])[-20:]])
            outs.append(NotebookNode(output_type="error", ename=content.get("ename", "Error"),
                                     evalue=content["evalue"], traceback=content["traceback"]))
        elif kind == "stream" and content.get("name") == "stderr" and not any(
                o.get("name") == "stderr" for o in outs if o.get("output_type") == "stream"):
            outs.append(NotebookNode(output_type="stream", name="stderr", text="[... stderr output cut ...]\n"))
        return None

    def _output_no_hooks(self, outs, msg, display_id, cell_index):
        """nbclient's ``output`` without output hooks: a widget cannot swallow a test cell's output."""
        parent = msg["parent_header"].get("msg_id")
        if self.output_hook_stack.get(parent):
            if cell_index in self._tests:
                self._finding(cell_index, "an output widget tried to capture the test's output (ignored)")
            self.output_hook_stack[parent] = []
        return super().output(outs, msg, display_id, cell_index)

    def clear_output(self, outs, msg, cell_index):
        if sandbox.enabled() and cell_index in getattr(self, "_tests", set()):
            self._finding(cell_index, "the test's output was cleared while it ran (ignored)")
            return
        return super().clear_output(outs, msg, cell_index)

    # ---------------------------------------------------------------- records
    def record(self, nb, resources) -> None:
        """Write the findings of one executed notebook beside the gradebook (for actkit-grade)."""
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
        target = folder / f"{info['student']}__{info['notebook']}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({"student": info["student"], "notebook": f"{info['notebook']}.ipynb",
                                   **findings}, indent=1))
        tmp.replace(target)


def runtime_findings(root: Path, assignment: str, students: list[str] | None = None) -> list[Problem]:
    """What :class:`SafeExecute` recorded in the last grading run (one Problem per finding)."""
    folder = grading_dir(root, assignment) / "integrity"
    problems = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text())
        if students is not None and data["student"] not in students:
            continue
        for finding in data.get("findings", []):
            problems.append(Problem(data["student"], data["notebook"], finding))
    return problems


def write_flags(root: Path, assignment: str, problems: list[Problem], regraded: list[str]) -> Path:
    """``flags.json`` (student -> lines) for ``actkit.report``; students not regraded keep theirs."""
    path = grading_dir(root, assignment) / "flags.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = json.loads(path.read_text()) if path.is_file() else {}
    for student in regraded:
        flags.pop(student, None)
    for p in problems:
        line = f"{p.notebook}: {p.message}"
        if line not in flags.setdefault(p.student, []):
            flags[p.student].append(line)
    flags = {s: v for s, v in sorted(flags.items()) if v}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(flags, indent=1))
    tmp.replace(path)
    (grading_dir(root, assignment) / "problems.json").write_text(
        json.dumps([asdict(p) for p in problems], indent=1))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actkit.integrity", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "flags", "preflight"])
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "check":
        check_instructor_input(root, args.assignment)
        print(f"{args.assignment}: source notebook and gradebook are fine")
    elif args.command == "preflight":
        students = sorted(p.name for p in (root / "submitted").iterdir() if (p / args.assignment).exists()) \
            if (root / "submitted").is_dir() else []
        for student in students:
            for problem in preflight(root, args.assignment, student):
                print(problem.line())
    else:
        path = grading_dir(root, args.assignment) / "flags.json"
        flags = json.loads(path.read_text()) if path.is_file() else {}
        for student, lines in flags.items():
            for line in lines:
                print(f"{student} / {line}")
        for problem in runtime_findings(root, args.assignment):
            if problem.student not in flags:
                print(problem.line())


if __name__ == "__main__":
    main()
