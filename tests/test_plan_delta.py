"""The connectivity delta of the sample plan, written out and checked by hand against the plan's
table (sample_logs/README.md's rules): 3 unused removals (rds 3306, rds 5432 from the peered
analytics SG, the batch self-reference), 1 redundant removal (app 8080 from the VPC: 5,539 flows
also allowed by the ALB reference), 2 narrowings inside the old rule (batch egress → S3 prefix
list: 69 flows, 6 peers; bastion SSH → two /32: 376 flows, 2 peers) and 2 changes through
references that may widen (rds 5432 from the VPC → app SG: 526 flows, 3 peers; app egress → S3
list + rds SG: 5,547 flows, 41 peers)."""

from __future__ import annotations

import json

from flowlens.model.delta import Change
from flowlens.model.plan import Plan
from flowlens.recommend.render_cli import render_cli
from flowlens.recommend.render_md import render_md
from flowlens.recommend.render_tf import render_tf

SUMMARY = (
    "removes 3 paths that saw no traffic; removes 1 path whose 5,539 flows other rules still "
    "allow; narrows 2 paths that saw 445 flows to the 8 peers that sent them; replaces 2 paths "
    "that saw 6,073 flows by references that may widen access"
)

EXPECTED = {  # rule → (group, direction, change, flows, peers)
    "sgr-07e59b933c72330a8": ("sg-0387bd4e66da75c2d", "ingress", Change.REPLACED, 526, 3),
    "sgr-0a2752576ebbf3b85": ("sg-0387bd4e66da75c2d", "ingress", Change.REMOVED, 0, 0),
    "sgr-0c650671235509c14": ("sg-0387bd4e66da75c2d", "ingress", Change.REMOVED, 0, 0),
    "sgr-00eec7eb59fe0a392": ("sg-0420e291bc62e8af7", "egress", Change.NARROWED, 69, 6),
    "sgr-0493d8dfcf69f38a6": ("sg-0420e291bc62e8af7", "ingress", Change.REMOVED, 0, 0),
    "sgr-093b55da14b72410e": ("sg-0ec5c041d9a101b95", "ingress", Change.NARROWED, 376, 2),
    "sgr-061791088b8b536bd": ("sg-0f0222b560a38a5e4", "egress", Change.REPLACED, 5547, 41),
    "sgr-084c2c9e25dd73586": ("sg-0f0222b560a38a5e4", "ingress", Change.REMOVED, 5539, 2),
}


def test_sample_plan_delta_by_hand(sample_day) -> None:
    delta = sample_day.plan.delta()
    got = {
        p.rule_id: (p.group_id, p.direction.value, p.change, p.flows, p.peers) for p in delta.paths
    }
    assert got == EXPECTED
    assert delta.summary() == SUMMARY
    ssh = next(p for p in delta.paths if p.rule_id == "sgr-093b55da14b72410e")
    assert ssh.before is not None and ssh.before.peer == "0.0.0.0/0"
    assert sorted(r.peer for r in ssh.after) == ["198.51.100.7/32", "203.0.113.25/32"]


def test_every_artifact_carries_the_summary_at_the_top(sample_day) -> None:
    plan = sample_day.plan
    d = plan.to_dict()
    assert next(iter(d)) == "summary" and d["summary"] == SUMMARY
    assert {p["rule_id"] for p in d["connectivity_delta"]} == set(EXPECTED)
    assert (
        Plan.from_dict(json.loads(plan.to_json())) == plan
    )  # derived keys do not disturb the round trip
    md = render_md(plan)
    assert f"**Connectivity:** {SUMMARY}." in md.split("| rule |")[0]
    assert (
        "removed tcp/3306 from 10.0.0.0/8 → nothing (0 flows, 0 peers "
        "observed; sgr-0a2752576ebbf3b85)" in md
    )
    # each path is a bullet nested under its SG and direction
    assert (
        "- sg-0ec5c041d9a101b95 ingress:\n  - narrowed tcp/22 from 0.0.0.0/0 → tcp/22 from "
        "198.51.100.7/32; tcp/22 from 203.0.113.25/32 (376 flows, 2 peers observed; "
        "sgr-093b55da14b72410e)\n"
    ) in md
    for text in (render_cli(plan), render_tf(plan)):
        head = text.split("\n\n")[0]
        assert f"# connectivity: {SUMMARY}" in head
        assert (
            "#     narrowed tcp/22 from 0.0.0.0/0 → tcp/22 from 198.51.100.7/32; tcp/22 from "
            "203.0.113.25/32 (376 flows, 2 peers observed; sgr-093b55da14b72410e)"
        ) in head
