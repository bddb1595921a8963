"""actkit-grade's workers start the next notebook's kernel while the current one runs.

The spare kernel must be a fresh kernel given to exactly one notebook: nothing a student's code
leaves in its kernel, its folder or its /tmp reaches the next student, the next notebook's files
are there when its cells run, and a notebook that needs another kernel does not get the spare.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from actkit.grading.execute import SPARE_KERNEL, TrustedExecute
from actkit.grading.parallel import spare_imports

FIRST_STUDENT = """
import os, subprocess
open("left.txt", "w").write("first student")
open("/tmp/left.txt", "w").write("first student")
leaked = 1
subprocess.Popen(["sleep", "600"])  # a process left running
print(os.getcwd())
"""

SECOND_STUDENT = """
import os
import sys
sleeping = [p for p in os.listdir("/proc") if p.isdigit() and open(f"/proc/{p}/cmdline").read().startswith("sleep")]
print(sorted(os.listdir(".")), os.path.exists("/tmp/left.txt"), "leaked" in globals(), open("data.txt").read(),
      len(sleeping), "wave" in sys.modules, [name for name in globals() if name.strip("_") in ("m", "wave")])
"""


def run(source: str, files: dict[str, str], extra_arguments: list[str] | None = None, setup: str = "import os",
        **spare):
    """Execute a notebook (a read-only setup cell, then ``source``) as a worker does, spare kernels on
    (``spare`` sets ``spare_kernel``, ``start_spare``, ``spare_imports`` otherwise); the text ``source`` printed."""
    settings = {"spare_kernel": True, "tester_modules": [], **spare}
    if extra_arguments is not None:
        settings["extra_arguments"] = extra_arguments
    setup_cell = new_code_cell(setup, metadata={"nbgrader": {
        "grade": False, "solution": False, "locked": True, "grade_id": "setup", "schema_version": 3}})
    nb = new_notebook(cells=[setup_cell, new_code_cell(source)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            Path(folder, name).write_text(text)
        nb, _ = TrustedExecute(config=Config({"Execute": settings})).preprocess(
            nbformat.from_dict(nb), {"metadata": {"path": folder}})
    outputs = nb.cells[1].outputs
    assert [o.output_type for o in outputs] == ["stream"], outputs
    return outputs[0].text.strip()


@pytest.fixture
def no_spare():
    SPARE_KERNEL.discard()
    yield
    SPARE_KERNEL.discard()


def test_the_next_notebook_gets_a_fresh_kernel_started_while_this_one_ran(no_spare):
    run(FIRST_STUDENT, {}, setup="import wave")
    spare = SPARE_KERNEL.km
    assert spare is not None and spare.has_kernel, "a kernel for the next notebook is started while one runs"

    printed = run(SECOND_STUDENT, {"data.txt": "second student's data"})
    assert not spare.has_kernel, "the spare kernel ran the next notebook and was shut down with it"
    assert SPARE_KERNEL.km is not None and SPARE_KERNEL.km is not spare, "each spare kernel serves one notebook"
    assert printed == "['data.txt'] False False second student's data 0 True []", \
        "the next student sees only their own files: no file, /tmp file, variable or process of the first; " \
        "the modules the first notebook's read-only cells import are loaded in advance, binding no name"


def test_a_notebook_that_starts_its_kernel_otherwise_does_not_get_the_spare(no_spare):
    run("print(1)", {})
    spare = SPARE_KERNEL.km
    assert run("import sys\nprint('--IPKernelApp.log_level=CRITICAL' in sys.argv)", {},
               extra_arguments=["--IPKernelApp.log_level=CRITICAL"]) == "True", \
        "a notebook whose kernel takes other arguments gets a kernel started with them"
    assert not spare.has_kernel, "the unsuitable spare is shut down, not left running"


def test_no_spare_kernel_is_left_behind(no_spare):
    run("print(1)", {})
    spare, folder = SPARE_KERNEL.km, SPARE_KERNEL.work
    SPARE_KERNEL.discard()  # what the worker does when it exits (atexit)
    assert not spare.has_kernel and not Path(folder).exists(), "the spare kernel and its folder are gone"


def test_the_spare_kernel_imports_what_it_is_told(no_spare):
    run("print(1)", {}, setup="import wave", spare_imports=["colorsys"])
    spare = SPARE_KERNEL.km
    printed = run("import sys\nprint('wave' in sys.modules, 'colorsys' in sys.modules)", {}, start_spare=False)
    assert printed == "False True", "spare_imports replaces this notebook's read-only imports in the spare kernel"
    assert not spare.has_kernel, "the last notebook of a worker still runs in the spare kernel started for it"
    assert SPARE_KERNEL.km is None, "a notebook that no other follows (start_spare=False) starts no spare kernel"


def test_spare_kernels_import_what_the_next_notebooks_share():
    imports = {"04": ["keras", "numpy", "tensorflow"], "01": ["math", "numpy"]}
    plan = spare_imports(["04", "04", "04", "01", "01", "01", "01"], imports, slots=2)
    assert plan[0] == ["keras", "numpy", "tensorflow"], "a notebook of 04 followed by two of 04: TensorFlow"
    assert plan[1] == ["numpy"], "the next worker's notebook may be of 01 or 04: only what both import"
    assert plan[2:5] == [["math", "numpy"]] * 3, "notebooks of 01 next: what 01 imports"
    assert plan[5:] == [None, None], "the last notebook of each of the 2 workers: no spare kernel"
    assert spare_imports(["01", "01"], imports, slots=1) == [["math", "numpy"], None], "one worker: the next job"
    assert spare_imports([], imports, slots=2) == [], "no jobs, no plan"
