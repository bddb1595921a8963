"""Lint of the nbgrader source notebooks: metadata, markers, structure of a course notebook."""

from __future__ import annotations

import ast
import re
import textwrap

import nbformat
import pytest

from actkit.grading import preflight as integrity
from actkit.instructor.notebooks import REPO_ROOT, assignments, notebook_of

ASSIGNMENTS = assignments()
HEADER = nbformat.read(REPO_ROOT / "source" / "header.ipynb", as_version=4)


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def load(assignment):
    return nbformat.read(notebook_of(assignment), as_version=4)


def test_there_are_assignments():
    assert ASSIGNMENTS and "01_activation_basics" in ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_notebook_named_after_the_assignment(assignment):
    assert notebook_of(assignment).stem == assignment


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_ids_unique_and_descriptive(assignment):
    ids = [meta(c)["grade_id"] for c in HEADER.cells + load(assignment).cells if meta(c)]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate grade ids: {duplicates}"
    generic = [i for i in ids if re.fullmatch(r"(cell|test|answer)[-_]?[0-9a-f]*", i)]
    assert not generic, f"grade ids must say what they grade: {generic}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_passes_the_checks_grading_and_release_make(assignment):
    """Paired markers, locked test cells with points, graded answers with points: the checks that
    `make release` and actkit-grade make themselves (actkit.integrity.source_problems)."""
    assert integrity.source_problems(load(assignment)) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_have_visible_and_hidden_tests(assignment):
    nb = load(assignment)
    tests = [c for c in nb.cells if meta(c).get("grade") and not meta(c).get("solution")]
    assert tests
    for c in tests:
        m = meta(c)
        assert c.cell_type == "code", m["grade_id"]
        assert "### BEGIN HIDDEN TESTS" in c.source, f"{m['grade_id']} has no hidden tests"
        assert c.source.strip().split("\n")[0] != "### BEGIN HIDDEN TESTS", f"{m['grade_id']} has no visible test"
    answers = [c for c in nb.cells if meta(c).get("grade") and meta(c).get("solution")]
    for c in answers:
        assert c.cell_type == "markdown", meta(c)["grade_id"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_markers_in_the_right_cells(assignment):
    for c in load(assignment).cells:
        m = meta(c)
        is_test = m.get("grade") and not m.get("solution")
        for kind, allowed in (("SOLUTION", m.get("solution")), ("HIDDEN TESTS", is_test)):
            if not allowed:
                assert f"### BEGIN {kind}" not in c.source and f"### END {kind}" not in c.source, \
                    f"{kind} markers outside a proper cell: {c.source[:80]!r}"
        if m.get("solution"):
            assert "### BEGIN SOLUTION" in c.source, f"solution cell {m['grade_id']} has no SOLUTION region"


def graded_functions(nb):
    """(function node, cell) for every function defined in a solution code cell."""
    for c in nb.cells:
        if c.cell_type == "code" and meta(c).get("solution"):
            for node in ast.parse(c.source).body:
                if isinstance(node, ast.FunctionDef):
                    yield node, c


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_functions_documented_and_tested(assignment):
    nb = load(assignment)
    tests = [c.source for c in nb.cells if meta(c).get("grade") and not meta(c).get("solution")]
    functions = list(graded_functions(nb))
    assert functions
    for node, cell in functions:
        doc = ast.get_docstring(node) or ""
        for part in ("Args", "Returns", "Example"):
            assert part in doc, f"{node.name}: docstring has no {part} section"
        body_lines = cell.source.split("\n")[node.body[0].end_lineno : node.end_lineno]
        assert any("### BEGIN SOLUTION" in line for line in body_lines), f"{node.name}: marker not in body"
        assert any(re.search(rf"\b{node.name}\(", t) for t in tests), f"{node.name} has no test cell"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_test_cell_is_explained(assignment):
    cells = load(assignment).cells
    for i, c in enumerate(cells):
        if meta(c).get("grade") and not meta(c).get("solution"):
            before = cells[i - 1]
            assert before.cell_type == "markdown" and "What the tests check" in before.source, meta(c)["grade_id"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_course_notebook_skeleton(assignment):
    cells = load(assignment).cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    intro = next((c.source for c in cells if "Learning objectives" in c.source), "")
    after = intro.split("Learning objectives", 1)[-1]
    count = len(re.findall(r"^\d+\. ", after, re.M))
    assert 3 <= count <= 5, f"{count} learning objectives"
    for heading in ("## Setup", "## Summary", "## Exercises"):
        assert re.search(rf"^{heading}", text, re.M), f"missing section {heading}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_is_clean_and_python3(assignment):
    nb = load(assignment)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, "commit source notebooks without outputs"
        assert "import *" not in c.source


# --- every hidden assertion names the property it checks ---------------------------------------

HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS[^\n]*\n(.*?)### END HIDDEN TESTS", re.S)
# where NumPy's testing functions take their message as a positional argument
MESSAGE_POSITION = {"assert_allclose": 5, "assert_array_equal": 2, "assert_equal": 2, "assert_array_less": 2,
                    "assert_almost_equal": 3, "assert_array_almost_equal": 3, "assert_approx_equal": 3,
                    "assert_string_equal": 2, "assert_raises": None}


def python_of(source: str) -> str:
    """A cell without IPython magics and shell escapes."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def message_of(node) -> ast.expr | None:
    """The message of an assertion (assert statement, assert_* call or helper call), if it has one."""
    if isinstance(node, ast.Assert):
        return node.msg
    for kw in node.keywords:
        if kw.arg in ("err_msg", "msg", "message"):
            return kw.value
    position = MESSAGE_POSITION.get(callee(node))
    return node.args[position] if position is not None and len(node.args) > position else None


def expected_of(node) -> list[ast.expr]:
    """The expressions an assertion compares against (what its message must not print)."""
    if isinstance(node, ast.Assert):
        if isinstance(node.test, ast.Compare):
            return list(node.test.comparators)
        return []
    return node.args[1:2]


def literal_text(expr: ast.expr) -> str | None:
    try:
        ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return ast.unparse(expr)


def leaks(message: ast.expr, expected: list[ast.expr]) -> str | None:
    """The expected value, if the message prints it: an interpolated expected expression, or the
    literal expected value (at least 4 characters, so that small numbers such as 1 or 0.5 in
    ordinary words do not count) written into the text."""
    text = "".join(n.value for n in ast.walk(message) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    shown = {ast.unparse(n.value) for n in ast.walk(message) if isinstance(n, ast.FormattedValue)}
    for exp in expected:
        source = ast.unparse(exp)
        if source in shown:
            return source
        literal = literal_text(exp)
        if literal and len(literal) >= 4 and literal in text:
            return literal
    return None


def notebook_helpers(nb) -> dict[str, ast.FunctionDef]:
    helpers = {}
    for c in nb.cells:
        if c.cell_type == "code":
            try:
                tree = ast.parse(python_of(c.source))
            except SyntaxError:
                continue
            helpers |= {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    return helpers


def is_assert_call(node) -> bool:
    return isinstance(node, ast.Call) and callee(node).startswith("assert")


def parameters(fn: ast.FunctionDef) -> list[str]:
    return [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def argument(call: ast.Call, fn: ast.FunctionDef, param: str) -> ast.expr | None:
    """The expression a call passes for ``param`` of ``fn`` (by keyword or position), if any."""
    for kw in call.keywords:
        if kw.arg == param:
            return kw.value
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if param in positional and positional.index(param) < len(call.args):
        return call.args[positional.index(param)]
    return None


def helper_call(node, helpers: dict) -> ast.FunctionDef | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return helpers.get(node.func.id)
    return None


def analyse_helper(fn: ast.FunctionDef, helpers: dict, seen: frozenset = frozenset()) -> tuple[bool, set[str]]:
    """(does the helper contain an assertion without any message, the parameters its messages come
    from): a call must then pass one of those parameters, as in ``expect_close(x, y, "property")``."""
    own = set(parameters(fn))
    bare, message_params = False, set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert) or is_assert_call(node):
            message = message_of(node)
            if message is None:
                bare = True
            else:
                message_params |= names_in(message) & own
        elif (inner := helper_call(node, helpers)) is not None and inner.name not in seen | {fn.name}:
            inner_bare, inner_params = analyse_helper(inner, helpers, seen | {fn.name})
            bare |= inner_bare
            given = [e for p in inner_params if (e := argument(node, inner, p)) is not None]
            if inner_params and not given:
                bare = True
            for expr in given:
                message_params |= names_in(expr) & own
    return bare, message_params


def call_message(node, helpers: dict) -> ast.expr | None:
    """The message an assertion or a helper check is given in the test itself."""
    fn = helper_call(node, helpers)
    if fn is None:
        return message_of(node)
    _, params = analyse_helper(fn, helpers)
    given = [e for p in sorted(params) if (e := argument(node, fn, p)) is not None
             and not (isinstance(e, ast.Constant) and e.value is None)]
    return given[0] if given else None


def silent_assertions(tree, helpers: dict) -> list[ast.AST]:
    """The assertions in ``tree`` without a message naming their property, including calls of the
    notebook's helper checks that are given none (or that contain an assertion without one)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) or is_assert_call(node):
            if message_of(node) is None:
                found.append(node)
        elif (fn := helper_call(node, helpers)) is not None:
            bare, params = analyse_helper(fn, helpers)
            if bare or (params and call_message(node, helpers) is None):
                found.append(node)
    return found


def is_check(node, helpers: dict) -> bool:
    if isinstance(node, ast.Assert) or is_assert_call(node):
        return True
    fn = helper_call(node, helpers)
    return fn is not None and bool(analyse_helper(fn, helpers)[1])


def hidden_assertion_problems(nb) -> list[str]:
    problems = []
    helpers = notebook_helpers(nb)
    for c in nb.cells:
        gid = meta(c).get("grade_id", "?")
        for region in HIDDEN_REGION.findall(c.source):
            try:
                tree = ast.parse(textwrap.dedent(region))
            except SyntaxError as error:
                problems.append(f"{gid}: the hidden region does not parse on its own ({error.msg})")
                continue
            local = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}  # checked in place
            outside = {name: fn for name, fn in helpers.items() if name not in local}
            for node in silent_assertions(tree, outside):
                problems.append(f"{gid}: no message: {ast.unparse(node).splitlines()[0][:100]}")
            for node in ast.walk(tree):
                if is_check(node, outside):
                    message = call_message(node, outside)
                    shown = message is not None and leaks(message, expected_of(node))
                    if shown:
                        problems.append(f"{gid}: the message shows the expected value {shown}: "
                                        f"{ast.unparse(node).splitlines()[0][:100]}")
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_hidden_assertion_names_its_property(assignment):
    """A failing hidden test tells the student which property failed (its message), never the
    expected value; `assert x, "msg"`, `err_msg=`/`msg=` of np.testing and of the notebook's helper checks."""
    problems = hidden_assertion_problems(load(assignment))
    assert not problems, "\n".join(problems)


def test_hidden_assertion_check_catches_silent_and_leaking_asserts():
    def nb_with(hidden: str, helper: str = ""):
        cells = [nbformat.v4.new_code_cell(helper)] if helper else []
        test = nbformat.v4.new_code_cell(f"x = 1\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS\n")
        test.metadata["nbgrader"] = {"grade": True, "grade_id": "test_probe", "solution": False, "points": 1}
        return nbformat.v4.new_notebook(cells=[*cells, test])

    good = ('assert f(2) == 4, "f must square its input"\n'
            'np.testing.assert_allclose(f(x), x ** 2, err_msg="f must work elementwise")\n'
            'check(f, msg="f must not change its input")\n'
            'expect(f(x), [1.5, 2.5], "f must honour alpha")\n')
    helper = ("def check(f, msg=''):\n    np.testing.assert_allclose(f(1), 1, err_msg=msg)\n\n\n"
              "def bare(f):\n    assert f(1) == 1\n\n\n"
              "def expect(actual, desired, message):\n    assert np.allclose(actual, desired), message\n")
    assert hidden_assertion_problems(nb_with(good, helper)) == []
    for bad in ("assert f(2) == 4",
                "np.testing.assert_allclose(f(x), x ** 2)",
                "check(f)",
                "bare(f)",
                'expect(f(x), [1.5, 2.5], "f(x) must be [1.5, 2.5]")',
                "expect(f(x), [1.5, 2.5])",
                'assert f(2).shape == (4, 2), "f must keep the shape (4, 2)"',
                'assert f(2) == expected, f"f(2) must be {expected}"',
                'np.testing.assert_allclose(f(x), [1.5, 2.5], err_msg="f(x) must be [1.5, 2.5]")'):
        assert hidden_assertion_problems(nb_with(bad, helper)), f"not caught: {bad}"
