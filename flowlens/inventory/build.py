"""Assemble raw EC2 API items (from JSON files or the API) into inventory tables. Pure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from flowlens import arrays
from flowlens.inventory import normalize as nz
from flowlens.inventory import resources as rs
from flowlens.inventory.ids import check_tables
from flowlens.inventory.normalize import Json, Row
from flowlens.model.inventory import INVENTORY_SCHEMAS

log = logging.getLogger(__name__)

#: Kinds of raw items, one per EC2 response shape.
KINDS = (
    "vpcs",
    "subnets",
    "security_groups",
    "security_group_rules",
    "network_interfaces",
    "network_acls",
    "prefix_lists",
    "flow_logs",
    "stale_security_groups",
    "sg_references",
)


#: Which inventory tables each raw kind is the evidence for. A table is *observed* in a snapshot
#: only when all of its kinds were read: a JSON export without describe-network-interfaces says
#: nothing about ENIs, so its empty enis table must not end every ENI's history.
TABLE_EVIDENCE: dict[str, tuple[str, ...]] = {
    "vpcs": ("vpcs",),
    "subnets": ("subnets",),
    "security_groups": ("security_groups",),
    "sg_rules": ("security_groups",),
    "stale_sg_rules": ("stale_security_groups",),
    "sg_references": ("sg_references",),
    "enis": ("network_interfaces",),
    "eni_groups": ("network_interfaces",),
    "eni_ips": ("network_interfaces",),
    "nacls": ("network_acls",),
    "nacl_entries": ("network_acls",),
    "prefix_lists": ("prefix_lists",),
    "prefix_list_entries": ("prefix_lists",),
    "flow_logs": ("flow_logs",),
    "eni_coverage": ("network_interfaces", "flow_logs"),
}


#: The id key of each raw kind's items, and the inventory tables whose rows belong to that resource
#: (through the table's column of that id): how every row gets its ``account_id``.
_ACCOUNT_KEYS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "vpcs": ("VpcId", (("vpcs", "vpc_id"),)),
    "subnets": ("SubnetId", (("subnets", "subnet_id"),)),
    "security_groups": (
        "GroupId",
        (
            ("security_groups", "group_id"),
            ("sg_rules", "group_id"),
            ("stale_sg_rules", "group_id"),
            ("sg_references", "group_id"),
        ),
    ),
    "network_interfaces": (
        "NetworkInterfaceId",
        (("enis", "eni_id"), ("eni_groups", "eni_id"), ("eni_ips", "eni_id")),
    ),
    "network_acls": ("NetworkAclId", (("nacls", "nacl_id"), ("nacl_entries", "nacl_id"))),
    "prefix_lists": (
        "PrefixListId",
        (("prefix_lists", "prefix_list_id"), ("prefix_list_entries", "prefix_list_id")),
    ),
    "flow_logs": ("FlowLogId", (("flow_logs", "flow_log_id"),)),
}


def is_account_id(value: Any) -> bool:
    """An AWS account id: 12 digits (``OwnerId`` may also be ``AWS`` for AWS-managed lists)."""
    return isinstance(value, str) and len(value) == 12 and value.isdigit()


@dataclass
class PrefixListEntries:
    prefix_list_id: str
    version: int | None
    region: str | None
    entries: Sequence[Json]


@dataclass
class RawInventory:
    """EC2 items as returned, each with the region it came from (None when unknown)."""

    items: dict[str, list[tuple[str | None, Json]]] = field(
        default_factory=lambda: {k: [] for k in KINDS}
    )
    entries: list[PrefixListEntries] = field(default_factory=list)
    stale_collected: bool = False
    #: The kinds that were read at all (a file or an API call, even one with no items).
    read_kinds: set[str] = field(default_factory=set)
    #: (kind, resource id) → account: the item's ``OwnerId`` when it names an account, else the
    #: account whose credentials read it (first reading wins, as for the items themselves).
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    #: The accounts whose credentials read this inventory (empty for JSON files).
    accounts: set[str] = field(default_factory=set)

    def add(
        self, kind: str, region: str | None, items: Iterable[Json], account: str | None = None
    ) -> None:
        items = list(items)
        self.items[kind].extend((region, item) for item in items)
        self.read_kinds.add(kind)
        if account:
            self.accounts.add(account)
        if kind in _ACCOUNT_KEYS:
            key = _ACCOUNT_KEYS[kind][0]
            for item in items:
                rid, owner = nz.clean_id(item.get(key)), nz.clean_id(item.get("OwnerId"))
                found = owner if is_account_id(owner) else account
                if rid and found:
                    self.owners.setdefault((kind, rid), found)
        if kind == "stale_security_groups":
            self.stale_collected = True

    def merge(self, other: RawInventory) -> None:
        """Append ``other`` (another account or region): its items after these, first wins."""
        for kind, items in other.items.items():
            self.items[kind].extend(items)
        self.entries.extend(other.entries)
        self.read_kinds |= other.read_kinds
        self.accounts |= other.accounts
        for k, v in other.owners.items():
            self.owners.setdefault(k, v)

    def single_account(self) -> str | None:
        """The one account this inventory is of, when only one is known (a fallback for rows no
        owner names, such as flow logs in a JSON export)."""
        known = self.accounts | set(self.owners.values())
        return next(iter(known)) if len(known) == 1 else None

    def observed_tables(self) -> tuple[str, ...]:
        """The tables this raw inventory is evidence for (see :data:`TABLE_EVIDENCE`)."""
        observed = [
            t for t in INVENTORY_SCHEMAS if all(k in self.read_kinds for k in TABLE_EVIDENCE[t])
        ]
        if "prefix_list_entries" in observed and not self._all_entries_read():
            observed.remove("prefix_list_entries")
        return tuple(observed)

    def _all_entries_read(self) -> bool:
        """Every listed prefix list has its entries (inline CIDRs or a
        get-managed-prefix-list-entries read)."""
        with_entries = {e.prefix_list_id for e in self.entries}
        return all(
            p.get("Cidrs") or nz.clean_id(p.get("PrefixListId")) in with_entries
            for _, p in self.items["prefix_lists"]
        )


@dataclass(frozen=True)
class InventoryTables:
    """One Arrow table per name of :data:`INVENTORY_SCHEMAS`, each with exactly that schema."""

    tables: dict[str, pa.Table]
    #: The tables the inputs were evidence for; the others are empty because nothing was read.
    observed: tuple[str, ...] = tuple(INVENTORY_SCHEMAS)

    def row_counts(self) -> dict[str, int]:
        return {name: t.num_rows for name, t in self.tables.items()}


def _unique(rows: Iterable[Row], key: Callable[[Row], Any]) -> list[Row]:
    """First row per key wins (the same resource may come from two files or two calls)."""
    seen: dict[Any, Row] = {}
    for row in rows:
        seen.setdefault(key(row), row)
    return list(seen.values())


def _table(name: str, rows: list[Row]) -> pa.Table:
    return arrays.table_from_rows(rows, schema=INVENTORY_SCHEMAS[name])


def build_inventory(raw: RawInventory) -> InventoryTables:
    """All tables from the raw items; see docs/inventory.md for the rules applied."""
    it = raw.items
    nacl_items = [item for _, item in it["network_acls"]]
    by_subnet, default_nacl = rs.subnet_nacls(nacl_items)
    groups = _unique(
        (nz.security_group(g, r) for r, g in it["security_groups"]), lambda r: r["group_id"]
    )
    enis = _unique((rs.eni(e, r) for r, e in it["network_interfaces"]), lambda r: r["eni_id"])
    flow_logs = _unique((rs.flow_log(f, r) for r, f in it["flow_logs"]), lambda r: r["flow_log_id"])
    stale = _unique(
        (s for _, g in it["stale_security_groups"] for s in nz.stale_rules(g)),
        lambda r: (r["rule_key"], r["peer_vpc_id"]),
    )
    tables = {
        "vpcs": _unique((rs.vpc(v, r) for r, v in it["vpcs"]), lambda r: r["vpc_id"]),
        "subnets": _subnets(it["subnets"], by_subnet, default_nacl),
        "security_groups": groups,
        "sg_rules": _sg_rules(raw, groups, stale),
        "stale_sg_rules": stale,
        "sg_references": _unique(
            (rs.sg_reference(i) for _, i in it["sg_references"]), lambda r: tuple(r.values())
        ),
        "enis": enis,
        "eni_groups": _unique(
            (g for _, e in it["network_interfaces"] for g in rs.eni_groups(e)),
            lambda r: (r["eni_id"], r["group_id"]),
        ),
        "eni_ips": _unique(
            (a for _, e in it["network_interfaces"] for a in nz.eni_addresses(e)),
            lambda r: (r["eni_id"], r["address"], r["kind"]),
        ),
        "nacls": _unique((rs.nacl(n, r) for r, n in it["network_acls"]), lambda r: r["nacl_id"]),
        "nacl_entries": _unique(
            (e for n in nacl_items for e in nz.nacl_entries(n)),
            lambda r: (r["nacl_id"], r["direction"], r["rule_number"]),
        ),
        **_prefix_lists(raw),
        "flow_logs": flow_logs,
        "eni_coverage": rs.eni_coverage(enis, flow_logs),
    }
    _assign_accounts(raw, tables)
    built = {name: _table(name, tables[name]) for name in INVENTORY_SCHEMAS}
    check_tables(built)  # ids go into plans and reports: a malformed one stops here
    return InventoryTables(built, raw.observed_tables())


def _assign_accounts(raw: RawInventory, tables: dict[str, list[Row]]) -> None:
    """Set ``account_id`` on every row: its resource's owner (see :attr:`RawInventory.owners`)."""
    fallback = raw.single_account()
    by_table: dict[str, tuple[str, dict[str, str]]] = {}
    for kind, (_, targets) in _ACCOUNT_KEYS.items():
        ids = {rid: acct for (k, rid), acct in raw.owners.items() if k == kind}
        for table, column in targets:
            by_table[table] = (column, ids)
    # A coverage row belongs to its ENI's account (a shared VPC's flow log, owned by the VPC's
    # account, covers a participant's ENIs).
    by_table["eni_coverage"] = ("eni_id", by_table["enis"][1])
    for table, rows in tables.items():
        column, ids = by_table[table]
        for row in rows:
            row["account_id"] = ids.get(row.get(column) or "", fallback)


def _subnets(
    items: list[tuple[str | None, Json]], by_subnet: dict[str, str], default_nacl: dict[str, str]
) -> list[Row]:
    rows = []
    for region, item in items:
        sid, vpc_id = nz.clean_id(item.get("SubnetId")) or "", nz.clean_id(item.get("VpcId")) or ""
        rows.append(rs.subnet(item, by_subnet.get(sid) or default_nacl.get(vpc_id), region))
    return _unique(rows, lambda r: r["subnet_id"])


def _sg_rules(raw: RawInventory, groups: list[Row], stale: list[Row]) -> list[Row]:
    """API rules (``sgr-`` ids) where describe-security-group-rules
    covered a group, else derived."""
    vpc_of = {g["group_id"]: g["vpc_id"] for g in groups}
    region_of = {g["group_id"]: g["region"] for g in groups}
    api_rows = [
        nz.api_rule(r, vpc_of.get(nz.clean_id(r.get("GroupId"))), reg)
        for reg, r in raw.items["security_group_rules"]
    ]
    for row in api_rows:
        row["region"] = row["region"] or region_of.get(row["group_id"])
    with_api = {row["group_id"] for row in api_rows}
    derived = [
        row
        for reg, g in raw.items["security_groups"]
        if nz.clean_id(g.get("GroupId")) not in with_api
        for row in nz.group_rules(g, reg)
    ]
    rows = _unique(api_rows + derived, lambda r: r["rule_id"])
    stale_keys = {s["rule_key"] for s in stale}
    for row in rows:
        row["stale"] = (nz.rule_key(row) in stale_keys) if raw.stale_collected else None
    return rows


def _prefix_lists(raw: RawInventory) -> dict[str, list[Row]]:
    lists = _unique(
        (rs.prefix_list(p, r) for r, p in raw.items["prefix_lists"]), lambda r: r["prefix_list_id"]
    )
    version_of = {p["prefix_list_id"]: p["version"] for p in lists}
    entries: list[Row] = []
    for _, p in raw.items["prefix_lists"]:
        if p.get("Cidrs"):  # the older describe-prefix-lists carries its CIDRs inline
            pl_id = str(nz.clean_id(p.get("PrefixListId")))
            entries.extend(
                rs.prefix_list_entries(
                    pl_id, version_of.get(pl_id), ({"Cidr": c} for c in p["Cidrs"])
                )
            )
    for e in raw.entries:
        version = e.version if e.version is not None else version_of.get(e.prefix_list_id)
        entries.extend(rs.prefix_list_entries(e.prefix_list_id, version, e.entries))
    entries = _unique(entries, lambda r: (r["prefix_list_id"], r["version"], r["cidr"]))
    return {"prefix_lists": lists, "prefix_list_entries": entries}
