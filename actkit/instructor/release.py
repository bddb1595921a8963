"""``make release``: regenerate the student versions in ``release/`` from ``source/`` with nbgrader.

Runs ``nbgrader generate_assignment <name> --force`` in the course directory (this repository)
for every assignment in ``source/``; this also records the assignments in the gradebook, as the
instructor's real course needs before autograding. Commit ``release/`` afterwards: a test fails
when the committed release differs from what ``source/`` generates.

A source notebook with unpaired ``### BEGIN/END`` markers or a test cell without points is refused
before nbgrader runs (the same checks as ``actkit-grade``), so that a half-marked hidden test can
never reach the students.

It first reads ``course.toml`` (the public student repository and its ref; an unset or placeholder
repository is refused in one line) and gives every lecture in ``notebooks/`` its "Open in Colab" badge
and setup cell (:mod:`actkit.instructor.course`); nbgrader adds the same two cells to every released notebook.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actkit.instructor.course import require_settings, update_lectures
from actkit.instructor.notebooks import REPO_ROOT, assignments, nbgrader


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate release/ from source/.")
    parser.add_argument("names", nargs="*", help="assignments to release (default: all in source/)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    args = parser.parse_args(argv)
    repo = require_settings()  # before the grading side loads: an unset setting is refused at once
    from actkit.grading.preflight import check_instructor_input

    names = args.names or assignments(args.root)
    for name in names:
        check_instructor_input(args.root.resolve(), name)
    for name in names:
        nbgrader("generate_assignment", name, "--force", root=args.root.resolve())
        print(f"release/{name}: generated")
    if args.root.resolve() == REPO_ROOT:
        for path in update_lectures(repo):
            print(f"{path.relative_to(REPO_ROOT)}: Colab badge and setup cell updated")


if __name__ == "__main__":
    main()
