"""The recommend stage: read the catalog once, plan in pure code, write
the recommendations table."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from flowlens import arrays, dismissals, sqlfiles
from flowlens.analyze.history import DEFAULT_HISTORY_DAYS, History, histories
from flowlens.catalog import refresh_catalog, register_views
from flowlens.datadir import DataDir
from flowlens.dismissals import active_reasons
from flowlens.errors import AnalysisError
from flowlens.inventory.snapshot import parse_stamp
from flowlens.inventory.timeline import Timeline, load_timeline
from flowlens.lake_dir import stage_inventory, write_table
from flowlens.lock import writer_lock
from flowlens.model.net import SgRule
from flowlens.model.plan import Plan
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.model.window import AnalysedWindow, Window
from flowlens.recommend.assemble import build_plan
from flowlens.recommend.history import Unplaced, history_from_tables, with_unplaced
from flowlens.recommend.inputs import AwsPrefixList, Inventory, Settings, Usage, combine_usage
from flowlens.recommend.observations import Observations
from flowlens.recommend.rules import PeerContext
from flowlens.recommend.sql_observations import SqlObservations

log = logging.getLogger(__name__)


def _rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    *,
    stage: str = "recommend",
) -> list[dict[str, Any]]:
    return sqlfiles.rows(con, sqlfiles.load(stage, name), params)


def _tags(keys: Sequence[str] | None) -> dict[str, str]:
    return {k: "" for k in keys or ()}


def load_inventory(con: duckdb.DuckDBPyConnection) -> Inventory:
    """The inventory snapshot registered on ``con``, as recommender inputs."""
    rules = [SgRule.from_row(r) for r in _rows(con, "current_rules")]
    groups = _rows(con, "groups")
    eni_groups: dict[str, tuple[str, ...]] = {}
    for r in _rows(con, "eni_groups"):
        eni_groups[r["eni_id"]] = (*eni_groups.get(r["eni_id"], ()), r["group_id"])
    members: dict[str, set[str]] = {}
    prefixes: dict[str, list[str]] = {}
    for r in _rows(con, "sg_members"):
        if r["kind"].startswith("prefix"):
            prefixes.setdefault(r["group_id"], []).append(r["address"])
        else:
            members.setdefault(r["group_id"], set()).add(r["address"])
    entries: dict[str, list[str]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for r in _rows(con, "prefix_lists"):
        entries.setdefault(r["prefix_list_id"], []).append(r["cidr"])
        meta[r["prefix_list_id"]] = r
    ctx = PeerContext(
        {g: frozenset(a) for g, a in members.items()},
        {g: tuple(p) for g, p in prefixes.items()},
        {pl: tuple(e) for pl, e in entries.items()},
    )
    aws = [
        AwsPrefixList(
            pl,
            m["prefix_list_name"] or pl,
            6 if (m["address_family"] or "").lower() == "ipv6" else 4,
            tuple(entries[pl]),
        )
        for pl, m in sorted(meta.items())
        if m["aws_managed"]
    ]
    weight = {
        pl: int(m["max_entries"])
        for pl, m in meta.items()
        if m["max_entries"] and not m["aws_managed"]
    }
    return Inventory(
        rules,
        eni_groups,
        ctx,
        {g["group_id"]: _tags(g["tag_keys"]) for g in groups},
        {g["group_id"]: g["vpc_id"] for g in groups if g["vpc_id"]},
        aws,
        weight,
    )


def locate(plan: Plan, groups: Sequence[dict[str, Any]]) -> Plan:
    """Each recommendation with its SG's account and region (plan.sh and plan.tf pin both)."""
    place = {g["group_id"]: (g["owner_id"] or "", g["region"] or "") for g in groups}
    recs = tuple(
        replace(
            r,
            account_id=place.get(r.group_id, ("", ""))[0],
            region=place.get(r.group_id, ("", ""))[1],
        )
        for r in plan.recommendations
    )
    return replace(plan, recommendations=recs)


def load_unplaced(con: duckdb.DuckDBPyConnection, days: Sequence[date]) -> list[Unplaced]:
    """The addresses ENIs that no snapshot places used in the window
    (sql/recommend/unplaced_addresses.sql)."""
    rows = _rows(con, "unplaced_addresses", {"first_day": min(days), "last_day": max(days)})
    return [Unplaced(r["address"], r["vpc_id"], r["first_seen"], r["last_seen"]) for r in rows]


def with_history(inv: Inventory, tl: Timeline) -> Inventory:
    """``inv`` (the latest snapshot's rules) with the window's memberships over time from ``tl``."""
    history = history_from_tables(
        arrays.pylist(tl.tables["eni_groups"]),
        arrays.pylist(tl.tables["eni_ips"]),
        arrays.pylist(tl.tables["security_groups"]),
        (s.taken_at for s in tl.snapshots),
    )
    return replace(
        inv, history=history, snapshot_taken_at=tl.latest.taken_at if tl.latest else None
    )


def load_usage(con: duckdb.DuckDBPyConnection, days: Sequence[date]) -> dict[str, Usage]:
    window = Window.of(days)
    rows = _rows(con, "rule_usage", {"first_day": min(days), "last_day": max(days)})
    if not rows:
        raise AnalysisError(
            f"no rule_usage results for {min(days)}..{max(days)}; run 'flowlens analyze --date "
            "...' for the window first"
        )
    return combine_usage(rows, window.start, window.end)


def load_history(
    con: duckdb.DuckDBPyConnection, last_day: date, history_days: int = DEFAULT_HISTORY_DAYS
) -> dict[str, History]:
    """Each rule's rule_history as of the window's last day, from the catalog's rule_usage."""
    start = last_day - timedelta(days=history_days - 1)
    rows = _rows(
        con, "usage_days", {"history_start": start, "last_day": last_day}, stage="evidence"
    )
    rules = {(r["rule_id"], r["group_id"]) for r in rows}
    return {h.rule_id: h for h in histories(last_day, rows, rules, history_days)}


def _span(days: Sequence[date]) -> str:
    return str(min(days)) if len(set(days)) == 1 else f"{min(days)}..{max(days)}"


def _window_flags(days: Sequence[date]) -> str:
    return (
        f"--date {min(days)}" if len(set(days)) == 1 else f"--start {min(days)} --end {max(days)}"
    )


def recommendations_table(plan: Plan) -> pa.Table:
    """The plan as the ``recommendations`` results table (docs/tables.md#recommendations)."""
    v = plan.verification
    rows = [
        {
            **{
                k: r[k]
                for k in (
                    "rule_id",
                    "group_id",
                    "action",
                    "risk",
                    "kind",
                    "risk_reason",
                    "may_widen",
                )
            },
            **{k: json.dumps(r[k]) for k in ("proposed", "evidence", "current", "notes")},
            "flows_checked": v.flows_checked,
            "flows_cut": v.flows_cut,
            "flows_unattributed": v.flows_unattributed,
            "flows_unattributed_protected": v.flows_unattributed_protected,
        }
        for r in (rec.to_dict() for rec in plan.recommendations)
    ]
    return arrays.table_from_rows(rows, schema=RESULT_SCHEMAS["recommendations"])


def recommend(
    dd: DataDir,
    days: Sequence[date],
    settings: Settings | None = None,
    *,
    snapshot: str | None = None,
    write: bool = True,
    memory_limit: str = "1GB",
    on_plan: Callable[[Plan, Inventory, Observations], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    today: date | None = None,
) -> Plan:
    """Plan for the window ``days`` from the analysis results; write
    ``recommendations`` unless told not to.

    The rules are those of the newest snapshot of the analysed days' timeline (or ``snapshot``);
    the memberships the replay judges each flow with are the timeline's, at the flow's time. Rules
    a reviewer dismissed (``flowlens dismiss``) and whose dismissal holds on ``today`` (default:
    the current UTC date) are kept as they are. ``on_plan`` is called with the plan, the inventory
    and the observations while they are open (the trade-off of ``flowlens recommend --tradeoff``
    reads the observed flows). ``progress(phase, n, of)`` is told as each phase starts.
    """

    def phase(name: str, n: int) -> None:
        if progress:
            progress(name, n, 5 if write else 4)

    if not days:
        raise AnalysisError("recommend needs at least one day")
    settings = settings or Settings()
    window = AnalysedWindow.of(days, dd.analysed_days(days))
    if not window.analysed:
        raise AnalysisError(
            f"no analysis results for {_span(days)} in {dd.results_description()}; run "
            f"'flowlens analyze {_window_flags(days)}' first"
        )
    if window.missing:
        log.warning(
            "%s; risk is rated on the %d analysed day(s)", window.gap_sentence(), window.days
        )
    analysed = window.analysed
    start, end = window.bounds()
    stage_inventory(dd)  # a data dir in S3: its inventory copied to the work dir
    tl = load_timeline(dd, start, end) if dd.snapshots() else None
    chosen = snapshot or (tl.latest.stamp if tl and tl.latest else None)
    with tempfile.TemporaryDirectory(prefix="flowlens-recommend-") as spill:
        con = duckdb.connect(
            config={"memory_limit": memory_limit, "temp_directory": spill, "threads": 2}
        )
        try:
            phase("reading the inventory", 1)
            register_views(con, dd, snapshot=chosen, accounts=False)
            inv = load_inventory(con)
            inv = with_history(inv, tl) if tl else inv
            inv = replace(inv, history=with_unplaced(inv.timeline(), load_unplaced(con, analysed)))
            if snapshot:
                inv = replace(inv, snapshot_taken_at=parse_stamp(snapshot))
            phase("reading rule usage", 2)
            usage = load_usage(con, analysed)
            phase("reading observed traffic", 3)
            obs = SqlObservations.from_catalog(
                con, inv, min(analysed), max(analysed), max_peers=settings.max_cover_peers
            )
            history = load_history(con, max(analysed), settings.history_days)
            phase("planning and replaying the accepted flows", 4)
            dismissed = active_reasons(dismissals.load(dd), today or datetime.now(UTC).date())
            plan = build_plan(
                inv, usage, obs, start, end, settings, window, dismissed=dismissed, history=history
            )
            plan = locate(plan, _rows(con, "groups"))
            if on_plan is not None:
                on_plan(plan, inv, obs)
        finally:
            con.close()
    log.info(
        "%d recommendations, %d dropped; replay: %s",
        len(plan.recommendations),
        len(plan.dropped),
        plan.verification.claim(),
    )
    if write:
        phase("writing the recommendations table", 5)
        with writer_lock(dd, "recommend"):
            write_table(dd, max(analysed), "recommendations", recommendations_table(plan))
            refresh_catalog(dd)
    return plan
