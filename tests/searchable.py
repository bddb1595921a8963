"""Folders that other users may pass through (``o+x``) while a test needs it, shared by concurrent tests.

As root, the suite's Python may live under a folder that other users cannot enter (pyenv under ``/root``, mode
0700), yet some tests run it as another user (``make demo`` as a new user, the hub's accounts). Each such test
opens the folders on the way (search only, never read) and gives them back their modes afterwards. Tests in
two xdist workers may overlap: the folders are given back when the last test that needs them is done, which a
small ledger under a lock records (who holds each folder: a process id and a number of its own; a process
that died holds nothing).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
import uuid
from pathlib import Path

LEDGER = Path(tempfile.gettempdir()) / f"actkit-tests-searchable-{os.getuid()}.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return True


@contextlib.contextmanager
def _ledger():
    """The ledger {folder: {"mode": original mode, "holders": ["pid:n", ...]}}, locked while the block runs."""
    with open(LEDGER.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = json.loads(LEDGER.read_text()) if LEDGER.exists() else {}
        yield entries
        LEDGER.write_text(json.dumps(entries))


def _release(entries: dict, holder: str) -> None:
    """Drop ``holder`` (and every holder whose process died) from the ledger; what nobody holds gets its mode back."""
    for folder, entry in list(entries.items()):
        entry["holders"] = [h for h in entry["holders"] if h != holder and _alive(int(h.split(":")[0]))]
        if not entry["holders"]:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(folder, entry["mode"])
            del entries[folder]


@contextlib.contextmanager
def searchable(paths: list[Path]):
    """Others may pass through every folder on the way to ``paths`` (resolved) while the block runs (as root)."""
    if os.geteuid() != 0:
        yield
        return
    holder = f"{os.getpid()}:{uuid.uuid4().hex}"
    with _ledger() as entries:
        _release(entries, "")  # what killed runs left
        for path in paths:
            for folder in Path(path).resolve().parents:
                key = str(folder)
                mode = stat.S_IMODE(folder.stat().st_mode)
                if key in entries or not mode & stat.S_IXOTH:
                    entries.setdefault(key, {"mode": mode, "holders": []})["holders"].append(holder)
                    folder.chmod(mode | stat.S_IXOTH)
    try:
        yield
    finally:
        with _ledger() as entries:
            _release(entries, holder)
