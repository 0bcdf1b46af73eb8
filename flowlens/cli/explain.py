"""``flowlens explain``: which rules allow one flow on each side, the NACL
verdicts, the plan's effect."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from flowlens.cli import _common
from flowlens.errors import UsageError
from flowlens.explain.core import Conversation, Explanation, FlowQuery, NaclVerdict, Side
from flowlens.model.net import ProtocolError, protocol_name, protocol_number
from flowlens.recommend.rules import address


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "explain",
        help="why one flow is allowed: every matching rule, NACL verdicts, the plan's effect",
        description="For one flow (initiator --src, responder --dst on --port/--protocol) print, "
        "for each ENI of the inventory that holds --src (its egress rules) or --dst (its ingress "
        "rules) at the flow's time, every SG rule that allows it and why (CIDR, SG-reference "
        "member at that time, prefix-list entry), the subnet NACL's verdicts on the request and on "
        "the reply in rule-number order, whether the plan (--plan, else the window's newest "
        "recommendations) would still allow it, and the recorded traffic of that 5-tuple in the "
        "window. --time defaults to the flow's last recorded time, else the newest snapshot's. "
        "Instead of the flow, --conversation-id names a row of the conversations table (its "
        "conversation_id column, as 'flowlens sql' shows it): its initiator, responder, port and "
        "protocol are explained on its day (or in the window given), at its last packet unless "
        "--time says otherwise.",
        example="flowlens explain --date 2026-11-28 --src 10.0.1.25 --dst 10.0.11.40 "
        "--port 8080 --protocol tcp\n"
        'flowlens sql "SELECT conversation_id, eni_id, status FROM conversations '
        "WHERE status = 'no_rule'\"\n"
        "flowlens explain --conversation-id cv-359a6a6f698f0987 --json",
    )
    _common.add_window_options(p)
    p.add_argument(
        "--conversation-id",
        metavar="ID",
        help="a conversation_id of the conversations table (cv-...): explain that "
        "conversation's flow instead of --src/--dst/--port/--protocol",
    )
    p.add_argument("--src", metavar="ADDR", help="the initiator's address")
    p.add_argument("--dst", metavar="ADDR", help="the responder's address")
    p.add_argument(
        "--port",
        type=int,
        metavar="N",
        help="the responder's (service) port; omit for protocols without ports",
    )
    p.add_argument(
        "--protocol",
        default="tcp",
        metavar="P",
        help="tcp, udp, icmp, icmpv6, or an IANA number (default: tcp)",
    )
    p.add_argument(
        "--src-port",
        type=int,
        metavar="N",
        help="the initiator's port, for the reply's NACL verdict "
        "(default: the latest recorded conversation's)",
    )
    p.add_argument("--eni", metavar="ENI", help="only this ENI's side")
    p.add_argument("--time", metavar="ISO", help="the flow's time (ISO 8601, UTC when no offset)")
    p.add_argument("--plan", metavar="FILE", help="plan JSON to judge the flow against")
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    p.set_defaults(func=run)


def _query(args: argparse.Namespace) -> FlowQuery:
    if not (args.src and args.dst):
        raise UsageError(
            "explain needs a flow (--src and --dst, with --port/--protocol) or --conversation-id"
        )
    for flag, value in (("--src", args.src), ("--dst", args.dst)):
        try:
            address(value)
        except ValueError:
            raise UsageError(f"{flag} {value!r} is not an IP address") from None
    try:
        proto = protocol_number(args.protocol)
    except ProtocolError as exc:
        raise UsageError(f"--protocol {args.protocol!r}: {exc}") from None
    return FlowQuery(args.src, args.dst, args.port, proto, args.src_port, args.eni)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--time {value!r} is not an ISO 8601 time, e.g. 2026-11-28T14:05:00Z"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from flowlens.explain import explain

    if args.conversation_id:
        ex = _explain_conversation(args)
    else:
        q = _query(args)
        days = _common.window_days(args)
        ex = explain(_common.data_dir(args), q, days, at=_time(args.time), plan=args.plan)
    q = ex.query
    if q.src_port is None and ex.conversation is None:
        recorded = next(
            (t.initiator_port for t in ex.traffic if t.initiator_port is not None), None
        )
        if recorded is not None:  # judge the reply by the port the initiator really used
            ex = explain(
                _common.data_dir(args),
                replace(q, src_port=recorded),
                _common.window_days(args),
                at=ex.at,
                plan=args.plan,
            )
    if args.json:
        _common.print_json(ex.to_dict())
    else:
        print(render(ex))
    return 0


def _explain_conversation(args: argparse.Namespace) -> Explanation:
    from flowlens.explain import explain_conversation

    given = (
        ("--src", args.src),
        ("--dst", args.dst),
        ("--port", args.port),
        ("--src-port", args.src_port),
    )
    flow_flags = [flag for flag, value in given if value is not None]
    if flow_flags:
        raise UsageError(
            f"--conversation-id names the flow; drop {', '.join(flow_flags)} "
            "(or explain a flow by --src/--dst without --conversation-id)"
        )
    days = _common.window_days(args) if (args.date or args.start or args.end) else None
    return explain_conversation(
        _common.data_dir(args),
        args.conversation_id,
        days,
        at=_time(args.time),
        plan=args.plan,
        eni_id=args.eni,
    )


def _verdict(value: bool | None) -> str:
    return {True: "allowed", False: "NOT allowed", None: "unknown (no side is in the inventory)"}[
        value
    ]


def _nacl(v: NaclVerdict) -> list[str]:
    head = f"    NACL {v.nacl_id or '-'} {v.direction.value} ({v.packet}, remote {v.remote}" + (
        f", port {v.port})" if v.port is not None else ", port unknown)"
    )
    out = [f"{head}: {'allow' if v.allowed else 'DENY'} — {v.reason}"]
    for s in v.steps:
        ports = f" ports {s.ports[0]}-{s.ports[1]}" if s.ports else ""
        mark = "→" if s.matched else " "
        note = f"  ({s.note})" if s.note else ""
        out.append(
            f"      {mark} {s.rule_number:>5} {s.action:<5} "
            f"{protocol_name(s.protocol)} {s.cidr}{ports}{note}"
        )
    return out


def _side(s: Side) -> list[str]:
    out = [
        f"{s.role} {s.eni_id} ({s.direction.value}; groups {', '.join(s.groups) or 'none'}): "
        f"{'allowed' if s.sg_allowed else 'NOT allowed'} by its security groups"
    ]
    for m in s.matches:
        r = m.rule
        ports = f" {r.from_port}-{r.to_port}" if r.port_range() else ""
        out.append(
            f"    {m.rule_id} ({m.group_id}) {protocol_name(r.ip_protocol)}{ports} "
            f"{r.peer_type} {r.peer}: {m.why}"
        )
    out.extend(line for v in s.nacl for line in _nacl(v))
    if s.plan is not None:
        out.append(
            "    after the plan: "
            f"{'still allowed' if s.plan.allowed_after else 'CUT'} — {s.plan.reason}"
            + (f" ({', '.join(s.plan.kept_by)})" if s.plan.kept_by else "")
        )
    return out


def _conversation_line(c: Conversation) -> str:
    src_port = f":{c.initiator_port}" if c.initiator_port is not None else ""
    return (
        f"conversation {c.conversation_id}: {c.day} on {c.eni_id} ({c.rule_direction or '-'}), "
        f"{c.initiator_addr}{src_port} → {c.responder_addr}, status {c.status or '-'}"
    )


def render(ex: Explanation) -> str:
    """The explanation as text: the verdict first, then each side, then the recorded traffic."""
    q = ex.query
    port = f":{q.port}" if q.port is not None else ""
    lines = [
        f"{q.src} → {q.dst}{port} {protocol_name(q.protocol)} at {ex.at:%Y-%m-%d %H:%M:%S} "
        f"UTC: {_verdict(ex.allowed)}"
    ]
    if ex.conversation is not None:
        lines.append(_conversation_line(ex.conversation))
    if ex.plan_source:
        lines.append(f"after the plan ({ex.plan_source}): {_verdict(ex.allowed_after_plan)}")
    else:
        lines.append("no plan: run 'flowlens recommend' or pass --plan")
    for s in ex.sides:
        lines.extend(_side(s))
    lines.extend(f"note: {n}" for n in ex.notes)
    if ex.traffic:
        lines.append("recorded traffic of this 5-tuple in the window:")
        for t in ex.traffic:
            lines.append(
                f"    {t.day} {t.eni_id}: {t.flows:,} flows, {t.reply_flows:,} replies, "
                f"{t.rejected_flows:,} rejected; {'accepted' if t.accepted else 'rejected'}, "
                f"status {t.status}; last {t.last_seen:%H:%M:%S}"
                if t.last_seen
                else f"    {t.day} {t.eni_id}: {t.flows:,} flows, status {t.status}"
            )
    else:
        lines.append("no recorded traffic of this 5-tuple in the window")
    return "\n".join(lines)
