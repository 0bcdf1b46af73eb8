"""What the planner asks of the observed flows, and the pure-Python answer (the reference).

The planner needs, per rule, the observed flows it allows (to narrow it and for its evidence)
and a replay of proposed changes. :class:`PyObservations` answers from a list of
:class:`Observed` in memory (the reference, used by tests and small inputs);
:mod:`flowlens.recommend.sql_observations` answers the same questions in DuckDB with bounded memory.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flowlens.recommend.inputs import Inventory, Observed, SgRule
from flowlens.recommend.replay import Changes, ReplayResult, replay
from flowlens.recommend.rules import allows


@dataclass(frozen=True)
class RuleStats:
    """Totals over every observed flow a rule allows (its evidence)."""

    flows: int = 0
    connections: int = 0
    peers: int = 0
    ports: int = 0
    protocols: tuple[int, ...] = ()
    sample_peers: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class Matched:
    """The observed flows a rule allows, per (protocol, port, peer).

    ``truncated`` names the (protocol, port) pairs with more distinct peers than can be covered
    exactly: their flows are a sample spread over the address blocks (enough to recognise a
    public rule, never used to narrow it).
    """

    flows: Sequence[Observed]
    stats: RuleStats
    truncated: frozenset[tuple[int, int | None]] = field(default_factory=frozenset)


class Observations(Protocol):
    def matched(self, r: SgRule) -> Matched: ...

    def replay(self, changes: Changes, scope: SgRule | None = None) -> ReplayResult:
        """Replay every observed flow (or only those ``scope`` allows now) under ``changes``."""
        ...


def stats_of(flows: Sequence[Observed]) -> RuleStats:
    peers = sorted({ob.flow.peer_addr for ob in flows})
    firsts = [ob.first_seen for ob in flows if ob.first_seen]
    lasts = [ob.last_seen for ob in flows if ob.last_seen]
    return RuleStats(
        sum(ob.flows for ob in flows), sum(ob.connections for ob in flows), len(peers),
        len({(ob.flow.protocol, ob.flow.port) for ob in flows}),
        tuple(sorted({ob.flow.protocol for ob in flows})), tuple(peers[:10]),
        min(firsts, default=None), max(lasts, default=None),
    )


class PyObservations:
    """The reference: every observed flow in memory, matched and replayed in Python."""

    def __init__(self, observed: Sequence[Observed], inv: Inventory) -> None:
        self.observed, self.inv = observed, inv
        self.by_eni: dict[str, list[Observed]] = {}
        for ob in observed:
            self.by_eni.setdefault(ob.eni_id, []).append(ob)
        self.group_enis = inv.group_enis()
        self.rules_by_group: Mapping[str, Sequence[SgRule]] = inv.rules_by_group()
        self._flows: dict[str, list[Observed]] = {}

    def _matched_flows(self, r: SgRule) -> list[Observed]:
        if r.rule_id not in self._flows:
            self._flows[r.rule_id] = [
                ob for e in self.group_enis.get(r.group_id, []) for ob in self.by_eni.get(e, ())
                if allows(r.rule, ob.flow, self.inv.ctx)
            ]
        return self._flows[r.rule_id]

    def matched(self, r: SgRule) -> Matched:
        flows = self._matched_flows(r)
        return Matched(flows, stats_of(flows))

    def replay(self, changes: Changes, scope: SgRule | None = None) -> ReplayResult:
        flows = self.observed if scope is None else self._matched_flows(scope)
        return replay(flows, self.inv.eni_groups, self.rules_by_group, changes, self.inv.ctx)
