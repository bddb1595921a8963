"""Lectures teach, assignments assess: no lecture function and no actkit function earns a graded cell.

For every graded function (every function defined in a solution cell of a source notebook), every
candidate whose call signature fits (it can be called with the graded function's required
positional arguments, and needs no other argument) is handed in as the answer through the mutation
harness: the graded name is bound to the candidate in the instructor's kernel and the test cells
that call it (visible and hidden) run. None may pass all of them.

Candidates:

- every top-level function of every lecture notebook (notebooks/*.ipynb). It is defined in a
  namespace of its own together with everything it needs from its lecture: all of the lecture's
  imports and, transitively, the top-level definitions and assignments of the names it uses (each
  statement run on its own; one that fails is left out). So a candidate fails on its answers, not
  on a NameError, and the assignment's own variables are never overwritten;
- every public function of the student-facing actkit modules: actkit.data, actkit.plotting,
  actkit.repro and actkit.interactive.

Skipped: the instructor tooling (the actkit.instructor package) and the
actkit.grading package. Students who install the whole course environment can import them, but
they hold no course content, and calling them with a graded function's arguments acts on the course
directory (``release.main()`` regenerates release/, ``site.build_site()`` exports every lecture,
``demo.main()`` grades a demo class, ``notebooks.fresh_course`` deletes a folder).

Cost: the notebooks run once per session and process (the ``runner_for`` fixture of conftest.py,
this test is collected in test_mutants.py, which shares them). All candidates of a graded
function are first screened in one kernel call (``MutationRunner.screen``: a candidate under which
the test cells raise fails them); only the survivors are judged cell by cell as nbgrader would
(``MutationRunner.passes_as``: an error or any stderr output fails a test cell).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import math

import nbformat
import pytest

from actkit.instructor.notebooks import REPO_ROOT, assignments
from tests.disjoint_a34 import ADAPTED_A34

STUDENT_MODULES = ("actkit.data", "actkit.plotting", "actkit.repro", "actkit.interactive")
LECTURES = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


# --- signatures -------------------------------------------------------------------------------

def ast_fits(fn: ast.FunctionDef, k: int) -> bool:
    """Can ``fn`` be called with exactly k positional arguments and nothing else?"""
    a = fn.args
    positional = len(a.posonlyargs) + len(a.args)
    required = positional - len(a.defaults)
    required_kw = sum(1 for d in a.kw_defaults if d is None)
    return required <= k and (k <= positional or a.vararg is not None) and not required_kw


def object_fits(f, k: int) -> bool:
    try:
        inspect.signature(f).bind(*range(k))
    except (TypeError, ValueError):
        return False
    return True


# --- graded functions -------------------------------------------------------------------------

def graded_functions(assignment: str) -> list[tuple[str, int]]:
    """(name, number of required positional arguments) of every function in a solution cell."""
    from actkit.instructor.notebooks import notebook_of

    nb = nbformat.read(notebook_of(assignment), as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    a = node.args
                    found.append((node.name, len(a.posonlyargs) + len(a.args) - len(a.defaults)))
    return found


GRADED = [(assignment, name, k) for assignment in assignments() for name, k in graded_functions(assignment)]


# --- lecture candidates -----------------------------------------------------------------------

def python_of(source: str) -> str:
    """A notebook cell without IPython magics and shell escapes."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def bound(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return set()


def used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def lecture_candidates(path) -> list[tuple[str, ast.FunctionDef, list[str]]]:
    """(name, definition, the statements to run before it) for every top-level function of a lecture."""
    nb = nbformat.read(path, as_version=4)
    statements: list[ast.stmt] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            statements += ast.parse(python_of(cell.source)).body
    imports = [s for s in statements if isinstance(s, (ast.Import, ast.ImportFrom))]
    bindings = [s for s in statements
                if isinstance(s, (ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)) and bound(s)]
    candidates = []
    for fn in (s for s in statements if isinstance(s, ast.FunctionDef)):
        needed, todo, chosen = set(), set(used(fn)), []
        while todo:  # the definitions and assignments of every name used, transitively
            name = todo.pop()
            needed.add(name)
            for stmt in bindings:
                if name in bound(stmt) and stmt is not fn and stmt not in chosen:
                    chosen.append(stmt)
                    todo |= used(stmt) - needed
        # in the lecture's order; training (``.fit(``) is left out: it costs minutes and a graded
        # function gets its model or data as an argument
        context = [s for s in statements if (s in chosen and ".fit(" not in ast.unparse(s)) or s in imports]
        candidates.append((fn.name, fn, [ast.unparse(s) for s in context] + [ast.unparse(fn)]))
    return candidates


LECTURE_CANDIDATES = {path.stem: lecture_candidates(path) for path in LECTURES}


def lecture_answer(name: str, key: str, candidate: str, statements: list[str]) -> str:
    """Kernel code binding ``name`` to a lecture function defined in a namespace of its own (built
    once per kernel and cached under ``key``)."""
    return (
        "import contextlib as _cl, io as _io, warnings as _w\n"
        "_lecture_cache = globals().setdefault('_lecture_cache', {})\n"
        f"if {key!r} not in _lecture_cache:\n"
        "    _ns = _lecture_cache[" + repr(key) + "] = {'__name__': 'lecture'}\n"
        "    with _w.catch_warnings(), _cl.redirect_stdout(_io.StringIO()), _cl.redirect_stderr(_io.StringIO()):\n"
        "        _w.simplefilter('ignore')\n"
        f"        for _stmt in {statements!r}:\n"
        "            try:\n"
        "                exec(_stmt, _ns)\n"
        "            except Exception:\n"
        "                pass\n"
        f"{name} = _lecture_cache[{key!r}][{candidate!r}]\n"
    )


def module_answer(name: str, module: str, candidate: str) -> str:
    return f"import {module} as _candidate_module\n{name} = _candidate_module.{candidate}\n"


def actkit_candidates() -> list[tuple[str, str, object]]:
    found = []
    for module in STUDENT_MODULES:
        mod = importlib.import_module(module)
        for name, obj in vars(mod).items():
            if inspect.isfunction(obj) and obj.__module__ == module and not name.startswith("_"):
                found.append((module, name, obj))
    return found


def candidates_for(k: int) -> list[tuple[str, str]]:
    """(label, kernel code with NAME as placeholder) of every candidate callable with k arguments."""
    out = []
    for lecture, functions in LECTURE_CANDIDATES.items():
        for fname, fn, statements in functions:
            if ast_fits(fn, k):
                label = f"notebooks/{lecture}.ipynb:{fname}"
                out.append((label, ("lecture", fname, statements, label)))
    for module, fname, obj in actkit_candidates():
        if object_fits(obj, k):
            out.append((f"{module}.{fname}", ("module", module, fname)))
    return out


def answer_code(name: str, spec) -> str:
    if spec[0] == "lecture":
        return lecture_answer(name, spec[3], spec[1], spec[2])
    return module_answer(name, spec[1], spec[2])


def test_candidates_are_found():
    """The search sees the lectures and actkit (guards against a test that silently tries nothing)."""
    assert LECTURES, "no lecture notebooks found"
    assert sum(len(f) for f in LECTURE_CANDIDATES.values()) > 0, "no functions found in the lectures"
    assert actkit_candidates(), "no actkit functions found"
    assert GRADED, "no graded functions found"
    assert any(candidates_for(k) for _, _, k in GRADED), "no candidate fits any graded function"


@pytest.mark.parametrize(("assignment", "name", "k"), [pytest.param(*g, id=f"{g[0]}-{g[1]}") for g in GRADED])
def test_no_lecture_or_actkit_function_is_an_answer(runner_for, assignment, name, k):
    runner = runner_for(assignment)
    assert runner.tests_calling(name), f"no test cell calls {name}"
    candidates = {label: answer_code(name, spec) for label, spec in candidates_for(k)}
    survivors = runner.screen(name, candidates)  # one kernel call: drops every candidate that raises
    passing = [label for label in survivors if runner.passes_as(name, candidates[label])[0]]
    assert not passing, f"handed in as {assignment}'s {name}, these pass all of its test cells: {passing}"


def test_lecture_answer_code_defines_the_candidate(tmp_path):
    """The namespace trick binds the lecture's own function, with its helpers and imports."""
    source = ("import math\nSCALE = 2.0\nUNUSED = 1 / 0\n\n\ndef helper(v):\n    return SCALE * v\n\n\n"
              "def double_sin(v):\n    return helper(math.sin(v))\n")
    path = tmp_path / "lecture.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
    (statements,) = [c[2] for c in lecture_candidates(path) if c[0] == "double_sin"]
    assert not any("UNUSED" in s for s in statements), "only the statements the function needs"
    namespace: dict = {}
    exec(lecture_answer("answer", "probe", "double_sin", statements), namespace)
    assert namespace["answer"](0.5) == 2.0 * math.sin(0.5), "the candidate must run with its helpers"
    assert "helper" not in namespace and "SCALE" not in namespace, "helpers must stay in the candidate's namespace"


# --- adapted lecture lines ----------------------------------------------------------------------
# Written by hand from the lectures: each entry is a line (or a few) that a lecture shows, with only
# the adapter a student would add to fit the graded signature (np.asarray in and out, np.moveaxis for
# an axis, a parameter passed through), and the autodiff a lecture demonstrates (tf.GradientTape on
# TensorFlow's own activation). Unlike the functions above, these are not called as-is: they are the
# shortcuts a student copies. None may earn a graded cell: every graded function asks for a step
# beyond what a lecture shows, and A2's derivatives are checked with TensorFlow switched off.

def _answer(signature: str, *body: str) -> str:
    return f"def {signature}:\n" + "".join(f"    {line}\n" for line in body)


_X = "x = np.asarray(x, dtype=float)"
_TAPE = ("t = tf.constant(np.asarray(x, dtype=float))", "with tf.GradientTape() as tape:", "    tape.watch(t)")


def _ret(expression: str) -> str:
    return f"return np.asarray({expression}, dtype=float)"


def _by_tape(signature: str, activation: str) -> str:
    return _answer(signature, *_TAPE, f"    y = {activation}", _ret("tape.gradient(y, t).numpy()"))

ADAPTED: dict[tuple[str, str], dict[str, str]] = {
    ("01_activation_basics", "sigmoid"): {
        "L1 sigmoid_naive": _answer("sigmoid(x, log=False)", _X, _ret("1 / (1 + np.exp(-x))")),
        "L1 sigmoid_ratio": _answer("sigmoid(x, log=False)", _X, "e = np.exp(x)", _ret("e / (1 + e)")),
        "L1 softplus: exp(-softplus(-x))": _answer(
            "sigmoid(x, log=False)", _X, _ret("np.exp(-np.logaddexp(0.0, -x))")),
    },
    ("01_activation_basics", "tanh"): {
        "L1 np.tanh(xs)": _answer("tanh(x)", _ret("np.tanh(np.asarray(x, dtype=float))")),
    },
    ("01_activation_basics", "relu"): {
        "L1 relu_values = np.maximum(xs, 0.0)": _answer("relu(x)", _X, _ret("np.maximum(x, 0.0)")),
    },
    ("01_activation_basics", "leaky_relu"): {
        "L1 np.where(xs >= 0, xs, a * xs)": _answer("leaky_relu(x, alpha=0.01)", _X,
                                                   _ret("np.where(x >= 0, x, alpha * x)")),
    },
    ("01_activation_basics", "elu"): {
        "L1 np.where(xs > 0, xs, np.expm1(xs)) with alpha": _answer(
            "elu(x, alpha=1.0)", _X, _ret("np.where(x > 0, x, alpha * np.expm1(x))")),
    },
    ("01_activation_basics", "softmax"): {
        "L1 softmax with a moveaxis adapter": _answer(
            "softmax(z, axis=-1)", "z = np.moveaxis(np.asarray(z, dtype=float), axis, -1)",
            "e = np.exp(z - z.max(axis=-1, keepdims=True))",
            "return np.moveaxis(e / e.sum(axis=-1, keepdims=True), -1, axis)"),
    },
    ("01_activation_basics", "maxout"): {
        "L1 maxout with a moveaxis adapter": _answer(
            "maxout(z, axis=-1)", _ret("np.max(np.moveaxis(np.asarray(z, dtype=float), axis, -1), axis=-1)")),
    },
    ("02_gradients", "d_sigmoid"): {
        "L1 sigmoid_naive(t) * (1 - sigmoid_naive(t))": _answer(
            "d_sigmoid(x)", _X, "s = 1 / (1 + np.exp(-x))", _ret("s * (1 - s)")),
        "L1 softplus sigmoid, s(1 - s)": _answer(
            "d_sigmoid(x)", _X, "s = np.exp(-np.logaddexp(0.0, -x))", _ret("s * (1 - s)")),
        "L2 GradientTape on tf.nn.sigmoid": _by_tape("d_sigmoid(x)", "tf.nn.sigmoid(t)"),
    },
    ("02_gradients", "d_tanh"): {
        "L1/L2 1 - np.tanh(xs)**2": _answer("d_tanh(x)", _X, _ret("1 - np.tanh(x) ** 2")),
        "L2 GradientTape on tf.math.tanh": _by_tape("d_tanh(x)", "tf.math.tanh(t)"),
    },
    ("02_gradients", "d_relu"): {
        "L1 relu_slopes = np.where(xs > 0, 1.0, 0.0)": _answer(
            "d_relu(x, at_zero=0.0)", _X, _ret("np.where(x > 0, 1.0, 0.0)")),
        "L2 GradientTape on tf.nn.relu": _by_tape("d_relu(x, at_zero=0.0)", "tf.nn.relu(t)"),
    },
    ("02_gradients", "d_elu"): {
        "L1 elu_slopes = np.where(xs >= 0, 1.0, np.exp(xs)) with alpha": _answer(
            "d_elu(x, alpha=1.0)", _X, _ret("np.where(x >= 0, 1.0, alpha * np.exp(x))")),
    },
    ("02_gradients", "d_silu"): {
        "L2 GradientTape on tf.nn.silu": _by_tape("d_silu(x)", "tf.nn.silu(t)"),
        "L2 (interactive) central difference of SiLU": _answer(
            "d_silu(x)", _X, "def silu(t):", "    return t / (1 + np.exp(-t))",
            _ret("(silu(x + 1e-5) - silu(x - 1e-5)) / 2e-5")),
    },
    ("02_gradients", "d_gelu"): {
        "L2 GradientTape on tf.nn.gelu": _answer(
            "d_gelu(x, approximate=False)", *_TAPE, "    y = tf.nn.gelu(t, approximate=approximate)",
            _ret("tape.gradient(y, t).numpy()")),
        "L1/L2 tanh approximation's slope": _answer(
            "d_gelu(x, approximate=False)", _X, "c = np.sqrt(2 / np.pi)", "t = np.tanh(c * (x + 0.044715 * x ** 3))",
            _ret("0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)")),
    },
    ("02_gradients", "softmax_jacobian"): {
        "L2 tape.jacobian of tf.nn.softmax": _answer(
            "softmax_jacobian(z)", "t = tf.constant(np.asarray(z, dtype=float))", "with tf.GradientTape() as tape:",
            "    tape.watch(t)", "    s = tf.nn.softmax(t)", _ret("tape.jacobian(s, t).numpy()")),
    },
    ("02_gradients", "numerical_derivative"): {
        "L2 central difference (f(x + h) - f(x - h)) / (2 * h)": _answer(
            "numerical_derivative(f, x, h=1e-5)", _X, _ret("(f(x + h) - f(x - h)) / (2 * h)")),
    },
    ("02_gradients", "activation_stds"): {
        "L2 deep_network_statistics with 1/n (Glorot) and 2/n (He)": _answer(
            "activation_stds(x, widths, activation, scheme, seed=0)", "if scheme not in ('glorot', 'he'):",
            "    raise ValueError(scheme)", "rng = np.random.default_rng(seed)",
            "a, found = np.asarray(x, dtype=float), []", "for width in widths:", "    n = a.shape[1]",
            "    v = 1 / n if scheme == 'glorot' else 2 / n",
            "    a = activation(a @ rng.normal(scale=np.sqrt(v), size=(n, width)))",
            "    found.append(float(np.std(a)))",
            _ret("found")),
    },
}


ADAPTED |= ADAPTED_A34  # lectures 3 and 4 (tests/disjoint_a34.py)


@pytest.mark.parametrize(("assignment", "name", "label"), [
    pytest.param(a, n, label, id=f"{a}-{n}-{label}") for (a, n), entries in ADAPTED.items() for label in entries])
def test_no_adapted_lecture_line_is_an_answer(runner_for, assignment, name, label):
    runner = runner_for(assignment)
    passes, _ = runner.passes_as(name, ADAPTED[assignment, name][label])
    assert not passes, f"the adapted lecture line {label!r} earns every test cell of {assignment}'s {name}"


def earned_points(notebook, assignment: str) -> tuple[int, int, dict[str, list[str]]]:
    """(points earned, autograded points, function -> the catalogue lines that earn its own test cell) of a
    source notebook, for the catalogue above (the figures of issue 25: run it on an older notebook too)."""
    from pathlib import Path

    from tests.harness import MutationRunner

    nb = nbformat.read(Path(notebook), as_version=4)
    points = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader.get("points", 0) for c in nb.cells
              if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    runner = MutationRunner(Path(notebook))
    earned, winners = 0, {}
    try:
        for (a, name), entries in ADAPTED.items():
            own = f"test_{name}"
            if a != assignment or own not in points:
                continue
            source = dict(runner.tests)[own]
            winners[name] = []
            for label, code in entries.items():
                runner.kernel.run(f"_disjoint_saved = {name}")
                runner.kernel.run(code)
                if runner.kernel.run(source).ok:
                    winners[name].append(label)
                runner.kernel.run(f"{name} = _disjoint_saved")
            earned += points[own] if winners[name] else 0
    finally:
        runner.close()
    return earned, sum(points.values()), winners


if __name__ == "__main__":  # python -m tests.disjoint <source notebook> <assignment>
    import sys

    got, total, by_function = earned_points(sys.argv[1], sys.argv[2])
    for function, labels in by_function.items():
        print(f"{function:22s} earned by: {labels}")
    print(f"{sys.argv[2]}: {got} of {total} autograded points earned by adapted lecture lines and autodiff")
