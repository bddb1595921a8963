"""Similarity check: pairs of submissions whose answer code is suspiciously alike.

``make similarity ASSIGNMENT=<name>`` (or ``actkit-grade <name> --similarity``, or
``python -m actkit.grading.similarity <name>``) compares what every student wrote in the answer
cells of an assignment with every other student's, using copydetect (winnowed fingerprints of
the code after tokenising: names, strings, comments and whitespace do not count, so renamed
variables, re-indented or re-commented copies still match).

1. **Answer code** (:func:`answer_code`): the code answer cells (nbgrader ``solution`` cells) of
   each submitted notebook, in the released order, minus every line the released notebook already
   had in that cell (signature, docstring, ``# YOUR CODE HERE``). Written (markdown) answers are
   not compared.
2. **Boilerplate**: every k-gram of the released notebooks' code is discarded from the
   fingerprints, so code the students were given never counts as shared.
3. **Pairs**: for every two students, copydetect's share of each one's fingerprinted code found in
   the other's. A pair is listed when the larger share reaches ``threshold`` (default 0.5) *and*
   the two share at least ``min_shared`` tokens of filtered code (default 120): short answers that
   every correct student writes alike (``return np.maximum(x, 0.0)``) are not evidence.

The result goes to ``build/grading/<assignment>/similarity.json``; the instructor report
(:mod:`actkit.grading.report`) lists the pairs with a side-by-side view of their code, the
matching parts marked, as escaped text (the students' code is data, never markup: see the report's module).
A listed pair is a reason to look, not a verdict.

Fingerprints use a stable hash (BLAKE2b) instead of copydetect's Python ``hash()``, which changes
with every interpreter's hash seed, so the scores are the same in every run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

import nbformat
import numpy as np

from actkit.grading.cells import is_answer_cell, meta, reference_notebooks
from actkit.grading.paths import similarity_path
from actkit.instructor.notebooks import REPO_ROOT

__all__ = ["Pair", "answer_code", "check", "main", "write_similarity"]

THRESHOLD = 0.5  # share of one student's fingerprinted code found in the other's
MIN_SHARED = 120  # tokens of filtered code two students must share (characters of copydetect's filtered text)
NOISE = 25  # copydetect's noise threshold k: the shortest match that counts, in filtered characters
GUARANTEE = 30  # copydetect's guarantee threshold: every match this long is found (window = 6)


@dataclass
class Pair:
    """Two students whose answer code is alike."""

    a: str
    b: str
    share_a: float  # part of a's fingerprinted code found in b's
    share_b: float
    shared_tokens: int
    view_a: list = field(default_factory=list)  # a's answer code as (text, found in b's code) pieces
    view_b: list = field(default_factory=list)

    @property
    def share(self) -> float:
        return max(self.share_a, self.share_b)


def _released_lines(ref) -> dict[str, list[str]]:
    return {meta(c)["grade_id"]: c.source.splitlines() for c in ref.cells
            if is_answer_cell(c) and c.cell_type == "code" and meta(c).get("grade_id")}


def answer_code(nb, ref) -> str:
    """What the student wrote in the code answer cells of ``nb``: the released lines of each cell removed.

    Cells appear in the released order (``ref``), each under a ``# <grade_id>`` comment line.
    """
    released = _released_lines(ref)
    cells = {meta(c).get("grade_id"): c for c in nb.cells
             if c.cell_type == "code" and meta(c).get("grade_id") in released}
    parts = []
    for grade_id, given in released.items():
        cell = cells.get(grade_id)
        if cell is None:
            continue
        left = Counter(line.rstrip() for line in given)
        written = []
        for line in cell.source.splitlines():
            if left[line.rstrip()] > 0:
                left[line.rstrip()] -= 1
            else:
                written.append(line)
        if any(line.strip() for line in written):
            parts.append(f"# {grade_id}\n" + "\n".join(written).strip("\n") + "\n")
    return "\n".join(parts)


def _stable_kgrams(string: str, k: int):
    """copydetect's k-gram hashes with a hash that does not depend on the interpreter's hash seed."""
    return np.array([int.from_bytes(hashlib.blake2b(string[i:i + k].encode(), digest_size=8).digest(), "little",
                                    signed=True) for i in range(len(string) - k + 1)], dtype=np.int64)


@contextmanager
def _stable_hashes():
    import copydetect.utils

    original = copydetect.utils.hashed_kgrams
    copydetect.utils.hashed_kgrams = _stable_kgrams
    try:
        yield
    finally:
        copydetect.utils.hashed_kgrams = original


def _fingerprint(name: str, code: str, boilerplate, window: int):
    from copydetect import CodeFingerprint

    return CodeFingerprint(f"{name}.py", NOISE, window, boilerplate=boilerplate, fp=io.StringIO(code),
                           language="python")


def _segments(code: str, slices) -> list[tuple[str, bool]]:
    """``code`` cut into (text, found in the other's code) pieces, from copydetect's slices (starts, ends)."""
    pieces, at = [], 0
    for start, end in sorted(zip(*(slices.tolist() if slices.size else ([], [])), strict=True)):
        start, end = max(int(start), at), int(end)
        if start > at:
            pieces.append((code[at:start], False))
        if end > start:
            pieces.append((code[start:end], True))
        at = max(at, end)
    if at < len(code):
        pieces.append((code[at:], False))
    return pieces


def submissions(root: Path, assignment: str, refs: dict) -> tuple[dict[str, str], list[str]]:
    """student -> answer code of all their notebooks; and one note per notebook that could not be read.

    Notebooks saved under another name (``... (1)``, ``-1``, ``Copy of``) are matched as grading does.
    """
    from actkit.grading.preflight import match_renamed

    codes, notes = {}, []
    submitted = Path(root) / "submitted"
    folders = sorted(p for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []
    for folder in folders:
        student = folder.parent.name
        found = {p.stem: p for p in sorted(folder.glob("*.ipynb")) if p.is_file() and not p.is_symlink()}
        matched, _ = match_renamed(found, refs)
        parts = []
        for name, ref in refs.items():
            path = found.get(name) or matched.get(name)
            if path is None:
                continue
            try:
                nb = nbformat.read(path, as_version=4)
                parts.append(answer_code(nb, ref))
            except Exception as exc:  # noqa: BLE001 - an unreadable notebook is graded (and flagged) elsewhere
                notes.append(f"{student} / {path.name}: not compared (unreadable: {type(exc).__name__})")
        codes[student] = "\n".join(p for p in parts if p)
    return codes, notes


def check(root: Path, assignment: str, threshold: float = THRESHOLD, min_shared: int = MIN_SHARED) -> dict:
    """Compare the answer code of every pair of students; the pairs above the thresholds, most alike first."""
    from copydetect import compare_files

    refs = reference_notebooks(root, assignment)
    if not refs:
        raise SystemExit(f"error: no released notebook of {assignment!r} (run `make release` first)")
    codes, notes = submissions(root, assignment, refs)
    boilerplate_code = "\n".join(c.source for ref in refs.values() for c in ref.cells if c.cell_type == "code")
    window = GUARANTEE - NOISE + 1
    with _stable_hashes():
        # every k-gram of the released code (window 1), so none of it can survive in a student's fingerprints
        boilerplate = np.array(sorted(_fingerprint("released", boilerplate_code, None, 1).hashes), dtype=np.int64)
        prints = {s: _fingerprint(s, code, boilerplate, window) for s, code in codes.items()}
    compared = [s for s in sorted(prints) if prints[s].hashes]
    pairs = []
    for a, b in combinations(compared, 2):
        shared, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        if max(share_a, share_b) >= threshold and shared >= min_shared:
            pairs.append(Pair(a, b, round(float(share_a), 3), round(float(share_b), 3), int(shared),
                              _segments(prints[a].raw_code, slices_a), _segments(prints[b].raw_code, slices_b)))
    pairs.sort(key=lambda p: (-p.share, -p.shared_tokens, p.a, p.b))
    return {
        "assignment": assignment,
        "threshold": threshold,
        "min_shared": min_shared,
        "students": len(codes),
        "compared": len(compared),  # students with answer code of their own (blank ones are not compared)
        "pairs": [asdict(p) for p in pairs],
        "notes": notes,
    }


def write_similarity(root: Path, assignment: str, **kwargs) -> dict:
    """Run :func:`check` and store the result where the report reads it."""
    result = check(root, assignment, **kwargs)
    path = similarity_path(root, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


def summary(result: dict) -> list[str]:
    """One line per similar pair (and per notebook not compared), for the terminal."""
    lines = [f"{result['assignment']}: {result['compared']} of {result['students']} submission(s) compared; "
             f"{len(result['pairs'])} pair(s) at least {result['threshold']:.0%} alike"]
    lines += [f"  {p['a']} ~ {p['b']}: {p['share_a']:.0%} / {p['share_b']:.0%} of their answer code "
              f"({p['shared_tokens']} tokens shared)" for p in result["pairs"]]
    lines += [f"  {note}" for note in result["notes"]]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actkit.grading.similarity",
                                     description="List pairs of submissions whose answer code is alike.")
    parser.add_argument("assignment", nargs="+")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course directory (default: the repo)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD,
                        help=f"share of a student's answer code found in the other's (default {THRESHOLD})")
    parser.add_argument("--min-shared", type=int, default=MIN_SHARED,
                        help=f"tokens of filtered code a pair must share (default {MIN_SHARED})")
    parser.add_argument("--report", action="store_true", help="write the instructor report afterwards")
    args = parser.parse_args(argv)
    for assignment in args.assignment:
        result = write_similarity(args.root.resolve(), assignment, threshold=args.threshold,
                                  min_shared=args.min_shared)
        print("\n".join(summary(result)))
        if args.report:
            from actkit.grading.report import write_report

            print(write_report(args.root.resolve(), assignment))


if __name__ == "__main__":
    main()
