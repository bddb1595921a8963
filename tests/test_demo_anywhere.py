"""`make demo` works for every instructor: a fresh copy of the course under /tmp, run by a user who is not root.

As root (CI), a throwaway user is created for the run and removed afterwards; otherwise the test runs as
the current user. The user gets a virtual environment of its own (from the suite's interpreter) that sees
the course's installed packages through a ``.pth`` file, as an instructor's own environment would; the
grading sandbox then runs unprivileged, in a user namespace.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest

from actkit.instructor.notebooks import REPO_ROOT, read_scores
from tests.searchable import searchable

ASSIGNMENT = "01_activation_basics"


@pytest.fixture(scope="module")
def instructor():
    """(uid, gid) of a user who is not root, created for this test when the suite runs as root."""
    if os.geteuid() != 0:
        yield os.getuid(), os.getgid()
        return
    if not shutil.which("useradd"):
        pytest.fail("running as root, the test needs useradd to create a throwaway user")
    name = f"actkit{os.getpid()}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        entry = pwd.getpwnam(name)
        yield entry.pw_uid, entry.pw_gid
    finally:
        subprocess.run(["userdel", name], check=False)


def _as(user, command, **kwargs):
    uid, gid = user
    if os.geteuid() == 0:
        command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=-all",
                   "--bounding-set=-all", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


@pytest.fixture
def interpreter(instructor):
    """The suite's own Python, reachable by the user for the test's duration (tests/searchable.py: as root, the
    folders on its path that others cannot enter, such as pyenv's /root, get the search bit meanwhile)."""
    python = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    with searchable([python]):
        yield str(python)


@pytest.fixture
def clone(instructor, interpreter):
    """A fresh copy of the course under /tmp owned by the user, with a virtual environment of its own.

    Yields (course, venv, env); the run's temporary folder (TMPDIR) is the copy's own ``tmp``, so what a
    run leaves behind there is this run's, never another test's.
    """
    base = Path(tempfile.mkdtemp(prefix="actkit-anywhere-", dir="/tmp"))
    try:
        course = base / "course"
        tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True,
                                 check=True).stdout.split("\0")
        for rel in filter(None, tracked):
            if (REPO_ROOT / rel).is_file():
                (course / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO_ROOT / rel, course / rel)
        venv = base / "venv"
        for folder in ("home", "tmp"):
            (base / folder).mkdir()
        for path in [base, *base.rglob("*")]:
            os.lchown(path, *instructor)
        made = _as(instructor, [interpreter, "-m", "venv", "--without-pip", str(venv)])
        assert made.returncode == 0, made.stderr
        site = next((venv / "lib").glob("python3*/site-packages"))
        # the course environment's packages, and the copy's own actkit (as `pip install -e .` of the copy gives)
        (site / "course-packages.pth").write_text(f"{course}\n{sysconfig.get_paths()['purelib']}\n")
        (venv / ".installed").touch()  # the Makefile's stamp: the packages are there
        alembic = venv / "bin" / "alembic"  # the one console script nbgrader runs (for its gradebook)
        alembic.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom alembic.config import main\n"
                           "sys.exit(main())\n")
        alembic.chmod(0o755)
        templates = venv / "share" / "jupyter" / "nbconvert"  # nbconvert's templates, beside its package
        templates.parent.mkdir(parents=True)
        templates.symlink_to(Path(sysconfig.get_paths()["data"]) / "share" / "jupyter" / "nbconvert")
        for path in (site / "course-packages.pth", venv / ".installed", alembic, venv / "share",
                     templates.parent, templates):
            os.lchown(path, *instructor)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(base / "home"), "LANG": "C.UTF-8",
               "ACTKIT_SANDBOX": "1", "TMPDIR": str(base / "tmp")}
        yield course, venv, env
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _path_without(tool: str, folder: Path) -> str:
    """A PATH with every program of /usr/bin and /usr/sbin but ``tool`` (as on a machine without its package)."""
    folder.mkdir()
    for source in (Path("/usr/bin"), Path("/usr/sbin")):
        for program in source.iterdir():
            if program.name != tool and not (folder / program.name).exists():
                (folder / program.name).symlink_to(program)
    return f"/usr/local/bin:{folder}"


def _demo_scores(course: Path, run) -> None:
    scores = read_scores(course / "build" / "demo", ASSIGNMENT)
    assert scores["ada"].auto_score == scores["ada"].auto_max > 0, run.stdout[-2000:]
    assert scores["ben"].auto_score == 0
    assert 0 < scores["cleo"].auto_score < scores["cleo"].auto_max
    assert "Traceback" not in run.stdout + run.stderr
    assert re.search(r"^ada +(\d+) +\1 +ok", run.stdout, re.M), run.stdout  # the grade table is printed


@pytest.mark.sandbox
def test_make_demo_as_another_user_under_tmp(instructor, clone):
    course, venv, env = clone
    run = _as(instructor, ["make", "demo", f"VENV={venv}"], cwd=course, env=env, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + "\n".join(
        line for line in (run.stdout + run.stderr).splitlines() if "bwrap" in line or "sandbox:" in line)
    _demo_scores(course, run)
    assert "sandbox" not in run.stdout + run.stderr  # graded in the sandbox, nothing to say
    left = list(Path(env["TMPDIR"]).iterdir())  # every kernel, tester and working folder of the run is gone
    assert not left, left


def test_without_bubblewrap_the_demo_says_so_once_and_grading_refuses(instructor, clone):
    course, venv, env = clone
    env = dict(env, PATH=_path_without("bwrap", Path(env["TMPDIR"]).parent / "bin"))
    run = _as(instructor, ["make", "demo", f"VENV={venv}"], cwd=course, env=env, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    _demo_scores(course, run)
    said = [line for line in (run.stdout + run.stderr).splitlines() if "sandbox" in line or "bwrap" in line]
    assert len(said) == 1 and "sudo apt-get install bubblewrap" in said[0], said
    assert "warning" not in (run.stdout + run.stderr).lower()

    # real grading without the sandbox: one line naming the package and the explicit opt-out, no traceback
    python = str(venv / "bin" / "python")
    for command in ([python, "-m", "actkit.grading.parallel", ASSIGNMENT, "--root", "build/demo", "--force"],
                    [python, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"]):
        refused = _as(instructor, command, cwd=course, timeout=300,
                      env=dict(env, NBGRADER_COURSE_ROOT=str(course / "build" / "demo")))
        lines = (refused.stdout + refused.stderr).strip().splitlines()
        assert refused.returncode != 0 and len(lines) == 1, refused.stdout + refused.stderr
        assert "sudo apt-get install bubblewrap" in lines[0] and "ACTKIT_SANDBOX=0" in lines[0], lines[0]


def test_a_bubblewrap_that_cannot_start_is_named_in_one_line(tmp_path):
    """Ubuntu 24.04's AppArmor lets bwrap run but not set up its namespaces: the cause and the fix, one line."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", ACTKIT_SANDBOX="1")
    program = "from actkit.instructor.demo import sandbox_or_not; print(sandbox_or_not(print))"
    demo = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60)
    lines = demo.stdout.strip().splitlines()
    assert demo.returncode == 0 and len(lines) == 2 and lines[1] == "{'ACTKIT_SANDBOX': '0'}", demo.stdout + demo.stderr
    assert "bwrap: setting up uid map: Permission denied" in lines[0] and "without the sandbox" in lines[0], lines[0]
    grade = subprocess.run([sys.executable, "-m", "actkit.grading.parallel", ASSIGNMENT, "--root", str(tmp_path)],
                           capture_output=True, text=True, env=env, timeout=120)
    out = (grade.stdout + grade.stderr).strip().splitlines()
    assert grade.returncode != 0 and len(out) == 1 and "ACTKIT_SANDBOX=0" in out[0], out
    assert "bubblewrap cannot start a sandbox" in out[0], out


def test_the_package_builds_without_warnings(tmp_path):
    """pip builds actkit (templates included) with no setuptools warning (offline: the environment's setuptools)."""
    source = tmp_path / "source"  # a copy: setuptools builds in the tree it is given (build/, *.egg-info)
    shutil.copytree(REPO_ROOT / "actkit", source / "actkit", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "LICENSE"):
        shutil.copy2(REPO_ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "--wheel-dir", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    warnings = [line for line in (build.stdout + build.stderr).splitlines()
                if "warning" in line.lower() and "Location 'file:" not in line]  # this machine's pip.conf
    assert not warnings, "\n".join(warnings)
    names = zipfile.ZipFile(next(tmp_path.glob("actkit-*.whl"))).namelist()
    assert {"actkit/grading/templates/report.html.j2", "actkit/instructor/templates/base/mathjax.html.j2"} <= set(names)
