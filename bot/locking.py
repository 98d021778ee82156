"""One writer per index, across threads and processes: ``flock`` on ``<index>/write.lock``.

An ingest (``ingest.py``, ``Bot.ingest``, a page upload) holds the lock while it changes the
catalog, the vectors and the snapshots. A second one waits, saying who it waits for, and gives
up after a timeout with a message that says what to do. Questions never take this lock: they
read a snapshot (:mod:`bot.snapshot`). The kernel drops the lock when its holder dies, so a
killed ingest never leaves the index locked.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.errors import IndexBusyError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1


def holder(path: Path) -> str:
    """The pid written in the lock file by whoever holds it ("" when unknown)."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _describe(pid: str) -> str:
    if not pid:
        return "another ingest is running"
    if pid == str(os.getpid()):
        return f"another ingest is running in this process (pid {pid})"
    return f"another ingest is running (pid {pid})"


@contextmanager
def write_lock(
    path: Path, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the write lock at ``path``, waiting up to ``timeout`` seconds for it.

    ``on_wait`` is told once, in words, when the lock is taken by someone else (default: a
    warning in the log). Raises :class:`IndexBusyError` naming the holder on timeout.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try(fd):
            pid = holder(path)
            message = f"{_describe(pid)}; waiting up to {timeout:g} s for it to finish…"
            (on_wait or log.warning)(message)
            deadline = time.monotonic() + timeout
            while not _try(fd):
                if time.monotonic() >= deadline:
                    pid = holder(path) or pid
                    raise IndexBusyError(
                        f"{_describe(pid)} and still holds the index after {timeout:g} s; "
                        "try again when it has finished"
                        + (f" (or stop it: kill {pid})" if pid and pid != str(os.getpid()) else "")
                        + ", or wait longer with ACCORD_LOCK_TIMEOUT=seconds"
                    )
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True
