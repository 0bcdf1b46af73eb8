"""Atomic file writes: temp file in the same filesystem, fsync, then rename."""

from __future__ import annotations

import os
import shutil
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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix + ".tmp", dir=final.parent)
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
    """Build a directory under a hidden temp name, then rename it to ``final`` in one step."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
