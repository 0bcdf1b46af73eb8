"""The sample scenario: one VPC of a three-tier web application, declared once.

Both the inventory JSON and the flow records are generated from these declarations, so they
cannot disagree. Ids are derived from names (``make_id``) so they look like AWS ids and stay
stable. Hand-written expectations (status, cause, recommendation) live here too, next to the
rule they describe, written from docs/analysis.md, docs/recommend.md#safety-contract and docs/flow-logs.md#security-groups, never computed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

ACCOUNT = "111122223333"
REGION = "us-east-1"
DAY = "2026-11-28"
BUCKET = "acme-prod-flow-logs"


def make_id(prefix: str, name: str, width: int = 17) -> str:
    """An AWS-looking id derived from a name: ``sg-0`` + hex."""
    return f"{prefix}-0{hashlib.sha256(f'{prefix}:{name}'.encode()).hexdigest()[: width - 1]}"


VPC_ID = make_id("vpc", "prod")
VPC_CIDR = "10.20.0.0/16"
VPC_IPV6 = "2600:1f18:4a3:6e00::/56"
DNS_RESOLVER = "10.20.0.2"
MONITOR_HOST = "10.50.0.10"  # Prometheus in the shared monitoring VPC (reached over a transit gateway)
OFFICES = ("198.51.100.7", "203.0.113.25")
S3_PL = "pl-63a5400a"  # com.amazonaws.us-east-1.s3, as in the corpus
S3_PL_CIDRS = ("3.5.0.0/19", "16.182.0.0/16", "52.216.0.0/15", "54.231.0.0/16")
CORPMON_PL = make_id("pl", "corp-monitoring")
CORPMON_PL_CIDRS = ("10.50.0.0/24", "10.51.0.0/24")
STALE_SG = make_id("sg", "analytics-reporting")  # lived in a peered VPC; the peering was deleted
STALE_OWNER = "444455556666"
STALE_VPC = make_id("vpc", "analytics")
STALE_PCX = make_id("pcx", "prod-analytics")


@dataclass(frozen=True)
class Subnet:
    name: str
    cidr: str
    az: str
    az_id: str
    ipv6: str | None = None
    nacl: str = "default"
    public: bool = False

    @property
    def id(self) -> str:
        return make_id("subnet", self.name)


SUBNETS = {
    s.name: s
    for s in (
        Subnet("public-a", "10.20.0.0/24", "us-east-1a", "use1-az1", "2600:1f18:4a3:6e00::/64", public=True),
        Subnet("public-b", "10.20.1.0/24", "us-east-1b", "use1-az2", "2600:1f18:4a3:6e01::/64", public=True),
        Subnet("app-a", "10.20.10.0/24", "us-east-1a", "use1-az1", nacl="app-nacl"),
        Subnet("db-a", "10.20.20.0/24", "us-east-1a", "use1-az1"),
        Subnet("batch-a", "10.20.30.0/24", "us-east-1a", "use1-az1"),
    )
}


@dataclass(frozen=True)
class Eni:
    name: str
    subnet: str
    ip: str
    groups: tuple[str, ...]
    kind: str  # instance | alb | nat | rds
    ipv6: tuple[str, ...] = ()
    public_ip: str | None = None

    @property
    def id(self) -> str:
        return make_id("eni", self.name)

    @property
    def instance_id(self) -> str | None:
        return make_id("i", self.name) if self.kind == "instance" else None


_BASE = "corp-baseline-sg"
ENIS = {
    e.name: e
    for e in (
        Eni("alb-a", "public-a", "10.20.0.201", ("alb-sg",), "alb", ("2600:1f18:4a3:6e00::c8",), "34.198.21.77"),
        Eni("alb-b", "public-b", "10.20.1.201", ("alb-sg",), "alb", ("2600:1f18:4a3:6e01::c8",), "52.44.138.9"),
        Eni("bastion", "public-a", "10.20.0.10", ("bastion-sg", _BASE), "instance", (), "54.85.203.14"),
        Eni("nat", "public-a", "10.20.0.100", (), "nat", (), "3.213.66.150"),
        Eni("app-1", "app-a", "10.20.10.11", ("app-sg", _BASE), "instance"),
        Eni("app-2", "app-a", "10.20.10.12", ("app-sg", _BASE), "instance"),
        Eni("app-3", "app-a", "10.20.10.13", ("app-sg", _BASE), "instance"),
        Eni("ops", "app-a", "10.20.10.50", ("default", _BASE), "instance"),
        Eni("rds", "db-a", "10.20.20.25", ("db-sg",), "rds"),
        Eni("batch-1", "batch-a", "10.20.30.11", ("batch-sg", _BASE), "instance"),
        Eni("batch-2", "batch-a", "10.20.30.12", ("batch-sg", _BASE), "instance"),
    )
}
APPS = ("app-1", "app-2", "app-3")
ALBS = ("alb-a", "alb-b")


@dataclass(frozen=True)
class Group:
    name: str
    description: str
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return make_id("sg", self.name)


GROUPS = {
    g.name: g
    for g in (
        Group("alb-sg", "Public web load balancer", (("Name", "alb-sg"), ("Tier", "web"))),
        Group("bastion-sg", "SSH jump host", (("Name", "bastion-sg"),)),
        Group("app-sg", "Application servers", (("Name", "app-sg"), ("Tier", "app"))),
        Group("db-sg", "PostgreSQL (RDS)", (("Name", "db-sg"), ("Tier", "db"))),
        Group(_BASE, "Baseline for every instance: metrics scraping", (("Name", _BASE),)),
        Group("batch-sg", "Batch workers", (("Name", "batch-sg"),)),
        Group("default", "default VPC security group"),
        Group(
            "legacy-web-sg",
            "Old web tier, kept 'just in case'",
            (("Name", "legacy-web-sg"), ("Owner", "<script>alert('legacy')</script>")),
        ),
    )
}


@dataclass(frozen=True)
class Rule:
    """One SG rule with one peer, plus its hand-written expectation."""

    name: str
    group: str
    egress: bool
    protocol: str  # as the API writes it: tcp, udp, icmp, -1
    from_port: int
    to_port: int
    peer_type: str  # cidr4 | cidr6 | sg | prefix_list
    peer: str  # CIDR, group *name* (or a raw sg- id), or prefix-list id
    description: str
    status: str  # expected: used | unused | unobservable | no_coverage | no_members
    why: str
    recommendation: dict[str, object] | None = None
    findings: tuple[str, ...] = ()
    labels: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return make_id("sgr", self.name)

    @property
    def group_id(self) -> str:
        return GROUPS[self.group].id

    def peer_value(self) -> str:
        if self.peer_type == "sg":
            return GROUPS[self.peer].id if self.peer in GROUPS else self.peer
        return self.peer


def _proposed(direction: str, port: int, peer_type: str, peer: str) -> dict[str, object]:
    return {"direction": direction, "ip_protocol": 6, "from_port": port, "to_port": port,
            "peer_type": peer_type, "peer": peer}


_PUBLIC = "public web port: many peers spread over the address space; must stay, labelled public"
RULES = [
    # alb-sg
    Rule("alb-in-443-v4", "alb-sg", False, "tcp", 443, 443, "cidr4", "0.0.0.0/0", "HTTPS from anywhere",
         "used", _PUBLIC, labels=("public_by_observation",)),
    Rule("alb-in-80-v4", "alb-sg", False, "tcp", 80, 80, "cidr4", "0.0.0.0/0", "HTTP redirect from anywhere",
         "used", _PUBLIC, labels=("public_by_observation",)),
    Rule("alb-in-443-v6", "alb-sg", False, "tcp", 443, 443, "cidr6", "::/0", "HTTPS from anywhere (IPv6)",
         "used", _PUBLIC, labels=("public_by_observation",)),
    Rule("alb-in-80-v6", "alb-sg", False, "tcp", 80, 80, "cidr6", "::/0", "HTTP redirect from anywhere (IPv6)",
         "used", _PUBLIC, labels=("public_by_observation",)),
    Rule("alb-in-icmp-pmtud", "alb-sg", False, "icmp", 3, 4, "cidr4", "0.0.0.0/0",
         "Path MTU discovery (ICMP type 3 code 4)", "unobservable",
         "ICMP type/code is not in any flow-log field: a type-3-code-4 rule can never be proven used or unused"),
    Rule("alb-out-8080-app", "alb-sg", True, "tcp", 8080, 8080, "sg", "app-sg", "To app targets and health checks",
         "used", "ALB to targets: requests and health checks; already least privilege"),
    # bastion-sg
    Rule("bastion-in-22-world", "bastion-sg", False, "tcp", 22, 22, "cidr4", "0.0.0.0/0", "SSH",
         "used", "SSH open to the world, used only by the two office addresses",
         recommendation={"action": "narrow", "proposed": [
             _proposed("ingress", 22, "cidr4", f"{OFFICES[0]}/32"),
             _proposed("ingress", 22, "cidr4", f"{OFFICES[1]}/32")]},
         findings=("admin_port_open_to_world",)),
    Rule("bastion-out-22-app", "bastion-sg", True, "tcp", 22, 22, "sg", "app-sg", "SSH to app servers",
         "used", "bastion hops to the app servers"),
    Rule("bastion-out-icmp-app", "bastion-sg", True, "icmp", -1, -1, "sg", "app-sg", "ping app servers",
         "used", "bastion pings the app servers (all ICMP types: observable)"),
    Rule("bastion-out-imds", "bastion-sg", True, "tcp", 80, 80, "cidr4", "169.254.169.254/32", "instance metadata",
         "unobservable", "traffic to 169.254.169.254 (IMDS) is never logged"),
    Rule("bastion-out-dns", "bastion-sg", True, "udp", 53, 53, "cidr4", f"{DNS_RESOLVER}/32", "Amazon DNS",
         "unobservable", "traffic to the Amazon DNS resolver (VPC+2) is never logged"),
    # app-sg
    Rule("app-in-8080-alb", "app-sg", False, "tcp", 8080, 8080, "sg", "alb-sg", "From the ALB",
         "used", "all ALB traffic; shares every flow with app-in-8080-vpc (sole_flows 0) and is the one to keep"),
    Rule("app-in-8080-vpc", "app-sg", False, "tcp", 8080, 8080, "cidr4", VPC_CIDR, "From the VPC (old)",
         "used", "redundant: every flow it allows is also allowed by the SG reference app-in-8080-alb",
         recommendation={"action": "remove", "proposed": []}),
    Rule("app-in-22-bastion", "app-sg", False, "tcp", 22, 22, "sg", "bastion-sg", "SSH from bastion",
         "used", "bastion hops"),
    Rule("app-in-icmp-bastion", "app-sg", False, "icmp", -1, -1, "sg", "bastion-sg", "ping from bastion",
         "used", "ping requests from the bastion are accepted (the replies are then rejected by the app NACL)"),
    Rule("app-out-all", "app-sg", True, "-1", -1, -1, "cidr4", "0.0.0.0/0", "",
         "used", "allow-all egress used for two destinations: HTTPS to S3 and PostgreSQL to the database",
         recommendation={"action": "narrow", "proposed": [
             _proposed("egress", 443, "prefix_list", S3_PL),
             _proposed("egress", 5432, "sg", make_id("sg", "db-sg"))]},
         findings=("unrestricted_egress",)),
    # db-sg
    Rule("db-in-5432-vpc", "db-sg", False, "tcp", 5432, 5432, "cidr4", VPC_CIDR, "PostgreSQL from the VPC",
         "used", "used only by the three app servers, all members of app-sg",
         recommendation={"action": "replace", "proposed": [
             _proposed("ingress", 5432, "sg", make_id("sg", "app-sg"))]}),
    Rule("db-in-3306-corp", "db-sg", False, "tcp", 3306, 3306, "cidr4", "10.0.0.0/8", "MySQL (migration, 2024)",
         "unused", "the RDS ENI is covered all day by an ALL flow log and nothing used 3306",
         recommendation={"action": "remove", "proposed": []}),
    Rule("db-in-5432-stale", "db-sg", False, "tcp", 5432, 5432, "sg", STALE_SG, "analytics reporting (peered VPC)",
         "unused", "references a group in a peered VPC whose peering was deleted: no ENI can match it",
         recommendation={"action": "remove", "proposed": []}, findings=("stale_reference",)),
    # corp-baseline-sg: on every instance
    Rule("base-in-9100-mon", _BASE, False, "tcp", 9100, 9100, "prefix_list", CORPMON_PL, "node_exporter scrape",
         "used", "scraped every 5 minutes from the monitoring VPC (a customer-managed prefix list). No narrowing: "
         "the batch members of this SG are not covered by an ALL flow log, so the peer set is not fully observed",
         findings=("moat_and_castle",)),
    # default: attached to the hand-launched ops instance
    Rule("default-in-self", "default", False, "-1", -1, -1, "sg", "default", "",
         "unused", "only member is the ops instance; nothing talks to itself",
         recommendation={"action": "remove", "proposed": []}, findings=("default_sg_in_use",)),
    Rule("default-out-all", "default", True, "-1", -1, -1, "cidr4", "0.0.0.0/0", "",
         "used", "the ops instance uploads its nightly backup to S3 and does nothing else",
         recommendation={"action": "narrow", "proposed": [_proposed("egress", 443, "prefix_list", S3_PL)]},
         findings=("default_sg_in_use", "unrestricted_egress")),
    # batch-sg: the uncovered subnet
    Rule("batch-in-22-bastion", "batch-sg", False, "tcp", 22, 22, "sg", "bastion-sg", "SSH from bastion",
         "no_coverage", "batch-1 has only a REJECT flow log and batch-2 none: no traffic seen, none provable"),
    Rule("batch-out-all", "batch-sg", True, "-1", -1, -1, "cidr4", "0.0.0.0/0", "",
         "no_coverage", "batch-1 has only a REJECT flow log and batch-2 none",
         findings=("unrestricted_egress",)),
    # legacy-web-sg: attached to nothing
    Rule("legacy-in-80-world", "legacy-web-sg", False, "tcp", 80, 80, "cidr4", "0.0.0.0/0", "HTTP",
         "no_members", "the group is attached to no ENI"),
]
RULES_BY_NAME = {r.name: r for r in RULES}


@dataclass(frozen=True)
class FlowLog:
    name: str
    resource: str  # subnet name or ENI name
    resource_kind: str  # subnet | eni
    traffic_type: str
    log_format: str
    interval: int

    @property
    def id(self) -> str:
        return make_id("fl", self.name)

    @property
    def resource_id(self) -> str:
        return SUBNETS[self.resource].id if self.resource_kind == "subnet" else ENIS[self.resource].id


_V5_FIELDS = ["version", "account-id", "region", "az-id", "vpc-id", "subnet-id", "instance-id", "interface-id", "flow-direction", "traffic-path", "type", "srcaddr", "dstaddr", "srcport", "dstport", "pkt-srcaddr", "pkt-dstaddr", "pkt-src-aws-service", "pkt-dst-aws-service", "protocol", "bytes", "packets", "start", "end", "tcp-flags", "action"]
V5_FORMAT = " ".join(f"${{{f}}}" for f in [*_V5_FIELDS, "log-status"])
V8_FORMAT = " ".join(f"${{{f}}}" for f in [*_V5_FIELDS, "reject-reason", "log-status"])
DEFAULT_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
    "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)

FLOW_LOGS = {
    f.name: f
    for f in (
        FlowLog("public-a-v8", "public-a", "subnet", "ALL", V8_FORMAT, 60),
        FlowLog("public-b-v8", "public-b", "subnet", "ALL", V8_FORMAT, 60),
        FlowLog("app-a-v5", "app-a", "subnet", "ALL", V5_FORMAT, 60),
        FlowLog("db-a-default", "db-a", "subnet", "ALL", DEFAULT_FORMAT, 600),
        FlowLog("batch-1-rejects", "batch-1", "eni", "REJECT", DEFAULT_FORMAT, 600),
    )
}


@functools.cache
def flow_log_of(eni: str) -> FlowLog | None:
    """The flow log that records this ENI (ENI-level first, then subnet-level)."""
    for fl in FLOW_LOGS.values():
        if fl.resource_kind == "eni" and fl.resource == eni:
            return fl
    for fl in FLOW_LOGS.values():
        if fl.resource_kind == "subnet" and fl.resource == ENIS[eni].subnet:
            return fl
    return None


# Expected reject causes, by traffic class (hand-written from docs/analysis.md#rejected-causes).
REJECT_CLASSES = {
    "scan": ("sg", "internet scanner SYN to a port no rule of the public ENI's SGs allows; default NACL allows"),
    "bpa": ("bpa", "reject-reason BPA: Block Public Access was switched on (bidirectional) 14:02-14:09 UTC"),
    "ping_reply": ("nacl", "echo reply leaving app-1: app-nacl egress rule 80 denies ICMP; request was accepted"),
    "batch_to_app": ("nacl", "batch-1 -> app-2:8080: app-nacl ingress rule 90 denies 10.20.30.0/24 tcp 8080 "
                             "(app-in-8080-vpc would allow it)"),
    "same_subnet": ("sg", "batch-2 -> batch-1:9100 inside batch-a: NACLs do not apply within a subnet; "
                          "no rule of batch-1's SGs allows 10.20.30.12 on 9100"),
    "late_fin": ("late_packet", "FIN/RST-only packet after the connection closed; NACL and SG both allow the tuple"),
    "db_unknown": ("unknown", "RDS ENI, default v2 format: NACL and SG both allow app->db:5432 and there are no "
                              "tcp-flags to show a late FIN/RST, so late packet, asymmetric path or a stale "
                              "snapshot cannot be told apart"),
}

FINDING_KINDS = {
    "admin_port_open_to_world": "an admin port (22) open to 0.0.0.0/0",
    "unrestricted_egress": "egress -1 to 0.0.0.0/0",
    "default_sg_in_use": "the VPC's default SG is attached to an ENI",
    "moat_and_castle": "one SG (corp-baseline-sg) on every instance ENI",
    "stale_reference": "a rule references a group across a deleted peering",
    "eni_without_flow_log": "an ENI no flow log covers",
    "eni_partial_flow_log": "an ENI covered only by an ACCEPT-only or REJECT-only flow log",
    "skipdata": "an ENI whose flow log skipped records (SKIPDATA)",
    "scanner": "a source rejected on many ports or ENIs",
}
