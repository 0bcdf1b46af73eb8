"""What the analysis of a day would scan on Athena and cost, worked out before anything runs.

Athena bills the bytes it reads from S3, at a price per TB (decimal: 10^12 bytes) that depends on
the region, with a 10 MB minimum per query. From Parquet it reads only the column chunks a query
names, in the partitions its predicates leave. So, per step of the analysis (the queries of
``sql/analyze/``), this module finds the input tables the query reads (CTE names excluded), the
columns of each it names (every column of a table read with ``*``), and the files of the
partitions it keeps: a ``date`` partition compared with the day's parameters (``=``, ``<``,
``<=``, ``>``, ``>=``, ``BETWEEN``) is pruned, anything else is read in full. The bytes are the
compressed sizes of those column chunks in the Parquet footers of the data directory (the lake is
its copy, docs/engines.md). Each estimate is an upper bound of what the footers show: a column
name shared by two tables of one query counts for both.

Not known before running, and so listed but not counted: the work tables earlier steps write
(their size is what those steps produce) and the small tables the engine uploads (the day's
inventory rows and the reference tables built in Python); the inventory is counted at the size of
the window's newest snapshot files instead, which bounds the rows the engine uploads from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from flowlens.datadir import DataDir
from flowlens.errors import UsageError
from flowlens.model.inventory import INVENTORY_SCHEMAS
from flowlens.model.tables import ParquetSource

#: Athena's price per TB scanned (USD, SQL queries, as AWS lists it): $5.00 in the commercial
#: regions flowlens's DDL projects by default; pass ``--price-per-tb`` where yours differs.
DEFAULT_PRICE_PER_TB = 5.00
#: Athena bills at least this many bytes per query (10 MB).
MIN_BILLED_BYTES = 10 * 1_000_000
TB = 1_000_000_000_000


@dataclass(frozen=True)
class TableScan:
    """One input table of one query: the files left after pruning and the bytes of its columns."""

    table: str
    columns: tuple[str, ...]
    files: int
    bytes: int


@dataclass(frozen=True)
class StepEstimate:
    step: str
    scans: tuple[TableScan, ...]
    #: tables read whose size is known only after running (earlier steps' work tables, uploads)
    unknown: tuple[str, ...]

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.scans)

    @property
    def billed(self) -> int:
        return max(self.bytes, MIN_BILLED_BYTES)


@dataclass(frozen=True)
class Estimate:
    day: date
    price_per_tb: float
    steps: tuple[StepEstimate, ...]

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.steps)

    @property
    def billed(self) -> int:
        return sum(s.billed for s in self.steps)

    @property
    def cost(self) -> float:
        return self.billed / TB * self.price_per_tb

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "price_per_tb": self.price_per_tb,
            "bytes": self.bytes,
            "billed_bytes": self.billed,
            "cost": round(self.cost, 6),
            "steps": [
                {
                    "step": s.step,
                    "bytes": s.bytes,
                    "billed_bytes": s.billed,
                    "cost": round(s.billed / TB * self.price_per_tb, 6),
                    "scans": [
                        {
                            "table": t.table,
                            "columns": list(t.columns),
                            "files": t.files,
                            "bytes": t.bytes,
                        }
                        for t in s.scans
                    ],
                    "not_counted": list(s.unknown),
                }
                for s in self.steps
            ],
        }


def estimate_steps(
    day: date,
    steps: Sequence[tuple[str, str]],
    sources: Iterable[ParquetSource],
    params: Mapping[str, Any],
    *,
    price_per_tb: float = DEFAULT_PRICE_PER_TB,
) -> Estimate:
    """The scan of each ``(step, sql)`` over the Parquet ``sources`` (by the name queries use).

    ``params`` are the values the queries' ``$name`` parameters take (the date bounds prune).
    """
    if price_per_tb < 0:
        raise UsageError("--price-per-tb cannot be negative")
    by_name = {s.name: s for s in sources}
    out = []
    for step, sql in steps:
        scans, unknown = [], []
        for table, columns, star, bounds in _reads(sql, params):
            source = by_name.get(table)
            if source is None:
                unknown.append(table)
                continue
            names = [f.name for f in source.schema if star or f.name in columns]
            files = _pruned(source, bounds)
            scans.append(TableScan(table, tuple(names), len(files), _column_bytes(files, names)))
        out.append(StepEstimate(step, tuple(scans), tuple(sorted(set(unknown)))))
    return Estimate(day, price_per_tb, tuple(out))


def inventory_estimate_sources(snapshot_dir: Path | None) -> list[ParquetSource]:
    """The inventory tables as the newest snapshot of the window holds them (see module doc)."""
    if snapshot_dir is None:
        return []
    return [
        ParquetSource(t, snapshot_dir / f"{t}.parquet", None, s)
        for t, s in INVENTORY_SCHEMAS.items()
    ]


# --- reading the query -------------------------------------------------------------------------

#: (low, high, low inclusive, high inclusive) bounds of a ``date`` partition; None: unbounded
Bounds = tuple[date | None, date | None, bool, bool]


def _reads(sql: str, params: Mapping[str, Any]) -> list[tuple[str, set[str], bool, Bounds]]:
    """Per input table: the column names the query mentions, whether it reads ``*``, date bounds."""
    tree = cast(exp.Expression, sqlglot.parse_one(sql, read="duckdb"))
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    mentioned = {c.name for c in tree.find_all(exp.Column)}
    out: dict[str, tuple[set[str], bool, Bounds]] = {}
    for t in tree.find_all(exp.Table):
        if t.name in ctes or t.name in out:
            continue
        out[t.name] = (mentioned, _star_reads(tree, t.name), _date_bounds(tree, t.name, params))
    return [(name, cols, star, bounds) for name, (cols, star, bounds) in out.items()]


def _tables_of(select: exp.Expression) -> dict[str, str]:
    """The tables a SELECT reads directly (not through a subquery of its own): alias → name."""
    return {
        t.alias_or_name: t.name
        for t in select.find_all(exp.Table)
        if t.find_ancestor(exp.Select) is select
    }


def _star_reads(tree: exp.Expression, table: str) -> bool:
    """Whether a ``SELECT *`` (or ``table.*``) reads ``table`` directly (a CTE's star does not)."""
    for select in tree.find_all(exp.Select):
        direct = _tables_of(select)
        if table not in direct.values():
            continue
        for e in select.expressions:
            if isinstance(e, exp.Star):
                return True
            star = isinstance(e, exp.Column) and isinstance(e.this, exp.Star)
            if star and direct.get(e.table) == table:
                return True
    return False


def _date_bounds(tree: exp.Expression, table: str, params: Mapping[str, Any]) -> Bounds:
    """The ``date`` bounds the query's predicates put on ``table`` (compared with parameters)."""
    lo: date | None = None
    hi: date | None = None
    lo_inc = hi_inc = True

    def value(node: exp.Expression) -> date | None:
        if isinstance(node, exp.Placeholder) and isinstance(params.get(node.name), date):
            return cast(date, params[node.name])
        return None

    for node in tree.find_all(exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between):
        col = node.this
        if not (isinstance(col, exp.Column) and col.name == "date"):
            continue
        select = node.find_ancestor(exp.Select)
        direct = _tables_of(select) if select is not None else {}
        reads = direct.get(col.table) == table if col.table else table in direct.values()
        if not reads:
            continue
        if isinstance(node, exp.Between):
            a, b = value(node.args["low"]), value(node.args["high"])
            if a and b:
                lo, hi, lo_inc, hi_inc = a, b, True, True
            continue
        v = value(node.expression)
        if v is None:
            continue
        if isinstance(node, exp.EQ):
            lo, hi, lo_inc, hi_inc = v, v, True, True
        elif isinstance(node, exp.GT | exp.GTE):
            lo, lo_inc = v, isinstance(node, exp.GTE)
        else:
            hi, hi_inc = v, isinstance(node, exp.LTE)
    return lo, hi, lo_inc, hi_inc


# --- reading the files -------------------------------------------------------------------------


def _pruned(source: ParquetSource, bounds: Bounds) -> list[Path]:
    files = source.files()
    if "date" not in source.partitions:
        return files
    lo, hi, lo_inc, hi_inc = bounds
    kept = []
    for f in files:
        part = next((p for p in f.relative_to(source.root).parts if p.startswith("date=")), None)
        if part is None:
            kept.append(f)
            continue
        d = date.fromisoformat(part.removeprefix("date="))
        if lo is not None and (d < lo or (d == lo and not lo_inc)):
            continue
        if hi is not None and (d > hi or (d == hi and not hi_inc)):
            continue
        kept.append(f)
    return kept


def _column_bytes(files: Iterable[Path], columns: Sequence[str]) -> int:
    """The compressed bytes of the chunks of ``columns`` in every row group (footers only)."""
    wanted = set(columns)
    total = 0
    for f in files:
        meta = pq.ParquetFile(f).metadata
        for rg in range(meta.num_row_groups):
            group = meta.row_group(rg)
            for c in range(group.num_columns):
                chunk = group.column(c)
                if chunk.path_in_schema.split(".")[0] in wanted:
                    total += chunk.total_compressed_size
    return total


def render(est: Estimate) -> list[str]:
    """The estimate as lines of text, one per step then the total."""
    lines = [
        f"{est.day}: Athena would scan (upper bounds from Parquet footers, "
        f"${est.price_per_tb:.2f} per TB, 10 MB minimum per query):"
    ]
    for s in est.steps:
        read = ", ".join(f"{t.table} {_size(t.bytes)} in {t.files} files" for t in s.scans)
        later = f"; not counted: {', '.join(s.unknown)}" if s.unknown else ""
        lines.append(
            f"  {s.step:<26} {_size(s.bytes):>10}  billed {_size(s.billed):>10}  "
            f"${s.billed / TB * est.price_per_tb:.6f}  {read or 'no input table'}{later}"
        )
    lines.append(
        f"  {'total':<26} {_size(est.bytes):>10}  billed {_size(est.billed):>10}  ${est.cost:.6f}"
    )
    return lines


def _size(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def estimate_day(
    dd: DataDir,
    day: date,
    *,
    lookback_days: int,
    price_per_tb: float = DEFAULT_PRICE_PER_TB,
) -> Estimate:
    """Every analysis step of ``day`` (the pipeline's :data:`STEPS`, its parameters) estimated."""
    from flowlens.analyze.pipeline import STEPS, step_params, step_query
    from flowlens.inventory.timeline import load_timeline
    from flowlens.model.tables import analysis_sources
    from flowlens.model.window import Window

    window = Window.day(day)
    timeline = load_timeline(dd, window.start, window.end)
    snapshot = dd.snapshot_dir(timeline.latest.stamp) if timeline.latest else None
    params = step_params(day, window, lookback_days)
    return estimate_steps(
        day,
        [(step, step_query(step).sql) for step in STEPS],
        [*analysis_sources(dd), *inventory_estimate_sources(snapshot)],
        params,
        price_per_tb=price_per_tb,
    )
