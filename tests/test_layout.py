"""The student-facing helpers stand alone: they import nothing from the grading side, and
installing actkit for a student pulls no grading dependency (grading is the ``[grading]`` extra)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from actkit.notebooks import REPO_ROOT

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
