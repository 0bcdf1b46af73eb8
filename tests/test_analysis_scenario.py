"""End to end: a three-tier VPC, both log formats, a NAT gateway and an unlogged subnet.

The expected statuses and counts below were written by hand from the story, before the first run:

* 3 internet clients → ALB :443 (v3 with flags); ALB → app :8080 twice (ALB v3, app v2);
  app → DB :5432 twice (app v2, DB v3); app → 203.0.113.50:443 through the NAT (v2);
  a scanner 192.0.2.66 is rejected on ALB :22 and :3389; nothing initiates from the DB.
* Replies never count: the DB's allow-all egress is unused although the DB sends replies.
* The app's allow-all egress overlaps the app→DB rule, so that rule has no sole flows; the DB's
  SG-reference and CIDR ingress rules overlap each other.
* The dark subnet has no flow log: its SG's rule is no_coverage, never unused.
"""

from __future__ import annotations

from pathlib import Path

from analysis_fixtures import DAY, World

import flowlens
from flowlens.analyze import analyze

ALB, APP, DB, NAT, DARK = "10.0.0.10", "10.0.1.10", "10.0.2.10", "10.0.0.220", "10.0.9.10"

EXPECTED_RULES = {  # rule_id: (status, flows, sole_flows)
    "sgr-alb-https": ("used", 3, 3),
    "sgr-alb-http": ("unused", 0, 0),
    "sgr-alb-to-app": ("used", 2, 2),
    "sgr-app-from-alb": ("used", 2, 2),
    "sgr-app-ssh": ("unused", 0, 0),
    "sgr-app-to-db": ("used", 2, 0),
    "sgr-app-egress": ("used", 3, 1),
    "sgr-db-from-app": ("used", 2, 0),
    "sgr-db-cidr": ("used", 2, 0),
    "sgr-db-egress": ("unused", 0, 0),
    "sgr-dark": ("no_coverage", 0, 0),
}
EXPECTED_CONVERSATIONS = {"eni-alb": 7, "eni-app": 5, "eni-db": 2, "eni-nat": 2}
EXPECTED_REJECTED = [("192.0.2.66", 22, "sg"), ("192.0.2.66", 3389, "sg")]
EXPECTED_FINDINGS = {
    ("unrestricted_egress", "sg-app"),
    ("unrestricted_egress", "sg-db"),
    ("subnet_without_flow_log", "subnet-dark"),
    ("eni_without_flow_log", "eni-dark"),
    ("sg_per_instance", "vpc-1"),
    # by configuration: sgr-app-to-db lies inside sgr-app-egress (all to 0.0.0.0/0), and
    # sgr-db-from-app's one member (10.0.1.10) inside sgr-db-cidr (10.0.1.0/24)
    ("shadowed", "sg-app"),
    ("shadowed", "sg-db"),
}


def build(root: Path) -> World:
    w = World(root)
    w.subnet("subnet-pub", "10.0.0.0/24").subnet("subnet-app", "10.0.1.0/24")
    w.subnet("subnet-db", "10.0.2.0/24").subnet("subnet-dark", "10.0.9.0/24")
    w.sg("sg-alb").sg("sg-app").sg("sg-db").sg("sg-dark").sg("sg-default", default=True)
    w.rule("sgr-alb-https", "sg-alb", "ingress", "tcp", 443, cidr="0.0.0.0/0")
    w.rule("sgr-alb-http", "sg-alb", "ingress", "tcp", 80, cidr="0.0.0.0/0")
    w.rule("sgr-alb-to-app", "sg-alb", "egress", "tcp", 8080, sg="sg-app")
    w.rule("sgr-app-from-alb", "sg-app", "ingress", "tcp", 8080, sg="sg-alb")
    w.rule("sgr-app-ssh", "sg-app", "ingress", "tcp", 22, cidr="10.0.0.0/16")
    w.rule("sgr-app-to-db", "sg-app", "egress", "tcp", 5432, sg="sg-db")
    w.rule("sgr-app-egress", "sg-app", "egress", "all", cidr="0.0.0.0/0")
    w.rule("sgr-db-from-app", "sg-db", "ingress", "tcp", 5432, sg="sg-app")
    w.rule("sgr-db-cidr", "sg-db", "ingress", "tcp", 5432, cidr="10.0.1.0/24")
    w.rule("sgr-db-egress", "sg-db", "egress", "all", cidr="0.0.0.0/0")
    w.rule("sgr-dark", "sg-dark", "ingress", "tcp", 9000, cidr="10.0.0.0/16")
    w.eni("eni-alb", "subnet-pub", [ALB], ["sg-alb"]).eni(
        "eni-app", "subnet-app", [APP], ["sg-app"]
    )
    w.eni("eni-db", "subnet-db", [DB], ["sg-db"]).eni(
        "eni-nat", "subnet-pub", [NAT], [], itype="nat_gateway"
    )
    w.eni("eni-dark", "subnet-dark", [DARK], ["sg-dark"], log=None)
    for i, client in enumerate(["198.51.100.1", "198.51.100.2", "198.51.100.3"]):
        w.both("eni-alb", client, ALB, 50000 + i, 443, req_flags=2, rep_flags=18, at=i)
    for port in (40001, 40002):
        w.both("eni-alb", ALB, APP, port, 8080, req_flags=3, rep_flags=19)
        w.both("eni-app", ALB, APP, port, 8080)  # v2: no flags
    for port in (50001, 50002):
        w.both("eni-app", APP, DB, port, 5432)
        w.both("eni-db", APP, DB, port, 5432, req_flags=2, rep_flags=18)
    w.both("eni-app", APP, "203.0.113.50", 51000, 443)
    w.flow("eni-nat", APP, NAT, 51000, 443)
    w.flow("eni-nat", NAT, "203.0.113.50", 1025, 443)
    for port in (22, 3389):
        w.flow("eni-alb", "192.0.2.66", ALB, 40000, port, action="REJECT", flags=2)
    return w


def test_three_tier_scenario(tmp_path: Path) -> None:
    dd = build(tmp_path / "data").write()
    summary = analyze(dd, [DAY], threads=1)
    con = flowlens.connect(dd.root)
    got = {
        r[0]: (r[1], r[2], r[3])
        for r in con.execute("SELECT rule_id, status, flows, sole_flows FROM rule_usage").fetchall()
    }
    assert got == EXPECTED_RULES
    per_eni = dict(
        con.execute("SELECT eni_id, COUNT(*) FROM conversations GROUP BY eni_id").fetchall()
    )
    assert per_eni == EXPECTED_CONVERSATIONS
    rejected = con.execute(
        "SELECT srcaddr, dstport, cause FROM rejected ORDER BY dstport"
    ).fetchall()
    assert rejected == EXPECTED_REJECTED
    findings = set(con.execute("SELECT kind, resource_id FROM findings").fetchall())
    assert findings == EXPECTED_FINDINGS
    assert summary.days[0].conversations == sum(EXPECTED_CONVERSATIONS.values())
    unattributed = con.execute(
        "SELECT COUNT(*) FROM conversations WHERE status = 'no_rule'"
    ).fetchone()
    assert unattributed == (0,)
