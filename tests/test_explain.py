"""flowlens explain on the sample day: expectations from sample_logs/README.md (the scenario's
rules, NACLs and ENIs), written before running."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flowlens.analyze import analyze
from flowlens.catalog import register_views
from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.errors import InputError
from flowlens.explain import FlowQuery, explain, explain_conversation
from flowlens.explain.core import Via
from flowlens.model.conversation import conversation_id
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


# --- --conversation-id: a row of the conversations table, named by its stable id -------------

OFFICE_2 = "203.0.113.25"  # the second office address SSHing to the bastion (sample_logs/README.md)


def _conversations(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cur = con.execute(
        "SELECT conversation_id, date, eni_id, protocol, initiator_addr, initiator_port, "
        "responder_addr, responder_port, last_seen FROM conversations"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _bastion_ssh(sample_day) -> dict[str, Any]:
    con = duckdb.connect(str(sample_day.data.catalog), read_only=True)
    try:
        rows = _conversations(con)
    finally:
        con.close()
    ssh = [
        r
        for r in rows
        if (r["eni_id"], r["initiator_addr"], r["responder_port"]) == (BASTION_ENI, OFFICE_2, 22)
    ]
    return max(ssh, key=lambda r: r["last_seen"])


def test_conversation_ids_are_the_key_hash_unique_and_survive_a_reanalysis(
    sample_day, tmp_path: Path
) -> None:
    con = duckdb.connect(str(sample_day.data.catalog), read_only=True)
    try:
        before = _conversations(con)
    finally:
        con.close()
    assert before and len({r["conversation_id"] for r in before}) == len(before)
    for r in before:  # the view's SQL and the Python function agree, either side first
        initiator = (r["initiator_addr"], r["initiator_port"])
        responder = (r["responder_addr"], r["responder_port"])
        args = (r["date"], r["eni_id"], r["protocol"])
        assert r["conversation_id"] == conversation_id(*args, initiator, responder)
        assert r["conversation_id"] == conversation_id(*args, responder, initiator)
    copy = DataDir(tmp_path / "data")
    shutil.copytree(sample_day.data.root, copy.root)
    analyze(copy, [DAY])  # a re-run rewrites the results: every row keeps its id
    con = duckdb.connect()
    try:
        register_views(con, copy)
        after = _conversations(con)
    finally:
        con.close()
    key = ("date", "eni_id", "protocol", "initiator_addr", "responder_addr", "responder_port")
    assert {(r["conversation_id"], *(r[k] for k in key)) for r in after} == {
        (r["conversation_id"], *(r[k] for k in key)) for r in before
    }


def test_explain_a_conversation_id_is_explaining_its_flow(
    sample_day, capsys: pytest.CaptureFixture[str]
) -> None:
    row = _bastion_ssh(sample_day)
    cid = row["conversation_id"]
    ex = explain_conversation(sample_day.data, cid)
    flow = explain(
        sample_day.data,
        FlowQuery(OFFICE_2, BASTION, 22, TCP, row["initiator_port"]),
        [DAY],
        at=row["last_seen"],
    )
    assert ex.conversation is not None and ex.conversation.conversation_id == cid
    assert (ex.conversation.day, ex.conversation.eni_id) == ("2026-11-28", BASTION_ENI)
    assert ex.at == row["last_seen"]
    assert replace(ex, conversation=None) == flow
    # the bastion's SSH rule allows it now; the plan keeps the office /32
    assert ex.allowed is True and ex.allowed_after_plan is True
    (dst,) = ex.sides
    assert [m.rule_id for m in dst.matches] == ["sgr-093b55da14b72410e"]
    base = ["explain", "--data-dir", str(sample_day.data.root), "-q", "--conversation-id", cid]
    assert main([*base, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["conversation"]["conversation_id"] == cid
    assert (out["flow"]["src"], out["flow"]["dst"], out["flow"]["port"]) == (OFFICE_2, BASTION, 22)
    assert main(base) == 0
    text = capsys.readouterr().out
    assert f"conversation {cid}: 2026-11-28 on {BASTION_ENI}" in text.splitlines()[1]
    # ALB → app-1 on 8080, as app-1 sees it: both sides, or the row's own ENI with --eni
    con = duckdb.connect(str(sample_day.data.catalog), read_only=True)
    try:
        alb = next(
            r
            for r in _conversations(con)
            if (r["eni_id"], r["initiator_addr"], r["responder_port"]) == (APP_1_ENI, ALB_A, 8080)
        )
    finally:
        con.close()
    two = ["explain", "--data-dir", str(sample_day.data.root), "-q", "--json"]
    assert main([*two, "--conversation-id", alb["conversation_id"]]) == 0
    sides = json.loads(capsys.readouterr().out)["sides"]
    assert [s["eni_id"] for s in sides] == [ALB_ENI, APP_1_ENI]
    assert main([*two, "--conversation-id", alb["conversation_id"], "--eni", APP_1_ENI]) == 0
    assert [s["eni_id"] for s in json.loads(capsys.readouterr().out)["sides"]] == [APP_1_ENI]


def test_an_unknown_or_malformed_conversation_id_is_a_clear_error(
    sample_day, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["explain", "--data-dir", str(sample_day.data.root), "-q"]
    assert main([*base, "--conversation-id", "cv-0123456789abcdef"]) == 2
    err = capsys.readouterr().err
    assert "conversation cv-0123456789abcdef not found" in err and "any analysed day" in err
    assert main([*base, "--conversation-id", "sgr-0123456789abcdef"]) == 2
    assert "is not a conversation id" in capsys.readouterr().err
    cid = _bastion_ssh(sample_day)["conversation_id"]
    assert main([*base, "--conversation-id", cid, "--date", "2026-11-29"]) == 2
    assert f"conversation {cid} not found" in capsys.readouterr().err
    assert main([*base, "--conversation-id", cid, "--src", BASTION]) == 2
    assert "drop --src" in capsys.readouterr().err
    with pytest.raises(InputError, match="cv-0123456789abcdef"):
        explain_conversation(sample_day.data, "cv-0123456789abcdef")
