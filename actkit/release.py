"""``make release``: regenerate the student versions in ``release/`` from ``source/`` with nbgrader.

Runs ``nbgrader generate_assignment <name> --force`` in the course directory (this repository)
for every assignment in ``source/``; this also records the assignments in the gradebook, as the
instructor's real course needs before autograding. Commit ``release/`` afterwards: a test fails
when the committed release differs from what ``source/`` generates.

A source notebook with unpaired ``### BEGIN/END`` markers or a test cell without points is refused
before nbgrader runs (the same checks as ``actkit-grade``), so that a half-marked hidden test can
never reach the students.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actkit.grading.preflight import check_instructor_input
from actkit.notebooks import REPO_ROOT, assignments, nbgrader


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate release/ from source/.")
    parser.add_argument("names", nargs="*", help="assignments to release (default: all in source/)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    args = parser.parse_args(argv)
    names = args.names or assignments(args.root)
    for name in names:
        check_instructor_input(args.root.resolve(), name)
    for name in names:
        nbgrader("generate_assignment", name, "--force", root=args.root.resolve())
        print(f"release/{name}: generated")


if __name__ == "__main__":
    main()
