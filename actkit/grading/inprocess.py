"""What grading a whole class in one process lets nbgrader build once instead of once per object.

nbgrader is written for one command per submission. Each :class:`nbgrader.api.Gradebook` it opens
(about fourteen per autograded notebook: sanitising, saving grades, late penalties, ...) creates
a new SQLAlchemy engine, so no compiled statement is ever reused, and checks that every table
exists; each cell's metadata check first validates the JSON schema itself
(``jsonschema.validate``). ``actkit-grade`` runs nbgrader's autograde for a whole class in one
process, and :func:`shared` builds those once per run:

- one engine per database URL (``Gradebook.close`` disposes of its connections as before; the
  engine and its statement cache stay for the next ``Gradebook``);
- the tables are created, when missing, the first time an engine is used;
- one validator per schema; the validation and its errors are ``jsonschema.validate``'s;
- the instructor's cells of the gradebook (``find_source_cell``, ``find_graded_cell``: the released
  source, checksum, lock and points of each cell), read once per run instead of once per cell and
  submission, two or three times over (sanitising, restoring untouched cells and ``OverwriteCells``
  each look every cell up). Autograding never changes them, so each is handed out as a copy of its
  columns, the same for every submission; a cell that is not in the gradebook is looked up (and
  missing) every time.

The checks and what nbgrader decides are unchanged; only the grading process uses this
(``nbgrader autograde`` on its own is left as nbgrader ships it).
"""

from __future__ import annotations

import contextlib
import json
from types import SimpleNamespace

__all__ = ["shared"]

INSTRUCTOR_CELLS = ("find_source_cell", "find_graded_cell")  # Gradebook lookups of what generate_assignment stored


def _read_once(finder):
    """``finder`` (a Gradebook method taking name, notebook, assignment), each answer read once per database
    and kept as a copy of its columns (the ORM object itself expires when its session commits or closes)."""
    from sqlalchemy import inspect

    copies: dict = {}

    def find(self, name: str, notebook: str, assignment: str):
        key = (str(self.engine.url), name, notebook, assignment)
        if key not in copies:
            found = finder(self, name, notebook, assignment)
            columns = inspect(found).mapper.column_attrs
            copies[key] = SimpleNamespace(**{column.key: getattr(found, column.key) for column in columns})
        return copies[key]

    return find


@contextlib.contextmanager
def shared():
    """Within the block, nbgrader's gradebooks share engines, its metadata checks one validator, and the
    instructor's cells are read once."""
    import jsonschema
    from nbgrader import api
    from nbgrader.nbgraderformat import common

    engines: dict = {}
    created: set[int] = set()
    validators: dict = {}
    real_create_engine, real_create_all = api.create_engine, api.Base.metadata.create_all
    real_finders = {name: getattr(api.Gradebook, name) for name in INSTRUCTOR_CELLS}

    def create_engine(url, **kwargs):
        key = (str(url), tuple(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = real_create_engine(url, **kwargs)
        return engines[key]

    def create_all(bind, **kwargs):
        if id(bind) not in created:
            real_create_all(bind=bind, **kwargs)
            created.add(id(bind))

    def validate(instance, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validators[key] = cls(schema)
        error = jsonschema.exceptions.best_match(validators[key].iter_errors(instance))
        if error is not None:
            raise error

    api.create_engine, api.Base.metadata.create_all = create_engine, create_all
    common.jsonschema = SimpleNamespace(validate=validate)
    for name, finder in real_finders.items():
        setattr(api.Gradebook, name, _read_once(finder))
    try:
        yield
    finally:
        for name, finder in real_finders.items():
            setattr(api.Gradebook, name, finder)
        api.create_engine = real_create_engine
        del api.Base.metadata.create_all  # the class's method again
        common.jsonschema = jsonschema
        for engine in engines.values():
            engine.dispose()
