"""The replay proof (docs/recommend.md#the-replay-proof): no accepted initiating flow the
current rules allow is cut.

The rules are the latest snapshot's (the ones a plan changes); the time is the flow's. Each
observed flow is checked in every :class:`~flowlens.recommend.history.Piece` of its ENI that its
time overlaps, with the groups the ENI then held and SG-reference peers resolved through the
addresses of that time, first under the current rules, then with every proposed change applied.

Where the snapshots leave a group's membership uncertain (between the snapshot that last showed
it and the next one), any set between the certain and the possible groups may have held, so a
flow is *cut* in a piece when no certain group still allows it and some possible group that
allows it now would not after the changes. With one snapshot (certain = possible) that is the
plain union of the ENI's rules. A flow on an ENI that no snapshot places (unattributed) is
checked in a piece of its VPC with every group of that VPC possible and none certain: a change
that stops any group allowing it is a cut. The changes of the groups that lose the flow are to
blame; :func:`prove` in the assembler drops them and replays until nothing is cut.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowlens.model.net import Direction
from flowlens.recommend.history import History, MemberAt, Piece, all_pieces, overlap, vpc_holder
from flowlens.recommend.inputs import Observed, SgRule
from flowlens.recommend.rules import IpAddress, PeerContext, Rule, address, admits, network

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
    flows_unattributed: int = 0  # flows on ENIs no snapshot places in a group at their time
    flows_unattributed_protected: int = 0  # of those, flows some group of their VPC allows now


class World:
    """What a flow is judged against: the holders' pieces, the rules per group, peers at a time."""

    def __init__(
        self, history: History, rules_by_group: Mapping[str, Sequence[SgRule]], ctx: PeerContext
    ) -> None:
        self.rules_by_group, self.ctx = rules_by_group, ctx
        self.pieces: dict[str, list[Piece]] = {}
        for p in all_pieces(history):
            self.pieces.setdefault(p.holder, []).append(p)
        self.members: Mapping[str, Sequence[MemberAt]] = history.members

    def pieces_of(self, ob: Observed) -> list[Piece]:
        """The pieces of the flow's holder (its ENI, or its VPC when
        unattributed) its time overlaps."""
        holder = vpc_holder(ob.vpc_id) if ob.unattributed else ob.eni_id
        return [
            p
            for p in self.pieces.get(holder, ())
            if overlap(ob.first_seen, ob.last_seen, (p.start, p.end))
        ]

    def allows(self, rule: Rule, ob: Observed, piece: Piece, *, certainly: bool = False) -> bool:
        """``rule`` admits the flow in ``piece``; an SG reference through the members of that time.

        ``certainly``: only through members known to belong (an unplaced ENI's address may
        belong to any group of its VPC: enough to protect a flow, never to keep one allowed).
        """
        if not admits(rule, ob.flow):
            return False
        if rule.peer_type != "sg":
            return self.ctx.peer_contains(rule.peer_type, rule.peer, ob.flow.peer_addr)
        ip = address(ob.flow.peer_addr)
        return any(
            (m.certain or not certainly)
            and _member_is(m.address, ob.flow.peer_addr, ip)
            and overlap(
                ob.first_seen, ob.last_seen, (piece.start, piece.end), (m.valid_from, m.valid_to)
            )
            for m in self.members.get(rule.peer, ())
        )

    def current(self, ob: Observed, piece: Piece) -> dict[str, list[SgRule]]:
        """group → its current rules that (possibly) allow the flow in ``piece`` (groups
        allowing nothing left out)."""
        out = {}
        for g in sorted(piece.possible):
            rules = [r for r in self.rules_by_group.get(g, ()) if self.allows(r.rule, ob, piece)]
            if rules:
                out[g] = rules
        return out

    def after(
        self, ob: Observed, piece: Piece, group: str, allowing: Sequence[SgRule], changes: Changes
    ) -> bool:
        """Whether ``group`` certainly still allows the flow once ``changes`` are made."""
        if any(
            r.rule_id not in changes and self.allows(r.rule, ob, piece, certainly=True)
            for r in allowing
        ):
            return True
        return any(
            self.allows(new, ob, piece, certainly=True)
            for r in self.rules_by_group.get(group, ())
            if r.rule_id in changes
            for new in changes[r.rule_id]
        )


def _member_is(member: str, addr: str, ip: IpAddress) -> bool:
    """``addr`` is the member address, or inside the member's delegated prefix."""
    if "/" not in member:
        return member == addr
    net = network(member)
    return net.version == ip.version and ip in net


@dataclass
class _Tally:
    checked: int = 0
    connections: int = 0
    cut: int = 0
    not_now: int = 0
    unattributed: int = 0
    protected: int = 0


def judge(world: World, ob: Observed, changes: Changes) -> tuple[bool, bool, set[str]]:
    """(allowed now in some piece, cut in some piece, the changed rules to blame) for one flow."""
    touched, cut = False, False
    blamed: set[str] = set()
    for piece in world.pieces_of(ob):
        current = world.current(ob, piece)
        if not current:
            continue
        touched = True
        still = {g: world.after(ob, piece, g, current.get(g, ()), changes) for g in piece.possible}
        if any(still[g] for g in piece.certain):
            continue
        # a group loses the flow when a change took away an allowing rule and nothing
        # certainly allows it after
        losing = [
            g for g in current if not still[g] and any(r.rule_id in changes for r in current[g])
        ]
        if losing:
            cut = True
            blamed.update(r.rule_id for g in losing for r in current[g] if r.rule_id in changes)
    return touched, cut, blamed


def replay(observed: Sequence[Observed], world: World, changes: Changes) -> ReplayResult:
    """Check every observed flow against the current and the proposed rules of its time."""
    t = _Tally()
    cuts: dict[str, Cut] = {}
    for ob in observed:
        touched, is_cut, blamed = judge(world, ob, changes)
        if ob.unattributed:
            t.unattributed += ob.flows
            t.protected += ob.flows if touched else 0
        elif touched:
            t.checked += ob.flows
            t.connections += ob.connections
        else:
            t.not_now += ob.flows
        if not is_cut:
            continue
        t.cut += ob.flows
        for rid in blamed:
            prev = cuts.get(rid)
            cuts[rid] = Cut(
                (prev.flows if prev else 0) + ob.flows,
                (prev.connections if prev else 0) + ob.connections,
                min(prev.example, ob, key=replay_order) if prev else ob,
            )
    return ReplayResult(
        t.checked, t.connections, t.cut, t.not_now, cuts, t.unattributed, t.protected
    )


def replay_order(ob: Observed) -> tuple[str, str, int, str, bool, int, bool]:
    """The canonical order of observations (sql/recommend/observed_keyed.sql's obs_id order, NULL
    port last, attributed before unattributed): a cut's example is its first flow in this order,
    whichever implementation replays."""
    f = ob.flow
    return (
        ob.eni_id,
        f.direction,
        f.protocol,
        f.peer_addr,
        f.port is None,
        f.port or 0,
        ob.unattributed,
    )


def describe_flow(ob: Observed) -> str:
    """One observed flow in words, for reasons and evidence."""
    f = ob.flow
    port = f"/{f.port}" if f.port is not None else ""
    side = "from" if f.direction == Direction.INGRESS else "to"
    where = (
        (
            f"{ob.eni_id}, an ENI no snapshot places in a security group at that time "
            f"(any group of {ob.vpc_id or 'its VPC'} may have held it)"
        )
        if ob.unattributed
        else ob.eni_id
    )
    return f"{f.direction} protocol {f.protocol}{port} {side} {f.peer_addr} on {where}"
