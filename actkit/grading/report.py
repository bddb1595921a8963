"""Instructor report of one autograded assignment: a self-contained HTML page plus PNG figures.

``python -m actkit.grading.report <assignment>`` (``make report``, or ``actkit-grade <assignment> --report``)
reads the gradebook, the timing log of ``actkit-grade``, its flags and the similarity check
(:mod:`actkit.grading.similarity`) and writes ``build/report/<assignment>/``:

- ``scores.png``: distribution of the autograded scores;
- ``pass_rate.png``: share of submissions that passed each test cell (which tests fail most);
- ``time.png``: execution time per submission;
- ``index.html``: the three figures (embedded, so the page can be mailed as one file), each with a
  text alternative that says what it shows (the numbers, not "a chart"), the table per test cell,
  the submissions flagged for manual review or cut off by a timeout, the students not graded, and
  the pairs of submissions with similar answer code side by side.

The page comes from the Jinja2 template ``templates/report.html.j2`` (shipped with the package).
What students influence (folder names, flag lines, their code in the side-by-side view) is text: the
template autoescapes every value, and the page's Content-Security-Policy allows no script and no request
(a student's markup that slipped through would neither run nor call out; tests/test_xss.py opens it in Chromium).
Colours are readable with colour blindness: the Okabe-Ito palette (blue for "most pass", orange
and hatching for "most fail"), and every status is also written as a word.
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from actkit.grading.paths import similarity_path  # noqa: E402
from actkit.instructor.notebooks import REPO_ROOT, read_scores  # noqa: E402

__all__ = ["COLOURS", "PASS_MARK", "collect", "render", "write_report"]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
COLOURS = {"pass": "#0072B2", "fail": "#E69F00", "scores": "#0072B2", "time": "#009E73", "mark": "#F0E442"}
PASS_MARK = 50  # % of submissions: a test cell that fewer pass is marked "fail" (most submissions fail it)
TEMPLATE = "report.html.j2"


def collect(root: Path, assignment: str) -> dict:
    """Everything the report shows, as plain data (also handy for tests)."""
    scores = read_scores(root, assignment)
    log_path = root / "build" / "grading" / assignment / "executions.json"
    timing = json.loads(log_path.read_text()) if log_path.is_file() else {}
    flags_path = root / "build" / "grading" / assignment / "flags.json"
    flags = json.loads(flags_path.read_text()) if flags_path.is_file() else {}
    cells = sorted({c.grade_id for s in scores.values() for c in s.cells if c.auto})
    pass_rate = {
        cid: float(np.mean([next(c.score == c.max_score for c in s.cells if c.grade_id == cid)
                            for s in scores.values()])) if scores else 0.0
        for cid in cells
    }
    flagged = {student: list(reasons) for student, reasons in flags.items()}
    for student, entry in timing.items():
        reasons = flagged.setdefault(student, [])
        if entry.get("timed_out"):
            reasons.append("a cell was cut off by the timeout")
        if entry.get("kernel_died"):
            reasons.append("the kernel died (crash, exit or memory limit)")
        if entry.get("error"):
            reasons.append(f"execution failed: {entry['error']}")
    flagged = {s: r for s, r in flagged.items() if r}
    submitted = root / "submitted"
    ungraded = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.parent.name not in scores) \
        if submitted.is_dir() else []
    return {
        "assignment": assignment,
        "students": sorted(scores),
        "scores": {s: v.auto_score for s, v in scores.items()},
        "max_score": max((v.auto_max for v in scores.values()), default=0.0),
        "pass_rate": pass_rate,
        "seconds": {s: e["seconds"] for s, e in timing.items() if s in scores},
        "flagged": flagged,
        "ungraded": ungraded,  # handed in, no score (left for review): not in the mean or the pass rates
        "similarity": _similarity(root, assignment),
    }


def _similarity(root: Path, assignment: str) -> dict | None:
    path = similarity_path(root, assignment)
    return json.loads(path.read_text()) if path.is_file() else None


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def figures(data: dict, out: Path) -> list[dict]:
    """Draw the three figures into ``out``; for each its file, heading, caption and text alternative."""
    result = []
    values = np.array(list(data["scores"].values()), dtype=float)
    top = data["max_score"] or 1
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(values, bins=np.linspace(0, top, min(int(top), 20) + 1), color=COLOURS["scores"], edgecolor="white",
            label=_count(len(values), "submission"))
    ax.set(title=f"{data['assignment']}: autograded scores", xlabel=f"score (out of {top:g})", ylabel="submissions")
    ax.legend()
    if len(values):
        alt = (f"Histogram of the autograded scores of {_count(len(values), 'submission')}, from 0 to {top:g} "
               f"points: mean {values.mean():.1f}, median {np.median(values):g}, lowest {values.min():g}, highest "
               f"{values.max():g}; {int(np.sum(values >= top))} at full marks and {int(np.sum(values == 0))} at 0.")
    else:
        alt = "Histogram of the autograded scores: empty, no submission has been graded yet."
    result.append({"name": "scores", "heading": "Score distribution", "path": _save(fig, out / "scores.png"),
                   "alt": alt, "caption": "Autograded score of each submission (manually graded answers not "
                   "included)."})

    names = list(data["pass_rate"])
    rates = [100 * data["pass_rate"][n] for n in names]
    low = [r < PASS_MARK for r in rates]
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * max(len(names), 3) + 1.8))
    bars = ax.barh(names, rates, color=[COLOURS["fail" if x else "pass"] for x in low],
                   hatch=["//" if x else "" for x in low], edgecolor="black", linewidth=0.5)
    for bar, rate, x in zip(bars, rates, low, strict=True):  # the status in words, beside every bar
        ax.text(min(rate, 100) + 1, bar.get_y() + bar.get_height() / 2, f"{rate:.0f}% {'fail' if x else 'pass'}",
                va="center", fontsize=8)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor=COLOURS["pass"], edgecolor="black", label=f"pass: at least {PASS_MARK}%"),
                       Patch(facecolor=COLOURS["fail"], edgecolor="black", hatch="//",
                             label=f"fail: under {PASS_MARK}%")],
              loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False, fontsize=9)
    ax.set(title="Share of submissions passing each test cell", xlabel="% of submissions passing", xlim=(0, 118))
    ax.invert_yaxis()
    parts = [f"{n} {r:.0f}% ({'fail' if x else 'pass'})" for n, r, x in zip(names, rates, low, strict=True)]
    alt = (f"Horizontal bar chart of the share of submissions passing each of the {_count(len(names), 'test cell')}; "
           f"{sum(low)} passed by fewer than {PASS_MARK}% of submissions: " + "; ".join(parts) + "."
           if names else "Bar chart of the pass rate per test cell: empty, no test cell has been graded yet.")
    result.append({"name": "pass_rate", "heading": "Which tests fail most", "path": _save(fig, out / "pass_rate.png"),
                   "alt": alt, "caption": f"Blue, plain: most submissions pass (at least {PASS_MARK}%); orange, "
                   "hatched: most fail. The table below gives the same numbers."})

    students = sorted(data["seconds"], key=data["seconds"].get)
    seconds = np.array([data["seconds"][s] for s in students], dtype=float)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(range(len(students)), seconds, color=COLOURS["time"], label="execution time")
    ax.set(title="Execution time per submission", xlabel="submissions (sorted)", ylabel="seconds")
    ax.legend()
    if len(seconds):
        alt = (f"Bar chart of the execution time of each of {_count(len(seconds), 'submission')}, sorted from "
               f"shortest to longest: {seconds.min():.0f} s ({students[0]}) to {seconds.max():.0f} s "
               f"({students[-1]}), median {np.median(seconds):.0f} s.")
    else:
        alt = "Bar chart of the execution time per submission: empty, no execution was timed (graded by nbgrader)."
    result.append({"name": "time", "heading": "Time per submission", "path": _save(fig, out / "time.png"),
                   "alt": alt, "caption": "Seconds each submission took to execute on the grading workers."})
    return result


def render(data: dict, figs: list[dict]) -> str:
    """The HTML page, from the Jinja2 template shipped with the package."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("actkit.grading", "templates"), autoescape=select_autoescape(["j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    n = len(data["students"])
    pass_rows = []
    for cid, rate in data["pass_rate"].items():
        ok = 100 * rate >= PASS_MARK
        pass_rows.append({"cell": cid, "percent": f"{100 * rate:.0f}", "status": "pass" if ok else "fail",
                          "symbol": "\u2714" if ok else "\u2718"})
    return env.get_template(TEMPLATE).render(
        assignment=data["assignment"], n=n, max_score=data["max_score"],
        mean=float(np.mean(list(data["scores"].values()))) if n else 0.0,
        figures=[{**f, "b64": base64.b64encode(Path(f["path"]).read_bytes()).decode()} for f in figs],
        pass_rows=pass_rows, pass_mark=PASS_MARK, colours=COLOURS,
        flagged=sorted(data["flagged"].items()),
        ungraded=[(s, data["flagged"].get(s, [])) for s in data["ungraded"]],
        similarity=data.get("similarity"))


def write_report(root: Path, assignment: str, out: Path | None = None) -> Path:
    """Write the report of ``assignment`` for course directory ``root``; return the HTML path."""
    data = collect(root, assignment)
    out = out or root / "build" / "report" / assignment
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.html"
    index.write_text(render(data, figures(data, out)))
    return index


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the instructor report of an autograded assignment.")
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)
    print(write_report(args.root.resolve(), args.assignment))


if __name__ == "__main__":
    main()
