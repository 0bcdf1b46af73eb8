"""The analysis' evidence beyond one day's hits: ``rule_shadows`` and ``rule_history`` tables.

This is the engine edge of :mod:`flowlens.analyze.shadow` and :mod:`flowlens.analyze.history`:
it reads the snapshot and the earlier days' ``rule_usage`` through the engine and returns Arrow
tables in the results contract (:data:`flowlens.model.results.RESULT_SCHEMAS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flowlens import arrays, sqlfiles
from flowlens.analyze.history import History, histories
from flowlens.analyze.shadow import RuleSet, Shadow, across_states, find_shadows
from flowlens.engines import Engine
from flowlens.inventory.timeline import SnapshotRef, Timeline
from flowlens.model.inventory import TS
from flowlens.model.net import SgRule
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.recommend.rules import PeerContext


def _rows(
    eng: Engine, stage: str, name: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    query = sqlfiles.load(stage, name)
    return eng.fetch_arrow(query.sql, sqlfiles.bind(query, params) or None).to_pylist()


def rule_set(eng: Engine) -> RuleSet:
    """The snapshot registered on ``eng`` as rules, their ENIs and what references stand for."""
    rules = [SgRule.from_row(r) for r in _rows(eng, "evidence", "snapshot_rules")]
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
    if s.states > 1:
        text += f" (in each of the {s.states} inventory snapshots in force during the day)"
    if s.dynamic:
        text += (
            " (an SG reference takes part: true for the snapshot's members, "
            "may change when they do)"
        )
    return text


def shadows_table(shadows: list[Shadow]) -> pa.Table:
    return arrays.table(
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


#: The inventory tables :func:`rule_set` reads: two snapshots with the same certain rows of these
#: are one state for the shadow test.
SHADOW_INPUTS = (
    "sg_rules",
    "security_groups",
    "eni_groups",
    "eni_ips",
    "prefix_lists",
    "prefix_list_entries",
)


def _state_key(timeline: Timeline, moment: datetime) -> tuple[bytes, ...]:
    """Which rows of the shadow inputs are certain at ``moment``: equal keys, equal states."""
    m = arrays.scalar(moment.astimezone(UTC), TS)
    key = []
    for name in SHADOW_INPUTS:
        t = timeline.tables.get(name)
        if t is None:
            key.append(b"")
            continue
        seen = pc.and_(pc.less_equal(t["seen_from"], m), pc.greater_equal(t["seen_to"], m))
        key.append(np.packbits(arrays.to_mask(seen)).tobytes())
    return tuple(key)


def in_force(snapshots: Sequence[SnapshotRef], start: datetime, end: datetime) -> list[SnapshotRef]:
    """The snapshots whose state may have held during ``[start, end)``, oldest first: the latest
    taken at or before ``start`` (the state at the start), every one inside, and the first taken at
    or after ``end`` (the state the last change inside led to, which may have begun before the
    end). Without one before the start, the first snapshot stands for the time before it too, as
    the timeline takes it.

    >>> from datetime import UTC
    >>> t = [SnapshotRef(datetime(2026, 11, d, h, tzinfo=UTC), f"{d}/{h}") for d, h in
    ...      ((27, 6), (28, 0), (28, 12), (29, 6), (30, 6))]
    >>> day = datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)
    >>> [s.stamp for s in in_force(t, *day)]
    ['28/0', '28/12', '29/6']
    >>> [s.stamp for s in in_force(t[3:], *day)]
    ['29/6']
    """
    snaps = sorted(snapshots)
    before = [s for s in snaps if s.taken_at <= start]
    inside = [s for s in snaps if start < s.taken_at < end]
    after = [s for s in snaps if s.taken_at >= end]
    return [*before[-1:], *inside, *after[:1]]


def window_shadows(eng: Engine, timeline: Timeline, start: datetime, end: datetime) -> pa.Table:
    """``rule_shadows`` of the window ``[start, end)`` from each inventory snapshot that may have
    been in force during it (:func:`in_force`).

    Each snapshot is one state: the rows it certainly shows (registered on ``eng``, which the
    caller replaces with the window's tables afterwards). The window's tables themselves may hold
    several versions of a rule, and two versions of one rule would shadow each other. A rule is
    reported when it is shadowed in every state that holds it (:func:`across_states`);
    snapshots with the same rows are judged once.
    """
    judged: dict[tuple[bytes, ...], tuple[frozenset[str], list[Shadow]]] = {}
    states = []
    for snap in in_force(timeline.snapshots, start, end):
        key = _state_key(timeline, snap.taken_at)
        if key not in judged:
            for name in timeline.tables:
                eng.register_arrow(name, timeline.at(name, snap.taken_at, certain=True))
            rs = rule_set(eng)
            judged[key] = (frozenset(r.rule_id for r in rs.rules), find_shadows(rs))
        states.append(judged[key])
    return shadows_table(across_states(states))


def history_table(hs: list[History]) -> pa.Table:
    return arrays.table(
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
