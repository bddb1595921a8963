"""Feedback back through the LMS: ``make lms-feedback ASSIGNMENT=<name>``.

``python -m actkit.grading.lms_feedback <assignment> [--root COURSE]``, after ``nbgrader
generate_feedback <assignment>``, writes into ``build/lms/<assignment>/`` what the LMS takes back,
for the students ``nbgrader zip_collect`` collected from it (``downloaded/<assignment>/lms_files.json``
holds their LMS ids and names):

- **Moodle** (assignment, Submissions, the grading action menu; the assignment's feedback types
  "Feedback files", "Offline grading worksheet" and "Feedback comments" on):

  - ``moodle_feedback.zip`` for **"Upload multiple feedback files in a zip"**: one entry per
    feedback page, ``<Full name>_<participant id>_assignfeedback_file_<page>.html``. Moodle's
    importer (``assignfeedback_file_zip_importer::is_valid_filename_for_import``) splits each name
    at ``_`` into full name, participant id, plugin type and plugin name (the rest is the file
    name), finds the student by the participant id, and adds the page to the student's feedback files;
  - ``moodle_grading_worksheet.csv`` for **"Upload grading worksheet"**: the worksheet downloaded
    with "Download grading worksheet" and saved in ``downloaded/<assignment>/`` (needed: it holds the
    participant ids and the ``Last modified (grade)`` Moodle checks), unchanged but for ``Grade``
    (the score after the late penalty, on Moodle's ``Maximum Grade`` when that differs from
    nbgrader's total) and ``Feedback comments`` (score, late days, manual grading; only numbers and
    fixed words, never student text). Moodle's importer
    (``assignfeedback_offline_grade_importer``) needs ``Identifier``, ``Grade`` and
    ``Last modified (grade)`` and takes the comment column by its title.
- **Canvas** (assignment page, **"Re-Upload Submissions"**; "How do I upload a file of all
  submissions for an assignment?", Canvas Instructor Guide: the route for files marked up offline):
  ``canvas_feedback.zip``, one entry per notebook a student handed in, named exactly as in the
  download (``<lastfirst>_[LATE_]<user id>_<file id>_<file name>``). Canvas
  (``Assignment#generate_comments_from_files``, ``#infer_comment_context_from_filename``) takes the
  first two all-digit parts of a name as the user id and the id of a file of that student's
  submission, and attaches the entry to a comment ("See attached file") under the *name of that
  submitted file*. So each entry is a notebook, the student's graded notebook as feedback: hidden
  tests and the details of their failures removed (:class:`~actkit.grading.feedback.HideHiddenTests`,
  as in the HTML feedback), outputs reduced to text and images, the points under each graded cell
  and the total (after the late penalty) on top. Files the student handed in after the download are
  not in it (Canvas ignores an entry whose file id is no longer the submission's).
"""

from __future__ import annotations

import argparse
import csv
import warnings
import zipfile
from pathlib import Path

import nbformat

from actkit.grading.feedback import HideHiddenTests
from actkit.grading.lms import grade_table, lms_notes
from actkit.grading.lms_times import PARTICIPANT, worksheet_rows
from actkit.instructor.notebooks import REPO_ROOT

__all__ = ["canvas_feedback", "feedback_notebook", "moodle_feedback", "moodle_worksheet"]

COMMENTS = "Feedback comments"
SHOWN = ("text/plain", "image/png", "image/jpeg")  # what a feedback notebook's outputs keep


def _students_of(root: Path, assignment: str, lms: str) -> dict[str, dict[str, dict]]:
    """nbgrader student -> file handed in -> what zip_collect noted (lms_files.json), for one LMS."""
    return {student: {f: info for f, info in files.items() if info.get("lms") == lms}
            for student, files in lms_notes(root, assignment).items()
            if any(info.get("lms") == lms for info in files.values())}


def _moodle_students(root: Path, assignment: str) -> dict[str, dict]:
    """nbgrader student -> {lms_id (participant id), name (Moodle's full name)} of the Moodle download."""
    return {student: next(iter(files.values())) for student, files in _students_of(root, assignment, "Moodle").items()}


def moodle_feedback(root: Path, assignment: str, out: Path) -> tuple[Path, int]:
    """The zip for "Upload multiple feedback files in a zip"; (path, number of students in it)."""
    path, count = out / "moodle_feedback.zip", 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for student, info in sorted(_moodle_students(root, assignment).items()):
            pages = sorted((root / "feedback" / student / assignment).glob("*.html"))
            for page in pages:
                zf.write(page, f"{info['name']}_{info['lms_id']}_assignfeedback_file_{page.name}")
            count += bool(pages)
    return path, count


def _comment(name: str, score: float, max_score: float, notes: str) -> str:
    mine = [n.split(": ", 1)[1] for n in notes.split("; ") if n.startswith(f"{name}: ")]
    return "; ".join([f"Score {score:g} / {max_score:g}", *mine]) + ". Details: the attached feedback file."


def moodle_worksheet(root: Path, assignment: str, out: Path, say=print) -> Path | None:
    """The filled grading worksheet for "Upload grading worksheet", or None without a downloaded one."""
    from nbgrader.api import Gradebook

    folder = root / "downloaded" / assignment
    found = [(p, rows) for p in sorted(folder.glob("*.csv")) if (rows := worksheet_rows(p)) is not None]
    if not found:
        say(f"Moodle: no grading worksheet in {folder}/ (Submissions, 'Download grading worksheet'): "
            "no worksheet written")
        return None
    source, rows = found[0]
    with open(source, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    if COMMENTS not in header:
        say(f"Moodle: {source.name} has no '{COMMENTS}' column (turn on the feedback type 'Feedback comments'): "
            "grades only")
    by_participant = {info["lms_id"]: student for student, info in _moodle_students(root, assignment).items()}
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        table = grade_table(gb, [assignment], sorted(by_participant.values()))
    max_score = table["max_scores"][assignment]
    results = {r["student"].id: r for r in table["rows"]}
    for row in rows:
        found_id = PARTICIPANT.match(row.get("Identifier", "").strip())
        result = results.get(by_participant.get(found_id.group(1) if found_id else ""))
        if not result or result["scores"][assignment] is None:
            continue
        score = result["scores"][assignment]
        moodle_max = float((row.get("Maximum Grade") or str(max_score)).replace(",", "."))
        row["Grade"] = f"{score * moodle_max / max_score if moodle_max != max_score else score:.2f}"
        if COMMENTS in header:
            row[COMMENTS] = _comment(assignment, score, max_score, result["notes"])
    scaled = {row.get("Maximum Grade") for row in rows} - {f"{max_score:.2f}", "", None}
    if scaled:
        say(f"Moodle: Maximum Grade {', '.join(sorted(scaled))} is not nbgrader's {max_score:g}: grades scaled to it")
    path = out / "moodle_grading_worksheet.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def feedback_notebook(path: Path, points: dict[str, tuple[float, float]], header: str):
    """The autograded notebook ``path`` as a student may see it (module docstring, Canvas)."""
    nb = nbformat.read(path, as_version=4)
    nb, _ = HideHiddenTests().preprocess(nb, {})
    cells = [nbformat.v4.new_markdown_cell(header)]
    for cell in nb.cells:
        cell.get("metadata", {}).get("nbgrader", {}).pop("checksum", None)  # of the instructor's full cell
        for output in cell.get("outputs", []):
            if "data" in output:
                output["data"] = {kind: value for kind, value in output["data"].items() if kind in SHOWN}
        cells.append(cell)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in points:
            cells.append(nbformat.v4.new_markdown_cell("**Points: {:g} / {:g}**".format(*points[grade_id])))
    nb.cells = cells
    nb.metadata.pop("actkit", None)
    return nb


def canvas_feedback(root: Path, assignment: str, out: Path, say=print) -> tuple[Path, int]:
    """The zip for Canvas' "Re-Upload Submissions"; (path, number of students in it)."""
    from nbgrader.api import Gradebook, MissingEntry

    students = _students_of(root, assignment, "Canvas")
    path, count = out / "canvas_feedback.zip", 0
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")
        table = grade_table(gb, [assignment], sorted(students))
        results = {r["student"].id: r for r in table["rows"]}
        for student, files in sorted(students.items()):
            graded = {p.stem: p for p in sorted((root / "autograded" / student / assignment).glob("*.ipynb"))}
            score = results[student]["scores"][assignment] if student in results else None
            handed = [f for f in files if f.endswith(".ipynb")]
            for file_id in handed:
                notebook = graded.get(Path(file_id).stem) or (next(iter(graded.values()))
                                                             if len(graded) == 1 == len(handed) else None)
                if notebook is None or score is None:
                    say(f"Canvas: {student} / {file_id}: no graded notebook, not in the zip")
                    continue
                try:
                    grades = gb.find_submission_notebook(notebook.stem, assignment, student).grades
                except MissingEntry:
                    continue
                header = "# Feedback: {}\n\n**Score: {:g} / {:g}**".format(
                    assignment, score, table["max_scores"][assignment]) + "".join(
                    f"\n- {n.split(': ', 1)[1]}" for n in results[student]["notes"].split("; ")
                    if n.startswith(f"{assignment}: "))
                nb = feedback_notebook(notebook, {g.name: (g.score, g.max_score) for g in grades}, header)
                zf.writestr(files[file_id]["file"], nbformat.writes(nb))  # the download's own name
                count += 1
    return path, count


def package(root: Path, assignment: str, say=print) -> list[Path]:
    """Everything for the LMS of the students collected from it; one line per file."""
    out = root / "build" / "lms" / assignment
    out.mkdir(parents=True, exist_ok=True)
    made = []
    if _moodle_students(root, assignment):
        zipped, count = moodle_feedback(root, assignment, out)
        say(f"Moodle: {zipped} ({count} students) -> Submissions, 'Upload multiple feedback files in a zip'")
        made.append(zipped)
        sheet = moodle_worksheet(root, assignment, out, say)
        if sheet:
            say(f"Moodle: {sheet} -> Submissions, 'Upload grading worksheet'")
            made.append(sheet)
    if _students_of(root, assignment, "Canvas"):
        zipped, count = canvas_feedback(root, assignment, out, say)
        say(f"Canvas: {zipped} ({count} notebooks) -> the assignment's page, 'Re-Upload Submissions'")
        made.append(zipped)
    if not made:
        say(f"nothing collected from an LMS for {assignment} (downloaded/{assignment}/lms_files.json)")
    return made


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actkit.grading.lms_feedback", description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    args = parser.parse_args(argv)
    package(args.root.resolve(), args.assignment)


if __name__ == "__main__":
    main()
