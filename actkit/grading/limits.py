"""Bounded memory for the grader's processes that read what a student kernel sends.

A kernel is the student's: it can send any message on any of its channels at any time, as large as
it likes (``Session.send`` takes content that is already serialised, so a few MB of its own memory
make a message that expands a hundredfold when parsed). Two bounds, before anything is parsed:

- **ZeroMQ** (``zmq.MAXMSGSIZE``) on every socket of the grader's kernel clients (iopub, shell,
  stdin, control, heartbeat: a default of their own ZeroMQ context): a part larger than
  :data:`MAX_PART` drops the connection before it is allocated;
- **the channels** (:class:`BoundedChannel`, :class:`AsyncBoundedChannel`) read a message part by
  part: the header, parent header and metadata at most :data:`MAX_HEADER` each, the content at most
  :data:`MAX_CONTENT`, the binary buffers :data:`MAX_BUFFERS` together, :data:`MAX_PARTS` parts.
  A larger message is read to its end and dropped part by part (never held whole), and
  :class:`MessageTooLarge` names its size; nothing of it is parsed.

And a ceiling per process (:func:`set_memory_ceiling`, ``RLIMIT_DATA``: private writable memory;
TensorFlow's address-space reservations do not count) for the tester, the Dask workers and the
process that runs nbgrader: a bound that nothing else enforced would become a ``MemoryError`` in
the one notebook that caused it, not a machine out of memory.
"""

from __future__ import annotations

import json
import os
import re
import resource
import time

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel, ZMQSocketChannel
from jupyter_client.session import DELIM
from traitlets import Type

__all__ = ["MAX_CONTENT", "AsyncBoundedClient", "BoundedClient", "MessageTooLarge", "peak_mib",
           "set_memory_ceiling"]

MAX_HEADER = 64 * 2**10  # header, parent header, metadata: each
MAX_CONTENT = 4 * 2**20  # the JSON content (a cell's output is cut at 2 MB anyway; a codec tree is smaller)
MAX_BUFFERS = 128 * 2**20  # the binary buffers of one message together (arrays, .keras files)
MAX_PARTS = 1024
MAX_PART = MAX_BUFFERS  # zmq.MAXMSGSIZE: a larger part drops the connection before it is allocated
CEILING_ENV = "ACTKIT_GRADER_MEMORY"
DEFAULT_CEILING = "4G"


class MessageTooLarge(ValueError):
    """A kernel message over the bounds; ``parent`` is its parent header when that could be read."""

    def __init__(self, size: int, parts: int, parent: dict | None):
        self.size, self.parts, self.parent = size, parts, parent or {}
        what = (f"a message of {size / 1e6:.1f} MB in {parts} part(s)" if parts else
                f"a message with a part over {MAX_PART // 2**20} MB (ZeroMQ ended the connection)")
        super().__init__(f"the kernel sent {what}, over the grader's limits ({MAX_CONTENT // 2**20} MB of JSON, "
                         f"{MAX_BUFFERS // 2**20} MB of data); it was dropped unread")


class _Parts:
    """The parts of one message as they arrive; over the bounds, only their sizes are counted."""

    def __init__(self):
        self.frames, self.size, self.count, self.buffers, self.over = [], 0, 0, 0, False
        self.place = -1  # -1: identities, 0: delimiter, 1: signature, 2-4: header, parent, metadata, 5: content
        self.parent_frame = None

    def add(self, frame) -> None:
        n = len(frame)
        self.size += n
        self.count += 1
        if self.place < 0 and n == len(DELIM) and frame.bytes == DELIM:
            self.place = 0
        elif self.place >= 0:
            self.place += 1
        if self.place >= 6:
            self.buffers += n
        limit = MAX_CONTENT if self.place == 5 else MAX_BUFFERS if self.place >= 6 else MAX_HEADER
        if self.place == 3 and n <= MAX_HEADER:
            self.parent_frame = frame.bytes
        if n > limit or self.buffers > MAX_BUFFERS or self.count > MAX_PARTS:
            self.over = True
        if self.over:
            self.frames = []  # what came so far is let go: the rest is only counted
        else:
            self.frames.append(frame)

    def result(self) -> list:
        if self.over:
            try:
                parent = json.loads(self.parent_frame) if self.parent_frame else None
            except ValueError:
                parent = None
            raise MessageTooLarge(self.size, self.count, parent if isinstance(parent, dict) else None)
        return self.frames


def _message(session, frames: list) -> dict:
    _, parts = session.feed_identities(frames, copy=False)
    return session.deserialize(parts, content=True, copy=False)


class _Watched:
    """Notices what ZeroMQ drops: a part over ``MAX_PART`` ends the connection before the part is allocated,
    for good (ZeroMQ does not reconnect after a protocol error). The socket's monitor reports it as a
    disconnection, as it reports a kernel that died: :meth:`dropped` says when, the caller tells the two apart
    (a kernel still alive sent too much)."""

    def _watch(self) -> None:
        self._since = None
        try:
            self._monitor = self.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            self._monitor.linger = 0
            self._events = zmq.Socket.shadow(self._monitor.underlying)  # read without an event loop
        except (zmq.ZMQError, AttributeError):
            self._monitor = self._events = None

    def dropped(self, after: float = 0.0) -> bool:
        """Whether the connection to the kernel ended at least ``after`` seconds ago."""
        while self._events is not None and self._events.poll(0):
            self._events.recv_multipart()
            if self._since is None:
                self._since = time.monotonic()
        return self._since is not None and time.monotonic() - self._since >= after

    def close(self) -> None:
        if getattr(self, "_monitor", None) is not None:
            try:
                self.socket.disable_monitor()
            except (zmq.ZMQError, AttributeError):
                pass
            self._monitor.close(linger=0)
            self._monitor = self._events = None
        super().close()

    stop = close


class BoundedChannel(_Watched, ZMQSocketChannel):
    """A blocking channel that reads a message part by part, within the bounds, before parsing it."""

    def __init__(self, socket, session, loop=None):
        super().__init__(socket, session, loop)
        self._watch()

    def _recv(self, **kwargs) -> dict:
        parts = _Parts()
        while True:
            frame = self.socket.recv(copy=False)
            parts.add(frame)
            if not frame.more:
                return _message(self.session, parts.result())


class AsyncBoundedChannel(_Watched, AsyncZMQSocketChannel):
    """The same for nbclient's asynchronous client."""

    def __init__(self, socket, session, loop=None):
        super().__init__(socket, session, loop)
        self._watch()

    async def _recv(self, **kwargs) -> dict:
        parts = _Parts()
        while True:
            frame = await self.socket.recv(copy=False)
            parts.add(frame)
            if not frame.more:
                return _message(self.session, parts.result())


def _bounded_context(context: zmq.Context) -> zmq.Context:
    context.setsockopt(zmq.MAXMSGSIZE, MAX_PART)  # a default for every socket made from it
    return context


class BoundedClient(BlockingKernelClient):
    """A blocking kernel client (the tester's) whose every socket and channel is bounded."""

    shell_channel_class = Type(BoundedChannel)
    iopub_channel_class = Type(BoundedChannel)
    stdin_channel_class = Type(BoundedChannel)
    control_channel_class = Type(BoundedChannel)

    def _context_default(self) -> zmq.Context:
        return _bounded_context(super()._context_default())


class AsyncBoundedClient(AsyncKernelClient):
    """nbclient's asynchronous client with every socket and channel bounded."""

    shell_channel_class = Type(AsyncBoundedChannel)
    iopub_channel_class = Type(AsyncBoundedChannel)
    stdin_channel_class = Type(AsyncBoundedChannel)
    control_channel_class = Type(AsyncBoundedChannel)

    def _context_default(self) -> zmq.Context:
        return _bounded_context(super()._context_default())


def _bytes(text: str) -> int:
    """``4G``, ``4GB``, ``4GiB``, ``512m``, ``1.5T`` or a number of bytes; anything else ends the run in one line."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not found:
        raise SystemExit(f"{CEILING_ENV}={text!r}: give a size such as 4G, 4GiB or 512M (0: no ceiling)")
    return int(float(found[1]) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[found[2]])


def set_memory_ceiling(value: str | None = None) -> int | None:
    """Lower this process's soft ``RLIMIT_DATA`` to ``value`` (``$ACTKIT_GRADER_MEMORY``, 4G by default;
    ``0``: none). Never raises it; children inherit it (the sandbox sets the kernel's own limits).
    Returns the ceiling in bytes, or None."""
    value = value if value is not None else os.environ.get(CEILING_ENV, DEFAULT_CEILING)
    limit = _bytes(value) if value and value.strip() != "0" else 0
    if not limit:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    for current in (soft, hard):
        if current != resource.RLIM_INFINITY:
            limit = min(limit, current)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    return limit


def peak_mib() -> float:
    """This process's peak resident memory so far (MiB): ``VmHWM``, which, unlike ``ru_maxrss``, does not
    count what the process that forked this one had before an ``exec``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
