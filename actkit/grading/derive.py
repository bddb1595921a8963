"""Hidden tests of a derivative: the student's function runs with TensorFlow's computations switched off.

Assignment 02 asks for derivatives *derived* by hand and written in NumPy. A hidden test calls the
answer inside :func:`frameworks_off` (usually through :func:`call_derived`). For the length of that
call, in the process where the function runs, TensorFlow executes no operation and records no
gradient: the entry points every eager operation, ``tf.function`` call and ``tf.GradientTape`` goes
through (``pywrap_tfe.TFE_Py_Execute``, ``...FastPathExecute``, ``...ExecuteCancelable``,
``...TapeSetNew``) raise :class:`FrameworkOff`, whatever name the student imported them under
(``tf.nn.silu``, ``keras.activations``, ``keras.ops``, ``tape.jacobian``...), and the other autodiff
frameworks (JAX, PyTorch, autograd, SymPy) cannot be imported. Creating a tensor and ``.numpy()``
still work: they compute nothing.

Where it runs:

- in the grader's two processes, the tester marks the call (``derive`` in the bridge's call request,
  :func:`requested`) and the student kernel's bridge switches TensorFlow off around it (:func:`off`);
- in one process (the mutation harness, the instructor's own notebook), :func:`frameworks_off`
  switches it off around the call itself.

What it proves, honestly: an answer written with TensorFlow's autodiff or activations, however it
was imported, fails; an answer computed with NumPy and ``math`` passes. The switch lives in the
student's process, so code written on purpose to switch it back on (restoring the patched entry
points, reloading TensorFlow's C extension) defeats it, as any code in that process can change its
own answers: that is deliberate cheating, which the static scan flags for review (patched modules),
not a slip. The values are still checked against the formula in the tester.
"""

from __future__ import annotations

import contextlib
import sys

ENTRY_POINTS = ("TFE_Py_Execute", "TFE_Py_ExecuteCancelable", "TFE_Py_FastPathExecute", "TFE_Py_TapeSetNew")
OTHER_FRAMEWORKS = ("jax", "torch", "autograd", "sympy")
MESSAGE = ("TensorFlow is switched off while this derivative is tested: derive it with NumPy "
           "(no automatic differentiation, no framework activation)")
_state = {"on": 0}  # how deep the tester (or a one-process test) is inside frameworks_off()


class FrameworkOff(RuntimeError):
    """Raised by TensorFlow's entry points (and imports of other frameworks) while switched off."""


def _refuse(*_args, **_kwargs):
    raise FrameworkOff(MESSAGE)


@contextlib.contextmanager
def off(active: bool = True):
    """In this process, for the ``with`` block: TensorFlow computes nothing, other frameworks do not import."""
    if not active:
        yield
        return
    saved, hidden = {}, {}
    pywrap = sys.modules.get("tensorflow.python.pywrap_tfe")
    if pywrap is not None:
        for name in ENTRY_POINTS:
            if hasattr(pywrap, name):
                saved[name] = getattr(pywrap, name)
                setattr(pywrap, name, _refuse)
    for name in OTHER_FRAMEWORKS + (() if pywrap is not None else ("tensorflow", "keras")):
        hidden[name] = sys.modules.get(name, _ABSENT)
        sys.modules[name] = None  # ``import name`` raises ImportError; a module already bound still runs
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(pywrap, name, value)
        for name, value in hidden.items():
            if value is _ABSENT:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = value


_ABSENT = object()


def requested() -> bool:
    """Whether the tester is inside :func:`frameworks_off` (its calls into the student kernel say so)."""
    return _state["on"] > 0


@contextlib.contextmanager
def frameworks_off():
    """Hidden tests: every student function called in the block runs without TensorFlow's computations."""
    _state["on"] += 1
    try:
        with off():
            yield
    finally:
        _state["on"] -= 1


def call_derived(f, *args, name: str, **kwargs):
    """``f(*args, **kwargs)`` inside :func:`frameworks_off`; an exception fails the test with "derive it"."""
    with frameworks_off():
        try:
            return f(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure without the frameworks is the same finding
            raise AssertionError(
                f"{name} raised {type(exc).__name__} while TensorFlow was switched off: derive it "
                "(compute the formula with NumPy and math, without automatic differentiation or a "
                "framework's activation)") from None
