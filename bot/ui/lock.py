"""The page's read/write lock: many questions at once, or one ingest.

It lives in the page until the core protects its own index; until then an upload never changes
the index under a question that is being answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bot.errors import AccordError


class ReadWriteLock:
    """Readers share the index; a writer waits (up to ``timeout``) until no reader holds it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self, timeout: float = 300.0) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._writer or self._readers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AccordError(
                        "the index is busy answering questions; try the upload again shortly"
                    )
                self._cond.wait(left)
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()
