"""Pure row builders for VPCs, subnets, ENIs, NACLs, prefix lists and flow logs.

Rules and addresses live in :mod:`flowlens.inventory.normalize`; this module shapes the
resources around them and derives the two joins the analysis needs most: the NACL of each
subnet and the flow logs covering each ENI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flowlens.inventory.normalize import Json, Row, addr_columns, canonical_cidr, clean_id, tags

_AZ_RE = re.compile(r"^([a-z]{2}(-[a-z]+)+-\d+)[a-z]$")
_ARN_REGION_RE = re.compile(r"^arn:[^:]+:[^:]+:([^:]*):")
_RESOURCE_TYPES = {"vpc-": "vpc", "subnet-": "subnet", "eni-": "eni"}


def region_of_az(az: str | None) -> str | None:
    """``us-east-1d`` → ``us-east-1`` (None when the AZ is absent or unusual).

    >>> region_of_az("us-west-2a"), region_of_az(None)
    ('us-west-2', None)
    """
    m = _AZ_RE.match(az or "")
    return m.group(1) if m else None


def region_of_arn(arn: str | None) -> str | None:
    m = _ARN_REGION_RE.match(arn or "")
    return (m.group(1) or None) if m else None


def vpc(item: Json, region: str | None) -> Row:
    return {
        "vpc_id": clean_id(item.get("VpcId")),
        "region": region,
        "owner_id": clean_id(item.get("OwnerId")),
        "is_default": bool(item.get("IsDefault", False)),
        "cidr_blocks": _vpc_cidrs(item),
        "ipv6_cidr_blocks": [
            canonical_cidr(a["Ipv6CidrBlock"])
            for a in item.get("Ipv6CidrBlockAssociationSet") or []
            if a.get("Ipv6CidrBlock") and _associated(a)
        ],
        "tags": tags(item.get("Tags")),
    }


def _associated(assoc: Json) -> bool:
    state = (assoc.get("Ipv6CidrBlockState") or assoc.get("CidrBlockState") or {}).get(
        "State", "associated"
    )
    return state in ("associated", "associating")


def _vpc_cidrs(item: Json) -> list[str]:
    cidrs = [
        a["CidrBlock"]
        for a in item.get("CidrBlockAssociationSet") or []
        if a.get("CidrBlock") and _associated(a)
    ]
    if not cidrs and item.get("CidrBlock"):
        cidrs = [item["CidrBlock"]]
    return [canonical_cidr(c) for c in cidrs]


def subnet(item: Json, nacl_id: str | None, region: str | None) -> Row:
    az = item.get("AvailabilityZone")
    return {
        "subnet_id": clean_id(item.get("SubnetId")),
        "vpc_id": clean_id(item.get("VpcId")),
        "region": region or region_of_az(az),
        "availability_zone": az,
        "az_id": item.get("AvailabilityZoneId"),
        "cidr_block": canonical_cidr(item["CidrBlock"]) if item.get("CidrBlock") else None,
        "ipv6_cidr_blocks": [
            canonical_cidr(a["Ipv6CidrBlock"])
            for a in item.get("Ipv6CidrBlockAssociationSet") or []
            if a.get("Ipv6CidrBlock") and _associated(a)
        ],
        "nacl_id": nacl_id,
        "tags": tags(item.get("Tags")),
    }


def subnet_nacls(nacls: Iterable[Json]) -> tuple[dict[str, str], dict[str, str]]:
    """(subnet id → associated NACL id, VPC id → default NACL id)."""
    by_subnet: dict[str, str] = {}
    default_of_vpc: dict[str, str] = {}
    for nacl in nacls:
        nacl_id = str(clean_id(nacl.get("NetworkAclId")))
        for assoc in nacl.get("Associations") or []:
            if assoc.get("SubnetId"):
                by_subnet[str(clean_id(assoc["SubnetId"]))] = nacl_id
        if nacl.get("IsDefault") and nacl.get("VpcId"):
            default_of_vpc[str(clean_id(nacl["VpcId"]))] = nacl_id
    return by_subnet, default_of_vpc


def nacl(item: Json, region: str | None) -> Row:
    return {
        "nacl_id": clean_id(item.get("NetworkAclId")),
        "vpc_id": clean_id(item.get("VpcId")),
        "region": region,
        "owner_id": clean_id(item.get("OwnerId")),
        "is_default": bool(item.get("IsDefault", False)),
        "tags": tags(item.get("Tags")),
    }


def eni(item: Json, region: str | None) -> Row:
    """One ENI; ``interface_type`` as given (NULL when the key is absent, as in older outputs)."""
    az = item.get("AvailabilityZone")
    conntrack = item.get("ConnectionTrackingConfiguration") or {}
    return {
        "eni_id": clean_id(item.get("NetworkInterfaceId")),
        "vpc_id": clean_id(item.get("VpcId")),
        "subnet_id": clean_id(item.get("SubnetId")),
        "region": region or region_of_az(az),
        "availability_zone": az,
        "owner_id": clean_id(item.get("OwnerId")),
        "interface_type": item.get("InterfaceType"),
        "requester_managed": item.get("RequesterManaged"),
        "requester_id": item.get("RequesterId"),
        "description": item.get("Description"),
        "status": item.get("Status"),
        "instance_id": (item.get("Attachment") or {}).get("InstanceId"),
        "private_ip": item.get("PrivateIpAddress"),
        "public_ip": (item.get("Association") or {}).get("PublicIp"),
        "source_dest_check": item.get("SourceDestCheck"),
        "tcp_established_timeout": conntrack.get("TcpEstablishedTimeout"),
        "udp_stream_timeout": conntrack.get("UdpStreamTimeout"),
        "udp_timeout": conntrack.get("UdpTimeout"),
        "tags": tags(item.get("TagSet") or item.get("Tags")),
        "attach_time": parse_time((item.get("Attachment") or {}).get("AttachTime")),
    }


def eni_groups(item: Json) -> Iterator[Row]:
    """Every SG of the ENI (all of them, in the API's order)."""
    eni_id = clean_id(item.get("NetworkInterfaceId"))
    for g in item.get("Groups") or []:
        yield {
            "eni_id": eni_id,
            "group_id": clean_id(g.get("GroupId")),
            "group_name": g.get("GroupName"),
        }


def is_aws_managed(name: str | None, owner_id: str | None) -> bool:
    """AWS-managed lists are named ``com.amazonaws.*`` and owned by ``AWS``."""
    return (owner_id or "").upper() == "AWS" or (name or "").startswith("com.amazonaws.")


def prefix_list(item: Json, region: str | None) -> Row:
    name, owner = item.get("PrefixListName"), clean_id(item.get("OwnerId"))
    return {
        "prefix_list_id": clean_id(item.get("PrefixListId")),
        "prefix_list_name": name,
        "address_family": item.get("AddressFamily") or _family_of_cidrs(item.get("Cidrs")),
        "max_entries": item.get("MaxEntries"),
        "version": item.get("Version"),
        "state": item.get("State"),
        "owner_id": owner,
        "region": region or region_of_arn(item.get("PrefixListArn")),
        "aws_managed": is_aws_managed(name, owner),
    }


def _family_of_cidrs(cidrs: list[str] | None) -> str | None:
    if not cidrs:
        return None
    return "IPv6" if ":" in cidrs[0] else "IPv4"


def prefix_list_entries(
    prefix_list_id: str, version: int | None, entries: Iterable[Json]
) -> Iterator[Row]:
    for e in entries:
        cidr = canonical_cidr(e["Cidr"])
        yield {
            "prefix_list_id": prefix_list_id,
            "version": version,
            "cidr": cidr,
            **addr_columns(cidr),
            "description": e.get("Description"),
        }


def resource_type(resource_id: str | None) -> str | None:
    """``vpc``/``subnet``/``eni`` from a flow log's ResourceId (None for TGW and others)."""
    for prefix, kind in _RESOURCE_TYPES.items():
        if (resource_id or "").startswith(prefix):
            return kind
    return None


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (datetime from boto3, ISO text from the CLI) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def flow_log(item: Json, region: str | None) -> Row:
    resource_id = clean_id(item.get("ResourceId"))
    options = item.get("DestinationOptions") or {}
    return {
        "flow_log_id": clean_id(item.get("FlowLogId")),
        "resource_id": resource_id,
        "resource_type": resource_type(resource_id),
        "region": region or region_of_arn(item.get("LogDestination")),
        "traffic_type": item.get("TrafficType"),
        "log_format": item.get("LogFormat"),
        "max_aggregation_interval": item.get("MaxAggregationInterval"),
        "destination_type": item.get("LogDestinationType"),
        "destination": item.get("LogDestination") or item.get("LogGroupName"),
        "file_format": options.get("FileFormat"),
        "hive_partitions": options.get("HiveCompatiblePartitions"),
        "per_hour_partition": options.get("PerHourPartition"),
        "deliver_logs_status": item.get("DeliverLogsStatus"),
        "flow_log_status": item.get("FlowLogStatus"),
        "creation_time": parse_time(item.get("CreationTime")),
    }


def coverage_paths(eni: Row) -> tuple[tuple[str, str | None], ...]:
    """Where a flow log that covers ``eni`` is attached: (``via``, resource id) for its VPC,
    its subnet and the ENI itself."""
    return (("vpc", eni.get("vpc_id")), ("subnet", eni.get("subnet_id")), ("eni", eni["eni_id"]))


def coverage_row(eni_id: str, flow_log: Row, via: str) -> Row:
    """The ``eni_coverage`` row of ``flow_log`` covering ``eni_id`` through its ``via``."""
    return {
        "eni_id": eni_id,
        "flow_log_id": flow_log["flow_log_id"],
        "via": via,
        "traffic_type": flow_log["traffic_type"],
        "log_format": flow_log["log_format"],
        "max_aggregation_interval": flow_log["max_aggregation_interval"],
        "creation_time": flow_log["creation_time"],
    }


def eni_coverage(enis: Iterable[Row], flow_logs: Iterable[Row]) -> list[Row]:
    """For every ENI, each flow log that covers it through its VPC, its subnet or itself.

    ENIs that no flow log covers get no row: that absence is what "no_coverage" means.
    """
    by_resource: dict[str, list[Row]] = {}
    for fl in flow_logs:
        if fl["resource_id"] and fl["resource_type"]:
            by_resource.setdefault(fl["resource_id"], []).append(fl)
    return [
        coverage_row(e["eni_id"], fl, via)
        for e in enis
        for via, key in coverage_paths(e)
        for fl in by_resource.get(key or "", [])
    ]


def sg_reference(item: Json) -> Row:
    """describe-security-group-references: a group referenced from a peered VPC."""
    return {
        "group_id": clean_id(item.get("GroupId")),
        "referencing_vpc_id": clean_id(item.get("ReferencingVpcId")),
        "peering_connection_id": clean_id(item.get("VpcPeeringConnectionId")),
        "transit_gateway_id": clean_id(item.get("TransitGatewayId")),
    }
