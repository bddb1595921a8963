"""`make demo` works for every instructor: a fresh copy of the course under /tmp, run by a user who is not root.

As root (CI), a throwaway user is created for the run and removed afterwards; otherwise the test runs as
the current user. The user gets a virtual environment of its own (from the suite's interpreter) that sees
the course's installed packages through a ``.pth`` file, as an instructor's own environment would; the
grading sandbox then runs unprivileged, in a user namespace.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from actkit.grading import sandbox
from actkit.notebooks import REPO_ROOT, read_scores

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
    """The suite's own Python, reachable by the user for the test's duration.

    As root, the interpreter may live under a folder others cannot enter (pyenv under /root): the
    folders on its path get the search bit (o+x, never read) and get their modes back afterwards.
    """
    python = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    changed = []
    if os.geteuid() == 0:
        for folder in reversed(python.parents):
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                changed.append((folder, mode))
                folder.chmod(mode | stat.S_IXOTH)
    try:
        yield str(python)
    finally:
        for folder, mode in changed:
            folder.chmod(stat.S_IMODE(mode))


def test_make_demo_as_another_user_under_tmp(instructor, interpreter):
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
        home = base / "home"
        home.mkdir()
        for path in [base, *base.rglob("*")]:
            os.lchown(path, *instructor)
        made = _as(instructor, [interpreter, "-m", "venv", "--without-pip", str(venv)])
        assert made.returncode == 0, made.stderr
        site = next((venv / "lib").glob("python3*/site-packages"))
        (site / "course-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
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
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "ACTKIT_SANDBOX": "1"}
        run = _as(instructor, ["make", "demo", f"VENV={venv}"], cwd=course, env=env, timeout=900)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + "\n".join(
            line for line in (run.stdout + run.stderr).splitlines() if "bwrap" in line or "sandbox:" in line)
        scores = read_scores(course / "build" / "demo", ASSIGNMENT)
        assert scores["ada"].auto_score == scores["ada"].auto_max > 0, run.stdout[-2000:]
        assert scores["ben"].auto_score == 0
        assert 0 < scores["cleo"].auto_score < scores["cleo"].auto_max
        assert "Traceback" not in run.stderr
        assert not list(Path("/tmp").glob(f"{sandbox.PRIVATE_PREFIX}*{os.sep}owner.json"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
