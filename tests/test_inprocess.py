"""actkit.grading.inprocess: what nbgrader builds once per run inside actkit-grade changes nothing it decides."""

from __future__ import annotations

import jsonschema
import pytest
import sqlalchemy
from nbformat.v4 import new_code_cell
from nbgrader import api
from nbgrader.nbgraderformat import MetadataValidator, common

from actkit.grading import inprocess


def broken_cell():
    cell = new_code_cell("assert True")
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": True, "solution": False, "locked": True,
                                 "grade_id": "test_x", "points": "two"}  # points must be a number
    return cell


def test_metadata_errors_are_the_same_with_one_validator():
    with pytest.raises(jsonschema.ValidationError) as plain:
        MetadataValidator().validate_cell(broken_cell())
    with inprocess.shared():
        with pytest.raises(jsonschema.ValidationError) as shared:
            MetadataValidator().validate_cell(broken_cell())
        MetadataValidator().validate_cell(new_code_cell("x = 1"))  # no nbgrader metadata: nothing to check
    assert str(shared.value) == str(plain.value), "the same error for the same broken metadata"


def test_gradebooks_share_an_engine_and_a_new_gradebook_still_gets_its_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with inprocess.shared():
        with api.Gradebook(url) as first:
            first.add_student("s1")
        with api.Gradebook(url) as second:
            assert second.engine is first.engine, "one engine per gradebook in a run"
            assert [s.id for s in second.students] == ["s1"], "what one gradebook wrote, the next one reads"
    with api.Gradebook(url) as after:
        assert after.engine is not first.engine, "outside the run every gradebook has its own engine again"
        assert [s.id for s in after.students] == ["s1"]
    assert api.create_engine is sqlalchemy.create_engine and common.jsonschema is jsonschema, \
        "nbgrader is as it ships after the run"
    assert "create_all" not in vars(api.Base.metadata), "nbgrader's table creation is its own again"
