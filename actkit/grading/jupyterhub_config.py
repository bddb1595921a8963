"""JupyterHub configuration of the course: ``make hub`` starts JupyterHub with this file.

Every path of the hub is here; each can be set by the environment variable named beside it. What the
values do (accounts, exchange, the formgrader, which folders are private): ``actkit/grading/hub.py``.
"""

import getpass
import os
import pwd
from pathlib import Path

from actkit.grading import hub
from actkit.instructor.notebooks import REPO_ROOT

ROOT = os.geteuid() == 0
env = os.environ.get

# The course folder: nbgrader_config.py, source/, release/, the gradebook (its roster = the student accounts).
COURSE = Path(env("ACTKIT_HUB_COURSE", str(REPO_ROOT))).resolve()
# nbgrader's exchange: released assignments, submissions, feedback (every account must reach it).
EXCHANGE = Path(env("ACTKIT_HUB_EXCHANGE", "/srv/nbgrader/exchange" if ROOT else str(COURSE / "build/hub/exchange")))
# The hub's own state: its database, cookie secret and proxy pid (hub/, 0700), each role's Jupyter config (jupyter/).
STATE = Path(env("ACTKIT_HUB_STATE", "/srv/actkit-hub" if ROOT else str(COURSE / "build/hub")))
# Where new accounts get their home folder (as root: useradd's default, /home; local trial: STATE/home).
HOMES = Path(env("ACTKIT_HUB_HOMES")) if env("ACTKIT_HUB_HOMES") else None
# The instructor's account: as root, the owner of COURSE (which must not be root); otherwise the current user.
INSTRUCTOR = env("ACTKIT_HUB_INSTRUCTOR", pwd.getpwuid(COURSE.stat().st_uid).pw_name if ROOT else getpass.getuser())
# Where the hub listens (the next two ports are its internal API and the proxy's API, on 127.0.0.1).
URL = env("ACTKIT_HUB_URL", "http://127.0.0.1:8000")

hub.configure(get_config(), course=COURSE, exchange=EXCHANGE, state=STATE, homes=HOMES,  # noqa: F821
              instructor=INSTRUCTOR, url=URL, password=env("ACTKIT_HUB_PASSWORD", ""))
