"""The replay proof (docs/recommend.md#the-replay-proof): no accepted initiating flow the current rules allow is cut.

Every observed flow is checked on its ENI against the union of all rules of all SGs on that
ENI, first as they are, then with every proposed change applied. A flow that the current rules
allow and the proposed rules do not is *cut*; the changes to rules that allowed it are to blame.
:func:`prove` drops the blamed changes and replays again until nothing is cut.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowlens.model.net import Direction
from flowlens.recommend.inputs import Observed, SgRule
from flowlens.recommend.rules import PeerContext, Rule, allows

#: rule_id → the rules that replace it (an empty tuple removes it).
Changes = Mapping[str, tuple[Rule, ...]]


@dataclass(frozen=True)
class Cut:
    flows: int
    connections: int
    example: Observed


@dataclass(frozen=True)
class ReplayResult:
    flows_checked: int
    connections_checked: int
    flows_cut: int
    flows_not_allowed_now: int
    cuts: Mapping[str, Cut] = field(default_factory=dict)  # blamed rule_id → what it would cut


def replay(
    observed: Sequence[Observed],
    eni_groups: Mapping[str, tuple[str, ...]],
    rules_by_group: Mapping[str, Sequence[SgRule]],
    changes: Changes,
    ctx: PeerContext,
) -> ReplayResult:
    """Check every observed flow against its ENI's current and proposed rule sets."""
    checked = conns = cut = not_now = 0
    cuts: dict[str, Cut] = {}
    for ob in observed:
        current = [r for g in eni_groups.get(ob.eni_id, ()) for r in rules_by_group.get(g, ())]
        allowing = [r for r in current if allows(r.rule, ob.flow, ctx)]
        if not allowing:
            not_now += ob.flows
            continue
        checked += ob.flows
        conns += ob.connections
        if _still_allowed(ob, current, allowing, changes, ctx):
            continue
        cut += ob.flows
        for r in allowing:
            if r.rule_id in changes:
                prev = cuts.get(r.rule_id)
                cuts[r.rule_id] = Cut(
                    (prev.flows if prev else 0) + ob.flows,
                    (prev.connections if prev else 0) + ob.connections,
                    min(prev.example, ob, key=replay_order) if prev else ob,
                )
    return ReplayResult(checked, conns, cut, not_now, cuts)


def replay_order(ob: Observed) -> tuple[str, str, int, str, bool, int]:
    """The canonical order of observations (sql/recommend/observed_keyed.sql's obs_id order, NULL port last):
    a cut's example is its first flow in this order, whichever implementation replays."""
    f = ob.flow
    return (ob.eni_id, f.direction, f.protocol, f.peer_addr, f.port is None, f.port or 0)


def _still_allowed(
    ob: Observed, current: Sequence[SgRule], allowing: Sequence[SgRule], changes: Changes, ctx: PeerContext
) -> bool:
    if any(r.rule_id not in changes for r in allowing):
        return True
    replacements = (new for r in current if r.rule_id in changes for new in changes[r.rule_id])
    return any(allows(new, ob.flow, ctx) for new in replacements)


def describe_flow(ob: Observed) -> str:
    """One observed flow in words, for reasons and evidence."""
    f = ob.flow
    port = f"/{f.port}" if f.port is not None else ""
    side = "from" if f.direction == Direction.INGRESS else "to"
    return f"{f.direction} protocol {f.protocol}{port} {side} {f.peer_addr} on {ob.eni_id}"
