"""The grading sandbox: student notebooks run in a kernel started under bubblewrap.

With the sandbox on (the default; ``ACTKIT_SANDBOX=0`` turns it off, see ``actkit/SECURITY.md``),
the student kernel is started by the kernel spec ``course-sandbox``, whose launcher
(``python -m actkit.grading.sandbox launch``) runs::

    bwrap  (new pid/net/ipc/uts namespaces, a read-only system, the kernel's own folder writable)
      prlimit  (memory, address space, processes, CPU time, file size, open files, no core dumps)
        [root only] setpriv  (a uid of its own, no groups, no capabilities, no new privileges)
          python -m ipykernel_launcher ...

- **Who can run it:** as root, each kernel gets a uid of its own (``setpriv``). As any other user,
  bubblewrap runs unprivileged in a new user namespace (``--unshare-user``): same uid, no
  capabilities, no new privileges. :func:`require` tries both within a second and names the
  cause and the fix in one line when neither works.
- **Filesystem:** an empty root with read-only binds of ``/usr``, ``/etc``, the Python installation,
  the virtual environment, the ``actkit`` package and the course's data folder (``COURSE_DATA_DIR``),
  wherever they live (``/tmp`` included); a private ``/tmp``; the throwaway working folder of this one
  submission, read-write. ``source/``, the gradebook, ``submitted/``, ``autograded/`` and other
  students' folders do not exist inside.
- **Network:** none (a new network namespace has only a loopback of its own). The kernel talks to
  the grader and the tester over Unix sockets (ZMQ ``ipc`` transport) in a private folder.
- **Resources:** ``RLIMIT_DATA`` (heap and private memory, the limit TensorFlow tolerates, unlike
  ``RLIMIT_AS``), a generous ``RLIMIT_AS`` backstop, ``RLIMIT_NPROC``, ``RLIMIT_CPU``,
  ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``; size-limited ``/tmp`` and ``/dev/shm``. Everything left in the
  pid namespace dies with the kernel.
- **Environment:** cleared; only a short allow-list of variables is passed on (no tokens or keys
  of the instructor's shell reach student code).

Every limit can be changed by an environment variable of the grading process (see ``LIMITS``).

Commands::

    python -m actkit.grading.sandbox install   # write the kernel spec into <venv>/share/jupyter/kernels
    python -m actkit.grading.sandbox check     # start a sandbox once and print what it sees

This module imports only the standard library at start, so the launcher is quick; the kernel
manager class (:class:`SandboxKernelManager`) is created on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = [
    "ENV_SWITCH",
    "KERNEL_NAME",
    "LIMITS",
    "SandboxError",
    "enabled",
    "install",
    "kernel_spec",
    "require",
    "sandbox_command",
]

# The one switch: every submission is graded in the sandbox unless ACTKIT_SANDBOX=0 (only for a
# machine that cannot run it, e.g. without root: grading is then NOT isolated).
DEFAULT = "1"
ENV_SWITCH = "ACTKIT_SANDBOX"
OPT_OUT = f"set {ENV_SWITCH}=0 to grade without isolation"
KERNEL_NAME = "course-sandbox"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the actkit package (bound read-only)
PRIVATE_PREFIX = "actkit-kernel-"

# name -> (environment variable, default, prlimit option). Sizes accept K/M/G suffixes.
LIMITS = {
    "memory": ("ACTKIT_SANDBOX_MEMORY", "4G", "--data"),  # private writable memory (heap, arrays)
    "address_space": ("ACTKIT_SANDBOX_ADDRESS_SPACE", "32G", "--as"),  # backstop, incl. shared maps
    "processes": ("ACTKIT_SANDBOX_NPROC", "512", "--nproc"),  # processes + threads of the kernel's uid
    "cpu_seconds": ("ACTKIT_SANDBOX_CPU", "3600", "--cpu"),  # CPU time of one process
    "file_size": ("ACTKIT_SANDBOX_FSIZE", "1G", "--fsize"),  # largest file it may write
    "open_files": ("ACTKIT_SANDBOX_NOFILE", "4096", "--nofile"),
}
TMP_SIZE = ("ACTKIT_SANDBOX_TMP", "512M")  # size of the private /tmp and /dev/shm
UID_BASE = ("ACTKIT_SANDBOX_UID_BASE", "200000")  # kernel uid = base + launcher pid (unique while alive)

# Variables passed into the sandbox (all others are dropped); ACTKIT_SANDBOX_ENV adds more names.
ENV_ALLOW = (
    "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
    "COURSE_DATA_DIR", "MPLBACKEND", "NBGRADER_EXECUTION", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "CUDA_VISIBLE_DEVICES", "KERAS_BACKEND",
)


def enabled() -> bool:
    """Whether autograding runs student code in the sandbox (``$ACTKIT_SANDBOX``, default ``DEFAULT``)."""
    return os.environ.get(ENV_SWITCH, DEFAULT).strip().lower() in ("1", "true", "yes", "on")


class SandboxError(RuntimeError):
    """The sandbox cannot be started on this machine: ``cause`` and ``fix``, one line together."""

    def __init__(self, cause: str, fix: str | None = None):
        """``fix`` None: a plain message; otherwise the fix (may be empty) and the explicit opt-out follow."""
        self.cause, self.fix = cause, fix
        super().__init__(cause if fix is None else f"{cause}; {fix + ', or ' if fix else ''}{OPT_OUT}")


# ----------------------------------------------------------------------------------- kernel spec

def kernel_spec(python: str | None = None) -> dict:
    """The kernel spec of the sandboxed kernel (interrupts are messages: signals would hit bwrap)."""
    return {
        # the launcher by its path: it needs only the standard library, not an installed actkit
        "argv": [python or sys.executable, str(Path(__file__).resolve()), "launch", "-f", "{connection_file}"],
        "display_name": "Python 3 (course grading sandbox)",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False, "actkit": "grading sandbox, see actkit/SECURITY.md"},
    }


def kernel_dir(prefix: str | Path | None = None) -> Path:
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def install(prefix: str | Path | None = None, quiet: bool = False) -> Path:
    """Write (or refresh) the ``course-sandbox`` kernel spec into ``<prefix>/share/jupyter/kernels``."""
    folder = kernel_dir(prefix)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(kernel_spec(), indent=1) + "\n"
    target = folder / "kernel.json"
    if not target.is_file() or target.read_text() != text:
        tmp = folder / ".kernel.json.tmp"
        tmp.write_text(text)
        tmp.replace(target)
    if not quiet:
        print(f"kernel spec {KERNEL_NAME!r} installed in {folder}")
    return folder


def ensure_installed() -> None:
    folder = kernel_dir()
    try:
        if json.loads((folder / "kernel.json").read_text()) == kernel_spec():
            return
    except (OSError, ValueError):
        pass
    install(quiet=True)


# ------------------------------------------------------------------------------ bwrap command line

def _size(text: str) -> int:
    text = str(text).strip().upper()
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def limits_from_env(env: dict | None = None) -> dict[str, int]:
    env = os.environ if env is None else env
    out = {}
    for name, (var, default, _) in LIMITS.items():
        out[name] = _size(env.get(var, default))
    return out


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        package = "bubblewrap" if name == "bwrap" else "util-linux"
        raise SandboxError(f"the grading sandbox needs `{name}`", f"install it: sudo apt-get install {package}")
    return path


def privileged() -> bool:
    """Root: each kernel gets a uid of its own. Otherwise: an unprivileged user namespace."""
    return os.geteuid() == 0


_PROBED: dict[bool, str] = {}


def require() -> None:
    """Raise :class:`SandboxError` (one line: cause and fix) if this machine cannot run the sandbox.

    Checks the tools and starts one trivial sandbox (well under a second), before any kernel.
    """
    for tool in ("bwrap", "prlimit") + (("setpriv",) if privileged() else ()):
        _tool(tool)
    mode = privileged()
    if mode not in _PROBED:
        args = [_tool("bwrap"), *(() if mode else ("--unshare-user",)), "--unshare-pid", "--unshare-net",
                "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--die-with-parent",
                "--", "/bin/sh", "-c", "exit 0"]
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=20)
            _PROBED[mode] = "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["failed"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            _PROBED[mode] = str(exc)
    if _PROBED[mode]:
        how = ("as root" if mode else "unprivileged (a user namespace)")
        fix = ("" if mode else "run as root, or allow unprivileged user namespaces (Ubuntu 24.04: sudo sysctl "
               "kernel.apparmor_restrict_unprivileged_userns=0; elsewhere kernel.unprivileged_userns_clone=1)")
        raise SandboxError(f"bubblewrap cannot start a sandbox {how} here ({_PROBED[mode][:200]})", fix)


def _python_roots() -> list[Path]:
    """Folders the kernel's Python needs: the installation, the virtual environment, the folders on
    ``sys.path`` (site-packages, ``.pth`` additions) and actkit, never the course folder itself."""
    roots = []
    for p in (sys.base_prefix, sys.prefix, Path(sys.executable).resolve().parent.parent):
        roots.append(Path(os.path.realpath(p)))
    venv = Path(sys.prefix)
    roots.append(venv)  # may be a symlink-free path that differs from its realpath
    hidden = {PACKAGE_DIR.parent.resolve(), Path.cwd().resolve()}  # the course, the grader's working folder
    for entry in filter(None, sys.path):
        path = Path(entry).resolve()
        if path.is_dir() and not any(path == h or path in h.parents for h in hidden):
            roots.append(path)
    roots.append(PACKAGE_DIR)
    return roots


def sandbox_command(connection_file: str, kernel_args: list[str], *, cwd: str, uid: int | None,
                    env: dict | None = None, python: str | None = None,
                    program: list[str] | None = None) -> list[str]:
    """The full command line: bwrap ... prlimit ... setpriv ... python -m ipykernel_launcher.

    ``uid`` is the kernel's own uid (root only); ``None`` runs it in an unprivileged user namespace.
    ``program`` replaces the arguments given to Python (default: the IPython kernel).
    """
    env = dict(os.environ if env is None else env)
    limits = limits_from_env(env)
    tmp_size = _size(env.get(TMP_SIZE[0], TMP_SIZE[1]))
    private = os.path.dirname(os.path.abspath(connection_file))
    cwd = os.path.abspath(cwd)
    python = python or sys.executable

    args = [_tool("bwrap"), *(() if uid is not None else ("--unshare-user",)),
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "grading-sandbox", "--die-with-parent", "--new-session"]
    made: set[str] = {"/"}
    mounted: list[str] = []  # host folders bound so far (a tmpfs does not cover what is bound on it)

    def covered(path: str) -> bool:
        return path in made or any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounted)

    def parents(dest: str) -> None:
        parts = Path(dest).parts
        for i in range(2, len(parts)):
            ancestor = str(Path(*parts[:i]))
            if not covered(ancestor):
                args.extend(["--perms", "0755", "--dir", ancestor])
                made.add(ancestor)

    def bind(src: str, dest: str | None = None, mode: str = "--ro-bind") -> None:
        dest = dest or src
        if not os.path.exists(src) or (mode == "--ro-bind" and covered(dest)):
            return
        parents(dest)
        args.extend([mode, src, dest])
        mounted.append(dest)

    # the system, read-only; merged-/usr hosts get their /bin, /lib... symlinks recreated
    bind("/usr")
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args.extend(["--symlink", os.readlink(top), top])
            made.add(top)
        elif os.path.isdir(top):
            bind(top)
    bind("/etc")
    args.extend(["--proc", "/proc", "--dev", "/dev"])
    made.update({"/proc", "/dev"})
    for shm in ("/tmp", "/dev/shm"):
        args.extend(["--perms", "1777", "--size", str(tmp_size), "--tmpfs", shm])
        made.add(shm)
    bind("/sys/devices/system/cpu")  # CPU count for NumPy/TensorFlow thread pools
    for root in sorted({str(p) for p in _python_roots()}, key=len):
        bind(root)
    for var in ("COURSE_DATA_DIR",):
        if env.get(var) and os.path.isdir(env[var]):
            bind(os.path.realpath(env[var]), os.path.abspath(env[var]))
    for extra in filter(None, env.get("ACTKIT_SANDBOX_RO", "").split(os.pathsep)):
        bind(os.path.realpath(extra), os.path.abspath(extra))
    bind(private, private, "--bind")  # connection file, ipc sockets, matplotlib cache
    bind(cwd, cwd, "--bind")  # the submission's own working folder
    args.extend(["--chdir", cwd, "--clearenv"])
    inside = {
        "PATH": os.pathsep.join([str(Path(python).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": "/tmp", "TMPDIR": "/tmp", "USER": "student", "LOGNAME": "student",
        "LANG": "C.UTF-8", "MPLCONFIGDIR": os.path.join(private, "matplotlib"),
        "MALLOC_ARENA_MAX": "2", "PYTHONNOUSERSITE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "ACTKIT_IN_SANDBOX": "1",
        "PYTHONPATH": str(PACKAGE_DIR.parent),  # only actkit is bound there: the grader's own copy of it
        "JPY_PARENT_PID": "1",  # a kernel with a parent: no console banner, no parent poller (pid 1 is bwrap's)
    }
    allowed = list(ENV_ALLOW) + [v for v in env.get("ACTKIT_SANDBOX_ENV", "").split(",") if v]
    for var in allowed:
        if var in env:
            inside[var] = env[var]
    for var, value in sorted(inside.items()):
        args.extend(["--setenv", var, value])

    if uid is None:  # RLIMIT_NPROC counts every process of the uid: leave room for the instructor's own
        limits["processes"] += _processes_of(os.getuid())
    rlimits = [f"{option}={limits[name]}" for name, (_, _, option) in LIMITS.items()] + ["--core=0"]
    args.extend(["--", _tool("prlimit"), *rlimits, "--"])
    if uid is not None:
        args.extend([_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                     "--inh-caps=-all", "--bounding-set=-all", "--"])
    args.extend([python, *(program or ["-m", "ipykernel_launcher", "-f", connection_file, *kernel_args])])
    return args


def _processes_of(uid: int) -> int:
    """Threads of all processes of ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields.get("Threads", "1"))
        except (OSError, KeyError, ValueError):
            continue
    return count


def _copy_matplotlib_cache(private: str, uid: int | None) -> None:
    """Give the kernel a copy of the grader's font cache: a rebuild would warn on stderr."""
    target = Path(private) / "matplotlib"
    target.mkdir(exist_ok=True)
    sources = [os.environ.get("MPLCONFIGDIR"), os.path.join(os.path.expanduser("~"), ".cache", "matplotlib")]
    for folder in filter(None, sources):
        for font_cache in Path(folder).glob("fontlist-*.json"):
            shutil.copyfile(font_cache, target / font_cache.name)
    if uid is not None:
        for path in [target, *target.iterdir()]:
            os.chown(path, uid, uid)


def launch(argv: list[str]) -> None:
    """Entry point of the kernel spec: prepare the private folder and exec bwrap (never returns)."""
    parser = argparse.ArgumentParser(prog="actkit.grading.sandbox launch")
    parser.add_argument("-f", dest="connection_file", required=True)
    args, kernel_args = parser.parse_known_args(argv)
    connection_file = os.path.abspath(args.connection_file)
    private = os.path.dirname(connection_file)
    info = json.loads(Path(connection_file).read_text())
    if info.get("transport") != "ipc" or not Path(private).name.startswith(PRIVATE_PREFIX):
        raise SandboxError("the course-sandbox kernel has no network: start it with "
                           "actkit.grading.sandbox.SandboxKernelManager (ipc transport, private folder)")
    uid = int(os.environ.get(UID_BASE[0], UID_BASE[1])) + os.getpid() if privileged() else None
    cwd = os.getcwd()
    _copy_matplotlib_cache(private, uid)
    if uid is not None:
        for path in (private, connection_file, cwd):
            os.chown(path, uid, uid)
    command = sandbox_command(connection_file, kernel_args, cwd=cwd, uid=uid)
    os.execv(command[0], command)


# --------------------------------------------------------------------------------- kernel manager

def _kernel_manager_class():
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Unicode

    class SandboxKernelManager(AsyncKernelManager):
        """Starts ``course-sandbox`` kernels: ipc transport, sockets in a private folder per kernel."""

        kernel_name = Unicode(KERNEL_NAME)

        async def _async_pre_start_kernel(self, **kw):
            import tempfile
            import uuid

            ensure_installed()
            self.transport = "ipc"
            runtime = os.environ.get("ACTKIT_SANDBOX_RUNTIME") or tempfile.gettempdir()
            self._private = tempfile.mkdtemp(prefix=PRIVATE_PREFIX, dir=runtime)
            self.connection_file = os.path.join(self._private, f"kernel-{uuid.uuid4().hex[:8]}.json")
            self.ip = os.path.join(self._private, "ipc")
            return await super()._async_pre_start_kernel(**kw)

        async def _async_start_kernel(self, **kw):
            try:
                await super()._async_start_kernel(**kw)
            except BaseException:  # a kernel that cannot start leaves nothing behind
                self._remove_private()
                raise

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            try:
                await super()._async_cleanup_resources(restart=restart)
            finally:
                if not restart:  # sockets, connection file, whatever the kernel left there
                    self._remove_private()

        def _remove_private(self) -> None:
            private = getattr(self, "_private", None)
            if private:
                shutil.rmtree(private, ignore_errors=True)

        start_kernel = _async_start_kernel
        cleanup_resources = _async_cleanup_resources

    SandboxKernelManager.__module__ = __name__
    return SandboxKernelManager


def __getattr__(name: str):
    if name == "SandboxKernelManager":
        cls = _kernel_manager_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


# ----------------------------------------------------------------------------------------- check

def check() -> str:
    """Start one sandbox with a small probe; return what it saw (raise SandboxError if it fails)."""
    import tempfile

    require()
    with tempfile.TemporaryDirectory(prefix=PRIVATE_PREFIX) as private, \
            tempfile.TemporaryDirectory(prefix="actkit-check-") as cwd:
        uid = int(os.environ.get(UID_BASE[0], UID_BASE[1])) + os.getpid() if privileged() else None
        for path in (private, cwd):
            if uid is not None:
                os.chown(path, uid, uid)
        probe = ("import os, socket, sys\n"
                 "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); net = 'OPEN'\n"
                 "except OSError as e:\n    net = 'blocked (' + type(e).__name__ + ')'\n"
                 "print(f'uid {os.getuid()}, pid {os.getpid()}, network {net}, '\n"
                 "      f'root has {sorted(os.listdir(\"/\"))}')\n")
        command = sandbox_command(os.path.join(private, "none.json"), [], cwd=cwd, uid=uid, program=["-c", probe])
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise SandboxError(f"the sandbox did not start ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        return proc.stdout.strip()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "launch":
        try:
            launch(argv[1:])
        except SandboxError as exc:
            print(f"actkit.grading.sandbox: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        return
    parser = argparse.ArgumentParser(prog="python -m actkit.grading.sandbox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="install the course-sandbox kernel spec")
    p_install.add_argument("--prefix", default=None, help="environment prefix (default: this Python's)")
    sub.add_parser("check", help="start a sandbox once and report what it sees")
    args = parser.parse_args(argv)
    if args.command == "install":
        install(args.prefix)
    else:
        try:
            print(check())
        except SandboxError as exc:
            raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
