"""The data-only format in which the student kernel answers the tester.

The student's process *encodes* a value as a small JSON tree plus binary buffers; the tester
*decodes* it strictly. Nothing the student sends is ever unpickled, evaluated or imported:

- ``None``, ``bool``, ``int``, ``float``, ``str``: JSON (floats as ``float.hex``, so NaN and
  infinities survive);
- ``tuple``, ``list``, ``dict`` (exact types, string or integer keys): nested trees;
- NumPy arrays and scalars of plain dtypes: ``.npy`` bytes read with ``allow_pickle=False``;
- Keras models: the ``.keras`` format, loaded with ``safe_mode=True`` (no Python code in it runs);
- the argument the function was called with (``arg``): the tester's own object, so a function
  that returns its input is seen to do so;
- anything else (a callable, a tensor, a custom object): an opaque *handle*; the tester can still
  call it, read its attributes or turn it into an array, and every answer comes back in this
  format again.

The encoder runs in the student's process and may be replaced by the student: it is a
convenience, not a defence. The defence is :func:`decode`, which accepts nothing else and bounds
depth, size and counts.
"""

from __future__ import annotations

import io
import sys

import numpy as np

MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_BYTES = 1 << 30  # all buffers of one answer
MAX_TEXT = 1 << 20  # one string
# what a .keras answer may ask the tester to build, checked from its files before Keras is imported
MAX_KERAS_BYTES = 64 * 2**20  # the archive's files, uncompressed, together
MAX_KERAS_CONFIG = 2**20  # config.json
MAX_LAYER_WIDTH = 8192  # units, filters, embedding sizes of one layer
MAX_PARAMETERS = 5_000_000  # estimated from the config, and counted in the weights file
WIDTH_KEYS = ("units", "filters", "output_dim", "input_dim", "num_heads", "key_dim", "value_dim")
PLAIN_KINDS = set("biufcmMSU")  # NumPy dtype kinds that hold data, not Python objects


class DecodeError(ValueError):
    """The student's answer is not in the data-only format (the test that asked for it fails)."""


def arrays_in(value, depth: int = 0, found: list | None = None) -> list:
    """The NumPy arrays in a call's arguments (nested in lists, tuples, dicts), in a fixed order.

    Both ends walk the arguments this way: the student's side sends the arrays back after a call,
    the tester copies them into its own (so a function that changes its input is seen to).
    """
    found = [] if found is None else found
    if type(value) is np.ndarray:
        found.append(value)
    elif depth < 8 and type(value) in (list, tuple):
        for item in value:
            arrays_in(item, depth + 1, found)
    elif depth < 8 and type(value) is dict:
        for item in value.values():
            arrays_in(item, depth + 1, found)
    return found


# ------------------------------------------------------------------------------ student side

def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def _keras_bytes(model) -> bytes | None:
    import os
    import tempfile

    folder = tempfile.mkdtemp(prefix="actkit-model-")
    path = os.path.join(folder, "model.keras")
    try:
        model.save(path)
        with open(path, "rb") as handle:
            return handle.read()
    except Exception:  # noqa: BLE001 - not saveable: it stays in the kernel as a handle
        return None
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def encode(value, keep, args=(), depth: int = 0, buffers: list | None = None):
    """``(tree, buffers)`` for ``value``; ``keep(obj)`` stores an object and returns its handle id."""
    buffers = [] if buffers is None else buffers

    def buffer(data: bytes) -> int:
        buffers.append(data)
        return len(buffers) - 1

    for i, arg in enumerate(args):
        if value is arg and not isinstance(value, (bool, int, float, str, type(None))):
            return {"t": "arg", "i": i}, buffers
    kind = type(value)
    if value is None:
        return {"t": "none"}, buffers
    if kind is bool:
        return {"t": "bool", "v": value}, buffers
    if kind is int:
        return {"t": "int", "v": str(value)}, buffers
    if kind is float:
        return {"t": "float", "v": value.hex()}, buffers
    if kind is str:
        return {"t": "str", "v": value}, buffers
    if depth < MAX_DEPTH and kind in (tuple, list):
        items = [encode(v, keep, args, depth + 1, buffers)[0] for v in value]
        return {"t": kind.__name__, "v": items}, buffers
    if depth < MAX_DEPTH and kind is dict and all(type(k) in (str, int) for k in value):
        keys = [encode(k, keep, (), depth + 1, buffers)[0] for k in value]
        values = [encode(v, keep, args, depth + 1, buffers)[0] for v in value.values()]
        return {"t": "dict", "k": keys, "v": values}, buffers
    if kind is np.ndarray and value.dtype.kind in PLAIN_KINDS and not value.dtype.fields:
        return {"t": "nd", "b": buffer(_npy(value))}, buffers
    if isinstance(value, np.generic) and type(value).__module__ == "numpy" and value.dtype.kind in PLAIN_KINDS:
        return {"t": "npscalar", "b": buffer(_npy(np.asarray(value)))}, buffers
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(value, keras.Model):
        data = _keras_bytes(value)
        if data is not None:
            return {"t": "keras", "b": buffer(data)}, buffers
    name = getattr(value, "__name__", None)
    return {"t": "callable" if callable(value) else "handle", "h": keep(value), "type": kind.__name__,
            "name": name if isinstance(name, str) else kind.__name__}, buffers


# ------------------------------------------------------------------------------- tester side

class _Budget:
    def __init__(self):
        self.nodes = 0


def _text(node, key: str) -> str:
    value = node.get(key)
    if type(value) is not str or len(value) > MAX_TEXT:
        raise DecodeError(f"bad text in a {node.get('t')!r} node")
    return value


def _load_npy(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any malformed array is a decode error
        raise DecodeError(f"not a plain .npy array ({type(exc).__name__})") from None
    if type(array) is not np.ndarray or array.dtype.kind not in PLAIN_KINDS or array.dtype.fields:
        raise DecodeError("not a plain numeric or text array")
    return array


def _ints(value) -> list[int]:
    items = value if type(value) in (list, tuple) else [value]
    return [v for v in items if type(v) is int]


def _estimated_parameters(config) -> int:
    """An upper estimate of the parameters the layers of a Keras config would create (each layer's
    widths times its input's last dimension, from its build config or the layer before, times its
    kernel's area); a width over ``MAX_LAYER_WIDTH`` is refused outright."""
    total, previous, stack = 0, 1, [config]
    while stack:
        node = stack.pop(0)
        if type(node) is list:
            stack[:0] = node
            continue
        if type(node) is not dict:
            continue
        layer = node.get("config")
        if type(node.get("class_name")) is str and type(layer) is dict:
            widths = [v for k in WIDTH_KEYS for v in _ints(layer.get(k))]
            if any(not 0 <= w <= MAX_LAYER_WIDTH for w in widths):
                raise DecodeError(f"the Keras model has a layer of width {max(widths)} (the limit is "
                                  f"{MAX_LAYER_WIDTH}); it was not built")
            shape = _ints((node.get("build_config") or {}).get("input_shape")
                          if type(node.get("build_config")) is dict else None)
            fan_in = shape[-1] if shape else previous
            area = 1
            for k in _ints(layer.get("kernel_size")):
                area *= max(k, 1)
            if widths:
                product = 1
                for w in widths:
                    product *= max(w, 1)
                total += product * (max(fan_in, 1) * area + 1)  # weights and biases
                previous = widths[-1]
        stack[:0] = list(node.values())
    return total


def check_keras_archive(data: bytes) -> None:
    """Refuse a ``.keras`` answer that would make the tester build more than the bounds allow: the
    archive's sizes, the layers its config names (before Keras is imported), the arrays of its
    weights file (their shapes, read without their data)."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = {i.filename: i.file_size for i in archive.infolist()}
            if len(files) > 16 or sum(files.values()) > MAX_KERAS_BYTES:
                raise DecodeError(f"the Keras file unpacks to more than {MAX_KERAS_BYTES // 2**20} MB")
            if files.get("config.json", 0) > MAX_KERAS_CONFIG:
                raise DecodeError(f"the Keras config is larger than {MAX_KERAS_CONFIG // 2**20} MB")
            config = json.loads(archive.read("config.json"))
            weights = archive.read("model.weights.h5") if "model.weights.h5" in files else None
    except (zipfile.BadZipFile, KeyError, ValueError, RecursionError, OSError) as exc:
        if isinstance(exc, DecodeError):
            raise
        raise DecodeError(f"not a readable .keras file ({type(exc).__name__})") from None
    estimate = _estimated_parameters(config)
    if estimate > MAX_PARAMETERS:
        raise DecodeError(f"the Keras model would have about {estimate:,} parameters (the limit is "
                          f"{MAX_PARAMETERS:,}); it was not built")
    if weights is not None:
        import h5py

        counted = [0]

        def count(_name, item):
            if isinstance(item, h5py.Dataset):
                counted[0] += int(item.size)

        try:
            with h5py.File(io.BytesIO(weights), "r") as store:
                store.visititems(count)
        except (OSError, ValueError, TypeError) as exc:
            raise DecodeError(f"the Keras weights file cannot be read ({type(exc).__name__})") from None
        if counted[0] > MAX_PARAMETERS:
            raise DecodeError(f"the Keras weights file holds {counted[0]:,} numbers (the limit is "
                              f"{MAX_PARAMETERS:,}); it was not loaded")


def _load_keras(data: bytes):
    import os
    import tempfile
    import warnings

    check_keras_archive(data)

    import keras

    folder = tempfile.mkdtemp(prefix="actkit-tester-model-")
    path = os.path.join(folder, "model.keras")
    try:
        with open(path, "wb") as handle:
            handle.write(data)
        with warnings.catch_warnings():  # Keras' own notes on loading (optimizer state) are not the student's
            warnings.simplefilter("ignore")
            return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - a model that cannot be loaded safely is not accepted
        raise DecodeError(f"the Keras model cannot be loaded safely ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def decode(tree, buffers: list, handle, args=(), depth: int = 0, budget: _Budget | None = None):
    """The value a tree describes. ``handle(kind, id, type_name, name)`` builds opaque handles."""
    budget = budget or _Budget()
    budget.nodes += 1
    if budget.nodes > MAX_NODES or depth > MAX_DEPTH + 1:
        raise DecodeError("the answer is nested too deeply or has too many parts")
    if type(tree) is not dict or type(tree.get("t")) is not str:
        raise DecodeError("malformed answer")
    kind = tree["t"]
    if kind == "none":
        return None
    if kind == "bool":
        if type(tree.get("v")) is not bool:
            raise DecodeError("bad bool")
        return tree["v"]
    if kind == "int":
        text = _text(tree, "v")
        if len(text) > 4000:
            raise DecodeError("integer too large")
        try:
            return int(text)
        except ValueError:
            raise DecodeError("bad int") from None
    if kind == "float":
        try:
            return float.fromhex(_text(tree, "v"))
        except ValueError:
            raise DecodeError("bad float") from None
    if kind == "str":
        return _text(tree, "v")
    if kind in ("tuple", "list"):
        items = tree.get("v")
        if type(items) is not list:
            raise DecodeError("bad sequence")
        values = [decode(v, buffers, handle, args, depth + 1, budget) for v in items]
        return tuple(values) if kind == "tuple" else values
    if kind == "dict":
        keys, values = tree.get("k"), tree.get("v")
        if type(keys) is not list or type(values) is not list or len(keys) != len(values):
            raise DecodeError("bad dict")
        out = {}
        for k, v in zip(keys, values, strict=True):
            key = decode(k, buffers, handle, (), depth + 1, budget)
            if type(key) not in (str, int):
                raise DecodeError("bad dict key")
            out[key] = decode(v, buffers, handle, args, depth + 1, budget)
        return out
    if kind in ("nd", "npscalar", "keras"):
        index = tree.get("b")
        if type(index) is not int or not 0 <= index < len(buffers):
            raise DecodeError("bad buffer reference")
        data = bytes(buffers[index])
        if kind == "keras":
            return _load_keras(data)
        array = _load_npy(data)
        if kind == "npscalar":
            if array.ndim != 0:
                raise DecodeError("bad scalar")
            return array[()]
        return array
    if kind == "arg":
        index = tree.get("i")
        if type(index) is not int or not 0 <= index < len(args):
            raise DecodeError("bad argument reference")
        return args[index]
    if kind in ("handle", "callable"):
        ident = tree.get("h")
        if type(ident) is not int:
            raise DecodeError("bad handle")
        return handle(kind, ident, _text(tree, "type")[:100], _text(tree, "name")[:100])
    raise DecodeError(f"unknown kind {kind[:20]!r}")


def total_bytes(buffers: list) -> int:
    return sum(len(b) for b in buffers)
