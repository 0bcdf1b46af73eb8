"""Atomic file writes: temp file in the same filesystem, fsync, then rename."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


@contextmanager
def atomic_path(final: Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temp path beside ``final``; on success rename it into place, else remove it.

    Readers never see a partial file: the temp name starts with a dot (ignored by the
    catalog globs, by Hive readers and by Spark) and the rename is atomic on POSIX.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=suffix + ".tmp", dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_parquet_atomic(table: pa.Table, final: Path, *, row_group_size: int = 1_000_000) -> None:
    """Write ``table`` to ``final`` as zstd Parquet, atomically."""
    with atomic_path(final) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size)


def write_text_atomic(text: str, final: Path) -> None:
    with atomic_path(final) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Build a directory under a hidden temp name, then put it at ``final`` in one step.

    An existing ``final`` is swapped out whole (Linux ``renameat2(RENAME_EXCHANGE)``: no instant
    without it, no mix of old and new files), then removed. Where the exchange is not available
    the old directory is first renamed aside, so a kill leaves either the old one, the new one, or
    (between the two renames) the old one under a hidden name that :func:`restore_dir` puts back.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield tmp
        if not final.exists():
            os.replace(tmp, final)
        elif _exchange(tmp, final):
            shutil.rmtree(tmp)  # now the old directory
        else:
            aside = final.with_name(f".{final.name}.old")
            if aside.exists():
                shutil.rmtree(aside)
            os.replace(final, aside)
            os.replace(tmp, final)
            shutil.rmtree(aside)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def restore_dir(final: Path) -> None:
    """Put back a directory a killed :func:`atomic_dir` left renamed aside (no-op otherwise)."""
    aside = final.with_name(f".{final.name}.old")
    if aside.is_dir() and not final.exists():
        os.replace(aside, final)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux); False when the system cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
