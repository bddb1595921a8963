"""The instructor's term around grading (issue 14): roster, LMS file names in, LMS grade files out,
due dates, extensions and the late policy. Tiny synthetic gradebooks built with nbgrader's API; no
notebook is executed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config

from actkit.grading import lms, lms_feedback, lms_times, roster
from actkit.grading.late import CourseLatePenalties, PercentPerDayLate, apply_schedule, penalty_percent

REPO = Path(__file__).resolve().parents[1]
DUE = dt.datetime(2027, 2, 12, 23, 59)


@pytest.fixture
def gb_path(tmp_path):
    warnings.filterwarnings("ignore", module=r"nbgrader\.api")
    return tmp_path


@pytest.fixture(autouse=True)
def alembic_head_in_process(monkeypatch):
    """nbgrader stamps a new gradebook with the schema version it asks an ``alembic heads`` subprocess for
    (1-10 s on a busy machine); the same answer, read in-process from nbgrader's migrations."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
    monkeypatch.setattr("nbgrader.api.get_alembic_version", lambda: head)


def gradebook(root: Path) -> Gradebook:
    return Gradebook(f"sqlite:///{root / 'gradebook.db'}")


def write_roster(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ roster

def test_roster_imports_names_email_and_lms_id_idempotently(gb_path):
    path = write_roster(gb_path / "students.csv", [
        "\ufeffid,first_name,last_name,email,lms_user_id",  # Excel's byte-order mark
        "s001,Ada,Lovelace,ada@example.org,48213",
        "s002,Émile,Borel,emile@example.org,48214",
        "s003,,,,",
    ])
    first = roster.import_roster(gb_path, path)
    assert (first.added, first.updated, first.unchanged) == (["s001", "s002", "s003"], [], [])
    again = roster.import_roster(gb_path, path)
    assert (again.added, again.updated) == ([], []) and len(again.unchanged) == 3, "a second run changes nothing"
    write_roster(path, ["student_id,first_name,last_name,email,lms_id", "s001,Ada,King,ada@example.org,48213"])
    changed = roster.import_roster(gb_path, path)
    assert changed.updated == ["s001"]
    with gradebook(gb_path) as gb:
        ada, emile = gb.find_student("s001"), gb.find_student("s002")
        assert (ada.first_name, ada.last_name, ada.email, ada.lms_user_id) == \
            ("Ada", "King", "ada@example.org", "48213")
        assert (emile.first_name, emile.lms_user_id) == ("Émile", "48214"), "students left off the list stay"
        assert len(gb.students) == 3


@pytest.mark.parametrize("rows, message", [
    (["name,email", "x,y"], "not a roster this course reads .found columns: name, email"),
    (["id,first_name,phone", "s1,A,1"], "unknown column"),
    (["id,first_name", "s1,A", "s1,B"], "also student 1"),
    (["id", "../x"], "not a usable student id"),
    (["First name,Last name,ID number", "Ada,Lovelace,X", "Ada,King,x"], "'x' is also student 1"),
])
def test_roster_refuses_a_wrong_file_clearly(gb_path, rows, message):
    with pytest.raises(SystemExit, match=message):
        roster.import_roster(gb_path, write_roster(gb_path / "students.csv", rows))


FIXTURES = Path(__file__).parent / "fixtures" / "lms"  # shapes and their sources: fixtures/lms/README.md


@pytest.mark.parametrize("name, kind, students", [
    ("canvas_gradebook_export.csv", "a Canvas gradebook export", {
        "eborel": ("Émile", "Borel", "", "48214"), "alovelace": ("Ada", "Lovelace", "", "48213")}),
    ("moodle_participants.csv", "a Moodle participants download", {
        "s0003": ("Mary", "O'Neil", "mary.oneil@uni.example", "S0003"),
        "s0004": ("Alan", "Turing", "alan.turing@uni.example", "S0004")}),
    ("moodle_grades_export.csv", "a Moodle grades export", {
        "s0003": ("Mary", "O'Neil", "mary.oneil@uni.example", "S0003"),
        "s0004": ("Alan", "Turing", "alan.turing@uni.example", "S0004")}),
])
def test_roster_reads_the_lms_files_unedited(gb_path, name, kind, students):
    said = []
    result = roster.import_roster(gb_path, FIXTURES / name, say=said.append)
    assert said[0].startswith(f"roster: {name} is {kind} ({len(students)} students") and len(said) == 1
    assert sorted(result.added) == sorted(students)
    with gradebook(gb_path) as gb:
        got = {s.id: (s.first_name, s.last_name, s.email or "", s.lms_user_id) for s in gb.students}
    assert got == students


def test_canvas_roster_leaves_out_points_possible_posting_row_and_test_student(gb_path):
    said = []
    roster.read_roster(FIXTURES / "canvas_gradebook_export.csv", say=said.append)
    assert said == ["roster: canvas_gradebook_export.csv is a Canvas gradebook export (2 students; not students: "
                    "Test Student, the Manual Posting row, the Points Possible row)"]


def test_canvas_roster_without_bom_or_login(gb_path):
    path = write_roster(gb_path / "grades.csv", [
        "Student,ID,SIS Login ID,Section,HW (1)", "    Points Possible,,,,5.00", '"Noether, Emmy",77,,A,'])
    assert roster.read_roster(path)[0]["id"] == "canvas-77", "no SIS login: canvas-<Canvas user id>"


@pytest.mark.parametrize("value, expected", [
    ("ALovelace", "alovelace"), ("Ada.Lovelace@Uni.EDU", "ada.lovelace@uni.edu"), ("S 0012", "s-0012"),
    ("Émile/Borel", "emile-borel"), ("..hidden", "hidden"),
])
def test_student_id_derivation(value, expected):
    assert roster.derive_id(value) == expected


def test_make_targets_call_the_modules():
    text = (REPO / "Makefile").read_text()
    assert re.search(r"^roster: .*\n\t\$\(PY\) -m actkit\.grading\.roster \$\(FILE\)$", text, re.M)
    assert re.search(r"^lms-feedback: .*\n\t\$\(PY\) -m actkit\.grading\.lms_feedback \$\(ASSIGNMENT\)$", text, re.M)


# ----------------------------------------------------------------------------- late policy

@pytest.mark.parametrize("seconds, percent", [
    (0, 0), (60, 10), (24 * 3600, 10), (26 * 3600, 20), (4.5 * 86400, 50), (9 * 86400, 50),
])
def test_late_policy_ten_percent_per_started_day_capped_at_fifty(seconds, percent):
    assert penalty_percent(seconds) == percent
    assert PercentPerDayLate().late_submission_penalty("s", 8.0, seconds) == pytest.approx(8.0 * percent / 100)


def small_course(root: Path, assignments=("01_a", "02_b"), students=("s001", "s002", "s003")) -> None:
    with gradebook(root) as gb:
        for name in assignments:
            gb.update_or_create_assignment(name)
            gb.update_or_create_notebook(name, name)
            gb.update_or_create_grade_cell("test_f", name, name, max_score=5.0, cell_type="code")
            gb.update_or_create_grade_cell("q_written", name, name, max_score=3.0, cell_type="markdown")
        for i, sid in enumerate(students):
            gb.update_or_create_student(sid, first_name=f"F{i}", last_name=f"L{i}", email=f"{sid}@x.org",
                                        lms_user_id=str(48000 + i) if sid != "s003" else None)


def grade(root: Path, assignment: str, student: str, auto: float, manual: float | None, when: dt.datetime):
    with gradebook(root) as gb:
        sub = gb.add_submission(assignment, student, timestamp=when)
        for g in sub.notebooks[0].grades:
            if g.cell.cell_type == "code":
                g.auto_score = auto
            else:
                g.manual_score = manual
                g.needs_manual_grade = manual is None
        gb.db.commit()


def late_penalties(root: Path, assignment: str, student: str, due_dates: dict, extensions: dict):
    """nbgrader's own late-penalty step, configured like nbgrader_config.py configures it."""
    step = CourseLatePenalties(due_dates=due_dates, extensions=extensions)
    resources = {"nbgrader": {"notebook": assignment, "assignment": assignment, "student": student,
                              "db_url": f"sqlite:///{root / 'gradebook.db'}"}}
    step.preprocess(nbformat.v4.new_notebook(), resources)


def test_due_dates_extensions_and_penalty_reach_the_gradebook(gb_path):
    small_course(gb_path)
    grade(gb_path, "01_a", "s001", 5.0, 3.0, DUE + dt.timedelta(hours=30))   # 2 started days late: -20 %
    grade(gb_path, "01_a", "s002", 5.0, 3.0, DUE + dt.timedelta(hours=30))   # 48 h extension: on time
    due = {"01_a": "2027-02-12 23:59:00"}
    ext = {"s002": {"01_a": 48}}
    for student in ("s001", "s002"):
        late_penalties(gb_path, "01_a", student, due, ext)
    with gradebook(gb_path) as gb:
        assert gb.find_assignment("01_a").duedate == DUE
        late, extended = gb.find_submission("01_a", "s001"), gb.find_submission("01_a", "s002")
        assert late.total_seconds_late == 30 * 3600
        assert late.late_submission_penalty == pytest.approx(0.2 * 8.0)
        assert extended.extension == dt.timedelta(hours=48) and extended.total_seconds_late == 0
        assert not extended.late_submission_penalty
        assert apply_schedule(gb, due, ext) == [], "applying the same schedule again changes nothing"


def test_config_holds_one_due_date_per_assignment_and_the_policy():
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assignments = sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir() and p.name[:2].isdigit())
    assert sorted(config.CourseLatePenalties.due_dates) == assignments
    assert config.PercentPerDayLate.percent_per_day == 10 and config.PercentPerDayLate.max_percent == 50
    assert CourseLatePenalties in config.Autograde.autograde_preprocessors
    assert config.ZipCollectApp.collector_plugin is lms.CanvasCollector
    assert config.MoodleCollector.timezone == "UTC" and config.CanvasExport.assignment_ids == {}


# ------------------------------------------------------------------------------- LMS exports

def exported(root: Path, plugin) -> list[list[str]]:
    with gradebook(root) as gb:
        plugin.export(gb)
    with open(plugin.to, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def graded_term(gb_path):
    """01_a: s001 graded and late (2 days), s002 waiting for manual grading; 02_b: nothing submitted."""
    small_course(gb_path)
    grade(gb_path, "01_a", "s001", 5.0, 3.0, DUE + dt.timedelta(hours=30))
    grade(gb_path, "01_a", "s002", 4.0, None, DUE - dt.timedelta(hours=1))
    grade(gb_path, "01_a", "s003", 1.0, 1.0, DUE)
    for student in ("s001", "s002", "s003"):
        late_penalties(gb_path, "01_a", student, {"01_a": "2027-02-12 23:59:00"}, {})
    return gb_path


def notes_of(root: Path, plugin) -> dict[str, str]:
    with open(root / "build" / "lms" / f"{Path(plugin.to).stem}-notes.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "lms_user_id", "notes"]
    return {r[0]: r[2] for r in rows[1:]}


def test_canvas_export_layout(graded_term):
    term = Config({"CourseLatePenalties": {"due_dates": {"01_a": "2027-02-12 23:59:00", "03_c": "2027-03-12"}}})
    plugin = lms.CanvasExport(to=str(graded_term / "canvas.csv"), assignment_ids={"01_a": 901}, config=term)
    rows = exported(graded_term, plugin)
    # Canvas' gradebook import (lib/gradebook_importer.rb): the identity columns of its own export, "Section" last,
    # one column per assignment released and graded ("name (Canvas id)"; 02_b has no submission, 03_c is not
    # released: a column would make Canvas create an assignment), "Points Possible" second; no Notes column.
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_a (901)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "8.00"]
    by_id = {r[1]: r for r in rows[2:]}
    assert set(by_id) == {"48000", "48001"}, "keyed by the Canvas user id; a student without one is left out"
    assert by_id["48000"][0] == "L0, F0"
    assert by_id["48000"][5] == "6.4", "late: 8 - 20 %"
    assert by_id["48001"][5] == "4"
    notes = notes_of(graded_term, plugin)
    assert "01_a: 2 day(s) late, -1.6 point(s)" in notes["s001"] and notes["s002"] == "01_a: needs manual grading"


def test_canvas_export_of_named_assignments(graded_term):
    plugin = lms.CanvasExport(to=str(graded_term / "canvas.csv"), assignment=["02_b", "01_a"])
    rows = exported(graded_term, plugin)
    assert rows[0][5:] == ["01_a", "02_b"], "named: those, by due date then name; no id given: the name"
    assert {r[1]: r[5:] for r in rows[2:]}["48000"] == ["6.4", ""], "never submitted: blank, not 0"
    with pytest.raises(ValueError, match="not in the gradebook: 09_z"):
        exported(graded_term, lms.CanvasExport(to=str(graded_term / "c.csv"), assignment=["09_z"]))


def test_moodle_export_layout(graded_term):
    plugin = lms.MoodleExport(to=str(graded_term / "moodle.csv"))
    rows = exported(graded_term, plugin)
    # Moodle's grade import maps an identity column (ID number or email) and one column per grade item,
    # titled like Moodle's own export: "Assignment: <name> (Real)"; no column it would have to ignore.
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", "Assignment: 01_a (Real)"]
    by_id = {r[2]: r for r in rows[1:]}
    assert by_id["48000"] == ["F0", "L0", "48000", "s001@x.org", "6.4"]
    assert by_id["48001"][4] == "4" and "needs manual grading" in notes_of(graded_term, plugin)["s002"]
    assert "48002" not in by_id and len(rows) == 3


def test_moodle_package_scales_to_moodles_maximum_and_names_files_for_its_importer(graded_term):
    """The feedback package of a Moodle class (actkit/grading/lms_feedback.py) on a synthetic graded course."""
    root = graded_term
    downloaded = root / "downloaded" / "01_a"
    downloaded.mkdir(parents=True)
    (downloaded / "lms_files.json").write_text(json.dumps({
        "s001": {"01_a.ipynb": {"lms": "Moodle", "lms_id": "1234570", "name": "F0 L0"}},
        "s002": {"01_a (1).ipynb": {"lms": "Moodle", "lms_id": "1234571", "name": "F1 L1"}}}))
    (downloaded / "worksheet.csv").write_text(  # no Feedback comments column; Moodle's maximum is 100
        '\ufeffIdentifier,"Full name",Status,Grade,"Maximum Grade","Grade can be changed",'
        '"Last modified (submission)","Last modified (grade)"\n'
        '"Participant 1234570","F0 L0",Submitted,,100.00,Yes,"14 February 2027, 5:59 AM",-\n'
        '"Participant 1234599","Someone Else",Submitted,,100.00,Yes,"14 February 2027, 5:59 AM",-\n',
        encoding="utf-8")
    page = root / "feedback" / "s001" / "01_a" / "01_a.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>feedback</html>")
    said = []
    made = lms_feedback.package(root, "01_a", say=said.append)
    with zipfile.ZipFile(made[0]) as zf:
        assert zf.namelist() == ["F0 L0_1234570_assignfeedback_file_01_a.html"], "s002 has no page: no entry"
    with open(made[1], newline="", encoding="utf-8-sig") as fh:
        rows = {r["Identifier"]: r for r in csv.DictReader(fh)}
    assert rows["Participant 1234570"]["Grade"] == "80.00", "6.4 of 8 on Moodle's 100"
    assert rows["Participant 1234599"]["Grade"] == "", "not collected here: left as downloaded"
    assert rows["Participant 1234570"]["Last modified (grade)"] == "-"
    assert any("no 'Feedback comments' column" in line for line in said)
    assert any("Maximum Grade 100.00 is not nbgrader's 8: grades scaled" in line for line in said)


# ------------------------------------------------------------------------------ LMS file names

CANVAS_NAMES = {  # file name in Canvas' "Download Submissions" zip -> (name, late?, Canvas user id, file)
    "lovelaceada_48213_9071234_01_activation_basics.ipynb": ("lovelaceada", False, "48213",
                                                             "01_activation_basics.ipynb"),
    "lovelaceada_LATE_48213_9071234_01_activation_basics.ipynb": ("lovelaceada", True, "48213",
                                                                  "01_activation_basics.ipynb"),
    "borelemile_late_48214_9071299_01_activation_basics-1.ipynb": ("borelemile", True, "48214",
                                                                   "01_activation_basics-1.ipynb"),
    "oneilmary_48215_9071300_Copy of 01_activation_basics (1).ipynb": ("oneilmary", False, "48215",
                                                                      "Copy of 01_activation_basics (1).ipynb"),
}
MOODLE_NAMES = {  # Moodle's "Download all submissions", flat and "in folders"
    "Ada Lovelace_1234567_assignsubmission_file_01_activation_basics.ipynb": ("Ada Lovelace", "1234567",
                                                                              "01_activation_basics.ipynb"),
    "Mary O'Neil_1234570_assignsubmission_file_/01_activation_basics (1).ipynb": ("Mary O'Neil", "1234570",
                                                                                 "01_activation_basics (1).ipynb"),
    "Alan Turing_1234571_assignsubmission_file/01_activation_basics.ipynb": ("Alan Turing", "1234571",  # 4.1+
                                                                           "01_activation_basics.ipynb"),
}


@pytest.mark.parametrize("name", sorted(CANVAS_NAMES))
def test_canvas_regexp_on_canvas_download_names(name):
    m = re.match(lms.CANVAS_REGEXP, f"/course/downloaded/01_activation_basics/extracted/submissions/{name}")
    assert m, "nbgrader matches the whole path"
    person, late, uid, file_id = CANVAS_NAMES[name]
    assert (m["name"], bool(m["late"]), m["lms_id"], m["file_id"]) == (person, late, uid, file_id)


@pytest.mark.parametrize("name", sorted(MOODLE_NAMES))
def test_moodle_regexp_on_moodle_download_names(name):
    m = re.match(lms.MOODLE_REGEXP, f"/course/downloaded/01_activation_basics/extracted/{name}")
    assert m and (m["name"], m["lms_id"], m["file_id"]) == MOODLE_NAMES[name]


def test_collectors_find_the_roster_id():
    canvas, moodle = lms.CanvasCollector(), lms.MoodleCollector()
    students = [{"id": "s001", "first_name": "Ada", "last_name": "Lovelace", "lms_user_id": "48213"},
                {"id": "s004", "first_name": "Mary", "last_name": "O'Neil", "lms_user_id": ""}]
    canvas._students = moodle._students = students
    got = canvas.collect("/c/downloaded/a/extracted/lovelaceada_LATE_48213_9071234_01_activation_basics-1.ipynb")
    assert got == {"student_id": "s001", "file_id": "01_activation_basics-1.ipynb"}
    got = moodle.collect("/c/downloaded/a/extracted/Mary O'Neil_1234570_assignsubmission_file_/x.ipynb")
    assert got["student_id"] == "s004", "Moodle's participant id is not a user id: found by name"
    got = moodle.collect("/c/downloaded/a/extracted/Mary O'Neil_48213_assignsubmission_file_/x.ipynb")
    assert got["student_id"] == "s004", "a participant id equal to another student's ID number: still by name"
    assert canvas.collect("/c/downloaded/a/extracted/smithjo_555_9_x.ipynb")["student_id"] == "555"
    assert canvas.collect("/c/downloaded/a/extracted/notes.txt") is None


def test_zip_collect_of_a_canvas_download(tmp_path, monkeypatch):
    """nbgrader's own zip_collect with the course's configuration on a Canvas-style zip file."""
    course = tmp_path / "course"
    (course / "release" / "01_activation_basics").mkdir(parents=True)
    nb = nbformat.writes(nbformat.v4.new_notebook())
    (course / "release" / "01_activation_basics" / "01_activation_basics.ipynb").write_text(nb)
    with gradebook(course) as gb:
        gb.update_or_create_student("s001", first_name="Ada", last_name="Lovelace", lms_user_id="48213")
    archive = course / "downloaded" / "01_activation_basics" / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as zf:
        zf.writestr("lovelaceada_LATE_48213_9071234_01_activation_basics-1.ipynb", nb)
        zf.writestr("borelemile_LATE_48214_9071299_01_activation_basics.ipynb", nb)
        zf.writestr("noetheremmy_48215_9071300_01_activation_basics.ipynb", nb)
    # the instructor's times CSV (actkit/grading/lms_times.py): by Canvas user id, one with a zone
    (archive.parent / "times.csv").write_text("id,timestamp\n48214,2027-02-15 10:30:00+01:00\n")
    from nbgrader.apps import ZipCollectApp

    monkeypatch.setenv("NBGRADER_COURSE_ROOT", str(course))
    monkeypatch.chdir(REPO)  # where nbgrader finds nbgrader_config.py
    app = ZipCollectApp()
    app.initialize(["01_activation_basics"])
    app.start()
    submitted = course / "submitted"
    assert (submitted / "s001" / "01_activation_basics" / "01_activation_basics-1.ipynb").is_file()
    assert (submitted / "48214" / "01_activation_basics" / "01_activation_basics.ipynb").is_file()
    stamp = {s: (submitted / s / "01_activation_basics" / "timestamp.txt") for s in ("s001", "48214", "48215")}
    # LATE_ without a time: 1 s after the course's due date (nbgrader_config.py), flagged; times CSV: its time (UTC)
    assert stamp["s001"].read_text() == "2027-02-12 23:59:01"
    assert stamp["48214"].read_text() == "2027-02-15 09:30:00"
    assert not stamp["48215"].exists(), "no marker and no time: no timestamp (on time)"
    notes = json.loads((course / "downloaded" / "01_activation_basics" / "lms_files.json").read_text())
    ada = notes["s001"]["01_activation_basics-1.ipynb"]
    assert ada["late"] and "LATE_48213" in ada["file"] and "exact time unknown" in ada["flag"]
    assert notes["48214"]["01_activation_basics.ipynb"]["time_source"] == "times CSV times.csv"
    assert not notes["48214"]["01_activation_basics.ipynb"]["flag"]


@pytest.mark.parametrize("text, zone, expected", [
    ("15 February 2027, 10:30 AM", "Europe/Berlin", dt.datetime(2027, 2, 15, 9, 30)),   # Moodle 3.x+, CET
    ("Friday, 12 February 2027, 11:00 PM", "UTC", dt.datetime(2027, 2, 12, 23, 0)),    # weekday first
    ("1 July 2027, 9:05 AM", "Europe/Berlin", dt.datetime(2027, 7, 1, 7, 5)),          # CEST, no leading zeros
    ("-", "UTC", None),
])
def test_moodle_worksheet_times(text, zone, expected):
    assert lms_times.parse_moodle_time(text, zone) == expected


def test_times_from_worksheet_and_times_csv(tmp_path):
    shutil.copy(FIXTURES / "moodle_grading_worksheet.csv", tmp_path)
    (tmp_path / "times.csv").write_text("id,timestamp\n1234571,2027-02-12 21:00\ns0009,2027-02-20 08:00:00\n")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    unread = []
    times = lms_times.read_times(tmp_path, "Europe/Berlin", unread.append)
    assert times["1234570"] == (dt.datetime(2027, 2, 15, 9, 30),
                                "Moodle grading worksheet moodle_grading_worksheet.csv")
    assert times["1234571"] == (dt.datetime(2027, 2, 12, 21, 0), "times CSV times.csv"), "the times CSV wins"
    assert times["s0009"][0] == dt.datetime(2027, 2, 20, 8, 0)
    assert len(unread) == 1 and "other.csv" in unread[0]


def test_downloads_and_exports_are_git_ignored():
    lines = (REPO / ".gitignore").read_text().splitlines()
    assert {"downloaded/", "students.csv", "grades_canvas.csv", "grades_moodle.csv"} <= set(lines)


# ------------------------------------------------------------------------- license, Makefile, README

def test_license_is_the_full_apache_2_text():
    text = (REPO / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    for clause in ("1. Definitions.", "4. Redistribution.", "9. Accepting Warranty or Additional Liability.",
                   "END OF TERMS AND CONDITIONS", "APPENDIX: How to apply the Apache License to your work."):
        assert clause in text, clause


def test_makefile_says_the_sandbox_is_on_by_default():
    text = (REPO / "Makefile").read_text()
    assert "ACTKIT_SANDBOX=1" not in text
    assert re.search(r"sandbox.*on by default", text)


def test_readme_has_the_instructors_term():
    text = (REPO / "README.md").read_text()
    # the LMS path: the instructor's term up to its JupyterHub path (which has nbgrader's exchange)
    section = text.split("## The instructor's term", 1)[1].split("\n## ", 1)[0].split("\n### On JupyterHub", 1)[0]
    for step in ("**Roster:**", "**Release:**", "**Collect from the LMS:**", "**Grade:**", "**Review flags:**",
                 "**Feedback:**", "**Export to the LMS:**", "make roster FILE=students.csv", "make similarity",
                 "make lms-feedback ASSIGNMENT=", "*Upload multiple feedback files in a zip*",
                 "*Upload grading worksheet*", "*Re-Upload Submissions*", "`YYYY-MM-DD HH:MM:SS`, UTC"):
        assert step in section, step
    assert "release_feedback" not in section, "the exchange's feedback is not part of the LMS round trip"
