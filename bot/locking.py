"""One writer per index, across threads and processes: ``flock`` on ``<index>/write.lock``.

An ingest (``ingest.py``, ``Bot.ingest``, a page upload) holds the lock while it changes the
catalog, the vectors and the snapshots. A second one waits, saying who it waits for, and gives
up after a timeout with a message that says what to do. Questions never take this lock: they
read a snapshot (:mod:`bot.snapshot`). The kernel drops the lock when its holder dies, so a
killed ingest never leaves the index locked. With the catalog on PostgreSQL the lock is an
advisory lock there instead (:mod:`bot.catalog_pg`), with the same waiting and messages.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
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


def _describe(pid: str, host: str = "") -> str:
    if not pid:
        return "another ingest is running"
    if host and host != socket.gethostname():
        return f"another ingest is running (pid {pid} on {host})"
    if pid == str(os.getpid()):
        return f"another ingest is running in this process (pid {pid})"
    return f"another ingest is running (pid {pid})"


def wait_for(
    try_take: Callable[[], bool],
    who: Callable[[], tuple[str, str]],
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Take a lock with ``try_take`` (True when taken), retrying every ``POLL_SECONDS`` for up
    to ``timeout`` seconds. ``who`` names the holder as (pid, host), either may be "". Shared by
    the file lock here and the catalog's PostgreSQL advisory lock (:mod:`bot.catalog_pg`), so
    a waiting ingest says the same things whichever holds the index."""
    if try_take():
        return
    pid, host = who()
    message = f"{_describe(pid, host)}; waiting up to {timeout:g} s for it to finish…"
    (on_wait or log.warning)(message)
    deadline = time.monotonic() + timeout
    while not try_take():
        if time.monotonic() >= deadline:
            now_pid, now_host = who()
            if now_pid:
                pid, host = now_pid, now_host
            local = pid and pid != str(os.getpid()) and host in ("", socket.gethostname())
            raise IndexBusyError(
                f"{_describe(pid, host)} and still holds the index after {timeout:g} s; "
                "try again when it has finished"
                + (f" (or stop it: kill {pid})" if local else "")
                + ", or wait longer with ACCORD_LOCK_TIMEOUT=seconds"
            )
        time.sleep(POLL_SECONDS)


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
        wait_for(lambda: _try(fd), lambda: (holder(path), ""), timeout, on_wait)
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
