"""Why one flow is allowed or not: every matching SG rule on each side, the NACL verdicts in order.

Azure's "IP flow verify" answers which rule allows a 5-tuple; this is the same question asked of
the inventory as it stood at the flow's time (the timeline's rows valid then). The source ENI's
egress rules judge the request leaving it, the destination ENI's ingress rules judge it arriving;
security groups are stateful, so the reply needs no rule. NACLs are stateless: each subnet's
NACL judges the request and, in the other direction, the reply (to the initiator's port).

The matching semantics are the recommender's (:func:`flowlens.recommend.rules.admits` for
protocol and ports; CIDR containment; an SG reference through the member addresses of that time;
a prefix list through its entries of the version then in force); here each match also says why.

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from flowlens.model.net import ALL, PORTED, Direction, PeerType, Rule, SgRule, protocol_name
from flowlens.recommend.rules import Flow, address, admits, network

#: Where an unknown ephemeral port of a reply is assumed to lie (an entry must cover all of it).
EPHEMERAL = (1024, 65535)


def _iso(value: datetime | None) -> str | None:
    """An instant as the JSON output writes it (``datetime.isoformat``: offset kept); None stays."""
    return None if value is None else value.isoformat()


class Via(StrEnum):
    CIDR = "cidr"
    SG = "sg"
    PREFIX_LIST = "prefix_list"


@dataclass(frozen=True)
class FlowQuery:
    """The 5-tuple asked about (``src_port`` optional: the reply's NACL check needs it)."""

    src: str
    dst: str
    port: int | None
    protocol: int
    src_port: int | None = None
    eni_id: str | None = None  # restrict the sides to this ENI (one of src/dst must be its address)


@dataclass(frozen=True)
class RuleMatch:
    rule_id: str
    group_id: str
    rule: Rule
    via: Via
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "group_id": self.group_id,
            "rule": self.rule.to_dict(),
            "via": self.via.value,
            "why": self.why,
        }


@dataclass(frozen=True)
class NaclStep:
    """One NACL entry of the direction, in rule-number order, and whether it matched the packet."""

    rule_number: int
    action: str
    protocol: int
    cidr: str
    ports: tuple[int, int] | None
    matched: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_number": self.rule_number,
            "action": self.action,
            "protocol": self.protocol,
            "cidr": self.cidr,
            "ports": list(self.ports) if self.ports else None,
            "matched": self.matched,
            "note": self.note,
        }


@dataclass(frozen=True)
class NaclVerdict:
    """The packet (request or reply) crossing one subnet's NACL in one direction."""

    nacl_id: str | None
    packet: str  # request | reply
    direction: Direction
    remote: str
    port: int | None
    steps: tuple[NaclStep, ...]
    allowed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "nacl_id": self.nacl_id,
            "packet": self.packet,
            "direction": self.direction.value,
            "remote": self.remote,
            "port": self.port,
            "allowed": self.allowed,
            "reason": self.reason,
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass(frozen=True)
class PlanVerdict:
    """Whether the side's groups still allow the flow once the plan's changes are made."""

    allowed_after: bool
    changed: tuple[str, ...]  # the matching rules the plan changes
    kept_by: tuple[str, ...]  # rules (unchanged, or proposed) that still allow it
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed_after": self.allowed_after,
            "changed": list(self.changed),
            "kept_by": list(self.kept_by),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Side:
    """One ENI of the flow: its role, its groups then, the rules that
    allow it, the NACL verdicts."""

    eni_id: str
    role: str  # source | destination
    direction: Direction
    groups: tuple[str, ...]
    matches: tuple[RuleMatch, ...]
    nacl: tuple[NaclVerdict, ...]
    plan: PlanVerdict | None = None

    @property
    def sg_allowed(self) -> bool:
        return bool(self.matches)

    @property
    def nacl_allowed(self) -> bool:
        return all(v.allowed for v in self.nacl)

    def to_dict(self) -> dict[str, Any]:
        return {
            "eni_id": self.eni_id,
            "role": self.role,
            "direction": self.direction.value,
            "groups": list(self.groups),
            "sg_allowed": self.sg_allowed,
            "nacl_allowed": self.nacl_allowed,
            "matching_rules": [m.to_dict() for m in self.matches],
            "nacl": [v.to_dict() for v in self.nacl],
            "plan": None if self.plan is None else self.plan.to_dict(),
        }


@dataclass(frozen=True)
class Traffic:
    """Recorded conversations of the 5-tuple in the window (one row per ENI and day)."""

    eni_id: str
    day: str
    status: str
    accepted: bool
    flows: int
    reply_flows: int
    rejected_flows: int
    initiator_port: int | None
    first_seen: datetime | None
    last_seen: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "eni_id": self.eni_id,
            "day": self.day,
            "status": self.status,
            "accepted": self.accepted,
            "flows": self.flows,
            "reply_flows": self.reply_flows,
            "rejected_flows": self.rejected_flows,
            "initiator_port": self.initiator_port,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
        }


@dataclass(frozen=True)
class Conversation:
    """The ``conversations`` row a ``--conversation-id`` names: the flow explain is asked about."""

    conversation_id: str
    day: str
    eni_id: str
    protocol: int
    initiator_addr: str
    initiator_port: int | None
    responder_addr: str
    responder_port: int | None
    rule_direction: str | None
    status: str | None
    first_seen: datetime | None
    last_seen: datetime | None

    def query(self) -> FlowQuery:
        """The flow of this conversation, initiator → responder, on both sides (no ENI filter)."""
        return FlowQuery(
            self.initiator_addr,
            self.responder_addr,
            self.responder_port if self.protocol in PORTED else None,
            self.protocol,
            self.initiator_port if self.protocol in PORTED else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "day": self.day,
            "eni_id": self.eni_id,
            "protocol": self.protocol,
            "initiator_addr": self.initiator_addr,
            "initiator_port": self.initiator_port,
            "responder_addr": self.responder_addr,
            "responder_port": self.responder_port,
            "rule_direction": self.rule_direction,
            "status": self.status,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
        }


@dataclass(frozen=True)
class Explanation:
    query: FlowQuery
    at: datetime
    sides: tuple[Side, ...]
    traffic: tuple[Traffic, ...] = ()
    plan_source: str | None = None
    notes: tuple[str, ...] = ()
    conversation: Conversation | None = None  # the row a --conversation-id named

    @property
    def allowed(self) -> bool | None:
        """Whether every side in the inventory allows it (None when no side is in the inventory)."""
        if not self.sides:
            return None
        return all(s.sg_allowed and s.nacl_allowed for s in self.sides)

    @property
    def allowed_after_plan(self) -> bool | None:
        if not self.sides or any(s.plan is None for s in self.sides):
            return None
        return all(
            s.plan is not None and s.plan.allowed_after and s.nacl_allowed for s in self.sides
        )

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "flow": {
                "src": q.src,
                "dst": q.dst,
                "port": q.port,
                "protocol": q.protocol,
                "protocol_name": protocol_name(q.protocol),
                "src_port": q.src_port,
                "eni_id": q.eni_id,
            },
            "at": _iso(self.at),
            "allowed": self.allowed,
            "allowed_after_plan": self.allowed_after_plan,
            "plan": self.plan_source,
            "sides": [s.to_dict() for s in self.sides],
            "traffic": [t.to_dict() for t in self.traffic],
            "notes": list(self.notes),
            "conversation": None if self.conversation is None else self.conversation.to_dict(),
        }


# --- the world at one moment ------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """The inventory as it (possibly) stood at one time, as plain maps."""

    eni_addresses: Mapping[str, tuple[str, ...]]  # eni → its addresses and delegated prefixes
    eni_groups: Mapping[str, tuple[str, ...]]
    eni_nacl: Mapping[str, str]  # eni → the NACL of its subnet
    rules: Sequence[SgRule]
    prefix_entries: Mapping[str, tuple[str, ...]]  # prefix list → its entries at that time
    nacl_entries: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    def members(self, group_id: str) -> list[tuple[str, str]]:
        """(eni, address) of every ENI in ``group_id`` at that time."""
        return [
            (eni, a)
            for eni, groups in sorted(self.eni_groups.items())
            if group_id in groups
            for a in self.eni_addresses.get(eni, ())
        ]

    def enis_with(self, addr: str) -> list[str]:
        return sorted(
            eni for eni, addrs in self.eni_addresses.items() if any(_holds(a, addr) for a in addrs)
        )


def _holds(member: str, addr: str) -> bool:
    """``addr`` is the member address or inside its delegated prefix."""
    if "/" not in member:
        return member == addr
    net, ip = network(member), address(addr)
    return net.version == ip.version and ip in net


def why_peer(rule: Rule, peer_addr: str, m: Moment) -> tuple[Via, str] | None:
    """Whether the rule's peer contains ``peer_addr`` at that moment, and why; None when not."""
    ip = address(peer_addr)
    if rule.peer_type in (PeerType.CIDR4, PeerType.CIDR6):
        net = network(rule.peer)
        if net.version == ip.version and ip in net:
            return Via.CIDR, f"{peer_addr} is inside {rule.peer}"
        return None
    if rule.peer_type == PeerType.SG:
        for eni, a in m.members(rule.peer):
            if _holds(a, peer_addr):
                return Via.SG, f"{peer_addr} is {eni}, a member of {rule.peer} at that time"
        return None
    for cidr in m.prefix_entries.get(rule.peer, ()):
        net = network(cidr)
        if net.version == ip.version and ip in net:
            return Via.PREFIX_LIST, f"{peer_addr} is inside {cidr}, an entry of {rule.peer}"
    return None


def matching_rules(rules: Sequence[SgRule], flow: Flow, m: Moment) -> list[RuleMatch]:
    """Every rule of ``rules`` that allows ``flow``, with why its peer matches."""
    out = []
    for r in rules:
        if not admits(r.rule, flow):
            continue
        found = why_peer(r.rule, flow.peer_addr, m)
        if found:
            out.append(RuleMatch(r.rule_id, r.group_id, r.rule, found[0], found[1]))
    return out


def _entry_ports(e: Mapping[str, Any]) -> tuple[int, int] | None:
    if e.get("from_port") is None or e.get("to_port") is None:
        return None
    return int(e["from_port"]), int(e["to_port"])


def nacl_verdict(
    nacl_id: str | None,
    entries: Sequence[Mapping[str, Any]],
    packet: str,
    direction: Direction,
    remote: str,
    protocol: int,
    port: int | None,
) -> NaclVerdict:
    """Walk the NACL's entries of ``direction`` in rule-number order; the first match decides.

    ``remote`` is the other end of the packet; ``port`` its destination port (None: unknown,
    an entry with ports matches only when it covers every ephemeral port 1024-65535).
    """
    port = port if protocol in PORTED else None  # other protocols carry no ports
    if nacl_id is None:
        return NaclVerdict(
            None,
            packet,
            direction,
            remote,
            port,
            (),
            True,
            "the subnet's NACL is not in the inventory",
        )
    ip = address(remote)
    steps: list[NaclStep] = []
    decided: NaclStep | None = None
    for e in sorted(
        (e for e in entries if e["direction"] == direction), key=lambda e: int(e["rule_number"])
    ):
        ports = _entry_ports(e)
        net = network(str(e["cidr"]))
        hit = net.version == ip.version and ip in net and int(e["protocol"]) in (ALL, protocol)
        note = ""
        if hit and int(e["protocol"]) != ALL and protocol in PORTED and ports is not None:
            if port is None:
                hit = ports[0] <= EPHEMERAL[0] and ports[1] >= EPHEMERAL[1]
                note = "ephemeral port unknown: matches only if it covers 1024-65535"
            else:
                hit = ports[0] <= port <= ports[1]
        step = NaclStep(
            int(e["rule_number"]),
            str(e["rule_action"]),
            int(e["protocol"]),
            str(e["cidr"]),
            ports,
            decided is None and hit,
            note,
        )
        steps.append(step)
        if decided is None and hit:
            decided = step
    if decided is None:
        return NaclVerdict(
            nacl_id,
            packet,
            direction,
            remote,
            port,
            tuple(steps),
            False,
            "no entry matches: the implicit deny (*)",
        )
    return NaclVerdict(
        nacl_id,
        packet,
        direction,
        remote,
        port,
        tuple(steps),
        decided.action == "allow",
        f"rule {decided.rule_number} {'allows' if decided.action == 'allow' else 'denies'} it",
    )


def plan_verdict(
    side_rules: Sequence[SgRule],
    matches: Sequence[RuleMatch],
    flow: Flow,
    m: Moment,
    changes: Mapping[str, tuple[Rule, ...]],
) -> PlanVerdict:
    """The replay's question for one flow and side: does some group still
    allow it after the changes?

    Like :meth:`flowlens.recommend.replay.World.after`: an unchanged matching rule keeps it, else
    a proposed rule replacing one of the side's changed rules must allow it.
    """
    changed = tuple(x.rule_id for x in matches if x.rule_id in changes)
    unchanged = tuple(x.rule_id for x in matches if x.rule_id not in changes)
    if not matches:
        return PlanVerdict(False, (), (), "not allowed now")
    if unchanged:
        return PlanVerdict(True, changed, unchanged, "a rule the plan does not change allows it")
    proposed = [
        SgRule(f"{r.rule_id} (proposed)", r.group_id, new)
        for r in side_rules
        if r.rule_id in changes
        for new in changes[r.rule_id]
    ]
    kept = matching_rules(proposed, flow, m)
    if kept:
        return PlanVerdict(
            True, changed, tuple(k.rule_id for k in kept), "a proposed rule allows it"
        )
    return PlanVerdict(
        False,
        changed,
        (),
        f"the plan changes {', '.join(changed)} and nothing it proposes allows it",
    )


def explain_at(
    q: FlowQuery,
    at: datetime,
    m: Moment,
    changes: Mapping[str, tuple[Rule, ...]] | None = None,
    traffic: Sequence[Traffic] = (),
    plan_source: str | None = None,
) -> Explanation:
    """The explanation of ``q`` against the world ``m`` of time ``at``
    (and a plan's ``changes``)."""
    sides: list[Side] = []
    notes: list[str] = []
    by_group: dict[str, list[SgRule]] = {}
    for r in m.rules:
        by_group.setdefault(r.group_id, []).append(r)
    ends = (
        ("source", Direction.EGRESS, q.src, q.dst),
        ("destination", Direction.INGRESS, q.dst, q.src),
    )
    for role, direction, mine, other in ends:
        enis = m.enis_with(mine)
        if q.eni_id:
            enis = [e for e in enis if e == q.eni_id]
        if not enis:
            notes.append(
                f"no ENI of the inventory holds {mine} at that time: the {role} side is outside it"
            )
        for eni in enis:
            flow = Flow(direction, q.protocol, other, q.port)
            groups = m.eni_groups.get(eni, ())
            rules = [r for g in groups for r in by_group.get(g, ())]
            matches = matching_rules(rules, flow, m)
            nacl_id = m.eni_nacl.get(eni)
            entries = m.nacl_entries.get(nacl_id, ()) if nacl_id else ()
            reply_dir = Direction.INGRESS if direction is Direction.EGRESS else Direction.EGRESS
            nacl = (
                # a NACL entry's ports are the packet's destination port: the service port for the
                # request, the initiator's (ephemeral) port for the reply
                nacl_verdict(nacl_id, entries, "request", direction, other, q.protocol, q.port),
                nacl_verdict(nacl_id, entries, "reply", reply_dir, other, q.protocol, q.src_port),
            )
            pv = plan_verdict(rules, matches, flow, m, changes) if changes is not None else None
            sides.append(Side(eni, role, direction, tuple(groups), tuple(matches), nacl, pv))
    return Explanation(q, at, tuple(sides), tuple(traffic), plan_source, tuple(notes))
