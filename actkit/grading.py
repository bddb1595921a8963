"""Parallel autograding: ``actkit-grade <assignment>`` (``make grade``).

nbgrader grades submissions one after another. This command keeps nbgrader for everything that
decides a score and only moves the slow part, executing the notebooks, out of its loop:

1. **Sanitise** (parent, fast): every submission goes through nbgrader's own sanitising
   preprocessors (clear outputs, restore locked and test cells from the gradebook, overwrite the
   kernel spec), exactly as ``nbgrader autograde`` does before it executes a notebook.
2. **Execute** (in parallel): the sanitised notebooks run on a Dask cluster (a local one with
   ``--workers N`` processes by default, or an existing one with ``--scheduler tcp://host:port``)
   with nbgrader's own ``Execute`` preprocessor and the course's settings (timeouts, kernel).
   Each result is stored in an execution cache under ``<course>/build/grading/<assignment>/``.
3. **Grade** (parent, one process): ``nbgrader autograde`` runs as usual, with its ``Execute``
   replaced by :class:`CachedExecute`, which takes the stored result when the sanitised notebook
   is the same (and executes it itself otherwise). All gradebook writes come from this one
   process, so there are no lock errors, and the scores are nbgrader's.

An interrupted run continues where it stopped: finished executions are in the cache, and
students already autograded are skipped unless ``--force`` is given.

Grading integrity (:mod:`actkit.integrity`, ``actkit/SECURITY.md``): before anything runs, the
instructor's input is checked (a damaged gradebook stops grading untouched), every submission
folder gets a preflight and a static scan, and a submission with no readable notebook is
recorded with zero points instead of being executed. With the sandbox on (``ACTKIT_SANDBOX=1``)
notebooks execute in the bubblewrap kernel with the in-kernel guard. Every problem is printed as
one line ``student / notebook: what happened`` and written to ``build/grading/<assignment>/flags.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from actkit import integrity, sandbox
from actkit.integrity import SafeExecute
from actkit.notebooks import REPO_ROOT, nbgrader

__all__ = ["CachedExecute", "ExecutionResult", "Job", "execute_job", "grade", "main"]

CACHE_ENV = "ACTKIT_EXECUTION_CACHE"
MAX_SHIPPED_BYTES = 50 * 2**20


def grading_dir(root: Path, assignment: str) -> Path:
    return root / "build" / "grading" / assignment


def execution_key(nb, student: str) -> str:
    """What decides an execution: the student, the kernel and every cell's type and source."""
    kernel = nb.metadata.get("kernelspec", {}).get("name", "") + ("+sandbox" if sandbox.enabled() else "")
    cells = [(c.cell_type, c.source) for c in nb.cells]
    blob = json.dumps([student, kernel, cells], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def course_config(root: Path):
    """The traitlets config nbgrader itself would load for course directory ``root``."""
    from traitlets.config.loader import PyFileConfigLoader

    os.environ["NBGRADER_COURSE_ROOT"] = str(root)
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config()


class CachedExecute(SafeExecute):
    """nbgrader's ``Execute`` (sandboxed when enabled), taking the result from the execution cache.

    Enabled by ``nbgrader_config.py`` when ``$ACTKIT_EXECUTION_CACHE`` names a cache folder.
    """

    def preprocess(self, nb, resources):
        cache = os.environ.get(CACHE_ENV)
        student = resources.get("nbgrader", {}).get("student", "")
        if cache:
            path = Path(cache) / f"{execution_key(nb, student)}.ipynb"
            if path.is_file():
                executed = nbformat.read(path, as_version=4)
                if [c.source for c in executed.cells] == [c.source for c in nb.cells]:
                    self.log.info("Using the parallel execution of %s", student)
                    self.record(executed, resources)
                    return executed, resources
            self.log.warning("No parallel execution for %s: executing it now", student)
        return super().preprocess(nb, resources)


@dataclass
class Job:
    """One submitted notebook to execute."""

    student: str
    notebook: str
    key: str
    nb_json: str
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class ExecutionResult:
    student: str
    notebook: str
    key: str
    seconds: float
    nb_json: str
    timed_out: bool = False
    kernel_died: bool = False
    error: str = ""
    worker: str = ""


def _execute_settings(config) -> dict:
    settings = {}
    for name in ("timeout", "interrupt_on_timeout", "startup_timeout", "kernel_name", "extra_arguments"):
        if name in config.get("Execute", {}):
            settings[name] = config.Execute[name]
    return settings


def execute_job(job: Job, settings: dict, env: dict | None = None) -> ExecutionResult:
    """Run one sanitised notebook with nbgrader's ``Execute`` in a scratch copy of its folder.

    This is the function the Dask workers run; it touches no gradebook.
    """
    from traitlets.config import Config

    for name, value in (env or {}).items():
        os.environ.setdefault(name, value)
    nb = nbformat.reads(job.nb_json, as_version=4)
    config = Config({"Execute": settings})
    t0 = time.perf_counter()
    timed_out = died = False
    error = ""
    with tempfile.TemporaryDirectory(prefix=f"grade-{job.student}-") as work:
        for rel, data in job.files.items():
            target = Path(work) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            nb, _ = SafeExecute(config=config).preprocess(nb, {"metadata": {"path": work}})
        except Exception as exc:  # noqa: BLE001 - reported per student, nbgrader re-executes it itself
            died = "DeadKernel" in type(exc).__name__
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "CellTimeoutError":
                timed_out = True
            if out.get("output_type") == "error" and "DeadKernel" in out.get("ename", ""):
                died = True
    return ExecutionResult(job.student, job.notebook, job.key, time.perf_counter() - t0,
                           nbformat.writes(nb) if not error else "", timed_out, died, error,
                           worker=f"{socket.gethostname()}:{os.getpid()}")


def _submission_files(folder: Path, notebook: Path) -> dict[str, bytes]:
    """The other files of a submission folder (data files students may read), size-capped."""
    files, total = {}, 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path == notebook or ".ipynb_checkpoints" in path.parts:
            continue
        total += path.stat().st_size
        if total > MAX_SHIPPED_BYTES:
            break
        files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def sanitise(path: Path, student: str, assignment: str, config, db_url: str):
    """The notebook exactly as ``nbgrader autograde`` hands it to ``Execute``."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    nb = nbformat.read(path, as_version=4)
    resources = {
        "nbgrader": {"student": student, "assignment": assignment, "notebook": path.stem, "db_url": db_url},
        "metadata": {"path": str(path.parent)},
    }
    steps = config.Autograde.sanitize_preprocessors if "sanitize_preprocessors" in config.get("Autograde", {}) \
        else (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata)
    for cls in steps:
        nb, resources = cls(config=config).preprocess(nb, resources)
    # nbgrader writes the sanitised notebook and reads it back before executing it
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def pending_jobs(root: Path, assignment: str, students: list[str] | None, force: bool, config,
                 log=print, skip: set[tuple[str, str]] | None = None) -> tuple[list[Job], list[str], dict[str, str]]:
    """Jobs still to execute, the students to (re)grade, and problems found per student.

    ``skip`` names (student, notebook stem) pairs the preflight found unreadable or not expected.
    """
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    submitted = root / "submitted"
    names = students or (sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())
                         if submitted.is_dir() else [])
    cache = grading_dir(root, assignment) / "cache"
    jobs, to_grade, problems = [], [], {}
    for student in names:
        if not force and (root / "autograded" / student / assignment).is_dir():
            continue
        to_grade.append(student)
        folder = submitted / student / assignment
        for path in sorted(folder.glob("*.ipynb")):
            if skip and (student, path.stem) in skip:
                continue
            try:
                nb = sanitise(path, student, assignment, config, db_url)
            except Exception as exc:  # noqa: BLE001 - nbgrader will report it too; we note it
                problems[student] = f"{path.name}: cannot be prepared ({type(exc).__name__}: {exc})"
                continue
            key = execution_key(nb, student)
            if (cache / f"{key}.ipynb").is_file() and not force:
                continue
            jobs.append(Job(student, path.stem, key, nbformat.writes(nb), _submission_files(folder, path)))
    return jobs, to_grade, problems


class Progress:
    """A one-line progress bar with the time left, on stderr."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.t0, self.stream = total, 0, time.perf_counter(), stream
        self.tty = getattr(stream, "isatty", lambda: False)()

    def step(self, label: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.t0
        left = elapsed / self.done * (self.total - self.done)
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"elapsed {_clock(elapsed)} left ~{_clock(left)}  {label}")
        if self.tty:
            self.stream.write("\r" + line.ljust(100))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _client(workers: int, scheduler: str | None):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_executions(jobs: list[Job], settings: dict, workers: int, scheduler: str | None, cache: Path,
                   quiet: bool = False) -> list[ExecutionResult]:
    """Execute the jobs on Dask and store each finished notebook in the cache as it completes."""
    from dask.distributed import as_completed

    cache.mkdir(parents=True, exist_ok=True)
    if not jobs:
        return []
    env = {k: v for k, v in os.environ.items() if k in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
                                                         "MPLBACKEND", "COURSE_DATA_DIR", "PYTHONHASHSEED")
           or k.startswith(("ACTKIT_SANDBOX", "ACTKIT_GUARD"))}
    client, cluster = _client(workers, scheduler)
    progress = Progress(len(jobs), stream=open(os.devnull, "w") if quiet else sys.stderr)
    results = []
    try:
        # the longest notebooks first keeps the workers busy to the end
        futures = [client.submit(execute_job, job, settings, env, key=f"execute-{job.key}", pure=False)
                   for job in sorted(jobs, key=lambda j: -len(j.nb_json))]
        for future in as_completed(futures):
            result = future.result()
            if result.nb_json:
                tmp = cache / f".{result.key}.tmp"
                tmp.write_text(result.nb_json)
                tmp.replace(cache / f"{result.key}.ipynb")  # atomic: a crash never leaves half a file
            results.append(result)
            progress.step(f"{result.student} ({result.seconds:.0f} s)")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results


@dataclass
class GradeRun:
    assignment: str
    graded: list[str]
    executions: list[dict]
    problems: dict[str, str]
    seconds: float
    lines: list[str] = field(default_factory=list)  # one per problem: "student / notebook: what happened"


def _check_gradebook(root: Path, assignment: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    if not (root / "gradebook.db").is_file():
        raise SystemExit(f"error: no gradebook in {root}: release the assignment first (make release)")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"error: {assignment!r} is not in the gradebook: release it first") from None


def grade(root: Path, assignment: str, *, workers: int | None = None, scheduler: str | None = None,
          force: bool = False, students: list[str] | None = None, quiet: bool = False) -> GradeRun:
    """Autograde every submission of ``assignment`` in course directory ``root`` in parallel."""
    t0 = time.perf_counter()
    root = root.resolve()
    workers = workers or os.cpu_count() or 1
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    integrity.check_instructor_input(root, assignment)  # missing assignment, bad source, damaged gradebook
    _check_gradebook(root, assignment)
    if sandbox.enabled():
        try:
            sandbox.require()
        except sandbox.SandboxError as exc:
            raise SystemExit(f"error: {exc}") from None
    config = course_config(root)
    refs = integrity.reference_notebooks(root, assignment)
    submitted = root / "submitted"
    candidates = students or (sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())
                              if submitted.is_dir() else [])
    candidates = [s for s in candidates if force or not (root / "autograded" / s / assignment).is_dir()]
    found = {s: integrity.preflight(root, assignment, s) for s in candidates}
    ungradable = [s for s, found_s in found.items() if not integrity.gradable(found_s, refs)]
    skip = {(s, Path(p.notebook).stem) for s, ps in found.items() for p in ps if p.fatal}
    if submitted.is_dir():  # notebooks nbgrader does not know (extra, misnamed) are not executed
        skip |= {(s, p.stem) for s in candidates for p in (submitted / s / assignment).glob("*.ipynb")
                 if p.stem not in refs}
    jobs, to_grade, problems = pending_jobs(root, assignment, [s for s in candidates if s not in ungradable],
                                            force, config, skip=skip)
    say(f"{assignment}: {len(to_grade)} submission(s) to grade, {len(jobs)} notebook(s) to execute "
        f"on {'cluster ' + scheduler if scheduler else f'{workers} local worker(s)'}")
    work = grading_dir(root, assignment)
    results = run_executions(jobs, _execute_settings(config), workers, scheduler, work / "cache", quiet)
    log_path = work / "executions.json"
    log = json.loads(log_path.read_text()) if log_path.is_file() else {}
    for r in results:
        entry = asdict(r)
        entry.pop("nb_json")
        log[r.student] = entry
        if r.error:
            problems[r.student] = f"execution failed on the worker ({r.error}); nbgrader executes it itself"
    log_path.write_text(json.dumps(log, indent=1, sort_keys=True))
    failed: dict[str, str] = {}
    for student in candidates:  # findings of an earlier run of these students are replaced
        for stale in (work / "integrity").glob(f"{student}__*.json"):
            stale.unlink()
    if to_grade:
        args = ["autograde", assignment, "--create"] + (["--force"] if force else [])
        env = {CACHE_ENV: str(work / "cache")}
        if ungradable and not students:
            args.append(f"--CourseDirectory.student_id_exclude={','.join(ungradable)}")
        selections = [[f"--student={s}"] for s in to_grade] if students else [[]]
        logs = []
        for selection in selections:
            proc = nbgrader(*args, *selection, root=root, env=env, check=False)
            logs.append(proc.stdout + proc.stderr)
            failed.update(_nbgrader_failures(proc.stdout + proc.stderr))
            if proc.returncode != 0 and not _nbgrader_failures(proc.stdout + proc.stderr):
                (work / "nbgrader.log").write_text("\n".join(logs))
                last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
                raise SystemExit(f"error: nbgrader autograde failed ({last}); full log: {work / 'nbgrader.log'}")
        (work / "nbgrader.log").write_text("\n".join(logs))
    for student in ungradable:
        integrity.record_zero(root, assignment, student)
    lines = [p for s in candidates for p in found.get(s, [])]
    for student, message in failed.items():
        lines.append(integrity.Problem(student, "-", f"nbgrader could not grade it ({message}); no autograded "
                                       f"score, see {work / 'nbgrader.log'}"))
    lines += [integrity.Problem(student, "-", message) for student, message in problems.items()]
    lines += integrity.runtime_findings(root, assignment, to_grade)
    integrity.write_flags(root, assignment, lines, regraded=candidates)
    problems = {}
    for p in lines:
        problems[p.student] = "; ".join(filter(None, [problems.get(p.student), f"{p.notebook}: {p.message}"]))
    run = GradeRun(assignment, sorted(set(to_grade) | set(ungradable)), [log[s] for s in to_grade if s in log],
                   problems, time.perf_counter() - t0, [p.line() for p in lines])
    say(f"graded {len(run.graded)} submission(s) in {run.seconds:.0f} s"
        + (f"; {len(lines)} problem(s) for review:" if lines else ""))
    for line in run.lines:
        say(f"  {line}")
    return run


def _nbgrader_failures(log: str) -> dict[str, str]:
    """student -> nbgrader's reason, for every submission nbgrader autograde gave up on."""
    failures = {}
    for match in re.finditer(r"There was an error processing assignment '([^']*)' for student '([^']*)'", log):
        failures[match.group(2)] = "it stopped with an error"
    return failures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="actkit-grade", description="Autograde an assignment in parallel.")
    parser.add_argument("assignment")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes (default: cores)")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--force", action="store_true", help="regrade students already graded")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    parser.add_argument("--report", action="store_true", help="write the instructor report afterwards")
    args = parser.parse_args(argv)
    grade(args.root, args.assignment, workers=args.workers, scheduler=args.scheduler, force=args.force,
          students=args.student)
    if args.report:
        from actkit.report import write_report

        print(write_report(args.root.resolve(), args.assignment))


if __name__ == "__main__":
    main()

