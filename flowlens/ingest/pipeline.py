"""The ingest run: plan the objects of a window (planning.py), read them in a bounded pool
(reading.py), commit.

Commit protocol (see manifest.py), under the data dir's writer lock (flowlens/lock.py): the run
records itself in ``.inflight/``, writes its data files under temp names, and at the commit
renames the rewritten old files, then the new files into place, then rewrites the manifest
atomically (re-read first). Files of a recorded run the manifest does not name are removed at the
start of the next run. Accounting per run: rows + quarantined + out_of_window = data lines.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flowlens.catalog import refresh_catalog
from flowlens.datadir import DataDir
from flowlens.ingest import manifest as mf
from flowlens.ingest.diagnose import explain_empty
from flowlens.ingest.planning import DEFAULT_SLACK, Planned, list_window, plan, tasks
from flowlens.ingest.reading import ObjectResult, Sink, process
from flowlens.ingest.source import Source
from flowlens.ingest.writer import filter_file, new_run_id
from flowlens.lock import writer_lock
from flowlens.model.window import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailedObject:
    key: str
    error: str


@dataclass(frozen=True)
class IngestSummary:
    """What a run did. ``rows + quarantined + out_of_window == lines``."""

    window_start: datetime
    window_end: datetime
    objects: int  # objects read in this run
    rows: int
    bytes: int  # source bytes read
    quarantined: int
    out_of_window: int
    lines: int
    failed: tuple[FailedObject, ...]
    skipped: int  # already ingested, unchanged
    replaced: int  # ETag changed: old rows replaced
    ignored_keys: int  # keys under the listed prefixes that are not flow-log objects
    retries: int
    seconds: float
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    #: Why the window listed no flow-log object at all ("" when it listed some).
    empty_reason: str = ""

    @property
    def records_per_s(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = [asdict(f) for f in self.failed]
        d["records_per_s"] = round(self.records_per_s, 1)
        d["seconds"] = round(self.seconds, 3)
        return d


# ---------------------------------------------------------------- planning


# ---------------------------------------------------------------- one object


# ---------------------------------------------------------------- the run


def ingest(
    source: Source,
    days: list[date],
    dd: DataDir,
    *,
    prefix: str = "",
    accounts: set[str] | None = None,
    regions: set[str] | None = None,
    flow_log_ids: set[str] | None = None,
    strict: bool = False,
    workers: int = 2,
    slack: timedelta = DEFAULT_SLACK,
    progress: Callable[[int, int], None] | None = None,
) -> IngestSummary:
    """Ingest every flow-log record whose end time falls on ``days`` (UTC) into ``dd``."""
    t0 = time.perf_counter()
    window = Window.of(days)
    with writer_lock(dd, "ingest"):
        entries = mf.load(dd)
        mf.remove_orphans(dd, entries)
        found, ignored = list_window(
            source,
            prefix,
            window,
            slack,
            accounts=accounts,
            regions=regions,
            flow_log_ids=flow_log_ids,
        )
        empty = (
            ""
            if found
            else explain_empty(
                source, prefix, days, accounts=accounts, regions=regions, flow_log_ids=flow_log_ids
            )
        )
        if empty:
            log.warning("nothing to ingest: %s", empty)
        planned, skipped, changed = plan(found, entries, window)
        log.info(
            "%s: %d objects to read, %d already ingested, %d changed",
            source.description,
            len(planned),
            skipped,
            len(changed),
        )
        run_id = new_run_id()
        mf.begin_run(dd, run_id)
        rewrites: dict[str, Path | None] = {}
        try:
            rewrites = _drop_changed(dd, entries, changed, run_id)
            sink = Sink(dd, run_id, strict)
            results = _run_pool(source, planned, sink, workers, progress)
            failed_keys = {p.obj.key for p, r in zip(planned, results, strict=True) if r.error}
            # The commit: old files lose the changed objects' rows first (each in one rename), then
            # the new files appear, then the manifest names them. A reader polling the flows never
            # sees a changed object's rows twice; a kill anywhere leaves what the next run sweeps.
            renamed = _replace_rewritten(dd, rewrites)
            files: dict[str, list[str]] = {}
            for w in sink.writers():
                for k, fs in w.close(failed_keys).items():
                    files.setdefault(k, []).extend(fs)
            _commit(dd, renamed, planned, results, files)
        except BaseException:
            for tmp in rewrites.values():
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
            raise
        mf.end_run(dd, run_id)
        refresh_catalog(dd)
    summary = _summary(
        window,
        planned,
        results,
        skipped,
        len(changed),
        ignored,
        source.retries,
        time.perf_counter() - t0,
    )
    return replace(summary, empty_reason=empty)


def _run_pool(
    source: Source,
    planned: list[Planned],
    sink: Sink,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> list[ObjectResult]:
    done = 0
    lock = threading.Lock()

    def one(task: list[Planned]) -> list[ObjectResult]:
        nonlocal done
        r = process(source, task, sink)
        with lock:
            done += len(task)
            if progress:
                progress(done, len(planned))
        return r

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return [r for rs in pool.map(one, tasks(planned)) for r in rs]
    except BaseException:
        for w in sink.writers():
            w.abort()
        raise


def _drop_changed(
    dd: DataDir, entries: dict[str, mf.ManifestEntry], changed: list[str], run_id: str
) -> dict[str, Path | None]:
    """Copies of the files holding rows of changed objects without those rows,
    under hidden temp names.

    Returns data file → its copy (None: no row left, the file goes). Nothing is visible until
    :func:`_replace_rewritten` at the commit.
    """
    drop = set(changed)
    out: dict[str, Path | None] = {}
    for rel in sorted({f for k in changed for f in entries[k].files}):
        src = dd.root / rel
        if not src.exists():
            out[rel] = None
            continue
        tmp = src.with_name(f".{src.name}.{run_id}.tmp")
        kept = filter_file(src, tmp, drop)
        if kept == 0:
            tmp.unlink()
        out[rel] = tmp if kept else None
    return out


def _replace_rewritten(dd: DataDir, rewrites: dict[str, Path | None]) -> dict[str, str | None]:
    """Put each rewritten copy in place of its file in one rename (or remove an emptied file)."""
    renamed: dict[str, str | None] = {}
    for rel, tmp in rewrites.items():
        if tmp is None:
            (dd.root / rel).unlink(missing_ok=True)
            renamed[rel] = None
        else:
            os.replace(tmp, dd.root / rel)
    return renamed


def _commit(
    dd: DataDir,
    renamed: dict[str, str | None],
    planned: list[Planned],
    results: list[ObjectResult],
    files: dict[str, list[str]],
) -> None:
    """Write the manifest: re-read under the lock, this run's objects merged into it."""
    now = datetime.now(UTC).replace(microsecond=0)
    current = mf.load(dd)
    new = {k: e.with_files(renamed) if renamed else e for k, e in current.items()}
    for p, r in zip(planned, results, strict=True):
        old = new.get(p.obj.key)
        same = (
            old if old is not None and old.etag == p.obj.etag and old.status == "ingested" else None
        )
        if r.error:
            new[p.obj.key] = mf.ManifestEntry.failed(
                p.obj.key,
                p.obj.etag,
                p.obj.size,
                error=r.error,
                flow_log_id=p.key.flow_log_id,
                previous=same,
                at=now,
            )
            continue
        covered = same.covered if same else ()
        for s, e in p.intervals:
            covered = mf.merge(covered, s, e)
        new[p.obj.key] = mf.ManifestEntry.ingested(
            p.obj.key,
            p.obj.etag,
            p.obj.size,
            flow_log_id=p.key.flow_log_id,
            rows=(same.rows if same else 0) + r.rows,
            quarantined=(same.quarantined if same else 0) + (r.quarantined if p.first_read else 0),
            out_of_window=r.out_of_window,
            files=tuple(dict.fromkeys([*(same.files if same else ()), *files.get(p.obj.key, [])])),
            covered=covered,
            at=now,
        )
    mf.save(dd, new)


def _summary(
    window: Window,
    planned: list[Planned],
    results: list[ObjectResult],
    skipped: int,
    replaced: int,
    ignored: int,
    retries: int,
    seconds: float,
) -> IngestSummary:
    reasons: dict[str, int] = {}
    for r in results:
        for k, v in r.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    ok = [r for r in results if not r.error]
    rows, quar, oow = (
        sum(r.rows for r in ok),
        sum(r.quarantined for r in ok),
        sum(r.out_of_window for r in ok),
    )
    failed = tuple(
        FailedObject(p.obj.key, r.error) for p, r in zip(planned, results, strict=True) if r.error
    )
    return IngestSummary(
        window.start,
        window.end,
        len(planned),
        rows,
        sum(p.obj.size for p in planned),
        quar,
        oow,
        rows + quar + oow,
        failed,
        skipped,
        replaced,
        ignored,
        retries,
        seconds,
        reasons,
    )
