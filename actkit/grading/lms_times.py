"""Submission times from the LMS, for nbgrader's ``timestamp.txt`` (``nbgrader zip_collect``).

**Where the LMS gives the time.** Neither LMS writes it into the download itself:

- the file names carry none (Canvas: ``<lastfirst>_[LATE_]<user id>_<file id>_<name>``, from
  ``ContentZipper#get_filename``; Moodle: ``<Full name>_<participant id>_assignsubmission_file...``,
  from ``mod_assign\\downloader``), only Canvas' ``LATE_`` marker says "after the due date";
- the zip entries' times are the time of the download: Canvas writes its zip with rubyzip's
  ``get_output_stream`` and Moodle with ZipStream's ``addFileFromStream``, neither passing a time;
- Moodle's **grading worksheet** (Submissions, "Download grading worksheet"; the assignment needs
  the "Offline grading worksheet" feedback type) has a column ``Last modified (submission)``:
  ``userdate()`` in the language's ``strftimedatetime`` (English: ``13 February 2027, 9:15 AM``;
  before Moodle 3.x ``Saturday, 13 February 2027, 9:15 AM``), in the downloading user's time zone,
  which the file does not name: ``c.MoodleCollector.timezone`` (an IANA name, default ``UTC``).

**What zip_collect records** (:class:`actkit.grading.lms.CanvasCollector`, ``MoodleCollector``),
for each student, the first that applies:

1. a **times CSV** the instructor puts in ``downloaded/<assignment>/`` (any name ending ``.csv``)
   with the header ``id,timestamp``: ``id`` is the nbgrader student id or the LMS id in the file
   name (Canvas user id, Moodle participant id); ``timestamp`` is the submission time, ISO 8601
   ``YYYY-MM-DD HH:MM[:SS]`` in UTC unless it ends with an offset (``+01:00``) or zone;
2. Moodle's grading worksheet, saved unedited in ``downloaded/<assignment>/`` (any ``.csv`` name);
3. Canvas' ``LATE_`` marker with the due date of ``c.CourseLatePenalties.due_dates``: the earliest
   time the marker allows, one second after the due date (so the first day's penalty), **flagged**
   "late, exact time unknown" in ``downloaded/<assignment>/lms_files.json``, in the log and in the
   export's notes file; give the time in a times CSV for the real penalty. A ``LATE_`` file without a
   due date gets no time and the same flag.

nbgrader writes the time into ``submitted/<student>/<assignment>/timestamp.txt`` as
``YYYY-MM-DD HH:MM:SS`` (UTC; ``datetime.isoformat(" ")``), the format it reads back when grading
(``nbgrader.utils.parse_utc``); a ``timestamp.txt`` written by hand takes the same format. A
submission without one is never late (:mod:`actkit.grading.late`).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from nbgrader.utils import parse_utc

__all__ = ["WORKSHEET_TIME", "parse_moodle_time", "read_times", "worksheet_rows"]

WORKSHEET_TIME = "Last modified (submission)"
PARTICIPANT = re.compile(r"^\D*(\d+)$")  # "Participant 1234567"


def parse_moodle_time(text: str, timezone: str = "UTC") -> dt.datetime | None:
    """A worksheet time (``13 February 2027, 9:15 AM``, a weekday first allowed) as naive UTC; None for ``-``."""
    text = re.sub(r"^[A-Za-z]+day,\s*", "", text.strip())
    if not text or text == "-":
        return None
    local = dt.datetime.strptime(text, "%d %B %Y, %I:%M %p").replace(tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return [row for row in csv.reader(fh) if any(cell.strip() for cell in row)]


def worksheet_rows(path: Path) -> list[dict[str, str]] | None:
    """The rows of a Moodle grading worksheet, or None if ``path`` is not one."""
    table = _read(path)
    if not table or "Identifier" not in table[0] or WORKSHEET_TIME not in table[0]:
        return None
    return [dict(zip(table[0], row, strict=False)) for row in table[1:]]


def read_times(folder: Path, timezone: str = "UTC", log=None) -> dict[str, tuple[dt.datetime, str]]:
    """Key (student id, LMS id or Moodle participant id) -> (naive UTC time, where it comes from)."""
    times: dict[str, tuple[dt.datetime, str]] = {}
    for path in sorted(Path(folder).glob("*.csv")):
        rows = worksheet_rows(path)
        if rows is not None:
            for row in rows:
                found = PARTICIPANT.match(row.get("Identifier", "").strip())
                when = parse_moodle_time(row.get(WORKSHEET_TIME, ""), timezone)
                if found and when:
                    times.setdefault(found.group(1), (when, f"Moodle grading worksheet {path.name}"))
            continue
        table = _read(path)
        if table and [h.strip().lower() for h in table[0][:2]] == ["id", "timestamp"]:
            for row in table[1:]:
                if len(row) > 1 and row[0].strip() and row[1].strip():
                    times[row[0].strip()] = (parse_utc(row[1].strip()), f"times CSV {path.name}")
        elif log:
            log(f"{path}: neither a times CSV (id,timestamp) nor a Moodle grading worksheet: not read")
    return times
