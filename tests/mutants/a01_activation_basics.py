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
      "def sigmoid(x):\n    return [1 / (1 + np.exp(-item)) for item in x]\n"),
    m("sigmoid", "textbook formula overflows",
      "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n    return np.asarray(1 / (1 + np.exp(-x)))\n"),
    m("sigmoid", "wrong sign",
      "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n    return np.asarray(np.exp(-np.logaddexp(0.0, x)))\n"),
    m("sigmoid", "clipped, inexact limits",
      "def sigmoid(x):\n    x = np.clip(np.asarray(x, dtype=float), -500, 500)\n"
      "    return np.asarray(1 / (1 + np.exp(-x)))\n"),
    m("sigmoid", "two-branch where evaluates both",
      "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.asarray(np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x))))\n"),
    m("sigmoid", "numpy scalar for a number",
      "def sigmoid(x):\n    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))\n"),
    m("sigmoid", "tanh instead", "def sigmoid(x):\n    return np.asarray(np.tanh(np.asarray(x, dtype=float)))\n"),
    # tanh
    m("tanh", "exponential quotient overflows",
      "def tanh(x):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.asarray((np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)))\n"),
    m("tanh", "sigmoid instead",
      "def tanh(x):\n    return np.asarray(1 / (1 + np.exp(-np.clip(np.asarray(x, dtype=float), -700, 700))))\n"),
    m("tanh", "2 sigmoid(x) - 1 (missing factor 2 inside)",
      "def tanh(x):\n    return np.asarray(2 * sigmoid(x) - 1, dtype=float)\n"),
    m("tanh", "python list", "def tanh(x):\n    return [math.tanh(v) for v in np.ravel(x)]\n"),
    # relu
    m("relu", "keeps int dtype", "def relu(x):\n    return np.asarray(np.maximum(x, 0))\n"),
    m("relu", "modifies input in place",
      "def relu(x):\n    x = np.asarray(x, dtype=float)\n    x[x < 0] = 0.0\n    return x\n"),
    m("relu", "absolute value", "def relu(x):\n    return np.abs(np.asarray(x, dtype=float))\n"),
    m("relu", "scalar if-else (seed)",
      "def relu(x):\n    if x < 0:\n        return 0\n    return x\n"),
    m("relu", "min instead of max", "def relu(x):\n    return np.asarray(np.minimum(np.asarray(x, dtype=float), 0.0))\n"),
    # leaky_relu
    m("leaky_relu", "plain ReLU (the seed's plot)",
      "def leaky_relu(x, alpha=0.01):\n    return np.asarray(np.maximum(np.asarray(x, dtype=float), 0.0))\n"),
    m("leaky_relu", "ignores alpha",
      "def leaky_relu(x, alpha=0.01):\n    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, x, 0.01 * x)\n"),
    m("leaky_relu", "max(x, alpha x) breaks for alpha > 1",
      "def leaky_relu(x, alpha=0.01):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.asarray(np.maximum(x, alpha * x))\n"),
    m("leaky_relu", "constant alpha below zero",
      "def leaky_relu(x, alpha=0.01):\n    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, x, alpha)\n"),
    m("leaky_relu", "slope on the wrong side",
      "def leaky_relu(x, alpha=0.01):\n    x = np.asarray(x, dtype=float)\n    return np.where(x >= 0, alpha * x, x)\n"),
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
      "def softmax(z, axis=-1):\n    e = np.exp(np.asarray(z, dtype=float))\n"
      "    return e / e.sum(axis=axis, keepdims=True)\n"),
    m("softmax", "ignores axis (normalises all)",
      "def softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max())\n"
      "    return e / e.sum()\n"),
    m("softmax", "global max shift underflows to 0/0",
      "def softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max())\n"
      "    return e / e.sum(axis=axis, keepdims=True)\n"),
    m("softmax", "in-place shift modifies input",
      "def softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    z -= z.max(axis=axis, keepdims=True)\n"
      "    e = np.exp(z)\n    return e / e.sum(axis=axis, keepdims=True)\n"),
    m("softmax", "always axis 0",
      "def softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max(axis=0, keepdims=True))\n"
      "    return e / e.sum(axis=0, keepdims=True)\n"),
    m("softmax", "diagonal derivative confusion: sigmoid per element",
      "def softmax(z, axis=-1):\n    return sigmoid(z)\n"),
    m("softmax", "no keepdims",
      "def softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n    e = np.exp(z - z.max(axis=axis))\n"
      "    return e / e.sum(axis=axis)\n"),
    # maxout
    m("maxout", "ignores axis", "def maxout(z, axis=-1):\n    return np.asarray(np.max(np.asarray(z, dtype=float)))\n"),
    m("maxout", "argmax instead of max",
      "def maxout(z, axis=-1):\n    return np.asarray(np.argmax(z, axis=axis), dtype=float)\n"),
    m("maxout", "keeps int dtype", "def maxout(z, axis=-1):\n    return np.asarray(np.max(z, axis=axis))\n"),
    m("maxout", "starts from zero",
      "def maxout(z, axis=-1):\n    return np.asarray(np.maximum(np.max(np.asarray(z, dtype=float), axis=axis), 0.0))\n"),
    m("maxout", "keepdims", "def maxout(z, axis=-1):\n    return np.max(np.asarray(z, dtype=float), axis=axis, keepdims=True)\n"),
    m("maxout", "min instead of max",
      "def maxout(z, axis=-1):\n    return np.asarray(np.min(np.asarray(z, dtype=float), axis=axis))\n"),
]

# Right answers written differently: the tests must accept every one of them.
ALTERNATIVES = [
    m("linear", "returns the caller's float array (allowed: the contract asks for no copy)",
      "def linear(x):\n    return np.asarray(x, dtype=float)\n"),
    m("linear", "copy of the float array", "def linear(x):\n    return np.asarray(x, dtype=float).copy()\n"),
    m("sigmoid", "via tanh", "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=float)\n"),
    m("sigmoid", "two branches on masks",
      "def sigmoid(x):\n    x = np.array(x, dtype=float)\n    out = np.empty_like(x)\n    pos = x >= 0\n"
      "    out[pos] = 1 / (1 + np.exp(-x[pos]))\n    e = np.exp(x[~pos])\n    out[~pos] = e / (1 + e)\n"
      "    return out\n"),
    m("tanh", "2 sigmoid(2x) - 1", "def tanh(x):\n    return np.asarray(2 * sigmoid(2 * np.asarray(x, dtype=float)) - 1)\n"),
    m("relu", "where", "def relu(x):\n    x = np.asarray(x, dtype=float)\n    return np.where(x > 0, x, 0.0)\n"),
    m("leaky_relu", "masked copy", "def leaky_relu(x, alpha=0.01):\n    out = np.array(x, dtype=float)\n"
      "    out[out < 0] *= alpha\n    return out\n"),
    m("elu", "exp - 1 on clipped input", "def elu(x, alpha=1.0):\n    x = np.asarray(x, dtype=float)\n"
      "    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))\n"),
    m("softmax", "logsumexp form", "def softmax(z, axis=-1):\n    z = np.asarray(z, dtype=float)\n"
      "    m = z.max(axis=axis, keepdims=True)\n"
      "    return np.exp(z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True)))\n"),
    m("maxout", "sort and take last", "def maxout(z, axis=-1):\n"
      "    return np.asarray(np.take(np.sort(np.asarray(z, dtype=float), axis=axis), -1, axis=axis))\n"),
]
