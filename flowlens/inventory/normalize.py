"""Pure normalisation of EC2 API shapes into inventory rows (no boto3, no I/O).

Every function takes plain dicts as the EC2 API / AWS CLI returns them and yields row dicts
whose keys are the columns of :data:`flowlens.model.inventory.INVENTORY_SCHEMAS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flowlens.model import net
from flowlens.model.addr import AddrRange, cidr_range
from flowlens.model.net import (
    PORTED_PROTOCOLS,
    Direction,
    PeerType,
    derived_rule_id,
    protocol_name,
)

log = logging.getLogger(__name__)

Row = dict[str, Any]
Json = Mapping[str, Any]


class NormalizeError(ValueError):
    """A value that cannot be normalised; callers add the file/key to the message."""


def protocol_number(value: str | int) -> int:
    """The IANA number of an ``IpProtocol``/``Protocol`` value
    (:func:`flowlens.model.net.protocol_number`).

    >>> protocol_number("tcp"), protocol_number("-1")
    (6, -1)
    """
    try:
        return net.protocol_number(value)
    except net.ProtocolError as exc:
        raise NormalizeError(str(exc)) from None


def rule_ports(
    protocol: int, from_port: int | None, to_port: int | None
) -> tuple[int | None, int | None]:
    """FromPort/ToPort as stored: kept for TCP/UDP/ICMP/ICMPv6, NULL where ports do not apply.

    AWS: "-1 or a protocol number other than tcp, udp, icmp, or icmpv6 allows traffic on all
    ports, regardless of any port range you specify". ICMPv6 without a range means all
    types and codes (-1/-1). ICMP keeps type in from_port and code in to_port.

    >>> (rule_ports(-1, None, None), rule_ports(1, 3, 4), rule_ports(58, None, None),
    ...  rule_ports(47, 0, 0))
    ((None, None), (3, 4), (-1, -1), (None, None))
    """
    if protocol not in PORTED_PROTOCOLS:
        return None, None
    if protocol == 58 and from_port is None and to_port is None:
        return -1, -1
    return _opt_int(from_port), _opt_int(to_port)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@lru_cache(maxsize=65536)
def _cidr(text: str) -> AddrRange:
    """Parsing is the costly step and real inventories repeat CIDRs (0.0.0.0/0, office ranges)."""
    return cidr_range(text)


def canonical_cidr(cidr: str) -> str:
    """Host bits cleared, IPv6 compressed and lowercase, as the EC2 API stores it.

    >>> canonical_cidr("100.68.0.18/18"), canonical_cidr("2001:DB8:0::/32")
    ('100.68.0.0/18', '2001:db8::/32')
    """
    try:
        return _cidr(cidr).cidr
    except ValueError:
        raise NormalizeError(f"{cidr!r} is not an IPv4 or IPv6 CIDR") from None


def addr_columns(text: str) -> Row:
    """``family``/``lo``/``hi`` of an address or CIDR (an address is its own /32 or /128)."""
    try:
        r = _cidr(text)
    except ValueError:
        raise NormalizeError(f"{text!r} is not an IPv4 or IPv6 address or CIDR") from None
    return {"family": r.family, "lo": r.lo, "hi": r.hi}


def tags(items: Sequence[Json] | None) -> list[tuple[str, str]]:
    """EC2 ``Tags``/``TagSet`` as map entries (an Arrow map accepts a list of pairs)."""
    return [(str(t.get("Key", "")), str(t.get("Value", ""))) for t in items or []]


def clean_id(value: Any) -> str | None:
    """An AWS id with stray whitespace removed (the corpus has ``"vpc-aaaaaaaa "``)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# ---------------------------------------------------------------- security-group rules


@dataclass(frozen=True)
class Peer:
    """One source/destination of a rule."""

    peer_type: str  # cidr4|cidr6|sg|prefix_list
    peer: str
    description: str | None = None
    owner_id: str | None = None
    vpc_id: str | None = None
    peering_connection_id: str | None = None
    peering_status: str | None = None


def _sg_peer(pair: Json, description: str | None) -> Peer:
    return Peer(
        "sg",
        str(clean_id(pair.get("GroupId")) or clean_id(pair.get("GroupName"))),
        description,
        owner_id=clean_id(pair.get("UserId")),
        vpc_id=clean_id(pair.get("VpcId")),
        peering_connection_id=clean_id(pair.get("VpcPeeringConnectionId")),
        peering_status=pair.get("PeeringStatus"),
    )


def permission_peers(permission: Json) -> Iterator[Peer]:
    """Every single source of an ``IpPermission`` (one permission may bundle many)."""
    for r in permission.get("IpRanges") or []:
        yield Peer("cidr4", canonical_cidr(r["CidrIp"]), r.get("Description"))
    for r in permission.get("Ipv6Ranges") or []:
        yield Peer("cidr6", canonical_cidr(r["CidrIpv6"]), r.get("Description"))
    for r in permission.get("PrefixListIds") or []:
        yield Peer("prefix_list", str(clean_id(r["PrefixListId"])), r.get("Description"))
    for r in permission.get("UserIdGroupPairs") or []:
        yield _sg_peer(r, r.get("Description"))


def rule_peer(rule: Json) -> Peer:
    """The one peer of a ``SecurityGroupRule`` (describe-security-group-rules shape)."""
    desc = rule.get("Description")
    if rule.get("CidrIpv4"):
        return Peer("cidr4", canonical_cidr(rule["CidrIpv4"]), desc)
    if rule.get("CidrIpv6"):
        return Peer("cidr6", canonical_cidr(rule["CidrIpv6"]), desc)
    if rule.get("PrefixListId"):
        return Peer("prefix_list", str(clean_id(rule["PrefixListId"])), desc)
    if rule.get("ReferencedGroupInfo"):
        return _sg_peer(rule["ReferencedGroupInfo"], desc)
    raise NormalizeError(
        "the rule has none of CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupInfo"
    )


def _rule_row(
    base: Row, direction: str, protocol: int, from_port: int | None, to_port: int | None, peer: Peer
) -> Row:
    cidr = peer.peer_type in (PeerType.CIDR4, PeerType.CIDR6)
    bounds = addr_columns(peer.peer) if cidr else {"family": None, "lo": None, "hi": None}
    return {
        **base,
        "direction": direction,
        "ip_protocol": protocol,
        "protocol_name": protocol_name(protocol),
        "from_port": from_port,
        "to_port": to_port,
        "peer_type": peer.peer_type,
        "peer": peer.peer,
        "peer_family": bounds["family"],
        "peer_lo": bounds["lo"],
        "peer_hi": bounds["hi"],
        "peer_owner_id": peer.owner_id,
        "peer_vpc_id": peer.vpc_id,
        "peering_connection_id": peer.peering_connection_id,
        "peering_status": peer.peering_status,
        "description": peer.description,
    }


def _checked_ports(
    protocol: int, raw_protocol: Any, from_port: Any, to_port: Any, where: str
) -> tuple[int | None, int | None]:
    lo, hi = rule_ports(protocol, from_port, to_port)
    if protocol in (6, 17) and (lo is None or hi is None or lo < 0 or hi < 0):
        # The authorize-security-group-ingress doc example echoes an ICMP rule as tcp -1/-1.
        # Kept as written (it then matches no TCP port) rather than guessed into "all ports".
        log.warning(
            "%s: IpProtocol %r with ports %r-%r is not a valid port range; kept as given",
            where,
            raw_protocol,
            from_port,
            to_port,
        )
    return lo, hi


def permission_rules(
    group: Json, permission: Json, direction: str, region: str | None
) -> Iterator[Row]:
    """Rows for one ``IpPermission`` of describe-security-groups: one per (permission × source)."""
    group_id = str(clean_id(group.get("GroupId")))
    raw = permission.get("IpProtocol", "-1")
    protocol = protocol_number(raw)
    ports = _checked_ports(
        protocol, raw, permission.get("FromPort"), permission.get("ToPort"), group_id
    )
    base: Row = {
        "rule_id_source": "derived",
        "group_id": group_id,
        "group_owner_id": clean_id(group.get("OwnerId")),
        "vpc_id": clean_id(group.get("VpcId")),
        "region": region,
        "tags": [],
    }
    for peer in permission_peers(permission):
        rule_id = derived_rule_id(group_id, direction, protocol, ports[0], ports[1], peer.peer)
        yield _rule_row({**base, "rule_id": rule_id}, direction, protocol, ports[0], ports[1], peer)


def group_rules(group: Json, region: str | None) -> Iterator[Row]:
    """All derived rule rows of one describe-security-groups entry."""
    for key, direction in (("IpPermissions", "ingress"), ("IpPermissionsEgress", "egress")):
        for permission in group.get(key) or []:
            yield from permission_rules(group, permission, direction, region)


def api_rule(rule: Json, vpc_id: str | None, region: str | None) -> Row:
    """The row of one describe-security-group-rules ``SecurityGroupRule`` (its ``sgr-`` id kept)."""
    raw = rule.get("IpProtocol", "-1")
    protocol = protocol_number(raw)
    rule_id = str(clean_id(rule.get("SecurityGroupRuleId")))
    ports = _checked_ports(protocol, raw, rule.get("FromPort"), rule.get("ToPort"), rule_id)
    base: Row = {
        "rule_id": rule_id,
        "rule_id_source": "api",
        "group_id": clean_id(rule.get("GroupId")),
        "group_owner_id": clean_id(rule.get("GroupOwnerId")),
        "vpc_id": vpc_id,
        "region": region,
        "tags": tags(rule.get("Tags")),
    }
    direction = "egress" if rule.get("IsEgress") else "ingress"
    return _rule_row(base, direction, protocol, ports[0], ports[1], rule_peer(rule))


def security_group(group: Json, region: str | None) -> Row:
    name = group.get("GroupName")
    return {
        "group_id": clean_id(group.get("GroupId")),
        "group_name": name,
        "description": group.get("Description"),
        "vpc_id": clean_id(group.get("VpcId")),
        "owner_id": clean_id(group.get("OwnerId")),
        "region": region,
        "is_default": name == "default",
        "tags": tags(group.get("Tags")),
    }


def stale_rules(stale_group: Json) -> Iterator[Row]:
    """Rows of describe-stale-security-groups: each stale (permission × peer) of a group."""
    keys = (("StaleIpPermissions", "ingress"), ("StaleIpPermissionsEgress", "egress"))
    group_id = str(clean_id(stale_group.get("GroupId")))
    for key, direction in keys:
        for permission in stale_group.get(key) or []:
            raw = permission.get("IpProtocol", "-1")
            protocol = protocol_number(raw)
            lo, hi = _checked_ports(
                protocol, raw, permission.get("FromPort"), permission.get("ToPort"), group_id
            )
            for peer in permission_peers(permission):
                yield {
                    "rule_key": derived_rule_id(group_id, direction, protocol, lo, hi, peer.peer),
                    "group_id": group_id,
                    "group_name": stale_group.get("GroupName"),
                    "vpc_id": clean_id(stale_group.get("VpcId")),
                    "direction": direction,
                    "ip_protocol": protocol,
                    "from_port": lo,
                    "to_port": hi,
                    "peer_type": peer.peer_type,
                    "peer": peer.peer,
                    "peer_vpc_id": peer.vpc_id,
                    "peering_connection_id": peer.peering_connection_id,
                    "peering_status": peer.peering_status,
                    "description": peer.description,
                }


def rule_key(row: Row) -> str:
    """The identity hash of any sg_rules row (api or derived), used to join stale marks."""
    return derived_rule_id(
        str(row["group_id"]),
        row["direction"],
        row["ip_protocol"],
        row["from_port"],
        row["to_port"],
        row["peer"],
    )


# ---------------------------------------------------------------- ENI addresses and NACL entries


def _ip_row(eni_id: str, address: str, kind: str) -> Row:
    return {"eni_id": eni_id, "address": address, "kind": kind, **addr_columns(address)}


def eni_addresses(eni: Json) -> Iterator[Row]:
    """Every address of an ENI: primary/secondary IPv4, IPv6, delegated prefixes, public IPv4."""
    eni_id = str(clean_id(eni.get("NetworkInterfaceId")))
    seen: set[tuple[str, str]] = set()
    for item in _private_ips(eni):
        kind = "primary4" if item.get("Primary") else "secondary4"
        seen.add((item["PrivateIpAddress"], kind))
        yield _ip_row(eni_id, item["PrivateIpAddress"], kind)
    sources = (
        ("Ipv6Addresses", "Ipv6Address", "ipv6"),
        ("Ipv4Prefixes", "Ipv4Prefix", "prefix4"),
        ("Ipv6Prefixes", "Ipv6Prefix", "prefix6"),
    )
    for list_key, item_key, kind in sources:
        for item in eni.get(list_key) or []:
            text = canonical_cidr(item[item_key]) if kind.startswith("prefix") else item[item_key]
            if (text, kind) not in seen:
                seen.add((text, kind))
                yield _ip_row(eni_id, text, kind)
    for public in _public_ips(eni):
        if (public, "public4") not in seen:
            seen.add((public, "public4"))
            yield _ip_row(eni_id, public, "public4")


def _private_ips(eni: Json) -> list[Json]:
    items = [i for i in eni.get("PrivateIpAddresses") or [] if i.get("PrivateIpAddress")]
    if not items and eni.get("PrivateIpAddress"):
        items = [{"PrivateIpAddress": eni["PrivateIpAddress"], "Primary": True}]
    return items


def _public_ips(eni: Json) -> Iterator[str]:
    top = (eni.get("Association") or {}).get("PublicIp")
    if top:
        yield top
    for item in eni.get("PrivateIpAddresses") or []:
        public = (item.get("Association") or {}).get("PublicIp")
        if public:
            yield public


def nacl_entry(nacl_id: str, entry: Json) -> Row:
    """One NACL entry; ``Protocol`` is a numeric string in the API (``"-1"``, ``"6"``)."""
    cidr = canonical_cidr(entry.get("CidrBlock") or entry.get("Ipv6CidrBlock") or "")
    port_range = entry.get("PortRange") or {}
    icmp = entry.get("IcmpTypeCode") or {}
    return {
        "nacl_id": nacl_id,
        "rule_number": int(entry["RuleNumber"]),
        "direction": "egress" if entry.get("Egress") else "ingress",
        "rule_action": str(entry.get("RuleAction", "")).lower(),
        "protocol": protocol_number(entry.get("Protocol", "-1")),
        "cidr": cidr,
        **addr_columns(cidr),
        "from_port": _opt_int(port_range.get("From")),
        "to_port": _opt_int(port_range.get("To")),
        "icmp_type": _opt_int(icmp.get("Type")),
        "icmp_code": _opt_int(icmp.get("Code")),
    }


def nacl_entries(nacl: Json) -> list[Row]:
    """A NACL's entries in evaluation order: direction, then rule number ascending."""
    nacl_id = str(clean_id(nacl.get("NetworkAclId")))
    rows = [nacl_entry(nacl_id, e) for e in nacl.get("Entries") or []]
    return sorted(rows, key=lambda r: (r["direction"] != Direction.INGRESS, r["rule_number"]))
