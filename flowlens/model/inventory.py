"""Arrow schemas of the inventory tables (docs/data-dir.md#inventory-snapshots,
docs/tables.md#inventory).

One snapshot is a folder ``inventory/snapshot=<UTC stamp>/`` holding one Parquet file per
table below plus ``snapshot.json`` (when, from where). Every address or CIDR column has
``*_family``/``*_lo``/``*_hi`` companions (see :mod:`flowlens.model.addr`) so that
address-in-range is a range join, IPv6 included.
"""

from __future__ import annotations

import pyarrow as pa

S, I8, I32, I64, B = pa.string(), pa.int8(), pa.int32(), pa.int64(), pa.bool_()
TS = pa.timestamp("us", tz="UTC")
TAGS = pa.map_(S, S)


def _schema(*cols: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in cols])


INVENTORY_SCHEMAS: dict[str, pa.Schema] = {
    "vpcs": _schema(
        ("vpc_id", S),
        ("region", S),
        ("owner_id", S),
        ("is_default", B),
        ("cidr_blocks", pa.list_(S)),
        ("ipv6_cidr_blocks", pa.list_(S)),
        ("tags", TAGS),
    ),
    "subnets": _schema(
        ("subnet_id", S),
        ("vpc_id", S),
        ("region", S),
        ("availability_zone", S),
        ("az_id", S),
        ("cidr_block", S),
        ("ipv6_cidr_blocks", pa.list_(S)),
        ("nacl_id", S),  # the associated NACL (the VPC's default NACL when none is associated)
        ("tags", TAGS),
    ),
    "security_groups": _schema(
        ("group_id", S),
        ("group_name", S),
        ("description", S),
        ("vpc_id", S),
        ("owner_id", S),
        ("region", S),
        ("is_default", B),
        ("tags", TAGS),
    ),
    # One row per (rule × single peer). direction: ingress|egress. ip_protocol: IANA number, -1 all.
    # from_port/to_port: TCP/UDP port range; for ICMP/ICMPv6 the type/code (-1 = all) as AWS
    # encodes them; NULL where ports do not apply (-1 and other protocols).
    # peer_type: cidr4|cidr6|sg|prefix_list. rule_id: the sgr- id, or "sgr-derived-<hash>"
    # (rule_id_source 'derived') where only describe-security-groups output exists.
    "sg_rules": _schema(
        ("rule_id", S),
        ("rule_id_source", S),
        ("group_id", S),
        ("group_owner_id", S),
        ("vpc_id", S),
        ("region", S),
        ("direction", S),
        ("ip_protocol", I32),
        ("protocol_name", S),
        ("from_port", I32),
        ("to_port", I32),
        ("peer_type", S),
        ("peer", S),
        ("peer_family", I8),
        ("peer_lo", S),
        ("peer_hi", S),
        ("peer_owner_id", S),
        ("peer_vpc_id", S),
        ("peering_connection_id", S),
        ("peering_status", S),
        ("description", S),
        ("tags", TAGS),
        # True: describe-stale-security-groups lists this rule; False: stale data was read and
        # does not list it; NULL: no stale data in this snapshot.
        ("stale", B),
    ),
    # describe-stale-security-groups: each stale (permission × peer). rule_key is the
    # derived-id hash of the rule (normalize.rule_key), equal for api and derived rules.
    "stale_sg_rules": _schema(
        ("rule_key", S),
        ("group_id", S),
        ("group_name", S),
        ("vpc_id", S),
        ("direction", S),
        ("ip_protocol", I32),
        ("from_port", I32),
        ("to_port", I32),
        ("peer_type", S),
        ("peer", S),
        ("peer_vpc_id", S),
        ("peering_connection_id", S),
        ("peering_status", S),
        ("description", S),
    ),
    # describe-security-group-references: which peered VPCs reference a group.
    "sg_references": _schema(
        ("group_id", S),
        ("referencing_vpc_id", S),
        ("peering_connection_id", S),
        ("transit_gateway_id", S),
    ),
    "enis": _schema(
        ("eni_id", S),
        ("vpc_id", S),
        ("subnet_id", S),
        ("region", S),
        ("availability_zone", S),
        ("owner_id", S),
        ("interface_type", S),
        ("requester_managed", B),
        ("requester_id", S),
        ("description", S),
        ("status", S),
        ("instance_id", S),
        ("private_ip", S),
        ("public_ip", S),
        ("source_dest_check", B),
        ("tcp_established_timeout", I32),
        ("udp_stream_timeout", I32),
        ("udp_timeout", I32),
        ("tags", TAGS),
        # Attachment.AttachTime: when the ENI was attached to what it is attached to now (NULL when
        # unattached or not stated). The ENI's rows cannot predate it (flowlens.inventory.timeline).
        ("attach_time", TS),
    ),
    "eni_groups": _schema(("eni_id", S), ("group_id", S), ("group_name", S)),
    # kind: primary4|secondary4|ipv6|prefix4|prefix6|public4. address: an
    # address or a delegated prefix.
    "eni_ips": _schema(
        ("eni_id", S),
        ("address", S),
        ("kind", S),
        ("family", I8),
        ("lo", S),
        ("hi", S),
    ),
    "nacls": _schema(
        ("nacl_id", S),
        ("vpc_id", S),
        ("region", S),
        ("owner_id", S),
        ("is_default", B),
        ("tags", TAGS),
    ),
    # direction: ingress|egress; rule_action: allow|deny; protocol: IANA number, -1 all.
    "nacl_entries": _schema(
        ("nacl_id", S),
        ("rule_number", I32),
        ("direction", S),
        ("rule_action", S),
        ("protocol", I32),
        ("cidr", S),
        ("family", I8),
        ("lo", S),
        ("hi", S),
        ("from_port", I32),
        ("to_port", I32),
        ("icmp_type", I32),
        ("icmp_code", I32),
    ),
    "prefix_lists": _schema(
        ("prefix_list_id", S),
        ("prefix_list_name", S),
        ("address_family", S),
        ("max_entries", I32),
        ("version", I64),
        ("state", S),
        ("owner_id", S),
        ("region", S),
        ("aws_managed", B),
    ),
    "prefix_list_entries": _schema(
        ("prefix_list_id", S),
        ("version", I64),
        ("cidr", S),
        ("family", I8),
        ("lo", S),
        ("hi", S),
        ("description", S),
    ),
    # resource_type: vpc|subnet|eni (from the ResourceId prefix); traffic_type: ALL|ACCEPT|REJECT.
    "flow_logs": _schema(
        ("flow_log_id", S),
        ("resource_id", S),
        ("resource_type", S),
        ("region", S),
        ("traffic_type", S),
        ("log_format", S),
        ("max_aggregation_interval", I32),
        ("destination_type", S),
        ("destination", S),
        ("file_format", S),
        ("hive_partitions", B),
        ("per_hour_partition", B),
        ("deliver_logs_status", S),
        ("flow_log_status", S),
        ("creation_time", TS),
    ),
    # Which flow logs cover each ENI, and through what (vpc|subnet|eni).
    "eni_coverage": _schema(
        ("eni_id", S),
        ("flow_log_id", S),
        ("via", S),
        ("traffic_type", S),
        ("log_format", S),
        ("max_aggregation_interval", I32),
        ("creation_time", TS),
    ),
}

INVENTORY_TABLES: tuple[str, ...] = tuple(INVENTORY_SCHEMAS)
