"""Parallel autograding: ``actkit-grade <assignment>`` (``make grade``).

nbgrader grades submissions one after another. This command keeps nbgrader for everything that
decides a score and only moves the slow part, executing the notebooks, out of its loop:

1. **Sanitise** (parent, fast): every submission goes through nbgrader's own sanitising
   preprocessors (clear outputs, restore locked and test cells from the gradebook, overwrite the
   kernel spec), exactly as ``nbgrader autograde`` does before it executes a notebook.
2. **Execute** (in parallel): the sanitised notebooks run on a Dask cluster (a local one with
   ``--workers N`` processes by default, or an existing one with ``--scheduler tcp://host:port``)
   with nbgrader's own ``Execute`` preprocessor and the course's settings (timeouts, kernel).
   Each worker starts the next notebook's kernel, with the imports the read-only cells of the notebooks
   likely to come next all share, while one runs (``TrustedExecute.spare_kernel``, :func:`spare_imports`).
   Each result is stored in an execution cache under ``<course>/build/grading/<assignment>/``.
3. **Grade** (parent, one thread): as soon as all notebooks of a student have executed, nbgrader's
   own ``autograde`` runs for that student through ``nbgrader.apps.NbGraderAPI``, in this process
   (no start-up cost per call), while the workers go on with the other notebooks. Its ``Execute``
   is replaced by :class:`CachedExecute`, which takes the stored result when the sanitised
   notebook is the same (otherwise its tests score 0 and it is flagged for review). All gradebook
   writes come from this one thread, so there are no lock errors, and the scores are nbgrader's.
   What nbgrader would build once per submission (database engines, its metadata validator) is
   built once per run (:mod:`actkit.grading.inprocess`).

The Dask cluster starts in a background thread while step 1 runs. Several assignments can be
graded in one run (:func:`grade_many`); they share the cluster, longest notebooks first.

An interrupted run continues where it stopped: finished executions are in the cache, and
students already autograded are skipped unless ``--force`` is given.

Output: two tqdm bars on stderr (a widget in Jupyter), shown at once: submissions prepared, then
notebooks graded, with the rate and the time left; then one line per real problem. ``--similarity``
adds the similarity check (:mod:`actkit.grading.similarity`) and ``--report`` the instructor report.

Grading integrity (``actkit/SECURITY.md``): before anything runs, the
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
import socket
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from actkit.grading import inprocess, leftovers, preflight, sandbox
from actkit.grading.cells import is_helper_cell, is_test_cell, reference_notebooks
from actkit.grading.execute import (
    GRADING_ERROR,
    ForkServer,
    TrustedExecute,
    copy_submission,
    tester_environment,
    warm_up,
)
from actkit.grading.limits import CEILING_ENV, set_memory_ceiling
from actkit.grading.paths import grading_dir
from actkit.grading.tester import imported_modules
from actkit.instructor.notebooks import REPO_ROOT

__all__ = ["CachedExecute", "ExecutionResult", "Job", "execute_job", "grade", "grade_many", "main", "spare_imports"]

CACHE_ENV = "ACTKIT_EXECUTION_CACHE"
MAX_SHIPPED_BYTES = 50 * 2**20


def execution_key(nb, student: str) -> str:
    """What decides an execution: the student, the kernel and every cell's type and source."""
    kernel = nb.metadata.get("kernelspec", {}).get("name", "") + ("+sandbox" if sandbox.enabled() else "")
    cells = [(c.cell_type, c.source) for c in nb.cells]
    blob = json.dumps([student, kernel, cells], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def submission_folder(root: Path, assignment: str, student: str) -> Path:
    """The folder graded for a student: ``submitted/...``, or its copy with renamed notebooks fixed."""
    staged = preflight.renamed_folder(root, assignment, student)
    return staged if staged.is_dir() else root / "submitted" / student / assignment


def course_config(root: Path):
    """The traitlets config nbgrader itself would load for course directory ``root``."""
    from traitlets.config.loader import PyFileConfigLoader

    os.environ["NBGRADER_COURSE_ROOT"] = str(root)
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config()


class CachedExecute(TrustedExecute):
    """Takes the worker's execution of a notebook from the execution cache; never executes.

    Enabled by ``nbgrader_config.py`` when ``$ACTKIT_EXECUTION_CACHE`` names a cache folder. A
    notebook the workers could not execute is not run again here: its test cells score 0 and the
    submission is flagged for review.
    """

    def preprocess(self, nb, resources):
        cache = os.environ.get(CACHE_ENV)
        student = resources.get("nbgrader", {}).get("student", "")
        path = Path(cache or ".") / f"{execution_key(nb, student)}.ipynb"
        if cache and path.is_file():
            executed = nbformat.read(path, as_version=4)
            if [c.source for c in executed.cells] == [c.source for c in nb.cells]:
                self.log.info("Using the parallel execution of %s", student)
                self.record(executed, resources)
                return executed, resources
        message = "this notebook could not be executed on the grading workers; flagged for review"
        self.log.warning("%s: %s", student, message)
        for cell in nb.cells:
            if is_test_cell(cell):
                cell.outputs = [nbformat.NotebookNode(output_type="error", ename=GRADING_ERROR, evalue=message,
                                                      traceback=[f"{GRADING_ERROR}: {message}"])]
        nb.metadata.setdefault("actkit", {})["integrity"] = {"findings": [f"-: {message}"], "restarts": 0,
                                                              "sandbox": sandbox.enabled()}
        self.record(nb, resources)
        return nb, resources


@dataclass
class Job:
    """One submitted notebook to execute."""

    student: str
    notebook: str
    key: str
    nb_json: str
    files: dict[str, bytes] = field(default_factory=dict)
    assignment: str = ""


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
    assignment: str = ""
    timing: dict = field(default_factory=dict)  # the two-process design's own costs (TrustedExecute.timing)


def _execute_settings(config) -> dict:
    settings = {}
    for name in ("timeout", "interrupt_on_timeout", "startup_timeout", "kernel_name", "extra_arguments"):
        if name in config.get("Execute", {}):
            settings[name] = config.Execute[name]
    return settings


def _worker_environment(env: dict | None) -> None:
    for name, value in (env or {}).items():
        os.environ.setdefault(name, value)
    set_memory_ceiling()  # $ACTKIT_GRADER_MEMORY: the worker reads what the student kernels send
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ for its workers; a kernel that inherits it trains the CNN
    # of 04 about 1.7x slower (measured: 85 s instead of 50 s), so kernels get the environment they have
    # under plain nbgrader.
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)


def warm_worker(env: dict | None, modules: list[str], address: str | None = None) -> None:
    """Before a worker's first notebook: connect it to the warm tester shared at ``address`` or, without
    one, start its own (:class:`actkit.grading.execute.ForkServer`)."""
    _worker_environment(env)
    warm_up(modules, address)


def _worker_env() -> dict:
    """What the workers take from this process's environment."""
    return {k: v for k, v in os.environ.items() if k in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "MPLBACKEND",
                                                         "COURSE_DATA_DIR", "PYTHONHASHSEED")
            or k.startswith("ACTKIT_SANDBOX") or k == CEILING_ENV}


def tester_modules(root: Path, assignments: list[str]) -> list[str]:
    """What the read-only cells of these assignments import: one warm tester per worker serves them all."""
    return imported_modules(c.source for a in assignments for nb in reference_notebooks(root, a).values()
                            for c in nb.cells if is_helper_cell(c))


def spare_imports(assignments: list[str], imports: dict[str, list[str]], slots: int) -> list[list[str] | None]:
    """What each job's spare kernel imports, for jobs run in the order of ``assignments`` on ``slots`` workers.

    Dask hands the jobs out in this order, so a worker's next notebook is one of the next ``slots``: a
    spare kernel imports only what all of them import (no TensorFlow for a notebook of 01 after the last
    of 04). The last ``slots`` jobs are each the last of a worker and start none (None).
    """
    slots = max(slots, 1)
    return [sorted(set.intersection(*(set(imports[a]) for a in assignments[k + 1:k + 1 + slots])))
            if k + slots < len(assignments) else None for k in range(len(assignments))]


def execute_job(job: Job, settings: dict, env: dict | None = None) -> ExecutionResult:
    """Run one sanitised notebook with nbgrader's ``Execute`` in a scratch copy of its folder.

    This is the function the Dask workers run; it touches no gradebook.
    """
    from traitlets.config import Config

    _worker_environment(env)
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
            nb, _ = TrustedExecute(config=config).preprocess(nb, {"metadata": {"path": work}})
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
                           worker=f"{socket.gethostname()}:{os.getpid()}", assignment=job.assignment,
                           timing=nb.metadata.get("actkit", {}).get("timing", {}))


def _submission_files(folder: Path, notebook: Path) -> dict[str, bytes]:
    """The other files of a submission folder (data files students may read): regular files only."""
    with tempfile.TemporaryDirectory(prefix="actkit-files-") as copy:
        copy_submission(folder, copy, MAX_SHIPPED_BYTES)
        return {str(p.relative_to(copy)): p.read_bytes() for p in sorted(Path(copy).rglob("*")) if p.is_file()}


def sanitise(path: Path, student: str, assignment: str, config, db_url: str):
    """The notebook exactly as ``nbgrader autograde`` hands it to ``Execute``.

    nbgrader's ``CheckCellMetadata`` is left out: it only validates (nothing changes), and the
    autograde that follows runs it anyway, failing the student whose metadata is broken.
    """
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
        if cls is not CheckCellMetadata:
            nb, resources = cls(config=config).preprocess(nb, resources)
    # nbgrader writes the sanitised notebook and reads it back before executing it
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def pending_jobs(root: Path, assignment: str, students: list[str] | None, force: bool, config,
                 skip: set[tuple[str, str]] | None = None,
                 use_cache: bool | None = None) -> tuple[list[Job], list[str], dict[str, str]]:
    """Jobs still to execute, the students to (re)grade, and problems found per student.

    ``force`` regrades students already autograded and, unless ``use_cache`` says otherwise,
    executes again notebooks whose execution is in the cache. ``skip`` names (student, notebook
    stem) pairs the preflight found unreadable or not expected.
    """
    use_cache = not force if use_cache is None else use_cache
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    submitted = root / "submitted"
    names = students if students is not None else (
        sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir()) if submitted.is_dir() else [])
    cache = grading_dir(root, assignment) / "cache"
    jobs, to_grade, problems = [], [], {}
    for student in names:
        if not force and (root / "autograded" / student / assignment).is_dir():
            continue
        to_grade.append(student)
        folder = submission_folder(root, assignment, student)
        for path in sorted(folder.glob("*.ipynb")):
            if skip and (student, path.stem) in skip:
                continue
            try:
                nb = sanitise(path, student, assignment, config, db_url)
            except Exception as exc:  # noqa: BLE001 - nbgrader will report it too; we note it
                problems[student] = f"{path.name}: cannot be prepared ({type(exc).__name__}: {exc})"
                continue
            key = execution_key(nb, student)
            if (cache / f"{key}.ipynb").is_file() and use_cache:
                continue
            jobs.append(Job(student, path.stem, key, nbformat.writes(nb), _submission_files(folder, path),
                            assignment))
    return jobs, to_grade, problems


def progress_bar(total: int, desc: str, unit: str, quiet: bool = False):
    """A tqdm bar on stderr (a widget in Jupyter): count, rate and time left; shown at once, even at 0."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=quiet, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5, smoothing=0.1)


# A local cluster's own upkeep, measured idle with 2 workers: 0.069 CPU-s per second with Dask's defaults,
# 0.029 with these (no sampling profiler every 10 ms in each worker, slower system and event-loop monitors),
# a few per cent of a class's CPU that the notebooks get instead.
LEAN_CLUSTER = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "2s",
                "distributed.admin.tick.interval": "1s", "distributed.worker.memory.monitor-interval": "1s"}


def local_cluster(workers: int):
    """A local Dask cluster of ``workers`` processes, one task at a time each, with little upkeep."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(LEAN_CLUSTER):  # the workers take the configuration they start with
        # the scheduler serves HTTP (health, metrics) even without a dashboard, on port 8787 unless told
        # otherwise, and warns when that port is taken (another cluster, a notebook server): any free port;
        # no dashboard (its Bokeh import costs the instructor's process about a second of CPU)
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                            scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR)


def _client(workers: int, scheduler: str | None):
    from dask.distributed import Client

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = local_cluster(workers)
    return Client(cluster), cluster


@dataclass
class GradeRun:
    assignment: str
    graded: list[str]
    executions: list[dict]
    problems: dict[str, str]
    seconds: float
    lines: list[str] = field(default_factory=list)  # one per problem: "student / notebook: what happened"
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per phase of this run


def _check_gradebook(root: Path, assignment: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    if not (root / "gradebook.db").is_file():
        raise SystemExit(f"error: no gradebook in {root}: release the assignment first (make release)")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"error: {assignment!r} is not in the gradebook: release it first") from None


class _ClusterStarter:
    """Starts the Dask cluster in a background thread, so that its start-up (about 3 s of worker
    processes importing) and the workers' warm-up overlap the preflight and sanitising in the parent.
    ``warm``: the arguments of :func:`warm_worker`."""

    def __init__(self, workers: int, scheduler: str | None, warm: tuple | None = None):
        import threading

        self.client = self.cluster = self.error = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._start, args=(workers, scheduler, warm), daemon=True)
        self._thread.start()

    def _start(self, workers: int, scheduler: str | None, warm) -> None:
        t0 = time.perf_counter()
        try:
            self.client, self.cluster = _client(workers, scheduler)
            if warm is not None:
                self.client.run(warm_worker, *warm)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread by get()
            self.error = exc
        self.seconds = time.perf_counter() - t0

    def get(self):
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.client

    def close(self) -> None:
        self._thread.join()
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class _Autograder:
    """``nbgrader autograde`` for one student at a time, in this process, through nbgrader's own API.

    Running it in-process saves nbgrader's start-up (about 3.5 s) and lets each student be graded as
    soon as their notebooks have executed, while the workers go on with the others. All gradebook
    writes still come from this one thread, one student after the other.
    """

    def __init__(self, root: Path, config):
        import io

        from nbgrader.apps import NbGraderAPI

        self.root = root
        self.buffer = io.StringIO()
        self.log = logging.getLogger(f"actkit.grading.nbgrader.{id(self)}")
        self.log.propagate = False
        self.log.setLevel(logging.INFO)
        handler = logging.StreamHandler(self.buffer)
        handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
        self.log.addHandler(handler)
        self.api = NbGraderAPI(config=config, log=self.log)

    def __call__(self, assignment: str, student: str) -> str | None:
        """Autograde one submission; returns nbgrader's error, or None when it succeeded."""
        os.environ[CACHE_ENV] = str(grading_dir(self.root, assignment) / "cache")
        self.log.info("autograding %s / %s", student, assignment)
        submitted = self.api.coursedir.submitted_directory
        if preflight.renamed_folder(self.root, assignment, student).is_dir():  # renamed notebooks: the copy
            self.api.coursedir.submitted_directory = os.path.relpath(grading_dir(self.root, assignment) / "renamed",
                                                                     self.root)
        try:
            with warnings.catch_warnings():
                # SQLAlchemy's autoflush warnings from nbgrader's gradebook code (the CLI prints them too)
                warnings.filterwarnings("ignore", module=r"nbgrader\.api")
                result = self.api.autograde(assignment, student, force=True, create=True)
        finally:
            self.api.coursedir.submitted_directory = submitted
        if result.get("success"):
            return None
        lines = [line for line in (result.get("error") or result.get("log") or "").strip().splitlines() if line]
        return lines[-1] if lines else "it stopped with an error"


@dataclass
class _Plan:
    """What one assignment needs in this run."""

    assignment: str
    candidates: list[str]
    found: dict = field(default_factory=dict)
    ungradable: list[str] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    to_grade: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    results: list[ExecutionResult] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    notebooks: dict[str, int] = field(default_factory=dict)  # notebooks graded per student (the progress bar)


def _candidates(root: Path, assignment: str, students: list[str] | None, force: bool) -> list[str]:
    submitted = root / "submitted"
    names = students or (sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())
                         if submitted.is_dir() else [])
    return [s for s in names if force or not (root / "autograded" / s / assignment).is_dir()]


def _prepare(root: Path, plan: _Plan, config, force: bool, bar=None) -> None:
    """Preflight, static scan and sanitising of one assignment's submissions (parent process)."""
    refs = reference_notebooks(root, plan.assignment)
    for student in plan.candidates:
        preflight.stage_renamed(root, plan.assignment, student)  # "... (1)", "-1", "Copy of": the expected name
        plan.found[student] = found = preflight.preflight(root, plan.assignment, student)
        if not preflight.gradable(found, refs):
            plan.ungradable.append(student)
        else:
            skip = {(student, Path(p.notebook).stem) for p in found if p.fatal}
            # notebooks nbgrader does not know (extra, misnamed) are not executed
            graded = [p.stem for p in submission_folder(root, plan.assignment, student).glob("*.ipynb")]
            skip |= {(student, stem) for stem in graded if stem not in refs}
            jobs, to_grade, problems = pending_jobs(root, plan.assignment, [student], True, config, skip=skip,
                                                    use_cache=not force)
            for job in jobs:
                job.assignment = plan.assignment
            plan.jobs += jobs
            plan.to_grade += to_grade
            plan.problems.update(problems)
            plan.notebooks[student] = max(1, sum((student, stem) not in skip for stem in graded))
        # findings of an earlier run of this student are replaced by this run's
        for stale in (grading_dir(root, plan.assignment) / "integrity").glob(f"{student}__*.json"):
            stale.unlink()
        if bar is not None:
            bar.update(1)


def _store(cache: Path, result: ExecutionResult) -> None:
    if result.nb_json:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{result.key}.tmp"
        tmp.write_text(result.nb_json)
        tmp.replace(cache / f"{result.key}.ipynb")  # atomic: a crash never leaves half a file


def _execute_and_grade(root: Path, plans: list[_Plan], starter: _ClusterStarter | None, settings: dict,
                       autograde: _Autograder, quiet: bool, phases: dict) -> None:
    """Execute every job on Dask and autograde each student as soon as all their notebooks are done."""
    from collections import Counter

    by_name = {p.assignment: p for p in plans}
    waiting = Counter((job.assignment, job.student) for p in plans for job in p.jobs)
    total = sum(p.notebooks.get(s, 1) for p in plans for s in p.to_grade)
    progress = progress_bar(total, "grade", "notebook", quiet)
    graded_seconds = [0.0]

    def grade_one(assignment: str, student: str, label: str) -> None:
        t0 = time.perf_counter()
        error = autograde(assignment, student)
        graded_seconds[0] += time.perf_counter() - t0
        if error:
            by_name[assignment].failed[student] = error
        progress.set_postfix_str(label, refresh=False)
        progress.update(by_name[assignment].notebooks.get(student, 1))

    jobs = [job for p in plans for job in p.jobs]
    futures = []
    if jobs:
        env = _worker_env()
        client = starter.get()
        phases["cluster start"] = starter.seconds
        jobs.sort(key=lambda j: -len(j.nb_json))  # the longest notebooks first keeps the workers busy to the end
        imports = {p.assignment: tester_modules(root, [p.assignment]) for p in plans}
        spares = spare_imports([job.assignment for job in jobs], imports, sum(client.nthreads().values()))
        futures = [client.submit(execute_job, job, dict(settings, spare_kernel=True, start_spare=spare is not None,
                                                        spare_imports=spare or []),
                                 env, key=f"execute-{job.key}", pure=False)
                   for job, spare in zip(jobs, spares, strict=True)]
    with progress:
        # students whose executions are all in the cache already (an interrupted run) are graded first
        for plan in plans:
            for student in plan.to_grade:
                if not waiting[(plan.assignment, student)]:
                    grade_one(plan.assignment, student, f"{student} (executed before)")
        if futures:
            from dask.distributed import as_completed

            for future in as_completed(futures):
                result = future.result()
                plan = by_name[result.assignment]
                _store(grading_dir(root, plan.assignment) / "cache", result)
                plan.results.append(result)
                waiting[(result.assignment, result.student)] -= 1
                if not waiting[(result.assignment, result.student)] and result.student in plan.to_grade:
                    grade_one(plan.assignment, result.student, f"{result.student} ({result.seconds:.0f} s)")
    phases["nbgrader (overlapping the executions)"] = graded_seconds[0]


def grade(root: Path, assignment: str, **kwargs) -> GradeRun:
    """Autograde every submission of ``assignment`` in course directory ``root`` in parallel.

    Keyword arguments as for :func:`grade_many`.
    """
    return grade_many(root, [assignment], **kwargs)[0]


@inprocess.shared()  # nbgrader's gradebook engines and metadata validator, built once per run
def grade_many(root: Path, assignments: list[str], *, workers: int | None = None, scheduler: str | None = None,
               force: bool = False, students: list[str] | None = None, quiet: bool = False) -> list[GradeRun]:
    """Autograde every submission of each assignment in course directory ``root``, all on one cluster.

    Returns one :class:`GradeRun` per assignment, in the order given.
    """
    t0 = time.perf_counter()
    root = root.resolve()
    workers = workers or os.cpu_count() or 1
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    if sandbox.enabled():  # first: a machine that cannot grade says so before anything else
        try:
            sandbox.require()
        except sandbox.SandboxError as exc:
            raise SystemExit(f"error: {exc}") from None
    leftovers.sweep()  # what killed runs left in the temporary folder
    for assignment in assignments:
        preflight.check_instructor_input(root, assignment)  # missing assignment, bad source, damaged gradebook
        _check_gradebook(root, assignment)
    plans = [_Plan(a, _candidates(root, a, students, force)) for a in assignments]
    saved_env = {k: os.environ.get(k) for k in (CACHE_ENV, "PATH", "NBGRADER_COURSE_ROOT")}
    modules = tester_modules(root, assignments)
    starter = shared = address = None
    if any(p.candidates for p in plans):
        if scheduler is None:  # local workers: one warm tester for all, loading while the cluster starts
            shared = ForkServer()
            try:
                address = shared.share(tester_environment(), modules)
            except OSError:  # no Unix socket here (a path too long, say): a warm tester per worker
                shared.close()
                shared = None
        starter = _ClusterStarter(workers, scheduler, warm=(_worker_env(), modules, address))
    phases: dict[str, float] = {}
    try:
        # nbgrader calls the `alembic` script of its own environment: put that environment first on PATH
        os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        os.environ[CACHE_ENV] = str(grading_dir(root, assignments[0]) / "cache")  # selects CachedExecute
        config = course_config(root)
        with progress_bar(sum(len(p.candidates) for p in plans), "prepare", "submission", quiet) as bar:
            for plan in plans:
                _prepare(root, plan, config, force, bar)
        phases["prepare"] = time.perf_counter() - t0
        n_jobs = sum(len(p.jobs) for p in plans)
        say(f"{', '.join(assignments)}: {sum(len(p.to_grade) for p in plans)} submission(s) to grade, "
            f"{n_jobs} notebook(s) to execute on "
            f"{'cluster ' + scheduler if scheduler else f'{workers} local worker(s)'}")
        t_run = time.perf_counter()
        if any(p.to_grade for p in plans):
            autograder = _Autograder(root, config)
            settings = dict(_execute_settings(config), tester_modules=modules)
            _execute_and_grade(root, plans, starter, settings, autograder, quiet, phases)
        phases["execute and grade"] = time.perf_counter() - t_run
        if any(p.to_grade for p in plans):
            for plan in plans:
                grading_dir(root, plan.assignment).mkdir(parents=True, exist_ok=True)
                (grading_dir(root, plan.assignment) / "nbgrader.log").write_text(autograder.buffer.getvalue())
    finally:
        if starter is not None:
            starter.close()
        if shared is not None:
            shared.close()
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return [_finish(root, plan, phases, t0, say) for plan in plans]


def _finish(root: Path, plan: _Plan, phases: dict, t0: float, say) -> GradeRun:
    """Execution log, zeros for unreadable submissions, problem lines and flags of one assignment."""
    work = grading_dir(root, plan.assignment)
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "executions.json"
    log = json.loads(log_path.read_text()) if log_path.is_file() else {}
    for r in plan.results:
        entry = asdict(r)
        entry.pop("nb_json")
        log[r.student] = entry
        if r.error:
            plan.problems[r.student] = f"execution failed on the worker ({r.error}); its tests score 0"
    log_path.write_text(json.dumps(log, indent=1, sort_keys=True))
    for student in plan.ungradable:  # left for review (which notebook is it?): no score, listed by the report
        if not any(p.review for p in plan.found.get(student, [])):
            preflight.record_zero(root, plan.assignment, student)
    lines = [p for s in plan.candidates for p in plan.found.get(s, [])]
    for student, message in plan.failed.items():
        lines.append(preflight.Problem(student, "-", f"nbgrader could not grade it ({message}); no autograded "
                                       f"score, see {work / 'nbgrader.log'}"))
    lines += [preflight.Problem(student, "-", message) for student, message in plan.problems.items()]
    lines += preflight.runtime_findings(root, plan.assignment, plan.to_grade)
    # once each: nbgrader's own pass (run by this grader) records the preflight's lines too
    lines = list({p.line(): p for p in lines}.values())
    preflight.write_flags(root, plan.assignment, lines, regraded=plan.candidates)
    problems: dict[str, str] = {}
    for p in lines:
        problems[p.student] = "; ".join(filter(None, [problems.get(p.student), f"{p.notebook}: {p.message}"]))
    run = GradeRun(plan.assignment, sorted(set(plan.to_grade) | set(plan.ungradable)),
                   [log[s] for s in plan.to_grade if s in log], problems, time.perf_counter() - t0,
                   [p.line() for p in lines], dict(phases))
    say(f"{plan.assignment}: graded {len(run.graded)} submission(s) in {run.seconds:.0f} s"
        + (f"; {len(lines)} problem(s) for review:" if lines else ""))
    for line in run.lines:
        say(f"  {line}")
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="actkit-grade",
                                     description="Autograde the submissions of one or more assignments in parallel.")
    parser.add_argument("assignment", nargs="+", help="assignment name(s); several share one cluster")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes (default: cores)")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--force", action="store_true", help="regrade students already graded")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    parser.add_argument("--report", action="store_true", help="write the instructor report afterwards")
    parser.add_argument("--similarity", action="store_true",
                        help="also compare the answer code of all submissions (copydetect); pairs go to the report")
    args = parser.parse_args(argv)
    set_memory_ceiling()  # $ACTKIT_GRADER_MEMORY (4G): this process writes the gradebook
    grade_many(args.root, args.assignment, workers=args.workers, scheduler=args.scheduler, force=args.force,
               students=args.student)
    if args.similarity:
        from actkit.grading.similarity import summary, write_similarity

        for assignment in args.assignment:
            print("\n".join(summary(write_similarity(args.root.resolve(), assignment))), file=sys.stderr)
    if args.report:
        from actkit.grading.report import write_report

        for assignment in args.assignment:
            print(write_report(args.root.resolve(), assignment))


if __name__ == "__main__":
    main()

