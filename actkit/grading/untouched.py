"""Untouched read-only cells get the instructor's source before nbgrader checks their checksums.

Why nbgrader warned "Attribute 'checksum' for cell test_... has changed!" for every test cell of
every submission, although no student had touched them: the gradebook stores each read-only
cell as the instructor wrote it, *with* its hidden tests (and that version's checksum), while the
released notebook, and so every honest submission, has the hidden tests removed. nbgrader's
``OverwriteCells`` compares the two, finds them different, warns, and puts the gradebook's source
back.

:class:`RestoreUntouchedCells` runs just before ``OverwriteCells``: a locked cell whose source is
exactly its released source is given the gradebook's source, which is what ``OverwriteCells``
would put there anyway, so the score cannot change; only the false warning goes. A cell whose
source differs from the released one in any way is left alone, and ``OverwriteCells`` still warns
about it and restores it (actkit-grade's preflight flags it too).
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from actkit.grading.cells import meta, reference_notebooks
from actkit.grading.repair import course_root

__all__ = ["RestoreUntouchedCells"]


class RestoreUntouchedCells(NbGraderPreprocessor):
    """A locked cell left exactly as released gets its full source (hidden tests included) from the gradebook."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry

        info = resources.get("nbgrader", {})
        assignment, notebook, db_url = info.get("assignment", ""), info.get("notebook", ""), info.get("db_url")
        ref = reference_notebooks(course_root(self.config), assignment).get(notebook)
        if ref is None or not db_url:
            return nb, resources
        released = {m["grade_id"]: c.source for c in ref.cells if (m := meta(c)).get("grade_id") and m.get("locked")}
        untouched = [c for c in nb.cells if meta(c).get("grade_id") in released
                     and c.source == released[meta(c)["grade_id"]]]
        if not untouched:
            return nb, resources
        with Gradebook(db_url) as gb:
            for cell in untouched:
                try:
                    source = gb.find_source_cell(meta(cell)["grade_id"], notebook, assignment)
                except MissingEntry:
                    continue
                if source.locked and source.cell_type == cell.cell_type:
                    cell.source = source.source
        return nb, resources
