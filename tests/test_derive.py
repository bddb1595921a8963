"""Across the two processes: a derivative tested with TensorFlow switched off, and in-place changes of an
argument's shape or dtype seen by the tester (actkit/grading/derive.py, the tester's copy-back).

One plain kernel with the bridge installed stands for the student's; a Tester in this process runs
the test code, as in tests/test_two_process.py.
"""

from __future__ import annotations

import pytest

from tests.test_two_process import bridged_tester

STUDENT = '''
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
from tensorflow.nn import sigmoid as imported_sigmoid

def by_tape(x):
    t = tf.constant(np.asarray(x, dtype=float))
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.nn.silu(t)
    return tape.gradient(y, t).numpy()

def by_activation(x):
    s = imported_sigmoid(tf.constant(np.asarray(x, dtype=float))).numpy()
    return s * (1 - s)

def derived(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return e / (1 + e) ** 2

def grow(x):
    x.shape += (1,)
    return 0.0

def halve(x):
    x.dtype = np.float32  # twice as many numbers, from the same bytes
    return 0.0

def retype(x):
    x.dtype = np.int64
    return 0.0
'''


@pytest.fixture(scope="module")
def tester():
    yield from bridged_tester(STUDENT, "import numpy as np\nfrom actkit.grading.derive import call_derived")


def run(tester, source):
    answer = tester.run(source, 60)
    errors = [o for o in answer["outputs"] if o["output_type"] == "error"]
    return errors[0]["evalue"] if errors else None


def test_autodiff_and_framework_activations_fail_with_derive_it(tester):
    for name in ("by_tape", "by_activation"):
        assert run(tester, f"{name}([0.5])") is None, f"{name} must work outside the check"
        error = run(tester, f"call_derived({name}, np.array([0.5, -1.0]), name='{name}(array)')")
        assert error and "derive it" in error and name in error, (name, error)
    assert run(tester, "by_tape([0.5])") is None, "TensorFlow must be back on after the check"


def test_a_derived_answer_passes_and_gives_its_values(tester):
    assert run(tester, "out = call_derived(derived, np.array([0.0, 2.0]), name='derived')\n"
                       "assert abs(out[0] - 0.25) < 1e-15, out") is None


def test_in_place_changes_of_shape_and_dtype_are_seen(tester):
    assert run(tester, "x = np.arange(3.0)\ngrow(x)\nassert x.shape == (3, 1), x.shape") is None
    assert run(tester, "x = np.arange(3.0)\nretype(x)\nassert x.dtype == np.int64, x.dtype") is None
    error = run(tester, "x = np.arange(3.0)\nhalve(x)")  # not mirrored: the call fails, naming the change
    assert error and "changed an argument in place" in error, error
