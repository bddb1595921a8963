"""The term's LMS round trip end to end (issue 27), once per LMS, on assignment 01 (no TensorFlow training).

One course, graded once (``actkit-grade``, one worker) to keep the suite cheap, with a Canvas class and a
Moodle class (two students each, one on time and one late with a renamed notebook):

1. roster straight from the LMS file (Canvas gradebook export, Moodle participants download:
   ``tests/fixtures/lms``);
2. ``nbgrader zip_collect`` of a zip named like the LMS' download, the submission times recorded in
   ``timestamp.txt`` (Canvas: ``LATE_`` marker + the due date; Moodle: the grading worksheet);
3. grading with the late penalty taken from those times; ``nbgrader generate_feedback``;
4. the feedback package (Moodle: zip + worksheet) and the grade export; every number in them is the
   gradebook's.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import GenerateAssignmentApp, GenerateFeedbackApp, ZipCollectApp
from traitlets.config import Config

from actkit.grading import lms, lms_feedback, parallel, roster
from actkit.grading.feedback import hidden_lines
from actkit.instructor.notebooks import REPO_ROOT, fresh_course, make_submission, notebook_of, solution_cells

A = "01_activation_basics"
FIXTURES = Path(__file__).parent / "fixtures" / "lms"
DUE = "2027-02-12 23:59:00"  # nbgrader_config.py's due date of 01
CANVAS = {  # student id (from the roster) -> file name in Canvas' "Download Submissions" zip, all answers?
    "alovelace": ("lovelaceada_48213_9071234_01_activation_basics.ipynb", True),
    "eborel": ("borelémile_LATE_48214_9071299_01_activation_basics-1.ipynb", False),  # resubmitted: "-1"
}
MOODLE = {  # ... in Moodle's "Download all submissions" zip (folders, Moodle 4.1+)
    "s0003": ("Mary O'Neil_1234570_assignsubmission_file/01_activation_basics (1).ipynb", False),
    "s0004": ("Alan Turing_1234571_assignsubmission_file/01_activation_basics.ipynb", True),
}


def run(app_class, root: Path, *args: str) -> None:
    """An nbgrader command, in this process (no start-up cost), with the course's nbgrader_config.py."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBGRADER_COURSE_ROOT", str(root))
        mp.chdir(REPO_ROOT)
        app = app_class()
        app.initialize([A, *args])
        app.start()
        app.clear_instance()


def download(path: Path, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    warnings.filterwarnings("ignore", module=r"nbgrader\.api")
    root = tmp_path_factory.mktemp("lms_term")
    fresh_course(root, [A])
    run(GenerateAssignmentApp, root, "--force")
    said = []
    for name in ("canvas_gradebook_export.csv", "moodle_participants.csv"):
        roster.import_roster(root, FIXTURES / name, say=said.append)
    released = notebook_of(A, "release", root)
    answers = solution_cells(nbformat.read(notebook_of(A), as_version=4))
    partial = dict(list(answers.items())[: len(answers) // 2])

    def files(spec):
        out = {}
        for name, complete in spec.values():
            path = root / "build" / "made" / "x.ipynb"
            make_submission(released, path, answers=answers if complete else partial)
            out[name] = path.read_bytes()
        return out

    downloaded = root / "downloaded" / A
    download(downloaded / "archive" / "canvas-01 submissions.zip", files(CANVAS))
    run(ZipCollectApp, root)
    (downloaded / "archive" / "canvas-01 submissions.zip").unlink()
    download(downloaded / "archive" / "CS101-01_activation_basics-42.zip", files(MOODLE))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # Moodle's maximum grade set to nbgrader's total
        total = f"{gb.find_assignment(A).max_score:.2f}"
    worksheet = (FIXTURES / "moodle_grading_worksheet.csv").read_text(encoding="utf-8")
    (downloaded / "CS101-01-Grades-42.csv").write_text(worksheet.replace(",25.00,Yes,", f",{total},Yes,"),
                                                       encoding="utf-8")
    run(ZipCollectApp, root, "--force", "--ZipCollectApp.collector_plugin=actkit.grading.lms.MoodleCollector",
                "--MoodleCollector.timezone=Europe/Berlin")
    parallel.grade(root, A, workers=1, quiet=True)
    run(GenerateFeedbackApp, root, "--force")
    lines = []
    lms_feedback.package(root, A, say=lines.append)
    return root, said, lines


def gradebook_scores(root: Path, students) -> dict[str, tuple[float, float, float]]:
    """student -> (score, late penalty, seconds late) as nbgrader's gradebook holds them."""
    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in students:
            try:
                sub = gb.find_submission(A, student)
            except MissingEntry:
                continue
            out[student] = (sub.score, sub.late_submission_penalty or 0.0, sub.total_seconds_late)
    return out


def final(score: float, penalty: float) -> str:
    return f"{round(max(0.0, score - penalty), 2):g}"


def export(root: Path, plugin) -> list[list[str]]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        plugin.export(gb)
    with open(plugin.to, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def notes(root: Path, name: str) -> dict[str, str]:
    with open(root / "build" / "lms" / f"{name}-notes.csv", newline="", encoding="utf-8") as fh:
        return {row[0]: row[2] for row in list(csv.reader(fh))[1:]}


def stamp(root: Path, student: str) -> str | None:
    path = root / "submitted" / student / A / "timestamp.txt"
    return path.read_text() if path.is_file() else None


def test_canvas_round_trip(term):
    root, said, lines = term
    assert said[0] == ("roster: canvas_gradebook_export.csv is a Canvas gradebook export (2 students; not students: "
                       "Test Student, the Manual Posting row, the Points Possible row)")
    # times: no marker, no time (on time); LATE_: 1 s after the due date, flagged
    assert stamp(root, "alovelace") is None and stamp(root, "eborel") == "2027-02-12 23:59:01"
    scores = gradebook_scores(root, CANVAS)
    ada, emile = scores["alovelace"], scores["eborel"]
    assert ada[1] == 0 and ada[0] > emile[0] > 0, "the renamed '-1' notebook is graded, with its partial answers"
    assert emile[2] == 1 and emile[1] == pytest.approx(0.1 * emile[0]), "late penalty from the recorded time"
    term_config = Config({"CourseLatePenalties": {"due_dates": {A: DUE}}})
    plugin = lms.CanvasExport(to=str(root / "grades_canvas.csv"), assignment_ids={A: 1234501},
                              student=sorted(CANVAS), config=term_config)
    rows = export(root, plugin)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{A} (1234501)"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert rows[1] == ["    Points Possible", "", "", "", "", f"{gb.find_assignment(A).max_score:.2f}"]
    assert {r[1]: r[5] for r in rows[2:]} == {"48213": final(*ada[:2]), "48214": final(*emile[:2])}
    assert "exact time unknown" in notes(root, "grades_canvas")["eborel"]

    # feedback: "Re-Upload Submissions" takes the download's names; each entry is the graded notebook as feedback
    out = root / "build" / "lms" / A / "canvas_feedback.zip"
    assert f"Canvas: {out} (2 notebooks) -> the assignment's page, 'Re-Upload Submissions'" in lines
    with zipfile.ZipFile(out) as zf:
        entries = {name: nbformat.reads(zf.read(name).decode(), as_version=4) for name in zf.namelist()}
    assert sorted(entries) == sorted(name for name, _ in CANVAS.values())
    source = nbformat.read(notebook_of(A), as_version=4)
    lines = [(number in hidden_lines(cell.source), line.strip()) for cell in source.cells
             for number, line in enumerate(cell.source.splitlines(), 1)]
    hidden = {line for secret, line in lines if secret and len(line) > 12} - {line for secret, line in lines
                                                                              if not secret}
    assert hidden, "01 has hidden tests"
    graded_cells = sum(1 for c in source.cells if c.metadata.get("nbgrader", {}).get("grade"))
    for student, (name, _) in CANVAS.items():
        nb = entries[name]
        text = "\n".join(c.source for c in nb.cells)
        assert not any(line in text for line in hidden), "no hidden test reaches the student"
        assert not any("checksum" in c.metadata.get("nbgrader", {}) for c in nb.cells), "nor a hash of one"
        assert nb.cells[0].source.startswith(f"# Feedback: {A}\n\n**Score: {final(*scores[student][:2])} / ")
        assert sum(c.source.startswith("**Points: ") for c in nb.cells) == graded_cells
        kinds = {k for c in nb.cells for o in c.get("outputs", []) for k in o.get("data", {})}
        assert kinds <= {"text/plain", "image/png", "image/jpeg"}, kinds
    assert "1 day(s) late" in entries[CANVAS["eborel"][0]].cells[0].source


def test_moodle_round_trip(term):
    root, said, lines = term
    assert said[1] == "roster: moodle_participants.csv is a Moodle participants download (2 students)"
    # times from the grading worksheet, Europe/Berlin -> UTC
    assert stamp(root, "s0003") == "2027-02-15 09:30:00" and stamp(root, "s0004") == "2027-02-12 22:00:00"
    scores = gradebook_scores(root, MOODLE)
    mary, alan = scores["s0003"], scores["s0004"]
    assert alan[1] == 0 and alan[0] > mary[0] > 0, "the renamed '(1)' notebook is graded"
    assert mary[1] == pytest.approx(0.3 * mary[0]), "3 started days late: -30 %"

    out = root / "build" / "lms" / A
    assert f"Moodle: {out / 'moodle_feedback.zip'} (2 students) -> Submissions, " \
           "'Upload multiple feedback files in a zip'" in lines
    assert f"Moodle: {out / 'moodle_grading_worksheet.csv'} -> Submissions, 'Upload grading worksheet'" in lines
    with zipfile.ZipFile(out / "moodle_feedback.zip") as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    page = {s: (root / "feedback" / s / A / f"{A}.html").read_bytes() for s in MOODLE}
    assert entries == {  # Moodle's importer: <name>_<participant id>_<plugin type>_<plugin name>_<file>
        f"Mary O'Neil_1234570_assignfeedback_file_{A}.html": page["s0003"],
        f"Alan Turing_1234571_assignfeedback_file_{A}.html": page["s0004"],
    }
    with open(out / "moodle_grading_worksheet.csv", newline="", encoding="utf-8-sig") as fh:
        sheet = list(csv.DictReader(fh))
    with open(FIXTURES / "moodle_grading_worksheet.csv", newline="", encoding="utf-8-sig") as fh:
        downloaded = list(csv.DictReader(fh))
    assert [list(r) for r in sheet] == [list(r) for r in downloaded], "the downloaded worksheet's columns"
    for got, was in zip(sheet, downloaded, strict=True):
        assert {k: v for k, v in got.items() if k not in ("Grade", "Feedback comments", "Maximum Grade")} == \
               {k: v for k, v in was.items() if k not in ("Grade", "Feedback comments", "Maximum Grade")}
    by_participant = {r["Identifier"]: r for r in sheet}
    assert float(by_participant["Participant 1234570"]["Grade"]) == float(final(*mary[:2]))
    assert float(by_participant["Participant 1234571"]["Grade"]) == float(final(*alan[:2]))
    assert by_participant["Participant 1234570"]["Feedback comments"].startswith(f"Score {final(*mary[:2])} / ")
    assert "3 day(s) late" in by_participant["Participant 1234570"]["Feedback comments"]

    plugin = lms.MoodleExport(to=str(root / "grades_moodle.csv"), student=sorted(MOODLE))
    rows = export(root, plugin)
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", f"Assignment: {A} (Real)"]
    assert {r[2]: r[4] for r in rows[1:]} == {"S0003": final(*mary[:2]), "S0004": final(*alan[:2])}
