"""The ingest manifest: the commit log of ingest (``ingest_manifest.parquet``).

One row per source object. Data files are only part of the data set once the manifest names them. A
run records itself in ``.inflight/`` before writing its first file (every file it writes carries its
run id); files of a recorded run that no manifest row references (left by a killed run) are removed
at the start of the next run, under the writer lock. ``covered`` lists the windows of record end
times already taken from the object, so an object read for day D and listed again (delivery slack)
for day D+1 yields only D+1's rows.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from flowlens.arrays import ints, offsets, strings
from flowlens.atomic import write_parquet_atomic, write_text_atomic
from flowlens.datadir import DataDir
from flowlens.model.tables import MANIFEST_SCHEMA

log = logging.getLogger(__name__)

_INTERVAL = pa.struct([pa.field("start", pa.int64()), pa.field("end", pa.int64())])
#: MANIFEST_SCHEMA plus ingest's own bookkeeping columns (additive).
MANIFEST_FILE_SCHEMA = pa.schema(
    [
        *MANIFEST_SCHEMA,
        pa.field("flow_log_id", pa.string()),
        pa.field("out_of_window", pa.int64()),
        pa.field("files", pa.list_(pa.string())),
        pa.field("covered", pa.list_(_INTERVAL)),
        pa.field("ingested_at", pa.timestamp("s", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class ManifestEntry:
    source_key: str
    etag: str
    size: int
    status: str  # ingested / failed / skipped
    rows: int
    quarantined: int
    error: str | None
    flow_log_id: str | None
    out_of_window: int
    files: tuple[str, ...]
    covered: tuple[tuple[int, int], ...]  # [start, end) epoch seconds of record end times taken
    ingested_at: datetime

    @classmethod
    def ingested(
        cls,
        source_key: str,
        etag: str,
        size: int,
        *,
        flow_log_id: str | None,
        rows: int,
        quarantined: int,
        out_of_window: int,
        files: tuple[str, ...],
        covered: tuple[tuple[int, int], ...],
        at: datetime,
    ) -> ManifestEntry:
        """An object read whole or in part: its rows are in ``files``, its end times ``covered``."""
        return cls(
            source_key=source_key,
            etag=etag,
            size=size,
            status="ingested",
            rows=rows,
            quarantined=quarantined,
            error=None,
            flow_log_id=flow_log_id,
            out_of_window=out_of_window,
            files=files,
            covered=covered,
            ingested_at=at,
        )

    @classmethod
    def failed(
        cls,
        source_key: str,
        etag: str,
        size: int,
        *,
        error: str,
        flow_log_id: str | None,
        previous: ManifestEntry | None,
        at: datetime,
    ) -> ManifestEntry:
        """A read that failed. ``previous`` (an earlier good read of the same ETag) stays ingested
        with its rows and files, now carrying the error; without one the object is
        ``failed`` with nothing."""
        if previous is None:
            return cls(
                source_key=source_key,
                etag=etag,
                size=size,
                status="failed",
                rows=0,
                quarantined=0,
                error=error,
                flow_log_id=flow_log_id,
                out_of_window=0,
                files=(),
                covered=(),
                ingested_at=at,
            )
        return replace(previous, size=size, error=error, flow_log_id=flow_log_id, ingested_at=at)

    def covers(self, start: int, end: int) -> bool:
        return not uncovered(self.covered, start, end)

    def with_files(self, mapping: dict[str, str | None]) -> ManifestEntry:
        """Files renamed by a rewrite (``None``: the file no longer exists)."""
        new = tuple(m for f in self.files if (m := mapping.get(f, f)) is not None)
        return replace(self, files=new)


def uncovered(covered: tuple[tuple[int, int], ...], start: int, end: int) -> list[tuple[int, int]]:
    """Parts of ``[start, end)`` that ``covered`` does not include."""
    parts = [(start, end)]
    for cs, ce in covered:
        parts = [p for s, e in parts for p in ((s, min(e, cs)), (max(s, ce), e)) if p[0] < p[1]]
    return parts


def merge(
    covered: tuple[tuple[int, int], ...], start: int, end: int
) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for s, e in sorted([*covered, (start, end)]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)


def load(dd: DataDir) -> dict[str, ManifestEntry]:
    if not dd.manifest.is_file():
        return {}
    # ParquetFile, not read_table: that imports pyarrow.dataset and with it pandas (~0.5 CPU-s).
    table = pq.ParquetFile(dd.manifest).read()
    if "ingested_at" in table.column_names:  # as epoch seconds: a timestamp's as_py imports pandas
        i = table.column_names.index("ingested_at")
        seconds = table.column(i).cast(pa.timestamp("s", tz="UTC"), safe=False).cast(pa.int64())
        table = table.set_column(i, "ingested_at", seconds)
    entries = {}
    for row in table.to_pylist():
        row["files"] = tuple(row.get("files") or ())
        row["covered"] = tuple((c["start"], c["end"]) for c in row.get("covered") or ())
        row["ingested_at"] = datetime.fromtimestamp(row.get("ingested_at") or 0, UTC)
        row["flow_log_id"] = row.get("flow_log_id")
        row["out_of_window"] = row.get("out_of_window") or 0
        entries[row["source_key"]] = ManifestEntry(
            **{f: row[f] for f in MANIFEST_FILE_SCHEMA.names}
        )
    return entries


def save(dd: DataDir, entries: dict[str, ManifestEntry]) -> None:
    """Rewrite the manifest atomically: the commit point of a run."""
    write_parquet_atomic(_table(sorted(entries.values(), key=lambda e: e.source_key)), dd.manifest)


def _table(rows: list[ManifestEntry]) -> pa.Table:
    """The manifest's rows in MANIFEST_FILE_SCHEMA, built column by column (flowlens.arrays:
    ``Table.from_pylist`` would import pandas at every commit)."""
    text = {"source_key", "etag", "status", "error", "flow_log_id"}
    cols: dict[str, pa.Array] = {}
    for f in MANIFEST_FILE_SCHEMA:
        if f.name in text:
            cols[f.name] = strings([getattr(e, f.name) for e in rows])
        elif pa.types.is_integer(f.type):
            cols[f.name] = ints([getattr(e, f.name) for e in rows], f.type)
    cols["files"] = pa.ListArray.from_arrays(
        offsets([len(e.files) for e in rows]), strings([k for e in rows for k in e.files])
    )
    starts = ints([s for e in rows for s, _ in e.covered])
    ends = ints([t for e in rows for _, t in e.covered])
    cols["covered"] = pa.ListArray.from_arrays(
        offsets([len(e.covered) for e in rows]),
        pa.StructArray.from_arrays([starts, ends], fields=list(_INTERVAL)),
    )
    at = ints([int(e.ingested_at.timestamp()) for e in rows])
    cols["ingested_at"] = at.view(pa.timestamp("s", tz="UTC"))
    return pa.Table.from_arrays(
        [cols[n] for n in MANIFEST_FILE_SCHEMA.names], schema=MANIFEST_FILE_SCHEMA
    )


def inflight_dir(dd: DataDir) -> Path:
    """Where a run records that it is writing (one JSON file per run, removed after its commit)."""
    return dd.root / ".inflight"


def begin_run(dd: DataDir, run_id: str) -> Path:
    """Record that run ``run_id`` is about to write data files named by
    its id (before the first)."""
    record = inflight_dir(dd) / f"ingest-{run_id}.json"
    body = {
        "run_id": run_id,
        "pid": os.getpid(),
        "started": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    write_text_atomic(json.dumps(body), record)
    return record


def end_run(dd: DataDir, run_id: str) -> None:
    """The run committed (or cleaned up after itself): its record goes."""
    (inflight_dir(dd) / f"ingest-{run_id}.json").unlink(missing_ok=True)


def interrupted_runs(dd: DataDir) -> list[str]:
    """Run ids whose in-flight record is still there: runs that died before their commit."""
    folder = inflight_dir(dd)
    if not folder.is_dir():
        return []
    ids = []
    for record in sorted(folder.glob("ingest-*.json")):
        try:
            ids.append(str(json.loads(record.read_text(encoding="utf-8"))["run_id"]))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable in-flight record %s", record)
    return ids


def remove_orphans(dd: DataDir, entries: dict[str, ManifestEntry]) -> int:
    """Delete what interrupted runs left: files named by their in-flight records that no
    manifest row references.

    Called under the writer lock (:mod:`flowlens.lock`), so every run with a record is dead. Only
    files carrying a recorded run's id are candidates: a file this sweep cannot attribute to a
    dead run (another tool's, a run of another process) is never deleted.
    """
    runs = interrupted_runs(dd)
    if not runs:
        return 0
    referenced = {f for e in entries.values() for f in e.files}
    removed = 0
    for base in (dd.flows, dd.tgw_flows, dd.quarantine):
        if not base.is_dir():
            continue
        for path in list(base.rglob("*")):
            if not path.is_file() or not any(run in path.name for run in runs):
                continue
            rel = path.relative_to(dd.root).as_posix()
            if path.name.endswith(".tmp") or (path.suffix == ".parquet" and rel not in referenced):
                log.info("removing %s, left by an interrupted run", rel)
                path.unlink()
                removed += 1
    for run in runs:
        end_run(dd, run)
    return removed


def data_path(dd: DataDir, rel: str) -> Path:
    return dd.root / rel
