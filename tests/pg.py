"""A real PostgreSQL for the tests (and benchmarks): ``initdb`` and ``pg_ctl`` from Debian's
``postgresql`` package in a temporary folder, on a free loopback port, its unix socket in the
same folder. Nothing is installed or configured system-wide.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user (made by
the Debian package) or ``nobody``, in a folder of its own that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_binary(name: str) -> str | None:
    """``initdb``/``pg_ctl`` on PATH, else where Debian puts them (newest version first)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _run_as() -> str | None:
    """The user to run PostgreSQL as: ourselves unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


def unavailable() -> str:
    """Why PostgreSQL cannot be started here ("" when it can)."""
    missing = [n for n in ("initdb", "pg_ctl") if not find_binary(n)]
    if missing:
        return (
            f"PostgreSQL's {' and '.join(missing)} not found (apt-get install -y postgresql "
            "enables these tests; .ci/run does it)"
        )
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root without runuser, and initdb refuses root"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One throwaway cluster: ``start()``, ``stop()``, ``restart()``, ``close()``; ``url`` for
    the database ``accord`` (user ``accord``, trust authentication on loopback only)."""

    def __init__(self) -> None:
        self.user = _run_as()
        self.folder = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.url = f"postgresql://accord@127.0.0.1:{self.port}/accord"
        self._pg(
            "initdb", "-D", str(self.data), "-U", "accord", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        self.start()
        self._pg("createdb", "-h", str(self.folder), "-p", str(self.port), "-U", "accord",
                 "accord")  # fmt: skip

    def _pg(self, name: str, *args: str, timeout: float = 120) -> str:
        binary = find_binary(name)
        if binary is None:
            raise RuntimeError(f"{name} not found")
        command = [binary, *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.folder
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{name} failed: {done.stderr.strip()}\n{log}")
        return done.stdout

    def start(self) -> None:
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                 "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
