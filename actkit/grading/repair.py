"""Structure repair: the submission is graded in the shape the instructor released.

nbgrader's own sanitising restores the source of locked and test cells; these two preprocessors
do what it cannot on this course's notebooks (see each class).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from actkit.grading.cells import is_helper_cell, meta, reference_notebooks

__all__ = ["RepairCells", "RestoreStructure"]


# ===================================================================== 4. restore structure

class RepairCells(NbGraderPreprocessor):
    """Runs instead of nbgrader's ``DeduplicateIds``: deduplicate ids, then undo cell-type changes.

    - A cell marked graded, answer or read-only without a grade id (nbgrader fails on it with
      ``KeyError: 'grade_id'``) loses its nbgrader metadata: a cell of the student's; the
      instructor's cell is put back (``OverwriteCells``, :class:`RestoreStructure`).
    - Duplicated grade ids: like nbgrader, the last cell with an id keeps it; the other copies lose
      their nbgrader metadata entirely (nbgrader leaves ``{}``, on which its own
      ``OverwriteCells.add_missing_cells`` fails with ``KeyError: 'grade_id'``).
    - A test or read-only cell whose nbgrader metadata was changed (turned into an answer cell,
      unlocked: nbgrader fails with "Inconsistent checksums") gets the released metadata back.
    - A graded or read-only cell whose type was changed (a test cell turned into markdown) gets its
      released type back here, before ``OverwriteCells``: nbgrader's own repair validates against
      the newest notebook schema and fails on this course's nbformat 4.4 notebooks.
    """

    def preprocess(self, nb, resources):
        from nbgrader.preprocessors import DeduplicateIds

        for cell in nb.cells:  # graded, answer or read-only without a grade id: nbgrader fails on it (KeyError)
            m = cell.get("metadata", {}).get("nbgrader")
            if isinstance(m, dict) and not m.get("grade_id") and any(m.get(k) for k in ("grade", "solution", "locked")):
                self.log.warning("A cell's nbgrader metadata has no grade id; it is graded as a cell of the student's")
                del cell.metadata["nbgrader"]
        nb, resources = DeduplicateIds(parent=self.parent, config=self.config).preprocess(nb, resources)
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", None) == {}:
                del cell.metadata["nbgrader"]
        info = resources.get("nbgrader", {})
        ref = reference_notebooks(course_root(self.config), info.get("assignment", "")).get(info.get("notebook", ""))
        if ref is None:
            return nb, resources
        types = {m["grade_id"]: c.cell_type for c in ref.cells if (m := meta(c)).get("grade_id")}
        locked = {m["grade_id"]: m for c in ref.cells if (m := meta(c)).get("grade_id") and m.get("locked")}
        for cell in nb.cells:
            m = locked.get(meta(cell).get("grade_id"))
            if m is not None and {k: meta(cell).get(k) for k in m} != m:  # a test cell made an answer cell, ...
                self.log.warning("The nbgrader metadata of cell %s was changed; putting the released one back",
                                 m["grade_id"])
                cell.metadata["nbgrader"] = json.loads(json.dumps(m))
            want = types.get(meta(cell).get("grade_id"))
            if want and want != cell.cell_type:
                self.log.warning("Cell %s was changed to %s; changing it back to %s",
                                 meta(cell)["grade_id"], cell.cell_type, want)
                cell.cell_type = want
                if want == "code":
                    cell.outputs, cell.execution_count = [], None
                else:
                    cell.pop("outputs", None)
                    cell.pop("execution_count", None)
        return nb, resources


def course_root(config) -> Path:
    """The course directory nbgrader was configured with (the working folder when none was)."""
    try:
        return Path(config.CourseDirectory.root or ".") if "CourseDirectory" in config else Path(".")
    except (AttributeError, TypeError):
        return Path(".")


class RestoreStructure(NbGraderPreprocessor):
    """Put deleted read-only cells back and restore the released order of graded cells.

    Runs while nbgrader sanitises a submission (after ``OverwriteCells``): a student cannot gain by
    deleting the instructor's helper cell or by moving it behind the tests. Cells the student
    added stay right after the graded or read-only cell they followed.
    """

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        refs = reference_notebooks(course_root(self.config), info.get("assignment", ""))
        ref = refs.get(info.get("notebook", ""))
        if ref is None:
            return nb, resources
        ref_ids = [m["grade_id"] for c in ref.cells if (m := meta(c)).get("grade_id")]
        ref_cells = {m["grade_id"]: c for c in ref.cells if (m := meta(c)).get("grade_id")}
        present = {meta(c).get("grade_id") for c in nb.cells}
        # 1. read-only code cells (helpers) that were deleted: insert after the previous anchored cell
        for gid in ref_ids:
            rc = ref_cells[gid]
            if gid in present or not is_helper_cell(rc):
                continue
            self.log.warning("Read-only cell %s was deleted; putting it back", gid)
            before = ref_ids[: ref_ids.index(gid)]
            position = 0
            for i, c in enumerate(nb.cells):
                if meta(c).get("grade_id") in before:
                    position = i + 1
            nb.cells.insert(position, nbformat.from_dict(json.loads(json.dumps(rc))))
            present.add(gid)
        # 2. the released order of anchored cells; free cells travel with the anchor before them
        segments, head, seen = [], [], set()
        for cell in nb.cells:
            gid = meta(cell).get("grade_id")
            if gid in ref_cells and gid not in seen:
                seen.add(gid)
                segments.append((ref_ids.index(gid), [cell]))
            elif segments:
                segments[-1][1].append(cell)
            else:
                head.append(cell)
        order = [s[0] for s in segments]
        if order != sorted(order):
            self.log.warning("Cells were reordered; grading them in the released order")
            segments.sort(key=lambda s: s[0])
            nb.cells = head + [c for _, cells in segments for c in cells]
        return nb, resources


