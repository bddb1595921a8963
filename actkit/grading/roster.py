"""The class list into the gradebook: ``make roster FILE=<file>``.

``python -m actkit.grading.roster <file> [--root COURSE]`` takes, unedited, any of:

- **Canvas' gradebook export** (Grades, Export, "Export Entire Gradebook"): ``Student`` ("Last,
  First"), ``ID`` (the Canvas user id), ``SIS User ID``, ``SIS Login ID``, ``Section``, then the
  assignments. Its ``Points Possible`` row, its "Manual Posting" row and the Test Student of Student
  View (``Student, Test``) are not students and are left out. (``LastName``, ``FirstName`` instead
  of ``Student`` is read too.)
- **Moodle's participants download** (Participants, select all, "Download table data as" CSV):
  ``First name``, ``Last name`` and the site's identity fields (``ID number``, ``Email address``, ...).
- **Moodle's grades export** (Grades, Export, "Plain text file"): the same identity columns, then
  one column per grade item (``Assignment: ... (Real)``), which are ignored.
- **The course's own format**: ``id,first_name,last_name,email,lms_user_id`` (``student_id`` is
  accepted for ``id``, ``lms_id`` for ``lms_user_id``); ``id`` is taken as it is.

The first line printed names the format found; a file of none of these is refused in one line. The
shapes of the LMS files and where they come from: ``tests/fixtures/lms/README.md``.

**The student id** (the folder name under ``submitted/``) of an LMS file is derived, always the same
way: the Canvas *SIS Login ID* or the Moodle *ID number* (else the Moodle *Username*, else the
*Email address*; a Canvas row without a login becomes ``canvas-<ID>``), lower-cased, accents
dropped (``É`` -> ``e``), and every character other than ``a-z 0-9 . _ - @`` replaced by ``-``
(``Ada.Lovelace@Uni.EDU`` -> ``ada.lovelace@uni.edu``, ``S 0012`` -> ``s-0012``). The LMS id
(``lms_user_id``) is the Canvas user id (``ID``), which Canvas' downloads and imports match on, or
the Moodle ID number, which its grade import maps with "useridnumber".

Each student becomes an nbgrader ``Student`` (first_name, last_name, email, lms_user_id), so the
formgrader shows names and the LMS files (:mod:`actkit.grading.lms`) find the LMS ids. Running it
again is safe: students are added or updated, never removed, and an unchanged list changes nothing.
A blank cell leaves what the gradebook holds.
"""

from __future__ import annotations

import argparse
import csv
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from actkit.instructor.notebooks import REPO_ROOT

__all__ = ["FIELDS", "derive_id", "detect", "import_roster", "read_roster"]

FIELDS = ("first_name", "last_name", "email", "lms_user_id")
ALIASES = {"student_id": "id", "lms_id": "lms_user_id"}
TEST_STUDENT = {"student, test", "test student"}  # Canvas' Student View user
MOODLE_GRADE_COLUMN = re.compile(r"\((Real|Percentage|Letter)\)$|^Last downloaded from this course$")


@dataclass
class RosterResult:
    added: list[str]
    updated: list[str]
    unchanged: list[str]

    def summary(self) -> str:
        return (f"roster: {len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged")


def derive_id(value: str) -> str:
    """The folder-safe student id of an LMS login or ID number (the rule in the module docstring)."""
    plain = unicodedata.normalize("NFKD", value.strip()).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9._@-]", "-", plain).lstrip(".")


def detect(header: list[str]) -> str:
    """``canvas``, ``moodle-grades``, ``moodle-participants``, ``course`` or ``unknown``."""
    names = [h.strip() for h in header]
    if names[:2] in (["Student", "ID"], ["LastName", "FirstName"]) and "Section" in names:
        return "canvas"
    if names[:2] == ["First name", "Last name"]:
        return "moodle-grades" if any(MOODLE_GRADE_COLUMN.search(h) for h in names) else "moodle-participants"
    if "id" in {ALIASES.get(h.lower(), h.lower()) for h in names}:
        return "course"
    return "unknown"


KINDS = {"canvas": "a Canvas gradebook export", "moodle-grades": "a Moodle grades export",
         "moodle-participants": "a Moodle participants download", "course": "the course's own roster format"}


def _canvas(rows: list[dict], skipped: list[str]) -> list[dict]:
    out = []
    for row in rows:
        name = (row.get("Student") or f"{row.get('LastName', '')}, {row.get('FirstName', '')}").strip()
        if name.endswith("Points Possible") or not (row.get("ID") or "").strip():
            posting = any(re.match(r"(Muted|Manual Posting)", v or "") for v in row.values())
            skipped.append("the Points Possible row" if "Points Possible" in name else
                           "the Manual Posting row" if posting else "a row without an ID")
            continue
        if name.lower() in TEST_STUDENT:
            skipped.append("Test Student")
            continue
        last, _, first = name.partition(", ")
        login, uid = (row.get("SIS Login ID") or "").strip(), row["ID"].strip()
        out.append({"id": derive_id(login) if login else f"canvas-{derive_id(uid)}", "first_name": first.strip(),
                    "last_name": last.strip(), "email": login if "@" in login else "", "lms_user_id": uid})
    return out


def _moodle(rows: list[dict], skipped: list[str]) -> list[dict]:
    out = []
    for row in rows:
        number, email = (row.get("ID number") or "").strip(), (row.get("Email address") or "").strip()
        key = number or (row.get("Username") or "").strip() or email
        if not key:
            skipped.append(f"{row.get('First name', '')} {row.get('Last name', '')} (no ID number, username or email)")
            continue
        out.append({"id": derive_id(key), "first_name": (row.get("First name") or "").strip(),
                    "last_name": (row.get("Last name") or "").strip(), "email": email, "lms_user_id": number})
    return out


def _course(path: Path, header: list[str], rows: list[list[str]]) -> list[dict]:
    names = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    unknown = sorted(set(names) - {"id", *FIELDS})
    if unknown:
        raise SystemExit(f"error: {path}: unknown column(s) {', '.join(unknown)} (known: id, {', '.join(FIELDS)})")
    return [{h: (v or "").strip() for h, v in zip(names, raw, strict=False)} for raw in rows]


def read_roster(path: Path, say=None) -> list[dict[str, str]]:
    """The students of a roster file (any format above; UTF-8, a byte-order mark allowed), checked.

    ``say`` receives the one line naming the format. ``SystemExit`` with one line if the file is wrong.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        table = [row for row in csv.reader(fh) if any(cell.strip() for cell in row)]
    header, body = (table[0], table[1:]) if table else ([], [])
    kind = detect(header)
    if kind == "unknown":
        raise SystemExit(f"error: {path}: not a roster this course reads (found columns: "
                         f"{', '.join(h.strip() for h in header) or 'none'}); expected a Canvas gradebook "
                         "export, a Moodle participants download or grades export, or "
                         "id,first_name,last_name,email,lms_user_id")
    skipped: list[str] = []
    if kind == "course":
        rows = _course(path, header, body)
    else:
        records = [dict(zip([h.strip() for h in header], raw, strict=False)) for raw in body]
        rows = _canvas(records, skipped) if kind == "canvas" else _moodle(records, skipped)
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        sid = row["id"]
        if not sid or "/" in sid or sid.startswith("."):
            raise SystemExit(f"error: {path}, student {number}: {sid!r} is not a usable student id")
        if sid in seen:
            raise SystemExit(f"error: {path}, student {number}: student id {sid!r} is also student {seen[sid]}")
        seen[sid] = number
    if say:
        left_out = f"; not students: {', '.join(sorted(set(skipped)))}" if skipped else ""
        say(f"roster: {path.name} is {KINDS[kind]} ({len(rows)} students{left_out})")
    return rows


def import_roster(root: Path, path: Path, say=None) -> RosterResult:
    """Add or update every student of the roster ``path`` in the gradebook of course ``root``."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = read_roster(path, say)
    result = RosterResult([], [], [])
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's notes about nbgrader's session use
        for row in rows:
            values = {f: row[f] for f in FIELDS if row.get(f)}
            try:
                student = gb.find_student(row["id"])
            except MissingEntry:
                gb.add_student(row["id"], **values)
                result.added.append(row["id"])
                continue
            if all(getattr(student, f) == v for f, v in values.items()):
                result.unchanged.append(row["id"])
            else:
                gb.update_or_create_student(row["id"], **values)
                result.updated.append(row["id"])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actkit.grading.roster", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="Canvas gradebook export, Moodle participants or grades export, "
                                                "or a CSV with id,first_name,last_name,email,lms_user_id")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        raise SystemExit(f"error: no roster file {args.file}")
    print(import_roster(args.root.resolve(), args.file, say=print).summary())


if __name__ == "__main__":
    main()
