"""Rules in the EC2 API's shapes (``IpPermissions``), shared by the CLI renderer and ``apply``.

Pure: builds dicts, never calls AWS.
"""

from __future__ import annotations

from typing import Any

from flowlens.recommend.rules import ICMPS, PORTED, PROTOCOL_NAMES, Rule


def protocol_text(proto: int) -> str:
    """The IpProtocol string EC2 takes: tcp/udp/icmp/icmpv6, -1, or the number."""
    return PROTOCOL_NAMES.get(proto, str(proto))


def ip_permission(rule: Rule) -> dict[str, Any]:
    """One ``IpPermission`` holding exactly this rule.

    >>> ip_permission(Rule("ingress", 6, 22, 22, "cidr4", "198.51.100.7/32", "office"))
    {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '198.51.100.7/32', 'Description': 'office'}]}
    """
    perm: dict[str, Any] = {"IpProtocol": protocol_text(rule.ip_protocol)}
    if rule.ip_protocol in PORTED or rule.ip_protocol in ICMPS:
        perm["FromPort"] = -1 if rule.from_port is None else rule.from_port
        perm["ToPort"] = -1 if rule.to_port is None else rule.to_port
    desc = {"Description": rule.description} if rule.description else {}
    if rule.peer_type == "cidr4":
        perm["IpRanges"] = [{"CidrIp": rule.peer, **desc}]
    elif rule.peer_type == "cidr6":
        perm["Ipv6Ranges"] = [{"CidrIpv6": rule.peer, **desc}]
    elif rule.peer_type == "sg":
        perm["UserIdGroupPairs"] = [{"GroupId": rule.peer, **desc}]
    elif rule.peer_type == "prefix_list":
        perm["PrefixListIds"] = [{"PrefixListId": rule.peer, **desc}]
    else:
        raise ValueError(f"unknown peer_type {rule.peer_type!r}")
    return perm


def rule_from_api(item: dict[str, Any]) -> Rule:
    """A describe-security-group-rules ``SecurityGroupRules[]`` item as a :class:`Rule`."""
    names = {v: k for k, v in PROTOCOL_NAMES.items()}
    raw = str(item["IpProtocol"])
    proto = names[raw] if raw in names else int(raw)
    ported = proto in PORTED or proto in ICMPS
    if "CidrIpv4" in item:
        ptype, peer = "cidr4", item["CidrIpv4"]
    elif "CidrIpv6" in item:
        ptype, peer = "cidr6", item["CidrIpv6"]
    elif "PrefixListId" in item:
        ptype, peer = "prefix_list", item["PrefixListId"]
    else:
        ptype, peer = "sg", item["ReferencedGroupInfo"]["GroupId"]
    return Rule(
        "egress" if item.get("IsEgress") else "ingress", proto,
        item.get("FromPort") if ported else None, item.get("ToPort") if ported else None,
        ptype, peer, item.get("Description") or "",
    )
