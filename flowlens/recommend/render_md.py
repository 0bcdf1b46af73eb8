"""The plan as Markdown for review. Pure: builds text."""

from __future__ import annotations

from datetime import UTC

from flowlens.model.net import ALL, Direction, Rule, protocol_name
from flowlens.model.plan import Plan, Recommendation
from flowlens.recommend.text import comment_text


def rule_text(rule: Rule | None) -> str:
    """A rule in one short line: ``tcp/22 from 198.51.100.7/32`` (``—`` for none)."""
    if rule is None:
        return "—"
    proto = "all traffic" if rule.ip_protocol == ALL else protocol_name(rule.ip_protocol)
    ports = ""
    if rule.from_port is not None and rule.from_port >= 0:
        ports = (
            f"/{rule.from_port}"
            if rule.from_port == rule.to_port
            else f"/{rule.from_port}-{rule.to_port}"
        )
    side = "from" if rule.direction is Direction.INGRESS else "to"
    return f"{proto}{ports} {side} {rule.peer}"


def _cell(text: str) -> str:
    return comment_text(text).replace("|", "\\|")


def _code(text: str) -> str:
    """An id as inline code on one line (ids come from AWS or --from-json input:
    no newline, no backtick)."""
    return "`" + comment_text(text).replace("`", "'") + "`"


def _row(rec: Recommendation) -> str:
    new = "; ".join(rule_text(r) for r in rec.proposed) or "—"
    ev = rec.evidence
    return (
        f"| {_code(rec.rule_id)} | {_code(rec.group_id)} | {rec.kind.value} | {rec.risk.value} | "
        f"{_cell(rule_text(rec.current))} | {_cell(new)} | {ev.flows} | {ev.peers} | {ev.ports} |"
    )


def _details(rec: Recommendation) -> list[str]:
    ev = rec.evidence
    lines = [
        f"### {_code(rec.rule_id)} in {_code(rec.group_id)}: {rec.action.value}",
        "",
        f"- current: {rule_text(rec.current)}",
        f"- risk **{rec.risk.value}**: {rec.risk_reason}",
        f"- evidence: {ev.flows} flows, {ev.connections} connections, {ev.peers} peers, "
        f"{ev.ports} ports, status `{ev.status}`, {ev.window_days:g} days; coverage: {ev.coverage}",
    ]
    if rec.may_widen:
        lines.append("- **may widen**: this replacement is not a subset of the current rule")
    if ev.public_by_observation:
        lines.append("- the peer is public by observation and is kept as it is")
    lines += [f"- {n}" for n in rec.notes]
    return [*lines, ""]


def delta_lines(plan: Plan) -> list[str]:
    """The connectivity delta as plain lines, per SG and direction: each path before → after."""
    out = []
    for (group, direction), paths in plan.delta().by_group().items():
        out.append(f"{group} {direction.value}:")
        for p in paths:
            after = "; ".join(rule_text(r) for r in p.after) or "nothing"
            out.append(
                f"  {p.change.value} {rule_text(p.before)} → {after} "
                f"({p.flows:,} flows, {p.peers:,} peers observed; {p.rule_id})"
            )
    return out


def window_sentence(plan: Plan) -> str:
    """What the reviewer must know about the evidence window: too few days
    analysed, days without analysis."""
    minimum = float(plan.settings.get("min_window_days") or 0)
    parts = []
    if plan.window_days < minimum:
        days = "day" if plan.window_days == 1 else "days"
        parts.append(
            f"Observed for {plan.window_days:g} {days}; {minimum:g} recommended before removing "
            f"(--min-window-days)."
        )
    if plan.missing_days:
        parts.append(f"{plan.gap_sentence()}; those days give no evidence.")
    if not parts:
        return ""
    return " ".join(
        [*parts, "So every risk below is raised one level (structural redundancies excepted)."]
    )


def basis_sentence(plan: Plan) -> str:
    """Which rules and days the plan rests on: the snapshot it refers to and the days analysed."""
    v = plan.verification
    snap = (
        f"Rules as in the snapshot of {v.snapshot_taken_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        if v.snapshot_taken_at
        else "Rules as in the inventory snapshot (capture time unknown)"
    )
    n = len(v.days_analysed)
    days = f"{n} day{'' if n == 1 else 's'} analysed" if n else "no analysed days recorded"
    return f"{snap}; {days}; 'apply' refuses the plan if they have changed since."


def render_md(plan: Plan) -> str:
    """A review document: summary table, per-rule evidence, dropped proposals, kept rules."""
    d = plan.to_dict()
    v = plan.verification
    out = [
        "# flowlens tightening plan",
        "",
        f"Window {d['window']['start']} .. {d['window']['end']} ({plan.window_days:g} "
        f"day{'' if plan.window_days == 1 else 's'}"
        f"{' analysed' if plan.analysed is not None else ''}). "
        f"Replay proof: {v.claim()} ({v.connections_checked:,} connections checked against the "
        f"proposed rules). {basis_sentence(plan)}",
        "",
        f"**Connectivity:** {plan.delta().summary()}.",
        "",
        *([window_sentence(plan), ""] if window_sentence(plan) else []),
        "| rule | group | kind | risk | current | proposed | flows | peers | ports |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    out += [_row(r) for r in plan.recommendations] or ["| — | | | | | | | | |"]
    if plan.recommendations:
        out += [
            "",
            "## Connectivity delta",
            "",
            "Per security group and direction, each path that changes "
            "(before → after) with the traffic the window observed on it.",
            "",
            # a path's line is indented under its group's: a nested bullet, not a sibling
            *(
                f"{'  ' if line.startswith(' ') else ''}- {_cell(comment_text(line.strip()))}"
                for line in delta_lines(plan)
            ),
        ]
    out += ["", "## Details", ""]
    for rec in plan.recommendations:
        out += _details(rec)
    if plan.dropped:
        out += ["## Dropped proposals", ""]
        out += [f"- `{x.rule_id}` ({x.kind}): {x.reason}" for x in plan.dropped] + [""]
    if plan.kept:
        out += ["## Rules kept as they are", ""]
        out += [f"- `{k.rule_id}` in `{k.group_id}` [{k.label}]: {k.reason}" for k in plan.kept] + [
            ""
        ]
    return "\n".join(out)
