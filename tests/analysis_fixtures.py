"""A tiny-world builder for analysis tests: inventory snapshot(s) + flows Parquet, written directly.

Each golden test reads as a table: a few ENIs, SGs and rules, a few flow records, then the
expected output rows. Defaults: one VPC 10.0.0.0/16, an allow-all default NACL, every ENI
covered by its own ALL-traffic flow log created long before the day analysed, and one snapshot
taken at the day's start. A world that changes during the day takes several snapshots:
``w.snap(stamp)`` records the inventory as it is then, the world is changed (``drop_eni``,
``drop_rule``, new rows), and ``w.snap(later)`` records it again; ``write`` writes every one.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.model.addr import cidr_range
from flowlens.model.flow import FLOW_FILE_SCHEMA
from flowlens.model.inventory import INVENTORY_SCHEMAS

DAY = date(2026, 11, 28)
T0 = int(datetime(2026, 11, 28, 12, 0, tzinfo=UTC).timestamp())
ACCOUNT, REGION, VPC = "111122223333", "us-east-1", "vpc-1"
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "all": -1}
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class World:
    root: Path
    snapshot: str = "20261128T000000Z"
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    records: list[dict[str, Any]] = field(default_factory=list)
    _nacls_with_entries: set[str] = field(default_factory=set)
    snaps: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tables["vpcs"].append(
            {
                "vpc_id": VPC,
                "region": REGION,
                "owner_id": ACCOUNT,
                "is_default": False,
                "cidr_blocks": ["10.0.0.0/16"],
                "ipv6_cidr_blocks": ["2001:db8::/56"],
            }
        )
        self.nacl("acl-default", default=True)

    # -- inventory ---------------------------------------------------------------------
    def nacl(self, nacl_id: str, *, default: bool = False) -> World:
        self.tables["nacls"].append(
            {
                "nacl_id": nacl_id,
                "vpc_id": VPC,
                "region": REGION,
                "owner_id": ACCOUNT,
                "is_default": default,
            }
        )
        return self

    def subnet(
        self, subnet_id: str, cidr: str, *, nacl: str = "acl-default", ipv6: str | None = None
    ) -> World:
        self.tables["subnets"].append(
            {
                "subnet_id": subnet_id,
                "vpc_id": VPC,
                "region": REGION,
                "cidr_block": cidr,
                "ipv6_cidr_blocks": [ipv6] if ipv6 else [],
                "nacl_id": nacl,
            }
        )
        return self

    def sg(self, group_id: str, *, name: str | None = None, default: bool = False) -> World:
        self.tables["security_groups"].append(
            {
                "group_id": group_id,
                "group_name": name or group_id,
                "vpc_id": VPC,
                "owner_id": ACCOUNT,
                "region": REGION,
                "is_default": default,
            }
        )
        return self

    def rule(
        self,
        rule_id: str,
        group_id: str,
        direction: str,
        proto: str | int,
        ports: int | tuple[int, int] | None = None,
        *,
        cidr: str | None = None,
        sg: str | None = None,
        pl: str | None = None,
    ) -> World:
        ip_protocol = PROTO[proto] if isinstance(proto, str) else proto
        lo_port, hi_port = (ports, ports) if isinstance(ports, int) else (ports or (None, None))
        row: dict[str, Any] = {
            "rule_id": rule_id,
            "rule_id_source": "api",
            "group_id": group_id,
            "group_owner_id": ACCOUNT,
            "vpc_id": VPC,
            "region": REGION,
            "direction": direction,
            "ip_protocol": ip_protocol,
            "from_port": lo_port,
            "to_port": hi_port,
        }
        if cidr:
            r = cidr_range(cidr)
            row.update(
                peer_type=f"cidr{r.family}",
                peer=cidr,
                peer_family=r.family,
                peer_lo=r.lo,
                peer_hi=r.hi,
            )
        elif sg:
            row.update(peer_type="sg", peer=sg, peer_owner_id=ACCOUNT)
        elif pl:
            row.update(peer_type="prefix_list", peer=pl)
        self.tables["sg_rules"].append(row)
        return self

    def prefix_list(self, pl_id: str, cidrs: list[str], *, version: int = 1) -> World:
        for c in cidrs:
            r = cidr_range(c)
            self.tables["prefix_list_entries"].append(
                {
                    "prefix_list_id": pl_id,
                    "version": version,
                    "cidr": c,
                    "family": r.family,
                    "lo": r.lo,
                    "hi": r.hi,
                }
            )
        return self

    def eni(
        self,
        eni_id: str,
        subnet_id: str,
        ips: list[str],
        groups: list[str],
        *,
        itype: str = "interface",
        instance: str | None = None,
        log: str | None = "ALL",
        log_created: datetime = LONG_AGO,
        service: bool = False,
        attached: datetime | None = None,
    ) -> World:
        """An ENI; ``service=True`` makes it requester-managed without an
        instance (a load balancer, RDS)."""
        managed = service or itype != "interface"
        self.tables["enis"].append(
            {
                "eni_id": eni_id,
                "vpc_id": VPC,
                "subnet_id": subnet_id,
                "region": REGION,
                "owner_id": ACCOUNT,
                "interface_type": itype,
                "status": "in-use",
                "instance_id": instance or (None if managed else f"i-{eni_id[4:]}"),
                "private_ip": ips[0],
                "requester_managed": managed,
                "attach_time": attached,
            }
        )
        for g in groups:
            self.tables["eni_groups"].append({"eni_id": eni_id, "group_id": g, "group_name": g})
        for i, ip in enumerate(ips):
            r = cidr_range(ip)
            kind = "ipv6" if r.family == 6 else ("primary4" if i == 0 else "secondary4")
            self.tables["eni_ips"].append(
                {
                    "eni_id": eni_id,
                    "address": ip,
                    "kind": kind,
                    "family": r.family,
                    "lo": r.lo,
                    "hi": r.hi,
                }
            )
        if log:
            fl = f"fl-{eni_id}"
            self.tables["flow_logs"].append(
                {
                    "flow_log_id": fl,
                    "resource_id": eni_id,
                    "resource_type": "eni",
                    "region": REGION,
                    "traffic_type": log,
                    "deliver_logs_status": "SUCCESS",
                    "creation_time": log_created,
                }
            )
            self.tables["eni_coverage"].append(
                {
                    "eni_id": eni_id,
                    "flow_log_id": fl,
                    "via": "eni",
                    "traffic_type": log,
                    "max_aggregation_interval": 60,
                    "creation_time": log_created,
                }
            )
        return self

    def nacl_entry(
        self,
        nacl_id: str,
        number: int,
        direction: str,
        action: str,
        *,
        cidr: str = "0.0.0.0/0",
        proto: str | int = "all",
        ports: tuple[int, int] | None = None,
    ) -> World:
        r = cidr_range(cidr)
        self._nacls_with_entries.add(nacl_id)
        self.tables["nacl_entries"].append(
            {
                "nacl_id": nacl_id,
                "rule_number": number,
                "direction": direction,
                "rule_action": action,
                "protocol": PROTO[proto] if isinstance(proto, str) else proto,
                "cidr": cidr,
                "family": r.family,
                "lo": r.lo,
                "hi": r.hi,
                "from_port": ports[0] if ports else None,
                "to_port": ports[1] if ports else None,
            }
        )
        return self

    def drop(self, table: str, **match: Any) -> World:
        """Remove the rows of ``table`` whose columns equal ``match`` (the world changed)."""
        self.tables[table] = [
            r for r in self.tables[table] if any(r.get(k) != v for k, v in match.items())
        ]
        return self

    def drop_eni(self, eni_id: str) -> World:
        """The ENI is gone (instance terminated): its groups, addresses and own flow log with it."""
        for table in ("enis", "eni_groups", "eni_ips", "eni_coverage"):
            self.drop(table, eni_id=eni_id)
        return self.drop("flow_logs", resource_id=eni_id)

    def drop_rule(self, rule_id: str) -> World:
        return self.drop("sg_rules", rule_id=rule_id)

    def snap(self, stamp: str) -> World:
        """Record the inventory as it is now as the snapshot ``stamp``
        (``YYYYMMDDTHHMMSSZ``, its capture time)."""
        self._complete_nacls()
        self.snaps[stamp] = copy.deepcopy(dict(self.tables))
        return self

    # -- flows -------------------------------------------------------------------------
    def flow(
        self,
        eni: str,
        src: str,
        dst: str,
        sport: int,
        dport: int,
        *,
        proto: str | int = "tcp",
        action: str = "ACCEPT",
        flags: int | None = None,
        at: int = 0,
        packets: int = 1,
        nbytes: int = 100,
        pkt_src: str | None = None,
        pkt_dst: str | None = None,
        log_status: str = "OK",
        reject_reason: str | None = None,
        day: date = DAY,
        v3: bool | None = None,
        vpc: str | None = None,
        subnet: str | None = None,
    ) -> World:
        """One record; v3 (flags and pkt-* columns present) when flags or pkt-* are given.

        ``at`` is seconds after 12:00 of ``day`` (negative: the morning); ``vpc``/``subnet`` fill
        the records' own vpc-id/subnet-id fields.
        """
        custom = (
            v3
            if v3 is not None
            else (flags is not None or pkt_src is not None or pkt_dst is not None)
        )
        start = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()) + at
        self.records.append(
            {
                "version": 3 if custom else 2,
                "interface_id": eni,
                "srcaddr": src,
                "dstaddr": dst,
                "srcport": sport,
                "dstport": dport,
                "protocol": PROTO[proto] if isinstance(proto, str) else proto,
                "packets": packets,
                "bytes": nbytes,
                "start": start,
                "end": start + 50,
                "action": action,
                "log_status": log_status,
                "tcp_flags": flags if custom else None,
                "pkt_srcaddr": (pkt_src or src) if custom else None,
                "pkt_dstaddr": (pkt_dst or dst) if custom else None,
                "reject_reason": reject_reason,
                "flow_log_id": f"fl-{eni}",
                "source_key": "test",
                "_day": day,
                "vpc_id": vpc,
                "subnet_id": subnet,
            }
        )
        return self

    def both(self, eni: str, client: str, server: str, cport: int, sport: int, **kw: Any) -> World:
        """A request record client→server and its reply server→client on one ENI."""
        req_flags = kw.pop("req_flags", None)
        rep_flags = kw.pop("rep_flags", None)
        self.flow(eni, client, server, cport, sport, flags=req_flags, **kw)
        return self.flow(
            eni, server, client, sport, cport, flags=rep_flags, **{**kw, "at": kw.get("at", 0) + 1}
        )

    # -- output ------------------------------------------------------------------------
    def _complete_nacls(self) -> None:
        for nacl in {n["nacl_id"] for n in self.tables["nacls"]} - self._nacls_with_entries:
            for direction in ("ingress", "egress"):
                self.nacl_entry(nacl, 100, direction, "allow")
                self.nacl_entry(nacl, 101, direction, "allow", cidr="::/0")
                self.nacl_entry(nacl, 32767, direction, "deny")
                self.nacl_entry(nacl, 32768, direction, "deny", cidr="::/0")

    def write(self) -> DataDir:
        """Every snapshot taken with :meth:`snap` (or, if none was, the world as
        it is now) and the flows."""
        dd = DataDir(self.root)
        if not self.snaps:
            self.snap(self.snapshot)
        for stamp, tables in self.snaps.items():
            snap = dd.snapshot_dir(stamp)
            snap.mkdir(parents=True, exist_ok=True)
            for name, schema in INVENTORY_SCHEMAS.items():
                rows = tables.get(name, [])
                cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
                pq.write_table(pa.table(cols, schema=schema), snap / f"{name}.parquet")
        by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
        for rec in self.records:
            by_day[rec["_day"]].append(rec)
        for day, recs in by_day.items():
            folder = (
                dd.flows / f"account_id={ACCOUNT}" / f"region={REGION}" / f"date={day.isoformat()}"
            )
            folder.mkdir(parents=True, exist_ok=True)
            cols = {f.name: [r.get(f.name) for r in recs] for f in FLOW_FILE_SCHEMA}
            pq.write_table(pa.table(cols, schema=FLOW_FILE_SCHEMA), folder / "part-0.parquet")
        return dd


def analysed_https_server(root: Path) -> Path:
    """The data dir ``root`` of one HTTPS server (eni-web, 10.0.1.10 in sg-web, whose one rule
    allows 443 from anywhere) and one client conversation on ``DAY``, analysed by the CLI."""
    w = World(root).subnet("subnet-a", "10.0.1.0/24").sg("sg-web")
    w.rule("sgr-https", "sg-web", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.eni("eni-web", "subnet-a", ["10.0.1.10"], ["sg-web"])
    w.both("eni-web", "198.51.100.7", "10.0.1.10", 50000, 443, req_flags=2, rep_flags=18)
    dd = w.write()
    argv = ["analyze", "--data-dir", str(dd.root), "--date", DAY.isoformat(), "--threads", "1"]
    assert main([*argv, "-q"]) == 0
    return dd.root
