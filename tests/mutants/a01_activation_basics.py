"""Plausible wrong answers for assignment 01_activation_basics; each must lose points."""

from tests.harness import Mutant

ASSIGNMENT = "01_activation_basics"


def m(cell: str, name: str, code: str) -> Mutant:
    return Mutant(cell, name, code)


MUTANTS = [
    # linear
    m("linear", "returns input object", "def linear(x):\n    return x\n"),
    m("linear", "keeps int dtype", "def linear(x):\n    return np.asarray(x)\n"),
    m("linear", "flattens", "def linear(x):\n    return np.array(x, dtype=float).ravel()\n"),
    m("linear", "relu instead", "def linear(x):\n    return np.maximum(np.array(x, dtype=float), 0.0)\n"),
    # sigmoid
    m("sigmoid", "python loop returning list",
      "def sigmoid(x, log=False):\n    return [1 / (1 + np.exp(-item)) for item in x]\n"),
    m("sigmoid", "textbook formula overflows",
      "def sigmoid(x, log=False):\n    x = np.asarray(x, dtype=float)\n    return np.asarray(1 / (1 + np.exp(-x)))\n"),
    m("sigmoid", "wrong sign",
      "def sigmoid(x, log=False):\n    x = np.asarray(x, dtype=float)\n    return np.asarray(np.exp(-np.logaddexp(0.0, x)))\n"),
    m("sigmoid", "clipped, inexact limits",
      "def sigmoid(x, log=False):\n    x = np.clip(np.asarray(x, dtype=float), -500, 500)\n"
      "    return np.asarray(1 / (1 + np.exp(-x)))\n"),
    m("sigmoid", "two-branch where evaluates both",
      "def sigmoid(x, log=False):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.asarray(np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x))))\n"),
    m("sigmoid", "numpy scalar for a number",
      "def sigmoid(x, log=False):\n    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))\n"),
    m("sigmoid", "tanh instead", "def sigmoid(x, log=False):\n    return np.asarray(np.tanh(np.asarray(x, dtype=float)))\n"),
    # tanh
    m("tanh", "exponential quotient overflows",
      "def tanh(x, scaled=False):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.asarray((np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)))\n"),
    m("tanh", "sigmoid instead",
      "def tanh(x, scaled=False):\n    return np.asarray(1 / (1 + np.exp(-np.clip(np.asarray(x, dtype=float), -700, 700))))\n"),
    m("tanh", "2 sigmoid(x) - 1 (missing factor 2 inside)",
      "def tanh(x, scaled=False):\n    return np.asarray(2 * sigmoid(x) - 1, dtype=float)\n"),
    m("tanh", "python list", "def tanh(x, scaled=False):\n    return [math.tanh(v) for v in np.ravel(x)]\n"),
    # relu
    m("relu", "keeps int dtype", "def relu(x, max_value=None):\n    return np.asarray(np.maximum(x, 0))\n"),
    m("relu", "modifies input in place",
      "def relu(x, max_value=None):\n    x = np.asarray(x, dtype=float)\n    x[x < 0] = 0.0\n    return x\n"),
    m("relu", "absolute value", "def relu(x, max_value=None):\n    return np.abs(np.asarray(x, dtype=float))\n"),
    m("relu", "scalar if-else (seed)",
      "def relu(x, max_value=None):\n    if x < 0:\n        return 0\n    return x\n"),
    m("relu", "min instead of max", "def relu(x, max_value=None):\n    return np.asarray(np.minimum(np.asarray(x, dtype=float), 0.0))\n"),
    # leaky_relu
    m("leaky_relu", "plain ReLU (the seed's plot)",
      "def leaky_relu(x, alpha=0.01, axis=-1):\n    return np.asarray(np.maximum(np.asarray(x, dtype=float), 0.0))\n"),
    m("leaky_relu", "ignores alpha",
      "def leaky_relu(x, alpha=0.01, axis=-1):\n    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, x, 0.01 * x)\n"),
    m("leaky_relu", "max(x, alpha x) breaks for alpha > 1",
      "def leaky_relu(x, alpha=0.01, axis=-1):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.asarray(np.maximum(x, alpha * x))\n"),
    m("leaky_relu", "constant alpha below zero",
      "def leaky_relu(x, alpha=0.01, axis=-1):\n    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, x, alpha)\n"),
    m("leaky_relu", "slope on the wrong side",
      "def leaky_relu(x, alpha=0.01, axis=-1):\n    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, alpha * x, x)\n"),
    m("leaky_relu", "default alpha 0.3 (Keras' old default)",
      "def leaky_relu(x, alpha=0.3):\n    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, x, alpha * x)\n"),
    # elu
    m("elu", "where evaluates exp(1e4)",
      "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.where(x > 0, x, alpha * (np.exp(x) - 1))\n"),
    m("elu", "ignores alpha",
      "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))\n"),
    m("elu", "alpha * exp(x) - 1",
      "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)) - 1)\n"),
    m("elu", "missing -1",
      "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))\n"),
    m("elu", "leaky relu instead",
      "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n    return np.where(x > 0, x, alpha * x)\n"),
    # softmax
    m("softmax", "no max shift overflows",
      "def softmax(z, axis=-1, temperature=1.0):\n    e = np.exp(np.asarray(z, dtype=float))\n"
      "    return e / e.sum(axis=axis, keepdims=True)\n"),
    m("softmax", "ignores axis (normalises all)",
      "def softmax(z, axis=-1, temperature=1.0):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max())\n"
      "    return e / e.sum()\n"),
    m("softmax", "global max shift underflows to 0/0",
      "def softmax(z, axis=-1, temperature=1.0):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max())\n"
      "    return e / e.sum(axis=axis, keepdims=True)\n"),
    m("softmax", "in-place shift modifies input",
      "def softmax(z, axis=-1, temperature=1.0):\n    z = np.asarray(z, dtype=float)\n    z -= z.max(axis=axis, keepdims=True)\n"
      "    e = np.exp(z)\n    return e / e.sum(axis=axis, keepdims=True)\n"),
    m("softmax", "always axis 0",
      "def softmax(z, axis=-1, temperature=1.0):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max(axis=0, keepdims=True))\n"
      "    return e / e.sum(axis=0, keepdims=True)\n"),
    m("softmax", "diagonal derivative confusion: sigmoid per element",
      "def softmax(z, axis=-1, temperature=1.0):\n    return sigmoid(z)\n"),
    m("softmax", "no keepdims",
      "def softmax(z, axis=-1, temperature=1.0):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max(axis=axis))\n"
      "    return e / e.sum(axis=axis)\n"),
    # maxout
    m("maxout", "ignores axis", "def maxout(z, axis=-1, pieces=None):\n    return np.asarray(np.max(np.asarray(z, dtype=float)))\n"),
    m("maxout", "argmax instead of max",
      "def maxout(z, axis=-1, pieces=None):\n    return np.asarray(np.argmax(z, axis=axis), dtype=float)\n"),
    m("maxout", "keeps int dtype", "def maxout(z, axis=-1, pieces=None):\n    return np.asarray(np.max(z, axis=axis))\n"),
    m("maxout", "starts from zero",
      "def maxout(z, axis=-1, pieces=None):\n    return np.asarray(np.maximum(np.max(np.asarray(z, dtype=float), axis=axis), 0.0))\n"),
    m("maxout", "keepdims", "def maxout(z, axis=-1, pieces=None):\n    return np.max(np.asarray(z, dtype=float), axis=axis, keepdims=True)\n"),
    m("maxout", "min instead of max",
      "def maxout(z, axis=-1, pieces=None):\n    return np.asarray(np.min(np.asarray(z, dtype=float), axis=axis))\n"),
]

# Right answers written differently: the tests must accept every one of them.
# The step beyond the lectures: the new arguments, right and wrong.
SIGMOID = "def sigmoid(x, log=False):\n    x = np.asarray(x, dtype=float)\n"
LOG_SIGMOID = "    ls = -np.logaddexp(0.0, -x)\n"
TANH = "def tanh(x, scaled=False):\n    x = np.asarray(x, dtype=float)\n"
RELU = "def relu(x, max_value=None):\n    out = np.maximum(np.asarray(x, dtype=float), 0.0)\n"
LEAKY = "def leaky_relu(x, alpha=0.01, axis=-1):\n    x = np.asarray(x, dtype=float)\n    a = np.asarray(alpha, dtype=float)\n"
SOFTMAX = "def softmax(z, axis=-1, temperature=1.0):\n"
SHIFTED = ("    e = np.exp(z - z.max(axis=axis, keepdims=True))\n"
           "    return e / e.sum(axis=axis, keepdims=True)\n")
MAXOUT = ("def maxout(z, axis=-1, pieces=None):\n    z = np.asarray(z, dtype=float)\n"
          "    if pieces is None:\n        return np.asarray(z.max(axis=axis), dtype=float)\n")
GROUPS = "    m = np.moveaxis(z, axis, -1)\n    n = m.shape[-1]\n"

MUTANTS += [
    m("sigmoid", "log=True as np.log(sigmoid): -inf at -1e4",
      SIGMOID + LOG_SIGMOID + "    s = np.exp(ls)\n    return np.asarray(np.log(s) if log else s, dtype=float)\n"),
    m("sigmoid", "log ignored", SIGMOID + LOG_SIGMOID + "    return np.asarray(np.exp(ls), dtype=float)\n"),
    m("sigmoid", "log=True as -log(1 + e^x): wrong sign",
      SIGMOID + "    ls = -np.logaddexp(0.0, x)\n    return np.asarray(ls if log else np.exp(-np.logaddexp(0.0, -x)), dtype=float)\n"),
    m("tanh", "scaled without the 2/3", TANH + "    return np.asarray((1.7159 if scaled else 1.0) * np.tanh(x), dtype=float)\n"),
    m("tanh", "scaled ignored", TANH + "    return np.asarray(np.tanh(x), dtype=float)\n"),
    m("tanh", "scaled as tanh(2x/3) without 1.7159",
      TANH + "    return np.asarray(np.tanh(2 * x / 3) if scaled else np.tanh(x), dtype=float)\n"),
    m("relu", "max_value ignored", RELU + "    return np.asarray(out, dtype=float)\n"),
    m("relu", "max_value as a floor", RELU + "    if max_value is not None:\n        out = np.maximum(out, max_value)\n"
      "    return np.asarray(out, dtype=float)\n"),
    m("relu", "negative max_value accepted (clip)", RELU + "    if max_value is not None:\n"
      "        out = np.minimum(out, max_value)\n    return np.asarray(out, dtype=float)\n"),
    m("relu", "cap 0 treated as no cap", RELU + "    if max_value:\n        if max_value < 0:\n            raise ValueError(max_value)\n"
      "        out = np.minimum(out, max_value)\n    return np.asarray(out, dtype=float)\n"),
    m("leaky_relu", "axis ignored (slopes on the last axis)", LEAKY + "    return np.where(x >= 0, x, a * x)\n"),
    m("leaky_relu", "an array alpha: its first slope for every channel", LEAKY + "    return np.where(x >= 0, x, np.ravel(a)[0] * x)\n"),
    m("leaky_relu", "slopes along axis 0 always", LEAKY + "    if a.ndim == 1:\n        a = a.reshape((-1,) + (1,) * (x.ndim - 1))\n"
      "    return np.where(x >= 0, x, a * x)\n"),
    m("softmax", "temperature multiplies", SOFTMAX + "    z = np.asarray(z, dtype=float) * temperature\n" + SHIFTED),
    m("softmax", "temperature ignored", SOFTMAX + "    z = np.asarray(z, dtype=float)\n" + SHIFTED),
    m("softmax", "no ValueError for a zero temperature (divides by 0)", SOFTMAX + "    z = np.asarray(z, dtype=float) / temperature\n" + SHIFTED),
    m("softmax", "temperature as a power after the exponential (underflows first)",
      SOFTMAX + "    z = np.asarray(z, dtype=float)\n    if temperature <= 0:\n        raise ValueError(temperature)\n"
      "    e = np.exp(z - z.max(axis=axis, keepdims=True)) ** (1 / temperature)\n    return e / e.sum(axis=axis, keepdims=True)\n"),
    m("maxout", "pieces: strided groups instead of consecutive ones",
      MAXOUT + GROUPS + "    if n % pieces:\n        raise ValueError(pieces)\n"
      "    g = m.reshape(m.shape[:-1] + (pieces, n // pieces)).max(axis=-2)\n    return np.moveaxis(g, -1, axis)\n"),
    m("maxout", "pieces: groups along the last axis whatever axis",
      MAXOUT + "    n = z.shape[-1]\n    if n % pieces:\n        raise ValueError(pieces)\n"
      "    return z.reshape(z.shape[:-1] + (n // pieces, pieces)).max(axis=-1)\n"),
    m("maxout", "pieces: a length-1 axis dropped",
      MAXOUT + GROUPS + "    if n % pieces:\n        raise ValueError(pieces)\n"
      "    g = m.reshape(m.shape[:-1] + (n // pieces, pieces)).max(axis=-1)\n"
      "    return np.squeeze(np.moveaxis(g, -1, axis), axis=axis) if n == pieces else np.moveaxis(g, -1, axis)\n"),
    m("maxout", "pieces: no ValueError (truncates)",
      MAXOUT + GROUPS + "    m = m[..., : n - n % pieces]\n"
      "    g = m.reshape(m.shape[:-1] + (n // pieces, pieces)).max(axis=-1)\n    return np.moveaxis(g, -1, axis)\n"),
]

ALTERNATIVES = [
    m("linear", "returns the caller's float array (allowed: the contract asks for no copy)",
      "def linear(x):\n    return np.asarray(x, dtype=float)\n"),
    m("linear", "copy of the float array", "def linear(x):\n    return np.asarray(x, dtype=float).copy()\n"),
    m("sigmoid", "via tanh, log through log1p", SIGMOID + "    if log:\n"
      "        return np.asarray(np.where(x >= 0, -np.log1p(np.exp(-np.abs(x))), x - np.log1p(np.exp(-np.abs(x)))), dtype=float)\n"
      "    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=float)\n"),
    m("sigmoid", "two branches on masks",
      "def sigmoid(x, log=False):\n    x = np.array(x, dtype=float)\n    out = np.empty_like(x)\n    pos = x >= 0\n"
      "    out[pos] = 1 / (1 + np.exp(-x[pos]))\n    e = np.exp(x[~pos])\n    out[~pos] = e / (1 + e)\n"
      "    return np.asarray(-np.logaddexp(0.0, -x), dtype=float) if log else out\n"),
    m("tanh", "2 sigmoid(2x) - 1, scaled by its constants", TANH + "    a, b = (1.7159, 2 / 3) if scaled else (1.0, 1.0)\n"
      "    return np.asarray(a * (2 * sigmoid(2 * b * x) - 1))\n"),
    m("relu", "where and clip", "def relu(x, max_value=None):\n    x = np.asarray(x, dtype=float)\n"
      "    if max_value is not None and max_value < 0:\n        raise ValueError('max_value < 0')\n"
      "    top = np.inf if max_value is None else max_value\n    return np.asarray(np.clip(np.where(x > 0, x, 0.0), 0.0, top), dtype=float)\n"),
    m("leaky_relu", "masked copy, slopes broadcast with expand_dims",
      "def leaky_relu(x, alpha=0.01, axis=-1):\n    out = np.array(x, dtype=float)\n    a = np.asarray(alpha, dtype=float)\n"
      "    if a.ndim == 1:\n        a = np.expand_dims(a, [d for d in range(out.ndim) if d != axis % out.ndim])\n"
      "    return np.where(out < 0, out * a, out)\n"),
    m("elu", "exp - 1 on clipped input", "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))\n"),
    m("softmax", "logsumexp form, temperature after the shift", SOFTMAX + "    if temperature <= 0:\n        raise ValueError('temperature')\n"
      "    z = np.asarray(z, dtype=float)\n    m = z.max(axis=axis, keepdims=True)\n    t = (z - m) / temperature\n"
      "    return np.exp(t - np.log(np.exp(t).sum(axis=axis, keepdims=True)))\n"),
    m("maxout", "sort and take last; groups by a loop over pieces",
      MAXOUT.replace("z.max(axis=axis)", "np.take(np.sort(z, axis=axis), -1, axis=axis)") + GROUPS
      + "    if n % pieces:\n        raise ValueError('pieces')\n"
      "    g = m[..., 0::pieces]\n    for j in range(1, pieces):\n        g = np.maximum(g, m[..., j::pieces])\n"
      "    return np.moveaxis(g, -1, axis)\n"),
]
