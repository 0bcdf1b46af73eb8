"""AWS CLI JSON inventory that matches bench/generate.py's day (its 48 ENIs,
3 subnets, 2 flow logs).

Three tiers of SGs with the usual accretion (a world-open admin port, a wide CIDR on every port,
allow-all egress, an unused rule), so every stage has real work to do on the generated traffic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.generate import ACCOUNT, CUSTOM_FIELDS, CUSTOM_FL, DEFAULT_FIELDS, DEFAULT_FL, REGION

VPC = "vpc-0123456789abcdef0"
N_ENIS = 48


def eni_ip(i: int) -> str:
    """The address bench/generate.py gives ENI ``i`` (its ``_ips("10.0.", i)``)."""
    return f"10.0.{(i // 250) % 250 + 1}.{i % 250 + 4}"


def _perm(proto: str, ports: tuple[int, int] | None, cidr: str) -> dict[str, Any]:
    p: dict[str, Any] = {
        "IpProtocol": proto,
        "IpRanges": [{"CidrIp": cidr}],
        "Ipv6Ranges": [],
        "PrefixListIds": [],
        "UserIdGroupPairs": [],
    }
    if ports:
        p["FromPort"], p["ToPort"] = ports
    return p


def _groups() -> list[dict[str, Any]]:
    egress = [_perm("-1", None, "0.0.0.0/0")]
    tiers = {
        "web": [
            _perm("tcp", (443, 443), "0.0.0.0/0"),
            _perm("tcp", (80, 80), "0.0.0.0/0"),
            _perm("tcp", (22, 22), "0.0.0.0/0"),
        ],
        "app": [
            _perm("tcp", (8080, 8080), "10.0.0.0/8"),
            _perm("tcp", (0, 65535), "10.0.0.0/8"),
            _perm("udp", (53, 53), "10.0.0.0/8"),
        ],
        "data": [
            _perm("tcp", (5432, 5432), "10.0.0.0/8"),
            _perm("tcp", (3306, 3306), "10.0.0.0/8"),
            _perm("tcp", (6379, 6379), "10.0.0.0/8"),
            _perm("tcp", (9200, 9200), "0.0.0.0/0"),
            _perm("udp", (123, 123), "10.0.0.0/8"),
            _perm("tcp", (1521, 1521), "10.0.0.0/8"),
        ],
    }
    return [
        {
            "GroupId": f"sg-0bench{i:012d}",
            "GroupName": f"{name}-sg",
            "Description": f"{name} tier",
            "VpcId": VPC,
            "OwnerId": ACCOUNT,
            "IpPermissions": perms,
            "IpPermissionsEgress": egress,
            "Tags": [],
        }
        for i, (name, perms) in enumerate(tiers.items())
    ]


def _enis() -> list[dict[str, Any]]:
    groups = _groups()
    out = []
    for i in range(N_ENIS):
        g = groups[i % 3]
        out.append(
            {
                "NetworkInterfaceId": f"eni-0a1b2c3d4e5f6{i + 1000}",
                "InterfaceType": "interface",
                "Status": "in-use",
                "VpcId": VPC,
                "SubnetId": f"subnet-0aa{i % 3}",
                "AvailabilityZone": f"{REGION}a",
                "OwnerId": ACCOUNT,
                "RequesterManaged": False,
                "SourceDestCheck": True,
                "Description": "",
                "Groups": [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]}],
                "Attachment": {"InstanceId": f"i-0abc{i}", "Status": "attached", "DeviceIndex": 0},
                "PrivateIpAddress": eni_ip(i),
                "PrivateIpAddresses": [{"PrivateIpAddress": eni_ip(i), "Primary": True}],
                "Ipv6Addresses": [],
                "TagSet": [],
            }
        )
    return out


def write_inventory(out_dir: Path) -> Path:
    """Write describe-* JSON files into ``out_dir``; returns it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {
        "describe-vpcs.json": {
            "Vpcs": [
                {"VpcId": VPC, "CidrBlock": "10.0.0.0/16", "OwnerId": ACCOUNT, "IsDefault": False}
            ]
        },
        "describe-subnets.json": {
            "Subnets": [
                {
                    "SubnetId": f"subnet-0aa{k}",
                    "VpcId": VPC,
                    "CidrBlock": f"10.0.{k}.0/24",
                    "AvailabilityZone": f"{REGION}a",
                }
                for k in range(3)
            ]
        },
        "describe-security-groups.json": {"SecurityGroups": _groups()},
        "describe-network-interfaces.json": {"NetworkInterfaces": _enis()},
        "describe-flow-logs.json": {
            "FlowLogs": [
                {
                    "FlowLogId": fl,
                    "ResourceId": VPC,
                    "TrafficType": "ALL",
                    "LogDestinationType": "s3",
                    "LogDestination": "arn:aws:s3:::bench-flow-logs",
                    "MaxAggregationInterval": 600,
                    "LogFormat": " ".join("${" + f + "}" for f in fields.split()),
                    "FlowLogStatus": "ACTIVE",
                    "DeliverLogsStatus": "SUCCESS",
                    "CreationTime": "2026-01-01T00:00:00.000Z",
                }
                for fl, fields in ((DEFAULT_FL, DEFAULT_FIELDS), (CUSTOM_FL, CUSTOM_FIELDS))
            ]
        },
    }
    for name, doc in files.items():
        (out_dir / name).write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return out_dir
