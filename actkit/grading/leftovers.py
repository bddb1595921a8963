"""What killed grading runs left in the temporary folder, removed by the next run once it is provably dead.

A grading run works in folders of the temporary folder (``actkit-kernel-*``, ``actkit-work-*``,
``actkit-tester-*``, ...) and removes them when it ends. A run that is killed (``kill -9``, the OOM
killer, a closed terminal) cannot, and the TensorFlow processes it started leave their
``__autograph_generated_file*.py`` there too. :func:`sweep`, called when a grading run starts
(``actkit-grade`` and ``nbgrader autograde``), removes such an entry when all of these hold:

- it belongs to the user who runs the grader (as root: also the sandbox's kernel uids, which are
  ``ACTKIT_SANDBOX_UID_BASE`` and above);
- it was last changed more than :data:`AGE` seconds ago;
- no process on the machine uses it: none has it (or something in it) as its working folder or root,
  holds a file in it open, maps a file of it, or names it on its command line, and no Unix socket
  is bound in it.

A run in progress always has a process doing one of these with each of its folders, so a sweep
never removes another run's work, whoever started it and in whichever test worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

__all__ = ["AGE", "PATTERNS", "sweep"]

AGE = 3600.0  # seconds since the last change: a run that is alive touches its folders far more often
PATTERNS = ("actkit-kernel-*", "actkit-work-*", "actkit-tester-*", "actkit-fork-*", "actkit-warm-*",
            "actkit-model-*", "actkit-check-*", "__autograph_generated_file*.py")


def _paths_in_use() -> set[str]:
    """Every path a live process uses: working folders, roots, open files, mapped files, command lines,
    bound Unix sockets. Processes this user may not inspect are skipped (they cannot use this user's folders
    without being this user, or root, whose processes root can inspect)."""
    used: set[str] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        for link in ("cwd", "root"):
            try:
                used.add(os.readlink(proc / link))
            except OSError:
                pass
        try:
            used.update(os.readlink(fd) for fd in (proc / "fd").iterdir())
        except OSError:
            pass
        try:
            used.update(line.split(None, 5)[5] for line in (proc / "maps").read_text().splitlines()
                        if len(line.split(None, 5)) == 6)
            used.update(arg for arg in (proc / "cmdline").read_bytes().decode(errors="replace").split("\0") if arg)
        except OSError:
            pass
    try:
        for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 8:
                used.add(fields[7])
    except OSError:
        pass
    return used


def _ours(path: Path, uid: int) -> bool:
    owner = path.lstat().st_uid
    return owner == uid or (uid == 0 and owner >= int(os.environ.get("ACTKIT_SANDBOX_UID_BASE", "200000")))


def sweep(folder: str | Path | None = None, age: float = AGE) -> list[Path]:
    """Remove what dead grading runs left in ``folder`` (default: the temporary folder); return what went."""
    folder = Path(folder or tempfile.gettempdir())
    now, uid = time.time(), os.geteuid()
    candidates = []
    for pattern in PATTERNS:
        for path in folder.glob(pattern):
            try:
                if _ours(path, uid) and now - path.lstat().st_mtime > age:
                    candidates.append(path)
            except OSError:
                continue
    if not candidates:
        return []
    used = _paths_in_use()
    removed = []
    for path in candidates:
        name = str(path)
        if any(name + os.sep in p or p.endswith(name) for p in used):  # it, or something in it
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
