"""The class list into the gradebook: ``make roster FILE=students.csv``.

``python -m actkit.grading.roster students.csv [--root COURSE]`` reads a CSV file with a header row
and one student per line::

    id,first_name,last_name,email,lms_user_id
    s001,Ada,Lovelace,ada@example.org,48213

``id`` is the nbgrader student id (the folder name under ``submitted/``); the other columns are
optional (``student_id`` is accepted for ``id``, ``lms_id`` for ``lms_user_id``). Each line becomes
an nbgrader ``Student`` (first_name, last_name, email, lms_user_id), so the formgrader shows names
and the LMS exports (:mod:`actkit.grading.lms`) find the LMS ids. Running it again is safe:
students are added or updated, never removed, and an unchanged list changes nothing. A blank cell
leaves what the gradebook holds.
"""

from __future__ import annotations

import argparse
import csv
import warnings
from dataclasses import dataclass
from pathlib import Path

from actkit.notebooks import REPO_ROOT

__all__ = ["FIELDS", "import_roster", "read_roster"]

FIELDS = ("first_name", "last_name", "email", "lms_user_id")
ALIASES = {"student_id": "id", "lms_id": "lms_user_id"}


@dataclass
class RosterResult:
    added: list[str]
    updated: list[str]
    unchanged: list[str]

    def summary(self) -> str:
        return (f"roster: {len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged")


def read_roster(path: Path) -> list[dict[str, str]]:
    """The rows of a roster CSV (UTF-8, a byte-order mark allowed), checked; ``SystemExit`` if wrong."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in reader.fieldnames or []]
        if "id" not in header:
            raise SystemExit(f"error: {path}: the header has no 'id' column (found: {', '.join(header) or 'none'})")
        unknown = sorted(set(header) - {"id", *FIELDS})
        if unknown:
            raise SystemExit(f"error: {path}: unknown column(s) {', '.join(unknown)} "
                             f"(known: id, {', '.join(FIELDS)})")
        rows, seen = [], {}
        for line, raw in enumerate(reader, start=2):
            row = {h: (v or "").strip() for h, v in zip(header, raw.values(), strict=False)}
            if not any(row.values()):
                continue
            sid = row["id"]
            if not sid or "/" in sid or sid.startswith("."):
                raise SystemExit(f"error: {path}, line {line}: {sid!r} is not a usable student id")
            if sid in seen:
                raise SystemExit(f"error: {path}, line {line}: student id {sid!r} is also on line {seen[sid]}")
            seen[sid] = line
            rows.append(row)
    return rows


def import_roster(root: Path, path: Path) -> RosterResult:
    """Add or update every student of the roster ``path`` in the gradebook of course ``root``."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = read_roster(path)
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
    parser.add_argument("file", type=Path, help="CSV with id, first_name, last_name, email, lms_user_id")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        raise SystemExit(f"error: no roster file {args.file}")
    print(import_roster(args.root.resolve(), args.file).summary())


if __name__ == "__main__":
    main()
