"""Feedback without hidden tests: the preprocessor ``nbgrader generate_feedback`` runs.

nbgrader's ``generate_feedback`` renders the *autograded* notebook, whose test cells hold the
instructor's full tests, hidden ones included, and whose tracebacks quote the failing lines.
:class:`HideHiddenTests` runs before the HTML export and

- removes every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region from the source;
- replaces the traceback of a failing test cell that had hidden tests by its last line
  (``AssertionError: <message>``), which is written for students and names no test code.

It is enabled in ``nbgrader_config.py``.
"""

from __future__ import annotations

import re

from nbconvert.utils.base import NbConvertBase
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests
from traitlets import List

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NUMPY_REPORT = ("Not equal to tolerance", "Arrays are not", "Items are not equal", "Mismatched elements")
HIDDEN_NOTE = "(details of hidden tests are not shown)"
STUDENT_RAISED = "(raised by the student's code)"  # the tester's last traceback line for a student's exception
STUDENT_WARNING = re.compile(r"^<student's code>:\d+: (\w+): .*$", re.MULTILINE)
WITHHELD = "(the message of your code's error or warning during a test with hidden checks is not shown)"


def hidden_lines(source: str) -> set[int]:
    """Line numbers (from 1) of a cell's hidden-test regions, markers included."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN in line:
            inside = True
        if inside:
            lines.add(number)
        if END in line:
            inside = False
    return lines


def failing_line(output, name: str) -> int | None:
    """The line of the test cell (the tester names it ``<grade_id>``) where the failure started."""
    for entry in output.get("traceback", []):
        found = re.search(rf'File "<{re.escape(name)}>", line (\d+)', ANSI.sub("", str(entry)))
        if found:
            return int(found.group(1))
    return None


def property_message(output) -> str:
    """What a failing hidden check says about the property, never NumPy's actual-versus-desired report."""
    lines = [line.strip() for line in str(output.get("evalue", "")).splitlines() if line.strip()]
    name = output.get("ename", "Error")
    if not lines or lines[0].startswith(NUMPY_REPORT):
        return f"{name}: a hidden check failed"
    return f"{name}: {lines[0]}"


def withhold_student_text(cell) -> None:
    """In a test cell with hidden checks: the messages of the errors the student's code raised in the hidden
    part (and of every warning it issued) are replaced by a note. The tester passed that code the hidden
    checks' arguments: its messages could repeat them (``TrustedExecute`` applies this to every test cell
    it runs, so neither the autograded notebook nor the feedback holds them)."""
    if BEGIN not in cell.get("source", ""):
        return
    hidden = hidden_lines(cell.source)
    name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            output["text"] = STUDENT_WARNING.sub(lambda m: f"{m.group(1)}: {WITHHELD}", str(output.get("text", "")))
        elif output.get("output_type") == "error" and STUDENT_RAISED in output.get("traceback", [])[-1:]:
            line = failing_line(output, name)
            if line is None or line in hidden:
                output["evalue"] = WITHHELD
                output["traceback"] = [f"{output.get('ename', 'Error')}: {WITHHELD}", STUDENT_RAISED]


class HideHiddenTests(NbGraderPreprocessor):
    """Strip hidden-test source; keep what a student can act on.

    A failure in the visible part of a test cell keeps its full message (NumPy's actual-versus-desired
    lines included). A failure inside the hidden region shows only its message, which names the
    property checked, and never NumPy's report with the expected values; a failure whose line is not
    known is treated as hidden.
    """

    # configurable, as in nbconvert: no "Config option `display_data_priority` not recognized" warning
    display_data_priority = List(NbConvertBase.display_data_priority.default()).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            return cell, resources
        hidden = hidden_lines(cell.source)
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        clearer = ClearHiddenTests(enforce_metadata=False)
        clearer._remove_hidden_test_region(cell)
        cell.source = cell.source.rstrip() + "\n# (hidden tests are not shown)"
        for output in cell.get("outputs", []):
            if output.output_type != "error":
                continue
            line = failing_line(output, name)
            if line is not None and line not in hidden:
                output.traceback = [f"{output.ename}: {output.evalue}"]
            else:
                output.evalue = property_message(output).split(": ", 1)[-1]
                output.traceback = [property_message(output), HIDDEN_NOTE]
        return cell, resources
