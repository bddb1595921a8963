"""Feedback students can act on: a failing visible check keeps its full message, a failing hidden
check shows only the property it names, and no hidden-test source or expected value is shown."""

from __future__ import annotations

import nbformat

from actkit.grading.feedback import HIDDEN_NOTE, HideHiddenTests

SOURCE = """out = relu([1.0])
np.testing.assert_allclose(out, [1.0])
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(relu([-7.25]), [0.0], err_msg="must be 0 for negative inputs")
assert relu([2.0]) is not None, "must return an array"
### END HIDDEN TESTS
"""
NUMPY_REPORT = ("\nNot equal to tolerance rtol=1e-07, atol=0\nmust be 0 for negative inputs\n"
                "Mismatched elements: 1 / 1 (100%)\n ACTUAL: array([-7.25])\n DESIRED: array([0.])")


def cell_with(evalue: str, line: int | None):
    cell = nbformat.v4.new_code_cell(SOURCE)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_relu", "points": 2, "locked": True,
                                 "solution": False, "schema_version": 3}
    where = [f'  File "<test_relu>", line {line}, in <module>\n'] if line else []
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=evalue,
                                           traceback=["Traceback (most recent call last):\n", *where,
                                                      f"AssertionError: {evalue}"])]
    return HideHiddenTests().preprocess_cell(cell, {}, 0)[0]


def test_visible_failure_keeps_numpy_report():
    report = "\nNot equal to tolerance rtol=1e-07, atol=0\n\nMismatched elements: 1 / 1\n ACTUAL: 2.0\n DESIRED: 1.0"
    cell = cell_with(report, line=2)
    text = "\n".join(cell.outputs[0].traceback)
    assert "ACTUAL: 2.0" in text and "DESIRED: 1.0" in text
    assert "BEGIN HIDDEN" not in cell.source and "-7.25" not in cell.source


def test_hidden_failure_names_the_property_only():
    cell = cell_with(NUMPY_REPORT, line=4)
    text = "\n".join(cell.outputs[0].traceback) + cell.outputs[0].evalue
    assert "-7.25" not in text and "DESIRED" not in text and HIDDEN_NOTE in text
    cell = cell_with("must return an array", line=5)
    assert cell.outputs[0].traceback[0] == "AssertionError: must return an array"


def test_failure_of_unknown_line_is_treated_as_hidden():
    cell = cell_with(NUMPY_REPORT, line=None)
    assert "ACTUAL" not in "\n".join(cell.outputs[0].traceback)
