"""Recognise an AWS CLI output file by its top-level key. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowlens.errors import InputError
from flowlens.inventory.normalize import Json

#: top-level key → (raw kind, the command that prints it). Order matters only for docs.
SHAPES: dict[str, tuple[str, str]] = {
    "SecurityGroups": ("security_groups", "describe-security-groups"),
    "SecurityGroupRules": (
        "security_group_rules",
        "describe-security-group-rules / authorize-security-group-*",
    ),
    "NetworkInterfaces": ("network_interfaces", "describe-network-interfaces"),
    "NetworkInterface": ("network_interfaces", "create-network-interface"),
    "NetworkAcls": ("network_acls", "describe-network-acls"),
    "Subnets": ("subnets", "describe-subnets"),
    "Vpcs": ("vpcs", "describe-vpcs"),
    "FlowLogs": ("flow_logs", "describe-flow-logs"),
    "PrefixLists": ("prefix_lists", "describe-managed-prefix-lists / describe-prefix-lists"),
    "Entries": (
        "prefix_list_entries",
        "get-managed-prefix-list-entries (file name must contain the pl- id)",
    ),
    "StaleSecurityGroupSet": ("stale_security_groups", "describe-stale-security-groups"),
    "SecurityGroupsReferenceSet": ("sg_references", "describe-security-group-references"),
    "SecurityGroupReferenceSet": (
        "sg_references",
        "describe-security-group-references (API spelling)",
    ),
}

_PL_ID_RE = re.compile(r"\b(pl-[0-9a-zA-Z]+)")


@dataclass(frozen=True)
class Shape:
    kind: str
    items: list[Json]
    prefix_list_id: str | None = None


def accepted_shapes() -> str:
    return "; ".join(f"{key} ({cmd})" for key, (_, cmd) in SHAPES.items())


def detect(doc: Any, path: Path) -> Shape:
    """The shape of one parsed file; unknown extra keys are ignored."""
    if isinstance(doc, dict):
        for key, (kind, _) in SHAPES.items():
            if key in doc:
                return _shape(key, kind, doc[key], path)
    found = ", ".join(sorted(doc)) if isinstance(doc, dict) else type(doc).__name__
    raise InputError(
        f"{path}: not a recognised AWS CLI output (top-level: {found}); accepted shapes "
        f"are: {accepted_shapes()}"
    )


def _shape(key: str, kind: str, value: Any, path: Path) -> Shape:
    items = [value] if key == "NetworkInterface" else value
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputError(f"{path}: key {key!r} should hold a list of objects")
    if kind != "prefix_list_entries":
        return Shape(kind, items)
    m = _PL_ID_RE.search(path.name)
    if not m:
        raise InputError(
            f"{path}: get-managed-prefix-list-entries output carries no prefix-list id; "
            f"name the file after its list, e.g. pl-0123abcd.json"
        )
    return Shape(kind, items, m.group(1))
