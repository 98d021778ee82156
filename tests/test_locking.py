"""One writer per index (bot/locking.py): a second one waits, says who for, or gives up."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from bot.errors import AccordError, IndexBusyError
from bot.locking import holder, write_lock

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, f"{os.getpid()}\\n".encode())
print("held", flush=True)
time.sleep(60)
"""


def test_the_holder_is_named_and_the_lock_released(tmp_path):
    path = tmp_path / "index" / "write.lock"
    with write_lock(path, timeout=0):
        assert holder(path) == str(os.getpid())
    assert holder(path) == ""
    with write_lock(path, timeout=0):  # free again
        pass


def test_a_second_writer_waits_for_the_first(tmp_path):
    path = tmp_path / "write.lock"
    order, said = [], []
    released = threading.Event()

    def first():
        with write_lock(path, timeout=0):
            order.append("first in")
            released.wait(5)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    while not order:
        time.sleep(0.01)
    threading.Timer(0.3, released.set).start()
    with write_lock(path, timeout=10, on_wait=said.append):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]
    assert said == [
        f"another ingest is running in this process (pid {os.getpid()}); "
        "waiting up to 10 s for it to finish…"
    ]


def test_a_writer_gives_up_naming_the_other_process(tmp_path):
    path = tmp_path / "write.lock"
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "held"
        said = []
        with pytest.raises(IndexBusyError) as caught:
            with write_lock(path, timeout=0.3, on_wait=said.append):
                pass
        message = str(caught.value)
        assert said == [
            f"another ingest is running (pid {other.pid}); waiting up to 0.3 s for it to finish…"
        ]
        assert f"pid {other.pid}" in message and f"kill {other.pid}" in message
        assert "ACCORD_LOCK_TIMEOUT" in message and isinstance(caught.value, AccordError)
    finally:
        other.kill()
        other.wait()
    with write_lock(path, timeout=0):  # the kernel released it with the process
        pass
