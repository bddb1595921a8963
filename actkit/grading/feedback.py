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

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"

def _last_line(output) -> str:
    evalue = str(output.get("evalue", "")).strip()
    first = evalue.splitlines()[0] if evalue else ""
    return f"{output.get('ename', 'Error')}: {first}" if first else str(output.get("ename", "Error"))


class HideHiddenTests(NbGraderPreprocessor):
    """Strip hidden-test source and the tracebacks that would quote it."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            return cell, resources
        clearer = ClearHiddenTests(enforce_metadata=False)
        clearer._remove_hidden_test_region(cell)
        cell.source = cell.source.rstrip() + "\n# (hidden tests are not shown)"
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [_last_line(output), "(details of hidden tests are not shown)"]
        return cell, resources
