"""Pure: AWS resource ids checked at the inventory edge, before they reach a plan or a report.

An id goes into plan.sh, plan.tf, Markdown and SQL: one that carries a newline, a quote, a space or
``${`` could break out of a comment or a string there. Every id column of the inventory tables must
be its kind's prefix (``sg-``, ``sgr-``, ``eni-``, ``pl-``, ``vpc-``, ``subnet-``, ``acl-``,
``fl-``, ...) followed by letters and digits, in hyphen-separated words: AWS's own ids are the
prefix and 8 or 17 hex digits; AWS's documentation examples (``acl-0e2a78e4e2EXAMPLE``), flowlens's
derived rule ids (``sgr-derived-`` + hex) and readable test ids (``sgr-app-ssh``) fit the same form.

>>> check_id("sg_rules", "rule_id", "sgr-0123456789abcdef0")
>>> check_id("sg_rules", "rule_id", "sgr-derived-b7898da2c4b59aaa7")
>>> check_id("sg_rules", "rule_id", "sgr-1\\ntouch /tmp/x")  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
flowlens.inventory.normalize.NormalizeError: sg_rules.rule_id 'sgr-1\\ntouch /tmp/x' is not a
security group rule id (sgr- followed by letters and digits)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyarrow as pa

from flowlens.inventory.normalize import NormalizeError

_WORDS = r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*"
_MAX = 128

#: Prefix and name of each kind of id.
KINDS: dict[str, tuple[str, str]] = {
    "vpc": ("vpc", "VPC id"),
    "subnet": ("subnet", "subnet id"),
    "sg": ("sg", "security group id"),
    "sgr": ("sgr", "security group rule id"),
    "eni": ("eni", "network interface id"),
    "acl": ("acl", "network ACL id"),
    "pl": ("pl", "prefix list id"),
    "fl": ("fl", "flow log id"),
    "pcx": ("pcx", "VPC peering connection id"),
    "tgw": ("tgw", "transit gateway id"),
    "i": ("i", "instance id"),
}
_PATTERNS = {kind: re.compile(rf"^{prefix}-{_WORDS}$") for kind, (prefix, _) in KINDS.items()}

#: (table, column) → the kind its values must be.
ID_COLUMNS: dict[tuple[str, str], str] = {
    ("vpcs", "vpc_id"): "vpc",
    ("subnets", "subnet_id"): "subnet",
    ("subnets", "vpc_id"): "vpc",
    ("subnets", "nacl_id"): "acl",
    ("security_groups", "group_id"): "sg",
    ("security_groups", "vpc_id"): "vpc",
    ("sg_rules", "rule_id"): "sgr",
    ("sg_rules", "group_id"): "sg",
    ("sg_rules", "vpc_id"): "vpc",
    ("sg_rules", "peer_vpc_id"): "vpc",
    ("sg_rules", "peering_connection_id"): "pcx",
    ("stale_sg_rules", "group_id"): "sg",
    ("stale_sg_rules", "vpc_id"): "vpc",
    ("sg_references", "group_id"): "sg",
    ("sg_references", "referencing_vpc_id"): "vpc",
    ("enis", "eni_id"): "eni",
    ("enis", "vpc_id"): "vpc",
    ("enis", "subnet_id"): "subnet",
    ("enis", "instance_id"): "i",
    ("eni_groups", "eni_id"): "eni",
    ("eni_groups", "group_id"): "sg",
    ("eni_ips", "eni_id"): "eni",
    ("nacls", "nacl_id"): "acl",
    ("nacls", "vpc_id"): "vpc",
    ("nacl_entries", "nacl_id"): "acl",
    ("prefix_lists", "prefix_list_id"): "pl",
    ("prefix_list_entries", "prefix_list_id"): "pl",
    ("flow_logs", "flow_log_id"): "fl",
    ("eni_coverage", "eni_id"): "eni",
    ("eni_coverage", "flow_log_id"): "fl",
}
#: Other columns an id-like value lands in (owner ids, a peer that may be a group's name, which AWS
#: lets hold spaces, ``$`` and braces): no control character (a newline ends a comment in plan.sh).
_SAFE = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$")
_FREE_COLUMNS = {
    ("sg_rules", "peer"),
    ("sg_rules", "group_owner_id"),
    ("sg_rules", "peer_owner_id"),
    ("security_groups", "owner_id"),
    ("enis", "owner_id"),
    ("flow_logs", "resource_id"),
    ("stale_sg_rules", "peer"),
    ("stale_sg_rules", "peering_connection_id"),
}


def check_id(table: str, column: str, value: str) -> None:
    """Raise :class:`NormalizeError` unless ``value`` is an id of the
    kind ``table.column`` holds."""
    kind = ID_COLUMNS.get((table, column))
    if kind is None:
        if (table, column) in _FREE_COLUMNS and (len(value) > _MAX or not _SAFE.match(value)):
            raise NormalizeError(
                f"{table}.{column} {value!r} is not an AWS id or name (it "
                "holds a control character)"
            )
        return
    if len(value) > _MAX or not _PATTERNS[kind].match(value):
        prefix, name = KINDS[kind]
        raise NormalizeError(
            f"{table}.{column} {value!r} is not a {name} ({prefix}- followed by letters and digits)"
        )


def check_tables(tables: dict[str, pa.Table]) -> None:
    """Every id column of every inventory table (each distinct value once)."""
    for name, table in tables.items():
        for column in table.column_names:
            if (name, column) in ID_COLUMNS or (name, column) in _FREE_COLUMNS:
                for value in _distinct(table.column(column)):
                    check_id(name, column, value)


def _distinct(col: pa.ChunkedArray) -> Iterable[str]:
    return (v for v in col.unique().to_pylist() if v is not None)
