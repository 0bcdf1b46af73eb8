"""The ingest run: plan the objects of a window, parse them in a bounded pool, commit.

Commit protocol (see manifest.py): data files are written under temp names and renamed into
place, then the manifest is rewritten atomically; files the manifest does not name are removed at
the start of the next run. Accounting per run: rows + quarantined + out_of_window = data lines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

import pyarrow as pa

from flowlens.catalog import refresh_catalog
from flowlens.datadir import DataDir
from flowlens.errors import FlowlensError, InputError
from flowlens.ingest import manifest as mf
from flowlens.ingest.batch import Piece, split
from flowlens.ingest.keys import (
    FileFormat,
    FlowKey,
    Window,
    account_dir,
    day_prefixes,
    in_listing_range,
    listing_days,
    parse_key,
    region_name,
    root_prefix,
)
from flowlens.ingest.parquet_in import read_parquet
from flowlens.ingest.parse import (
    BadLine,
    Header,
    iter_chunks,
    parse_chunk,
    parse_header,
    parse_joined,
    split_header,
)
from flowlens.ingest.source import Source, SourceObject
from flowlens.ingest.writer import PartitionWriter, filter_file, new_run_id
from flowlens.model.flow import FLOW_FILE_SCHEMA, TGW_FILE_SCHEMA
from flowlens.model.tables import QUARANTINE_SCHEMA

log = logging.getLogger(__name__)

DEFAULT_SLACK = timedelta(hours=1)
#: A task (one worker's unit) is consecutive objects of about this many source bytes...
TASK_BYTES = 4 << 20
TASK_OBJECTS = 256
#: ...whose parsed rows are split and written together once this many have accumulated.
FLUSH_ROWS = 131_072
#: Gzip text objects up to this size are read whole and parsed together with their batch's others.
SMALL_OBJECT_BYTES = 1 << 20


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

    @property
    def records_per_s(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = [asdict(f) for f in self.failed]
        d["records_per_s"] = round(self.records_per_s, 1)
        d["seconds"] = round(self.seconds, 3)
        return d


@dataclass(frozen=True)
class Planned:
    obj: SourceObject
    key: FlowKey
    intervals: tuple[tuple[int, int], ...]  # end-time intervals to take from it in this run
    first_read: bool  # first read of this ETag: bad lines are quarantined now


@dataclass
class _Result:
    rows: int = 0
    quarantined: int = 0
    out_of_window: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None


# ---------------------------------------------------------------- planning


def discover(source: Source, root: str, accounts: set[str] | None, regions: set[str] | None) -> Iterator[tuple[str, str, str, bool]]:
    """``(account_id, account_path, region_dir, hive)`` for every account/region folder wanted."""
    for child in source.children(root):
        acct = account_dir(child)
        if acct is None or (accounts and acct.account_id not in accounts):
            continue
        for rchild in source.children(root + acct.path):
            region = region_name(rchild, acct.hive)
            if region and (not regions or region in regions):
                yield acct.account_id, acct.path, acct.region_dir(region), acct.hive


def list_window(
    source: Source, prefix: str, window: Window, slack: timedelta, *,
    accounts: set[str] | None, regions: set[str] | None, flow_log_ids: set[str] | None,
) -> tuple[list[tuple[SourceObject, FlowKey]], int]:
    """Flow-log objects whose time bin can hold records of ``window`` (and the count of ignored keys)."""
    root = root_prefix(prefix)
    found, ignored = [], 0
    for _acct, apath, rdir, hive in discover(source, root, accounts, regions):
        for day in listing_days(window, slack):
            folder = day_prefixes(root, apath, rdir, day, hive)
            for obj in source.list(folder):
                key = parse_key(obj.key)
                if key is None:
                    ignored += 1
                    continue
                if flow_log_ids and key.flow_log_id not in flow_log_ids:
                    continue
                if in_listing_range(key, window, slack):
                    found.append((obj, key))
    return found, ignored


def plan(found: list[tuple[SourceObject, FlowKey]], entries: dict[str, mf.ManifestEntry], window: Window) -> tuple[list[Planned], int, list[str]]:
    """What to read: ``(planned, skipped, changed keys)``."""
    ws, we = int(window.start.timestamp()), int(window.end.timestamp())
    planned, skipped, changed = [], 0, []
    for obj, key in found:
        e = entries.get(obj.key)
        if e is not None and e.etag == obj.etag and e.status == "ingested":
            todo = mf.uncovered(e.covered, ws, we)
            if not todo:
                skipped += 1
                continue
            planned.append(Planned(obj, key, tuple(todo), False))
            continue
        if e is not None and e.etag != obj.etag and e.files:
            changed.append(obj.key)
        planned.append(Planned(obj, key, ((ws, we),), True))
    return planned, skipped, changed


# ---------------------------------------------------------------- one object


class _Sink:
    """Routes parsed tables to the flows/tgw writers and bad lines to quarantine."""

    def __init__(self, dd: DataDir, run_id: str, strict: bool) -> None:
        parts = ("account_id", "region", "date")
        self.flows = PartitionWriter(dd.flows, dd.root, FLOW_FILE_SCHEMA, parts, run_id)
        self.tgw = PartitionWriter(dd.tgw_flows, dd.root, TGW_FILE_SCHEMA, parts, run_id)
        self.quarantine = PartitionWriter(dd.quarantine, dd.root, QUARANTINE_SCHEMA, ("date",), run_id)
        self.strict = strict

    def writers(self) -> tuple[PartitionWriter, ...]:
        return (self.flows, self.tgw, self.quarantine)


def _read(stream: IO[bytes], p: Planned) -> tuple[Header, Iterator[tuple[pa.Table, list[BadLine]]]]:
    if p.key.format is FileFormat.PARQUET:
        header, tables = read_parquet(stream, p.obj.key)
        return header, ((t, []) for t in tables)
    chunks = iter_chunks(stream, gz=True)
    first = next(chunks, b"")
    if not first.strip():
        raise InputError(f"{p.obj.key}: the object is empty (no header line)")
    head, rest = split_header(first)
    header = parse_header(head, p.obj.key)

    def parsed() -> Iterator[tuple[pa.Table, list[BadLine]]]:
        line = 2
        for chunk, last in _with_last(_chain(rest, chunks)):
            pc_ = parse_chunk(chunk, header, line)
            if not last:  # line numbers of the next chunk
                line += chunk.count(b"\n")
            yield pc_.table, pc_.bad

    return header, parsed()


def _read_small(stream: IO[bytes], p: Planned) -> tuple[Header, bytes]:
    """Header and whole body of a small gzip text object."""
    text = b"".join(iter_chunks(stream, gz=True))
    if not text.strip():
        raise InputError(f"{p.obj.key}: the object is empty (no header line)")
    head, body = split_header(text)
    return parse_header(head, p.obj.key), body


def _with_last(items: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    prev = next(items, None)
    for item in items:
        assert prev is not None
        yield prev, False
        prev = item
    if prev is not None:
        yield prev, True


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


class _Batch:
    """Parsed tables of one task's objects, split and handed to the sink together (see batch.py)."""

    def __init__(self, planned: list[Planned], results: list[_Result], sink: _Sink) -> None:
        self.planned, self.results, self.sink = planned, results, sink
        self.pieces: dict[tuple[bool, tuple[tuple[int, int], ...]], list[Piece]] = {}
        self.texts: dict[Header, list[tuple[int, bytes]]] = {}  # small objects' bodies, parsed together
        self.rows = 0  # rows in pieces, plus text bytes / 100 (about a record's size)

    def add(self, i: int, tgw: bool, tables: list[pa.Table]) -> None:
        p = self.planned[i]
        k = p.key
        for t in tables:
            piece = Piece(i, t, p.obj.key, k.flow_log_id, k.account_id, k.region, int(k.timestamp.timestamp()))
            self.pieces.setdefault((tgw, p.intervals), []).append(piece)
            self.rows += t.num_rows

    def add_text(self, i: int, header: Header, body: bytes) -> None:
        self.texts.setdefault(header, []).append((i, body))
        self.rows += len(body) // 100

    def _parse_texts(self) -> None:
        texts, self.texts = self.texts, {}
        for header, bodies in texts.items():
            self._parse_group(header, bodies)

    def _parse_group(self, header: Header, bodies: list[tuple[int, bytes]]) -> None:
        """Parse bodies together; a group that is not clean is halved until the culprit is alone."""
        tables = parse_joined([b for _, b in bodies], header) if len(bodies) > 1 else None
        if tables is not None:
            for (i, _), table in zip(bodies, tables, strict=True):
                self.add(i, header.tgw, [table])
        elif len(bodies) > 1:
            self._parse_group(header, bodies[: len(bodies) // 2])
            self._parse_group(header, bodies[len(bodies) // 2 :])
        else:  # alone: line numbers, quarantine, errors of this object
            i, body = bodies[0]
            p, res = self.planned[i], self.results[i]
            try:
                parsed = parse_chunk(body, header, 2)
                _take_bad(parsed.bad, p, self.sink, res)
                self.add(i, header.tgw, [parsed.table])
            except pa.ArrowException as exc:
                res.error = f"{p.obj.key}: {type(exc).__name__}: {exc}"

    def flush(self) -> None:
        self._parse_texts()
        for (tgw, intervals), pieces in self.pieces.items():
            try:
                self._write(tgw, intervals, pieces)
            except (FlowlensError, pa.ArrowException):
                for i in sorted({pc_.index for pc_ in pieces}):  # find the object at fault
                    self._write_one(tgw, intervals, [pc_ for pc_ in pieces if pc_.index == i])
        self.pieces, self.rows = {}, 0

    def _write_one(self, tgw: bool, intervals: tuple[tuple[int, int], ...], pieces: list[Piece]) -> None:
        try:
            self._write(tgw, intervals, pieces)
        except FlowlensError as exc:
            self.results[pieces[0].index].error = f"{pieces[0].source_key}: {exc}"
        except pa.ArrowException as exc:
            self.results[pieces[0].index].error = f"{pieces[0].source_key}: {type(exc).__name__}: {exc}"

    def _write(self, tgw: bool, intervals: tuple[tuple[int, int], ...], pieces: list[Piece]) -> None:
        s = split(pieces, intervals, TGW_FILE_SCHEMA if tgw else FLOW_FILE_SCHEMA)
        writer = self.sink.tgw if tgw else self.sink.flows
        for values, table, keys in s.parts:
            writer.add(values, table, keys)
        for i, n in s.rows.items():
            self.results[i].rows += n
        for i, n in s.out_of_window.items():
            self.results[i].out_of_window += n


def process(source: Source, planned: list[Planned], sink: _Sink) -> list[_Result]:
    """Read a batch of objects into the sink; errors are recorded per object, except under --strict."""
    results = [_Result() for _ in planned]
    batch = _Batch(planned, results, sink)
    for i, p in enumerate(planned):
        try:
            _process_one(source, p, i, batch)
        except FlowlensError as exc:
            if sink.strict:
                raise
            results[i].error = str(exc) if str(exc).startswith(p.obj.key) else f"{p.obj.key}: {exc}"
        except (OSError, pa.ArrowException) as exc:
            results[i].error = f"{p.obj.key}: {type(exc).__name__}: {exc}"
        if batch.rows >= FLUSH_ROWS:
            batch.flush()
    batch.flush()
    return results


def _process_one(source: Source, p: Planned, i: int, batch: _Batch) -> None:
    """Parse one object into the batch; a large object is flushed chunk by chunk (memory stays bounded)."""
    res = batch.results[i]
    with source.open(p.obj.key) as stream:
        if p.key.format is not FileFormat.PARQUET and p.obj.size <= SMALL_OBJECT_BYTES:
            header, body = _read_small(stream, p)
            batch.add_text(i, header, body)
            return
        header, parts = _read(stream, p)
        tables: list[pa.Table] = []
        for table, bad in parts:
            _take_bad(bad, p, batch.sink, res)
            tables.append(table)
            if sum(t.num_rows for t in tables) >= FLUSH_ROWS:
                batch.add(i, header.tgw, tables)
                batch.flush()
                tables = []
    batch.add(i, header.tgw, tables)


def _take_bad(bad: list[BadLine], p: Planned, sink: _Sink, res: _Result) -> None:
    if not bad:
        return
    if sink.strict:
        b = bad[0]
        raise InputError(f"{p.obj.key}: line {b.line_number}: {b.reason}: {b.raw[:200]!r} (--strict)")
    res.quarantined += len(bad)
    for b in bad:
        res.reasons[b.reason] = res.reasons.get(b.reason, 0) + 1
    if p.first_read:
        table = pa.Table.from_pydict(
            {"source_key": [p.obj.key] * len(bad), "line_number": [b.line_number for b in bad],
             "raw": [b.raw for b in bad], "reason": [b.reason for b in bad]},
            schema=QUARANTINE_SCHEMA,
        )
        sink.quarantine.add((p.key.timestamp.date().isoformat(),), table, {p.obj.key})


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
    window = Window.of_days(days)
    entries = mf.load(dd)
    mf.remove_orphans(dd, entries)
    found, ignored = list_window(source, prefix, window, slack, accounts=accounts, regions=regions, flow_log_ids=flow_log_ids)
    planned, skipped, changed = plan(found, entries, window)
    log.info("%s: %d objects to read, %d already ingested, %d changed", source.description, len(planned), skipped, len(changed))
    renamed, obsolete = _drop_changed(dd, entries, changed)
    run_id = new_run_id()
    sink = _Sink(dd, run_id, strict)
    results = _run_pool(source, planned, sink, workers, progress)
    failed_keys = {p.obj.key for p, r in zip(planned, results, strict=True) if r.error}
    files: dict[str, list[str]] = {}
    for w in sink.writers():
        for k, fs in w.close(failed_keys).items():
            files.setdefault(k, []).extend(fs)
    _commit(dd, entries, renamed, planned, results, files, window)
    for path in obsolete:
        path.unlink(missing_ok=True)
    refresh_catalog(dd)
    return _summary(window, planned, results, skipped, len(changed), ignored, source.retries, time.perf_counter() - t0)


def tasks(planned: list[Planned], task_bytes: int = TASK_BYTES, task_objects: int = TASK_OBJECTS) -> list[list[Planned]]:
    """Consecutive objects grouped into tasks of about ``task_bytes`` (source bytes) each."""
    out: list[list[Planned]] = []
    size = 0
    for p in planned:
        if not out or size >= task_bytes or len(out[-1]) >= task_objects:
            out.append([])
            size = 0
        out[-1].append(p)
        size += p.obj.size
    return out


def _run_pool(source: Source, planned: list[Planned], sink: _Sink, workers: int, progress: Callable[[int, int], None] | None) -> list[_Result]:
    done = 0
    lock = threading.Lock()

    def one(task: list[Planned]) -> list[_Result]:
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


def _drop_changed(dd: DataDir, entries: dict[str, mf.ManifestEntry], changed: list[str]) -> tuple[dict[str, str | None], list[Any]]:
    """Rewrite files holding rows of changed objects without those rows (new names; old removed after commit)."""
    if not changed:
        return {}, []
    drop = set(changed)
    affected = sorted({f for k in changed for f in entries[k].files})
    renamed: dict[str, str | None] = {}
    for rel in affected:
        src = dd.root / rel
        dest = src.with_name(f"part-{new_run_id()}.parquet")
        kept = filter_file(src, dest, drop) if src.exists() else 0
        if kept == 0 and dest.exists():
            dest.unlink()
        renamed[rel] = dest.relative_to(dd.root).as_posix() if kept else None
    return renamed, [dd.root / rel for rel in affected]


def _commit(
    dd: DataDir, entries: dict[str, mf.ManifestEntry], renamed: dict[str, str | None],
    planned: list[Planned], results: list[_Result], files: dict[str, list[str]], window: Window,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    new = {k: e.with_files(renamed) if renamed else e for k, e in entries.items()}
    for p, r in zip(planned, results, strict=True):
        old = new.get(p.obj.key)
        same = old is not None and old.etag == p.obj.etag and old.status == "ingested"
        if r.error:
            keep = old if same else None
            new[p.obj.key] = mf.ManifestEntry(
                p.obj.key, p.obj.etag, p.obj.size, "failed" if keep is None else "ingested",
                keep.rows if keep else 0, keep.quarantined if keep else 0, r.error, p.key.flow_log_id,
                keep.out_of_window if keep else 0, keep.files if keep else (), keep.covered if keep else (), now)
            continue
        covered = old.covered if same and old else ()
        for s, e in p.intervals:
            covered = mf.merge(covered, s, e)
        base_files = old.files if same and old else ()
        new[p.obj.key] = mf.ManifestEntry(
            p.obj.key, p.obj.etag, p.obj.size, "ingested",
            (old.rows if same and old else 0) + r.rows,
            (old.quarantined if same and old else 0) + (r.quarantined if p.first_read else 0),
            None, p.key.flow_log_id, r.out_of_window, tuple(dict.fromkeys([*base_files, *files.get(p.obj.key, [])])), covered, now)
    mf.save(dd, new)


def _summary(window: Window, planned: list[Planned], results: list[_Result], skipped: int, replaced: int, ignored: int, retries: int, seconds: float) -> IngestSummary:
    reasons: dict[str, int] = {}
    for r in results:
        for k, v in r.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    ok = [r for r in results if not r.error]
    rows, quar, oow = sum(r.rows for r in ok), sum(r.quarantined for r in ok), sum(r.out_of_window for r in ok)
    failed = tuple(FailedObject(p.obj.key, r.error) for p, r in zip(planned, results, strict=True) if r.error)
    return IngestSummary(
        window.start, window.end, len(planned), rows, sum(p.obj.size for p in planned), quar, oow, rows + quar + oow,
        failed, skipped, replaced, ignored, retries, seconds, reasons,
    )
