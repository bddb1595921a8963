"""Bounded memory (issue 24): kernel messages read within bounds, .keras answers checked before they are built,
a memory ceiling per grading process. The same attacks graded end to end: tests/test_integrity.py (bomb_*)."""

from __future__ import annotations

import contextlib
import io
import json
import queue
import subprocess
import sys
import time
import zipfile

import pytest
import zmq
from jupyter_client.session import Session

from actkit.grading import codec, limits
from actkit.grading.execute import _weight


@pytest.fixture
def pair():
    context = zmq.Context()
    limits._bounded_context(context)
    sender, receiver = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    receiver.bind("inproc://bounded")
    sender.connect("inproc://bounded")
    channel = limits.BoundedChannel(receiver, Session(key=b"k"))
    yield sender, channel
    sender.close(linger=0)
    channel.close()
    context.term()


def test_a_message_within_the_bounds_is_read(pair):
    sender, channel = pair
    channel.session.send(sender, "stream", {"name": "stdout", "text": "hello"}, buffers=[b"x" * 1000])
    msg = channel.get_msg(timeout=5)
    assert msg["content"]["text"] == "hello" and bytes(msg["buffers"][0]) == b"x" * 1000


@pytest.mark.parametrize("kind", ["content", "buffers", "parts"])
def test_a_message_over_the_bounds_is_dropped_unparsed(pair, kind):
    sender, channel = pair
    parent = channel.session.msg("comm_msg", {})
    content = b'{"data": [' + b"{}," * 2_000_000 + b"{}]}" if kind == "content" else b"{}"
    buffers = {"content": [], "buffers": [memoryview(b"\0" * 50_000_000)] * 3, "parts": [b""] * 2000}[kind]
    channel.session.send(sender, "display_data", content, parent=parent, buffers=buffers)
    channel.session.send(sender, "stream", {"name": "stdout", "text": "next"})
    with pytest.raises(limits.MessageTooLarge, match="dropped unread") as caught:
        channel.get_msg(timeout=5)
    assert caught.value.parent.get("msg_id") == parent["header"]["msg_id"]
    assert channel.get_msg(timeout=5)["content"]["text"] == "next"  # the channel reads on


def test_a_part_too_large_for_zeromq_is_noticed(monkeypatch):
    """A part over MAX_PART never reaches the reader (ZeroMQ ends the connection first): the channel says so."""
    monkeypatch.setattr(limits, "MAX_PART", 2**20)
    context = limits._bounded_context(zmq.Context())
    kernel = zmq.Context().socket(zmq.PUB)
    port = kernel.bind_to_random_port("tcp://127.0.0.1")
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.SUBSCRIBE, b"")
    socket.connect(f"tcp://127.0.0.1:{port}")
    channel = limits.BoundedChannel(socket, Session(key=b"k"))
    try:
        for _ in range(50):  # until the subscription has reached the publisher
            channel.session.send(kernel, "stream", {"name": "stdout", "text": "hello"})
            with contextlib.suppress(queue.Empty):
                channel.get_msg(timeout=0.1)
                break
        assert not channel.dropped()
        channel.session.send(kernel, "display_data", {"data": {}}, buffers=[bytes(2 * 2**20)])
        deadline = time.monotonic() + 10  # the socket monitor's event, however loaded the machine
        while not channel.dropped() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert channel.dropped()
        channel.session.send(kernel, "stream", {"name": "stdout", "text": "hello"})
        with pytest.raises(queue.Empty):  # for good: the grader restarts such a kernel
            channel.get_msg(timeout=0.5)
    finally:
        channel.close()
        kernel.close(linger=0)
        context.term()


def _keras_file(layers: list[dict], weights: bytes | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps({"module": "keras", "class_name": "Sequential",
                                                    "config": {"name": "s", "layers": layers}}))
        archive.writestr("metadata.json", '{"keras_version": "3.15.1"}')
        if weights is not None:
            archive.writestr("model.weights.h5", weights)
    return out.getvalue()


def _dense(units: int, fan_in: int | None = None) -> dict:
    layer = {"module": "keras.layers", "class_name": "Dense", "config": {"name": f"d{units}", "units": units}}
    if fan_in is not None:
        layer["build_config"] = {"input_shape": [None, fan_in]}
    return layer


@pytest.mark.parametrize(("layers", "message"), [
    ([_dense(20000, 20000)], "a layer of width 20000"),
    ([_dense(4000, 784), _dense(4000)], "about 19,"),  # the second layer's input: the first one's 4000 units
])
def test_a_keras_answer_over_the_bounds_is_refused_before_keras(layers, message):
    with pytest.raises(codec.DecodeError, match=message):
        codec.check_keras_archive(_keras_file(layers))


def test_a_keras_answer_whose_weights_hold_too_much_is_refused():
    h5py = pytest.importorskip("h5py")
    out = io.BytesIO()
    with h5py.File(out, "w") as store:  # 40 million zeros, compressed to a few kB
        store.create_dataset("layers/dense/vars/0", shape=(40_000_000,), dtype="f4", compression="gzip",
                             chunks=(1_000_000,))
    with pytest.raises(codec.DecodeError, match="40,000,000 numbers"):
        codec.check_keras_archive(_keras_file([_dense(10, 10)], out.getvalue()))
    codec.check_keras_archive(_keras_file([_dense(128, 784), _dense(10)]))  # a course-sized model is accepted


def test_a_zip_bomb_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", bytes(codec.MAX_KERAS_BYTES + 1))
    assert len(out.getvalue()) < 2**20
    with pytest.raises(codec.DecodeError, match="unpacks to more than"):
        codec.check_keras_archive(out.getvalue())


def test_output_weight_counts_nested_data():
    assert _weight("x" * 1000, 10**9) == 1000
    assert _weight([{} for _ in range(1000)], 10**9) == 64 * 1001
    assert _weight([[]] * 10**6, 1000) < 2000  # counting stops past the limit


def test_the_memory_ceiling_turns_an_allocation_into_a_memory_error():
    code = ("from actkit.grading.limits import set_memory_ceiling\n"
            "print(set_memory_ceiling('256M'))\n"
            "try:\n    b = bytearray(512 * 2**20)\nexcept MemoryError:\n    print('MemoryError')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    assert out == [str(256 * 2**20), "MemoryError"]


@pytest.mark.parametrize(("value", "size"), [("4G", 4 * 2**30), ("4GB", 4 * 2**30), ("4GiB", 4 * 2**30),
                                             ("512m", 512 * 2**20), ("1.5T", int(1.5 * 2**40)), ("1000", 1000)])
def test_the_ceiling_reads_the_usual_spellings_of_a_size(value, size):
    assert limits._bytes(value) == size


def test_a_ceiling_that_is_no_size_ends_the_run_in_one_line():
    with pytest.raises(SystemExit, match=r"^ACTKIT_GRADER_MEMORY='lots': give a size such as 4G"):
        limits._bytes("lots")
