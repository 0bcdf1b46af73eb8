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
from flowlens.recommend.replay import Changes, ReplayResult, World, replay


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
        sum(ob.flows for ob in flows),
        sum(ob.connections for ob in flows),
        len(peers),
        len({(ob.flow.protocol, ob.flow.port) for ob in flows}),
        tuple(sorted({ob.flow.protocol for ob in flows})),
        tuple(peers[:10]),
        min(firsts, default=None),
        max(lasts, default=None),
    )


class PyObservations:
    """The reference: every observed flow in memory, matched and replayed in Python."""

    def __init__(self, observed: Sequence[Observed], inv: Inventory) -> None:
        self.observed, self.inv = observed, inv
        self.rules_by_group: Mapping[str, Sequence[SgRule]] = inv.rules_by_group()
        self.world = World(inv.timeline(), self.rules_by_group, inv.ctx)
        self._touched: dict[str, list[Observed]] = {}

    def _touched_by(self, r: SgRule) -> list[Observed]:
        """Every observed flow ``r`` allows in a piece whose possible groups hold its SG."""
        if r.rule_id not in self._touched:
            self._touched[r.rule_id] = [
                ob
                for ob in self.observed
                if any(
                    r.group_id in p.possible and self.world.allows(r.rule, ob, p)
                    for p in self.world.pieces_of(ob)
                )
            ]
        return self._touched[r.rule_id]

    def matched(self, r: SgRule) -> Matched:
        """The attributed flows ``r`` allows (unattributed ones never shape a narrowing)."""
        flows = [ob for ob in self._touched_by(r) if not ob.unattributed]
        return Matched(flows, stats_of(flows))

    def replay(self, changes: Changes, scope: SgRule | None = None) -> ReplayResult:
        flows = self.observed if scope is None else self._touched_by(scope)
        return replay(flows, self.world, changes)
