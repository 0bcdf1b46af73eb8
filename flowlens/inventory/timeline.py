"""The inventory over time: validity intervals built from many snapshots and AWS Config history.

Pure (pyarrow only); the I/O loader is :mod:`flowlens.inventory.timeline_io`
(:func:`load_timeline`, re-exported here lazily so ``from flowlens.inventory.timeline import
load_timeline`` works without importing I/O code on the pure path).

A snapshot proves only what it shows at its own instant. Between two snapshots nothing is known,
so every row gets two intervals (docs/time.md has a worked example):

- ``valid_from``/``valid_to`` — when the row (this exact content) POSSIBLY held, half-open
  ``[from, to)``. A row seen in the consecutive snapshots ``i..j`` is possibly valid from just after
  (one microsecond) the previous snapshot ``t(i-1)`` that did not show it (:data:`FAR_PAST` when
  ``i`` is the first) to the next snapshot ``t(j+1)`` that did not show it (:data:`FAR_FUTURE` when
  ``j`` is the last: an entity seen last keeps its state forward). Narrowed where AWS states a time:
  ENI ``Attachment.AttachTime`` (an ENI's rows cannot predate it) and flow-log ``CreationTime``.
- ``seen_from``/``seen_to`` — when the row CERTAINLY held: the first and the last snapshot (or
  Config item) that observed it; ``seen_from`` moves earlier to a ``CreationTime``/``AttachTime``
  the same row carries (a flow log exists from its creation). Always inside ``valid``.
- ``source`` — ``'snapshot'`` or ``'config'``.

Rows identical across consecutive snapshots are one row, so a world that does not change gives
exactly the single-snapshot tables plus these five columns, with valid = far past .. far future.
When an entity changes between ``t(k)`` and ``t(k+1)``, its old and its new row are BOTH possibly
valid in ``[t(k), t(k+1))``: possible intervals of one entity may overlap, certain ones never do.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from flowlens import arrays
from flowlens.inventory.resources import coverage_paths, coverage_row
from flowlens.model.inventory import INVENTORY_SCHEMAS, TS

if TYPE_CHECKING:
    from flowlens.datadir import DataDir

FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)

#: valid_from is just after the observation that did not show the row: at
#: that instant it was absent.
JUST_AFTER = timedelta(microseconds=1)

SOURCE_SNAPSHOT = "snapshot"
SOURCE_CONFIG = "config"

#: The columns every timeline table has after its inventory columns.
TIMELINE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("valid_from", TS),
    ("valid_to", TS),
    ("seen_from", TS),
    ("seen_to", TS),
    ("source", pa.string()),
)
TIMELINE_COLUMN_NAMES: tuple[str, ...] = tuple(n for n, _ in TIMELINE_COLUMNS)

Row = dict[str, Any]


def timeline_schema(table: str) -> pa.Schema:
    """The schema of a timeline table: the inventory table's columns plus
    :data:`TIMELINE_COLUMNS`."""
    base = INVENTORY_SCHEMAS[table]
    return pa.schema([*base, *(pa.field(n, t, nullable=False) for n, t in TIMELINE_COLUMNS)])


@dataclass(frozen=True, order=True)
class SnapshotRef:
    """One snapshot used by a timeline: its folder stamp and its capture time (UTC)."""

    taken_at: datetime
    stamp: str


@dataclass(frozen=True)
class SnapshotTables:
    """The input of :func:`build_timeline` for one snapshot: its tables by inventory table name.

    A table missing from ``tables`` (a snapshot written before that table existed, or one its
    inputs did not cover) is not evidence of absence: that snapshot is skipped for that table.
    Likewise ``regions``: a snapshot of some regions says nothing about the rows of the others
    (None: it covers every region).
    """

    ref: SnapshotRef
    tables: Mapping[str, pa.Table]
    regions: frozenset[str] | None = None
    #: The (account, region) pairs a snapshot of several accounts read (``snapshot.json``
    #: ``scopes``): it says nothing about the rows of another account, or of a region of an
    #: account that failed. None: ``regions`` holds for whatever account the rows are of.
    scopes: frozenset[tuple[str, str]] | None = None

    def covers(self, region: str | None, account: str | None = None) -> bool:
        if region is None:
            return True
        if self.scopes is not None and account is not None:
            return (account, region) in self.scopes
        return self.regions is None or region in self.regions

    @property
    def partial(self) -> bool:
        """True when the snapshot read only some regions or accounts."""
        return self.regions is not None or self.scopes is not None


@dataclass(frozen=True)
class Interval:
    """A row's possible ``[valid_from, valid_to)`` and certain ``[seen_from, seen_to]``."""

    valid_from: datetime
    valid_to: datetime
    seen_from: datetime
    seen_to: datetime

    def contains_seen(self) -> bool:
        return self.valid_from <= self.seen_from <= self.seen_to <= self.valid_to


@dataclass(frozen=True)
class ConfigRows:
    """Rows taken from AWS Config history, each with its interval (see :mod:`.config_history`)."""

    tables: Mapping[str, Sequence[tuple[Row, Interval]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Timeline:
    """Every inventory table over time (see the module docstring for the five extra columns).

    ``snapshots``: the snapshots used, oldest first. ``latest``: the newest of them, the state
    recommendations refer to (None only for an empty timeline).
    """

    tables: dict[str, pa.Table]
    snapshots: list[SnapshotRef]
    latest: SnapshotRef | None

    def at(self, table: str, moment: datetime, *, certain: bool = False) -> pa.Table:
        """The rows of ``table`` possibly (or, ``certain=True``, certainly) valid at ``moment``."""
        import pyarrow.compute as pc

        t = self.tables[table]
        m = arrays.scalar(moment.astimezone(UTC), TS)
        if certain:
            return t.filter(
                pc.and_(pc.less_equal(t["seen_from"], m), pc.greater_equal(t["seen_to"], m))
            )
        return t.filter(pc.and_(pc.less_equal(t["valid_from"], m), pc.greater(t["valid_to"], m)))


# --- narrowing: times AWS states -------------------------------------------------------------

#: (table, row, snapshot tables of the run's first snapshot) → (floor of
#: valid_from, earlier seen_from)
Narrower = Callable[[Row, Mapping[str, pa.Table]], tuple[datetime | None, datetime | None]]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _attach_times(tables: Mapping[str, pa.Table]) -> dict[str, datetime]:
    enis = tables.get("enis")
    if enis is None or "attach_time" not in enis.column_names:
        return {}
    ids, times = enis.column("eni_id").to_pylist(), arrays.pylist(enis.column("attach_time"))
    return {i: _aware(t) for i, t in zip(ids, times, strict=True) if i and t is not None}  # type: ignore[misc]


class _Narrowing:
    """The AWS-stated times that narrow intervals, per snapshot (computed once per snapshot)."""

    def __init__(self) -> None:
        self._attach: dict[int, dict[str, datetime]] = {}

    def attach(self, snap: SnapshotTables) -> dict[str, datetime]:
        key = id(snap)
        if key not in self._attach:
            self._attach[key] = _attach_times(snap.tables)
        return self._attach[key]

    def of(
        self, table: str, row: Row, snap: SnapshotTables
    ) -> tuple[datetime | None, datetime | None]:
        """(floor for valid_from, time seen_from may move back to) for a
        run starting at ``snap``."""
        if table == "enis":
            at = _aware(row.get("attach_time"))
            return at, at
        if table in ("eni_groups", "eni_ips"):
            return self.attach(snap).get(row["eni_id"]), None
        if table == "flow_logs":
            ct = _aware(row.get("creation_time"))
            return ct, ct
        if table == "eni_coverage":
            ct = _aware(row.get("creation_time"))
            at = self.attach(snap).get(row["eni_id"])
            floor = max(t for t in (ct, at) if t is not None) if (ct or at) else None
            # The ENI is covered since the later of the log's creation and the ENI's attachment;
            # without the attachment time an ENI newer than a VPC-level log would be overclaimed.
            certain = (
                floor if (ct is not None and (at is not None or row.get("via") == "eni")) else None
            )
            return floor, certain
        return None, None


def narrow(interval: Interval, floor: datetime | None, earlier_seen: datetime | None) -> Interval:
    """Apply AWS-stated times: valid_from ≥ floor; seen_from back to
    ``earlier_seen``, kept in valid.

    A stated time later than the first observation is impossible data and ignored.
    """
    vf, sf = interval.valid_from, interval.seen_from
    if floor is not None and floor <= sf:
        vf = max(vf, floor)
    if earlier_seen is not None and earlier_seen <= sf:
        sf = max(vf, earlier_seen)
    return Interval(vf, interval.valid_to, sf, interval.seen_to)


# --- building ---------------------------------------------------------------------------------


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _row_key(row: Row) -> Hashable:
    """The row's whole content as a hashable value (maps and lists as tuples)."""
    return tuple(_freeze(v) for v in row.values())


def _rows(table: pa.Table, name: str) -> list[Row]:
    """Rows with exactly the schema's columns (columns an older snapshot lacks are NULL)."""
    schema = INVENTORY_SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    rows = arrays.pylist(table.select([f.name for f in schema if f.name in table.column_names]))
    for r in rows:
        for m in missing:
            r[m] = None
    return rows


def runs(present: Sequence[bool]) -> list[tuple[int, int]]:
    """Maximal runs ``(i, j)`` (inclusive) of consecutive True positions.

    >>> runs([True, True, False, True]), runs([False, False])
    ([(0, 1), (3, 3)], [])
    """
    out: list[tuple[int, int]] = []
    start: int | None = None
    for k, p in enumerate(present):
        if p and start is None:
            start = k
        elif not p and start is not None:
            out.append((start, k - 1))
            start = None
    if start is not None:
        out.append((start, len(present) - 1))
    return out


def _groups(name: str, observed: Sequence[SnapshotTables]) -> list[tuple[int, int, pa.Table]]:
    """Consecutive snapshots whose ``name`` table is the same, as (first, last position, table).

    Hourly snapshots of a quiet world share most tables (hard links, read once): grouping them
    first keeps the row work proportional to the number of distinct versions, not of snapshots.
    """
    groups: list[tuple[int, int, pa.Table]] = []
    for pos, snap in enumerate(observed):
        table = snap.tables[name]
        if groups and (groups[-1][2] is table or groups[-1][2].equals(table)):
            groups[-1] = (groups[-1][0], pos, groups[-1][2])
        else:
            groups.append((pos, pos, table))
    return groups


#: Tables without a region column, and the table (and key) that gives their rows' region.
_REGION_VIA: dict[str, tuple[str, str]] = {
    "eni_groups": ("enis", "eni_id"),
    "eni_ips": ("enis", "eni_id"),
    "eni_coverage": ("enis", "eni_id"),
    "nacl_entries": ("nacls", "nacl_id"),
    "prefix_list_entries": ("prefix_lists", "prefix_list_id"),
}


def _region_maps(snaps: Sequence[SnapshotTables]) -> dict[str, dict[str, str]]:
    """entity id → region, per table that names one (first snapshot showing it wins)."""
    maps: dict[str, dict[str, str]] = {}
    for table, key in {v for v in _REGION_VIA.values()}:
        found = maps.setdefault(table, {})
        for snap in snaps:
            t = snap.tables.get(table)
            if t is not None and "region" in t.column_names:
                for k, r in zip(
                    t.column(key).to_pylist(), t.column("region").to_pylist(), strict=True
                ):
                    if k and r:
                        found.setdefault(k, r)
    return maps


def _row_region(name: str, row: Row, maps: Mapping[str, Mapping[str, str]]) -> str | None:
    if name in _REGION_VIA:
        table, key = _REGION_VIA[name]
        return maps.get(table, {}).get(row.get(key) or "")
    region = row.get("region")
    return str(region) if region else None


def _snapshot_rows(
    name: str,
    snaps: Sequence[SnapshotTables],
    narrowing: _Narrowing,
    regions: Mapping[str, Mapping[str, str]] | None = None,
) -> list[tuple[Row, Interval]]:
    observed = [s for s in snaps if s.tables.get(name) is not None]
    times = [s.ref.taken_at for s in observed]
    groups = _groups(name, observed)
    contents: dict[Hashable, Row] = {}
    where: dict[Hashable, list[int]] = {}
    cache: dict[int, list[tuple[Hashable, Row]]] = {}
    for g, (_, _, table) in enumerate(groups):
        keyed = cache.get(id(table))
        if keyed is None:  # a version that comes back (A, B, A) is keyed once
            keyed = [(_row_key(r), r) for r in _rows(table, name)]
            cache[id(table)] = keyed
        for key, row in keyed:
            contents.setdefault(key, row)
            seen = where.setdefault(key, [])
            if not seen or seen[-1] != g:  # duplicate rows inside one snapshot count once
                seen.append(g)
    partial = any(s.partial for s in observed)
    out: list[tuple[Row, Interval]] = []
    for key, row in contents.items():
        region = _row_region(name, row, regions or {}) if partial else None
        account = row.get("account_id")
        if region is not None and not all(s.covers(region, account) for s in observed):
            out += _regional_runs(
                name, row, where[key], groups, observed, (region, account), narrowing
            )
            continue
        present = [False] * len(groups)
        for g in where[key]:
            present[g] = True
        for gi, gj in runs(present):
            first, last = groups[gi][0], groups[gj][1]
            interval = Interval(
                times[groups[gi - 1][1]] + JUST_AFTER if gi > 0 else FAR_PAST,
                times[groups[gj + 1][0]] if gj + 1 < len(groups) else FAR_FUTURE,
                times[first],
                times[last],
            )
            floor, earlier = narrowing.of(name, row, observed[first])
            out.append((row, narrow(interval, floor, earlier)))
    return out


def _regional_runs(
    name: str,
    row: Row,
    in_groups: Sequence[int],
    groups: Sequence[tuple[int, int, pa.Table]],
    observed: Sequence[SnapshotTables],
    scope: tuple[str, str | None],
    narrowing: _Narrowing,
) -> list[tuple[Row, Interval]]:
    """Runs of a row over only the snapshots that covered its (region, account), or showed it."""
    shown = {p for g in in_groups for p in range(groups[g][0], groups[g][1] + 1)}
    positions = [p for p, s in enumerate(observed) if s.covers(*scope) or p in shown]
    times = [observed[p].ref.taken_at for p in positions]
    out: list[tuple[Row, Interval]] = []
    for i, j in runs([p in shown for p in positions]):
        interval = Interval(
            times[i - 1] + JUST_AFTER if i > 0 else FAR_PAST,
            times[j + 1] if j + 1 < len(positions) else FAR_FUTURE,
            times[i],
            times[j],
        )
        floor, earlier = narrowing.of(name, row, observed[positions[i]])
        out.append((row, narrow(interval, floor, earlier)))
    return out


def _table(name: str, rows: Iterable[tuple[Row, Interval, str]]) -> pa.Table:
    out = []
    for row, iv, source in rows:
        out.append(
            {
                **row,
                "valid_from": iv.valid_from,
                "valid_to": iv.valid_to,
                "seen_from": iv.seen_from,
                "seen_to": iv.seen_to,
                "source": source,
            }
        )
    out.sort(key=lambda r: (r["seen_from"], r["valid_from"]))
    return arrays.table_from_rows(out, schema=timeline_schema(name))


def build_timeline(
    snapshots: Sequence[SnapshotTables], config: ConfigRows | None = None
) -> Timeline:
    """The timeline of ``snapshots`` (any order) and of Config history rows. Pure.

    Config rows are kept only for entities (ENI ids, group ids) that no snapshot here holds:
    where a snapshot shows an entity, the snapshots are authoritative for it.
    """
    snaps = sorted(snapshots, key=lambda s: s.ref)
    narrowing = _Narrowing()
    tables: dict[str, pa.Table] = {}
    known = _snapshot_entities(snaps)
    regions = _region_maps(snaps) if any(s.partial for s in snaps) else {}
    built: dict[str, list[tuple[Row, Interval, str]]] = {}
    for name in INVENTORY_SCHEMAS:
        rows = [
            (r, iv, SOURCE_SNAPSHOT) for r, iv in _snapshot_rows(name, snaps, narrowing, regions)
        ]
        if config is not None:
            rows += [
                (r, iv, SOURCE_CONFIG)
                for r, iv in config.tables.get(name, ())
                if not _held(name, r, known)
            ]
        if name == "eni_coverage":
            rows += [
                (r, iv, SOURCE_CONFIG)
                for r, iv in config_coverage(
                    [(r, iv) for r, iv, src in built["enis"] if src == SOURCE_CONFIG],
                    [(r, iv) for r, iv, _ in built["flow_logs"]],
                )
            ]
        built[name] = rows
        tables[name] = _table(name, rows)
    refs = [s.ref for s in snaps]
    return Timeline(tables, refs, refs[-1] if refs else None)


def intersect(a: Interval, b: Interval) -> Interval | None:
    """Both intervals at once; None when they share no certain moment (nothing is then claimed)."""
    sf, st = max(a.seen_from, b.seen_from), min(a.seen_to, b.seen_to)
    vf, vt = max(a.valid_from, b.valid_from), min(a.valid_to, b.valid_to)
    if sf > st or vf >= vt:
        return None
    return Interval(vf, vt, sf, st)


def config_coverage(
    enis: Sequence[tuple[Row, Interval]], flow_logs: Sequence[tuple[Row, Interval]]
) -> list[tuple[Row, Interval]]:
    """``eni_coverage`` rows for ENIs known from Config: the flow logs of their VPC, subnet or self.

    Valid while both the ENI row and the flow-log row are; certain while both are certainly.
    Where they share no certain moment no row is made, so no coverage is claimed.
    """
    by_resource: dict[str, list[tuple[Row, Interval]]] = {}
    for fl, iv in flow_logs:
        if fl.get("resource_id") and fl.get("resource_type"):
            by_resource.setdefault(fl["resource_id"], []).append((fl, iv))
    out: list[tuple[Row, Interval]] = []
    for eni, eiv in enis:
        for via, key in coverage_paths(eni):
            for fl, fiv in by_resource.get(key or "", []):
                both = intersect(eiv, fiv)
                if both is not None:
                    out.append((coverage_row(eni["eni_id"], fl, via), both))
    return out


#: table → the column naming the entity Config history can stand in for.
ENTITY_KEYS: dict[str, tuple[str, str]] = {
    "enis": ("eni", "eni_id"),
    "eni_groups": ("eni", "eni_id"),
    "eni_ips": ("eni", "eni_id"),
    "eni_coverage": ("eni", "eni_id"),
    "security_groups": ("sg", "group_id"),
    "sg_rules": ("sg", "group_id"),
}


def _snapshot_entities(snaps: Sequence[SnapshotTables]) -> dict[str, set[str]]:
    known: dict[str, set[str]] = {"eni": set(), "sg": set()}
    for s in snaps:
        for table, (kind, col) in (
            ("enis", ("eni", "eni_id")),
            ("security_groups", ("sg", "group_id")),
        ):
            t = s.tables.get(table)
            if t is not None:
                known[kind].update(v for v in t.column(col).to_pylist() if v)
    return known


def _held(table: str, row: Row, known: Mapping[str, set[str]]) -> bool:
    kind_col = ENTITY_KEYS.get(table)
    return kind_col is not None and row.get(kind_col[1]) in known[kind_col[0]]


def load_timeline(dd: DataDir, window_start: datetime, window_end: datetime) -> Timeline:
    """The timeline of the window from the data dir (see
    :func:`flowlens.inventory.timeline_io.load_timeline`)."""
    from flowlens.inventory.timeline_io import load_timeline as _load

    return _load(dd, window_start, window_end)
