"""A killed grading run's temporary folders are removed by the next run, and nothing a live process uses."""

from __future__ import annotations

import os
import socket
import subprocess
import time

from actkit.grading import leftovers


def _aged(path, hours=2.0):
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_sweep_removes_only_what_no_live_process_uses(tmp_path):
    dead = tmp_path / "actkit-kernel-dead"
    for folder in ("actkit-kernel-dead", "actkit-work-cwd", "actkit-tester-open", "actkit-work-cmdline",
                   "actkit-fork-socket", "actkit-work-young", "unrelated-old"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "file").write_text("x")
    autograph = tmp_path / "__autograph_generated_fileabc.py"
    autograph.write_text("# left by a killed TensorFlow process\n")
    cwd_user = subprocess.Popen(["sleep", "60"], cwd=tmp_path / "actkit-work-cwd")
    cmdline_user = subprocess.Popen(["sh", "-c", "sleep 60", "bwrap", f"--bind={tmp_path / 'actkit-work-cmdline'}"])
    held = open(tmp_path / "actkit-tester-open" / "file")  # noqa: SIM115 - held open during the sweep
    bound = socket.socket(socket.AF_UNIX)
    bound.bind(str(tmp_path / "actkit-fork-socket" / "sock"))
    try:
        for path in [*tmp_path.iterdir(), autograph]:
            if path.name != "actkit-work-young":
                _aged(path)
        removed = leftovers.sweep(tmp_path)
    finally:
        for proc in (cwd_user, cmdline_user):
            proc.kill()
            proc.wait()
        held.close()
        bound.close()
    assert sorted(p.name for p in removed) == ["__autograph_generated_fileabc.py", "actkit-kernel-dead"]
    assert not dead.exists() and not autograph.exists()
    assert {p.name for p in tmp_path.iterdir()} == {"actkit-work-cwd", "actkit-tester-open", "actkit-work-cmdline",
                                                    "actkit-fork-socket", "actkit-work-young", "unrelated-old"}
    # once nothing uses them any more, the next sweep takes the old ones (the young one stays)
    for path in tmp_path.iterdir():
        if path.name != "actkit-work-young":
            _aged(path)
    leftovers.sweep(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"actkit-work-young", "unrelated-old"}
