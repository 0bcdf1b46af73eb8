"""Proposal kinds: remove unused, remove redundant, narrow peer/ports/protocol, replace a CIDR.

Each function looks at one rule and the flows it allowed; :mod:`flowlens.recommend.assemble`
combines them, proves them by replay and turns them into a plan. Pure: no boto3, no duckdb.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from flowlens.model.net import ALL, ICMPS, PORTED, PeerType, Rule, protocol_name
from flowlens.model.plan import Kind
from flowlens.model.status import RuleStatus
from flowlens.recommend.cover_limits import limited_cover
from flowlens.recommend.inputs import EXCLUDE_TAG, Inventory, Observed, Settings, SgRule, Usage
from flowlens.recommend.ports import covered_count, port_ranges
from flowlens.recommend.rules import address, allows, network, rule_subset


@dataclass(frozen=True)
class Candidate:
    """A proposed change to one rule, before the replay proof."""

    sg_rule: SgRule
    kind: Kind
    proposed: tuple[Rule, ...]
    may_widen: bool = False
    public: bool = False
    structural: bool = False  # a redundant rule that lies inside another rule of its SG
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeerChoice:
    peers: tuple[tuple[str, str], ...]  # (peer_type, peer)
    kind: Kind | None  # None: the peer stays as it is
    may_widen: bool = False
    public: bool = False
    note: str = ""


def exclusion_reason(r: SgRule, inv: Inventory, settings: Settings) -> str | None:
    """Why this rule must not be touched, or None."""
    if r.rule_id in settings.exclude_rules:
        return "excluded by --exclude-rule"
    if r.group_id in settings.exclude_groups:
        return "excluded by --exclude-group"
    if EXCLUDE_TAG in r.tags:
        return f"the rule is tagged {EXCLUDE_TAG}"
    if EXCLUDE_TAG in inv.group_tags.get(r.group_id, {}):
        return f"its security group is tagged {EXCLUDE_TAG}"
    return None


def matched_flows(
    r: SgRule,
    enis: Sequence[str],
    observed_by_eni: Mapping[str, Sequence[Observed]],
    inv: Inventory,
) -> list[Observed]:
    """The observed flows this rule allows on the ENIs that carry its SG."""
    return [
        ob for e in enis for ob in observed_by_eni.get(e, ()) if allows(r.rule, ob.flow, inv.ctx)
    ]


@lru_cache(maxsize=1 << 20)
def _public_block(peer: str) -> tuple[int, int] | None:
    """(family, /8 or /16 block) of a globally routable address, else None (cached:
    peers recur per port range)."""
    ip = address(peer)
    return (ip.version, int(ip) >> (24 if ip.version == 4 else 112)) if ip.is_global else None


def public_spread(peers: set[str], settings: Settings) -> tuple[bool, int]:
    """Public by observation: many public peers over many /8 (IPv4) or /16 (IPv6) blocks."""
    public = [b for b in map(_public_block, peers) if b is not None]
    blocks = set(public)
    return len(public) >= settings.public_min_peers and len(
        blocks
    ) >= settings.public_min_blocks, len(blocks)


def aws_prefix_list_for(peers: set[str], rule: Rule, inv: Inventory) -> PeerChoice | None:
    """An AWS-managed prefix list (e.g. com.amazonaws.<region>.s3) that holds every peer."""
    for pl in inv.aws_prefix_lists:
        if pl.family != rule.family or not pl.entries:
            continue
        if all(inv.ctx.peer_contains("prefix_list", pl.prefix_list_id, p) for p in peers):
            outer = network(rule.peer)
            widens = not all(network(e).subnet_of(outer) for e in pl.entries)  # type: ignore[arg-type]
            note = f"every peer is in the AWS-managed prefix list {pl.name} ({pl.prefix_list_id})"
            return PeerChoice(
                (("prefix_list", pl.prefix_list_id),), Kind.PREFIX_LIST, widens, note=note
            )
    return None


def sg_reference_for(peers: set[str], r: SgRule, inv: Inventory) -> PeerChoice | None:
    """The SG whose members' private addresses are all the observed peers (fewest members wins)."""
    if not all(address(p).is_private for p in peers):
        return None
    vpc = inv.group_vpc.get(r.group_id)
    found: list[tuple[int, str]] = []
    for group, members in inv.ctx.sg_members.items():
        if vpc and inv.group_vpc.get(group, vpc) != vpc:
            continue
        if all(inv.ctx.peer_contains("sg", group, p) for p in peers):
            found.append((len(members) + len(inv.ctx.sg_member_prefixes.get(group, ())), group))
    if not found:
        return None
    group = min(found)[1]
    note = (
        f"every peer is a private address of an ENI in {group}; a reference "
        "follows membership changes"
    )
    return PeerChoice((("sg", group),), Kind.SG_REFERENCE, may_widen=True, note=note)


def choose_peer(
    r: SgRule, peers: set[str], inv: Inventory, settings: Settings, k: int
) -> PeerChoice:
    """The narrowest sensible peer for the observed addresses (documented order of preference)."""
    rule = r.rule
    keep = PeerChoice(((rule.peer_type, rule.peer),), None)
    if not rule.peer_type.is_cidr:
        return keep
    pl = aws_prefix_list_for(peers, rule, inv)
    if pl is not None:
        return pl
    public, blocks = public_spread(peers, settings)
    if public:
        note = f"public by observation: {len(peers)} peers across {blocks} address blocks"
        return replace(keep, public=True, note=note)
    cover = limited_cover(
        peers,
        rule.peer,
        k,
        min_coverage=settings.min_coverage,
        max_prefix=settings.max_prefix,
        limit=settings.max_rules_per_proposal,
    )
    if cover is None:
        return replace(
            keep,
            note=f"no cover of the {len(peers)} observed peers within "
            f"{settings.max_rules_per_proposal} prefixes meets "
            "--min-coverage/--max-prefix: peer kept as it is",
        )
    if cover.prefixes == (str(network(rule.peer)),):
        return keep
    sg = sg_reference_for(peers, r, inv)
    if sg is not None:
        return sg
    peer_type = rule.peer_type
    note = f"peer {rule.peer} → {', '.join(cover.prefixes)} ({len(peers)} observed peers)"
    return PeerChoice(tuple((peer_type, p) for p in cover.prefixes), Kind.NARROW, note=note)


def _ranges_for(
    rule: Rule, proto: int, carried: Sequence[tuple[int | None, str]], budget: int
) -> list[tuple[int | None, int | None]]:
    if proto in PORTED:
        seen = {port for port, _ in carried if port is not None}
        orig = rule.port_range() if rule.ip_protocol == proto else None
        full = orig or (0, 65535)
        ranges = port_ranges(seen, budget) if seen else (full,)
        return [full] if covered_count(ranges) >= covered_count([full]) else list(ranges)
    if proto in ICMPS:
        return [(-1, -1)] if rule.ip_protocol == ALL else [(rule.from_port, rule.to_port)]
    return [(None, None)]


def _description(r: SgRule) -> str:
    base = r.rule.description.strip()
    tail = f"(flowlens: from {r.rule_id})"
    return (f"{base} {tail}" if base else tail)[:255]


def _port_in(port: int | None, proto: int, lo: int | None, hi: int | None) -> bool:
    if proto not in PORTED or lo is None or hi is None or port is None:
        return True
    return lo <= port <= hi


def _by_protocol(matched: Sequence[Observed]) -> dict[int, list[tuple[int | None, str]]]:
    """(port, peer) of each matched flow, per protocol: what splitting by port range reads."""
    out: dict[int, list[tuple[int | None, str]]] = {}
    for ob in matched:
        out.setdefault(ob.flow.protocol, []).append((ob.flow.port, ob.flow.peer_addr))
    return out


@dataclass(frozen=True)
class _Group:
    """One (protocol, port range) of a narrowed rule and the peer chosen for its own flows."""

    proto: int
    lo: int | None
    hi: int | None
    choice: PeerChoice


def _too_many(r: SgRule, peers: set[str], settings: Settings) -> PeerChoice:
    """A port range whose peers were sampled (too many to cover): public or kept, never narrowed."""
    keep = PeerChoice(((r.rule.peer_type, r.rule.peer),), None)
    public, blocks = public_spread(peers, settings)
    if public and r.rule.peer_type.is_cidr:
        return replace(
            keep,
            public=True,
            note=f"public by observation: many peers across at least {blocks} address blocks",
        )
    return replace(
        keep, note=f"over {settings.max_cover_peers} distinct peers on one port: peer kept as it is"
    )


def _groups(
    r: SgRule,
    protocols: Sequence[int],
    matched: Mapping[int, Sequence[tuple[int | None, str]]],
    inv: Inventory,
    settings: Settings,
    k: int,
    budget: int,
    truncated: frozenset[tuple[int, int | None]] = frozenset(),
) -> list[_Group]:
    """Split by protocol and port range, then choose each range's peer from the flows it carries.

    An all-traffic rule used for HTTPS to S3 and PostgreSQL to a database becomes tcp/443 → the
    S3 prefix list and tcp/5432 → the database's SG, not both ports to the union of the peers.
    ``matched``: the (port, peer) of the rule's flows per protocol (:func:`_by_protocol`).
    """
    out: list[_Group] = []
    for proto in protocols:
        carried = matched.get(proto, ())
        for lo, hi in _ranges_for(r.rule, proto, carried, budget):
            peers = {peer for port, peer in carried if _port_in(port, proto, lo, hi)}
            sampled = any(p == proto and _port_in(port, proto, lo, hi) for p, port in truncated)
            choice = (
                _too_many(r, peers, settings)
                if sampled
                else choose_peer(r, peers, inv, settings, k)
            )
            out.append(_Group(proto, lo, hi, choice))
    return out


def _build(r: SgRule, groups: Sequence[_Group]) -> tuple[Rule, ...]:
    out = [
        Rule(r.rule.direction, g.proto, g.lo, g.hi, PeerType(peer_type), peer, _description(r))
        for g in groups
        for peer_type, peer in g.choice.peers
    ]
    return tuple(dict.fromkeys(out))


def _kind(choices: Sequence[PeerChoice]) -> Kind:
    """A wholesale move to one kind of reference keeps that kind; anything else is a narrowing."""
    kinds = {c.kind for c in choices}
    for ref in (Kind.SG_REFERENCE, Kind.PREFIX_LIST):
        if kinds == {ref}:
            return ref
    return Kind.NARROW


def narrow(
    r: SgRule,
    matched: Sequence[Observed],
    inv: Inventory,
    settings: Settings,
    truncated: frozenset[tuple[int, int | None]] = frozenset(),
) -> Candidate | None:
    """Narrow protocol and ports to what was observed, and each port range's peer to its own flows.

    ``truncated``: (protocol, port) pairs whose peers are only a sample; their
    port range keeps its peer.
    """
    protocols = (
        sorted({ob.flow.protocol for ob in matched})
        if r.rule.ip_protocol == ALL
        else [r.rule.ip_protocol]
    )
    k, budget = settings.k_prefixes, settings.port_ranges
    by_protocol = _by_protocol(matched)
    groups = _groups(r, protocols, by_protocol, inv, settings, k, budget, truncated)
    proposed = _build(r, groups)
    while len(proposed) > settings.max_rules_per_proposal and (k > 1 or budget > 1):
        if budget > 1:
            budget -= 1
        else:
            k -= 1
        groups = _groups(r, protocols, by_protocol, inv, settings, k, budget, truncated)
        proposed = _build(r, groups)
    if set(proposed) == {r.rule}:
        return None
    choices = [g.choice for g in groups]
    notes = tuple(
        dict.fromkeys(n for n in (*(c.note for c in choices), _port_note(r.rule, proposed)) if n)
    )
    may_widen = any(c.may_widen for c in choices)
    return Candidate(
        r, _kind(choices), proposed, may_widen, any(c.public for c in choices), notes=notes
    )


def _port_note(old: Rule, proposed: Sequence[Rule]) -> str:
    new = sorted(
        {(p.ip_protocol, p.from_port, p.to_port) for p in proposed}, key=lambda t: (t[0], t[1] or 0)
    )
    if len(new) == 1 and (new[0][0], new[0][1], new[0][2]) == (
        old.ip_protocol,
        old.from_port,
        old.to_port,
    ):
        return ""
    words = [
        _proto_word(p)
        + (
            f"/{lo}"
            if lo == hi and lo is not None and lo >= 0
            else f"/{lo}-{hi}"
            if lo is not None and lo >= 0
            else ""
        )
        for p, lo, hi in new
    ]
    old_ports = f"/{old.from_port}-{old.to_port}" if old.port_range() else ""
    return f"traffic {_proto_word(old.ip_protocol)}{old_ports} → {', '.join(words)}"


def _proto_word(proto: int) -> str:
    return protocol_name(proto)


def removal(r: SgRule, usage: Usage | None) -> Candidate | None:
    """Remove a rule with status 'unused' (and only that status)."""
    if usage is None or usage.status != RuleStatus.UNUSED:
        return None
    return Candidate(
        r, Kind.UNUSED, (), notes=(usage.status_reason,) if usage.status_reason else ()
    )


def structurally_redundant(r: SgRule, others: Sequence[SgRule], inv: Inventory) -> str | None:
    """The id of another rule of the same SG that allows everything ``r`` allows, if any."""
    for o in others:
        if o.rule_id != r.rule_id and rule_subset(r.rule, o.rule, inv.ctx):
            return o.rule_id
    return None


def address_space(rule: Rule) -> int:
    """How many addresses a CIDR peer spans (references count as 0: they sort last)."""
    if rule.family is None:
        return 0
    return ipaddress.ip_network(rule.peer, strict=False).num_addresses
