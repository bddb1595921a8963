"""Due dates, extensions and the late policy of the course, in nbgrader's own terms.

**One place.** The due dates (UTC) and the per-student extensions are the ``due_dates`` and
``extensions`` settings of :class:`CourseLatePenalties` in ``nbgrader_config.py``::

    c.CourseLatePenalties.due_dates = {"01_activation_basics": "2027-02-15 23:59:00"}
    c.CourseLatePenalties.extensions = {"s017": {"01_activation_basics": 48}}   # hours

:func:`apply_schedule` writes them into the gradebook (nbgrader's ``Assignment.duedate`` and
``SubmittedAssignment.extension``, so the formgrader shows them too); ``nbgrader autograde`` and
``actkit-grade`` do it before they assign late penalties, and ``python -m actkit.grading.late``
does it on its own (and prints the schedule).

**The late policy** (:class:`PercentPerDayLate`, nbgrader's ``LateSubmissionPlugin``): a
submission after its due date (plus the student's extension) loses ``percent_per_day`` per started
day late, at most ``max_percent`` of its score: with the defaults 10 % per day, capped at 50 %
(1 minute late: -10 %; 26 hours: -20 %; 9 days: -50 %). The time of a submission is nbgrader's
``timestamp.txt`` (written by ``nbgrader collect``, by ``zip_collect`` when the LMS file name has
one, or by hand). A submission without a timestamp is never late. The penalty is stored per
notebook by nbgrader (``late_submission_penalty``) and shown in the LMS exports
(:mod:`actkit.grading.lms`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import warnings
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties
from nbgrader.utils import parse_utc
from traitlets import Dict, Float, Type

from actkit.instructor.notebooks import REPO_ROOT

__all__ = ["CourseLatePenalties", "PercentPerDayLate", "apply_schedule", "days_late", "penalty_percent"]

DAY = 86400.0


def days_late(seconds_late: float) -> int:
    """Started days late: 0 for on time, 1 for anything up to 24 hours, and so on."""
    return math.ceil(seconds_late / DAY) if seconds_late > 0 else 0


def penalty_percent(seconds_late: float, percent_per_day: float = 10.0, max_percent: float = 50.0) -> float:
    """The share of the score (in %) a submission ``seconds_late`` late loses."""
    return min(max_percent, percent_per_day * days_late(seconds_late))


class PercentPerDayLate(LateSubmissionPlugin):
    """``percent_per_day`` of the score per started day late, at most ``max_percent``."""

    percent_per_day = Float(10.0, help="Share of the score lost per started day late, in %").tag(config=True)
    max_percent = Float(50.0, help="The most a late submission can lose, in % of its score").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        percent = penalty_percent(total_seconds_late, self.percent_per_day, self.max_percent)
        self.log.info("%s: %d day(s) late, -%g %%", student_id, days_late(total_seconds_late), percent)
        return score * percent / 100.0


def _hours(value) -> float:
    hours = float(value)
    if hours < 0 or not math.isfinite(hours):
        raise ValueError(f"an extension must be a number of hours >= 0, not {value!r}")
    return hours


def apply_schedule(gradebook, due_dates: dict, extensions: dict, assignments=None) -> list[str]:
    """Write the due dates and extensions into an open nbgrader ``Gradebook``; return what changed.

    ``due_dates``: assignment -> date (a string nbgrader's ``parse_utc`` reads; UTC unless it names
    a zone). ``extensions``: student -> {assignment -> hours}. An extension of a student who has not
    submitted yet is kept in the configuration and written once the submission exists. Only
    assignments already in the gradebook (released) get a due date.
    """
    from nbgrader.api import MissingEntry

    changes = []
    known = {a.name: a for a in gradebook.assignments}
    for name, when in due_dates.items():
        if (assignments and name not in assignments) or name not in known:
            continue
        due = parse_utc(when) if when else None
        if known[name].duedate != due:
            gradebook.update_or_create_assignment(name, duedate=due)
            changes.append(f"{name}: due {due:%Y-%m-%d %H:%M} UTC" if due else f"{name}: no due date")
    for student, per_assignment in extensions.items():
        for name, hours in per_assignment.items():
            if (assignments and name not in assignments) or name not in known:
                continue
            try:
                submission = gradebook.find_submission(name, student)
            except MissingEntry:
                continue
            wanted = dt.timedelta(hours=_hours(hours)) if _hours(hours) else None
            if submission.extension != wanted:
                gradebook.grant_extension(name, student, hours=_hours(hours))
                changes.append(f"{student} / {name}: extension {_hours(hours):g} h")
    return changes


class CourseLatePenalties(AssignLatePenalties):
    """nbgrader's ``AssignLatePenalties`` with the course's due dates and extensions applied first."""

    plugin_class = Type(PercentPerDayLate, klass=LateSubmissionPlugin,
                        help="The late policy (a LateSubmissionPlugin)").tag(config=True)
    due_dates = Dict(help="assignment -> due date (UTC unless a zone is given)").tag(config=True)
    extensions = Dict(help="student -> {assignment -> extension in hours}").tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with warnings.catch_warnings(), Gradebook(info["db_url"]) as gb:
            warnings.simplefilter("ignore")  # SQLAlchemy's notes about nbgrader's session use
            apply_schedule(gb, self.due_dates, {info["student"]: self.extensions.get(info["student"], {})},
                           assignments=[info["assignment"]])
        return super().preprocess(nb, resources)


def course_schedule(root: Path) -> tuple[dict, dict]:
    """(due_dates, extensions) as ``nbgrader_config.py`` sets them for course ``root``."""
    from actkit.grading.parallel import course_config

    config = course_config(root).get("CourseLatePenalties", {})
    return dict(config.get("due_dates", {})), dict(config.get("extensions", {}))


def main(argv: list[str] | None = None) -> None:
    from nbgrader.api import Gradebook

    parser = argparse.ArgumentParser(prog="python -m actkit.grading.late",
                                     description="Write the due dates and extensions into the gradebook.")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    due_dates, extensions = course_schedule(root)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        for line in apply_schedule(gb, due_dates, extensions) or ["due dates and extensions: nothing to change"]:
            print(line)


if __name__ == "__main__":
    main()
