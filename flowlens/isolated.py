"""Run one stage of the batch in a child process, so the memory it leaves behind is given back.

A stage's memory outlives it. After ingesting a 4M-record day the process holds ~130 MiB more
than its imports (glibc's per-thread arenas and the allocators keep freed pages for re-use;
``malloc_trim`` and Arrow's ``release_unused`` return only part of it: bench/README.md), and in
``flowlens run`` those pages sit under the analysis's peak. A child process returns all of them
when it exits.

The child is forked, not spawned: it inherits the stage's arguments (an S3 client cannot be
pickled), the imports and the writer lock this process holds (:mod:`flowlens.lock` is re-entrant
and a forked ``flock`` descriptor is the same lock). Only the stage's result, or its error, comes
back, pickled through a pipe. An error keeps its class (and so its exit code) and carries the
child's traceback as a note. Where ``fork`` is not available the stage runs in this process.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from flowlens.errors import EnvironmentFailure, FlowlensError

log = logging.getLogger(__name__)

T = TypeVar("T")


def forkable() -> bool:
    """Whether this platform can fork (Linux and the other Unixes; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def run_isolated(work: Callable[[], T], what: str) -> T:
    """``work()`` in a forked child; its result, or its exception raised here.

    ``what`` names the stage in the process title and in the error when the child dies without
    an answer (killed by the kernel's OOM killer, a signal, a crash in native code).
    """
    if not forkable():
        return work()
    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    for stream in (sys.stdout, sys.stderr):  # what is buffered would be written twice
        stream.flush()
    child = ctx.Process(target=_child, args=(work, writer), name=f"flowlens {what}")
    child.start()
    writer.close()
    log.debug("%s: running in child process %s", what, child.pid)
    try:
        try:
            ok, payload = reader.recv()
        except EOFError:
            child.join()
            raise EnvironmentFailure(
                f"the {what} process (pid {child.pid}) ended without a result, exit code "
                f"{child.exitcode}{_signal_hint(child.exitcode)}"
            ) from None
    except BaseException:
        if child.is_alive():  # interrupted here (Ctrl-C): do not leave the child running
            child.terminate()
        child.join()
        raise
    finally:
        reader.close()
    child.join()
    if not ok:
        raise payload
    result: T = payload
    return result


def _child(work: Callable[[], Any], writer: Connection) -> None:
    try:
        answer: tuple[bool, Any] = (True, work())
    except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent
        answer = (False, _portable(exc))
    try:
        writer.send(answer)
    except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled is a bug
        writer.send((False, FlowlensError(f"the stage's result could not be sent back: {exc!r}")))
    finally:
        writer.close()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` with the child's traceback as a note, or a FlowlensError that names it when
    its class does not survive pickling (a constructor with required arguments, say)."""
    where = "".join(traceback.format_exception(exc))
    try:
        exc.add_note(f"in the child process:\n{where}")
        copy: BaseException = pickle.loads(pickle.dumps(exc))
        return copy
    except Exception:  # noqa: BLE001 - any failure to round-trip falls back to the text
        out = FlowlensError(f"{type(exc).__name__}: {exc}")
        out.add_note(f"in the child process:\n{where}")
        return out


def _signal_hint(code: int | None) -> str:
    if code is not None and code < 0:
        return f" (killed by signal {-code}; SIGKILL is often the kernel's out-of-memory killer)"
    return ""
