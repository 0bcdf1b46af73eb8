"""The analysis' evidence beyond one day's hits: ``rule_shadows`` and ``rule_history`` tables.

This is the engine edge of :mod:`flowlens.analyze.shadow` and :mod:`flowlens.analyze.history`:
it reads the snapshot and the earlier days' ``rule_usage`` through the engine and returns Arrow
tables in the results contract (:data:`flowlens.model.results.RESULT_SCHEMAS`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from flowlens import sqlfiles
from flowlens.analyze.history import History, histories
from flowlens.analyze.shadow import RuleSet, Shadow, find_shadows
from flowlens.engines import Engine
from flowlens.model.net import Rule, SgRule
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.recommend.rules import PeerContext


def _rows(
    eng: Engine, stage: str, name: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    query = sqlfiles.load(stage, name)
    return eng.fetch_arrow(query.sql, sqlfiles.bind(query, params) or None).to_pylist()


def _opt(v: Any) -> int | None:
    return None if v is None else int(v)


def rule_set(eng: Engine) -> RuleSet:
    """The snapshot registered on ``eng`` as rules, their ENIs and what references stand for."""
    rules = [
        SgRule(
            r["rule_id"],
            r["group_id"],
            Rule(
                r["direction"],
                int(r["ip_protocol"]),
                _opt(r["from_port"]),
                _opt(r["to_port"]),
                r["peer_type"],
                r["peer"],
            ),
        )
        for r in _rows(eng, "evidence", "snapshot_rules")
    ]
    eni_groups: dict[str, tuple[str, ...]] = {}
    for r in _rows(eng, "recommend", "eni_groups"):
        eni_groups[r["eni_id"]] = (*eni_groups.get(r["eni_id"], ()), r["group_id"])
    members: dict[str, set[str]] = {}
    prefixes: dict[str, list[str]] = {}
    for r in _rows(eng, "recommend", "sg_members"):
        if str(r["kind"]).startswith("prefix"):
            prefixes.setdefault(r["group_id"], []).append(r["address"])
        else:
            members.setdefault(r["group_id"], set()).add(r["address"])
    entries: dict[str, list[str]] = {}
    for r in _rows(eng, "recommend", "prefix_lists"):
        entries.setdefault(r["prefix_list_id"], []).append(r["cidr"])
    ctx = PeerContext(
        {g: frozenset(a) for g, a in members.items()},
        {g: tuple(p) for g, p in prefixes.items()},
        {pl: tuple(e) for pl, e in entries.items()},
    )
    known = frozenset(r["group_id"] for r in _rows(eng, "evidence", "known_groups"))
    return RuleSet(rules, eni_groups, ctx, known)


def shadow_detail(s: Shadow) -> str:
    where = f"on each of its {s.enis} ENIs" if s.enis else "within its SG (no ENI carries it yet)"
    text = (
        f"everything {s.direction} rule {s.rule_id} of {s.group_id} allows is also allowed, "
        f"{where}, by {', '.join(s.shadowed_by)}"
    )
    if s.dynamic:
        text += (
            " (an SG reference takes part: true for the snapshot's members, "
            "may change when they do)"
        )
    return text


def shadows_table(shadows: list[Shadow]) -> pa.Table:
    return pa.table(
        {
            "rule_id": [s.rule_id for s in shadows],
            "group_id": [s.group_id for s in shadows],
            "direction": [s.direction for s in shadows],
            "shadowed_by": [",".join(s.shadowed_by) for s in shadows],
            "enis": [s.enis for s in shadows],
            "dynamic": [s.dynamic for s in shadows],
            "detail": [shadow_detail(s) for s in shadows],
        },
        schema=RESULT_SCHEMAS["rule_shadows"],
    )


def rule_shadows(eng: Engine) -> pa.Table:
    """``rule_shadows`` for the snapshot registered on ``eng``."""
    return shadows_table(find_shadows(rule_set(eng)))


def history_table(hs: list[History]) -> pa.Table:
    return pa.table(
        {
            "rule_id": [h.rule_id for h in hs],
            "group_id": [h.group_id for h in hs],
            "class": [h.cls.value for h in hs],
            "analysed_days": [h.analysed_days for h in hs],
            "days_used": [h.days_used for h in hs],
            "first_used": [h.first_used for h in hs],
            "last_used": [h.last_used for h in hs],
            "mean_flows": [h.mean_flows for h in hs],
            "longest_gap": [h.longest_gap for h in hs],
            "silent_days": [h.silent_days for h in hs],
            "period": [h.period for h in hs],
            "pattern": [h.pattern for h in hs],
        },
        schema=RESULT_SCHEMAS["rule_history"],
    )


def rule_history(eng: Engine, day: date, history_days: int) -> pa.Table:
    """``rule_history`` as of ``day``: the earlier analysed days' rule_usage and
    today's (table ``rule_usage``)."""
    start = day - timedelta(days=max(history_days - 1, 0))
    earlier = _rows(eng, "evidence", "usage_history", {"history_start": start, "day": day})
    today = eng.fetch_arrow("SELECT rule_id, group_id, flows FROM rule_usage").to_pylist()
    rows = [*earlier, *({"rule_id": r["rule_id"], "date": day, "flows": r["flows"]} for r in today)]
    return history_table(
        histories(day, rows, [(r["rule_id"], r["group_id"]) for r in today], history_days)
    )
