"""In-kernel integrity guard of the grading sandbox (an IPython extension).

The ``course-sandbox`` kernel loads this module with ``--ext=actkit.guard`` *before any cell of
the notebook runs*. It then takes a snapshot of everything a submission could patch to make the
hidden tests pass without a right answer or to hide their failures:

- the checkers and the language: every function, class and submodule of ``numpy`` (so
  ``numpy.testing.assert_allclose``, ``np.allclose``, ``np.isclose`` ...), ``math``, ``cmath``,
  ``operator``, ``warnings`` and all of ``builtins`` (``abs``, ``all``, ``len``, ``isinstance`` ...),
  including the code objects of pure-Python functions;
- how a cell is run and how its failure is reported: the methods of the IPython shell, the kernel,
  the display hook and publisher, the session and the output streams (class and instance level),
  the shell's event callbacks (``pre_run_cell``, ``post_run_cell`` ...), input and AST
  transformers, the kernel's message handlers, ``sys.excepthook``/``displayhook``/``stdout``/
  ``stderr``, ``sys.settrace``/``setprofile`` (also for new threads) and import hooks.

The grader (:class:`actkit.integrity.SafeExecute`, outside the kernel) calls :meth:`Guard.check`
after every cell through an ``execute_request`` with ``user_expressions`` (never seen by cell
hooks or input transformers). ``check`` compares the state with the snapshot, **puts back every
original** and returns what it found. The grader voids a test cell during which something was
changed and lists every finding for manual review. Names bound by the instructor's read-only
helper cells (``check_output``, ``call_strict`` ...) are protected the same way once those cells
have run, and a name bound to a module (``np``) must stay bound to that genuine module.

This is tamper *evidence* inside one process: code that knows the guard can attack the guard
itself. The sandbox bounds what such code can reach, and the static scan of
:mod:`actkit.integrity` flags the primitives it would need (see ``actkit/SECURITY.md``).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import types

__all__ = ["Guard", "load_ipython_extension"]

NAME = "__actkit_guard__"
# builtins that IPython itself adds, removes or rebinds around every cell
IPYTHON_BUILTINS = {"get_ipython", "display", "exit", "quit", "copyright", "credits", "license", "help",
                    "dreload", "__IPYTHON__", "__IPYTHON__active"}
WATCHED_MODULES = ("builtins", "math", "cmath", "operator", "warnings", "numpy")
EAGER_IMPORTS = ("math", "cmath", "operator", "warnings", "numpy", "numpy.testing", "numpy.linalg")
# user-namespace names IPython manages itself
NS_IGNORE = {"In", "Out", "exit", "quit", "get_ipython", NAME}
_GUARD: Guard | None = None


def _watched(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _function_state(value):
    if isinstance(value, types.FunctionType):
        return (value.__code__, value.__defaults__, value.__kwdefaults__)
    return None


def _describe(value) -> str:
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or type(value).__name__
    module = getattr(value, "__module__", None) or getattr(type(value), "__module__", "")
    return f"{module}.{name}" if module and module != "builtins" else str(name)


class Guard:
    """Snapshot of the kernel's trusted state, and :meth:`check`, which verifies and restores it."""

    def __init__(self, shell):
        self.shell = shell
        self.kernel = getattr(shell, "kernel", None)
        self.cwd = os.path.realpath(os.getcwd())
        here = os.path.dirname(os.path.realpath(__file__))
        self.trusted_roots = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, here)})
        extra = tuple(p for p in os.environ.get("ACTKIT_GUARD_WATCH", "").split(",") if p)
        self.prefixes = WATCHED_MODULES + extra
        for name in EAGER_IMPORTS + extra:
            try:
                __import__(name)
            except Exception:  # noqa: BLE001 - a missing optional package is not a problem
                pass
        self.modules: dict[str, tuple[types.ModuleType, dict]] = {}
        self.sys_modules: dict[str, types.ModuleType] = {}
        self._snapshot_new_modules()
        self.objects = self._runtime_objects()
        self.classes: dict[type, dict] = {}
        self.instances: dict[int, tuple[object, dict]] = {}
        for obj in self.objects.values():
            self._snapshot_object(obj)
        self.lists = {name: list(lst) for name, lst in self._lists().items()}
        self.events = {event: list(cbs) for event, cbs in shell.events.callbacks.items()}
        self.hooks = self._sys_hooks()
        self.handlers = {
            name: dict(getattr(self.kernel, name, {}) or {}) for name in ("shell_handlers", "control_handlers")
        }
        self.protected: dict[str, object] = {}
        self.modules_bound: dict[str, types.ModuleType] = {}
        self.last_ns = self._ns_ids()
        self.checks = 0

    def rebaseline(self) -> None:
        """Take the snapshot again (the grader does this once, before the first cell of a kernel).

        IPython finishes setting itself up during the first execution (for example it wraps the
        output streams' ``write``); the state after that, still before any student code, is the
        reference.
        """
        self.modules.clear()
        self.sys_modules.clear()
        self._snapshot_new_modules()
        self.objects = self._runtime_objects()
        self.classes.clear()
        self.instances.clear()
        for obj in self.objects.values():
            self._snapshot_object(obj)
        self.lists = {name: list(lst) for name, lst in self._lists().items()}
        self.events = {event: list(cbs) for event, cbs in self.shell.events.callbacks.items()}
        self.hooks = self._sys_hooks()
        self.handlers = {
            name: dict(getattr(self.kernel, name, {}) or {}) for name in ("shell_handlers", "control_handlers")
        }
        self.last_ns = self._ns_ids()

    # ------------------------------------------------------------------ snapshots
    def _snapshot_new_modules(self) -> None:
        for name, module in list(sys.modules.items()):
            if name in self.modules or not isinstance(module, types.ModuleType):
                continue
            if not _watched(name, self.prefixes):
                continue
            entries = {}
            for key, value in list(vars(module).items()):
                if key.startswith("__") and key not in ("__import__", "__build_class__"):
                    continue
                if name == "builtins" and (key in IPYTHON_BUILTINS or key == "_"):
                    continue
                if callable(value) or isinstance(value, types.ModuleType):
                    entries[key] = (value, _function_state(value))
            self.modules[name] = (module, entries)
            self.sys_modules[name] = module

    def _runtime_objects(self) -> dict[str, object]:
        shell, kernel = self.shell, self.kernel
        objects = {
            "shell": shell, "displayhook": shell.displayhook, "display_pub": shell.display_pub,
            "events": shell.events, "input_transformer_manager": shell.input_transformer_manager,
            "compile": shell.compile, "sys.stdout": sys.stdout, "sys.stderr": sys.stderr,
            "display_formatter": shell.display_formatter,
        }
        if kernel is not None:
            objects["kernel"] = kernel
            if getattr(kernel, "session", None) is not None:
                objects["session"] = kernel.session
        try:
            from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

            objects["ExecutionResult"] = ExecutionResult
            objects["ExecutionInfo"] = ExecutionInfo
        except ImportError:  # pragma: no cover - IPython always has them
            pass
        return objects

    @property
    def attributes(self) -> list[tuple[str, object, str]]:
        """(label in ``objects``, holder, attribute) of the shell's parts that must stay the same objects."""
        shell = self.shell
        return [(name, shell, name) for name in ("displayhook", "display_pub", "events", "input_transformer_manager",
                                                  "compile", "display_formatter")]

    def _snapshot_object(self, obj) -> None:
        cls = obj if isinstance(obj, type) else type(obj)
        for klass in cls.__mro__:
            if klass is object or klass in self.classes or not hasattr(klass, "__dict__"):
                continue
            if klass.__flags__ & (1 << 9) == 0:  # Py_TPFLAGS_HEAPTYPE: only Python classes can be patched
                continue
            self.classes[klass] = {k: (v, _function_state(v)) for k, v in vars(klass).items() if self._patchable(v)}
        if not isinstance(obj, type) and hasattr(obj, "__dict__"):
            self.instances[id(obj)] = (obj, {k: v for k, v in vars(obj).items() if self._shadows(obj, k)})

    @staticmethod
    def _patchable(value) -> bool:
        return callable(value) or isinstance(value, (staticmethod, classmethod, property))

    @staticmethod
    def _shadows(obj, key: str) -> bool:
        return callable(getattr(type(obj), key, None)) and not key.startswith("__")

    def _lists(self) -> dict[str, list]:
        shell = self.shell
        itm = shell.input_transformer_manager
        lists = {
            "input_transformers_cleanup": shell.input_transformers_cleanup,
            "input_transformers_post": shell.input_transformers_post,
            "ast_transformers": shell.ast_transformers,
            "cleanup_transforms": getattr(itm, "cleanup_transforms", []),
            "line_transforms": getattr(itm, "line_transforms", []),
            "token_transformers": getattr(itm, "token_transformers", []),
            "sys.meta_path": sys.meta_path,
            "sys.path_hooks": sys.path_hooks,
        }
        import gc

        lists["gc.callbacks"] = gc.callbacks
        return lists

    def _sys_hooks(self) -> dict[str, object]:
        return {
            "sys.excepthook": sys.excepthook, "sys.displayhook": sys.displayhook,
            "sys.stdout": sys.stdout, "sys.stderr": sys.stderr,
            "sys.__stdout__": sys.__stdout__, "sys.__stderr__": sys.__stderr__,
            "threading.excepthook": threading.excepthook,
        }

    def _ns_ids(self) -> dict[str, int]:
        return {k: id(v) for k, v in self.shell.user_ns.items() if not k.startswith("_") and k not in NS_IGNORE}

    # ------------------------------------------------------------------ trust
    def _installed_file(self, path: str | None) -> bool:
        if not path:
            return False
        real = os.path.realpath(path)
        if real == self.cwd or real.startswith(self.cwd + os.sep):
            return False
        return any(real.startswith(root + os.sep) for root in self.trusted_roots)

    def _trusted(self, value) -> bool:
        """Whether a callback, transformer or hook comes from installed code (not from a cell)."""
        if isinstance(value, functools.partial):
            return False
        func = getattr(value, "__func__", value)
        code = getattr(func, "__code__", None)
        if code is not None:
            return self._installed_file(code.co_filename)
        if isinstance(value, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            return False
        module = sys.modules.get(getattr(type(value), "__module__", "") or "")
        return self._installed_file(getattr(module, "__file__", None))

    def _genuine_module(self, module) -> bool:
        if not isinstance(module, types.ModuleType) or sys.modules.get(module.__name__) is not module:
            return False
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None) if spec is not None else None
        if origin in ("built-in", "frozen"):
            return True
        return self._installed_file(origin or getattr(module, "__file__", None))

    # ------------------------------------------------------------------ check
    def check(self, nonce: str = "", protect: bool = False, baseline: bool = False) -> str:
        """Verify the snapshot, restore everything changed, and report (a JSON string)."""
        tracer, profiler = sys.gettrace(), sys.getprofile()
        sys.settrace(None)
        sys.setprofile(None)
        self.checks += 1
        if baseline and self.checks == 1:
            self.rebaseline()
        problems: list[str] = []
        try:
            self._check_tracing(tracer, profiler, problems)
            self._check_modules(problems)
            self._check_classes(problems)
            self._check_lists(problems)
            self._check_hooks(problems)
            self._check_namespace(problems, protect)
            self._snapshot_new_modules()
        except Exception as exc:  # noqa: BLE001 - a broken check is itself a finding
            problems.append(f"the integrity check failed: {type(exc).__name__}: {exc}")
        return json.dumps({"nonce": nonce, "check": self.checks, "problems": problems})

    def _check_tracing(self, tracer, profiler, problems) -> None:
        if tracer is not None:
            problems.append(f"sys.settrace was set to {_describe(tracer)} (removed)")
        if profiler is not None:
            problems.append(f"sys.setprofile was set to {_describe(profiler)} (removed)")
        for name in ("gettrace", "getprofile"):
            getter = getattr(threading, name, None)
            if getter is not None and getter() is not None:
                problems.append(f"threading.{name[3:]} was set for new threads (removed)")
                getattr(threading, "set" + name[3:])(None)

    def _check_modules(self, problems) -> None:
        for name, (module, entries) in self.modules.items():
            current = sys.modules.get(name)
            if current is not module and name in self.sys_modules:
                problems.append(f"sys.modules[{name!r}] was replaced (restored)")
                sys.modules[name] = module
            namespace = vars(module)
            for key, (value, state) in entries.items():
                now = namespace.get(key, _MISSING)
                label = f"{name}.{key}" if name != "builtins" else f"builtins.{key}"
                if now is not value:
                    problems.append(f"{label} was {'deleted' if now is _MISSING else 'replaced'} (restored)")
                    namespace[key] = value
                elif state is not None and _function_state(value) != state:
                    problems.append(f"the code of {label} was changed (restored)")
                    value.__code__, value.__defaults__, value.__kwdefaults__ = state

    def _check_classes(self, problems) -> None:
        for klass, entries in self.classes.items():
            namespace = vars(klass)
            for key, value in list(namespace.items()):
                if key not in entries and self._patchable(value) and not key.startswith("__"):
                    problems.append(f"{klass.__qualname__}.{key} was added (removed)")
                    try:
                        delattr(klass, key)
                    except (AttributeError, TypeError):
                        pass
            for key, (value, state) in entries.items():
                now = namespace.get(key, _MISSING)
                if now is not value:
                    problems.append(f"{klass.__qualname__}.{key} was replaced (restored)")
                    setattr(klass, key, value)
                elif state is not None and _function_state(value) != state:
                    problems.append(f"the code of {klass.__qualname__}.{key} was changed (restored)")
                    value.__code__, value.__defaults__, value.__kwdefaults__ = state
        for obj, entries in self.instances.values():
            label = type(obj).__name__
            attrs = vars(obj)
            for key in [k for k in list(attrs) if self._shadows(obj, k)]:
                if key not in entries:
                    problems.append(f"{label}.{key} was overridden on the instance (removed)")
                    del attrs[key]
                elif attrs[key] is not entries[key]:
                    problems.append(f"{label}.{key} was overridden on the instance (restored)")
                    attrs[key] = entries[key]
            for key, value in entries.items():
                if key not in attrs:
                    attrs[key] = value

    def _restore_list(self, label: str, current: list, original: list, problems) -> None:
        """Keep ``original`` (in its order) plus additions by installed code; report the rest."""
        added = [item for item in current if not any(item is o for o in original)]
        foreign = [item for item in added if not self._trusted(item)]
        missing = [o for o in original if not any(o is item for item in current)]
        for item in foreign:
            problems.append(f"{_describe(item)} was added to {label} (removed)")
        for item in missing:
            problems.append(f"{_describe(item)} was removed from {label} (restored)")
        if foreign or missing:
            current[:] = list(original) + [item for item in added if not any(item is f for f in foreign)]

    def _check_lists(self, problems) -> None:
        for name, holder, attr in self.attributes:
            if getattr(holder, attr, None) is not self.objects[name]:
                problems.append(f"{name} was replaced (restored)")
                setattr(holder, attr, self.objects[name])
        for name, current in self._lists().items():
            self._restore_list(name, current, self.lists[name], problems)
        callbacks = self.shell.events.callbacks
        for event in set(callbacks) | set(self.events):
            self._restore_list(f"the IPython event {event}", callbacks.setdefault(event, []),
                               self.events.get(event, []), problems)
        for name, original in self.handlers.items():
            current = getattr(self.kernel, name, None)
            if current is None:
                continue
            for key in set(current) | set(original):
                now, was = current.get(key), original.get(key)
                if was is None:
                    problems.append(f"kernel.{name}[{key!r}] was added (removed)")
                    del current[key]
                elif now is None or getattr(now, "__func__", now) is not getattr(was, "__func__", was):
                    problems.append(f"kernel.{name}[{key!r}] was replaced (restored)")
                    current[key] = was

    def _check_hooks(self, problems) -> None:
        for name, value in self.hooks.items():
            owner, attr = name.split(".", 1)
            holder = sys if owner == "sys" else threading
            if getattr(holder, attr, None) is not value:
                problems.append(f"{name} was replaced (restored)")
                setattr(holder, attr, value)

    def _check_namespace(self, problems, protect: bool) -> None:
        ns = self.shell.user_ns
        current = self._ns_ids()
        changed = {k for k, i in current.items() if self.last_ns.get(k) != i}
        if protect:  # the cell that just ran is the instructor's: what it bound is now protected
            for key in changed:
                self.protected[key] = ns[key]
        for key, value in self.protected.items():
            if ns.get(key, _MISSING) is not value:
                problems.append(f"{key!r}, set by the instructor's read-only cell, was "
                                f"{'deleted' if key not in ns else 'rebound'} (restored)")
                ns[key] = value
        for key, value in list(ns.items()):
            if key.startswith("_") or key in NS_IGNORE:
                continue
            if isinstance(value, types.ModuleType) and self._genuine_module(value):
                self.modules_bound[key] = value
        for key, module in self.modules_bound.items():
            value = ns.get(key, _MISSING)
            if value is module or (value is not _MISSING and self._genuine_module(value)):
                if value is not _MISSING:
                    self.modules_bound[key] = value
                continue
            if value is _MISSING:
                continue
            problems.append(f"{key!r} was bound to the module {module.__name__} and now to "
                            f"{_describe(value)}, not a genuine module (restored)")
            ns[key] = module
        self.last_ns = self._ns_ids()


_MISSING = object()


def load_ipython_extension(ip) -> None:
    """Called by IPython when the kernel starts (``--ext=actkit.guard``), before any cell."""
    global _GUARD
    if _GUARD is not None:
        return
    _GUARD = Guard(ip)
    ip.user_ns[NAME] = _GUARD.check
    ip.user_ns_hidden[NAME] = _GUARD.check
