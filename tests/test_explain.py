"""flowlens explain on the sample day: expectations from sample_logs/README.md (the scenario's
rules, NACLs and ENIs), written before running."""

from __future__ import annotations

import json
from datetime import date

import pytest

from flowlens.cli import main
from flowlens.explain import FlowQuery, explain
from flowlens.explain.core import Via
from flowlens.model.net import ICMP, TCP

DAY = date(2026, 11, 28)
ALB_A, APP_1, BASTION, RDS = "10.20.0.201", "10.20.10.11", "10.20.0.10", "10.20.20.25"
ALB_ENI, APP_1_ENI, BASTION_ENI = (
    "eni-05e533b585d4529e5",
    "eni-0a7d0664fd881ae5b",
    "eni-07a93e423b3ff6908",
)
ALB_SG, APP_SG = "sg-07abe3767ce26ff9c", "sg-0f0222b560a38a5e4"


def test_allowed_flow_with_two_matching_rules_and_an_sg_reference(sample_day) -> None:
    ex = explain(sample_day.data, FlowQuery(ALB_A, APP_1, 8080, TCP), [DAY])
    assert ex.allowed is True and ex.allowed_after_plan is True
    src, dst = ex.sides
    assert (src.eni_id, src.role, str(src.direction)) == (ALB_ENI, "source", "egress")
    # alb-sg egress 8080 to app-sg: app-1 is a member of app-sg
    assert [(m.rule_id, m.via) for m in src.matches] == [("sgr-0aaea86363116c8b2", Via.SG)]
    assert APP_1_ENI in src.matches[0].why and APP_SG in src.matches[0].why
    assert (dst.eni_id, dst.role) == (APP_1_ENI, "destination")
    # app-in-8080-from-alb (SG reference) and app-in-8080-vpc (old CIDR rule) both allow it
    assert {(m.rule_id, m.via) for m in dst.matches} == {
        ("sgr-0816d1addeb16fa85", Via.SG),
        ("sgr-084c2c9e25dd73586", Via.CIDR),
    }
    assert any("inside 10.20.0.0/16" in m.why for m in dst.matches)
    # the plan removes the CIDR rule; the SG reference keeps the flow
    assert dst.plan is not None and dst.plan.changed == ("sgr-084c2c9e25dd73586",)
    assert dst.plan.kept_by == ("sgr-0816d1addeb16fa85",)
    # app-nacl ingress: rule 90 (batch subnet, 8080) does not match, rule 100 allows
    request = dst.nacl[0]
    assert request.allowed and [s.rule_number for s in request.steps if s.matched] == [100]
    assert ex.traffic and {t.eni_id for t in ex.traffic} == {ALB_ENI, APP_1_ENI}
    assert all(t.accepted for t in ex.traffic)


def test_reply_denied_by_the_app_nacl(sample_day) -> None:
    """The corpus's ping case: the bastion's echo request is allowed, the
    reply leaving app-1 is not."""
    ex = explain(sample_day.data, FlowQuery(BASTION, APP_1, None, ICMP), [DAY])
    dst = next(s for s in ex.sides if s.role == "destination")
    assert dst.sg_allowed
    request, reply = dst.nacl
    assert request.allowed
    assert (reply.packet, str(reply.direction), reply.allowed) == ("reply", "egress", False)
    assert [s.rule_number for s in reply.steps if s.matched] == [80] and "denies" in reply.reason
    assert ex.allowed is False


def test_flow_the_plan_would_cut(sample_day) -> None:
    """SSH from an unobserved internet address: allowed by 0.0.0.0/0 now, the
    plan narrows it to two /32s."""
    ex = explain(sample_day.data, FlowQuery("192.0.2.99", BASTION, 22, TCP), [DAY])
    assert [s.role for s in ex.sides] == ["destination"]  # the source is outside the inventory
    assert any("192.0.2.99" in n for n in ex.notes)
    (dst,) = ex.sides
    assert [m.rule_id for m in dst.matches] == ["sgr-093b55da14b72410e"]
    assert ex.allowed is True and ex.allowed_after_plan is False
    assert (
        dst.plan is not None
        and dst.plan.changed == ("sgr-093b55da14b72410e",)
        and not dst.plan.kept_by
    )
    assert ex.traffic == ()


def test_cli_json_and_text(sample_day, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["explain", "--data-dir", str(sample_day.data.root), "--date", DAY.isoformat(), "-q"]
    assert main([*base, "--src", APP_1, "--dst", RDS, "--port", "5432", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["allowed"] is True and out["flow"]["protocol_name"] == "tcp"
    assert (
        out["flow"]["src_port"] is not None
    )  # taken from the recorded conversation for the reply's NACL
    assert {s["role"] for s in out["sides"]} == {"source", "destination"}
    assert main([*base, "--src", BASTION, "--dst", APP_1, "--protocol", "icmp"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].endswith("NOT allowed") and "rule 80 denies it" in text


def test_cli_rejects_a_bad_address(sample_day, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "explain",
            "--data-dir",
            str(sample_day.data.root),
            "--date",
            DAY.isoformat(),
            "--src",
            "10.0.0.300",
            "--dst",
            APP_1,
            "--port",
            "80",
        ]
    )
    assert code == 2 and "--src '10.0.0.300' is not an IP address" in capsys.readouterr().err
