"""The course and its LMS: submissions in (``nbgrader zip_collect``), grades out (``nbgrader export``).

The whole round trip (roster, times, feedback, grades), with the menu item of each file, is the README's
"instructor's term"; the roster is :mod:`actkit.grading.roster`, the submission times
:mod:`actkit.grading.lms_times`, the feedback package :mod:`actkit.grading.lms_feedback`. What the LMS
documentation says, quoted where it is said, and where only the LMS' source answers, the source
(canvas-lms and moodle on GitHub):

**In.** Download all submissions of an assignment from the LMS as one zip file, put it in
``downloaded/<assignment>/archive/`` (git-ignored) and run ``nbgrader zip_collect <assignment>``.
``nbgrader_config.py`` selects the collector of the course's LMS (:class:`CanvasCollector` or
:class:`MoodleCollector`). nbgrader matches ``named_regexp`` against the *whole path* of every
extracted file, hence the leading ``.*/``. The file names the LMSes write:

- Canvas ("How do I download all student submissions for an assignment?", Canvas Instructor
  Guide): ``<lastfirst>_[LATE_]<user id>_<file id>_<file name>``, e.g.
  ``lovelaceada_LATE_48213_9071234_01_activation_basics-1.ipynb``. ``ContentZipper#get_filename``
  (``lib/content_zipper.rb``) joins the sortable name (lower-cased, non-word characters removed),
  ``LATE`` when ``submission.late?`` and the user id; ``#add_upload_submission`` adds the id of the
  submitted file (attachment) and its display name, where Canvas adds ``-1``, ``-2`` to a file handed
  in again. :data:`CANVAS_REGEXP`: ``name``, ``late`` (the marker, ``late_`` accepted too),
  ``lms_id`` (the Canvas user id), ``attachment_id``, ``file_id`` (the file name as handed in).
- Moodle (assignment, "Download all submissions"; ``mod_assign\\downloader``): the prefix
  ``<Full name>_<participant id>``, then ``_assignsubmission_file_<file name>``, or with "Download
  submissions in folders" (the default) a folder ``..._assignsubmission_file/`` (Moodle 4.1+;
  ``..._assignsubmission_file_/`` before). :data:`MOODLE_REGEXP`: ``name``, ``lms_id``, ``file_id``.
  The participant id is not the Moodle user id, so students are found by their full name in the
  roster and by the id only when the roster holds it.

The student id is the nbgrader id whose ``lms_user_id`` (Canvas) or name (Moodle) matches in the
gradebook (import the roster first); without a match the LMS id is used as it is. The notebook keeps
its name (``-1``, ``(1)``, ``Copy of``): grading matches it to the expected notebook
(:func:`actkit.grading.preflight.match_renamed`). The submission time goes into nbgrader's
``timestamp.txt`` (:mod:`actkit.grading.lms_times`: where each LMS gives it, the format). What
the file name says (LMS id, name, late marker, original name), the time and its source and any flag
are kept in ``downloaded/<assignment>/lms_files.json``.

**Out.** ``nbgrader export --exporter=actkit.grading.lms.CanvasExport --to grades_canvas.csv`` (or
``MoodleExport``, ``grades_moodle.csv``): one row per student with an LMS id, one column per
assignment, the score after the late penalty (:mod:`actkit.grading.late`), blank (not 0) where
there is no submission. The columns are the assignments named (``--assignment``), else those
released and graded (in the gradebook with at least one submission), in the order of the due dates.
The notes (manual grading pending, late, extensions, the collect flags) go to
``build/lms/<export name>-notes.csv``, never into the file the LMS imports.

- Canvas, Grades, Import. Canvas' guide ("How do I export grades in the Gradebook?") on the file it
  takes back: "Some columns that appear in the CSV file are read-only columns calculated by rules or
  percentages set in Canvas. Any changes made to these columns will be ignored when you re-upload
  the file to your course." On the others (Ohio State's guide to the same import, "Import CSV File
  for Carmen Grades"): "New assignment columns in the Gradebook generate new assignments in the
  Assignments area of Canvas." Hence only named or graded assignments. ``GradebookImporter``
  (``lib/gradebook_importer.rb``) reads the header ``Student``, ``ID`` (matched first; then
  ``SIS User ID``, ``SIS Login ID``, the name), ``SIS User ID``, ``SIS Login ID``, ``Section`` (it
  must be the last identity column), then per column ``Assignment.title_and_id``: a title ending
  ``(<id>)`` is the assignment with that id, else the assignment titled exactly so, else a new one.
  So the columns are ``<name> (<Canvas assignment id>)`` when ``c.CanvasExport.assignment_ids``
  knows the id, else ``<name>``, which must be the Canvas assignment's title. A row whose first cell
  holds "Points Possible" sets the points of new assignments; a blank score changes nothing
  (``no_score?``). Canvas' documentation does not say a ``Notes`` column is ignored, and the
  importer does not ignore it: a column is read as a custom column only when the course has one of
  that title, and custom columns are expected between ``Section`` and the assignments; a trailing
  ``Notes`` becomes a new assignment "Notes" (or, with a Notes column in the course, shifts every
  column by one). Hence the separate notes file.
- Moodle, Grades, Import, "CSV file" (docs.moodle.org, "Grade import"): "The import file format is
  the same as the corresponding export format." and "Tip: If you opened your exported file in
  Excel, don't add columns there because Moodle will reject the import if there are new columns that
  didn't exist in the exported file." and "By default "Map from" is set to First Name, and "Map to"
  to userid. Change both dropdowns to: "Email Address" to "useremail", or to "Id Number" to
  "useridnumber"". So the columns are those of Moodle's own export (``grade/export/txt``):
  ``First name``, ``Last name``, ``ID number`` (the LMS id), ``Email address``, then one
  ``Assignment: <name> (Real)`` per assignment, each mapped to its grade item in the import's
  preview; no other column.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import warnings
from pathlib import Path

from nbgrader.plugins import ExportPlugin, FileNameCollectorPlugin
from nbgrader.utils import parse_utc
from traitlets import Dict, Unicode

from actkit.grading.lms_times import read_times

__all__ = ["CANVAS_REGEXP", "MOODLE_REGEXP", "CanvasCollector", "CanvasExport", "MoodleCollector",
           "MoodleExport", "grade_table"]

CANVAS_REGEXP = (r"^.*/(?P<name>[^/_]+)_(?P<late>(?i:late)_)?(?P<lms_id>\d+)_(?P<attachment_id>\d+)_"
                 r"(?P<file_id>[^/]+)$")
MOODLE_REGEXP = r"^.*/(?P<name>[^/_]+)_(?P<lms_id>\d+)_assignsubmission_file(?:_/?|/)(?P<file_id>[^/]+)$"


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


class _LmsCollector(FileNameCollectorPlugin):
    """Matches the LMS' file name, finds the nbgrader student id and the submission time, notes the rest."""

    lms = "lms"
    timezone = Unicode("UTC", help="time zone of the times in a Moodle grading worksheet (IANA name)").tag(config=True)

    name_first = False  # which of the file name's two keys is the roster's own: the LMS id, or the name

    def _student_id(self, groups: dict) -> str:
        students = self._roster()
        by_lms = [s for s in students if s["lms_user_id"] == groups["lms_id"]]
        name = _squash(groups["name"])
        by_name = [s for s in students if name and name in (_squash(s["first_name"] + s["last_name"]),
                                                            _squash(s["last_name"] + s["first_name"]))]
        for found in ((by_name, by_lms) if self.name_first else (by_lms, by_name)):
            if len(found) == 1:
                return found[0]["id"]
        self.log.warning("%s: no student with LMS id %s or name %r in the roster; collected as %s",
                         self.lms, groups["lms_id"], groups["name"], groups["lms_id"])
        return groups["lms_id"]

    def _roster(self) -> list[dict]:
        if not hasattr(self, "_students"):
            self._students = []
            coursedir = getattr(self.parent, "coursedir", None)
            if coursedir is not None:
                from nbgrader.api import Gradebook

                with warnings.catch_warnings(), Gradebook(coursedir.db_url) as gb:
                    warnings.simplefilter("ignore")
                    self._students = [{k: (getattr(s, k) or "") for k in
                                       ("id", "first_name", "last_name", "lms_user_id")} for s in gb.students]
        return self._students

    def _folder(self) -> Path | None:
        """``downloaded/<assignment>/`` of the running zip_collect."""
        if not hasattr(self.parent, "_format_collect_path"):
            return None
        return Path(self.parent._format_collect_path(""))

    def _time(self, student: str, groups: dict) -> tuple[dt.datetime | None, str]:
        """The submission time and where it comes from (:mod:`actkit.grading.lms_times`)."""
        if not hasattr(self, "_times"):
            folder = self._folder()
            self._times = read_times(folder, self.timezone, self.log.warning) if folder else {}
            if folder and not self._times:
                self.log.warning("%s: no times CSV%s in %s: %s", self.lms,
                                 " or grading worksheet" if self.lms == "Moodle" else "", folder,
                                 "no submission is late" if self.lms == "Moodle" else
                                 "a LATE_ file is recorded 1 s after the due date, the others get no time")
        for key in (student, groups["lms_id"]):
            if key in self._times:
                return self._times[key]
        if not groups.get("late"):
            return None, ""
        assignment = getattr(getattr(self.parent, "coursedir", None), "assignment_id", "")
        due = self.config.get("CourseLatePenalties", {}).get("due_dates", {}).get(assignment)
        if not due:
            return None, f"{self.lms} marks it late, exact time unknown (no due date): graded as on time"
        return (parse_utc(due) + dt.timedelta(seconds=1),
                f"{self.lms} marks it late, exact time unknown: recorded as 1 s after the due date")

    def _note(self, path: str, student: str, groups: dict, when, source: str) -> None:
        folder = self._folder()
        if folder is None:
            return
        target = folder / "lms_files.json"
        notes = json.loads(target.read_text()) if target.is_file() else {}
        notes.setdefault(student, {})[groups["file_id"]] = {
            "lms": self.lms, "lms_id": groups["lms_id"], "name": groups["name"], "late": bool(groups.get("late")),
            "file": os.path.basename(path), "time": f"{when:%Y-%m-%d %H:%M:%S}" if when else "",
            "time_source": source, "flag": source if "time unknown" in source else ""}
        target.write_text(json.dumps(notes, indent=1, sort_keys=True))

    def collect(self, submitted_file: str):
        groups = super().collect(submitted_file)
        if not groups:
            return None
        student = self._student_id(groups)
        when, source = self._time(student, groups)
        if "time unknown" in source:
            self.log.warning("flag: %s / %s: %s (give its time in a times CSV, see actkit/grading/lms_times.py)",
                             student, os.path.basename(submitted_file), source)
        self._note(submitted_file, student, groups, when, source)
        found = {"student_id": student, "file_id": groups["file_id"]}
        return {**found, "timestamp": when} if when else found


class CanvasCollector(_LmsCollector):
    """``nbgrader zip_collect`` for a Canvas "Download Submissions" zip file."""

    lms = "Canvas"
    named_regexp = Unicode(CANVAS_REGEXP, help="Canvas' submission file names").tag(config=True)


class MoodleCollector(_LmsCollector):
    """``nbgrader zip_collect`` for a Moodle "Download all submissions" zip file."""

    lms = "Moodle"
    named_regexp = Unicode(MOODLE_REGEXP, help="Moodle's submission file names").tag(config=True)
    name_first = True  # the participant id of the file name is not the roster's ID number: it may equal another's


def lms_notes(root: Path, assignment: str) -> dict:
    """``downloaded/<assignment>/lms_files.json``: student -> file -> what the LMS file said (empty if none)."""
    path = Path(root) / "downloaded" / assignment / "lms_files.json"
    return json.loads(path.read_text()) if path.is_file() else {}


# ============================================================================ grades out

def grade_table(gradebook, assignments: list[str] | None = None, students: list[str] | None = None,
                planned: dict | None = None, flags: dict | None = None) -> dict:
    """Per student and assignment: score after the late penalty (None: nothing submitted) and notes.

    The columns are the ``assignments`` named, else every assignment of the gradebook (released) with
    at least one submission (graded), in the order of their due dates (``planned``: assignment -> due
    date, ``CourseLatePenalties.due_dates``). ``flags``: (assignment, student) -> a note to add.
    """
    from nbgrader.api import MissingEntry

    due = {name: parse_utc(when) for name, when in (planned or {}).items() if when}
    due.update({a.name: a.duedate for a in gradebook.assignments if a.duedate})
    known = {a.name for a in gradebook.assignments}
    if assignments:
        unknown = sorted(set(assignments) - known)
        if unknown:
            raise ValueError(f"not in the gradebook: {', '.join(unknown)}")
        chosen = set(assignments)
    else:
        chosen = {a.name for a in gradebook.assignments if a.submissions}
    names = sorted(chosen, key=lambda n: (n not in due, due.get(n) or 0, n))
    rows = []
    for student in sorted(gradebook.students, key=lambda s: s.id):
        if students and student.id not in students:
            continue
        scores, notes = {}, []
        for name in names:
            if (flags or {}).get((name, student.id)):
                notes.append(f"{name}: {flags[name, student.id]}")
            try:
                sub = gradebook.find_submission(name, student.id)
            except MissingEntry:
                scores[name] = None
                continue
            penalty = sub.late_submission_penalty or 0.0
            scores[name] = round(max(0.0, sub.score - penalty), 2)
            if sub.needs_manual_grade:
                notes.append(f"{name}: needs manual grading")
            if sub.total_seconds_late > 0:
                from actkit.grading.late import days_late

                notes.append(f"{name}: {days_late(sub.total_seconds_late)} day(s) late"
                             + (f", -{penalty:g} point(s)" if penalty else ""))
            if sub.extension:
                notes.append(f"{name}: extension {sub.extension.total_seconds() / 3600:g} h")
        rows.append({"student": student, "scores": scores, "notes": "; ".join(notes)})
    max_scores = {a.name: a.max_score for a in gradebook.assignments if a.name in names}
    return {"assignments": names, "max_scores": max_scores, "rows": rows}


def _blank(value) -> str:
    return "" if value is None else f"{value:g}"


def collect_flags(root: Path, assignments: list[str]) -> dict:
    """(assignment, student) -> the flags ``zip_collect`` noted (late with an unknown time)."""
    return {(a, student): "; ".join(sorted({f["flag"] for f in files.values() if f.get("flag")}))
            for a in assignments for student, files in lms_notes(root, a).items()
            if any(f.get("flag") for f in files.values())}


class _LmsExport(ExportPlugin):
    """One row per student with an LMS id; the notes (manual grading, late, extensions, flags) go to
    ``build/lms/<export name>-notes.csv``, never into the file the LMS imports."""

    default_to = "grades.csv"

    def header(self, names: list[str]) -> list[str]:
        raise NotImplementedError

    def row(self, student, cells: list[str]) -> list[str]:
        raise NotImplementedError

    def extra_rows(self, table: dict) -> list[list[str]]:
        return []

    def export(self, gradebook) -> None:
        dest = Path(self.to or self.default_to)
        coursedir = getattr(self.parent, "coursedir", None)
        root = Path(coursedir.root) if coursedir is not None else dest.parent
        planned = dict(self.config.get("CourseLatePenalties", {}).get("due_dates", {}))  # nbgrader_config.py
        named = [str(a) for a in self.assignment]
        flags = collect_flags(root, named or [a.name for a in gradebook.assignments])
        table = grade_table(gradebook, named, [str(s) for s in self.student], planned, flags)
        skipped = [r["student"].id for r in table["rows"] if not r["student"].lms_user_id]
        if skipped:
            self.log.warning("No LMS id (import the roster: make roster), left out: %s", ", ".join(skipped))
        kept = [r for r in table["rows"] if r["student"].lms_user_id]
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(self.header(table["assignments"]))
            writer.writerows(self.extra_rows(table))
            writer.writerows(self.row(r["student"], [_blank(r["scores"][a]) for a in table["assignments"]])
                             for r in kept)
        notes = root / "build" / "lms" / f"{dest.stem}-notes.csv"
        notes.parent.mkdir(parents=True, exist_ok=True)
        with open(notes, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([["id", "lms_user_id", "notes"],
                                      *([r["student"].id, r["student"].lms_user_id or "", r["notes"]]
                                        for r in table["rows"] if r["notes"])])
        self.log.info("Exported %d student(s), %d assignment(s) (%s) to %s; notes in %s", len(kept),
                      len(table["assignments"]), ", ".join(table["assignments"]) or "none", dest, notes)


class CanvasExport(_LmsExport):
    """The Canvas gradebook import CSV (``nbgrader export --exporter=actkit.grading.lms.CanvasExport``)."""

    default_to = "grades_canvas.csv"
    assignment_ids = Dict(help="nbgrader assignment -> Canvas assignment id (for the column titles)").tag(config=True)

    def header(self, names):
        titles = [f"{n} ({self.assignment_ids[n]})" if n in self.assignment_ids else n for n in names]
        return ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles]

    def extra_rows(self, table):
        return [["    Points Possible", "", "", "", "",
                 *[f"{table['max_scores'][n]:.2f}" for n in table["assignments"]]]]

    def row(self, student, cells):
        name = ", ".join(filter(None, [student.last_name, student.first_name])) or student.id
        return [name, student.lms_user_id, "", "", "", *cells]


class MoodleExport(_LmsExport):
    """The Moodle grade import CSV (``nbgrader export --exporter=actkit.grading.lms.MoodleExport``)."""

    default_to = "grades_moodle.csv"

    def header(self, names):
        return ["First name", "Last name", "ID number", "Email address", *[f"Assignment: {n} (Real)" for n in names]]

    def row(self, student, cells):
        return [student.first_name or "", student.last_name or "", student.lms_user_id, student.email or "", *cells]
