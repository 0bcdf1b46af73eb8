"""Reading planned objects: parse each into a batch, route rows to the flows/tgw writers and bad
lines to quarantine, and record per object what was taken (:class:`ObjectResult`).

Small gzip text objects of one task are parsed together; a large object is flushed chunk by
chunk so memory stays bounded (see batch.py for how rows are split into partitions).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import pyarrow as pa

from flowlens.datadir import DataDir
from flowlens.errors import FlowlensError, InputError
from flowlens.ingest.batch import Piece, split
from flowlens.ingest.keys import FileFormat
from flowlens.ingest.parquet_in import read_parquet
from flowlens.ingest.parse import (
    BadLine,
    Header,
    flow_log_header,
    iter_chunks,
    parse_chunk,
    parse_joined,
    split_header,
)
from flowlens.ingest.planning import Planned
from flowlens.ingest.source import Source
from flowlens.ingest.writer import PartitionWriter
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
        self.flows = PartitionWriter(dd.flows, dd.root, FLOW_FILE_SCHEMA, parts, run_id)
        self.tgw = PartitionWriter(dd.tgw_flows, dd.root, TGW_FILE_SCHEMA, parts, run_id)
        self.quarantine = PartitionWriter(
            dd.quarantine, dd.root, QUARANTINE_SCHEMA, ("date",), run_id
        )
        self.strict = strict

    def writers(self) -> tuple[PartitionWriter, ...]:
        return (self.flows, self.tgw, self.quarantine)


def _read(stream: IO[bytes], p: Planned) -> tuple[Header, Iterator[tuple[pa.Table, list[BadLine]]]]:
    if p.key.format is FileFormat.PARQUET:
        return read_parquet(stream, p.obj.key)
    chunks = iter_chunks(stream, gz=True)
    first = next(chunks, b"")
    if not first.strip():
        raise InputError(f"{p.obj.key}: the object is empty (no header line)")
    head, rest = split_header(first)
    header = flow_log_header(head, p.obj.key)

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
    return flow_log_header(head, p.obj.key), body


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

    def __init__(self, planned: list[Planned], results: list[ObjectResult], sink: Sink) -> None:
        self.planned, self.results, self.sink = planned, results, sink
        self.pieces: dict[tuple[bool, tuple[tuple[int, int], ...]], list[Piece]] = {}
        self.texts: dict[
            Header, list[tuple[int, bytes]]
        ] = {}  # small objects' bodies, parsed together
        self.rows = 0  # rows in pieces, plus text bytes / 100 (about a record's size)

    def add(self, i: int, tgw: bool, tables: list[pa.Table]) -> None:
        p = self.planned[i]
        k = p.key
        for t in tables:
            piece = Piece(
                i, t, p.obj.key, k.flow_log_id, k.account_id, k.region, int(k.timestamp.timestamp())
            )
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

    def _write_one(
        self, tgw: bool, intervals: tuple[tuple[int, int], ...], pieces: list[Piece]
    ) -> None:
        try:
            self._write(tgw, intervals, pieces)
        except FlowlensError as exc:
            self.results[pieces[0].index].error = f"{pieces[0].source_key}: {exc}"
        except pa.ArrowException as exc:
            self.results[
                pieces[0].index
            ].error = f"{pieces[0].source_key}: {type(exc).__name__}: {exc}"

    def _write(
        self, tgw: bool, intervals: tuple[tuple[int, int], ...], pieces: list[Piece]
    ) -> None:
        s = split(pieces, intervals, TGW_FILE_SCHEMA if tgw else FLOW_FILE_SCHEMA)
        writer = self.sink.tgw if tgw else self.sink.flows
        for values, table, keys in s.parts:
            writer.add(values, table, keys)
        for i, n in s.rows.items():
            self.results[i].rows += n
        for i, n in s.out_of_window.items():
            self.results[i].out_of_window += n


def process(source: Source, planned: list[Planned], sink: Sink) -> list[ObjectResult]:
    """Read a batch of objects into the sink; errors are recorded per
    object, except under --strict."""
    results = [ObjectResult() for _ in planned]
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
    """Parse one object into the batch; a large object is flushed chunk by
    chunk (memory stays bounded)."""
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
