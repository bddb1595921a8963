"""nbgrader configuration of the activation-functions course (nbgrader 0.9).

The course root is this repository: source/ -> release/ -> submitted/ -> autograded/ -> feedback/,
with the SQLite gradebook (gradebook.db, git-ignored) beside this file.
"""

import os
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from actkit import sandbox
from actkit.nbgrader_ext import TF_LOG_PATTERN, HideHiddenTests

HERE = Path(__file__).resolve().parent

# TensorFlow must never cost a student points: its C++ and absl logs go to stderr, and nbgrader
# scores any test cell with stderr output as zero. Kernels inherit this environment.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
if (HERE.parent / "shared" / "data").is_dir():
    os.environ.setdefault("COURSE_DATA_DIR", str(HERE.parent / "shared" / "data"))

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "activation-functions"
c.CourseDirectory.root = os.environ.get("NBGRADER_COURSE_ROOT", str(HERE))
c.CourseDirectory.db_url = "sqlite:///" + str(Path(c.CourseDirectory.root) / "gradebook.db")

# Every released notebook starts with the course header (name field, how to run and validate).
c.IncludeHeaderFooter.header = str(HERE / "source" / "header.ipynb")

# Execution while validating and autograding. The CNN assignment trains a model in one cell
# (about a minute on 2 CPU cores); no other cell needs more than a few seconds.
c.Execute.timeout = 240
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 60

# Backstop for TensorFlow/absl log lines that reach stderr despite TF_CPP_MIN_LOG_LEVEL
# (the pattern and the lines it matches are in actkit/nbgrader_ext.py). Python warnings are not
# matched: a RuntimeWarning from a student's function is a real fault.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = TF_LOG_PATTERN

# Feedback: never show hidden-test source or the tracebacks that quote it.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# Grading integrity (actkit/SECURITY.md). With the sandbox on (`ACTKIT_SANDBOX=1`, default in
# actkit/sandbox.py), student code runs in the bubblewrap kernel "course-sandbox" (no network, no
# access to source/, the gradebook or other students, bounded memory/processes/CPU) with the
# in-kernel guard; deleted test and helper cells are put back and the released cell order restored.
# ACTKIT_CELL_TIMEOUT shortens the cell timeout (the test-suite uses it for its hanging submissions).
if os.environ.get("ACTKIT_CELL_TIMEOUT"):
    c.Execute.timeout = int(os.environ["ACTKIT_CELL_TIMEOUT"])
if sandbox.enabled():
    from nbgrader.preprocessors import ClearOutput, OverwriteCells, OverwriteKernelspec

    from actkit.integrity import RepairCells, RestoreStructure, SafeExecute

    c.OverwriteCells.add_missing_cells = True
    c.Autograde.sanitize_preprocessors = [
        ClearOutput, RepairCells, OverwriteKernelspec, OverwriteCells, RestoreStructure, CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        SafeExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
        AssignLatePenalties, CheckCellMetadata,
    ]

# `actkit-grade` (parallel autograding) executes the notebooks on Dask workers first; nbgrader then
# takes each stored execution instead of running the notebook again (see actkit/grading.py).
if os.environ.get("ACTKIT_EXECUTION_CACHE"):
    from actkit.grading import CachedExecute

    c.Autograde.autograde_preprocessors = [
        CachedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
        AssignLatePenalties, CheckCellMetadata,
    ]

# Students' own work: ignore checkpoints and caches when collecting/autograding.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
