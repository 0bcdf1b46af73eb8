"""Run the analysis queries of ``sql/analyze/`` for each day and write the results tables.

One engine per run (DuckDB by default, :mod:`flowlens.engines`): the input tables (flows, the
day's inventory from the timeline of every snapshot around the window and its epochs,
:mod:`flowlens.analyze.epochs`), a few reference tables built in Python
(:mod:`flowlens.analyze.addresses`), then every query of :data:`STEPS` in order, each
materialised as a temp table named after the query without its number and freed after the
last query that reads it (:func:`release_plan`). Results go to
``results/date=<D>/<table>.parquet``, the day's folder swapped in whole (:func:`atomic_dir`); a
results location in S3 gets ``<table>/date=<D>/`` (:mod:`flowlens.lake_dir`).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from flowlens import sqlfiles
from flowlens.analyze import addresses, epochs, evidence
from flowlens.analyze.history import DEFAULT_HISTORY_DAYS
from flowlens.atomic import atomic_dir, restore_dir
from flowlens.catalog import refresh_catalog
from flowlens.datadir import DataDir
from flowlens.engines import Engine
from flowlens.engines.factory import open_engine
from flowlens.errors import AnalysisError
from flowlens.inventory.timeline import FAR_FUTURE, FAR_PAST, Timeline, load_timeline
from flowlens.lake_dir import check_results_location, day_results, stage_inventory, write_s3
from flowlens.lock import writer_lock
from flowlens.model.results import DEFAULT_LOOKBACK_DAYS, RESULT_SCHEMAS
from flowlens.model.tables import analysis_sources
from flowlens.model.window import Window

log = logging.getLogger(__name__)

#: The analysis queries, in execution order (each reads only tables made before it).
STEPS: tuple[str, ...] = (
    "10_eni_flows",
    "12_eni_day_stats",
    "15_flow_addresses",  # → addr_keys (Python) → addr_groups
    "20_eni_info",
    "22_addr_groups",
    "23_unplaced_addresses",
    "24_unattributed_enis",
    "30_conversation_sides",
    "32_rule_versions",
    "33_rules_in_force",
    "34_service_keys",
    "34_reject_keys",
    "35_match_keys",
    "36_match_rules",
    "37_match_peers",
    "40_key_rules",  # sql/shared/keys_allowed.sql
    "41_span_key_rules",
    "42_key_rule_counts",
    "44_span_rule_matches",
    "45_rule_matches",
    "48_nacl_verdicts",
    "50_conversations",
    "55_eni_log_coverage",
    "58_unattributed_rules",
    "60_rule_usage",
    "70_rejected",
    "80_findings_rules",
    "81_findings_groups",
    "82_findings_coverage",
    "83_findings_traffic",
    "84_findings_shadowed",  # reads rule_shadows (flowlens.analyze.evidence)
    "89_findings",
)

#: Steps whose query is shared with another stage: ``(directory under sql/, query name)``.
#: The rule-match join is written once, for the analysis and the recommender's replay.
SHARED_STEPS: dict[str, tuple[str, str]] = {"40_key_rules": ("shared", "keys_allowed")}

#: Steps an engine that offers ``run_view`` (DuckDB) leaves a view, not a table: the results
#: table ``conversations`` is read only by 83_findings_traffic and the writer (the day's summary
#: counts it from the write, :func:`_rows`), and materialising its rows (one per conversation)
#: cost more than joining them again for each of those (bench/README.md, "the conversation steps
#: on integer keys"). What a view reads is kept until the results are written
#: (:func:`release_plan`).
VIEW_STEPS: frozenset[str] = frozenset({"50_conversations"})

#: Results tables written per day (recommendations belong to the recommend stage).
OUTPUTS: tuple[str, ...] = (
    "conversations",
    "rule_matches",
    "rule_usage",
    "rejected",
    "findings",
    "rule_shadows",
    "rule_history",
)


def step_table(step: str) -> str:
    """The temporary table a step makes: its name without the number (``30_conversation_sides``)."""
    return step.split("_", 1)[1]


def step_params(day: date, window: Window, lookback_days: int) -> dict[str, Any]:
    """The ``$name`` parameters every analysis step is run with."""
    return {
        "day": day,
        "window_start": window.start,
        "window_end": window.end,
        "lookback_start": day - timedelta(days=lookback_days),
        "far_past": FAR_PAST,
        "far_future": FAR_FUTURE,
    }


def step_query(step: str) -> sqlfiles.Query:
    """The query a step runs: ``sql/analyze/<step>.sql`` unless it is
    shared (:data:`SHARED_STEPS`)."""
    return sqlfiles.load(*SHARED_STEPS.get(step, ("analyze", step)))


def release_plan(
    sql_of: Mapping[str, str], keep: Sequence[str] = OUTPUTS, views: Collection[str] = ()
) -> dict[str, list[str]]:
    """Per step, the intermediate tables to free once it has run: those no later step's SQL names.

    ``sql_of`` maps each step, in execution order, to its SQL; tables in ``keep`` (the results,
    written after the last step) are never freed, nor are the tables a step of ``views`` (left a
    view) that makes one of them reads.
    """
    steps = list(sql_of)
    kept = set(keep)
    for view in views:
        if step_table(view) in kept:
            kept |= {step_table(s) for s in steps if _names(sql_of[view], step_table(s))}
    plan: dict[str, list[str]] = {step: [] for step in steps}
    for i, made_by in enumerate(steps):
        table = step_table(made_by)
        if table in kept:
            continue
        readers = [j for j in range(i + 1, len(steps)) if _names(sql_of[steps[j]], table)]
        plan[steps[readers[-1] if readers else i]].append(table)
    return plan


def _names(sql: str, table: str) -> bool:
    """Whether ``sql`` names ``table`` (as a word: ``prior_b`` is not ``b``)."""
    return re.search(rf"\b{re.escape(table)}\b", sql) is not None


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
    #: every snapshot the day's timeline was built from (``snapshot`` is the newest) and how many
    #: epochs the inventory's changes inside the day made
    snapshots: tuple[str, ...] = ()
    epochs: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "snapshot": self.snapshot,
            "snapshots": list(self.snapshots),
            "epochs": self.epochs,
            "records": self.records,
            "conversations": self.conversations,
            "rules": self.rules,
            "rejected": self.rejected,
            "findings": self.findings,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class AnalysisSummary:
    days: list[DaySummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"days": [d.to_dict() for d in self.days]}


#: Told as each analysis step starts: (day, step number from 1, steps, step
#: name, the day's records).
StepProgress = Callable[[date, int, int, str, int], None]


def analyze(
    dd: DataDir,
    days: Sequence[date],
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    engine: Engine | str = "duckdb",
    history_days: int = DEFAULT_HISTORY_DAYS,
    config_only: bool = False,
    progress: StepProgress | None = None,
) -> AnalysisSummary:
    """Analyse each day in order (earlier days first, so later ones see their history).

    ``progress(day, step, steps, step_name, day_records)`` is called as each SQL step starts.

    ``engine`` is ``"duckdb"`` (default), ``"spark"`` (a local Spark session) or an engine object
    (:mod:`flowlens.engines`), which the caller keeps and closes. ``config_only``: no flow logs
    needed; only what the snapshot alone shows (``rule_shadows`` and its findings, see
    :func:`_config_only_day`). ``history_days``: the lookback of ``rule_history``.
    """
    if not days:
        raise AnalysisError("no day to analyse; pass --date or --start/--end")
    with writer_lock(dd, "analyze"):
        for day in days:
            restore_dir(dd.results_dir(day))
        stage_inventory(dd)  # a data dir in S3: its inventory copied to the work dir
        check_results_location(dd)
        eng = (
            open_engine(engine, dd, memory_limit=memory_limit, threads=threads)
            if isinstance(engine, str)
            else engine
        )
        try:
            if config_only:
                summaries = [_config_only_day(eng, dd, day) for day in sorted(set(days))]
            else:
                summaries = [
                    _analyze_day(eng, dd, day, lookback_days, progress, history_days)
                    for day in sorted(set(days))
                ]
        finally:
            if isinstance(engine, str):
                eng.close()
        refresh_catalog(dd)
    return AnalysisSummary(summaries)


def _analyze_day(
    eng: Engine,
    dd: DataDir,
    day: date,
    lookback_days: int,
    progress: StepProgress | None,
    history_days: int = DEFAULT_HISTORY_DAYS,
) -> DaySummary:
    started = time.monotonic()
    window = Window.day(day)
    timeline = load_timeline(dd, window.start, window.end)
    _register_inputs(eng, dd, timeline, window.start, window.end)
    records = _count(eng, "SELECT COUNT(*) FROM flows WHERE date = $day", {"day": day})
    if records == 0:
        raise AnalysisError(
            f"no flow records for {day} under {_flows_location(dd)}; run 'flowlens "
            f"ingest ... --date {day}' first"
        )
    eng.fit_sums(day)
    params = step_params(day, window, lookback_days)
    queries = {step: step_query(step) for step in STEPS}
    run_view: Callable[[str, sqlfiles.Query], None] | None = getattr(eng, "run_view", None)
    views = VIEW_STEPS if run_view is not None else frozenset()
    release = release_plan({step: q.sql for step, q in queries.items()}, views=views)
    for n, (step, query) in enumerate(queries.items(), start=1):
        if progress:
            progress(day, n, len(queries), step, records)
        if run_view is not None and step in views:
            run_view(step_table(step), query)
        else:
            eng.run_step(step_table(step), query, params)
        if step == "15_flow_addresses":
            _register_addr_keys(eng)
        for table in release[
            step
        ]:  # the per-conversation tables are the big ones: hold each only while read
            eng.release(table)
    eng.register_arrow("rule_history", evidence.rule_history(eng, day, history_days))
    # The day's results appear together: built in a hidden folder, swapped in whole. A killed
    # re-analysis leaves the previous complete results; never some files of each run. (In S3,
    # with no rename, a killed run leaves the day without rule_usage: not analysed.)
    with day_results(dd, day, eng) as write:
        for table in OUTPUTS:
            t0 = time.monotonic()
            write(table, _contract_types(eng, table))
            log.debug("%s written: %.2fs", table, time.monotonic() - t0)
    summary = _summarise(eng, day, timeline, records, time.monotonic() - started)
    log.info(
        "analysed %s on %s: %d records, %d conversations, rules %s",
        day,
        eng.name,
        records,
        summary.conversations,
        summary.rules,
    )
    return summary


def _register_inputs(
    eng: Engine, dd: DataDir, timeline: Timeline, w_start: datetime, w_end: datetime
) -> None:
    """Flows and prior results as Parquet; the day's inventory (timeline rows
    valid in it) and its epochs."""
    eng.reset()
    for source in analysis_sources(dd):
        eng.register_parquet(source)
    shadows = evidence.window_shadows(eng, timeline, w_start, w_end)  # before the day's tables
    day = epochs.day_tables(timeline.tables, w_start, w_end)
    for name, table in day.items():
        eng.register_arrow(name, table)
    points = epochs.change_points(day, w_start, w_end)
    eng.register_arrow("epochs", epochs.epochs_table(points, w_start, w_end))
    if points:
        log.info(
            "%s: %d inventory changes inside the day split it into %d epochs",
            w_start.date(),
            len(points),
            len(points) + 1,
        )
    eng.register_arrow(
        "never_logged", addresses.never_logged_table(_vpc_cidrs(eng), _vpc_subnets(eng))
    )
    eng.register_arrow("subnet_ranges", addresses.subnet_ranges_table(_subnet_cidrs(eng)))
    eng.register_arrow("admin_ports", addresses.admin_ports_table())
    eng.register_arrow("port_offsets", addresses.port_offsets_table())
    eng.register_arrow("protocol_names", addresses.protocol_names_table())
    eng.register_arrow("rule_shadows", shadows)


#: What a configuration-only run writes: the findings query of rule_shadows with the finding id
#: 89_findings gives every finding.
_CONFIG_FINDINGS = (
    "SELECT MD5(kind || '|' || COALESCE(resource_id, '') || '|' || COALESCE(rule_id, '')) AS "
    "finding_id, kind, severity, resource_id, group_id, rule_id, title, detail, "
    "evidence FROM findings_shadowed"
)


def _config_only_day(eng: Engine, dd: DataDir, day: date) -> DaySummary:
    """The snapshot's own evidence for ``day``, no flow logs read:
    ``rule_shadows`` and its findings.

    A day already analysed in full keeps its findings (which include these); only its
    ``rule_shadows`` is rewritten.
    """
    started = time.monotonic()
    window = Window.day(day)
    timeline = load_timeline(dd, window.start, window.end)
    snapshot = timeline.latest.stamp if timeline.latest else ""
    _register_inputs(eng, dd, timeline, window.start, window.end)
    eng.run_step("findings_shadowed", step_query("84_findings_shadowed"), {})
    findings = eng.fetch_arrow(_CONFIG_FINDINGS)
    final = dd.results_dir(day)
    full = (
        (final / "rule_usage.parquet").exists()
        if dd.results_s3 is None
        else bool(dd.analysed_days([day]))
    )
    if not full:
        eng.register_arrow("findings", findings)
    if dd.results_s3 is not None:  # one prefix per table: the others are left as they are
        for table in ("rule_shadows", *(() if full else ("findings",))):
            write_s3(dd, day, eng, table, _contract_types(eng, table))
        return DaySummary(day, snapshot, 0, 0, {}, {}, _kinds(findings), time.monotonic() - started)
    # Swapped in whole like a full analysis: the day's other tables are carried over unchanged.
    with atomic_dir(final) as out:
        rewritten = {"rule_shadows.parquet"} | (set() if full else {"findings.parquet"})
        for old in final.iterdir() if final.is_dir() else ():
            if old.is_file() and old.name not in rewritten:
                shutil.copy2(old, out / old.name)
        eng.write_parquet(
            "rule_shadows", _contract_types(eng, "rule_shadows"), out / "rule_shadows.parquet"
        )
        if not full:
            eng.write_parquet(
                "findings", _contract_types(eng, "findings"), out / "findings.parquet"
            )
    log.info(
        "configuration of %s (snapshot %s): %d shadowed rules", day, snapshot, findings.num_rows
    )
    return DaySummary(day, snapshot, 0, 0, {}, {}, _kinds(findings), time.monotonic() - started)


def _kinds(findings: pa.Table) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for k in findings.column("kind").to_pylist():
        kinds[str(k)] = kinds.get(str(k), 0) + 1
    return kinds


def _flows_location(dd: DataDir) -> str:
    return f"{dd.lake}/flows" if dd.lake else str(dd.flows)


def _vpc_cidrs(eng: Engine) -> list[tuple[str, str]]:
    rows = eng.fetch_arrow(
        "SELECT vpc_id, cidr_blocks FROM vpcs WHERE cidr_blocks IS NOT NULL"
    ).to_pylist()
    # the day's rows may hold several versions of a VPC: each CIDR once
    return sorted(
        {
            (str(r["vpc_id"]), str(c))
            for r in rows
            for c in r["cidr_blocks"] or ()
            if r["vpc_id"] and c
        }
    )


def _vpc_subnets(eng: Engine) -> list[tuple[str, str]]:
    """(vpc_id, IPv4 subnet CIDR): where AWS reserves addresses, and the
    resolver without describe-vpcs."""
    rows = eng.fetch_arrow(
        "SELECT DISTINCT vpc_id, cidr_block FROM subnets WHERE cidr_block IS NOT NULL"
    ).to_pylist()
    return [(str(r["vpc_id"]), str(r["cidr_block"])) for r in rows if r["vpc_id"]]


def _subnet_cidrs(eng: Engine) -> list[tuple[str, str]]:
    rows = eng.fetch_arrow(
        "SELECT subnet_id, cidr_block, ipv6_cidr_blocks FROM subnets"
    ).to_pylist()
    pairs = [(r["subnet_id"], r["cidr_block"]) for r in rows]
    pairs += [(r["subnet_id"], c) for r in rows for c in r["ipv6_cidr_blocks"] or ()]
    return sorted({(str(s), str(c)) for s, c in pairs if s and c})


def _register_addr_keys(eng: Engine) -> None:
    addrs = eng.fetch_arrow("SELECT addr FROM flow_addresses").column("addr").to_pylist()
    eng.register_arrow("addr_keys", addresses.addr_ids_table(addrs))


def _contract_types(eng: Engine, table: str) -> dict[str, pa.DataType]:
    """The contract's column types of a results table (checked present)
    for the engine to cast to."""
    types = {f.name: f.type for f in RESULT_SCHEMAS[table]}
    present = eng.columns(table)
    missing = [c for c in RESULT_SCHEMAS[table].names if c not in present]
    if missing:
        raise AnalysisError(f"sql/analyze: the {table} query lacks contract columns {missing}")
    return types


def _count(eng: Engine, sql: str, params: dict[str, Any] | None = None) -> int:
    rows = eng.fetch_arrow(sql, params).to_pylist()
    return int(next(iter(rows[0].values())) or 0) if rows else 0


def _rows(eng: Engine, table: str) -> int:
    """The rows of a results table: those its write returned when the engine tells them
    (``written_rows``: DuckDB's COPY), so the view ``conversations`` is not run again to count."""
    written: Callable[[str], int | None] | None = getattr(eng, "written_rows", None)
    rows = written(table) if written is not None else None
    return rows if rows is not None else _count(eng, f"SELECT COUNT(*) FROM {table}")


def _counts_by(eng: Engine, table: str, column: str) -> dict[str, int]:
    rows = eng.fetch_arrow(
        f"SELECT {column} AS k, COUNT(*) AS n FROM {table} GROUP BY {column} ORDER BY {column}"
    ).to_pylist()
    return {str(r["k"]): int(r["n"]) for r in rows}


def _summarise(
    eng: Engine, day: date, timeline: Timeline, records: int, seconds: float
) -> DaySummary:
    return DaySummary(
        day=day,
        snapshot=timeline.latest.stamp if timeline.latest else "",
        records=records,
        conversations=_rows(eng, "conversations"),
        rules=_counts_by(eng, "rule_usage", "status"),
        rejected=_counts_by(eng, "rejected", "cause"),
        findings=_counts_by(eng, "findings", "kind"),
        seconds=seconds,
        snapshots=tuple(s.stamp for s in timeline.snapshots),
        epochs=_count(eng, "SELECT COUNT(*) FROM epochs"),
    )
