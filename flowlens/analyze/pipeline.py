"""Run the analysis queries of ``sql/analyze/`` for each day and write the results tables.

One DuckDB connection per run: the catalog views (inventory pointing at the snapshot chosen
for the window), a few reference tables built in Python (:mod:`flowlens.analyze.addresses`),
then every query of :data:`STEPS` in order, each materialised as a temp table named after the
query without its number. Results go to ``results/date=<D>/<table>.parquet``, each file atomic.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import duckdb
import pyarrow as pa

from flowlens import sqlfiles
from flowlens.analyze import addresses
from flowlens.analyze.snapshot import snapshot_for_window
from flowlens.atomic import atomic_path
from flowlens.catalog import _duck_type, _empty_view, _sql_str, refresh_catalog, register_views
from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError
from flowlens.model.flow import FLOW_FILE_SCHEMA, FLOW_PARTITIONS
from flowlens.model.results import RESULT_SCHEMAS

log = logging.getLogger(__name__)

#: The analysis queries, in execution order (each reads only tables made before it).
STEPS: tuple[str, ...] = (
    "10_eni_flows",
    "12_eni_day_stats",
    "15_flow_addresses",  # → addr_keys (Python) → addr_groups
    "20_eni_info",
    "22_addr_groups",
    "30_conversation_sides",
    "34_reject_keys",
    "35_match_keys",
    "40_key_rules",
    "42_key_rule_counts",
    "45_rule_matches",
    "48_nacl_verdicts",
    "50_conversations",
    "55_eni_log_coverage",
    "60_rule_usage",
    "70_rejected",
    "80_findings_rules",
    "81_findings_groups",
    "82_findings_coverage",
    "83_findings_traffic",
    "89_findings",
)

#: Results tables written per day (recommendations belong to the recommend stage).
OUTPUTS: tuple[str, ...] = ("conversations", "rule_matches", "rule_usage", "rejected", "findings")
#: Earlier days' results the queries read (history of initiators, lookback of rule usage).
PRIOR: tuple[str, ...] = ("conversations", "rule_usage")

DEFAULT_LOOKBACK_DAYS = 30


@dataclass(frozen=True)
class DaySummary:
    day: date
    snapshot: str
    records: int
    conversations: int
    rules: dict[str, int]
    rejected: dict[str, int]
    findings: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(), "snapshot": self.snapshot, "records": self.records,
            "conversations": self.conversations, "rules": self.rules, "rejected": self.rejected,
            "findings": self.findings, "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class AnalysisSummary:
    days: list[DaySummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"days": [d.to_dict() for d in self.days]}


def window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, dtime(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def analyze(
    dd: DataDir,
    days: Sequence[date],
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> AnalysisSummary:
    """Analyse each day in order (earlier days first, so later ones see their history)."""
    if not days:
        raise AnalysisError("no day to analyse; pass --date or --start/--end")
    con = _connect(dd, memory_limit=memory_limit, threads=threads)
    try:
        summaries = [_analyze_day(con, dd, day, lookback_days) for day in sorted(set(days))]
    finally:
        con.close()
    refresh_catalog(dd)
    return AnalysisSummary(summaries)


def _connect(dd: DataDir, *, memory_limit: str | None, threads: int | None) -> duckdb.DuckDBPyConnection:
    spill = dd.tmp / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"temp_directory": str(spill), "preserve_insertion_order": False}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    try:
        return duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:
        raise AnalysisError(f"cannot start DuckDB with {config}: {exc}; check --memory-limit/--threads") from exc


def _analyze_day(con: duckdb.DuckDBPyConnection, dd: DataDir, day: date, lookback_days: int) -> DaySummary:
    started = time.monotonic()
    w_start, w_end = window(day)
    snapshot = snapshot_for_window(dd, w_start, w_end)
    _register_inputs(con, dd, snapshot)
    records = _count(con, "SELECT COUNT(*) FROM flows WHERE date = $day", {"day": day})
    if records == 0:
        raise AnalysisError(f"no flow records for {day} under {dd.flows}; run 'flowlens ingest ... --date {day}' first")
    params = {"day": day, "window_start": w_start, "window_end": w_end, "lookback_start": day - timedelta(days=lookback_days)}
    for step in STEPS:
        _run_step(con, step, params)
        if step == "15_flow_addresses":
            _register_addr_keys(con)
    out = dd.results_dir(day)
    for table in OUTPUTS:
        _write_table(con, table, out / f"{table}.parquet")
    summary = _summarise(con, day, snapshot, records, time.monotonic() - started)
    log.info("analysed %s: %d records, %d conversations, rules %s", day, records, summary.conversations, summary.rules)
    return summary


def _register_inputs(con: duckdb.DuckDBPyConnection, dd: DataDir, snapshot: str) -> None:
    for step in (*STEPS, "_addr_keys"):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{step.split('_', 1)[1]}")
    register_views(con, dd, snapshot=snapshot)
    for table, schema in RESULT_SCHEMAS.items():
        con.execute(f"DROP VIEW IF EXISTS {table}")
        if table in PRIOR:
            _prior_view(con, dd, table, schema)
    con.register("never_logged", addresses.never_logged_table(_vpc_cidrs(con)))
    con.register("subnet_ranges", addresses.subnet_ranges_table(_subnet_cidrs(con)))
    con.register("admin_ports", addresses.admin_ports_table())


def _prior_view(con: duckdb.DuckDBPyConnection, dd: DataDir, table: str, schema: pa.Schema) -> None:
    files = list(dd.results.glob(f"date=*/{table}.parquet")) if dd.results.is_dir() else []
    name = f"prior_{table}"
    if not files:
        _empty_view(con, name, schema, {"date": "DATE"})
        return
    glob = _sql_str(dd.results / f"date=*/{table}.parquet")
    con.execute(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * EXCLUDE (date), CAST(date AS DATE) AS date FROM "
        f"read_parquet({glob}, hive_partitioning = true, union_by_name = true, hive_types_autocast = false)"
    )


def _vpc_cidrs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute("SELECT vpc_id, UNNEST(cidr_blocks) FROM vpcs WHERE cidr_blocks IS NOT NULL").fetchall()
    return [(str(v), str(c)) for v, c in rows if v and c]


def _subnet_cidrs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT subnet_id, cidr_block FROM subnets WHERE cidr_block IS NOT NULL "
        "UNION ALL SELECT subnet_id, UNNEST(ipv6_cidr_blocks) FROM subnets WHERE ipv6_cidr_blocks IS NOT NULL"
    ).fetchall()
    return [(str(s), str(c)) for s, c in rows if s and c]


def _run_step(con: duckdb.DuckDBPyConnection, step: str, params: dict[str, Any]) -> None:
    query = sqlfiles.load("analyze", step)
    table = step.split("_", 1)[1]
    bound = {p: params[p] for p in query.params}
    t0 = time.monotonic()
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {query.sql}", bound)
    except duckdb.Error as exc:
        raise AnalysisError(f"{query.path}: query failed: {exc}") from exc
    log.debug("%s: %.2fs", step, time.monotonic() - t0)


def _register_addr_keys(con: duckdb.DuckDBPyConnection) -> None:
    addrs = [row[0] for row in con.execute("SELECT addr FROM flow_addresses").fetchall()]
    con.register("addr_keys_arrow", addresses.addr_keys_table(addrs))
    con.execute("CREATE OR REPLACE TEMP TABLE addr_keys AS SELECT * FROM addr_keys_arrow")
    con.unregister("addr_keys_arrow")


def _write_table(con: duckdb.DuckDBPyConnection, table: str, final: Any) -> None:
    """COPY a temp table to Parquet with the contract's column types, atomically."""
    select = _typed_select(con, table)
    with atomic_path(final) as tmp:
        con.execute(f"COPY ({select}) TO {_sql_str(tmp)} (FORMAT parquet, COMPRESSION zstd)")


def _typed_select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    types = {f.name: f.type for f in RESULT_SCHEMAS[table]}
    if table == "rejected":
        types.update({f.name: f.type for f in FLOW_FILE_SCHEMA})
        types.update({p: pa.string() for p in FLOW_PARTITIONS if p != "date"})
    present = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    missing = [c for c in RESULT_SCHEMAS[table].names if c not in present]
    if missing:
        raise AnalysisError(f"sql/analyze: the {table} query lacks contract columns {missing}")
    cols = [f'CAST("{c}" AS {_duck_type(types[c])}) AS "{c}"' if c in types else f'"{c}"' for c in present]
    return f"SELECT {', '.join(cols)} FROM {table}"


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> int:
    row = con.execute(sql, params or {}).fetchone()
    return int(row[0]) if row else 0


def _counts_by(con: duckdb.DuckDBPyConnection, table: str, column: str) -> dict[str, int]:
    rows = con.execute(f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column} ORDER BY {column}").fetchall()
    return {str(k): int(v) for k, v in rows}


def _summarise(con: duckdb.DuckDBPyConnection, day: date, snapshot: str, records: int, seconds: float) -> DaySummary:
    return DaySummary(
        day=day, snapshot=snapshot, records=records,
        conversations=_count(con, "SELECT COUNT(*) FROM conversations"),
        rules=_counts_by(con, "rule_usage", "status"),
        rejected=_counts_by(con, "rejected", "cause"),
        findings=_counts_by(con, "findings", "kind"),
        seconds=seconds,
    )
