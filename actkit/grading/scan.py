"""Static scan of a submission: code a reviewer should look at (a review aid, never a score).

The student's code runs in a sandboxed kernel and the tests run in another process, so nothing
found here can change a grade; the scan points a human at submissions that tried to (patched
modules or builtins, IPython hooks, tracing, frame and code-object tricks, objects that fake
equality or arrays, process, file, network and database access). Both grading paths record its
findings as flags.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from actkit.grading.cells import is_helper_cell, meta

__all__ = ["scan", "scan_source"]


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
GRADING_MODULES = {"actkit.grading", "actkit.instructor", "nbgrader"}
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
    (re.compile(r"actkit\.grading|__actkit"), "touches the grading code"),
    (re.compile(r"^\s*[!%]", re.M), "shell commands or magics"),
]


def _module_names(nb) -> frozenset[str]:
    """Names bound to imported modules anywhere in a notebook (``np``, ``math``, ``plt`` ...)."""
    return _imported_names(tuple(c.source for c in nb.cells if c.get("cell_type") == "code"))


@lru_cache(maxsize=32)
def _imported_names(sources: tuple[str, ...]) -> frozenset[str]:
    names = set()
    for source in sources:
        try:
            tree = ast.parse(_python_only(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.update(a.asname or a.name for a in node.names)
    return frozenset(names)


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


def _keras_weights(node: ast.Attribute) -> bool:
    """``layer.kernel`` is a Keras layer's weights; IPython's kernel object is flagged as ``get_ipython().kernel``
    (and ``get_ipython`` on its own wherever it is called)."""
    return node.attr == "kernel" and "get_ipython" not in (_dotted(node) or "")


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
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES and not _keras_weights(node):
            add(line, f"uses {_dotted(node) or node.attr} ({SUSPICIOUS_ATTRIBUTES[node.attr]})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SUSPICIOUS_CALLS:
            add(line, f"calls {node.func.id}() ({SUSPICIOUS_CALLS[node.func.id]})")
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            add(line, f"uses {node.id}")
        elif isinstance(node, ast.Global):
            add(line, f"declares global {', '.join(node.names)}")
    return reasons


def scan(nb, ref) -> list[str]:
    """Flags for the student-written code of a submission (cells that are not the instructor's)."""
    ref_locked = {m["grade_id"] for c in ref.cells if (m := meta(c)).get("locked") and m.get("grade_id")}
    ref_sources = {c.source.strip() for c in ref.cells if c.get("cell_type") == "code" and not meta(c).get("solution")}
    modules = _module_names(ref) | {"np", "numpy", "math", "builtins", "sys", "os", "warnings", "plt", "tf",
                                    "keras"}
    protected = set()  # what the instructor's read-only helper cells define (check_output, call_strict ...)
    for c in ref.cells:
        if is_helper_cell(c):
            protected |= _defined_names(c.source, imports=False)
    reasons = []
    for index, cell in enumerate(nb.cells):
        m = meta(cell)
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


