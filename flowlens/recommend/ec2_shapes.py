"""Rules in the EC2 API's shapes (``IpPermissions``), shared by the CLI renderer and ``apply``.

Pure: builds dicts, never calls AWS.
"""

from __future__ import annotations

from typing import Any

from flowlens.model.net import (
    ICMPS,
    PORTED,
    Direction,
    PeerType,
    Rule,
    ec2_protocol,
    protocol_number,
)


def ip_permission(rule: Rule) -> dict[str, Any]:
    """One ``IpPermission`` holding exactly this rule.

    >>> ip_permission(Rule("ingress", 6, 22, 22, "cidr4", "198.51.100.7/32", "office"))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22,
     'IpRanges': [{'CidrIp': '198.51.100.7/32', 'Description': 'office'}]}
    """
    perm: dict[str, Any] = {"IpProtocol": ec2_protocol(rule.ip_protocol)}
    if rule.ip_protocol in PORTED or rule.ip_protocol in ICMPS:
        perm["FromPort"] = -1 if rule.from_port is None else rule.from_port
        perm["ToPort"] = -1 if rule.to_port is None else rule.to_port
    desc = {"Description": rule.description} if rule.description else {}
    if rule.peer_type is PeerType.CIDR4:
        perm["IpRanges"] = [{"CidrIp": rule.peer, **desc}]
    elif rule.peer_type is PeerType.CIDR6:
        perm["Ipv6Ranges"] = [{"CidrIpv6": rule.peer, **desc}]
    elif rule.peer_type is PeerType.SG:
        perm["UserIdGroupPairs"] = [{"GroupId": rule.peer, **desc}]
    elif rule.peer_type is PeerType.PREFIX_LIST:
        perm["PrefixListIds"] = [{"PrefixListId": rule.peer, **desc}]
    else:
        raise ValueError(f"unknown peer_type {rule.peer_type!r}")
    return perm


def rule_from_api(item: dict[str, Any]) -> Rule:
    """A describe-security-group-rules ``SecurityGroupRules[]`` item as a :class:`Rule`."""
    proto = protocol_number(item["IpProtocol"])
    ported = proto in PORTED or proto in ICMPS
    if "CidrIpv4" in item:
        ptype, peer = PeerType.CIDR4, item["CidrIpv4"]
    elif "CidrIpv6" in item:
        ptype, peer = PeerType.CIDR6, item["CidrIpv6"]
    elif "PrefixListId" in item:
        ptype, peer = PeerType.PREFIX_LIST, item["PrefixListId"]
    else:
        ptype, peer = PeerType.SG, item["ReferencedGroupInfo"]["GroupId"]
    return Rule(
        Direction.EGRESS if item.get("IsEgress") else Direction.INGRESS,
        proto,
        item.get("FromPort") if ported else None,
        item.get("ToPort") if ported else None,
        ptype,
        peer,
        item.get("Description") or "",
    )
