"""Generate the committed sample day: S3-layout flow logs, AWS CLI inventory JSON, expected.json.

Usage::

    python sample_logs/make_sample.py            # rewrite sample_logs/{s3,inventory,expected.json}
    python sample_logs/make_sample.py --out DIR  # write the same bytes under DIR instead

Deterministic: a fixed seed, no clock, no network, gzip with mtime 0. Running it twice gives
identical bytes. See README.md for the scenario and what each expectation means.
"""

from __future__ import annotations

import argparse
import calendar
import gzip
import hashlib
import io
import ipaddress
import json
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scenario import (  # noqa: E402
    ACCOUNT,
    BUCKET,
    CORPMON_PL,
    CORPMON_PL_CIDRS,
    DAY,
    ENIS,
    FINDING_KINDS,
    FLOW_LOGS,
    GROUPS,
    REGION,
    REJECT_CLASSES,
    RULES,
    S3_PL,
    S3_PL_CIDRS,
    STALE_OWNER,
    STALE_PCX,
    STALE_VPC,
    SUBNETS,
    VPC_CIDR,
    VPC_ID,
    VPC_IPV6,
    FlowLog,
    flow_log_of,
    make_id,
)
from traffic import Rec, generate, traffic_path  # noqa: E402

SEED = 20261128
T0 = calendar.timegm((2026, 11, 28, 0, 0, 0))
PROTO_NUM = {"tcp": 6, "udp": 17, "icmp": 1, "-1": -1}


# --- inventory JSON (aws ec2 describe-* output shapes) -------------------------------------


def _tags(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def describe_vpcs() -> dict[str, Any]:
    return {"Vpcs": [{
        "CidrBlock": VPC_CIDR, "DhcpOptionsId": make_id("dopt", "prod"), "State": "available",
        "VpcId": VPC_ID, "OwnerId": ACCOUNT, "InstanceTenancy": "default",
        "Ipv6CidrBlockAssociationSet": [{
            "AssociationId": make_id("vpc-cidr-assoc", "prod-v6"), "Ipv6CidrBlock": VPC_IPV6,
            "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": REGION, "Ipv6Pool": "Amazon"}],
        "CidrBlockAssociationSet": [{
            "AssociationId": make_id("vpc-cidr-assoc", "prod"), "CidrBlock": VPC_CIDR,
            "CidrBlockState": {"State": "associated"}}],
        "IsDefault": False, "Tags": [{"Key": "Name", "Value": "prod"}]}]}


def describe_subnets() -> dict[str, Any]:
    out = []
    for s in SUBNETS.values():
        v6 = [] if s.ipv6 is None else [{
            "AssociationId": make_id("subnet-cidr-assoc", s.name), "Ipv6CidrBlock": s.ipv6,
            "Ipv6CidrBlockState": {"State": "associated"}}]
        out.append({
            "AvailabilityZone": s.az, "AvailabilityZoneId": s.az_id, "AvailableIpAddressCount": 245,
            "CidrBlock": s.cidr, "DefaultForAz": False, "MapPublicIpOnLaunch": s.public, "State": "available",
            "SubnetId": s.id, "VpcId": VPC_ID, "OwnerId": ACCOUNT, "AssignIpv6AddressOnCreation": False,
            "Ipv6CidrBlockAssociationSet": v6, "Tags": [{"Key": "Name", "Value": s.name}],
            "SubnetArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{s.id}"})
    return {"Subnets": out}


def _peer_entry(rule: Any) -> tuple[str, dict[str, Any]]:
    desc = {"Description": rule.description} if rule.description else {}
    if rule.peer_type == "cidr4":
        return "IpRanges", {"CidrIp": rule.peer, **desc}
    if rule.peer_type == "cidr6":
        return "Ipv6Ranges", {"CidrIpv6": rule.peer, **desc}
    if rule.peer_type == "prefix_list":
        return "PrefixListIds", {"PrefixListId": rule.peer, **desc}
    if rule.peer in GROUPS:
        return "UserIdGroupPairs", {"GroupId": rule.peer_value(), "UserId": ACCOUNT, **desc}
    return "UserIdGroupPairs", {"GroupId": rule.peer, "UserId": STALE_OWNER, "VpcId": STALE_VPC,
                                "VpcPeeringConnectionId": STALE_PCX, "PeeringStatus": "deleted", **desc}


def _permissions(group: str, egress: bool) -> list[dict[str, Any]]:
    perms: dict[tuple[str, int, int], dict[str, Any]] = {}
    for r in RULES:
        if r.group != group or r.egress != egress:
            continue
        key = (r.protocol, r.from_port, r.to_port)
        if key not in perms:
            p: dict[str, Any] = {"IpProtocol": r.protocol}
            if r.protocol != "-1":
                p.update(FromPort=r.from_port, ToPort=r.to_port)
            p.update(IpRanges=[], Ipv6Ranges=[], PrefixListIds=[], UserIdGroupPairs=[])
            perms[key] = p
        slot, entry = _peer_entry(r)
        perms[key][slot].append(entry)
    return list(perms.values())


def describe_security_groups() -> dict[str, Any]:
    return {"SecurityGroups": [{
        "Description": g.description, "GroupName": g.name, "IpPermissions": _permissions(g.name, False),
        "OwnerId": ACCOUNT, "GroupId": g.id, "IpPermissionsEgress": _permissions(g.name, True),
        "Tags": _tags(g.tags), "VpcId": VPC_ID} for g in GROUPS.values()]}


def describe_security_group_rules() -> dict[str, Any]:
    out = []
    for r in RULES:
        rule: dict[str, Any] = {
            "SecurityGroupRuleId": r.id, "GroupId": r.group_id, "GroupOwnerId": ACCOUNT, "IsEgress": r.egress,
            "IpProtocol": r.protocol, "FromPort": r.from_port, "ToPort": r.to_port}
        slot, entry = _peer_entry(r)
        if slot == "IpRanges":
            rule["CidrIpv4"] = r.peer
        elif slot == "Ipv6Ranges":
            rule["CidrIpv6"] = r.peer
        elif slot == "PrefixListIds":
            rule["PrefixListId"] = r.peer
        else:
            rule["ReferencedGroupInfo"] = {k: v for k, v in entry.items() if k != "Description"}
        if r.description:
            rule["Description"] = r.description
        rule["Tags"] = []
        rule["SecurityGroupRuleArn"] = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group-rule/{r.id}"
        out.append(rule)
    return {"SecurityGroupRules": out}


_ENI_KIND = {
    "alb": ("ELB app/web-alb/50dc6c495c0c9188", "interface", "amazon-elb", True, "amazon-elb"),
    "nat": (f"Interface for NAT Gateway {make_id('nat', 'prod-a')}", "nat_gateway", "440804025219", True, None),
    "rds": ("RDSNetworkInterface", "interface", "amazon-rds", True, "amazon-rds"),
}


def _eni_json(e: Any) -> dict[str, Any]:
    s = SUBNETS[e.subnet]
    desc, itype, requester, managed, owner = _ENI_KIND.get(e.kind, ("", "interface", None, False, ACCOUNT))
    assoc = {} if e.public_ip is None else {"Association": {
        "IpOwnerId": "amazon" if e.kind == "alb" else ACCOUNT, "PublicDnsName": "", "PublicIp": e.public_ip}}
    attach: dict[str, Any] = {
        "AttachTime": "2026-03-02T09:14:31+00:00", "AttachmentId": make_id("eni-attach", e.name),
        "DeleteOnTermination": e.kind == "instance", "DeviceIndex": 0 if e.kind == "instance" else 1,
        "NetworkCardIndex": 0, "Status": "attached"}
    if e.instance_id:
        attach.update(InstanceId=e.instance_id, InstanceOwnerId=ACCOUNT)
    elif owner:
        attach["InstanceOwnerId"] = owner
    out: dict[str, Any] = {
        **assoc, "Attachment": attach, "AvailabilityZone": s.az, "Description": desc,
        "Groups": [{"GroupName": g, "GroupId": GROUPS[g].id} for g in e.groups],
        "InterfaceType": itype, "Ipv6Addresses": [{"Ipv6Address": a, "IsPrimaryIpv6": False} for a in e.ipv6],
        "MacAddress": "02:" + ":".join(make_id("m", e.name)[3:13][i:i + 2] for i in range(0, 10, 2)),
        "NetworkInterfaceId": e.id, "OwnerId": ACCOUNT,
        "PrivateDnsName": f"ip-{e.ip.replace('.', '-')}.ec2.internal", "PrivateIpAddress": e.ip,
        "PrivateIpAddresses": [{**assoc, "Primary": True, "PrivateDnsName": f"ip-{e.ip.replace('.', '-')}.ec2.internal",
                                "PrivateIpAddress": e.ip}],
        "RequesterManaged": managed, "SourceDestCheck": e.kind != "nat", "Status": "in-use",
        "SubnetId": s.id, "TagSet": [] if e.kind != "instance" else [{"Key": "Name", "Value": e.name}],
        "VpcId": VPC_ID}
    if requester:
        out["RequesterId"] = requester
    return out


def describe_network_interfaces() -> dict[str, Any]:
    return {"NetworkInterfaces": [_eni_json(e) for e in ENIS.values()]}


def _entry(num: int, egress: bool, action: str, proto: str, cidr: str, **extra: Any) -> dict[str, Any]:
    key = "Ipv6CidrBlock" if ":" in cidr else "CidrBlock"
    return {key: cidr, "Egress": egress, "Protocol": proto, "RuleAction": action, "RuleNumber": num, **extra}


def describe_network_acls() -> dict[str, Any]:
    default_entries = []
    for egress in (True, False):
        default_entries += [_entry(100, egress, "allow", "-1", "0.0.0.0/0"),
                            _entry(101, egress, "allow", "-1", "::/0"),
                            _entry(32767, egress, "deny", "-1", "0.0.0.0/0"),
                            _entry(32768, egress, "deny", "-1", "::/0")]
    app_entries = [
        _entry(80, True, "deny", "1", "0.0.0.0/0", IcmpTypeCode={"Code": -1, "Type": -1}),
        _entry(100, True, "allow", "-1", "0.0.0.0/0"),
        _entry(32767, True, "deny", "-1", "0.0.0.0/0"),
        _entry(32768, True, "deny", "-1", "::/0"),
        _entry(90, False, "deny", "6", "10.20.30.0/24", PortRange={"From": 8080, "To": 8080}),
        _entry(100, False, "allow", "-1", "0.0.0.0/0"),
        _entry(32767, False, "deny", "-1", "0.0.0.0/0"),
        _entry(32768, False, "deny", "-1", "::/0"),
    ]

    def acl(name: str, is_default: bool, entries: list[dict[str, Any]]) -> dict[str, Any]:
        acl_id = make_id("acl", name)
        assocs = [{"NetworkAclAssociationId": make_id("aclassoc", s.name), "NetworkAclId": acl_id,
                   "SubnetId": s.id} for s in SUBNETS.values() if s.nacl == name]
        return {"Associations": assocs, "Entries": entries, "IsDefault": is_default, "NetworkAclId": acl_id,
                "Tags": [] if is_default else [{"Key": "Name", "Value": name}], "VpcId": VPC_ID, "OwnerId": ACCOUNT}

    return {"NetworkAcls": [acl("default", True, default_entries), acl("app-nacl", False, app_entries)]}


def describe_managed_prefix_lists() -> dict[str, Any]:
    return {"PrefixLists": [
        {"PrefixListId": S3_PL, "AddressFamily": "IPv4", "State": "create-complete",
         "PrefixListArn": f"arn:aws:ec2:{REGION}:aws:prefix-list/{S3_PL}",
         "PrefixListName": f"com.amazonaws.{REGION}.s3", "Tags": [], "OwnerId": "AWS"},
        {"PrefixListId": CORPMON_PL, "AddressFamily": "IPv4", "State": "modify-complete",
         "PrefixListArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:prefix-list/{CORPMON_PL}",
         "PrefixListName": "corp-monitoring", "MaxEntries": 10, "Version": 3, "Tags": [], "OwnerId": ACCOUNT}]}


def prefix_list_entries(cidrs: tuple[str, ...], label: str) -> dict[str, Any]:
    return {"Entries": [{"Cidr": c, "Description": f"{label} {i + 1}"} if label else {"Cidr": c}
                        for i, c in enumerate(cidrs)]}


def describe_flow_logs() -> dict[str, Any]:
    return {"FlowLogs": [{
        "CreationTime": "2026-03-02T10:05:44.114000+00:00", "DeliverLogsStatus": "SUCCESS", "FlowLogId": fl.id,
        "FlowLogStatus": "ACTIVE", "ResourceId": fl.resource_id, "TrafficType": fl.traffic_type,
        "LogDestinationType": "s3", "LogDestination": f"arn:aws:s3:::{BUCKET}", "LogFormat": fl.log_format,
        "Tags": [{"Key": "Name", "Value": fl.name}], "MaxAggregationInterval": fl.interval,
        "DestinationOptions": {"FileFormat": "plain-text", "HiveCompatiblePartitions": False,
                               "PerHourPartition": False}} for fl in FLOW_LOGS.values()]}


def inventory_files() -> dict[str, Any]:
    return {
        "describe-vpcs.json": describe_vpcs(),
        "describe-subnets.json": describe_subnets(),
        "describe-security-groups.json": describe_security_groups(),
        "describe-security-group-rules.json": describe_security_group_rules(),
        "describe-network-interfaces.json": describe_network_interfaces(),
        "describe-network-acls.json": describe_network_acls(),
        "describe-managed-prefix-lists.json": describe_managed_prefix_lists(),
        f"{S3_PL}.json": prefix_list_entries(S3_PL_CIDRS, ""),
        f"{CORPMON_PL}.json": prefix_list_entries(CORPMON_PL_CIDRS, "monitoring VPC"),
        "describe-flow-logs.json": describe_flow_logs(),
    }


# --- flow-log text ------------------------------------------------------------------------


def _fields(fl: FlowLog) -> list[str]:
    return [tok[2:-1] for tok in fl.log_format.split()]


def _version(fl: FlowLog) -> int:
    names = _fields(fl)
    return 8 if "reject-reason" in names else 5 if "flow-direction" in names else 2


def render(rec: Rec, fl: FlowLog) -> str:
    eni = ENIS[rec.eni]
    data = rec.status == "OK"
    ingress = data and rec.dst in {eni.ip, *eni.ipv6}
    vals: dict[str, object] = {
        "version": _version(fl), "account-id": ACCOUNT, "interface-id": eni.id, "region": REGION,
        "az-id": SUBNETS[eni.subnet].az_id, "vpc-id": VPC_ID, "subnet-id": SUBNETS[eni.subnet].id,
        "instance-id": eni.instance_id, "start": rec.start, "end": rec.end, "log-status": rec.status}
    if data:
        vals.update({
            "srcaddr": rec.src, "dstaddr": rec.dst, "srcport": rec.sport, "dstport": rec.dport,
            "protocol": rec.proto, "packets": rec.packets, "bytes": rec.bytes, "action": rec.action,
            "tcp-flags": rec.flags, "type": "IPv6" if ":" in rec.src else "IPv4",
            "pkt-srcaddr": rec.pkt_src or rec.src, "pkt-dstaddr": rec.pkt_dst or rec.dst,
            "pkt-src-aws-service": rec.src_svc, "pkt-dst-aws-service": rec.dst_svc,
            "flow-direction": "ingress" if ingress else "egress",
            "traffic-path": None if ingress else traffic_path(rec.eni, rec.pkt_dst or rec.dst),
            "reject-reason": rec.reject_reason})
    return " ".join("-" if vals.get(f) is None else str(vals[f]) for f in _fields(fl))


def _gzip(text: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode())
    return buf.getvalue()


def object_key(fl: FlowLog, bin_start: int) -> str:
    y, mo, d, h, mi = (int(x) for x in _utc(bin_start).split())
    stamp = f"{y:04d}{mo:02d}{d:02d}T{h:02d}{mi:02d}Z"
    digest = hashlib.sha256(f"{fl.id}{stamp}".encode()).hexdigest()[:8]
    return (f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{y:04d}/{mo:02d}/{d:02d}/"
            f"{ACCOUNT}_vpcflowlogs_{REGION}_{fl.id}_{stamp}_{digest}.log.gz")


def _utc(t: int) -> str:
    import time
    return time.strftime("%Y %m %d %H %M", time.gmtime(t))


# Edge lines: (flow log, bin "HHMM", kind). "truncated" and "bad_int" are extra lines that ingest
# must quarantine; "double_space" rewrites a real record with a double space (it must parse).
EDGES = (("public-a-v8", "0900", "truncated"), ("app-a-v5", "1200", "bad_int"),
         ("db-a-default", "0600", "double_space"))


def _edge_bins(keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The bin each edge lands in: the flow log's first object at or after its HHMM."""
    out = {}
    for name, hhmm, kind in EDGES:
        at = T0 + int(hhmm[:2]) * 3600 + int(hhmm[2:]) * 60
        out[min(k for k in keys if k[0] == name and k[1] >= at)] = kind
    return out


def _apply_edge(fl: FlowLog, kind: str | None, lines: list[str]) -> tuple[list[str], int]:
    quarantined = 0
    if kind is not None:
        mid = next(i for i in range(len(lines) // 2, len(lines)) if " ACCEPT " in lines[i])
        toks = lines[mid].split(" ")
        if kind == "truncated":
            lines.insert(mid + 1, " ".join(toks[: len(toks) * 3 // 5]))
            quarantined += 1
        elif kind == "bad_int":
            toks[_fields(fl).index("bytes")] = "12x4"
            lines.insert(mid + 1, " ".join(toks))
            quarantined += 1
        else:
            lines[mid] = " ".join(toks[:4]) + "  " + " ".join(toks[4:])
    return lines, quarantined


def build_objects(records: list[Rec]) -> tuple[dict[str, bytes], dict[str, dict[str, int]]]:
    """Objects keyed by S3 key, and ingest accounting per flow log."""
    by_bin: dict[tuple[str, int], list[str]] = defaultdict(list)
    order: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for r in records:
        fl = flow_log_of(r.eni)
        assert fl is not None
        order[(fl.name, r.end - r.end % 300)].append((r.end, render(r, fl)))
    for key, items in order.items():
        by_bin[key] = [line for _, line in sorted(items)]
    objects: dict[str, bytes] = {}
    acct: dict[str, dict[str, int]] = {
        fl.name: {"objects": 0, "data_lines": 0, "rows": 0, "quarantined": 0} for fl in FLOW_LOGS.values()}
    edges = _edge_bins(sorted(by_bin))
    for (name, bin_start), lines in sorted(by_bin.items()):
        fl = FLOW_LOGS[name]
        key = object_key(fl, bin_start)
        rows = len(lines)
        lines, bad = _apply_edge(fl, edges.get((name, bin_start)), lines)
        header = " ".join(_fields(fl))
        objects[key] = _gzip("\n".join([header, *lines]) + "\n")
        a = acct[name]
        a["objects"] += 1
        a["data_lines"] += len(lines)
        a["rows"] += rows
        a["quarantined"] += bad
    return objects, acct


# --- expectations -------------------------------------------------------------------------


def _peer(r: Rec, egress: bool) -> str:
    return (r.pkt_dst or r.dst) if egress else (r.pkt_src or r.src)


def usage_counts(records: list[Rec]) -> dict[str, dict[str, int]]:
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "flows": 0, "sole_flows": 0, "packets": 0, "bytes": 0, "conns": set(), "peers": set(), "ports": set()})
    by_name = {r.name: r for r in RULES}
    for r in records:
        if not (r.init and r.action == "ACCEPT"):
            continue
        for name in r.rules:
            s = stats[name]
            s["flows"] += 1
            s["sole_flows"] += len(r.rules) == 1
            s["packets"] += r.packets or 0
            s["bytes"] += r.bytes or 0
            s["conns"].add((r.eni, r.proto, r.src, r.sport, r.dst, r.dport))
            s["peers"].add(_peer(r, by_name[name].egress))
            s["ports"].add(r.service_port if r.proto in (6, 17) else 0)
    return {n: {"flows": s["flows"], "connections": len(s["conns"]), "sole_flows": s["sole_flows"],
                "packets": s["packets"], "bytes": s["bytes"], "peers": len(s["peers"]),
                "ports": len(s["ports"])} for n, s in stats.items()}


def _public_spread(records: list[Rec], name: str) -> dict[str, int]:
    peers = {_peer(r, False) for r in records if r.init and name in r.rules}
    if not peers:
        return {}
    slash8 = {str(ipaddress.ip_network(f"{p}/{8 if '.' in p else 16}", strict=False)) for p in peers}
    return {"distinct_peers": len(peers), "distinct_top_prefixes": len(slash8)}


def expected(records: list[Rec], acct: dict[str, dict[str, int]]) -> dict[str, Any]:
    counts = usage_counts(records)
    rules = {}
    for r in RULES:
        c = counts.get(r.name, {"flows": 0, "connections": 0, "sole_flows": 0, "packets": 0, "bytes": 0,
                                "peers": 0, "ports": 0})
        entry: dict[str, Any] = {"name": r.name, "group_id": r.group_id, "group_name": r.group,
                                 "direction": "egress" if r.egress else "ingress", "status": r.status,
                                 "why": r.why, **c}
        if r.labels:
            entry["labels"] = list(r.labels)
            entry["observed_spread"] = _public_spread(records, r.name)
        rules[r.id] = entry
    rejects = Counter(r.reject for r in records if r.action == "REJECT")
    by_status = Counter(r.status for r in records)
    by_action = Counter(r.action for r in records if r.action)
    total = {k: sum(a[k] for a in acct.values()) for k in ("objects", "data_lines", "rows", "quarantined")}
    return {
        "window": {"start": f"{DAY}T00:00:00Z", "end": "2026-11-29T00:00:00Z"},
        "account_id": ACCOUNT, "region": REGION, "vpc_id": VPC_ID,
        "ingest": {**total, "by_log_status": dict(sorted(by_status.items())),
                   "by_action": dict(sorted(by_action.items())),
                   "per_flow_log": {FLOW_LOGS[n].id: {"name": n, **a} for n, a in acct.items()}},
        "rule_usage": rules,
        "accepted_flows_allowed_by_no_rule": 0,
        "rejected": {
            "total": sum(rejects.values()),
            "by_cause": dict(sorted(Counter({REJECT_CLASSES[k][0]: 0 for k in REJECT_CLASSES}).items()))
            | _by_cause(rejects),
            "by_class": {k: {"cause": REJECT_CLASSES[k][0], "records": rejects.get(k, 0),
                             "why": REJECT_CLASSES[k][1]} for k in REJECT_CLASSES}},
        "findings": _findings(),
        "recommendations": [_rec(r) for r in RULES if r.recommendation],
        "no_recommendation": {r.id: f"{r.name}: {r.status}; {r.why}" for r in RULES if not r.recommendation},
    }


def _by_cause(rejects: Counter[str | None]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for cls, n in rejects.items():
        assert cls is not None
        out[REJECT_CLASSES[cls][0]] += n
    return dict(sorted(out.items()))


def _rec(r: Any) -> dict[str, Any]:
    rec = dict(r.recommendation)
    out = {"rule_id": r.id, "name": r.name, "group_id": r.group_id, "action": rec["action"],
           "proposed": rec["proposed"], "why": r.why}
    if any(p["peer_type"] == "sg" for p in rec["proposed"]) and r.peer_type in ("cidr4", "cidr6"):
        out["cidr_to_sg_reference"] = True  # docs/recommend.md#safety-contract: may widen, and the plan marks it
    return out


def _findings() -> list[dict[str, Any]]:
    out = []
    for r in RULES:
        for kind in r.findings:
            if kind in ("moat_and_castle", "default_sg_in_use"):
                continue
            out.append({"kind": kind, "group_id": r.group_id, "rule_id": r.id, "name": r.name})
    out.append({"kind": "default_sg_in_use", "group_id": GROUPS["default"].id,
                "name": "default SG on the ops instance"})
    out.append({"kind": "moat_and_castle", "group_id": GROUPS["corp-baseline-sg"].id,
                "name": "corp-baseline-sg is on all 7 instance ENIs"})
    # Subnet batch-a has no subnet-level flow log, but batch-1 in it has an ENI-level one, so the
    # gaps are reported per ENI (a subnet finding means no ENI of the subnet is logged at all).
    out.append({"kind": "eni_without_flow_log", "resource_id": ENIS["batch-2"].id, "name": "ENI of batch-2"})
    out.append({"kind": "eni_partial_flow_log", "resource_id": ENIS["batch-1"].id,
                "name": "ENI of batch-1: REJECT-only flow log"})
    out.append({"kind": "skipdata", "resource_id": ENIS["nat"].id, "name": "the NAT ENI's SKIPDATA minute"})
    out.append({"kind": "scanner", "name": "the port sweep of the bastion (one source, 205 ports)"})
    for f in out:
        f["meaning"] = FINDING_KINDS[f["kind"]]
    return out


# --- main ---------------------------------------------------------------------------------


def write_all(out: Path) -> None:
    records = generate(T0, SEED)
    objects, acct = build_objects(records)
    for sub in ("s3", "inventory"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    for key, data in objects.items():
        path = out / "s3" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (out / "inventory").mkdir(parents=True, exist_ok=True)
    for name, doc in inventory_files().items():
        (out / "inventory" / name).write_text(json.dumps(doc, indent=4) + "\n")
    (out / "expected.json").write_text(json.dumps(expected(records, acct), indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: sample_logs/)")
    args = parser.parse_args(argv)
    write_all(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
