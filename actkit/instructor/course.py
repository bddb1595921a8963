"""The course's Colab setting (``course.toml``) and the notebook cells generated from it (instructor side).

``course.toml`` names the public student repository (``make publish DEST=...`` writes it) and the branch,
tag or commit students use. From that one setting this module generates the two cells every released
notebook and every lecture starts with:

1. an "Open in Colab" badge linking to the notebook's own path in the student repository at that ref;
2. a setup cell that installs ``actkit`` from the student repository, pinned to that ref, only when
   ``import actkit`` would fail (in Colab). Anywhere else it does nothing and prints nothing. A failed
   installation prints one line (what failed, what to do), never a traceback. The environment variable
   ``ACTKIT_REPOSITORY`` replaces the repository URL (the tests install from a ``file://`` copy).

Released notebooks get the cells from nbgrader (:class:`ColabCells`, a ``generate_assignment``
preprocessor configured in ``nbgrader_config.py``); lectures from ``python -m actkit.instructor.course lectures``
(run by ``make release``). Students never import this module; it is not part of the published package.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[2]
SETTINGS = REPO_ROOT / "course.toml"
#: Another settings file instead of course.toml (the tests check that a placeholder is refused).
SETTINGS_OVERRIDE = "ACTKIT_COURSE_TOML"
#: Replaces the repository URL in the setup cell (tests: ``file:///...``); the ref stays the configured one.
URL_OVERRIDE = "ACTKIT_REPOSITORY"
BADGE_ID = "colab_badge"
SETUP_ID = "colab_setup"
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+?)(\.git)?/?$")
_PLACEHOLDER_OWNERS = {"your-org", "your-organisation", "your-organization", "your-name", "your-username",
                       "your-account", "org", "owner", "user", "username", "example", "placeholder", "changeme"}
_PLACEHOLDER_TEXT = re.compile(r"^(|<.*>|\.\.\.|todo|tbd|changeme|your[-_ ].*)$", re.IGNORECASE)


class SettingError(ValueError):
    """``course.toml`` is missing, unset or still holds a placeholder (the message is one line)."""


@dataclass(frozen=True)
class StudentRepository:
    """The public student repository: a GitHub URL and the ref (branch, tag or commit) students use."""

    url: str
    ref: str

    @property
    def slug(self) -> str:
        """``owner/name`` on GitHub."""
        m = _GITHUB.match(self.url)
        return f"{m.group(1)}/{m.group(2)}"

    def colab_url(self, path: str) -> str:
        """Colab's address of the notebook at ``path`` (relative to the repository root) at the ref."""
        return f"https://colab.research.google.com/github/{self.slug}/blob/{self.ref}/{path}"

    def install_url(self) -> str:
        """What ``pip install`` gets in Colab: the repository at the ref."""
        return f"git+https://github.com/{self.slug}@{self.ref}"


def settings_path() -> Path:
    """``course.toml`` of the course (or the file ``$ACTKIT_COURSE_TOML`` names)."""
    return Path(os.environ.get(SETTINGS_OVERRIDE) or SETTINGS)


def read_settings(path: Path | None = None) -> StudentRepository:
    """The student repository of ``course.toml``; :class:`SettingError` when unset or a placeholder."""
    path = Path(path) if path is not None else settings_path()
    where = f"{path.name} [student_repository]"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SettingError(f"{path} is missing: create it with [student_repository] url and ref") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"{path} is not valid TOML ({exc})") from None
    section = data.get("student_repository")
    if not isinstance(section, dict):
        raise SettingError(f"{where} is missing: set url (your public student repository) and ref")
    url = str(section.get("url", "")).strip()
    ref = str(section.get("ref", "")).strip()
    m = _GITHUB.match(url)
    if not m:
        shown = f"url = {url!r} is not" if url else "url is not set to"
        raise SettingError(f"{where} {shown} your public GitHub student repository "
                           "(https://github.com/<owner>/<name>): set it in course.toml")
    owner, name = m.group(1), m.group(2)
    if owner.casefold() in _PLACEHOLDER_OWNERS or _PLACEHOLDER_TEXT.match(owner) or _PLACEHOLDER_TEXT.match(name):
        raise SettingError(f"{where} url = {url!r} is a placeholder: set it to your public student repository "
                           "in course.toml")
    if _PLACEHOLDER_TEXT.match(ref) or not re.fullmatch(r"[A-Za-z0-9._/-]+", ref):
        raise SettingError(f"{where} ref = {ref!r} is not set: name the branch, tag or commit students use "
                           "in course.toml")
    return StudentRepository(url=url, ref=ref)


def require_settings(path: Path | None = None) -> StudentRepository:
    """:func:`read_settings`, or exit with its one line (``make release``, ``make publish``)."""
    try:
        return read_settings(path)
    except SettingError as exc:
        sys.exit(f"error: {exc}")


def badge_source(repo: StudentRepository, path: str) -> str:
    """The markdown of the "Open in Colab" badge of the notebook at ``path`` in the student repository."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({repo.colab_url(path)})"
            f" (the course's notebooks: <https://github.com/{repo.slug}/tree/{repo.ref}>)")


def setup_source(repo: StudentRepository) -> str:
    """The setup cell: installs actkit from the student repository at the ref when it is missing."""
    default = f'    ACTKIT_REPOSITORY = "https://github.com/{repo.slug}"'
    if len(default) > 110:
        default += "  # noqa: E501"
    return f'''\
# For Google Colab: installs the course's helper package actkit ({repo.ref}) when it is missing; otherwise does nothing.
import importlib
import importlib.util
import os
import re
import subprocess
import sys

if importlib.util.find_spec("actkit") is None:
{default}
    ACTKIT_SOURCE = os.environ.get("{URL_OVERRIDE}", ACTKIT_REPOSITORY) + "@{repo.ref}"
    try:
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-color", "--disable-pip-version-check",
             "git+" + ACTKIT_SOURCE], capture_output=True, text=True, timeout=900,
        )
        # the cause: git's or pip's own error line (no colour codes, no box drawing, no "note:" or "hint:")
        lines = [line.strip(" │╰─>×") for line in re.sub(r"\\x1b\\[[0-9;]*[A-Za-z]", "", pip.stderr).splitlines()]
        causes = [line for line in lines if re.match(r"(fatal|error|ERROR):", line) and "subprocess-exited" not in line]
        problem = (causes or [f"pip exited with {{pip.returncode}}"])[0] if pip.returncode else ""
    except (OSError, subprocess.SubprocessError) as error:
        problem = f"{{type(error).__name__}}: {{error}}"
    importlib.invalidate_caches()
    if problem:
        print(f"Installing the course helpers (actkit) from {{ACTKIT_SOURCE}} failed: {{problem}} -- check the "
              "internet connection (Colab: Runtime > Restart session), run this cell again, and tell your "
              "instructor if it keeps failing.")'''


def _cell(kind: str, source: str, key: str, minor: int, graded: bool) -> nbformat.NotebookNode:
    meta: dict = {"tags": [key.replace("_", "-")]}
    if graded:
        meta["nbgrader"] = {"grade": False, "grade_id": key, "locked": True, "schema_version": 3,
                            "solution": False, "task": False}
    cell = {"cell_type": kind, "metadata": meta, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if minor >= 5:
        cell["id"] = key.replace("_", "-")
    return nbformat.from_dict(cell)


def _is_colab_cell(cell) -> bool:
    meta = cell.get("metadata", {})
    tags = set(meta.get("tags", []))
    return bool(tags & {"colab-badge", "colab-setup"}) or meta.get("nbgrader", {}).get("grade_id") in (
        BADGE_ID, SETUP_ID)


def apply_colab_cells(nb, repo: StudentRepository, path: str, *, graded: bool = False):
    """Put the badge of ``path`` and the setup cell first in ``nb`` (replacing older ones); returns ``nb``."""
    minor = nb.get("nbformat_minor", 4) if nb.get("nbformat", 4) == 4 else 5
    old = [c for c in nb.cells if _is_colab_cell(c)]
    keep = [c for c in nb.cells if not _is_colab_cell(c)]
    new = [_cell("markdown", badge_source(repo, path), BADGE_ID, minor, graded),
           _cell("code", setup_source(repo), SETUP_ID, minor, graded)]
    # an unchanged setup cell keeps its committed execution fields (nbval compares outputs only)
    for fresh in new:
        for cell in old:
            if cell.cell_type == fresh.cell_type and cell.source == fresh.source:
                fresh.metadata = cell.metadata
                if cell.get("id"):
                    fresh["id"] = cell["id"]
    nb.cells = new + keep
    return nb


def colab_cells_of(nb) -> list:
    """The badge and setup cells of a notebook (the first two cells when generated)."""
    return [c for c in nb.cells if _is_colab_cell(c)]


def update_lectures(repo: StudentRepository, root: Path = REPO_ROOT) -> list[Path]:
    """Give every lecture in ``root/notebooks`` its badge and setup cell; returns the notebooks changed."""
    changed = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        text = path.read_text()
        nb = nbformat.reads(text, as_version=4)
        apply_colab_cells(nb, repo, f"notebooks/{path.name}")
        new = nbformat.writes(nb) + "\n"
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


try:  # the nbgrader side (instructors have it; a plain `import actkit.instructor.course` does not need it)
    from nbgrader.preprocessors import NbGraderPreprocessor as _Base
except ImportError:  # pragma: no cover - nbgrader is installed wherever release notebooks are generated
    _Base = object


class ColabCells(_Base):
    """nbgrader ``generate_assignment`` preprocessor: the badge and the setup cell first, locked.

    It runs after ``IncludeHeaderFooter`` (so they precede the header) and before the checksums and
    ``SaveCells``, so the gradebook knows them like any other locked cell.
    """

    def preprocess(self, nb, resources):
        repo = require_settings()
        info = resources["nbgrader"]
        apply_colab_cells(nb, repo, f"release/{info['assignment']}/{info['notebook']}.ipynb", graded=True)
        return nb, resources


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The course's Colab setting (course.toml).")
    parser.add_argument("command", choices=["check", "lectures"],
                        help="check: print the setting or refuse it in one line; lectures: update notebooks/")
    args = parser.parse_args(argv)
    repo = require_settings()
    if args.command == "check":
        print(f"student repository {repo.url} at {repo.ref}")
    else:
        for path in update_lectures(repo):
            print(f"{path.relative_to(REPO_ROOT)}: Colab badge and setup cell updated")


if __name__ == "__main__":
    main()
