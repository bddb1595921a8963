"""Instructor report of one autograded assignment: a self-contained HTML page plus PNG figures.

``python -m actkit.report <assignment>`` (or ``actkit-grade <assignment> --report``) reads the
gradebook and the timing log of ``actkit-grade`` and writes ``build/report/<assignment>/``:

- ``scores.png``: distribution of the autograded scores;
- ``pass_rate.png``: share of submissions that passed each test cell (which tests fail most);
- ``time.png``: execution time per submission;
- ``index.html``: the three figures (embedded, so the page can be mailed as one file), the table
  per question, and the submissions flagged for manual review or cut off by a timeout.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from actkit.notebooks import REPO_ROOT, read_scores  # noqa: E402

__all__ = ["collect", "write_report"]


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
    }


def _figures(data: dict, out: Path) -> dict[str, Path]:
    paths = {}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    values = list(data["scores"].values())
    top = data["max_score"] or 1
    ax.hist(values, bins=np.linspace(0, top, min(int(top), 20) + 1), color="tab:blue", edgecolor="white",
            label=f"{len(values)} submissions")
    ax.set(title=f"{data['assignment']}: autograded scores", xlabel=f"score (out of {top:g})",
           ylabel="submissions")
    ax.legend()
    paths["scores"] = out / "scores.png"
    fig.tight_layout()
    fig.savefig(paths["scores"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 0.35 * max(len(data["pass_rate"]), 3) + 1.2))
    names = list(data["pass_rate"])
    rates = [100 * data["pass_rate"][n] for n in names]
    ax.barh(names, rates, color=["tab:red" if r < 50 else "tab:green" for r in rates], label="passed")
    ax.set(title="Share of submissions passing each test cell", xlabel="% of submissions", xlim=(0, 100))
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    paths["pass_rate"] = out / "pass_rate.png"
    fig.tight_layout()
    fig.savefig(paths["pass_rate"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    students = sorted(data["seconds"], key=data["seconds"].get)
    ax.bar(range(len(students)), [data["seconds"][s] for s in students], color="tab:purple",
           label="execution time")
    ax.set(title="Execution time per submission", xlabel="submissions (sorted)", ylabel="seconds")
    ax.legend()
    paths["time"] = out / "time.png"
    fig.tight_layout()
    fig.savefig(paths["time"], dpi=100)
    plt.close(fig)
    return paths


def write_report(root: Path, assignment: str, out: Path | None = None) -> Path:
    """Write the report of ``assignment`` for course directory ``root``; return the HTML path."""
    data = collect(root, assignment)
    out = out or root / "build" / "report" / assignment
    out.mkdir(parents=True, exist_ok=True)
    figures = _figures(data, out)

    def img(name: str, alt: str) -> str:
        b64 = base64.b64encode(figures[name].read_bytes()).decode()
        return f'<img alt="{alt}" src="data:image/png;base64,{b64}">'

    n = len(data["students"])
    mean = np.mean(list(data["scores"].values())) if n else 0.0
    rows = "".join(
        f"<tr><td>{html.escape(cid)}</td><td>{100 * rate:.0f}%</td></tr>" for cid, rate in data["pass_rate"].items()
    )
    flagged = "".join(
        f"<li><b>{html.escape(s)}</b>: {html.escape('; '.join(r))}</li>" for s, r in sorted(data["flagged"].items())
    ) or "<li>none</li>"
    ungraded = "".join(
        f"<li><b>{html.escape(s)}</b>: {html.escape('; '.join(data['flagged'].get(s, [])) or 'no score')}</li>"
        for s in data["ungraded"]) or "<li>none</li>"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report: {html.escape(assignment)}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}td,th{{padding:2px 10px}}
img{{max-width:100%}}</style></head><body>
<h1>Autograding report: {html.escape(assignment)}</h1>
<p>{n} submissions; mean autograded score {mean:.1f} / {data['max_score']:g}
(manually graded answers not included); {len(data['ungraded'])} not graded, left out of the mean
and the pass rates (<a href="#ungraded">listed below</a>).</p>
<h2>Score distribution</h2>{img("scores", "histogram of scores")}
<h2>Which tests fail most</h2>{img("pass_rate", "pass rate per test cell")}
<table><tr><th>test cell</th><th>passed</th></tr>{rows}</table>
<h2>Time per submission</h2>{img("time", "execution time per submission")}
<h2 id="flagged">Flagged for manual review</h2><ul>{flagged}</ul>
<h2 id="ungraded">Not graded (no score until reviewed)</h2><ul>{ungraded}</ul>
</body></html>
"""
    index = out / "index.html"
    index.write_text(page)
    return index


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the instructor report of an autograded assignment.")
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)
    print(write_report(args.root.resolve(), args.assignment))


if __name__ == "__main__":
    main()
