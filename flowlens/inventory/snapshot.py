"""Write an inventory snapshot atomically, and choose the snapshot for an analysis window.

Layout: ``inventory/snapshot=<YYYYMMDDTHHMMSSZ>/<table>.parquet`` + ``snapshot.json``. The
stamp is the capture time (``--taken-at`` for JSON, the call time for the API). The folder is
built under a hidden temp name and renamed in one step (``atomic_dir``), so a crash never leaves
a partial snapshot that :meth:`DataDir.snapshots` would list.

Snapshots are deduplicated: a table identical to the one of the snapshot just before (by stamp)
is a hard link to that file (a copy where the filesystem refuses links), and ``snapshot.json``
lists it under ``reused`` with the stamp it is identical to. Taking one every hour costs the
changed tables only.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flowlens.atomic import atomic_dir, write_parquet_atomic
from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError
from flowlens.inventory.build import InventoryTables

log = logging.getLogger(__name__)

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
#: A snapshot taken up to this long after the window still describes it (see choose_snapshot).
GRACE = timedelta(days=1)


@dataclass(frozen=True)
class SnapshotInfo:
    """What was written: the stamp, folder, source and row count of every table."""

    stamp: str
    path: Path
    taken_at: datetime
    source: str  # "aws" | "json"
    regions: list[str]
    inputs: dict[str, str] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    #: table → the earlier snapshot's stamp whose identical file this one links to.
    reused: dict[str, str] = field(default_factory=dict)
    #: Tables the inputs were evidence for (a JSON export may lack some describe-* outputs; the
    #: timeline does not read a missing table as "everything gone").
    observed: list[str] = field(default_factory=list)
    #: The accounts read (``--accounts``); empty for a snapshot of the caller's own account.
    accounts: list[str] = field(default_factory=list)
    #: The (account, region) pairs read completely; empty: every region of ``regions`` (of the
    #: one account). The timeline does not read an account or region left out as "all gone".
    scopes: list[tuple[str, str]] = field(default_factory=list)
    #: Accounts or regions that could not be read: {account, region (None: the role), error}.
    failed: list[dict[str, str | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"], d["taken_at"] = str(self.path), self.taken_at.isoformat()
        return d


def stamp_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)


def parse_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=UTC)


def _free_stamp(dd: DataDir, taken_at: datetime) -> tuple[str, datetime]:
    """The stamp of ``taken_at``, moved on by seconds if that folder exists already."""
    moment = taken_at.astimezone(UTC).replace(microsecond=0)
    while dd.snapshot_dir(stamp_of(moment)).exists():
        moment += timedelta(seconds=1)
    return stamp_of(moment), moment


def write_snapshot(
    inventory: InventoryTables,
    dd: DataDir,
    *,
    source: str,
    regions: list[str],
    inputs: dict[str, str] | None = None,
    taken_at: datetime | None = None,
    accounts: list[str] | None = None,
    scopes: list[tuple[str, str]] | None = None,
    failed: list[dict[str, str | None]] | None = None,
) -> SnapshotInfo:
    """Write every table and ``snapshot.json``; the folder appears complete or not at all."""
    stamp, moment = _free_stamp(dd, taken_at or datetime.now(UTC))
    final = dd.snapshot_dir(stamp)
    previous = _previous(dd, stamp)
    reused: dict[str, str] = {}
    with atomic_dir(final) as tmp:
        for name, table in inventory.tables.items():
            if previous is not None and _link_if_same(
                table, dd.snapshot_dir(previous) / f"{name}.parquet", tmp / f"{name}.parquet"
            ):
                reused[name] = previous
            else:
                write_parquet_atomic(table, tmp / f"{name}.parquet")
        info = SnapshotInfo(
            stamp,
            final,
            moment,
            source,
            sorted(regions),
            dict(inputs or {}),
            inventory.row_counts(),
            reused,
            list(inventory.observed),
            sorted(accounts or []),
            sorted(scopes or []),
            list(failed or []),
        )
        (tmp / "snapshot.json").write_text(
            json.dumps(info.to_dict() | {"path": None}, indent=2) + "\n"
        )
    unobserved = [t for t in inventory.tables if t not in inventory.observed]
    if unobserved:
        auxiliary = set(unobserved) <= {
            "stale_sg_rules",
            "sg_references",
        }  # optional describe-* outputs
        log.log(
            logging.INFO if auxiliary else logging.WARNING,
            "snapshot %s: no input for %s; these tables are empty and the timeline "
            "ignores them for this snapshot",
            stamp,
            ", ".join(unobserved),
        )
    if reused:
        log.info(
            "snapshot %s: %d of %d tables unchanged since %s, linked",
            stamp,
            len(reused),
            len(inventory.tables),
            previous,
        )
    return info


def _previous(dd: DataDir, stamp: str) -> str | None:
    """The snapshot just before ``stamp`` (by time), the one unchanged tables are shared with."""
    earlier = [s for s in dd.snapshots() if s < stamp]
    return earlier[-1] if earlier else None


def _link_if_same(table: pa.Table, previous: Path, target: Path) -> bool:
    """Hard-link ``previous`` to ``target`` when it holds exactly ``table`` (schema and rows).

    Files are never modified in place (every write is a temp file and a rename), so sharing an
    inode between snapshots is safe. A filesystem without hard links gets a copy.
    """
    if not previous.is_file():
        return False
    try:
        if not pq.read_table(previous).equals(table):
            return False
    except (OSError, pa.ArrowException):
        return False  # an unreadable earlier file is simply not reused
    try:
        os.link(previous, target)
    except OSError:
        shutil.copy2(previous, target)
    return True


def read_snapshot_info(dd: DataDir, stamp: str) -> dict[str, Any]:
    """The ``snapshot.json`` of one snapshot."""
    return dict(json.loads((dd.snapshot_dir(stamp) / "snapshot.json").read_text()))


def snapshot_stamps(dd: DataDir, window_start: datetime, window_end: datetime) -> list[str]:
    """The data dir's snapshot stamps, oldest first; AnalysisError naming the window and what to
    run when it holds none (an analysis of ``[window_start, window_end]`` needs one)."""
    stamps = dd.snapshots()
    if not stamps:
        raise AnalysisError(
            f"no inventory snapshot in {f'{dd.lake}/inventory' if dd.lake else dd.inventory} "
            f"for the window {window_start:%Y-%m-%d %H:%M} "
            f"– {window_end:%Y-%m-%d %H:%M}; run 'flowlens inventory --aws' or "
            "'--from-json FILE...' first"
        )
    return stamps


def choose_snapshot(dd: DataDir, window_start: datetime, window_end: datetime) -> str:
    """The snapshot that describes ``[window_start, window_end]``.

    Rule: the latest snapshot taken at or before ``window_end + 1 day`` (a nightly inventory
    taken the morning after still describes yesterday); if every snapshot is later than that,
    the earliest one (the closest to the window); with no snapshot at all, AnalysisError.
    ``window_start`` is accepted for symmetry and for the error message.
    """
    stamps = snapshot_stamps(dd, window_start, window_end)
    limit = _aware(window_end) + GRACE
    before = [s for s in stamps if parse_stamp(s) <= limit]
    return before[-1] if before else stamps[0]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
