"""``explain``: read the timeline, the recorded traffic and a plan, then ask
:mod:`flowlens.explain.core`.

The I/O edge of explain: the inventory comes from the timeline of the window (the rows valid at
the flow's time), the traffic from the ``conversations`` results, the plan from a plan JSON file
or, without one, the ``recommendations`` table of the window's last day that has one. A
``conversation_id`` (a column of the ``conversations`` view) is resolved to its row first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from flowlens import sqlfiles
from flowlens.catalog import register_views
from flowlens.datadir import DataDir
from flowlens.errors import InputError, UsageError
from flowlens.explain.core import (
    Conversation,
    Explanation,
    FlowQuery,
    Moment,
    Traffic,
    explain_at,
)
from flowlens.inventory.timeline import Timeline, load_timeline
from flowlens.model.conversation import is_conversation_id
from flowlens.model.net import Rule, SgRule
from flowlens.model.plan import Plan
from flowlens.model.window import Window

log = logging.getLogger(__name__)


def moment_of(tl: Timeline, at: datetime) -> Moment:
    """The timeline's rows possibly valid at ``at``, as the maps :func:`explain_at` reads."""

    def rows(table: str) -> list[dict[str, Any]]:
        return tl.at(table, at).to_pylist() if table in tl.tables else []

    addrs: dict[str, list[str]] = {}
    for r in rows("eni_ips"):
        addrs.setdefault(r["eni_id"], []).append(r["address"])
    groups: dict[str, list[str]] = {}
    for r in rows("eni_groups"):
        groups.setdefault(r["eni_id"], []).append(r["group_id"])
    subnet_nacl = {r["subnet_id"]: r["nacl_id"] for r in rows("subnets") if r.get("nacl_id")}
    eni_nacl = {
        r["eni_id"]: subnet_nacl[r["subnet_id"]]
        for r in rows("enis")
        if r.get("subnet_id") in subnet_nacl
    }
    rules = [
        SgRule.from_row(r)
        for r in sorted(rows("sg_rules"), key=lambda r: (r["group_id"], r["rule_id"]))
    ]
    versions = {(r["prefix_list_id"], r["version"]) for r in rows("prefix_lists")}
    entries: dict[str, list[str]] = {}
    for r in rows("prefix_list_entries"):
        if (r["prefix_list_id"], r["version"]) in versions or not versions:
            entries.setdefault(r["prefix_list_id"], []).append(r["cidr"])
    nacl: dict[str, list[dict[str, Any]]] = {}
    for r in rows("nacl_entries"):
        nacl.setdefault(r["nacl_id"], []).append(r)
    return Moment(
        {e: tuple(dict.fromkeys(a)) for e, a in addrs.items()},
        {e: tuple(sorted(set(g))) for e, g in groups.items()},
        eni_nacl,
        rules,
        {p: tuple(c) for p, c in entries.items()},
        {n: tuple(e) for n, e in nacl.items()},
    )


def recorded_traffic(dd: DataDir, q: FlowQuery, days: Sequence[date]) -> list[Traffic]:
    """The conversations results of the 5-tuple in the window (empty when nothing was analysed)."""
    if not any((dd.results_dir(d) / "conversations.parquet").exists() for d in days):
        return []
    con = duckdb.connect()
    try:
        register_views(con, dd, accounts=False)
        found = sqlfiles.rows(
            con,
            sqlfiles.load("explain", "traffic"),
            {
                "first_day": min(days),
                "last_day": max(days),
                "src": q.src,
                "dst": q.dst,
                "port": q.port,
                "protocol": q.protocol,
            },
        )
    finally:
        con.close()
    return [
        Traffic(
            r["eni_id"],
            r["day"],
            r["status"],
            bool(r["accepted"]),
            int(r["flows"] or 0),
            int(r["reply_flows"] or 0),
            int(r["rejected_flows"] or 0),
            r["initiator_port"],
            r["first_seen"],
            r["last_seen"],
        )
        for r in found
    ]


def plan_changes(
    dd: DataDir, days: Sequence[date], plan_path: str | Path | None, directions: Mapping[str, str]
) -> tuple[dict[str, tuple[Rule, ...]] | None, str | None]:
    """rule_id → proposed rules of the plan file, else of the newest
    ``recommendations`` table of the window."""
    if plan_path:
        path = Path(plan_path)
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read the plan ({exc})") from None
        plan = Plan.from_dict(obj, where=str(path), directions=directions)
        return {r.rule_id: r.proposed for r in plan.recommendations}, str(path)
    for day in sorted(days, reverse=True):
        table = dd.results_dir(day) / "recommendations.parquet"
        if table.exists():
            out: dict[str, tuple[Rule, ...]] = {}
            for r in pq.read_table(table).to_pylist():
                direction = directions.get(r["rule_id"], "ingress")
                out[r["rule_id"]] = tuple(
                    Rule.from_dict(p, direction=direction) for p in json.loads(r["proposed"])
                )
            return out, str(table)
    return None, None


def _default_time(traffic: Sequence[Traffic], tl: Timeline, window: Window) -> datetime:
    """The flow's own last time when recorded, else the newest snapshot's (inside
    the window), else its end."""
    seen = [t.last_seen for t in traffic if t.last_seen]
    if seen:
        return max(seen)
    if tl.latest and window.start <= tl.latest.taken_at < window.end:
        return tl.latest.taken_at
    return window.end - timedelta(microseconds=1)


def explain(
    dd: DataDir,
    q: FlowQuery,
    days: Sequence[date],
    *,
    at: datetime | None = None,
    plan: str | Path | None = None,
) -> Explanation:
    """Which rules allow the flow ``q`` on each side at ``at`` (default: its last recorded time).

    ``days``: the window whose timeline and traffic are read; ``plan``: a plan JSON file
    (default: the window's newest ``recommendations`` table) whose changes are applied to ask
    whether the flow would still be allowed.
    """
    if not days:
        raise UsageError("explain needs a window (--date or --start/--end)")
    if not dd.snapshots():
        raise InputError(f"{dd.inventory}: no inventory snapshot; run 'flowlens inventory' first")
    window = Window.of(days)
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if at is not None and not (window.start <= at < window.end):
        raise UsageError(
            f"--time {at.isoformat()} is outside the window {window.start:%Y-%m-%d}..{max(days)}"
        )
    tl = load_timeline(dd, window.start, window.end)
    traffic = recorded_traffic(dd, q, days)
    moment_at = at or _default_time(traffic, tl, window)
    m = moment_of(tl, moment_at)
    changes, source = plan_changes(dd, days, plan, {r.rule_id: r.rule.direction for r in m.rules})
    return explain_at(q, moment_at, m, changes, traffic, source)


def find_conversation(
    dd: DataDir, conversation_id: str, days: Sequence[date] | None = None
) -> Conversation:
    """The ``conversations`` row with that id (on ``days`` when given, else on any analysed day).

    An id of the wrong shape is a usage error; one that no row has is an input error naming it
    and where it was looked for.
    """
    if not is_conversation_id(conversation_id):
        raise UsageError(
            f"--conversation-id {conversation_id!r} is not a conversation id: 'cv-' and 16 hex "
            "digits, as the conversation_id column of the conversations table shows it"
        )
    where = f"{min(days)}..{max(days)}" if days else "any analysed day"
    if not any(dd.results.glob("date=*/conversations.parquet")):
        raise InputError(
            f"conversation {conversation_id} not found: {dd.results} has no conversations "
            "results; run 'flowlens analyze' first"
        )
    con = duckdb.connect()
    try:
        register_views(con, dd, accounts=False)
        found = sqlfiles.rows(
            con,
            sqlfiles.load("explain", "conversation"),
            {
                "conversation_id": conversation_id,
                "first_day": min(days) if days else None,
                "last_day": max(days) if days else None,
            },
        )
    finally:
        con.close()
    if not found:
        raise InputError(
            f"conversation {conversation_id} not found in the conversations table ({where}) of "
            f"{dd.root}; copy an id from 'flowlens sql \"SELECT conversation_id, ... FROM "
            "conversations\"' or the report, and check --data-dir and the window"
        )
    if len(found) > 1:  # 64 bits of a hash: not expected below billions of rows, but never guess
        places = ", ".join(f"{r['day']} {r['eni_id']}" for r in found)
        raise InputError(
            f"conversation id {conversation_id} names {len(found)} rows ({places}); "
            "pick one with --date, or explain the flow with --src/--dst/--port"
        )
    r = found[0]
    return Conversation(
        str(r["conversation_id"]),
        str(r["day"]),
        str(r["eni_id"]),
        int(r["protocol"]),
        str(r["initiator_addr"]),
        r["initiator_port"],
        str(r["responder_addr"]),
        r["responder_port"],
        r["rule_direction"],
        r["status"],
        r["first_seen"],
        r["last_seen"],
    )


def explain_conversation(
    dd: DataDir,
    conversation_id: str,
    days: Sequence[date] | None = None,
    *,
    at: datetime | None = None,
    plan: str | Path | None = None,
    eni_id: str | None = None,
) -> Explanation:
    """:func:`explain` of the flow a ``conversations`` row records, at its last packet by default.

    ``days``: the window to look for the id in and to explain over (default: the row's own day);
    the row's day must be one of them. Both sides are explained unless ``eni_id`` picks one
    (the row's own ENI, say).
    """
    conv = find_conversation(dd, conversation_id, days)
    window = list(days) if days else [date.fromisoformat(conv.day)]
    moment = at or conv.last_seen
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ex = explain(dd, replace(conv.query(), eni_id=eni_id), window, at=moment, plan=plan)
    return replace(ex, conversation=conv)
