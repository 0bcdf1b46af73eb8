"""Leftovers no in-flight record names: what a writer killed mid-write left, swept under the lock.

An ingest of this version records itself in ``.inflight/`` and the next ingest removes what a dead
run left (:func:`flowlens.ingest.manifest.remove_orphans`). Flowlens before that record, and the
atomic writes of every other stage, leave things no record names when they are killed:

* **hidden temp files** of atomic writes (:mod:`flowlens.atomic`, the ingest writer, the catalog
  refresh): a name that starts with ``.`` and ends with ``.tmp`` (``.tmp.wal`` for a DuckDB temp
  catalog's log), beside the file it was to replace;
* **hidden temp directories** of :func:`flowlens.atomic.atomic_dir`: ``.date=<D>.<8 chars>`` in
  ``results/`` and ``.snapshot=<stamp>.<8 chars>`` in ``inventory/``; an aside ``.<name>.old``
  goes too when ``<name>`` exists, and is put back (:func:`flowlens.atomic.restore_dir`) when not;
* **uncommitted data files** of an ingest of an older flowlens (before ``.inflight``): it renamed
  ``part-<run id>.parquet`` into place before writing the manifest, so a kill in between left
  files readers count but no manifest row names (:func:`sweep_uncommitted`).

Nothing else is touched: a visible file is never removed unless the manifest proves it was never
committed, and a hidden name is never read by the catalog, Athena or Spark, so removing one
changes no result. The sweep runs when a command takes the writer lock, and every writer of the
data dir holds that lock while it writes, so a temp name found then belongs to a writer that is
gone: it is removed whatever its age. One writer takes no lock: a reader's ``flowlens.connect()``
rewriting a catalog made for another location of the data dir, beside the catalog; those temp
names (:func:`is_reader_temp`) go only once older than :data:`GRACE_S`, which no rewrite is ever
that long at. Each removal is logged, naming the path.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from flowlens.atomic import restore_dir
from flowlens.datadir import DataDir

if TYPE_CHECKING:
    from flowlens.ingest.manifest import ManifestEntry

log = logging.getLogger(__name__)

#: How old (seconds since its last change) a catalog rewrite's temp name must be before the
#: sweep removes it (that writer may be a reader, which takes no lock).
GRACE_S = 3600.0

#: ``atomic_dir``'s temp (``tempfile.mkdtemp``: 8 characters) and aside names, per folder.
_TEMP_DIR = {
    "results": re.compile(r"^\.(date=\d{4}-\d{2}-\d{2})\.(?:[a-z0-9_]{8}|old)$"),
    "inventory": re.compile(r"^\.(snapshot=\d{8}T\d{6}Z)\.(?:[a-z0-9_]{8}|old)$"),
}
#: A data file as the ingest writer names it: its run id is 12 hex digits (``new_run_id``).
_DATA_FILE = re.compile(r"^part-([0-9a-f]{12})\.parquet$")
#: Folders whose temp files the sweep of the lock looks for (the data trees: ``sweep_uncommitted``).
_SMALL_TREES = ("results", "inventory", "state", "runs")


def is_temp_file(name: str) -> bool:
    """Whether ``name`` is an atomic write's temp file (never a committed name)."""
    return name.startswith(".") and (name.endswith(".tmp") or name.endswith(".tmp.wal"))


def is_reader_temp(path: Path, dd: DataDir) -> bool:
    """Whether ``path`` is a catalog rewrite's temp file (``.catalog.duckdb.<12 hex>.tmp`` and its
    ``.wal``, :func:`flowlens.catalog.refresh_catalog`): the one a lockless reader writes."""
    if path.parent != dd.root:
        return False
    pattern = rf"\.{re.escape(dd.catalog.name)}\.[0-9a-f]{{12}}\.tmp(?:\.wal)?"
    return re.fullmatch(pattern, path.name) is not None


def _left(path: Path, dd: DataDir, now: float) -> bool:
    """Whether the temp name ``path``, found under the lock, is a leftover: any of a writer that
    takes the lock (so is gone); a reader's catalog rewrite's once :data:`GRACE_S` old."""
    if not is_reader_temp(path, dd):
        return True
    try:
        return now - path.lstat().st_mtime >= GRACE_S
    except FileNotFoundError:
        return False


def _remove(path: Path, dd: DataDir, why: str) -> bool:
    rel = path.relative_to(dd.root).as_posix()
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    log.info("removing %s, %s", rel, why)
    return True


def _temp_files(folder: Path, recursive: bool) -> Iterator[Path]:
    if not folder.is_dir():
        return
    found = folder.rglob(".*") if recursive else folder.glob(".*")
    for path in list(found):
        if is_temp_file(path.name) and path.is_file():
            yield path


def sweep_temps(dd: DataDir, *, now: float | None = None) -> int:
    """Remove old temp files and directories of killed writers outside the ingest data trees.

    Called by :func:`flowlens.lock.writer_lock` when a command takes the lock: the data directory's
    root, ``results/``, ``inventory/``, ``state/`` and ``runs/`` (all small). Returns how many went.
    """
    if not dd.root.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for path in _temp_files(dd.root, recursive=False):
        removed += _left(path, dd, now) and _remove(path, dd, "a temp file left by a killed writer")
    for name in _SMALL_TREES:
        for path in _temp_files(dd.root / name, recursive=True):
            removed += _left(path, dd, now) and _remove(
                path, dd, "a temp file left by a killed writer"
            )
    for name, pattern in _TEMP_DIR.items():
        folder = dd.root / name
        for path in sorted(folder.glob(".*")) if folder.is_dir() else ():
            m = pattern.match(path.name)
            if m is None or not path.is_dir():
                continue
            final = folder / m.group(1)
            if path.name.endswith(".old") and not final.exists():
                # the committed folder, renamed aside by a swap killed half way: put it back
                restore_dir(final)
                log.info("restored %s from %s", final.relative_to(dd.root).as_posix(), path.name)
            elif _left(path, dd, now):
                removed += _remove(path, dd, "a temp folder left by a killed writer")
    return removed


def committed_runs(files: Iterable[str]) -> set[str]:
    """Run ids of which the manifest names at least one data file (those runs committed)."""
    return {m.group(1) for f in files if (m := _DATA_FILE.match(Path(f).name))}


def sweep_uncommitted(
    dd: DataDir, entries: Mapping[str, ManifestEntry], *, now: float | None = None
) -> int:
    """Remove what ingests killed before their commit left in the data trees, no record naming it.

    ``entries``: the manifest as loaded. Called by ingest under the writer lock, after the in-flight
    sweep. Old hidden temp files go; a visible
    ``part-<run>.parquet`` goes only when the manifest names no file of its run at all (the run
    never committed: all of a run's files are committed by one manifest write) and the manifest
    is one that could say so: it names some file and every entry with rows names its files. A
    manifest that is missing, empty or incoherent makes every visible file stay, with a warning.
    """
    now = time.time() if now is None else now
    trees = [t for t in (dd.flows, dd.tgw_flows, dd.quarantine) if t.is_dir()]
    removed = 0
    for tree in trees:
        for path in _temp_files(tree, recursive=True):
            removed += _left(path, dd, now) and _remove(
                path, dd, "a temp file left by a killed ingest"
            )
    referenced = {f for e in entries.values() for f in e.files}
    runs = committed_runs(referenced)
    candidates = [
        p
        for tree in trees
        for p in tree.rglob("part-*.parquet")
        if (m := _DATA_FILE.match(p.name))
        and m.group(1) not in runs
        and p.relative_to(dd.root).as_posix() not in referenced
    ]
    if not candidates:
        return removed
    unnamed = [
        k
        for k, e in entries.items()
        if e.status == "ingested" and (e.rows or e.quarantined) and not e.files
    ]
    if not referenced or not dd.manifest.is_file() or unnamed:
        why = (
            f"{len(unnamed)} of its entries with rows name no file"
            if unnamed and referenced
            else "it names no file at all (missing or rewritten?)"
        )
        log.warning(
            "%d data files are named by no row of the manifest %s, but %s; keeping them all",
            len(candidates),
            dd.manifest,
            why,
        )
        return removed
    for path in sorted(candidates):
        removed += _remove(path, dd, "written by an ingest that was killed before its commit")
    return removed
