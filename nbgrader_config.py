"""nbgrader configuration of the activation-functions course (nbgrader 0.9).

The course root is this repository: source/ -> release/ -> submitted/ -> autograded/ -> feedback/,
with the SQLite gradebook (gradebook.db, git-ignored) beside this file.
"""

import os
import sys
import warnings
from pathlib import Path

import nbgrader
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from actkit.grading import TF_LOG_PATTERN, leftovers, sandbox
from actkit.grading.alttext import FigureAltText
from actkit.grading.execute import TrustedExecute
from actkit.grading.feedback import HideHiddenTests
from actkit.grading.late import CourseLatePenalties
from actkit.grading.lms import CanvasCollector
from actkit.grading.preflight import RefusedAsReleased, RefuseSubmission, refuse_unreadable
from actkit.grading.repair import RepairCells, RestoreStructure
from actkit.grading.sanitize import ShowAsData, escape_formgrader_pages, exporter_config
from actkit.grading.untouched import RestoreUntouchedCells
from actkit.instructor.course import ColabCells

HERE = Path(__file__).resolve().parent

# TensorFlow must never cost a student points: its C++ and absl logs go to stderr, and nbgrader
# scores any test cell with stderr output as zero. Kernels inherit this environment.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
if (HERE.parent / "shared" / "data").is_dir():
    os.environ.setdefault("COURSE_DATA_DIR", str(HERE.parent / "shared" / "data"))
# SQLAlchemy's autoflush warnings from nbgrader's own gradebook code when it meets a new student: not a problem
warnings.filterwarnings("ignore", message=".* not in session, add operation along", module=r"nbgrader\.api")

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "activation-functions"
c.CourseDirectory.root = os.environ.get("NBGRADER_COURSE_ROOT", str(HERE))
c.CourseDirectory.db_url = "sqlite:///" + str(Path(c.CourseDirectory.root) / "gradebook.db")

# Every released notebook starts with the course header (name field, how to run and validate).
c.IncludeHeaderFooter.header = str(HERE / "source" / "header.ipynb")

# Every released notebook starts with an "Open in Colab" badge and a setup cell that installs actkit in Colab,
# generated from course.toml (the public student repository and its ref) right after the header is included.
_generate = list(GenerateAssignment.class_traits()["preprocessors"].default())  # IncludeHeaderFooter first
c.GenerateAssignment.preprocessors = _generate[:1] + [ColabCells] + _generate[1:]

# Execution while validating and autograding. The CNN assignment trains a model in one cell
# (about a minute on 2 CPU cores); no other cell needs more than a few seconds.
c.Execute.timeout = 240
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
# Quiet kernels: a timeout is reported once, as one flag line; the kernel's own log ("KeyboardInterrupt caught in
# kernel", "running over TCP without encryption") is not a problem of the submission.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=CRITICAL"]
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 60

# Backstop for TensorFlow/absl log lines that reach stderr despite TF_CPP_MIN_LOG_LEVEL
# (the pattern and the lines it matches are in actkit/grading/__init__.py). Python warnings are not
# matched: a RuntimeWarning from a student's function is a real fault.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = TF_LOG_PATTERN

# Feedback: never show hidden-test source or the tracebacks that quote it.
# Every figure gets a text alternative (actkit/grading/alttext.py); the feedback and formgrader pages typeset
# formulas without a network (MathJax 3 inlined instead of the CDN's MathJax 2: actkit/instructor/mathjax.py).
# Both pages show what the student handed in as data, never as markup or script: an allow-list sanitiser, only
# outputs shown as data (a Bokeh plot becomes a note) and a Content-Security-Policy (actkit/grading/sanitize.py).
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, FigureAltText, CSSHTMLHeaderPreprocessor]
c.merge(exporter_config(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"))
c.HTMLExporter.preprocessors = [FigureAltText, ShowAsData]  # the formgrader's pages describe every figure too
escape_formgrader_pages()  # its list pages too: a student's folder name is text (in `jupyter server` only)

# Grading integrity (actkit/SECURITY.md). Student code runs in its own kernel, in the bubblewrap
# sandbox unless ACTKIT_SANDBOX=0 (no network, no access to source/, the gradebook or other
# students, bounded memory/processes/CPU), in a throwaway folder; the test cells run in a separate
# tester process that reaches the student's functions through data-only proxies. Deleted test and
# helper cells are put back and the released cell order restored before execution.
# ACTKIT_CELL_TIMEOUT shortens the cell timeout (the test-suite uses it for its hanging submissions).
if os.environ.get("ACTKIT_CELL_TIMEOUT"):
    c.Execute.timeout = int(os.environ["ACTKIT_CELL_TIMEOUT"])
if sys.argv[1:2] == ["autograde"]:  # this process reads what the student kernels send: bounded (actkit/SECURITY.md)
    from actkit.grading.limits import set_memory_ceiling

    set_memory_ceiling()
if sandbox.enabled() and sys.argv[1:2] == ["autograde"]:
    try:  # one line, before any kernel starts, when this machine cannot run the sandbox
        sandbox.require()
    except sandbox.SandboxError as exc:
        sys.exit(f"error: {exc}")
if sys.argv[1:2] == ["autograde"]:
    leftovers.sweep()  # what killed grading runs left in the temporary folder (actkit/grading/leftovers.py)
c.OverwriteCells.add_missing_cells = True
c.Autograde.pre_convert_hook = refuse_unreadable  # links, too large, unreadable: 0 and a flag, not graded
c.Autograde.exporter_class = RefusedAsReleased  # a file that is not a notebook is never parsed: one line, no traceback
c.Autograde.sanitize_preprocessors = [
    RefuseSubmission, ClearOutput, RepairCells, OverwriteKernelspec, RestoreUntouchedCells, OverwriteCells,
    RestoreStructure, CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    TrustedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    CourseLatePenalties, CheckCellMetadata,
]

# `actkit-grade` (parallel autograding) executes the notebooks on Dask workers first; nbgrader then
# takes each stored execution instead of running the notebook again (see actkit/grading/parallel.py).
if os.environ.get("ACTKIT_EXECUTION_CACHE"):
    from actkit.grading.parallel import CachedExecute

    c.Autograde.autograde_preprocessors = [
        CachedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
        CourseLatePenalties, CheckCellMetadata,
    ]

# The term: due dates (UTC) and extensions (student -> {assignment -> hours}), the one place they are set;
# late policy: -10 % of the score per started day late, at most -50 % (actkit/grading/late.py).
c.CourseLatePenalties.due_dates = {
    "01_activation_basics": "2027-02-12 23:59:00",
    "02_gradients": "2027-02-26 23:59:00",
    "03_nonlinearity": "2027-03-12 23:59:00",
    "04_cnn_activation_maps": "2027-03-26 23:59:00",
}
c.CourseLatePenalties.extensions = {}  # e.g. {"s017": {"02_gradients": 48}}
c.PercentPerDayLate.percent_per_day = 10.0
c.PercentPerDayLate.max_percent = 50.0

# LMS in: `nbgrader zip_collect <assignment>` reads downloaded/<assignment>/archive/ (git-ignored). Canvas file
# names; for Moodle use actkit.grading.lms.MoodleCollector (the regular expressions: actkit/grading/lms.py).
c.ZipCollectApp.collector_plugin = CanvasCollector
# Submission times into timestamp.txt: a times CSV or Moodle's grading worksheet in downloaded/<assignment>/, else
# Canvas' LATE_ marker + the due date, flagged (actkit/grading/lms_times.py). The worksheet's times are in the time
# zone of the Moodle user who downloaded it, e.g. "Europe/Berlin":
c.MoodleCollector.timezone = "UTC"
# LMS out: nbgrader export --exporter=actkit.grading.lms.CanvasExport (or MoodleExport): the assignments named
# with --assignment, else those released and graded; notes in build/lms/. Canvas column titles carry the Canvas
# assignment ids when given here: {"01_activation_basics": 123456, ...}; else the title must be the Canvas one.
c.CanvasExport.assignment_ids = {}

# Students' own work: ignore checkpoints and caches when collecting/autograding.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
