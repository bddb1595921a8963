"""``make demo``: the whole nbgrader loop for assignment 01 on three example students.

In a scratch course directory (``build/demo``, git-ignored) it generates the student version
from ``source/``, writes three submissions (ada: every answer right; ben: the blank release;
cleo: two functions wrong), autogrades them, generates feedback, exports the grades to CSV and
prints one line per student with the result of every autograded question.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import time
from pathlib import Path

import nbformat

from actkit.grading import sandbox
from actkit.instructor.notebooks import (
    REPO_ROOT,
    fresh_course,
    grade_cells,
    make_submission,
    nbgrader,
    notebook_of,
    read_scores,
    solution_cells,
)

ASSIGNMENT = "01_activation_basics"

# Two plausible mistakes for the "partial" student: the textbook sigmoid overflows (a
# RuntimeWarning at x = -1e4), and a softmax that ignores `axis` normalises over the whole array.
CLEO_MISTAKES = {
    "sigmoid": '''def sigmoid(x):
    x = np.asarray(x, dtype=float)
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=float)
''',
    "softmax": '''def softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    exps = np.exp(z - z.max())
    return exps / exps.sum()
''',
}


def demo_submissions(workdir: Path, assignment: str = ASSIGNMENT) -> dict[str, dict[str, str] | None]:
    """The three example students and the answers each one hands in (None = blank)."""
    right = solution_cells(nbformat.read(notebook_of(assignment), as_version=4))
    return {"ada": right, "ben": None, "cleo": {**right, **CLEO_MISTAKES}}


def sandbox_or_not(say) -> dict[str, str]:
    """The environment the demo autogrades in: where the sandbox cannot run, without it, after one line.

    The demo grades only the course's own code. Real submissions are never graded that way: ``nbgrader
    autograde`` and ``actkit-grade`` refuse in one line.
    """
    if not sandbox.enabled():
        return {}
    try:
        sandbox.require()
        return {}
    except sandbox.SandboxError as exc:
        say(f"note: {exc.cause}; the demo grades its three example students (the course's own code) without "
            f"the sandbox{'. To grade real submissions, ' + exc.fix if exc.fix else ''}")
        return {sandbox.ENV_SWITCH: "0"}


def run_demo(workdir: Path, assignment: str = ASSIGNMENT, quiet: bool = False) -> dict:
    """Run the loop in ``workdir``; return the scores read back from its gradebook."""
    say = (lambda *a: None) if quiet else print
    t0 = time.perf_counter()
    grading_env = sandbox_or_not(say)
    fresh_course(workdir, [assignment])
    say(f"course directory: {workdir}")
    nbgrader("generate_assignment", assignment, "--force", root=workdir)
    released = notebook_of(assignment, "release", workdir)
    committed = REPO_ROOT / "release" / assignment / released.name
    say(f"1. generated the student version {released.relative_to(workdir)}"
        + ("" if committed.exists() and filecmp.cmp(committed, released, shallow=False)
           else "  (NOTE: differs from the committed release/: run `make release`)"))
    for student, answers in demo_submissions(workdir, assignment).items():
        make_submission(released, workdir / "submitted" / student / assignment / released.name, answers=answers)
    say("2. wrote submissions: ada (all right), ben (blank), cleo (sigmoid and softmax wrong)")
    nbgrader("autograde", assignment, "--create", "--force", root=workdir, env=grading_env)
    say("3. autograded them")
    nbgrader("generate_feedback", assignment, "--force", root=workdir)
    say(f"4. feedback in {(workdir / 'feedback').relative_to(workdir)}/<student>/{assignment}/")
    csv_path = workdir / "grades.csv"
    nbgrader("export", f"--to={csv_path}", root=workdir)
    say(f"5. grades exported to {csv_path}")
    scores = read_scores(workdir, assignment)
    order = list(grade_cells(nbformat.read(notebook_of(assignment), as_version=4)))
    say("")
    say(format_table(scores, order))
    say(f"\n(manually graded points are not included; demo took {time.perf_counter() - t0:.0f} s)")
    return scores


def format_table(scores: dict, order: list[str] | None = None) -> str:
    """A plain-text table: student, autograded score, maximum, and each test cell's result.

    ``order`` lists grade ids in notebook order (default: alphabetical).
    """
    any_score = next(iter(scores.values()))
    cells = [c.grade_id for c in any_score.cells if c.auto]
    if order:
        cells.sort(key=lambda gid: order.index(gid) if gid in order else len(order))
    header = ["student", "score", "max"] + [c.removeprefix("test_") for c in cells]
    rows = []
    for student, s in sorted(scores.items()):
        by_id = {c.grade_id: c for c in s.cells}
        marks = []
        for cid in cells:
            c = by_id[cid]
            marks.append("ok" if c.score == c.max_score else ("0" if not c.score else f"{c.score:g}"))
        rows.append([student, f"{s.auto_score:g}", f"{s.auto_max:g}", *marks])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "build" / "demo")
    args = parser.parse_args(argv)
    run_demo(args.workdir.resolve())


if __name__ == "__main__":
    main()
