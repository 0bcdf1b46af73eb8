"""Load the timeline of a window from the data dir: the I/O edge of :mod:`.timeline`.

Which snapshots: every snapshot taken inside ``[window_start, window_end]``, the latest one
before the window and the earliest one after it (each is the closest evidence of the state at
that edge: ``flowlens run`` for yesterday takes its snapshot this morning, after the window).
A table file shared by hard link between snapshots is read once.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from flowlens.datadir import DataDir
from flowlens.inventory.timeline import SnapshotRef, SnapshotTables, Timeline, build_timeline
from flowlens.model.inventory import INVENTORY_TABLES

log = logging.getLogger(__name__)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select_snapshots(stamps: list[str], window_start: datetime, window_end: datetime) -> list[str]:
    """The stamps a window's timeline reads (see the module docstring), oldest first."""
    from flowlens.inventory.snapshot import parse_stamp

    start, end = _aware(window_start), _aware(window_end)
    timed = sorted((parse_stamp(s), s) for s in stamps)
    inside = [s for t, s in timed if start <= t <= end]
    before = [s for t, s in timed if t < start]
    after = [s for t, s in timed if t > end]
    return [*before[-1:], *inside, *after[:1]]


def _read(path: Path, cache: dict[tuple[int, int], pa.Table]) -> pa.Table:
    st = os.stat(path)
    key = (st.st_dev, st.st_ino)
    if key not in cache:
        # ParquetFile, not read_table: read_table imports pyarrow.dataset for a few small files
        cache[key] = pq.ParquetFile(path).read()
    return cache[key]


def read_snapshot_tables(
    dd: DataDir, stamp: str, cache: dict[tuple[int, int], pa.Table] | None = None
) -> SnapshotTables:
    """One snapshot's observed tables, and the regions it covered (``snapshot.json`` ``regions``).

    Left out: tables the snapshot has no file for, and tables its ``snapshot.json`` does not list
    as ``observed`` (an export without that describe-* output); older snapshots list none, and
    then every table is taken as observed.
    """
    from flowlens.inventory.snapshot import parse_stamp, read_snapshot_info

    cache = {} if cache is None else cache
    folder = dd.snapshot_dir(stamp)
    record = read_snapshot_info(dd, stamp) if (folder / "snapshot.json").is_file() else {}
    observed = set(record.get("observed", INVENTORY_TABLES))
    tables = {
        name: _read(folder / f"{name}.parquet", cache)
        for name in INVENTORY_TABLES
        if name in observed and (folder / f"{name}.parquet").is_file()
    }
    regions = (
        frozenset(record.get("regions") or ()) or None
    )  # none named: taken to cover every region
    scopes = (
        frozenset((str(a), str(r)) for a, r in record["scopes"]) if record.get("scopes") else None
    )  # a snapshot of several accounts: the (account, region) pairs it read
    return SnapshotTables(SnapshotRef(parse_stamp(stamp), stamp), tables, regions, scopes)


def load_timeline(dd: DataDir, window_start: datetime, window_end: datetime) -> Timeline:
    """The timeline of ``[window_start, window_end]``: the chosen snapshots
    plus stored Config history.

    AnalysisError when the data dir holds no snapshot at all.
    """
    from flowlens.inventory.snapshot import snapshot_stamps

    stamps = snapshot_stamps(dd, window_start, window_end)
    chosen = select_snapshots(stamps, window_start, window_end)
    cache: dict[tuple[int, int], pa.Table] = {}
    snaps = [read_snapshot_tables(dd, s, cache) for s in chosen]
    from flowlens.inventory.config_store import load_config_rows

    config = load_config_rows(dd)
    log.info("timeline: %d snapshot(s) %s .. %s", len(snaps), chosen[0], chosen[-1])
    return build_timeline(snaps, config)
