"""Pure: which parsed flow records hold values no flow log writes (no boto3, no duckdb).

A record that parses (the right number of tokens, integers where integers go) can still be
garbage: port 70000, negative bytes, version 99, a start after its end, an address that is not
one, a token megabytes long, a NUL byte. Such rows are quarantined with a reason, never stored.
The checks are vectorised (pyarrow compute over whole columns); only the rare bad rows are
described one by one. Both parsers and the Parquet reader call :func:`invalid_rows`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flowlens.arrays import ints, strings, to_mask

#: Flow-log versions AWS defines: VPC 2-5, 7, 8; Transit Gateway 6.
KNOWN_VERSIONS = (2, 3, 4, 5, 6, 7, 8)
#: The longest token a flow log writes is an ECS ARN (a few hundred bytes); past this it is not one.
MAX_TOKEN_BYTES = 2048
PORTS = ("srcport", "dstport")
COUNTERS = (
    "packets",
    "bytes",
    "packets_lost_no_route",
    "packets_lost_blackhole",
    "packets_lost_mtu_exceeded",
    "packets_lost_ttl_expired",
)
ADDRESSES = ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr")
_IPV4 = (
    r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
)


@dataclass(frozen=True)
class Invalid:
    """Rows of a table that must not be stored: a mask, and a reason per masked row (in order)."""

    mask: np.ndarray
    reasons: list[str]

    @property
    def count(self) -> int:
        return len(self.reasons)


#: One check: (table) -> (bad mask or None, describe(row index) -> reason).
_Check = Callable[[pa.Table], tuple[np.ndarray | None, Callable[[int], str]]]


def invalid_rows(table: pa.Table) -> Invalid | None:
    """The rows of ``table`` (a parsed flow table) that hold impossible values;
    None when there are none."""
    n = table.num_rows
    if n == 0:
        return None
    found: list[tuple[np.ndarray, Callable[[int], str]]] = []
    for check in _CHECKS:
        mask, describe = check(table)
        if mask is not None and mask.any():
            found.append((mask, describe))
    if not found:
        return None
    total = np.zeros(n, dtype=bool)
    for mask, _ in found:
        total |= mask
    reasons = []
    for i in np.flatnonzero(total):
        reasons.append(next(describe(int(i)) for mask, describe in found if mask[i]))
    return Invalid(total, reasons)


def _mask(expr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean result as a numpy mask, NULL as False."""
    return to_mask(expr)


def _value(table: pa.Table, name: str, i: int) -> str:
    v = table.column(name)[i].as_py()
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _columns(table: pa.Table, names: tuple[str, ...]) -> list[str]:
    return [
        c for c in names if c in table.column_names and table.column(c).null_count < table.num_rows
    ]


def _outside(table: pa.Table, names: tuple[str, ...], lo: int, hi: int | None) -> list[str]:
    """The columns of ``names`` holding a value outside ``lo..hi``: one min/max pass per column,
    so a clean table (nearly every one) never builds the per-row masks."""
    out = []
    for c in _columns(table, names):
        mm = pc.min_max(table.column(c)).as_py()
        if mm["min"] < lo or (hi is not None and mm["max"] > hi):
            out.append(c)
    return out


def _ports(table: pa.Table) -> tuple[np.ndarray | None, Callable[[int], str]]:
    cols = _outside(table, PORTS, 0, 65535)
    masks = {
        c: _mask(pc.or_(pc.less(table.column(c), 0), pc.greater(table.column(c), 65535)))
        for c in cols
    }
    return _combine(masks, lambda c, i: f"{c} {_value(table, c, i)} is outside 0-65535")


def _protocol(table: pa.Table) -> tuple[np.ndarray | None, Callable[[int], str]]:
    cols = _outside(table, ("protocol",), 0, 255)
    masks = {
        c: _mask(pc.or_(pc.less(table.column(c), 0), pc.greater(table.column(c), 255)))
        for c in cols
    }
    return _combine(masks, lambda c, i: f"protocol {_value(table, c, i)} is outside 0-255")


def _counters(table: pa.Table) -> tuple[np.ndarray | None, Callable[[int], str]]:
    masks = {c: _mask(pc.less(table.column(c), 0)) for c in _outside(table, COUNTERS, 0, None)}
    return _combine(masks, lambda c, i: f"{c} {_value(table, c, i)} is negative")


def _version(table: pa.Table) -> tuple[np.ndarray | None, Callable[[int], str]]:
    # KNOWN_VERSIONS is the range 2..8: a column inside it holds only known versions.
    cols = _outside(table, ("version",), min(KNOWN_VERSIONS), max(KNOWN_VERSIONS))
    known = ints(KNOWN_VERSIONS, pa.int32()) if cols else None
    masks = {
        c: _mask(
            pc.and_(
                pc.is_valid(table.column(c)), pc.invert(pc.is_in(table.column(c), value_set=known))
            )
        )
        for c in cols
    }
    return _combine(
        masks,
        lambda c, i: (
            f"version {_value(table, c, i)} is not a flow-log version "
            f"({', '.join(map(str, KNOWN_VERSIONS))})"
        ),
    )


def _times(table: pa.Table) -> tuple[np.ndarray | None, Callable[[int], str]]:
    if not _columns(table, ("start",)) or not _columns(table, ("end",)):
        return None, str
    mask = _mask(pc.greater(table.column("start"), table.column("end")))
    return (
        mask,
        lambda i: f"start {_value(table, 'start', i)} is after end {_value(table, 'end', i)}",
    )


def _addresses(table: pa.Table) -> tuple[np.ndarray | None, Callable[[int], str]]:
    masks = {}
    for c in _columns(table, ADDRESSES):
        col = table.column(c)
        values = pc.unique(col)  # addresses repeat: check each distinct one once
        rest = values.filter(pc.invert(pc.match_substring_regex(values, _IPV4)))  # NULLs dropped
        if len(rest) == 0:
            continue
        bad = [s for s in rest.to_pylist() if s is not None and not _is_address(s)]
        if bad:
            masks[c] = _mask(pc.is_in(col, value_set=strings(bad)))
    return _combine(masks, lambda c, i: f"{c} {_value(table, c, i)} is not an IP address")


def _is_address(text: str) -> bool:
    if ":" not in text or len(text) > 45:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _strings(table: pa.Table) -> tuple[np.ndarray | None, Callable[[int], str]]:
    """Over-long tokens and NUL bytes, in every string column and the ``extra`` map's values.

    First per column, cheaply (the longest value; a zero byte anywhere in the data buffers), and
    row by row only for a column that has one.
    """
    long_masks, nul_masks = {}, {}
    n = table.num_rows
    for name in table.column_names:
        col = table.column(name)
        if col.null_count == len(col):
            continue
        if pa.types.is_string(col.type):
            if (pc.max(pc.binary_length(col)).as_py() or 0) > MAX_TOKEN_BYTES:
                long_masks[name] = _mask(pc.greater(pc.binary_length(col), MAX_TOKEN_BYTES))
            if _has_zero_byte(col):
                nul_masks[name] = _mask(pc.match_substring(col, "\x00"))
        elif pa.types.is_map(col.type):
            items = pa.chunked_array([c.items for c in col.chunks], pa.string())
            if (pc.max(pc.binary_length(items)).as_py() or 0) > MAX_TOKEN_BYTES or _has_zero_byte(
                items
            ):
                long_masks[name], nul_masks[name] = _map_masks(col, n)
    none = np.zeros(n, dtype=bool)
    masks = {c: long_masks.get(c, none) | nul_masks.get(c, none) for c in {*long_masks, *nul_masks}}

    def describe(c: str, i: int) -> str:
        if nul_masks.get(c, none)[i]:
            return f"{c} holds a NUL byte"
        return f"{c} holds a token longer than {MAX_TOKEN_BYTES} bytes"

    return _combine(masks, describe)


def _has_zero_byte(col: pa.ChunkedArray) -> bool:
    """Whether a string column's data buffers hold a zero byte (a memchr-speed scan; may over-report
    bytes outside a sliced array's range, which only costs the exact check)."""
    for arr in col.chunks:
        data = arr.buffers()[2]
        if data is not None and data.size and np.frombuffer(data, dtype=np.uint8).min() == 0:
            return True
    return False


def _map_masks(col: pa.ChunkedArray, n: int) -> tuple[np.ndarray, np.ndarray]:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    items = arr.items
    too_long = _mask(pc.greater(pc.binary_length(items), MAX_TOKEN_BYTES))
    nul = _mask(pc.match_substring(items, "\x00"))
    offsets = np.asarray(arr.offsets.to_numpy(zero_copy_only=False))
    rows = np.searchsorted(offsets, np.arange(len(items)), side="right") - 1
    long_rows, nul_rows = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    long_rows[rows[too_long]] = True
    nul_rows[rows[nul]] = True
    return long_rows, nul_rows


def _combine(
    masks: dict[str, np.ndarray], describe: Callable[[str, int], str]
) -> tuple[np.ndarray | None, Callable[[int], str]]:
    live = {c: m for c, m in masks.items() if m.any()}
    if not live:
        return None, str
    total = np.logical_or.reduce(list(live.values()))
    return total, lambda i: describe(next(c for c, m in live.items() if m[i]), i)


_CHECKS: tuple[_Check, ...] = (
    _strings,
    _version,
    _ports,
    _protocol,
    _counters,
    _times,
    _addresses,
)
