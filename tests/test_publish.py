"""The public student repository (issue 12): ``make publish`` writes it without any solution or hidden test,
and every notebook in it runs from a fresh virtual environment whose only way to ``actkit`` is the notebook's
own setup cell installing it from the published repository (as in Colab, with a ``git+file://`` URL instead of
GitHub). ``course.toml`` is the one setting; an unset or placeholder repository is refused in one line.

The fresh environment downloads nothing: it is a ``python -m venv`` whose ``.pth`` file adds a folder of links
to the course environment's packages, except actkit (so TensorFlow, Jupyter and pytest are there, actkit and
the course checkout are not), and pip runs with ``PIP_NO_INDEX`` (no index at all) and without build isolation.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from actkit.instructor import course, publish
from actkit.instructor.notebooks import MARKER, REPO_ROOT, assignments, make_submission, notebook_of, solution_cells
from tests.test_release import secret_lines

SETTING = course.read_settings()
COURSE_BIN = str(Path(sys.executable).parent)


def fresh_venv(path: Path) -> Path:
    """A virtual environment with the course environment's packages but neither actkit nor the course; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    links = path / "course-packages"
    links.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "actkit" not in entry.name.lower():  # the editable install: its .pth, finder and dist-info
            (links / entry.name).symlink_to(entry)
    Path(purelib, "course-packages.pth").write_text(f"{links}\n")  # a path line: .pth files inside are not run
    return python


def clean_env(venv_python: Path, **extra: str) -> dict:
    """The environment of a student's machine: the fresh venv first on PATH, no course venv, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONSTARTUP") and not k.startswith("PIP_")}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != Path(COURSE_BIN).resolve()]
    env["PATH"] = os.pathsep.join([str(venv_python.parent), *path])
    # no index: pip can download nothing; PIP_NO_BUILD_ISOLATION=0 is pip's spelling of --no-build-isolation (the
    # build uses the setuptools at hand instead of fetching one); Colab's pip has an index and isolates builds
    env.update(PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return publish.publish(tmp_path_factory.mktemp("student-repo"), repo=SETTING)


# ------------------------------------------------------------------------------------------------
# The setting

@pytest.mark.parametrize("url, ref", [
    ("https://github.com/your-org/activation-functions-course", "v1.0"),
    ("", "v1.0"),
    ("https://github.com/actkit-course/activation-functions-student", ""),
    ("https://github.com/<owner>/<name>", "main"),
    ("https://gitlab.com/actkit-course/activation-functions-student", "v1.0"),
])
def test_unset_or_placeholder_repository_is_refused(tmp_path, url, ref):
    settings = tmp_path / "course.toml"
    settings.write_text(f'[student_repository]\nurl = "{url}"\nref = "{ref}"\n')
    with pytest.raises(course.SettingError) as caught:
        course.read_settings(settings)
    assert "\n" not in str(caught.value) and "course.toml" in str(caught.value)


def test_make_release_and_publish_refuse_a_placeholder_in_one_line(tmp_path):
    settings = tmp_path / "course.toml"
    settings.write_text('[student_repository]\nurl = "https://github.com/your-org/course"\nref = "v1.0"\n')
    env = dict(os.environ, ACTKIT_COURSE_TOML=str(settings))
    for module, args in (("actkit.instructor.release", []), ("actkit.instructor.publish", [tmp_path / "out"])):
        proc = run([sys.executable, "-m", module, *args], env=env, cwd=REPO_ROOT, timeout=120)
        assert proc.returncode != 0, module
        assert proc.stdout == "" and proc.stderr.strip().count("\n") == 0, proc.stderr
        assert proc.stderr.startswith("error: ") and "placeholder" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_committed_notebooks_carry_the_setting_and_no_placeholder():
    assert publish.stale_colab_cells(SETTING) == [], "run `make release`"
    for path in sorted(REPO_ROOT.glob("release/*/*.ipynb")) + sorted(REPO_ROOT.glob("notebooks/*.ipynb")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        nb = nbformat.read(path, as_version=4)
        badge, setup = nb.cells[:2]
        assert SETTING.colab_url(rel) in badge.source, rel
        assert f'"https://github.com/{SETTING.slug}"' in setup.source and f'+ "@{SETTING.ref}"' in setup.source
        text = path.read_text()
        assert "your-org" not in text and "COURSE_REPOSITORY" not in text, rel


def test_lectures_store_nothing_that_changes_from_run_to_run():
    """No execution timestamps in the committed lectures (nbclient records them in each cell's metadata)."""
    for path in sorted(REPO_ROOT.glob("notebooks/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        timed = [i for i, c in enumerate(nb.cells) if "execution" in c.metadata]
        assert timed == [], f"{path.name}: cells {timed} store execution timestamps (strip metadata.execution)"


# ------------------------------------------------------------------------------------------------
# What is published

def test_published_tree_holds_only_the_student_side(published):
    top = sorted(p.name for p in published.iterdir())
    assert top == [".gitignore", "LICENSE", "README.md", "actkit", "notebooks", "pyproject.toml", "release"]
    assert sorted(p.name for p in (published / "actkit").iterdir()) == sorted(
        ["__init__.py", *publish.STUDENT_MODULES])
    assert sorted(p.name for p in (published / "release").iterdir()) == assignments()
    for path in published.rglob("*"):
        assert not {"source", "tests", "grading", "autograded", "submitted", "feedback"} & set(path.parts), path
    modules = {p.stem for p in (published / "actkit").glob("*.py")}
    for path in (published / "actkit").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.startswith("actkit."):
                    assert name.split(".")[1] in modules, f"{path.name} imports {name}, which is not published"
    project = (published / "pyproject.toml").read_text()
    for word in ("nbgrader", "dask", "grading", "tensorflow>=2.19", "keras>=3.10"):
        assert (word in project) is word.startswith(("tensorflow", "keras")), word
    readme = (published / "README.md").read_text()
    for needed in ("Open in Colab", "File → Download → Download .ipynb", "Restart session and run all",
                   "visible tests", "TensorFlow 2.19", "Keras 3.10", "NumPy 2.0", SETTING.colab_url(
                       "release/01_activation_basics/01_activation_basics.ipynb")):
        assert needed in readme, needed
    assert (published / "LICENSE").read_bytes() == (REPO_ROOT / "LICENSE").read_bytes()


def public_lines() -> set[str]:
    """Lines the course writes in public material too: the source notebooks outside their solution and hidden
    regions (stubs, helpers, examples), the lectures and the student actkit modules (``x = np.asarray(x,
    dtype=float)``, ``model = keras.Sequential([``). A solution line found in one of these reveals nothing."""
    lines = set()
    for path in [*REPO_ROOT.glob("source/**/*.ipynb"), *REPO_ROOT.glob("notebooks/*.ipynb")]:
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.split("\n"):
                mark = MARKER.match(line)
                if mark:
                    inside = mark.group(2) == "BEGIN"
                elif not inside:
                    lines.add(line.strip())
    for module in publish.STUDENT_MODULES:
        lines |= {line.strip() for line in (REPO_ROOT / "actkit" / module).read_text().split("\n")}
    return lines


def secrets_of(assignment: str) -> set[str]:
    """Solution and hidden-test lines of a source notebook that the course writes nowhere in public."""
    solutions, hidden = secret_lines(nbformat.read(notebook_of(assignment), as_version=4))
    every = set(hidden).union(*solutions.values())
    public = "\n".join(public_lines())
    secrets = {line for line in every if line not in public}
    assert len(secrets) >= 0.9 * len(every) > 0, f"most secret lines are checked: {sorted(every - secrets)}"
    return secrets


def leaks(tree: Path, secrets: set[str]) -> list[str]:
    """Every file of ``tree`` holding a secret line or an nbgrader marker, with what it holds."""
    found = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file() and ".git" not in p.parts):
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":  # the lines of the cells, as a student's editor shows them
            text += "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        hits = [m for m in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS") if m in text]
        hits += sorted(line for line in secrets if line in text)
        if hits:
            found.append(f"{path.relative_to(tree)}: {len(hits)} secret lines or markers, e.g. {hits[:3]}")
    return found


@pytest.mark.parametrize("assignment", assignments())
def test_published_tree_has_no_solution_or_hidden_test(published, assignment):
    assert leaks(published, secrets_of(assignment)) == []


def test_the_scan_finds_a_leaked_source_notebook(published, tmp_path):
    tree = shutil.copytree(published, tmp_path / "leaky")
    shutil.copyfile(notebook_of("02_gradients"), tree / "notebooks" / "02_gradients_source.ipynb")
    found = leaks(tree, secrets_of("02_gradients"))
    assert [line.split(":")[0] for line in found] == ["notebooks/02_gradients_source.ipynb"]


# ------------------------------------------------------------------------------------------------
# Every notebook runs from a fresh environment that installs actkit through its own setup cell

def test_setup_cell_failure_is_one_line(tmp_path):
    python = fresh_venv(tmp_path / "venv")
    setup = course.setup_source(SETTING)
    env = clean_env(python, ACTKIT_REPOSITORY=f"file://{tmp_path}/no-such-repository")
    proc = run([python, "-c", setup], env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.strip().split("\n")
    assert len(lines) == 1 and "Traceback" not in proc.stdout, proc.stdout
    assert lines[0].startswith("Installing the course helpers (actkit) from file://") and "failed" in lines[0]
    assert "run this cell again" in lines[0]
    # the cause is git's own line, not pip's closing note
    assert "failed: fatal: " in lines[0] and "note:" not in lines[0] and "\x1b" not in lines[0], lines[0]


# pip's stderr as Colab showed it (issue 26): colour codes, box drawing, the real cause inside, a note last
COLAB_PIP_STDERR = (
    "  \x1b[1;31merror\x1b[0m: \x1b[1msubprocess-exited-with-error\x1b[0m\n\n"
    "  \x1b[31m×\x1b[0m \x1b[32mgit clone --filter=blob:none --quiet https://github.com/o/r /tmp/pip-req\x1b[0m did not"
    " run successfully.\n  \x1b[31m│\x1b[0m exit code: \x1b[1;36m128\x1b[0m\n"
    "  \x1b[31m╰─>\x1b[0m See above for output.\n"
    "      fatal: unable to access 'https://github.com/o/r/': Could not resolve host: github.com\n"
    "  \x1b[1;35mnote\x1b[0m: This error originates from a subprocess, and is likely not a problem with pip.\n"
)


def test_setup_cell_failure_names_the_cause_without_colour_codes(tmp_path):
    fake = tmp_path / "fake" / "pip"  # `python -m pip` finds this package first (PYTHONPATH)
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(f"import sys\nsys.stderr.write({COLAB_PIP_STDERR!r})\nsys.exit(1)\n")
    python = fresh_venv(tmp_path / "venv")
    env = dict(clean_env(python), PYTHONPATH=str(tmp_path / "fake"))
    proc = run([python, "-c", course.setup_source(SETTING)], env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.strip().split("\n")
    assert len(lines) == 1, proc.stdout
    assert "failed: fatal: unable to access 'https://github.com/o/r/': Could not resolve host: github.com -- " \
        in lines[0], lines[0]
    assert "\x1b" not in lines[0] and "note" not in lines[0], lines[0]


# Executed in full: 01 (NumPy only) and 04, the one assignment that uses helpers no lecture uses
# (load_fashion_mnist, plot_map_mosaic). The filled 02 and 03 execute in full in the course environment (the round
# trips of tests/test_roundtrip.py); here their imports run, which is where a notebook could need something that
# the course environment has and a student's has not (an unpublished actkit module, a package).
RUN_FILLED = ["01_activation_basics", "04_cnn_activation_maps"]


def imports_of(notebooks: list[Path]) -> str:
    """A program of every import statement in the code cells of ``notebooks`` (those inside functions too)."""
    statements = {ast.unparse(node) for nb in notebooks for cell in nbformat.read(nb, as_version=4).cells
                  if cell.cell_type == "code" for node in ast.walk(ast.parse(cell.source))
                  if isinstance(node, (ast.Import, ast.ImportFrom))}
    assert any("actkit" in line for line in statements), "the notebooks import actkit"
    return "\n".join(sorted(statements))


def test_imports_of_cover_every_notebook_import():
    program = imports_of([notebook_of(a, "release") for a in assignments()])
    for needed in ("from actkit.plotting import plot_decision_boundary", "from actkit.data import load_mnist",
                   "import tensorflow as tf", "import keras"):
        assert needed in program.splitlines(), needed


def test_every_published_notebook_runs_from_a_fresh_venv(tmp_path, published):
    """The lectures (nbval: their committed outputs reproduce, sanitised as in notebooks/sanitize.cfg) and the
    released notebooks of RUN_FILLED with the instructor's answers filled in (their visible tests pass), in a fresh
    venv from a folder outside the course; the first notebook's setup cell installs actkit from git+file://...@<ref>.
    Every import statement of every released notebook then runs in that venv."""
    repo = tmp_path / "repo"
    shutil.copytree(published, repo)
    git = ["git", "-C", repo, "-c", "user.name=course", "-c", "user.email=course@example.org"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "student repository"], ["tag", SETTING.ref]):
        run([*git, *cmd], check=True)
    tagged = run(["git", "-C", repo, "rev-parse", f"{SETTING.ref}^{{commit}}"], check=True).stdout.strip()
    python = fresh_venv(tmp_path / "venv")
    env = clean_env(python, ACTKIT_REPOSITORY=f"file://{repo}")
    work = tmp_path / "work"
    work.mkdir()
    (work / "pytest.ini").write_text("[pytest]\n")
    # the course's sanitisation, and the data folder, which the loaders print relative to the working folder
    # when they share more than "/" (../../shared/data in the course, /.../shared/data from here)
    (work / "sanitize.cfg").write_text((REPO_ROOT / "notebooks" / "sanitize.cfg").read_text()
                                       + "\n[data_folder]\nregex: (MNIST from )\\S+\nreplace: \\1DATA-FOLDER\n")
    probe = run([python, "-c", "import actkit"], env=env, cwd=work)
    assert "No module named 'actkit'" in probe.stderr, "the fresh venv must not see actkit"

    filled = []
    for assignment in RUN_FILLED:
        released = notebook_of(assignment, "release", repo)
        answers = solution_cells(nbformat.read(notebook_of(assignment), as_version=4))
        make_submission(released, work / "filled" / released.name, answers=answers)
        filled.append(work / "filled" / released.name)
    released = [notebook_of(assignment, "release", repo) for assignment in assignments()]
    lectures = sorted((repo / "notebooks").glob("*.ipynb"))
    for lecture in lectures:
        assert lecture.read_bytes() == (REPO_ROOT / "notebooks" / lecture.name).read_bytes()
    nb_setups = {c.source for nb in [*released, *lectures] for c in nbformat.read(nb, as_version=4).cells[1:2]}
    assert nb_setups == {course.setup_source(SETTING)}, "every notebook starts with the same setup cell"

    pytest_args = [python, "-m", "pytest", "-c", work / "pytest.ini", "--rootdir", work, "-p", "no:cacheprovider",
                   "-q", "--nbval-current-env"]
    answers_run = run([*pytest_args, "--nbval-lax", *filled], env=env, cwd=work, timeout=1200)
    assert answers_run.returncode == 0, answers_run.stdout[-4000:] + answers_run.stderr[-2000:]
    where = run([python, "-c", "import actkit, pathlib; print(pathlib.Path(actkit.__file__).parent)"],
                env=env, cwd=work, check=True).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), f"actkit came from {where}"
    direct = json.loads(next((tmp_path / "venv").rglob("actkit-*.dist-info/direct_url.json")).read_text())
    assert direct["url"] == f"file://{repo}" and direct["vcs_info"]["commit_id"] == tagged, direct
    assert direct["vcs_info"]["requested_revision"] == SETTING.ref
    imports = run([python, "-c", imports_of(released)], env=env, cwd=work)
    assert imports.returncode == 0 and imports.stderr == "", imports.stderr[-2000:]

    lectures_run = run([*pytest_args, "--nbval", "--nbval-sanitize-with", work / "sanitize.cfg", *lectures],
                       env=env, cwd=work, timeout=1200)
    assert lectures_run.returncode == 0, lectures_run.stdout[-4000:] + lectures_run.stderr[-2000:]
