"""The student-facing helpers stand alone: they import nothing from the grading side, and
installing actkit for a student pulls no grading dependency (grading is the ``[grading]`` extra)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from actkit.instructor.notebooks import REPO_ROOT

STUDENT_MODULES = ["actkit.data", "actkit.plotting", "actkit.repro", "actkit.interactive"]


def test_student_modules_import_nothing_from_grading():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in STUDENT_MODULES)
            + "print(sorted(m for m in sys.modules if m.startswith(('actkit.grading', 'nbgrader', 'nbclient'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_grading_dependencies_are_an_extra():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert not {"nbgrader", "nbclient", "cloudpickle", "dask"} & set(project["dependencies"])
    assert "nbgrader" in project["optional-dependencies"]["grading"]
    assert "-e .[grading]" in (REPO_ROOT / "requirements.txt").read_text().splitlines()


def test_the_top_level_is_what_students_import():
    """actkit's top level holds the student modules only; the instructor's tools and the grading side are
    subpackages (issue 27: students see what they import, nothing else)."""
    top = {p.stem for p in (REPO_ROOT / "actkit").glob("*.py")} - {"__init__"}
    packages = {p.name for p in (REPO_ROOT / "actkit").iterdir() if (p / "__init__.py").is_file()}
    assert {f"actkit.{name}" for name in top} == set(STUDENT_MODULES)
    assert packages == {"grading", "instructor"}


def _actkit_imports(path) -> set[str]:
    """The actkit modules a module imports, anywhere in it (inside functions too)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("actkit")}


def test_no_import_circles():
    """No module of actkit imports, directly or through others, a module that imports it back."""
    modules = {".".join(p.relative_to(REPO_ROOT).with_suffix("").parts): p
               for p in (REPO_ROOT / "actkit").rglob("*.py") if p.name != "__init__.py"}
    graph = {name: sorted(m for m in _actkit_imports(path) if m in modules and m != name)
             for name, path in modules.items()}
    state, circles = {}, []

    def visit(name, trail):  # depth first: a module met again while still on the trail closes a circle
        state[name] = "open"
        for other in graph[name]:
            if state.get(other) == "open":
                circles.append(" -> ".join(trail[trail.index(other):] + [other]))
            elif other not in state:
                visit(other, trail + [other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, "\n".join(circles)
