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
- **Canvas**: nothing to build. Its documented bulk route back, "Re-Upload Submissions" on the
  assignment page ("How do I upload a file of all submissions for an assignment?", Canvas
  Instructor Guide), attaches each file of a zip as a submission comment, found by the user id and
  the *file id of the student's own submission* in the name, and shows it under the name of that
  submitted file (``Assignment#infer_comment_context_from_filename``: ``display_name`` of the
  student's attachment). A feedback page would reach the student as ``01_activation_basics.ipynb``
  holding HTML. The README's instructor's term says what to do instead.
"""

from __future__ import annotations

import argparse
import csv
import warnings
import zipfile
from pathlib import Path

from actkit.grading.lms import grade_table, lms_notes
from actkit.grading.lms_times import PARTICIPANT, worksheet_rows
from actkit.notebooks import REPO_ROOT

__all__ = ["moodle_feedback", "moodle_worksheet"]

COMMENTS = "Feedback comments"


def _moodle_students(root: Path, assignment: str) -> dict[str, dict]:
    """nbgrader student -> {lms_id (participant id), name (Moodle's full name)} of the Moodle download."""
    return {student: info for student, files in lms_notes(root, assignment).items()
            for info in files.values() if info.get("lms") == "Moodle"}


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
    canvas = [s for s, files in lms_notes(root, assignment).items()
              if any(f["lms"] == "Canvas" for f in files.values())]
    if canvas:
        say(f"Canvas: {len(canvas)} students' pages are in feedback/<student>/{assignment}/: Canvas takes no "
            "feedback files in bulk (README, the instructor's term, step 7)")
    if not made and not canvas:
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
