"""``make publish DEST=<folder>``: write the public student repository (instructor side).

The student repository is what Colab opens and what every notebook's setup cell installs ``actkit`` from
(``course.toml`` names it and the ref students use). It holds only what students need:

- ``release/``: the student versions of the assignments (as committed; ``make release`` makes them);
- ``notebooks/``: the lectures and the glossary;
- ``actkit/``: the student part of the helper package (data loaders, seeding, plots, interactive
  figures), with a ``pyproject.toml`` that installs only what these need;
- ``README.md`` for students (open in Colab or Jupyter, run, check, hand in; minimal versions) and the
  ``LICENSE``.

Never ``source/``, ``tests/``, the grading code, the instructor tools, a solution or a hidden test.
An unset or placeholder repository in ``course.toml`` is refused in one line, and so are released
notebooks or lectures whose Colab cells do not match the setting (run ``make release`` first).

``DEST`` may be an existing clone of the student repository: everything in it except ``.git`` is
replaced, so ``git add -A && git commit && git tag <ref> && git push --tags`` there publishes a new
version.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

import actkit
from actkit.instructor.course import (
    StudentRepository,
    apply_colab_cells,
    colab_cells_of,
    require_settings,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The modules of actkit students use (they import nothing else from actkit; a test checks it).
STUDENT_MODULES = ("data.py", "repro.py", "plotting.py", "interactive.py")
#: Lower bounds of the student package's own dependencies (at most the versions Colab ships).
STUDENT_DEPENDENCIES = ("numpy>=1.26", "matplotlib>=3.8", "bokeh>=3.4")
#: The versions the notebooks need (README); the notebooks use no API that differs between these
#: (the documented Colab runtime of 2025-07: TensorFlow 2.19, Keras 3.10, NumPy 2.0) and the pins of
#: requirements.txt.
MINIMAL_VERSIONS = {"Python": "3.10", "TensorFlow": "2.19", "Keras": "3.10", "NumPy": "2.0",
                    "Matplotlib": "3.8", "Bokeh": "3.4"}
LECTURE_EXTRAS = ("GLOSSARY.md",)


class PublishError(RuntimeError):
    """The course cannot be published as it is (one line)."""


def assignments(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "release").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def stale_colab_cells(repo: StudentRepository, root: Path = REPO_ROOT) -> list[str]:
    """Released notebooks and lectures whose badge and setup cell are not the ones of ``course.toml``."""
    stale = []
    paths = sorted((root / "release").glob("*/*.ipynb")) + sorted((root / "notebooks").glob("*.ipynb"))
    for path in paths:
        rel = path.relative_to(root).as_posix()
        nb = nbformat.read(path, as_version=4)
        expected = apply_colab_cells(nbformat.v4.new_notebook(), repo, rel)
        have = colab_cells_of(nb)
        if [c.source for c in nb.cells[:2]] != [c.source for c in expected.cells] or len(have) != 2:
            stale.append(rel)
    return stale


def student_pyproject() -> str:
    deps = ", ".join(f'"{d}"' for d in STUDENT_DEPENDENCIES)
    return f'''\
# The student part of actkit, the helpers of the activation-functions course. Colab has everything
# else the notebooks need; for Jupyter on your own machine: pip install ".[notebooks]"
# License: Apache-2.0 (the LICENSE file, which setuptools ships with the package; no `license` key, whose
# accepted form differs between old and new setuptools).
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "actkit"
version = "{actkit.__version__}"
description = "Helpers of the activation-functions course: data loaders, seeding, plots, interactive figures."
requires-python = ">={MINIMAL_VERSIONS["Python"]}"
readme = "README.md"
dependencies = [{deps}]

[project.optional-dependencies]
notebooks = ["tensorflow>={MINIMAL_VERSIONS["TensorFlow"]}", "keras>={MINIMAL_VERSIONS["Keras"]}", "pydot", "notebook"]

[tool.setuptools]
packages = ["actkit"]
'''


STUDENT_INIT = '''\
"""actkit: the helpers of the activation-functions course (the student part).

- :mod:`actkit.data`: MNIST / Fashion-MNIST loaders that work offline and online (Colab: Keras downloads);
- :mod:`actkit.repro`: ``set_seeds`` for Python, NumPy and TensorFlow;
- :mod:`actkit.plotting`, :mod:`actkit.interactive`: the figures of the notebooks.

No reference solution lives in this package.
"""

__version__ = "{version}"
'''


def _badge(repo: StudentRepository, path: str) -> str:
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({repo.colab_url(path)})"


def _title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return cell.source.lstrip().split("\n", 1)[0][2:].strip()
    return path.stem


def student_readme(repo: StudentRepository, root: Path = REPO_ROOT) -> str:
    rows = []
    for name in assignments(root):
        for nb in sorted((root / "release" / name).glob("*.ipynb")):
            rel = nb.relative_to(root).as_posix()
            rows.append(f"| assignment | [{_title(nb)}]({rel}) | {_badge(repo, rel)} |")
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        rel = nb.relative_to(root).as_posix()
        rows.append(f"| lecture | [{_title(nb)}]({rel}) | {_badge(repo, rel)} |")
    table = "\n".join(rows)
    versions = ", ".join(f"{k} {v}" for k, v in MINIMAL_VERSIONS.items())
    return f"""\
# Activation functions: an open course (student notebooks)

Four lectures and four graded assignments on the activation functions of neural networks, as Jupyter
notebooks. This repository (version `{repo.ref}`) holds the notebooks and `actkit`, the course's small
helper package (data loaders, seeding, plots). Terms are defined in
[notebooks/GLOSSARY.md](notebooks/GLOSSARY.md).

| kind | notebook | open |
|---|---|---|
{table}

## In Google Colab (nothing to install)

1. Click the notebook's **Open in Colab** badge, then **File → Save a copy in Drive** (otherwise your
   work is not kept).
2. Run the notebook from the top (**Runtime → Run all**). Its first code cell installs `actkit` from
   this repository; if it prints a line saying the installation failed, do what it says.
3. Do the tasks: write code only where it says `# YOUR CODE HERE`, answers only where it says
   `YOUR ANSWER HERE`.
4. Check your work: **Runtime → Restart session and run all**. Every cell should run without an error;
   the test cells below each task are the visible tests, and a test cell without an error has passed.
5. Hand in: **File → Download → Download .ipynb**, and hand in that file as your instructor asks (not a
   link). A name such as `Copy of ...ipynb` is fine.

## In Jupyter on your own machine

```bash
git clone {repo.url}
cd {repo.url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")}
python -m venv .venv && .venv/bin/pip install ".[notebooks]"   # actkit, TensorFlow, Keras, Jupyter
.venv/bin/jupyter notebook
```

Open a notebook, do the tasks, then **Kernel → Restart Kernel and Run All Cells** and check that every
cell runs without an error (`nbgrader validate <notebook>.ipynb` lists the failures of the visible tests
if you have nbgrader). Hand in the `.ipynb` file itself. The notebook's first code cell does nothing here.

The data (MNIST, Fashion-MNIST) is downloaded by Keras the first time; a folder of the IDX files can be
given with the environment variable `COURSE_DATA_DIR`.

## Versions

Minimal versions: {versions}. The notebooks use no API that differs between these (Google Colab's
runtime) and the versions the course is tested with (TensorFlow 2.21, Keras 3.15, NumPy 2.4).

## License

Apache-2.0 ([LICENSE](LICENSE)). MNIST (LeCun, Cortes, Burges): CC BY-SA 3.0; Fashion-MNIST (Zalando
Research): MIT.
"""


def _check_dest(dest: Path, root: Path) -> Path:
    dest = dest.expanduser().resolve()
    root = root.resolve()
    if dest == root or root.is_relative_to(dest):
        raise PublishError(f"DEST={dest} would overwrite the course itself: give a folder outside it")
    if dest.is_relative_to(root) and not dest.is_relative_to(root / "build"):
        raise PublishError(f"DEST={dest} is inside the course: give a folder outside it (or under build/)")
    if dest.exists() and not dest.is_dir():
        raise PublishError(f"DEST={dest} is a file, not a folder")
    return dest


def publish(dest: Path, root: Path = REPO_ROOT, repo: StudentRepository | None = None) -> Path:
    """Write the student repository to ``dest`` (everything but ``dest/.git`` is replaced)."""
    repo = repo or require_settings()
    dest = _check_dest(Path(dest), root)
    stale = stale_colab_cells(repo, root)
    if stale:
        raise PublishError(f"{len(stale)} notebooks do not match course.toml ({stale[0]}, ...): run `make release`")
    dest.mkdir(parents=True, exist_ok=True)
    for item in dest.iterdir():
        if item.name == ".git":
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()
    for name in assignments(root):
        (dest / "release" / name).mkdir(parents=True)
        for nb in sorted((root / "release" / name).glob("*.ipynb")):
            shutil.copyfile(nb, dest / "release" / name / nb.name)
    (dest / "notebooks").mkdir()
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        shutil.copyfile(nb, dest / "notebooks" / nb.name)
    for extra in LECTURE_EXTRAS:
        shutil.copyfile(root / "notebooks" / extra, dest / "notebooks" / extra)
    (dest / "actkit").mkdir()
    (dest / "actkit" / "__init__.py").write_text(STUDENT_INIT.format(version=actkit.__version__))
    for module in STUDENT_MODULES:
        shutil.copyfile(root / "actkit" / module, dest / "actkit" / module)
    (dest / "pyproject.toml").write_text(student_pyproject())
    (dest / "README.md").write_text(student_readme(repo, root))
    shutil.copyfile(root / "LICENSE", dest / "LICENSE")
    (dest / ".gitignore").write_text(".venv/\n__pycache__/\n*.egg-info/\nbuild/\n.ipynb_checkpoints/\n")
    return dest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the public student repository (make publish DEST=...).")
    parser.add_argument("dest", nargs="?", default="", help="the folder (e.g. a clone of the student repository)")
    args = parser.parse_args(argv)
    repo = require_settings()
    if not args.dest:
        sys.exit("error: say where to publish: make publish DEST=<folder> (e.g. a clone of the student repository)")
    try:
        dest = publish(Path(args.dest), repo=repo)
    except PublishError as exc:
        sys.exit(f"error: {exc}")
    print(f"{dest}: the student repository for {repo.url} at {repo.ref}; commit there, tag {repo.ref!r} and push")


if __name__ == "__main__":
    main()
