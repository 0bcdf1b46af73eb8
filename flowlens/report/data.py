"""Everything the report shows, read from the catalog views on one DuckDB connection.

One query per figure or table (``sql/report/*.sql``); the result is plain data: frozen
dataclasses holding pandas DataFrames and numbers. Nothing here draws or formats.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pandas as pd

from flowlens import sqlfiles
from flowlens.errors import AnalysisError, InputError
from flowlens.model.delta import Delta, connectivity_delta
from flowlens.model.net import SgRule
from flowlens.model.plan import Plan, Recommendation, Verification
from flowlens.model.status import RuleStatus
from flowlens.model.window import AnalysedWindow, Window
from flowlens.report import exposure as ex
from flowlens.report.staged_data import Staged, load_staged

log = logging.getLogger(__name__)

TOP_N = 10
#: Peer × port rows of evidence shown per rule (the busiest first).
EVIDENCE_ROWS = 10


def bin_seconds(w: Window) -> int:
    """Traffic chart bins: 15 minutes for a day, hourly up to a week, daily beyond."""
    return 900 if w.days == 1 else 3600 if w.days <= 7 else 86400


def day_pattern(w: Window) -> str:
    """A regex matching an S3 key that names one of the window's days."""
    alts = []
    for d in w.dates():
        alts += [f"{d:%Y/%m/%d}", f"year={d:%Y}/month={d:%m}/day={d:%d}"]
    return "(^|/)(" + "|".join(re.escape(a) for a in alts) + ")/"


@dataclass(frozen=True)
class FlowTotals:
    records: int
    accepted: int
    rejected: int
    nodata: int
    skipdata: int
    packets: int
    bytes: int
    enis: int


@dataclass(frozen=True)
class ReportData:
    """Every number, figure and table of one report."""

    window: Window
    totals: FlowTotals
    traffic: pd.DataFrame  # bin_start, action, flows, packets, bytes
    reject_causes: pd.DataFrame  # cause, records, sources, example_detail
    top_sources: pd.DataFrame  # label, cause, records, total
    top_ports: pd.DataFrame  # protocol, dstport, cause, records, total
    rules: pd.DataFrame  # rule_usage_rules.sql
    groups: pd.DataFrame  # security_groups.sql
    coverage: pd.DataFrame  # subnet_id, coverage, enis
    subnets: pd.DataFrame  # subnet_id, vpc_id, availability_zone, cidr_block, tags
    findings: pd.DataFrame
    recommendations: tuple[Recommendation, ...]
    plan: Plan | None
    exposure: ex.ExposureComparison
    ingest: pd.DataFrame  # status, objects, size, rows, quarantined, example_error
    quarantine: pd.DataFrame  # reason, lines, objects
    evidence: pd.DataFrame = field(
        default_factory=pd.DataFrame
    )  # rule_evidence.sql: top peers × ports per rule
    rule_days: pd.DataFrame = field(
        default_factory=pd.DataFrame
    )  # rule_days.sql: per rule × day flows
    members: pd.DataFrame = field(default_factory=pd.DataFrame)  # group_members.sql: ENIs per group
    exposure_resolve: Mapping[str, list[str]] = field(
        default_factory=dict
    )  # SG / prefix-list peer → CIDRs
    analysed: AnalysedWindow | None = None  # the window's days and those with analysis results
    table_verification: Verification | None = (
        None  # the replay totals the recommendations table records
    )
    #: rule_history.sql: per rule its rule_history as of the window's last analysed day
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: rule_history_days.sql: per rule × day of that history's lookback, the day's flows
    history_days: pd.DataFrame = field(default_factory=pd.DataFrame)
    staged: Staged = field(default_factory=Staged)  # verified plans, dismissals

    def delta(self) -> Delta:
        """The connectivity delta of the recommendations shown (plan file's, else the table's)."""
        return (
            self.plan.delta() if self.plan is not None else connectivity_delta(self.recommendations)
        )

    @property
    def verification(self) -> Verification | None:
        """The replay proof of the plan shown: the plan file's, else the recommendations table's."""
        return self.plan.verification if self.plan is not None else self.table_verification

    def group_names(self) -> dict[str, str]:
        """Group id → name (empty when the snapshot has no name)."""
        return {
            str(g.group_id): "" if _missing(g.group_name) else str(g.group_name)
            for g in rows(self.groups)
        }

    @property
    def gap_sentence(self) -> str:
        """``"14 of 15 days have no analysis: …"``, or "" when every day was
        analysed (or it is unknown)."""
        return self.analysed.gap_sentence() if self.analysed is not None else ""

    def status_counts(self) -> dict[str, int]:
        """Rules per usage status (every status present, zero when absent)."""
        counts = {
            s.value: 0
            for s in (
                RuleStatus.USED,
                RuleStatus.UNUSED,
                RuleStatus.NO_COVERAGE,
                RuleStatus.UNOBSERVABLE,
                RuleStatus.NO_MEMBERS,
            )
        }
        for status, n in self.rules["status"].value_counts().items():
            counts[str(status)] = int(n)
        return counts


def rows(df: pd.DataFrame) -> list[Any]:
    """A frame's rows as named tuples (typed loosely: columns come from SQL)."""
    return list(df.itertuples(index=False))


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


def _df(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    query = sqlfiles.load("report", name)
    cursor = sqlfiles.execute(con, query, params)
    try:
        return cursor.df()
    except duckdb.Error as exc:
        raise AnalysisError(f"{query.path}: query {name!r} failed: {exc}") from exc


#: Columns of ``rejected`` the report reads (flow columns plus the cause).
REJECTED_COLUMNS = frozenset({"srcaddr", "dstport", "protocol", "cause", "cause_detail", "date"})
EMPTY_REJECTED = {
    "reject_causes": ["cause", "records", "sources", "example_detail"],
    "top_rejected_sources": ["label", "cause", "records", "total"],
    "top_rejected_ports": ["protocol", "dstport", "cause", "records", "total"],
}


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> set[str]:
    return {str(r[0]) for r in con.execute(f"DESCRIBE {view}").fetchall()}


def _rejected_df(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any], ok: bool
) -> pd.DataFrame:
    """A rejected-traffic query, or an empty frame when the view lacks the flow
    columns (no results yet)."""
    return _df(con, name, params) if ok else pd.DataFrame(columns=EMPTY_REJECTED[name])


def _window_params(w: Window) -> dict[str, Any]:
    return {
        "start_date": w.first,
        "end_date": w.last,
        "bin_seconds": bin_seconds(w),
        "limit": TOP_N,
        "day_pattern": day_pattern(w),
    }


def _totals(con: duckdb.DuckDBPyConnection, params: Mapping[str, Any]) -> FlowTotals:
    row = _df(con, "flow_totals", params).iloc[0]
    return FlowTotals(
        **{k: int(row[k]) if pd.notna(row[k]) else 0 for k in FlowTotals.__dataclass_fields__}
    )


def _rules(con: duckdb.DuckDBPyConnection) -> list[SgRule]:
    return [
        SgRule.from_row(r)
        for r in sqlfiles.rows(con, sqlfiles.load("report", "sg_rules"))
        if r["ip_protocol"] is not None and r["peer"] is not None
    ]


def _resolver(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    resolve: dict[str, list[str]] = {}
    for peer, cidr in rows(_df(con, "peer_addresses")):
        resolve.setdefault(str(peer), []).append(str(cidr))
    return resolve


def _json_column(row: Mapping[str, Any], column: str, where: str) -> Any:
    """A JSON text column of a results row, parsed (errors name the row and column)."""
    value = row.get(column)
    if value is None or value == "":
        return None
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{where}: {column} is not valid JSON ({exc.msg} at char {exc.pos})"
        ) from None


def _recommendations(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    params: Mapping[str, Any],
    directions: Mapping[str, str],
) -> tuple[Recommendation, ...]:
    """The ``recommendations`` table's rows, read as plan recommendations."""
    out = []
    for i, raw in enumerate(records(_df(con, "recommendations", params))):
        where = f"recommendations table row {i}"
        row = {
            k: None if _missing(v) else v for k, v in raw.items()
        }  # NULL: a column older files lack
        d = {
            **row,
            **{
                c: _json_column(row, c, where) for c in ("proposed", "evidence", "current", "notes")
            },
        }
        out.append(
            Recommendation.from_dict(
                d, window=(window.start, window.end), where=where, directions=directions
            )
        )
    return tuple(out)


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values
        return False


def _table_verification(
    con: duckdb.DuckDBPyConnection, params: Mapping[str, Any]
) -> Verification | None:
    """The plan's replay totals as the ``recommendations`` table repeats them on each row."""
    for row in records(_df(con, "recommendations", params)):
        checked, cut = row.get("flows_checked"), row.get("flows_cut")
        if checked is not None and cut is not None and not _missing(checked) and not _missing(cut):
            unattributed, protected = (
                row.get(k) for k in ("flows_unattributed", "flows_unattributed_protected")
            )
            return Verification(
                int(checked),
                0,
                int(cut),
                0,
                0 if unattributed is None or _missing(unattributed) else int(unattributed),
                0 if protected is None or _missing(protected) else int(protected),
            )
    return None


def load(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[date],
    *,
    plan: Mapping[str, Any] | None = None,
    plan_source: str = "plan",
    analysed_days: Sequence[date] | None = None,
    today: date | None = None,
) -> ReportData:
    """Read every figure and table of the report for ``days`` from the views on ``con``.

    Without ``plan`` the recommendations (and their replay totals) come from the
    ``recommendations`` table. ``analysed_days``: the days with analysis results. ``today``
    (default: the UTC date now) judges the dismissals, as the recommender does.
    """
    if not days:
        raise AnalysisError("a report needs at least one day")
    window = Window.of(days)
    params = _window_params(window)
    rules = _rules(con)
    directions: dict[str, str] = {r.rule_id: r.rule.direction for r in rules}
    parsed = (
        Plan.from_dict(plan, where=plan_source, directions=directions) if plan is not None else None
    )
    recs = (
        parsed.recommendations
        if parsed is not None
        else _recommendations(con, window, params, directions)
    )
    has_rejected = _columns(con, "rejected") >= REJECTED_COLUMNS
    resolve = _resolver(con)
    comparison = ex.compare(rules, recs, resolve)
    log.debug(
        "report data for %s: %d rules, %d recommendations", window.label(), len(rules), len(recs)
    )
    return ReportData(
        window=window,
        totals=_totals(con, params),
        traffic=_df(con, "traffic_bins", params),
        reject_causes=_rejected_df(con, "reject_causes", params, has_rejected),
        top_sources=_rejected_df(con, "top_rejected_sources", params, has_rejected),
        top_ports=_rejected_df(con, "top_rejected_ports", params, has_rejected),
        rules=_df(con, "rule_usage_rules", params),
        groups=_df(con, "security_groups"),
        coverage=_df(con, "coverage_by_subnet"),
        subnets=_df(con, "subnets"),
        findings=_df(con, "findings", params),
        recommendations=recs,
        plan=parsed,
        exposure=comparison,
        ingest=_df(con, "ingest_accounting", params),
        quarantine=_df(con, "quarantine_reasons", params),
        evidence=_df(con, "rule_evidence", {**params, "limit": EVIDENCE_ROWS}),
        rule_days=_df(con, "rule_days", params),
        members=_df(con, "group_members"),
        exposure_resolve=resolve,
        analysed=AnalysedWindow.of(window.dates(), analysed_days)
        if analysed_days is not None
        else None,
        table_verification=_table_verification(con, params) if parsed is None else None,
        history=_df(con, "rule_history", params),
        history_days=_df(con, "rule_history_days", params),
        staged=load_staged(con, window.last, rules, today or datetime.now(UTC).date()),
    )
