"""Preflight: the instructor's input and every submission are checked before anything runs.

1. **Instructor input**: the assignment exists, its source notebook has paired markers and points on
   every test cell, and the gradebook is a healthy SQLite file (``PRAGMA integrity_check``). A
   damaged gradebook stops grading and is never written to.
2. **Submissions**: missing, misnamed, extra, empty, invalid-JSON, pathological (nested too deep,
   too large) and old-format notebooks; read-only cells deleted, edited or changed in type; nbgrader
   metadata removed; duplicated grade ids; cells reordered; code files shipped along. A submission
   with no readable notebook is recorded with zero points and not executed. A notebook saved under
   another name (``... (1)``, ``-1``, ``Copy of ...``, other case) is graded by ``actkit-grade`` as
   the expected one when the match is unambiguous (:func:`stage_renamed`, one flag line; plain
   ``nbgrader autograde`` skips it); otherwise the student is not graded and flagged for review
   (not scored 0).
3. **Flags**: what preflight, the static scan (:mod:`actkit.grading.scan`) and the trusted execution
   (:mod:`actkit.grading.execute`) found, one line per problem, in
   ``build/grading/<assignment>/flags.json`` (listed by :mod:`actkit.grading.report`).

``python -m actkit.grading.preflight check <assignment>`` runs part 1; ``... flags <assignment>``
prints what the last grading run found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from actkit.grading.cells import meta, reference_notebooks
from actkit.grading.paths import grading_dir
from actkit.grading.scan import scan
from actkit.instructor.notebooks import MARKER, REPO_ROOT

MAX_NOTEBOOK_BYTES = 50 * 2**20  # a larger notebook is recorded as 0 (outputs and metadata included)
# at most this many '{' and '[' in the file (an upper bound of its JSON objects and arrays, counted before it is
# parsed: 50 MB of "{}," would be 17 million dicts, gigabytes in every process that reads it); the course's
# notebooks with all their outputs have under 4,000
MAX_CONTAINERS = 200_000

__all__ = [
    "Problem",
    "check_gradebook",
    "check_instructor_input",
    "match_renamed",
    "preflight",
    "source_problems",
    "stage_renamed",
]


@dataclass
class Problem:
    """One line for the instructor: who, which notebook, what happened."""

    student: str
    notebook: str
    message: str
    fatal: bool = False  # nothing of this notebook can be graded (recorded as zero)
    review: bool = False  # fatal, but not recorded as zero: left ungraded for the instructor to decide

    def __post_init__(self):
        message = " ".join(str(self.message).split())  # always one line
        self.message = message if len(message) <= 300 else message[:297] + "..."

    def line(self) -> str:
        return f"{self.student} / {self.notebook}: {self.message}"


# ====================================================================== 1. instructor input

SQLITE_HEADER = b"SQLite format 3\x00"


def check_gradebook(path: Path) -> str | None:
    """What is wrong with a gradebook file, or None if it is a healthy nbgrader gradebook.

    Read-only: the file is opened with ``mode=ro`` and never written, whatever its state.
    """
    path = Path(path)
    if not path.exists():
        return None
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes)"
    with open(path, "rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        return "it is not an SQLite database (wrong file header)"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return f"SQLite cannot open it ({exc})"
    try:
        rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        return f"SQLite cannot read it ({exc})"
    finally:
        db.close()
    if rows != ["ok"]:
        return "PRAGMA integrity_check failed: " + "; ".join(rows[:3])
    missing = {"assignment", "notebook", "grade", "submitted_assignment"} - tables
    if missing:
        return f"it is not an nbgrader gradebook (no table {sorted(missing)[0]!r})"
    return None


def source_problems(nb, label: str = "") -> list[str]:
    """Problems of an instructor's source notebook that would make grading wrong."""
    problems, seen = [], {}
    for index, cell in enumerate(nb.cells):
        m = meta(cell)
        where = f"{label}cell {index + 1}" + (f" ({m['grade_id']})" if m.get("grade_id") else "")
        if m.get("grade_id"):
            if m["grade_id"] in seen:
                problems.append(f"{where}: grade id {m['grade_id']!r} is used twice")
            seen[m["grade_id"]] = index
        lines = [line.strip() for line in cell.get("source", "").split("\n")]
        for kind in ("SOLUTION", "HIDDEN TESTS"):
            depth = 0
            for line in lines:
                match = MARKER.match(line)
                if not match or match.group(3) != kind:
                    continue
                depth += 1 if match.group(2) == "BEGIN" else -1
                if depth not in (0, 1):
                    break
            if depth != 0:
                problems.append(f"{where}: unpaired ### BEGIN/END {kind} markers")
        if m.get("grade") and not m.get("solution") and cell.get("cell_type") == "code":
            points = m.get("points")
            if not isinstance(points, (int, float)) or points <= 0:
                problems.append(f"{where}: test cell without points")
            if not m.get("locked"):
                problems.append(f"{where}: test cell is not read-only (locked)")
        if m.get("grade") and m.get("solution") and not m.get("points"):
            problems.append(f"{where}: graded answer cell without points")
    return problems


def check_instructor_input(root: Path, assignment: str) -> None:
    """Refuse to grade with a clear ``error:`` message when the instructor's input is wrong."""
    root = Path(root)
    gradebook = root / "gradebook.db"
    damage = check_gradebook(gradebook)
    if damage:
        raise SystemExit(f"error: the gradebook {gradebook} is damaged: {damage}.\n"
                         "Grading stopped and the file was not touched. Restore it from a backup "
                         "(or move it away to start a new one) and grade again.")
    folder = root / "source" / assignment
    available = sorted(p.name for p in (root / "source").iterdir() if p.is_dir()) \
        if (root / "source").is_dir() else []
    if not folder.is_dir():
        raise SystemExit(f"error: no assignment {assignment!r} in {root / 'source'} "
                         f"(available: {', '.join(available) or 'none'})")
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"error: {folder} has no notebook")
    problems = []
    for path in notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # noqa: BLE001 - any unreadable source is reported the same way
            problems.append(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})")
            continue
        problems.extend(source_problems(nb, f"{path.name}: "))
    if problems:
        raise SystemExit("error: the source notebook of {} cannot be graded:\n  {}".format(
            assignment, "\n  ".join(problems)))


# ============================================================================== 2. preflight

def read_submission(path: Path) -> tuple[NotebookNode | None, list[str], bool]:
    """(notebook or None, problems, fatal) for one submitted notebook file."""
    if path.is_symlink() or not path.is_file():
        return None, ["the notebook is a link or not a regular file (not followed; scored 0)"], True
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return None, [f"the notebook file is too large ({size / 2**20:.0f} MB, the limit is "
                      f"{MAX_NOTEBOOK_BYTES // 2**20} MB; scored 0)"], True
    raw = path.read_bytes()
    if not raw.strip():
        return None, ["the notebook file is empty (scored 0)"], True
    containers = raw.count(b"{") + raw.count(b"[")
    if containers > MAX_CONTAINERS:
        return None, [f"the notebook holds too many nested objects ({containers:,}; the limit is "
                      f"{MAX_CONTAINERS:,}; scored 0)"], True
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, ["the notebook file is not text (scored 0)"], True
    except json.JSONDecodeError as exc:
        return None, [f"the notebook is not valid JSON (line {exc.lineno}, column {exc.colno}; scored 0)"], True
    except RecursionError:
        return None, ["the notebook cannot be read: its JSON is nested too deeply (scored 0)"], True
    if not isinstance(data, dict) or "nbformat" not in data or not isinstance(data.get("nbformat"), int):
        return None, ["the file is not a Jupyter notebook (no nbformat; scored 0)"], True
    problems = []
    if data["nbformat"] < 4:
        problems.append(f"old notebook format v{data['nbformat']} (converted to v4 for grading)")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any failure to read is the same finding
        return None, [f"the notebook cannot be read ({type(exc).__name__}: {str(exc)[:120]}; scored 0)"], True
    return nb, problems, False


def structure_problems(nb, ref) -> list[str]:
    """How a submission's graded and read-only cells differ from the released notebook."""
    problems = []
    kernel = (nb.metadata.get("kernelspec") or {}).get("name") if isinstance(nb.metadata.get("kernelspec"), dict) \
        else nb.metadata.get("kernelspec")
    if kernel != ref.metadata.get("kernelspec", {}).get("name"):
        problems.append(f"the notebook names another kernel ({str(kernel)[:40]!r}; graded with the course's)")
    ref_cells = {m["grade_id"]: c for c in ref.cells if (m := meta(c)).get("grade_id")}
    order = list(ref_cells)
    ids = [m["grade_id"] for c in nb.cells if (m := meta(c)).get("grade_id")]
    for gid in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"grade id {gid!r} appears {ids.count(gid)} times (nbgrader grades the last one)")
    present = {}
    for c in nb.cells:  # like nbgrader's DeduplicateIds, the last cell with an id is the graded one
        gid = meta(c).get("grade_id")
        if gid:
            present.pop(gid, None)
            present[gid] = c
    stripped_sources = {c.get("source", "").strip() for c in nb.cells if not meta(c).get("grade_id")}
    for gid, rc in ref_cells.items():
        rm = meta(rc)
        kind = "test cell" if rm.get("grade") and not rm.get("solution") else (
            "answer cell" if rm.get("solution") else "read-only cell")
        cell = present.get(gid)
        if cell is None:
            if rc.get("source", "").strip() in stripped_sources and rc.get("source", "").strip():
                problems.append(f"the nbgrader metadata of {kind} {gid} was removed "
                                "(the instructor's cell is graded instead)")
            elif rm.get("solution"):
                problems.append(f"{kind} {gid} was deleted (that answer scores 0)")
            else:
                problems.append(f"{kind} {gid} was deleted (put back for grading)")
            continue
        if cell.get("cell_type") != rc.get("cell_type"):
            problems.append(f"{kind} {gid} was changed from {rc.get('cell_type')} to {cell.get('cell_type')} "
                            "(changed back for grading)")
        if rm.get("locked") and cell.get("source", "").strip() != rc.get("source", "").strip():
            problems.append(f"{kind} {gid} was edited (the instructor's version is graded)")
        m = meta(cell)
        if rm.get("locked") and not m.get("locked"):
            problems.append(f"{kind} {gid} was unlocked in its metadata (locked again for grading)")
        if rm.get("points") is not None and m.get("points") != rm.get("points"):
            problems.append(f"the points of {gid} were changed (the released points count)")
    seq = [gid for gid in present if gid in ref_cells]
    if seq != sorted(seq, key=order.index):
        kept = _longest_in_order([order.index(gid) for gid in seq])
        moved = [gid for i, gid in enumerate(seq) if i not in kept]
        problems.append(f"cells were reordered ({', '.join(moved[:4])}{'...' if len(moved) > 4 else ''} moved; "
                        "graded in the released order)")
    return problems


def _longest_in_order(values: list[int]) -> set[int]:
    """Positions of a longest increasing subsequence (the cells that did not move)."""
    best: list[list[int]] = []
    for i, v in enumerate(values):
        candidates = [b for b in best if values[b[-1]] < v]
        best.append((max(candidates, key=len) if candidates else []) + [i])
    return set(max(best, key=len)) if best else set()


def _plain(stem: str) -> str:
    """A notebook name without what browsers, LMSes and Drive add: ``Copy of``, `` (1)``, ``-1``, case."""
    name = " ".join(stem.split()).casefold()
    while True:
        shorter = re.sub(r"(^copy of |\s*\(\d+\)$|-\d+$)", "", name).strip()
        if shorter == name:
            return name
        name = shorter


def match_renamed(found: dict[str, Path], refs) -> tuple[dict[str, Path], dict[str, list[str]]]:
    """Expected notebooks handed in under another name: (expected -> the one file that is it,
    expected -> the several files that could each be it). ``found``: stem -> path."""
    matched, ambiguous = {}, {}
    for name in refs:
        if name in found:
            continue
        candidates = [stem for stem in found if stem not in refs and _plain(stem) == _plain(name)]
        if len(candidates) == 1:
            matched[name] = found[candidates[0]]
        elif candidates:
            ambiguous[name] = candidates
    return matched, ambiguous


def renamed_folder(root: Path, assignment: str, student: str) -> Path:
    """Where :func:`stage_renamed` puts a submission whose notebook is graded under its expected name."""
    return grading_dir(root, assignment) / "renamed" / student / assignment


def stage_renamed(root: Path, assignment: str, student: str) -> Path | None:
    """A copy of a submission with each unambiguously renamed notebook under its expected name.

    ``submitted/`` is never changed: the copy (regular files only, no links) goes to
    ``build/grading/<assignment>/renamed/<student>/<assignment>/`` and ``actkit-grade`` grades it
    instead. Returns that folder, or None (and removes an old copy) when nothing is renamed.
    """
    import shutil

    from actkit.grading.execute import copy_submission

    folder = Path(root) / "submitted" / student / assignment
    target = renamed_folder(root, assignment, student)
    if target.exists():
        shutil.rmtree(target)
    if not folder.is_dir() or folder.is_symlink():
        return None
    refs = reference_notebooks(root, assignment)
    found = {p.stem: p for p in sorted(folder.glob("*.ipynb")) if p.is_file() and not p.is_symlink()}
    matched, _ = match_renamed(found, refs)
    if not matched:
        return None
    target.mkdir(parents=True)
    copy_submission(folder, target)
    for name in refs:
        source = matched.get(name) or found.get(name)
        if source is not None:
            (target / f"{name}.ipynb").write_bytes(source.read_bytes())
    return target


def preflight(root: Path, assignment: str, student: str) -> list[Problem]:
    """Everything wrong with one student's submission folder, as one Problem per finding."""
    folder = Path(root) / "submitted" / student / assignment
    refs = reference_notebooks(root, assignment)
    found = {p.stem: p for p in sorted(folder.glob("*.ipynb"))} if folder.is_dir() else {}
    problems: list[Problem] = []
    matched, ambiguous = match_renamed(found, refs)
    adopted = {p.stem for p in matched.values()} | {s for c in ambiguous.values() for s in c}
    unexpected = [name for name in found if name not in refs and name not in adopted]
    for name, ref in refs.items():
        notebook = f"{name}.ipynb"
        if name in matched:  # actkit-grade grades it under the expected name (stage_renamed)
            problems.append(Problem(student, notebook, f"missing; found {matched[name].name} instead: the "
                                    f"same notebook renamed, graded as {notebook}"))
            found[name] = matched[name]
        elif name not in found:
            others = ambiguous.get(name) or unexpected
            if others:
                problems.append(Problem(student, notebook, "missing; found {} instead ({}; not graded and not "
                                        "scored: flagged for review - name the right one {} and grade "
                                        "again)".format(", ".join(f"{u}.ipynb" for u in others),
                                                        "each could be it" if name in ambiguous else "misnamed?",
                                                        notebook), fatal=True, review=True))
            else:
                problems.append(Problem(student, notebook, "missing from the submission (scored 0)", fatal=True))
            continue
        nb, messages, fatal = read_submission(found[name])
        problems.extend(Problem(student, notebook, msg, fatal=fatal) for msg in messages)
        if nb is None:
            continue
        problems.extend(Problem(student, notebook, msg) for msg in structure_problems(nb, ref))
        problems.extend(Problem(student, notebook, f"flagged for review: {msg}") for msg in scan(nb, ref))
    if any(name in found for name in refs):
        for name in unexpected:
            problems.append(Problem(student, f"{name}.ipynb", "extra notebook (not graded)"))
    links = odd_files(folder)
    if links:
        for name in refs:
            problems.append(Problem(student, f"{name}.ipynb", LINKS_REFUSED.format(", ".join(links)), fatal=True))
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            if path.is_file() and path.suffix in (".py", ".so", ".pth", ".pyc") \
                    and ".ipynb_checkpoints" not in path.parts:
                rel = path.relative_to(folder)
                problems.append(Problem(student, str(rel), "flagged for review: code file handed in with the "
                                        "notebook (importable while grading)"))
    return problems


LINKS_REFUSED = ("the submission folder holds links or special files ({}); nbgrader would follow them, so it is "
                 "not graded (scored 0): remove them and grade again")


def odd_files(folder: Path) -> list[str]:
    """Links and special files in a submission folder (nbgrader's copy would follow links as the grader)."""
    found = []
    for current, dirs, files in os.walk(folder, followlinks=False) if Path(folder).is_dir() else []:
        for name in dirs + files:
            path = Path(current) / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                found.append(str(path.relative_to(folder)))
    return sorted(found)


def refusals(root: Path, assignment: str, student: str) -> list[Problem]:
    """What makes a submission ungradable: links, a notebook too large or unreadable (not: missing)."""
    return [p for p in preflight(root, assignment, student) if p.fatal and not p.message.startswith("missing")]


def _refuse(root: Path, assignment: str, student: str, refused: list[Problem]) -> None:
    record_zero(root, assignment, student)
    folder = grading_dir(root, assignment) / "integrity"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{student}__refused.json").write_text(json.dumps(
        {"student": student, "notebook": refused[0].notebook, "findings": [p.message for p in refused]}))


_HOOKED: set[tuple[str, str]] = set()


def refuse_unreadable(assignment: str, student: str, notebooks=None, **_) -> None:
    """nbgrader's ``pre_convert_hook`` for autograde: the preflight's refusals on the serial path.

    nbgrader calls it with the command's arguments (``*`` for every student), before each
    submission; the first call records every refused submission of the run as 0 with its flags and
    prints one line for each. Then :class:`RefusedAsReleased` reads an unreadable notebook as the
    released one, marked refused (no traceback, no failed run), and :class:`RefuseSubmission` stops a
    folder with links.
    """
    import sys

    root = Path(os.environ.get("NBGRADER_COURSE_ROOT") or REPO_ROOT)
    if (assignment, student) in _HOOKED:
        return
    _HOOKED.add((assignment, student))
    folder = root / "submitted"
    for path in sorted(folder.glob(f"{student or '*'}/{assignment}")) if folder.is_dir() else []:
        who = path.parent.name
        found = [p for p in preflight(root, assignment, who) if not p.message.startswith("missing")]
        refused = [p for p in found if p.fatal]
        if refused:
            _refuse(root, assignment, who, refused)
        # what else the preflight found (structure, metadata; the scan's flags come from the execution): one line each
        others = [p for p in found if not p.fatal and not p.message.startswith("flagged for review")]
        for notebook in sorted({p.notebook for p in others}):
            out = grading_dir(root, assignment) / "integrity" / f"{who}__preflight-{notebook}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"student": who, "notebook": notebook,
                                       "findings": [p.message for p in others if p.notebook == notebook]}))
        for problem in refused + others:
            print(f"[AutogradeApp | WARNING] {problem.line()}", file=sys.stderr)


REFUSED = "refused"  # nb.metadata.actkit[REFUSED]: the released notebook stands in for an unreadable one


class RefusedAsReleased(NotebookExporter):
    """nbgrader's exporter (``Autograde.exporter_class``): a submitted notebook the preflight cannot read
    (not JSON, not text, nested too deeply, too large) is never parsed; the released notebook stands in,
    marked refused: :class:`RefuseSubmission` records it as 0 and ``TrustedExecute`` starts no kernel."""

    def from_filename(self, filename, resources=None, **kw):
        path = Path(filename)
        root = Path(os.environ.get("NBGRADER_COURSE_ROOT") or REPO_ROOT)
        if path.parent.parent.parent == root / "submitted":
            nb, problems, fatal = read_submission(path)
            ref = reference_notebooks(root, path.parent.name).get(path.stem)
            if nb is None and fatal and ref is not None:
                stand_in = nbformat.from_dict(json.loads(json.dumps(ref)))
                stand_in.metadata.setdefault("actkit", {})[REFUSED] = problems[0]
                return self.from_notebook_node(stand_in, resources, **kw)
        return super().from_filename(filename, resources, **kw)


class RefuseSubmission(NbGraderPreprocessor):
    """First of nbgrader's sanitising steps: a refused submission (links, too large) is not graded."""

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        root = Path(os.environ.get("NBGRADER_COURSE_ROOT") or REPO_ROOT)
        refused = refusals(root, info.get("assignment", ""), info.get("student", ""))
        if nb.metadata.get("actkit", {}).get(REFUSED):  # unreadable: the released notebook, scored 0 unexecuted
            return nb, resources
        if refused:
            _refuse(root, info["assignment"], info["student"], refused)
            raise RuntimeError(f"{info['student']}: not graded, recorded as 0: {refused[0].message}")
        return nb, resources


def gradable(problems: list[Problem], refs: dict) -> bool:
    """Whether at least one expected notebook can be executed."""
    fatal = {p.notebook for p in problems if p.fatal}
    return any(f"{name}.ipynb" not in fatal for name in refs)


def record_zero(root: Path, assignment: str, student: str) -> None:
    """Record a submission with zero autograded points (nothing in it could be graded)."""
    import warnings

    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's notes about nbgrader's session use
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.cell.cell_type == "code" or grade.auto_score is None:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        gb.db.commit()




def runtime_findings(root: Path, assignment: str, students: list[str] | None = None) -> list[Problem]:
    """What the trusted execution recorded in the last grading run (one Problem per finding)."""
    folder = grading_dir(root, assignment) / "integrity"
    problems = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text())
        if students is not None and data["student"] not in students:
            continue
        for finding in data.get("findings", []):
            problems.append(Problem(data["student"], data["notebook"], finding))
    return problems


def write_flags(root: Path, assignment: str, problems: list[Problem], regraded: list[str]) -> Path:
    """``flags.json`` (student -> lines) for ``actkit.report``; students not regraded keep theirs."""
    path = grading_dir(root, assignment) / "flags.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = json.loads(path.read_text()) if path.is_file() else {}
    for student in regraded:
        flags.pop(student, None)
    for p in problems:
        line = f"{p.notebook}: {p.message}"
        if line not in flags.setdefault(p.student, []):
            flags[p.student].append(line)
    flags = {s: v for s, v in sorted(flags.items()) if v}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(flags, indent=1))
    tmp.replace(path)
    (grading_dir(root, assignment) / "problems.json").write_text(
        json.dumps([asdict(p) for p in problems], indent=1))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actkit.integrity", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "flags", "preflight"])
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "check":
        check_instructor_input(root, args.assignment)
        print(f"{args.assignment}: source notebook and gradebook are fine")
    elif args.command == "preflight":
        students = sorted(p.name for p in (root / "submitted").iterdir() if (p / args.assignment).exists()) \
            if (root / "submitted").is_dir() else []
        for student in students:
            for problem in preflight(root, args.assignment, student):
                print(problem.line())
    else:
        path = grading_dir(root, args.assignment) / "flags.json"
        flags = json.loads(path.read_text()) if path.is_file() else {}
        for student, lines in flags.items():
            for line in lines:
                print(f"{student} / {line}")
        for problem in runtime_findings(root, args.assignment):
            if problem.student not in flags:
                print(problem.line())


if __name__ == "__main__":
    main()
