"""Time the source notebook of assignment 04 against the version it replaced (not part of ``make test``).

    python -m tests.bench_notebooks [--repeat 3] [--old-commit 00e03b4]

The old notebook (the seed's Conv64-Conv32-Dense network) is read from git, the new one from
``source/``. Both are executed, alternately and each in a fresh kernel, with plain nbclient in the
notebook's own folder, so the machine's load affects them alike. For every run the script prints
the wall-clock seconds from kernel start to the last cell, and the test accuracy of the trained
``model`` on the 2,000-image offline MNIST test split (and of ``fashion_model`` on the first 2,000
Fashion-MNIST test images), measured by one extra cell appended after the timed cells, and the CPU
seconds the kernel used (less sensitive than wall time to other work on the machine). At the end it
prints the medians, the ratio new/old and the load average, and checks the course's budget:
new <= 20 s, new <= 1/3 of old, MNIST test accuracy >= 97.5 %. Other work on the machine slows both
notebooks; compare them only within one run and quote the load average with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import nbformat

from actkit.instructor.notebooks import REPO_ROOT

NOTEBOOK = "source/04_cnn_activation_maps/04_cnn_activation_maps.ipynb"
OLD_COMMIT = "00e03b4"  # the last commit with the seed's network
BUDGET_SECONDS = 20.0
BUDGET_RATIO = 1 / 3
BUDGET_ACCURACY = 0.975

# Appended to each notebook, after the timed cells: the accuracies of the trained models.
_PROBE = """
import json as _json
import numpy as _np
from actkit.data import load_fashion_mnist as _lf, load_mnist as _lm
(_, _), (_xt, _yt) = _lm(verbose=False)
_acc = {"mnist": float(_np.mean(model.predict(_xt[..., None].astype("float32") / 255, batch_size=500,
                                               verbose=0).argmax(axis=1) == _yt))}
_f = _lf(verbose=False)
_acc["fashion"] = float(_np.mean(fashion_model.predict(_f.x_test[:2000, ..., None].astype("float32") / 255,
                                                       batch_size=500, verbose=0).argmax(axis=1)
                                 == _f.y_test[:2000]))
print("BENCH" + _json.dumps(_acc))
"""


def old_notebook(commit: str = OLD_COMMIT) -> nbformat.NotebookNode:
    text = subprocess.run(["git", "show", f"{commit}:{NOTEBOOK}"], cwd=REPO_ROOT, check=True,
                          capture_output=True, text=True).stdout
    return nbformat.reads(text, as_version=4)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def execute(nb: nbformat.NotebookNode, timeout: int = 600) -> dict[str, float]:
    """Run the notebook in a fresh kernel; wall seconds (kernel start to last timed cell), the
    kernel's CPU seconds over the same cells, and the accuracies."""
    import nbclient

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # a private copy
    timed = len(nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(REPO_ROOT / Path(NOTEBOOK).parent)}},
                                     extra_arguments=["--IPKernelApp.log_level=CRITICAL"])  # no log lines
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells[:timed]):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        try:
            cpu = _cpu_seconds(client.km.provisioner.process.pid)
        except (AttributeError, OSError):  # not a local kernel, or not Linux
            cpu = float("nan")
        client.execute_cell(nb.cells[timed], timed)
    printed = "".join(o.get("text", "") for o in nb.cells[timed].outputs if o.output_type == "stream")
    accuracy = json.loads(printed.split("BENCH", 1)[1])
    return {"seconds": seconds, "cpu": cpu, **accuracy}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each notebook (alternating)")
    parser.add_argument("--old-commit", default=OLD_COMMIT, help="git commit of the old notebook")
    args = parser.parse_args(argv)
    notebooks = {"old": old_notebook(args.old_commit), "new": nbformat.read(REPO_ROOT / NOTEBOOK, as_version=4)}
    results: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    for run in range(1, args.repeat + 1):
        for name, nb in notebooks.items():
            result = execute(nb)
            results[name].append(result)
            print(f"run {run} {name}: {result['seconds']:6.1f} s ({result['cpu']:.0f} CPU s in the kernel), "
                  f"MNIST test accuracy {result['mnist']:.2%}, "
                  f"Fashion-MNIST {result['fashion']:.2%}; load {os.getloadavg()[0]:.2f}", flush=True)
    median = {name: statistics.median(r["seconds"] for r in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(r["cpu"] for r in runs) for name, runs in results.items()}
    ratio = median["new"] / median["old"]
    accuracy = min(r["mnist"] for r in results["new"])
    print(f"median seconds: old {median['old']:.1f}, new {median['new']:.1f}; new/old {ratio:.2f} "
          f"(old/new {1 / ratio:.2f}x)")
    print(f"median kernel CPU seconds: old {cpu['old']:.0f}, new {cpu['new']:.0f} (on 2 idle cores the wall "
          f"time of the cells is at least half of it)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    checks = {f"new <= {BUDGET_SECONDS:.0f} s": median["new"] <= BUDGET_SECONDS,
              "new <= 1/3 of old": ratio <= BUDGET_RATIO,
              f"MNIST test accuracy >= {BUDGET_ACCURACY:.1%} (every run)": accuracy >= BUDGET_ACCURACY}
    for what, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {what}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
