"""Text flow-log records → Arrow tables (pure: no boto3, no duckdb).

Fast path: collapse whitespace runs in C (``re.sub`` on bytes), then pyarrow's CSV reader with a
space delimiter, ``-`` as NULL and the explicit column types. A chunk the fast path cannot convert
(a non-integer in an integer column, bad UTF-8) is re-parsed line by line in Python, which is the
reference semantics: split on runs of ASCII whitespace, ``-`` → NULL, integers checked. Lines with
the wrong number of tokens, and records with values no flow log writes (validate.py), are
quarantined with their line number, raw text and reason.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import IO, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from isal import isal_zlib

from flowlens.arrays import from_numpy, strings
from flowlens.errors import InputError
from flowlens.ingest.validate import invalid_rows
from flowlens.model.flow import (
    EXTRA,
    TGW_BY_NAME,
    TGW_FIELDS,
    TGW_MARKERS,
    VPC_BY_NAME,
    VPC_FIELDS,
    FlowField,
)

#: start/end above this are epoch milliseconds (10^11 s is the year 5138).
MILLIS_THRESHOLD = 10**11
CHUNK_BYTES = 8 << 20
#: pyarrow's CSV reader parses in blocks of this size: one block per 8 MB chunk (or per task's
#: joined small objects, ~25 MB) parsed ~40% slower, its buffers no longer fitting in the cache.
CSV_BLOCK_BYTES = 1 << 20
_READ_BYTES = 1 << 20

# Only runs that are not already a single space: most chunks have none, and then nothing is copied.
_WS = re.compile(rb" [ \t\r\f\v]+|[\t\r\f\v][ \t\r\f\v]*")
_ODD_BYTES = (b"\t", b"\r", b"\f", b"\v")
_ODD_WS = (b"  ", *_ODD_BYTES)
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_INT = re.compile(rb"^-?[0-9]+$")
#: isal's error class (its stub declares it as an instance, hence the cast).
_GZIP_ERROR = cast(type[Exception], isal_zlib.error)
_INT_RANGE = {pa.int32(): (-(2**31), 2**31 - 1), pa.int64(): (-(2**63), 2**63 - 1)}

#: Every column a parsed VPC table has: all known fields (partition columns included) + extra.
VPC_TABLE_SCHEMA = pa.schema([pa.field(f.column, f.type) for f in VPC_FIELDS] + [EXTRA])
TGW_TABLE_SCHEMA = pa.schema([pa.field(f.column, f.type) for f in TGW_FIELDS] + [EXTRA])


@dataclass(frozen=True)
class Header:
    """The field list of one object (its header line, or a known format)."""

    fields: tuple[str, ...]

    # Cached: asked for every chunk and column (frozen dataclasses still allow cached_property).
    @cached_property
    def tgw(self) -> bool:
        return bool(TGW_MARKERS.intersection(self.fields))

    @cached_property
    def known(self) -> dict[str, FlowField]:
        return TGW_BY_NAME if self.tgw else VPC_BY_NAME

    @property
    def table_schema(self) -> pa.Schema:
        return TGW_TABLE_SCHEMA if self.tgw else VPC_TABLE_SCHEMA

    @cached_property
    def unknown(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if f not in self.known)

    @cached_property
    def column_types(self) -> dict[str, pa.DataType]:
        return {n: self.type_of(n) for n in self.fields}

    def type_of(self, name: str) -> pa.DataType:
        f = self.known.get(name)
        return f.type if f else pa.string()


def parse_header(line: bytes | str, where: str = "") -> Header:
    """A header line (``version account-id ...``) or a ``${...}`` format → :class:`Header`."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    header = _header(text)
    if isinstance(header, Header):
        return header
    raise InputError(f"{where}: {header}")


@lru_cache(maxsize=256)
def _header(text: str) -> Header | str:
    """The header of a header line, or what is wrong with it (cached: every object repeats it)."""
    names = [t.removeprefix("${").removesuffix("}") for t in text.split()]
    bad = [n for n in names if not _FIELD_NAME.match(n)]
    if not names or bad:
        return f"line 1 is not a flow-log header line: {text[:120]!r}"
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        return f"header line names {', '.join(dupes)} more than once"
    return Header(tuple(names))


def flow_log_header(line: bytes | str, where: str) -> Header:
    """An object's header line, refused unless it is a flow log's (:func:`missing_flow_fields`).

    :func:`parse_header` reads any field list (formats, tests of a few fields); an object is
    only taken as flow logs when its header names what every flow-log format has.
    """
    header = parse_header(line, where)
    missing = missing_flow_fields(header.fields)
    if missing:
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        raise InputError(
            f"{where}: line 1 is not a flow-log header line ({missing}): {text[:120]!r}"
        )
    return header


#: A format without ``version`` must carry these (interface-id, addresses,
#: and action or log-status).
CORE_FIELDS = ("interface-id", "srcaddr", "dstaddr")


def missing_flow_fields(names: list[str] | tuple[str, ...]) -> str:
    """What a field list lacks to be a flow log's ('' when it is one).

    AWS's header lines start with ``version`` unless the format leaves it out; a custom format
    without it still names the interface, both addresses and the action or log status. A Transit
    Gateway format names its gateway or attachment and both addresses.
    """
    have = set(names)
    if "version" in have:
        return ""
    if TGW_MARKERS & have and {"srcaddr", "dstaddr"} <= have:
        return ""
    lacking = [f for f in CORE_FIELDS if f not in have]
    if not have & {"action", "log-status"}:
        lacking.append("action or log-status")
    if not lacking:
        return ""
    return (
        f"no version field, and the default format's core fields {', '.join(lacking)} are missing"
    )


@dataclass(frozen=True)
class BadLine:
    line_number: int
    raw: str
    reason: str


@dataclass(frozen=True)
class ParsedChunk:
    """One chunk of records: ``table`` in the header's table schema, ``bad`` lines, lines read."""

    table: pa.Table
    bad: list[BadLine] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return self.table.num_rows + len(self.bad)


# ---------------------------------------------------------------- byte streams → line chunks


def iter_chunks(raw: IO[bytes], *, gz: bool, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Decompressed text in chunks that end at a line boundary (every chunk ends with ``\\n``).

    Multi-member gzip is followed; a truncated or corrupt stream raises :class:`InputError`.
    """
    parts: list[bytes] = []
    size = 0
    for piece in _decompressed(raw) if gz else iter(lambda: raw.read(_READ_BYTES), b""):
        parts.append(piece)
        size += len(piece)
        if size >= chunk_bytes:
            pending = b"".join(parts)
            cut = pending.rfind(b"\n") + 1
            if cut:
                yield pending[:cut]
                pending = pending[cut:]
            parts, size = [pending], len(pending)
    pending = b"".join(parts)
    if pending:
        yield pending if pending.endswith(b"\n") else pending + b"\n"


def _decompressed(raw: IO[bytes]) -> Iterator[bytes]:
    # ISA-L's inflate (zlib's API and results, ~3x faster; it releases the GIL like zlib). It is a
    # dependency, not an optional speed-up: wheels exist wherever pyarrow has them, and one code
    # path is the one the tests cover.
    d = isal_zlib.decompressobj(wbits=47)
    fed = False  # whether the current gzip member has been fed any bytes
    while data := raw.read(_READ_BYTES):
        while data:
            try:
                out = d.decompress(data)
            except _GZIP_ERROR as exc:
                raise InputError(f"corrupt gzip data: {exc}") from None
            fed = True
            if out:
                yield out
            data = d.unused_data if d.eof else b""
            if d.eof:
                d, fed = isal_zlib.decompressobj(wbits=47), False
    if fed and not d.eof:
        raise InputError("truncated gzip data: the object ends inside a compressed member")


def split_header(chunk: bytes) -> tuple[bytes, bytes]:
    """``(header line, rest)`` of the first chunk."""
    cut = chunk.find(b"\n")
    return chunk[:cut], chunk[cut + 1 :]


# ---------------------------------------------------------------- chunk → table


def parse_chunk(chunk: bytes, header: Header, first_line: int) -> ParsedChunk:
    """Parse ``chunk`` (whole lines; its first line is line ``first_line`` of the object).

    A chunk with an impossible value (:mod:`flowlens.ingest.validate`) is parsed again line by
    line, which knows each row's line and text for the quarantine.
    """
    try:
        fast = _parse_fast(chunk, header, first_line)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return parse_chunk_python(chunk, header, first_line)
    if invalid_rows(fast.table) is not None:
        return parse_chunk_python(chunk, header, first_line)
    return fast


def _collapse(chunk: bytes) -> bytes:
    c = _WS.sub(b" ", chunk) if any(w in chunk for w in _ODD_WS) else chunk
    if b" \n" in c:
        c = c.replace(b" \n", b"\n")
    if b"\n " in c:
        c = c.replace(b"\n ", b"\n")
    return c[1:] if c.startswith(b" ") else c


def _parse_fast(chunk: bytes, header: Header, first_line: int) -> ParsedChunk:
    if not any(w in chunk for w in _ODD_BYTES):  # memchr scans: cheap
        # Single spaces (what AWS writes): parse as is. A doubled, leading or trailing space shows
        # as an extra or empty field; then the chunk is collapsed and parsed again.
        try:
            table, rejected = _read_csv(chunk, header)
            if not rejected and not _has_empty_field(table):
                return ParsedChunk(
                    finish_table({n: table.column(n) for n in header.fields}, header)
                )
        except pa.ArrowInvalid:
            pass
    table, rejected = _read_csv(_collapse(chunk), header)
    if any(n == 0 for n, _ in rejected):
        raise pa.ArrowInvalid("invalid row without a row number")
    bad: list[BadLine] = []
    if rejected:
        lines = chunk.split(b"\n")
        for number, ntok in rejected:
            raw = lines[number - 1]
            bad.append(BadLine(first_line + number - 1, _raw(raw), _count_reason(ntok, header)))
    return ParsedChunk(finish_table({n: table.column(n) for n in header.fields}, header), bad)


#: The byte that marks a line as a REJECT record for the layout (:class:`Body`): of the values a
#: flow log writes, only ``REJECT`` holds an uppercase J (ids and addresses are hex or digits, the
#: other actions, statuses and AWS service names have none). It only decides which row group a
#: record goes to, never what is stored: a line it misjudges is merely read by more queries.
REJECT_MARK = ord("J")
_MARK = bytes([REJECT_MARK])


@dataclass(frozen=True)
class Body:
    """A small object's records, ``text[start:]`` (its header line before ``start``), scanned once.

    The scans run per object, on text the inflater has just written (still in the cache), and
    the records are never copied out of ``text`` before the joined parse. ``apart`` are the byte
    ranges of the lines holding :data:`REJECT_MARK` (runs of such lines merged): the joined parse
    reads them on their own, so the writer can put the REJECT records in row groups of their own
    and a query of the REJECTs (70_rejected) skips every other row group by its statistics.
    """

    text: bytes
    start: int
    lines: int  # newlines in the records
    odd: bool  # whether the text holds a tab, CR, FF or VT (anywhere: the header too)
    apart: tuple[tuple[int, int], ...] = ()  # [start, end) of the lines read apart
    apart_lines: int = 0

    @classmethod
    def of(cls, text: bytes, start: int = 0) -> Body:
        view = np.frombuffer(text, dtype=np.uint8)[start:]
        lines = int(np.count_nonzero(view == 10))  # numpy's SIMD compare: ~2x bytes.count
        odd = any(w in text for w in _ODD_BYTES)
        apart: list[tuple[int, int]] = []
        n = 0
        # A few marks per object, each found by memchr: cheaper than another pass over the text.
        at = text.find(_MARK, start) if not odd else -1
        while at >= 0:
            lo, hi = max(text.rfind(b"\n", start, at) + 1, start), text.find(b"\n", at) + 1
            if not hi:  # a mark on a last line without a newline: no split
                return cls(text, start, lines, odd)
            if apart and apart[-1][1] == lo:  # runs of marked lines read as one piece
                apart[-1] = (apart[-1][0], hi)
            else:
                apart.append((lo, hi))
            n += 1
            at = text.find(_MARK, hi)
        return cls(text, start, lines, odd, tuple(apart), n)

    @property
    def records(self) -> bytes:
        """The records as their own bytes (a copy; only the one-object path needs it)."""
        return self.text[self.start :] if self.start else self.text

    def segments(self, apart: bool) -> list[memoryview]:
        """The text of the lines read apart (``apart``) or of the others, as views."""
        view = memoryview(self.text)
        if apart:
            return [view[s:e] for s, e in self.apart]
        out, at = [], self.start
        for s, e in self.apart:
            if s > at:
                out.append(view[at:s])
            at = e
        if at < len(self.text):
            out.append(view[at:])
        return out


@dataclass(frozen=True)
class Joined:
    """Bodies' records parsed together: ``table`` holds ``lines[k]`` rows of body ``k``, in
    order; ``apart`` likewise the lines read apart (:class:`Body`; None: no body has any)."""

    table: pa.Table
    lines: list[int]
    apart: pa.Table | None = None
    apart_lines: list[int] = field(default_factory=list)

    def tables(self, apart: bool = False) -> list[pa.Table]:
        """Each body's rows (of ``apart`` or of ``table``) as its own slice."""
        table, lines = (self.apart, self.apart_lines) if apart else (self.table, self.lines)
        if table is None:
            return []
        starts = np.concatenate([[0], np.cumsum(lines)[:-1]])
        return [table.slice(int(s), n) for s, n in zip(starts, lines, strict=True)]


def parse_joined(bodies: list[Body], header: Header) -> Joined | None:
    """Several objects' bodies (same header) in one CSV read each for the records and for the
    lines read apart (:class:`Body`), or ``None``.

    For small objects the reader's fixed cost per call dominates. Only clean text takes this
    path: single spaces, no bad line, no empty line (each line is a row, so rows map back to
    their object by line counts). Anything else returns ``None``: parse each body with
    :func:`parse_chunk`, which has the line numbers and the quarantine.
    """
    if any(b.odd for b in bodies):
        return None
    lines = [b.lines - b.apart_lines for b in bodies]
    table = _read_clean([s for b in bodies for s in b.segments(False)], sum(lines), header)
    if table is None or not any(b.apart_lines for b in bodies):
        return None if table is None else Joined(table, lines)
    apart_lines = [b.apart_lines for b in bodies]
    apart = _read_clean([s for b in bodies for s in b.segments(True)], sum(apart_lines), header)
    return None if apart is None else Joined(table, lines, apart, apart_lines)


def _read_clean(segments: list[memoryview], lines: int, header: Header) -> pa.Table | None:
    """The ``lines`` lines of ``segments`` in one CSV read; ``None`` unless every line is a
    clean record."""
    if not lines:
        return header.table_schema.empty_table()
    data = b"".join(segments)
    try:
        table, rejected = _read_csv(data, header)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if rejected or table.num_rows != lines or _has_empty_field(table):
        return None
    finished = finish_table({n: table.column(n) for n in header.fields}, header)
    return None if invalid_rows(finished) is not None else finished


def _read_csv(data: bytes, header: Header) -> tuple[pa.Table, list[tuple[int, int]]]:
    """pyarrow's CSV reader, single-space delimited; rows with the wrong field
    count are returned apart."""
    try:
        return _read_csv_blocks(data, header, min(len(data) + 1, CSV_BLOCK_BYTES))
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
    # A line longer than a block (a token of megabytes, which validation then quarantines).
    return _read_csv_blocks(data, header, len(data) + 1)


def _read_csv_blocks(
    data: bytes, header: Header, block_size: int
) -> tuple[pa.Table, list[tuple[int, int]]]:
    rejected: list[tuple[int, int]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        rejected.append((row.number or 0, row.actual_columns))
        return "skip"

    # The serial reader (use_threads=False: the workers are the parallelism) numbers rows across
    # blocks, so the rejected rows' line numbers hold whatever the block size.
    table = pcsv.read_csv(
        io.BytesIO(data),
        read_options=pcsv.ReadOptions(
            column_names=list(header.fields), use_threads=False, block_size=block_size
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=" ", quote_char=False, invalid_row_handler=on_invalid
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=header.column_types,
            null_values=["-"],
            strings_can_be_null=True,
        ),
    )
    return table, rejected


def _has_empty_field(table: pa.Table) -> bool:
    """Whether a string column holds an empty value (an integer column would
    have failed to convert).

    Read from the offsets: a zero-length entry that is not NULL is an empty string.
    """
    for col in table.columns:
        if not pa.types.is_string(col.type) or col.null_count == len(col):
            continue
        for arr in col.chunks:
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
                arr.offset : arr.offset + len(arr) + 1
            ]
            if int(np.count_nonzero(offsets[1:] == offsets[:-1])) > arr.null_count:
                return True
    return False


#: A quarantined line's text is kept up to this many bytes (a 5 MB token is
#: not worth keeping whole).
MAX_RAW_BYTES = 8192


def _raw(line: bytes) -> str:
    if len(line) <= MAX_RAW_BYTES:
        return line.decode("utf-8", "backslashreplace")
    return line[:MAX_RAW_BYTES].decode("utf-8", "backslashreplace") + f"... ({len(line):,} bytes)"


def _count_reason(ntok: int, header: Header) -> str:
    n = len(header.fields)
    more = "extra tokens beyond the header" if ntok > n else "missing fields"
    return f"{ntok} tokens where the header has {n} fields ({more})"


def parse_chunk_python(chunk: bytes, header: Header, first_line: int) -> ParsedChunk:
    """The reference parser (line by line); also the fallback for chunks the fast path rejects."""
    types = [header.type_of(n) for n in header.fields]
    cols: list[list[object]] = [[] for _ in header.fields]
    bad: list[BadLine] = []
    kept: list[tuple[int, bytes]] = []  # line number and text of each row, for the value checks
    for i, line in enumerate(
        chunk.split(b"\n")[:-1] if chunk.endswith(b"\n") else chunk.split(b"\n")
    ):
        tokens = line.split()
        if not tokens:
            continue
        values, reason = _convert(tokens, header, types)
        if reason:
            bad.append(BadLine(first_line + i, _raw(line), reason))
            continue
        kept.append((first_line + i, line))
        for col, v in zip(cols, values, strict=True):
            col.append(v)
    arrays = {n: pa.array(c, type=t) for n, c, t in zip(header.fields, cols, types, strict=True)}
    table = finish_table(arrays, header)
    invalid = invalid_rows(table)
    if invalid is not None:
        for row, reason in zip(np.flatnonzero(invalid.mask), invalid.reasons, strict=True):
            number, line = kept[row]
            bad.append(BadLine(number, _raw(line), reason))
        bad.sort(key=lambda b: b.line_number)
        table = table.filter(from_numpy(~invalid.mask))
    return ParsedChunk(table, bad)


#: The quarantine reason of a header line met again inside an object
#: (concatenated files, a re-delivery).
REPEATED_HEADER = "repeated header line"


def _is_header(tokens: list[bytes], header: Header) -> bool:
    """Whether a line is this object's header again (not a record whose fields fail to convert)."""
    first = (
        tokens[0].decode("utf-8", "replace").removeprefix("${").removesuffix("}") if tokens else ""
    )
    if first != header.fields[0]:  # cheap: a record starts with a value, not the first field's name
        return False
    try:
        again = _header(b" ".join(tokens).decode("utf-8"))
    except UnicodeDecodeError:
        return False
    return isinstance(again, Header) and again.fields == header.fields


def _convert(
    tokens: list[bytes], header: Header, types: list[pa.DataType]
) -> tuple[list[object], str]:
    if _is_header(tokens, header):
        return [], REPEATED_HEADER
    if len(tokens) != len(types):
        return [], _count_reason(len(tokens), header)
    out: list[object] = []
    for name, tok, t in zip(header.fields, tokens, types, strict=True):
        if tok == b"-":
            out.append(None)
        elif t in _INT_RANGE:
            lo, hi = _INT_RANGE[t]
            if not _INT.match(tok) or not lo <= int(tok) <= hi:
                return (
                    [],
                    f"{name} {tok.decode('utf-8', 'backslashreplace')!r} is not a {t} integer",
                )
            out.append(int(tok))
        else:
            try:
                out.append(tok.decode("utf-8"))
            except UnicodeDecodeError:
                return [], f"{name} is not valid UTF-8"
    return out, ""


def finish_table(columns: dict[str, pa.Array | pa.ChunkedArray], header: Header) -> pa.Table:
    """Columns named by field → a table in the header's table schema (absent fields NULL)."""
    n = len(next(iter(columns.values()))) if columns else 0
    arrays = []
    for f in header.table_schema:
        if f.name == "extra":
            arrays.append(_extra(columns, header, n))
            continue
        name = f.name.replace("_", "-")
        col = columns.get(name)
        if col is None:
            arrays.append(pa.nulls(n, f.type))
        else:
            arrays.append(normalise_time(col) if name in ("start", "end") else col)
    return pa.Table.from_arrays(arrays, schema=header.table_schema)


def normalise_time(col: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Epoch milliseconds → seconds (values above :data:`MILLIS_THRESHOLD`)."""
    top = pc.max(col).as_py()
    if top is None or top <= MILLIS_THRESHOLD:
        return col
    big = pc.greater(col, MILLIS_THRESHOLD)
    return pc.if_else(big, pc.divide(col, 1000), col)


def _extra(columns: dict[str, pa.Array | pa.ChunkedArray], header: Header, n: int) -> pa.Array:
    """Unknown fields as a ``map<string,string>`` per row (``-`` stays NULL), never dropped."""
    names = header.unknown
    if not names:
        return pa.nulls(n, EXTRA.type)
    k = len(names)
    field_major = pa.concat_arrays([_flat(columns[name]).cast(pa.string()) for name in names])
    row_major = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).ravel()
    items = field_major.take(from_numpy(row_major.astype(np.int64)))
    keys = strings(list(names) * n)
    offsets = from_numpy(np.arange(0, n * k + 1, k, dtype=np.int32))
    return pa.MapArray.from_arrays(offsets, keys, items)


def _flat(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
