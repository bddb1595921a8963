"""``make bench``: how fast a whole class is graded (not part of ``make test``).

Generates the standard synthetic class of issue 11 (40 submissions of 01_activation_basics and 8 of
04_cnn_activation_maps, a mix of right answers and wrong answers from tests/mutants/), then in one run
times

1. serial ``nbgrader autograde`` (the baseline), assignment by assignment,
2. ``actkit-grade`` with N workers (default: the number of cores), all assignments on one cluster,
3. the bare execution of the same submitted notebooks with nbclient on N workers (the floor:
   no grading work at all, one process per notebook),

the three in turn, ``--repeat`` times (default 3): a machine's speed moves between runs by more than a
few per cent (a shared host: by 40 % within an hour, seen here), so each method's fastest run is reported,
the table lists every run's seconds, and the ratios of each round (the k-th run of each method, run within
minutes of each other) are printed with their medians.

checks that serial nbgrader and actkit-grade give every student the same scores, and prints tables with
submissions per minute, the ratios, seconds per submission of each assignment, and what the two-process
design costs per notebook (the tester's start, its test cells, the proxy calls into the student kernel).
A second, small class (2 submissions each of 02_gradients and 03_nonlinearity) is graded the same way
afterwards, so that the per-assignment tables have a column for every assignment. The tables also replace
the benchmark section of README.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from actkit.grading.parallel import grade_many, local_cluster
from actkit.instructor.notebooks import (
    REPO_ROOT,
    fresh_course,
    make_submission,
    nbgrader,
    notebook_of,
    read_scores,
    solution_cells,
)

CATALOGUE_MODULES = {"01_activation_basics": "tests.mutants.a01_activation_basics",
                     "02_gradients": "tests.mutants.a02_gradients",
                     "03_nonlinearity": "tests.mutants.a03_nonlinearity",
                     "04_cnn_activation_maps": "tests.mutants.a04_cnn_activation_maps"}


def make_class(root: Path, sizes: dict[str, int], seed: int = 0) -> dict[str, list[str]]:
    """A course directory with released assignments and synthetic submissions; returns students per assignment."""
    rng = random.Random(seed)
    fresh_course(root, list(sizes))
    students: dict[str, list[str]] = {}
    for assignment, n in sizes.items():
        nbgrader("generate_assignment", assignment, "--force", root=root)
        released = notebook_of(assignment, "release", root)
        right = solution_cells(nbformat.read(notebook_of(assignment), as_version=4))
        mutants = importlib.import_module(CATALOGUE_MODULES[assignment]).MUTANTS
        students[assignment] = []
        for i in range(n):
            student = f"s{i:03d}"
            answers = dict(right)
            kind = i % 4  # 1/4 all right, 1/4 blank-ish (three answers missing), 1/2 one or two mistakes
            if kind == 1:
                for gid in rng.sample(sorted(right), 3):
                    answers.pop(gid)
            elif kind >= 2:
                for m in rng.sample(mutants, kind - 1):
                    answers[m.cell] = m.code
            make_submission(released, root / "submitted" / student / assignment / released.name, answers=answers)
            students[assignment].append(student)
    return students


def _bare_execute(path: str, timeout: int) -> dict[str, float]:
    """Execute one notebook with plain nbclient; seconds for kernel start, the setup cell (the code
    cell under the "## Setup" heading: the imports) and all other cells."""
    import nbclient

    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)  # as actkit.grading.parallel.execute_job does (Dask sets it)
    nb = nbformat.read(path, as_version=4)
    times = {"kernel start": 0.0, "imports (setup cell)": 0.0, "other cells": 0.0}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        # killed at the end, as the grader's kernels are (a graceful shutdown costs a TensorFlow kernel about 1 s)
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                         shutdown_kernel="immediate", resources={"metadata": {"path": work}},
                                         extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        with client.setup_kernel():
            times["kernel start"] = time.perf_counter() - t0
            after_setup_heading = False
            for index, cell in enumerate(nb.cells):
                t = time.perf_counter()
                client.execute_cell(cell, index)
                if cell.cell_type == "code":
                    part = "imports (setup cell)" if after_setup_heading else "other cells"
                    times[part] += time.perf_counter() - t
                after_setup_heading = cell.cell_type == "markdown" and cell.source.startswith("## Setup")
    times["total"] = time.perf_counter() - t0
    return times


def floor(root: Path, assignments: list[str], workers: int) -> tuple[float, dict[str, dict[str, float]]]:
    """Seconds to execute every submitted notebook with nbclient on a local Dask cluster of ``workers``
    (cluster start included, as for actkit-grade), and the mean seconds per notebook of each part, per
    assignment."""
    from dask.distributed import Client

    paths = [str(p) for a in assignments for p in sorted((root / "submitted").glob(f"*/{a}/*.ipynb"))]
    t0 = time.perf_counter()
    with local_cluster(workers) as cluster, Client(cluster) as client:  # actkit-grade's cluster, as lean
        ordered = sorted(paths, key=lambda p: ("03" not in p, "04" not in p))  # the longest first
        times = client.gather(client.map(_bare_execute, ordered, timeout=240, pure=False))
    seconds = time.perf_counter() - t0
    parts: dict[str, dict[str, float]] = {}
    for a in assignments:
        mine = [t for p, t in zip(ordered, times, strict=True) if f"/{a}/" in p]
        parts[a] = {k: sum(t[k] for t in mine) / len(mine) for k in mine[0]}
    return seconds, parts


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, /proc/stat): the bench runs alone."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def scores_of(root: Path, assignments: list[str]) -> dict:
    return {a: {s: [(c.grade_id, c.score) for c in v.cells] for s, v in read_scores(root, a).items()}
            for a in assignments}


def measure(sizes: dict[str, int], workers: int, with_floor: bool = True, repeat: int = 1) -> dict:
    """Grade one synthetic class with serial nbgrader, with actkit-grade on ``workers`` and (if asked) time
    the bare-execution floor, in that order, ``repeat`` times; the scores of every grading must be identical.
    Each method's fastest run is the one reported (the others only as their seconds)."""
    base = Path(tempfile.mkdtemp(prefix="bench-"))
    template = base / "template"
    make_class(template, sizes)
    assignments = list(sizes)
    out: dict = {"sizes": sizes, "workers": workers, "rows": {}, "cpu": {}, "all": {}}

    def fresh(name: str) -> Path:
        root = base / name
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(template, root)
        return root

    def timed(name: str, seconds: float, cpu: float, **details) -> None:
        out["all"].setdefault(name, []).append(seconds)
        if seconds <= min(out["all"][name]):
            out["rows"][name], out["cpu"][name] = seconds, cpu
            out.update(details)

    try:
        reference = None
        for _ in range(repeat):
            # 1. serial nbgrader, one assignment after the other
            root = fresh("serial")
            each, c0 = {}, busy_cpu_seconds()
            for a in assignments:
                t0 = time.perf_counter()
                nbgrader("autograde", a, "--create", root=root)
                each[a] = time.perf_counter() - t0
            timed("serial nbgrader autograde", sum(each.values()), busy_cpu_seconds() - c0, serial_each=each)
            reference = reference or scores_of(root, assignments)
            assert scores_of(root, assignments) == reference, "serial nbgrader's scores differ from run to run"

            # 2. actkit-grade (all assignments on one cluster)
            root = fresh("grade")
            t0, c0 = time.perf_counter(), busy_cpu_seconds()
            runs = grade_many(root, assignments, workers=workers, quiet=True)
            executions = [e for r in runs for e in r.executions]
            phases = dict(runs[0].phases, **{"worker execution (sum over notebooks)":
                                             sum(e["seconds"] for e in executions)})
            timed(f"actkit-grade --workers {workers}", time.perf_counter() - t0, busy_cpu_seconds() - c0,
                  phases=phases, executions=executions)
            assert scores_of(root, assignments) == reference, f"--workers {workers} scores differ from serial nbgrader"

            # 3. the floor
            if with_floor:
                c0 = busy_cpu_seconds()
                seconds, parts = floor(template, assignments, workers)
                timed(f"bare nbclient execution, {workers} workers (floor)", seconds, busy_cpu_seconds() - c0,
                      parts=parts)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return out


def _class_line(sizes: dict[str, int]) -> str:
    total = sum(sizes.values())
    return ", ".join(f"{n} x {a}" for a, n in sizes.items()) + f" ({total} submission{'s' * (total != 1)})"


def render(main: dict, extra: dict | None = None) -> str:
    """The tables: ``main`` is the class the targets are measured on (with its floor); ``extra`` (optional)
    a second class that only adds its assignments' columns to the per-assignment tables."""
    workers, sizes = main["workers"], main["sizes"]
    rows, cpu, total = list(main["rows"].items()), main["cpu"], sum(sizes.values())
    serial, par, fl = (secs for _, secs in rows)
    repeat = len(main["all"][rows[0][0]])
    lines = [f"Class: {_class_line(sizes)}; {os.cpu_count()} cores; each method run {repeat} time"
             f"{'s' * (repeat != 1)}, in turn, its fastest run reported; identical scores in every run: yes.", "",
             "| method | seconds | submissions/min | vs serial | CPU seconds (all cores) | cores busy (mean) "
             "| every run (s) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, secs in rows:
        lines.append(f"| {name} | {secs:.0f} | {60 * total / secs:.1f} | {serial / secs:.2f}x | {cpu[name]:.0f} | "
                     f"{cpu[name] / secs:.2f} | {', '.join(f'{s:.0f}' for s in main['all'][name])} |")
    busy = cpu[rows[0][0]] / serial
    paired = [(s / p, p / f) for s, p, f in zip(*(main["all"][name] for name, _ in rows), strict=True)]
    lines += ["", f"actkit-grade with {workers} workers is {serial / par:.2f}x faster than serial nbgrader "
              f"and {par / fl:.2f}x the bare-execution floor (fastest runs). Run by run, each method's k-th run "
              f"against the others' k-th: {', '.join(f'{a:.2f}x / {b:.2f}x' for a, b in paired)} (medians "
              f"{statistics.median(a for a, _ in paired):.2f}x / {statistics.median(b for _, b in paired):.2f}x). "
              f"Serial nbgrader already keeps {busy:.2f} of the "
              f"{os.cpu_count()} cores busy (TensorFlow trains on several threads), so no schedule of the same CPU "
              f"work can be more than {(os.cpu_count() or 1) / busy:.2f}x faster than it on this machine."]
    runs = [main] + ([extra] if extra else [])
    columns = [(a, run) for run in runs for a in run["sizes"]]
    if extra:
        extra_serial, extra_grade = list(extra["rows"].values())[:2]
        lines += ["", f"The per-assignment tables below add a second class, {_class_line(extra['sizes'])}, graded "
                  "the same way right after the first (serial nbgrader, then actkit-grade; its scores are identical "
                  f"too): {extra_serial:.0f} s serial, {extra_grade:.0f} s with actkit-grade."]
    lines += ["", f"Seconds per submission, to plan a class of any size (actkit-grade: its workers' execution "
              f"seconds of that assignment divided by {workers} workers; a class of n takes about n times this):",
              "", "| | " + " | ".join(a for a, _ in columns) + " |", "|---|" + "---:|" * len(columns)]

    def mine(a, run):
        return [e for e in run["executions"] if e.get("assignment") == a]

    lines.append("| serial nbgrader autograde | " + " | ".join(
        f"{run['serial_each'][a] / run['sizes'][a]:.1f}" for a, run in columns) + " |")
    lines.append(f"| actkit-grade --workers {workers} | " + " | ".join(
        f"{sum(e['seconds'] for e in mine(a, run)) / workers / max(len(mine(a, run)), 1):.1f}"
        for a, run in columns) + " |")
    lines += ["", "Where the time goes, per notebook (mean seconds): bare nbclient on the floor's workers, and what "
              "the two-process design adds on actkit-grade's workers (the tester's start, the test cells it ran, "
              "its proxy calls into the student kernel):", "",
              "| assignment | kernel start | imports (setup cell) | other cells | bare total | notebook on a worker "
              "| tester start | test cells | proxy calls | proxy seconds |", "|---|" + "---:|" * 9]
    for a, run in columns:
        executions = mine(a, run)
        n = max(len(executions), 1)

        def mean(key, executions=executions, n=n):
            return sum(e.get("timing", {}).get(key, 0) for e in executions) / n

        p = run.get("parts", {}).get(a)
        bare = (f"{p['kernel start']:.1f} | {p['imports (setup cell)']:.1f} | {p['other cells']:.1f} | "
                f"{p['total']:.1f}") if p else "- | - | - | -"
        lines.append(f"| {a} | {bare} | {sum(e['seconds'] for e in executions) / n:.1f} | "
                     f"{mean('tester start'):.2f} | {mean('test cells'):.1f} | {mean('proxy calls'):.0f} | "
                     f"{mean('proxy seconds'):.2f} |")
    lines += ["", "actkit-grade's phases on the first class (wall seconds; the gradebook work overlaps the "
              "executions):", "", f"| phase | --workers {workers} |", "|---|---:|"]
    for name, secs in main["phases"].items():
        lines.append(f"| {name} | {secs:.1f} |")
    return "\n".join(lines)


def update_readme(table: str) -> None:
    readme = REPO_ROOT / "README.md"
    text = readme.read_text()
    block = f"<!-- bench:start -->\n{table}\n<!-- bench:end -->"
    new = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _: block, text, flags=re.S)
    readme.write_text(new)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basics", type=int, default=40, help="submissions of 01_activation_basics")
    parser.add_argument("--cnn", type=int, default=8, help="submissions of 04_cnn_activation_maps")
    parser.add_argument("--gradients", type=int, default=2, help="submissions of 02_gradients (second class)")
    parser.add_argument("--nonlinearity", type=int, default=2, help="submissions of 03_nonlinearity (second class)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each method on the standard class, in turn; the fastest is reported")
    parser.add_argument("--no-readme", action="store_true", help="do not update README.md")
    args = parser.parse_args(argv)
    standard = {k: v for k, v in (("01_activation_basics", args.basics), ("04_cnn_activation_maps", args.cnn)) if v}
    second = {k: v for k, v in (("02_gradients", args.gradients), ("03_nonlinearity", args.nonlinearity)) if v}
    main_run = measure(standard, args.workers, repeat=args.repeat)
    table = render(main_run, measure(second, args.workers, with_floor=False) if second else None)
    print(table)
    out = REPO_ROOT / "build" / "bench.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table + "\n")
    if not args.no_readme:
        update_readme(table)


if __name__ == "__main__":
    main()
