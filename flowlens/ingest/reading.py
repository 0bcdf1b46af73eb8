"""Reading planned objects: parse each into a batch, route rows to the flows/tgw writers and bad
lines to quarantine, and record per object what was taken (:class:`ObjectResult`).

Small gzip text objects of one task are parsed together; a large object is flushed chunk by
chunk so memory stays bounded (see batch.py for how rows are split into partitions).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import IO, NamedTuple

import pyarrow as pa

from flowlens.datadir import DataDir
from flowlens.errors import FlowlensError, InputError
from flowlens.ingest.batch import Block, Piece, split
from flowlens.ingest.keys import FileFormat
from flowlens.ingest.parquet_in import read_parquet
from flowlens.ingest.parse import (
    BadLine,
    Body,
    Header,
    flow_log_header,
    iter_chunks,
    parse_chunk,
    parse_joined,
    split_header,
)
from flowlens.ingest.planning import Planned
from flowlens.ingest.source import Source
from flowlens.ingest.writer import PartitionWriter, memory_schema
from flowlens.model.flow import FLOW_FILE_SCHEMA, TGW_FILE_SCHEMA
from flowlens.model.tables import QUARANTINE_SCHEMA

#: Parsed rows of a task are split and written together once this many have accumulated.
FLUSH_ROWS = 131_072
#: Gzip text objects up to this size are read whole and parsed together with their batch's others.
SMALL_OBJECT_BYTES = 1 << 20


@dataclass
class ObjectResult:
    """What reading one object yielded, or why it failed."""

    rows: int = 0
    quarantined: int = 0
    out_of_window: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None


class Sink:
    """Routes parsed tables to the flows/tgw writers and bad lines to quarantine."""

    def __init__(self, dd: DataDir, run_id: str, strict: bool) -> None:
        parts = ("account_id", "region", "date")
        flows, tgw = memory_schema(FLOW_FILE_SCHEMA), memory_schema(TGW_FILE_SCHEMA)
        self.flows = PartitionWriter(dd.flows, dd.root, flows, parts, run_id)
        self.tgw = PartitionWriter(dd.tgw_flows, dd.root, tgw, parts, run_id)
        self.quarantine = PartitionWriter(
            dd.quarantine, dd.root, QUARANTINE_SCHEMA, ("date",), run_id
        )
        self.strict = strict

    def writers(self) -> tuple[PartitionWriter, ...]:
        return (self.flows, self.tgw, self.quarantine)


#: One piece of a large object: its records, those read apart (REJECTs, see parse.Body), bad lines.
_Part = tuple[pa.Table, pa.Table | None, list[BadLine]]


def _read(stream: IO[bytes], p: Planned) -> tuple[Header, Iterator[_Part]]:
    if p.key.format is FileFormat.PARQUET:
        header, tables = read_parquet(stream, p.obj.key)
        return header, ((table, None, bad) for table, bad in tables)
    chunks = iter_chunks(stream, gz=True)
    first = next(chunks, b"")
    if not first or first.isspace():
        raise InputError(f"{p.obj.key}: the object is empty (no header line)")
    head, rest = split_header(first)
    header = flow_log_header(head, p.obj.key)

    def parsed() -> Iterator[_Part]:
        line = 2
        for chunk, last in _with_last(_chain(rest, chunks)):
            body = Body.of(chunk)
            joined = parse_joined([body], header)
            if joined is not None:
                yield joined.table, joined.apart, []
            else:  # not clean: line numbers, quarantine
                pc_ = parse_chunk(chunk, header, line)
                yield pc_.table, None, pc_.bad
            if not last:  # line numbers of the next chunk
                line += body.lines

    return header, parsed()


def _read_small(stream: IO[bytes], p: Planned) -> tuple[Header, Body]:
    """Header and whole body of a small gzip text object."""
    text = b"".join(iter_chunks(stream, gz=True))  # one inflated piece: joined without a copy
    if not text or text.isspace():  # not strip(): that copies the text
        raise InputError(f"{p.obj.key}: the object is empty (no header line)")
    cut = text.find(b"\n")
    return flow_log_header(text[:cut], p.obj.key), Body.of(text, cut + 1)


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


class _Group(NamedTuple):
    """Pieces split and written together: same table, same window intervals, and whether they
    are the records read apart (REJECTs: row groups of their own, see parse.Body)."""

    tgw: bool
    apart: bool
    intervals: tuple[tuple[int, int], ...]


class _Batch:
    """Parsed tables of one task's objects, split and handed to the sink together (see batch.py)."""

    def __init__(self, planned: list[Planned], results: list[ObjectResult], sink: Sink) -> None:
        self.planned, self.results, self.sink = planned, results, sink
        self.blocks: dict[_Group, list[Block]] = {}
        self.texts: dict[Header, list[tuple[int, Body]]] = {}  # small objects, parsed together
        self.rows = 0  # rows in blocks, plus text bytes / 100 (about a record's size)

    def _piece(self, i: int, rows: int) -> Piece:
        p = self.planned[i]
        k = p.key
        return Piece(
            i, rows, p.obj.key, k.flow_log_id, k.account_id, k.region, int(k.timestamp.timestamp())
        )

    def add(self, i: int, tgw: bool, tables: list[pa.Table], apart: bool = False) -> None:
        group = _Group(tgw, apart, self.planned[i].intervals)
        for t in tables:
            self._add(group, Block(t, [self._piece(i, t.num_rows)]))

    def _add(self, group: _Group, b: Block) -> None:
        self.blocks.setdefault(group, []).append(b)
        self.rows += b.table.num_rows

    def _add_joined(
        self, tgw: bool, indices: list[int], table: pa.Table, lines: list[int], apart: bool
    ) -> None:
        """One joined read's rows: a block per run of objects with the same window intervals."""
        start = 0
        while indices:
            intervals = self.planned[indices[0]].intervals
            n = next(
                (j for j, i in enumerate(indices) if self.planned[i].intervals != intervals),
                len(indices),
            )
            pieces = [self._piece(i, r) for i, r in zip(indices[:n], lines[:n], strict=True)]
            rows = sum(lines[:n])
            self._add(_Group(tgw, apart, intervals), Block(table.slice(start, rows), pieces))
            start += rows
            indices, lines = indices[n:], lines[n:]

    def add_text(self, i: int, header: Header, body: Body) -> None:
        self.texts.setdefault(header, []).append((i, body))
        self.rows += (len(body.text) - body.start) // 100

    def _parse_texts(self) -> None:
        texts, self.texts = self.texts, {}
        for header, bodies in texts.items():
            self._parse_group(header, bodies)

    def _parse_group(self, header: Header, bodies: list[tuple[int, Body]]) -> None:
        """Parse bodies together; a group that is not clean is halved until the culprit is alone."""
        joined = parse_joined([b for _, b in bodies], header)
        if joined is not None:
            indices = [i for i, _ in bodies]
            self._add_joined(header.tgw, indices, joined.table, joined.lines, apart=False)
            if joined.apart is not None:
                self._add_joined(header.tgw, indices, joined.apart, joined.apart_lines, apart=True)
        elif len(bodies) > 1:
            self._parse_group(header, bodies[: len(bodies) // 2])
            self._parse_group(header, bodies[len(bodies) // 2 :])
        else:  # alone: line numbers, quarantine, errors of this object
            i, body = bodies[0]
            p, res = self.planned[i], self.results[i]
            try:
                parsed = parse_chunk(body.records, header, 2)
                _take_bad(parsed.bad, p, self.sink, res)
                self.add(i, header.tgw, [parsed.table])
            except pa.ArrowException as exc:
                res.error = f"{p.obj.key}: {type(exc).__name__}: {exc}"

    def flush(self) -> None:
        self._parse_texts()
        for group, blocks in self.blocks.items():
            try:
                self._write(group, blocks)
            except (FlowlensError, pa.ArrowException):
                indices = sorted({p.index for b in blocks for p in b.pieces})
                for i in indices:  # find the object at fault
                    self._write_one(i, group, [b.of(i) for b in blocks])
        self.blocks, self.rows = {}, 0

    def _write_one(self, i: int, group: _Group, blocks: list[Block]) -> None:
        key = self.planned[i].obj.key
        try:
            self._write(group, blocks)
        except FlowlensError as exc:
            self.results[i].error = f"{key}: {exc}"
        except pa.ArrowException as exc:
            self.results[i].error = f"{key}: {type(exc).__name__}: {exc}"

    def _write(self, group: _Group, blocks: list[Block]) -> None:
        s = split(blocks, group.intervals, TGW_FILE_SCHEMA if group.tgw else FLOW_FILE_SCHEMA)
        writer = self.sink.tgw if group.tgw else self.sink.flows
        for values, table, keys in s.parts:
            writer.add(values, table, keys, apart=group.apart)
        for i, n in s.rows.items():
            self.results[i].rows += n
        for i, n in s.out_of_window.items():
            self.results[i].out_of_window += n


def process(
    source: Source, planned: list[Planned], sink: Sink, fetch_pool: Executor | None = None
) -> list[ObjectResult]:
    """Read a batch of objects into the sink; errors are recorded per object, except under
    --strict.

    With ``fetch_pool``, small objects are fetched (GET and inflate) ahead of the parse, a few at
    a time (:class:`_Ahead`); errors still surface at their object, in order.
    """
    results = [ObjectResult() for _ in planned]
    batch = _Batch(planned, results, sink)
    ahead = _Ahead(source, planned, fetch_pool)
    try:
        for i, p in enumerate(planned):
            try:
                _process_one(source, p, i, batch, ahead.take(i))
            except FlowlensError as exc:
                if sink.strict:
                    raise
                text = str(exc)
                results[i].error = text if text.startswith(p.obj.key) else f"{p.obj.key}: {text}"
            except (OSError, pa.ArrowException) as exc:
                results[i].error = f"{p.obj.key}: {type(exc).__name__}: {exc}"
            if batch.rows >= FLUSH_ROWS:
                batch.flush()
        batch.flush()
    finally:
        ahead.cancel()
    return results


#: Small objects fetched ahead of the parse, per worker: an S3 GET answers after tens of
#: milliseconds, and the parse of the objects before it need not wait for it...
OBJECTS_AHEAD = 4
#: ...and at most this many compressed bytes (memory stays bounded: the text is ~7x this).
BYTES_AHEAD = 4 << 20


def _is_small(p: Planned) -> bool:
    return p.key.format is not FileFormat.PARQUET and p.obj.size <= SMALL_OBJECT_BYTES


def _fetch_small(source: Source, p: Planned) -> tuple[Header, Body]:
    with source.open(p.obj.key) as stream:
        return _read_small(stream, p)


class _Ahead:
    """The fetches in flight for one task's small objects, submitted in order, taken in order."""

    def __init__(self, source: Source, planned: list[Planned], pool: Executor | None) -> None:
        self.source, self.planned, self.pool = source, planned, pool
        self.next = 0  # the next object to consider
        self.futures: dict[int, Future[tuple[Header, Body]]] = {}

    def take(self, i: int) -> Future[tuple[Header, Body]] | None:
        """The fetch of object ``i`` (None: not a small object, or no pool); tops up the window."""
        if self.pool is None:
            return None
        while self.next < len(self.planned) and (
            self.next <= i
            or (
                len(self.futures) < OBJECTS_AHEAD
                and sum(self.planned[j].obj.size for j in self.futures) < BYTES_AHEAD
            )
        ):
            j, self.next = self.next, self.next + 1
            if _is_small(self.planned[j]):
                self.futures[j] = self.pool.submit(_fetch_small, self.source, self.planned[j])
        return self.futures.pop(i, None)

    def cancel(self) -> None:
        """Drop fetches not taken (a --strict error): queued ones never start."""
        for f in self.futures.values():
            f.cancel()
        self.futures.clear()


def _process_one(
    source: Source,
    p: Planned,
    i: int,
    batch: _Batch,
    fetched: Future[tuple[Header, Body]] | None = None,
) -> None:
    """Parse one object into the batch; a large object is flushed chunk by
    chunk (memory stays bounded)."""
    if _is_small(p):
        header, body = fetched.result() if fetched else _fetch_small(source, p)
        batch.add_text(i, header, body)
        return
    res = batch.results[i]
    with source.open(p.obj.key) as stream:
        header, parts = _read(stream, p)
        tables: list[pa.Table] = []
        apart: list[pa.Table] = []
        for table, table_apart, bad in parts:
            _take_bad(bad, p, batch.sink, res)
            tables.append(table)
            if table_apart is not None:
                apart.append(table_apart)
            if sum(t.num_rows for t in (*tables, *apart)) >= FLUSH_ROWS:
                batch.add(i, header.tgw, tables)
                batch.add(i, header.tgw, apart, apart=True)
                batch.flush()
                tables, apart = [], []
    batch.add(i, header.tgw, tables)
    batch.add(i, header.tgw, apart, apart=True)


def _take_bad(bad: list[BadLine], p: Planned, sink: Sink, res: ObjectResult) -> None:
    if not bad:
        return
    if sink.strict:
        b = bad[0]
        raise InputError(
            f"{p.obj.key}: line {b.line_number}: {b.reason}: {b.raw[:200]!r} (--strict)"
        )
    res.quarantined += len(bad)
    for b in bad:
        res.reasons[b.reason] = res.reasons.get(b.reason, 0) + 1
    if p.first_read:
        table = pa.Table.from_pydict(
            {
                "source_key": [p.obj.key] * len(bad),
                "line_number": [b.line_number for b in bad],
                "raw": [b.raw for b in bad],
                "reason": [b.reason for b in bad],
            },
            schema=QUARANTINE_SCHEMA,
        )
        sink.quarantine.add((p.key.timestamp.date().isoformat(),), table, {p.obj.key})
