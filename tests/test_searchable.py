"""tests/searchable.py: folders opened for other users stay open while any test needs them, then get their modes
back; what a killed test left is given back by the next one."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.searchable import LEDGER, _ledger, searchable

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root opens folders for other users")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_overlapping_holders_give_the_mode_back_after_the_last(tmp_path):
    closed = tmp_path / "closed"
    (closed / "python").mkdir(parents=True)
    closed.chmod(0o700)
    first, second = searchable([closed / "python"]), searchable([closed / "python"])
    first.__enter__()
    second.__enter__()
    assert mode(closed) == 0o701, "open while both hold it"
    first.__exit__(None, None, None)
    assert mode(closed) == 0o701, "still open: the second test needs it"
    second.__exit__(None, None, None)
    assert mode(closed) == 0o700, "the original mode, once nobody needs it"
    assert str(closed) not in json.loads(LEDGER.read_text())


def test_a_dead_holder_holds_nothing(tmp_path):
    closed = tmp_path / "closed"
    (closed / "python").mkdir(parents=True)
    closed.chmod(0o701)  # as a killed run left it
    with _ledger() as entries:
        entries[str(closed)] = {"mode": 0o700, "holders": [f"{2 ** 22 + 1}:killed"]}  # above Linux's pid_max
    with searchable([tmp_path / "elsewhere"]):
        assert mode(closed) == 0o700, "the next test gives back what a dead one held"
