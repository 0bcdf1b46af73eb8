"""The data directory's writer lock: one command that writes at a time (docs/concurrency.md).

``<data-dir>/.lock`` is locked with ``flock(2)`` for as long as a writing command runs, and
holds a JSON body naming the holder (pid, command, start time, host) so a second writer can say
who it is waiting for. The kernel releases a ``flock`` when its process dies, however it dies,
so a lock left by a killed run is taken over without asking: its body only says who held it.
Readers (``flowlens sql``, :func:`flowlens.connect`, ``report`` outside the data dir) never take it.

The lock is re-entrant within a process: ``run`` holds it while the stages it calls take it
again. ``flock`` needs a local filesystem (or NFS v4 with lock support).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowlens.datadir import DataDir
from flowlens.errors import FlowlensError, UsageError

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
_POLL_S = 0.1


class DataDirBusy(FlowlensError):
    """Another command holds the data directory's writer lock (exit 2, like any
    input that cannot work now)."""

    exit_code = UsageError.exit_code


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock, as its body records."""

    pid: int
    command: str
    started: str
    host: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} ('{self.command}', started {self.started})"


@dataclass
class _Held:
    fd: int
    depth: int
    holder: Holder


_held: dict[str, _Held] = {}
_guard = threading.Lock()


def lock_path(dd: DataDir) -> Path:
    return dd.root / LOCK_NAME


def read_holder(path: Path) -> Holder | None:
    """The holder the lock file names (None: no file, empty, or not ours)."""
    try:
        body: Any = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    try:
        return Holder(
            int(body["pid"]), str(body["command"]), str(body["started"]), str(body.get("host", "?"))
        )
    except (KeyError, TypeError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def writer_lock(dd: DataDir, command: str, *, wait: float = 0.0) -> Iterator[Holder]:
    """Hold the data directory's writer lock; wait up to ``wait`` seconds for another holder.

    Raises :class:`DataDirBusy` naming the holder when it is still held after ``wait``.
    """
    dd.root.mkdir(parents=True, exist_ok=True)
    path = lock_path(dd)
    key = str(path.resolve())
    with _guard:
        mine = _held.get(key)
        if mine is not None:
            mine.depth += 1
    if mine is not None:
        try:
            yield mine.holder
        finally:
            with _guard:
                mine.depth -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait)
    except BaseException:
        os.close(fd)
        raise
    previous = read_holder(path)
    if previous is not None and previous.pid != os.getpid():
        # flock is free, so whoever wrote this body is gone (or finished without clearing it).
        state = "no longer running" if not _alive(previous.pid) else "finished"
        log.info("taking over the writer lock of %s (%s)", previous.describe(), state)
    holder = Holder(
        os.getpid(),
        command,
        datetime.now(UTC).replace(microsecond=0).isoformat(),
        socket.gethostname(),
    )
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder.__dict__).encode(), 0)
    with _guard:
        _held[key] = _Held(fd, 1, holder)
    try:
        yield holder
    finally:
        with _guard:
            del _held[key]
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # an empty body: nobody holds it
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _acquire(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + max(0.0, wait)
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = read_holder(path)
        who = holder.describe() if holder else "another process"
        if time.monotonic() >= deadline:
            waited = f" after waiting {wait:g} s" if wait > 0 else ""
            raise DataDirBusy(
                f"the data directory {path.parent} is being written by {who}{waited}; "
                "wait for it to finish or pass --wait SECONDS"
            )
        if not announced:
            log.info(
                "data directory %s is being written by %s; waiting up to %g s",
                path.parent,
                who,
                wait,
            )
            announced = True
        time.sleep(_POLL_S)


def held(dd: DataDir) -> bool:
    """Whether this process holds the lock of ``dd``."""
    with _guard:
        return str(lock_path(dd).resolve()) in _held
