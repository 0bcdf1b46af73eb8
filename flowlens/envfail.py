"""Operating-system failures (disk full, read-only, permissions) as one-line errors with advice.

The CLI turns an :class:`OSError` (or DuckDB's ``IOException``, which carries the OS's message)
that escapes a command into :class:`flowlens.errors.EnvironmentFailure` (exit 4): what failed,
where, and what to do, never a traceback. Every write is atomic (temp name, rename) and every
commit comes last, so a command stopped this way leaves the data directory as it was.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from flowlens.errors import EnvironmentFailure


@dataclass(frozen=True)
class _Kind:
    what: str
    advice: str
    codes: tuple[int, ...]
    words: tuple[str, ...]  # how the message says it when the errno is lost (pyarrow, DuckDB)


_KINDS = (
    _Kind(
        "the disk is full",
        "free space there (or use a --data-dir / --out on a larger filesystem) and re-run",
        (errno.ENOSPC, errno.EDQUOT),
        ("no space left on device", "disk quota exceeded"),
    ),
    _Kind(
        "a file size limit was reached",
        "raise the limit (ulimit -f) or write elsewhere, and re-run",
        (errno.EFBIG,),
        ("file too large",),
    ),
    _Kind(
        "the filesystem is read-only",
        "use a writable --data-dir / --out (or remount it read-write) and re-run",
        (errno.EROFS,),
        ("read-only file system",),
    ),
    _Kind(
        "permission denied",
        "make it writable for this user, or choose another path, and re-run",
        (errno.EACCES, errno.EPERM),
        ("permission denied", "operation not permitted"),
    ),
)


def classify(exc: BaseException, context: str | None = None) -> EnvironmentFailure | None:
    """The environment failure ``exc`` is, or None when it is something else (a bug: let it show).

    ``context`` says where the command was working, for errors that name no
    file (pyarrow's, DuckDB's).
    """
    code = getattr(exc, "errno", None)
    text = str(exc)
    lowered = text.lower()
    for kind in _KINDS:
        if code in kind.codes or any(w in lowered for w in kind.words):
            where = getattr(exc, "filename", None)
            place = f" at {where}" if where else f" ({context})" if context else ""
            detail = getattr(exc, "strerror", None) or (text.splitlines()[0] if text else kind.what)
            return EnvironmentFailure(f"{kind.what}{place} ({detail}); {kind.advice}")
    return None
