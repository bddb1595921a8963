"""The course on JupyterHub: ``make hub`` (``python -m actkit.grading.hub``).

One JupyterHub for this one course, configured by ``actkit/grading/jupyterhub_config.py`` (every path is
set there). This module is what that file calls, following nbgrader's "one class, one grader" set-up:

- the instructor's own single-user server runs nbgrader's formgrader as a server extension, with the
  course's ``nbgrader_config.py`` (sandbox, two-process grading, late policy, gradebook) loaded through a
  Jupyter config folder of its own, so the formgrader, its terminal and ``nbgrader`` commands grade exactly
  like ``actkit-grade`` and feed the same gradebook;
- students (the gradebook's roster, ``make roster``) get the Assignments tab (fetch, validate, submit,
  fetch feedback) and no formgrader, course list or create-assignment tool;
- the exchange is a folder with nbgrader's documented modes (the root ``ugo+rwx``, and sticky; nbgrader makes
  the course's ``inbound`` write-only for students and their feedback reachable only by its hashed name).

As root the hub creates every student of the roster as a system user (``useradd``; no password: set them
with ``chpasswd``, or log in through LTI), keeps the course folder private to the instructor (its owner; the
folder itself ``0711``, everything in it ``go-rwx`` but ``.venv`` and ``actkit``, which every server runs)
and logs users in with PAM. Not as root it is a local trial: every server runs as the current user
(``SimpleLocalProcessSpawner``, no isolation between accounts) and everyone logs in with one shared
password (``ACTKIT_HUB_PASSWORD``, printed when generated).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from nbgrader.exchange.default.collect import ExchangeCollect

__all__ = ["CHP", "OwnerCollect", "configure", "course_id", "roster", "main"]

VENV_BIN = Path(sys.executable).parent
CHP = VENV_BIN / "configurable-http-proxy"  # the Makefile's set-up links it here from npm
USERNAME = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
PUBLIC = {".venv", "actkit"}  # what every single-user server needs from the course folder (no solution in it)
# made 0700 before nbgrader (or zip_collect: downloaded/) creates them readable
PRIVATE = ("submitted", "autograded", "feedback", "build", "downloaded")
# The environment every single-user server inherits from the hub, besides JupyterHub's own list.
KEEP = ["TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "PYTHONHASHSEED", "COURSE_DATA_DIR",
        "TF_NUM_INTRAOP_THREADS"]
STUDENT_OFF = {  # nbgrader's instructor tools, off in every student server (nbgrader's JupyterHub guide)
    "server": ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"],
    "lab": ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:create-assignment"],
}


class OwnerCollect(ExchangeCollect):
    """nbgrader's collect, where a submission is the work of the system user who owns it.

    nbgrader only warns when a submission's name gives another student than its owner, and collects it as
    that student's: a student who submits under a classmate's id (``--student``) would replace the
    classmate's submission with a newer one. Here it is its owner's own, with one line saying so.
    """

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        try:
            owner = pwd.getpwuid(os.lstat(path).st_uid).pw_name  # a link is its maker's, not its target's
        except KeyError:  # an owner without an account: nobody's to give it to
            return record
        if owner != record["username"]:
            self.log.warning("%s names %s but belongs to %s: collected as %s's", record["filename"],
                             record["username"], owner, owner)
            record["username"] = owner
        return record


def course_id(course: Path) -> str:
    """``CourseDirectory.course_id`` of the course's own ``nbgrader_config.py``."""
    from traitlets.config import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", str(course)).load_config().CourseDirectory.course_id


def roster(course: Path) -> list[str]:
    """The student ids of the course's gradebook (``make roster``) that can be user names; one line per other."""
    from nbgrader.api import Gradebook

    if not (course / "gradebook.db").is_file():
        print(f"hub: no gradebook in {course}: no student accounts (make roster FILE=students.csv first)")
        return []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        ids = sorted(s.id for s in gb.students)
    for bad in [i for i in ids if not USERNAME.fullmatch(i)]:
        print(f"hub: student id {bad!r} cannot be a user name (a-z, 0-9, _ . -, 32 at most): no account")
    return [i for i in ids if USERNAME.fullmatch(i)]


def _system_user(name: str, homes: Path | None) -> pwd.struct_passwd:
    """The system user ``name``, created (home 0700, no password) when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        base = ["--base-dir", str(homes)] if homes else []
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", *base, name],
                       check=True)
        entry = pwd.getpwnam(name)
        os.chmod(entry.pw_dir, 0o700)
        print(f"hub: created user {name} (no password: set one with chpasswd, or log in through LTI)")
        return entry


def _private_course(course: Path, owner: pwd.struct_passwd) -> None:
    """The course folder readable by its instructor only, except what every server runs (``PUBLIC``)."""
    if course.stat().st_uid != owner.pw_uid:
        sys.exit(f"hub: {course} must belong to the instructor: chown -R {owner.pw_name}: {course}")
    for path in (course, VENV_BIN, Path(sys.executable).resolve()):  # every server runs the course's Python
        for folder in path.parents:
            if not folder.stat().st_mode & stat.S_IXOTH:
                sys.exit(f"hub: students cannot enter {folder} on the way to {path}: chmod o+x {folder}")
    for name in PRIVATE:
        if not (course / name).exists():
            (course / name).mkdir()
            os.chown(course / name, owner.pw_uid, owner.pw_gid)
    course.chmod(0o711)
    for entry in course.iterdir():
        if entry.name not in PUBLIC and not entry.is_symlink():
            entry.chmod(entry.stat().st_mode & 0o700)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)
    path.parent.chmod(0o755)


def _jupyter_configs(config_dir: Path, course: Path, exchange: Path, trial: bool) -> dict[str, Path]:
    """The Jupyter config folder of each role (on the servers' ``JUPYTER_CONFIG_PATH``).

    For a class, collecting gives each submission to the system user who owns it (``OwnerCollect``). A
    local trial runs every account as one user: a student's id is the hub's user name instead of the
    system user's, and collecting cannot check owners (nbgrader's ``check_owner`` off).
    """
    exchange_line = f"c.Exchange.root = {str(exchange)!r}\n"
    instructor, student = config_dir / "instructor", config_dir / "student"
    _write(instructor / "nbgrader_config.py",
           "# Generated by actkit.grading.hub: the course's own configuration, and the hub's exchange.\n"
           f"c = get_config()  # noqa: F821\nload_subconfig({str(course / 'nbgrader_config.py')!r})  # noqa: F821\n"
           + exchange_line + ("c.ExchangeCollect.check_owner = False  # a local trial: one user\n" if trial
                              else "c.ExchangeFactory.collect = 'actkit.grading.hub.OwnerCollect'\n"))
    _write(student / "nbgrader_config.py",
           "# Generated by actkit.grading.hub: the course students fetch from, and the exchange.\n"
           f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {course_id(course)!r}\n" + exchange_line
           + "c.Execute.timeout = 240\n"
           + ("import os\nc.CourseDirectory.student_id = os.environ['JUPYTERHUB_USER']\n" if trial else ""))
    _write(student / "jupyter_server_config.json", json.dumps(
        {"ServerApp": {"jpserver_extensions": dict.fromkeys(STUDENT_OFF["server"], False)}}, indent=1))
    _write(student / "labconfig" / "page_config.json", json.dumps(
        {"disabledExtensions": dict.fromkeys(STUDENT_OFF["lab"], True)}, indent=1))
    return {"instructor": instructor, "student": student}


def configure(c, *, course: Path, exchange: Path, state: Path, homes: Path | None, instructor: str,
              url: str, password: str = "") -> None:
    """Fill JupyterHub's config ``c`` for this course; as root, create the accounts and secure the folders."""
    root = os.geteuid() == 0
    port = urlsplit(url).port if re.match(r"https?://[^/]+:\d+(/|$)", url) else None
    if port is None:
        sys.exit(f"hub: ACTKIT_HUB_URL={url!r} needs a port, e.g. http://0.0.0.0:8000 (the hub's API and the "
                 "proxy's take the two after it)")
    if not CHP.exists():
        sys.exit(f"hub: configurable-http-proxy is missing ({CHP}): install npm, then run the set-up "
                 "(rm .venv/.installed && make venv)")
    students = roster(course)
    if instructor in students:
        sys.exit(f"hub: the instructor account {instructor!r} is also a student id of the roster")
    if root:  # refused in one line before anything is made
        try:
            owner = pwd.getpwnam(instructor)
        except KeyError:
            sys.exit(f"hub: no user {instructor!r}: the instructor's account must exist and own {course}")
        if owner.pw_uid == 0:
            sys.exit(f"hub: {course} belongs to root: give it to the instructor's account (chown -R <user>: "
                     f"{course}) or name that account in ACTKIT_HUB_INSTRUCTOR")
        _private_course(course, owner)
        for name in students:
            _system_user(name, homes)
    for folder, mode in ((state, 0o755), (state / "hub", 0o700)):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(mode)
    exchange.mkdir(parents=True, exist_ok=True)
    # nbgrader: `chmod ugo+rw` (release_assignment checks the 0777 bits); sticky, so that no student can rename
    # or replace the course's folder in it
    exchange.chmod(0o1777)
    roles = _jupyter_configs(state / "jupyter", course, exchange, trial=not root)

    if root:
        c.JupyterHub.authenticator_class = "pam"
        c.JupyterHub.spawner_class = "localprocess"
    else:
        if not password:
            password = secrets.token_urlsafe(12)
            print(f"hub: local trial, every account logs in with the password {password}")
        c.JupyterHub.authenticator_class = "shared-password"
        c.SharedPasswordAuthenticator.user_password = password
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = str((homes or state / "home") / "{username}")

    c.Authenticator.allowed_users = {instructor, *students}
    c.JupyterHub.bind_url = url
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{port + 1}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port + 2}"
    c.ConfigurableHTTPProxy.command = [str(CHP)]
    c.ConfigurableHTTPProxy.pid_file = str(state / "hub" / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{state / 'hub' / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "hub" / "jupyterhub_cookie_secret")
    c.JupyterHub.cleanup_servers = True  # stopping the hub stops every server it started
    c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/tree"
    c.Spawner.http_timeout = c.Spawner.start_timeout = 180
    c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "JUPYTERHUB_SINGLEUSER_APP", *KEEP,
                          *[k for k in os.environ if k.startswith("ACTKIT_SANDBOX")]]

    def pre_spawn(spawner):
        role = "instructor" if spawner.user.name == instructor else "student"
        spawner.environment = {"JUPYTER_CONFIG_PATH": str(roles[role])}
        if role == "instructor":  # the formgrader needs the course inside the server's root folder
            spawner.notebook_dir = str(course)
            spawner.default_url = "/formgrader"  # where the instructor lands after logging in

    c.Spawner.pre_spawn_hook = pre_spawn


def main(argv: list[str] | None = None) -> None:
    """Start the hub with ``actkit/grading/jupyterhub_config.py`` (arguments go to ``jupyterhub``)."""
    if not CHP.exists():
        sys.exit("hub: configurable-http-proxy is missing: install npm (Debian: apt-get install nodejs npm), "
                 "then rm .venv/.installed && make venv")
    config = Path(__file__).with_name("jupyterhub_config.py")
    jupyterhub = shutil.which("jupyterhub", path=str(VENV_BIN)) or "jupyterhub"
    os.execv(jupyterhub, [jupyterhub, "-f", str(config), *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
