"""actkit-grade: parallel autograding gives serial nbgrader's scores, resumes, runs on a real
Dask cluster (scheduler and worker as separate processes), and writes the instructor report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from actkit.grading.parallel import grade
from actkit.grading.paths import grading_dir
from actkit.grading.report import collect, write_report
from actkit.instructor.demo import run_demo
from actkit.instructor.notebooks import read_scores

ASSIGNMENT = "01_activation_basics"


def per_cell(scores):
    return {s: [(c.grade_id, c.score) for c in v.cells] for s, v in scores.items()}


@pytest.fixture(scope="session")
def serial_course(tmp_path_factory):
    """The demo course, graded by plain serial `nbgrader autograde`, and its scores."""
    root = tmp_path_factory.mktemp("grading")
    serial = run_demo(root, quiet=True)
    return root, per_cell(serial)


def test_parallel_scores_equal_serial(serial_course):
    root, serial = serial_course
    shutil.rmtree(root / "autograded")
    run = grade(root, ASSIGNMENT, workers=2, force=True, quiet=True)
    assert sorted(run.graded) == ["ada", "ben", "cleo"]
    assert len(run.executions) == 3 and not run.problems
    assert per_cell(read_scores(root, ASSIGNMENT)) == serial
    cached = list((grading_dir(root, ASSIGNMENT) / "cache").glob("*.ipynb"))
    assert len(cached) == 3


def test_resume_skips_graded_and_reuses_executions(serial_course):
    root, serial = serial_course
    again = grade(root, ASSIGNMENT, workers=2, quiet=True)
    assert again.graded == []  # everyone is graded already
    # an interrupted run: cleo's autograding was lost, her execution is still in the cache
    shutil.rmtree(root / "autograded" / "cleo")
    cache = grading_dir(root, ASSIGNMENT) / "cache"
    stored = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.ipynb")}
    resumed = grade(root, ASSIGNMENT, workers=2, quiet=True)
    assert resumed.graded == ["cleo"]
    log = json.loads((grading_dir(root, ASSIGNMENT) / "executions.json").read_text())
    assert set(log) == {"ada", "ben", "cleo"}
    assert per_cell(read_scores(root, ASSIGNMENT)) == serial
    # cleo's stored execution was used, not run again (a new execution is written through a new file)
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.ipynb")} == stored and len(stored) == 3


def test_report_has_figures_and_flags(serial_course):
    root, _ = serial_course
    log_path = grading_dir(root, ASSIGNMENT) / "executions.json"
    log = json.loads(log_path.read_text())
    log["ben"]["timed_out"] = True  # as a cut-off submission would be recorded
    log_path.write_text(json.dumps(log))
    data = collect(root, ASSIGNMENT)
    gradebook = read_scores(root, ASSIGNMENT)  # the report's totals are the gradebook's
    assert data["scores"] == {student: score.auto_score for student, score in gradebook.items()}
    assert data["scores"]["ada"] == gradebook["ada"].auto_max > data["scores"]["cleo"] > data["scores"]["ben"] == 0
    assert data["pass_rate"]["test_sigmoid"] == pytest.approx(1 / 3)
    assert data["pass_rate"]["test_tanh"] == pytest.approx(2 / 3)
    assert data["flagged"] == {"ben": ["a cell was cut off by the timeout"]}
    index = write_report(root, ASSIGNMENT)
    page = index.read_text()
    assert page.count('src="data:image/png;base64,') == 3
    for name in ("scores.png", "pass_rate.png", "time.png"):
        assert (index.parent / name).stat().st_size > 5000
    assert "<b>ben</b>: a cell was cut off by the timeout" in page


@pytest.fixture
def dask_cluster(tmp_path):
    """A Dask scheduler and one worker, each its own process, on loopback only."""
    scheduler_file = tmp_path / "scheduler.json"
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ)
    procs = [subprocess.Popen([f"{bin_dir}/dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    deadline = time.time() + 60
    while not scheduler_file.exists() and time.time() < deadline:
        time.sleep(0.2)
    procs.append(subprocess.Popen([f"{bin_dir}/dask", "worker", "--scheduler-file", str(scheduler_file),
                                   "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                   "--host", "127.0.0.1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    try:
        address = json.loads(scheduler_file.read_text())["address"]
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
            pids = set(client.run(os.getpid).values())
        yield address, pids
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_distributed_path_uses_the_cluster(serial_course, dask_cluster):
    root, serial = serial_course
    address, worker_pids = dask_cluster
    shutil.rmtree(grading_dir(root, ASSIGNMENT) / "cache", ignore_errors=True)
    run = grade(root, ASSIGNMENT, scheduler=address, force=True, quiet=True)
    ran_on = {int(e["worker"].rsplit(":", 1)[1]) for e in run.executions}
    assert ran_on and ran_on <= worker_pids and os.getpid() not in ran_on
    assert per_cell(read_scores(root, ASSIGNMENT)) == serial


def test_kernels_do_not_inherit_dask_malloc_setting(monkeypatch):
    """Dask's nanny exports MALLOC_TRIM_THRESHOLD_ to its workers; a kernel that inherits it trains the
    04 CNN about 1.7x slower, so execute_job starts kernels without it (as under plain nbgrader)."""
    import nbformat

    from actkit.grading.parallel import Job, execute_job

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setenv("ACTKIT_SANDBOX", "0")  # the sandbox kernel clears its environment anyway
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint(repr(os.environ.get('MALLOC_TRIM_THRESHOLD_')), os.environ.get('COURSE_PROBE'))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    job = Job("probe", "probe", "k", nbformat.writes(nb))
    assert "COURSE_PROBE" not in os.environ
    try:
        result = execute_job(job, {"kernel_name": "python3", "timeout": 60}, env={"COURSE_PROBE": "passed-on"})
    finally:
        os.environ.pop("COURSE_PROBE", None)
    out = nbformat.reads(result.nb_json, as_version=4).cells[0].outputs[0]["text"]
    assert out.strip() == "None passed-on"
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


@pytest.mark.sandbox
def test_sandboxed_kernels_receive_the_thread_settings(monkeypatch):
    """An instructor who sizes TensorFlow's and the BLAS libraries' thread pools for the grading machine
    (TF_NUM_INTRAOP_THREADS, OMP_NUM_THREADS, ...) gets them in the sandboxed kernels too."""
    import nbformat

    from actkit.grading.parallel import Job, execute_job

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    monkeypatch.setenv("ACTKIT_SANDBOX", "1")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint(os.environ.get('TF_NUM_INTRAOP_THREADS'), os.environ.get('TF_NUM_INTEROP_THREADS'))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    result = execute_job(Job("probe", "probe", "k", nbformat.writes(nb)), {"kernel_name": "python3", "timeout": 60})
    assert nbformat.reads(result.nb_json, as_version=4).cells[0].outputs[0]["text"].strip() == "3 1"
