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


def test_instructor_cells_are_read_once_and_a_missing_one_every_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with api.Gradebook(url) as gb:
        gb.add_assignment("a1")
        gb.add_notebook("nb", "a1")
        gb.add_source_cell("test_x", "nb", "a1", cell_type="code", locked=True, source="assert f(1) == 2",
                           checksum="c0ffee")
        gb.add_grade_cell("test_x", "nb", "a1", max_score=2.0, cell_type="code")
        plain = gb.find_source_cell("test_x", "nb", "a1").to_dict()
    selects: list[str] = []

    def record(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    with inprocess.shared():
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", record)
        try:
            for _ in range(3):  # three submissions, each with gradebooks of its own
                with api.Gradebook(url) as gb:
                    source = gb.find_source_cell("test_x", "nb", "a1")
                    graded = gb.find_graded_cell("test_x", "nb", "a1")
                    with pytest.raises(api.MissingEntry):
                        gb.find_source_cell("test_y", "nb", "a1")
        finally:
            sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    assert {k: getattr(source, k) for k in ("name", "cell_type", "locked", "source", "checksum")} == {
        k: plain[k] for k in ("name", "cell_type", "locked", "source", "checksum")}, "the gradebook's columns"
    assert graded.max_score == 2.0 and graded.name == "test_x"
    assert sum("FROM source_cell " in q for q in selects) == 1 + 3, "test_x read once, the missing test_y every time"
    assert sum("JOIN grade_cells" in q for q in selects) == 1, "a graded cell read once"
    assert api.Gradebook.find_source_cell.__qualname__ == "Gradebook.find_source_cell", "nbgrader's own after the run"
    with api.Gradebook(url) as gb:
        assert isinstance(gb.find_source_cell("test_x", "nb", "a1"), api.SourceCell)
