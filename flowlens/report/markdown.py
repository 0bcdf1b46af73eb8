"""``summary.md``: the headline numbers, findings and recommendations for a chat or a ticket."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from flowlens.recommend.render_md import rule_text
from flowlens.report import staged
from flowlens.report.data import ReportData
from flowlens.report.data import rows as tuples
from flowlens.report.rule_history import histories
from flowlens.report.sentences import replay_sentence, subset_sentence
from flowlens.report.staged_data import Blocking
from flowlens.textsafe import show_controls


def md(value: Any) -> str:
    """A table-safe Markdown cell: markup escaped (renderers pass raw HTML),
    pipes and newlines defused."""
    if value is None or value != value:  # None or NaN
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = html.escape(show_controls(str(value))).replace("|", "\\|").replace("\n", " ")
    return text.replace("`", "\\`").replace("*", "\\*").replace("_", "\\_").replace("[", "\\[")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md(c) for c in r) + " |" for r in rows]
    return out


def render(data: ReportData, head: Mapping[str, Any], charts: Mapping[str, str]) -> str:
    """The whole ``summary.md``."""
    w = data.window
    checked = head["flows_checked"]
    lines = [
        f"# flowlens report · {w.label()}",
        "",
        f"Window {w.start:%Y-%m-%d %H:%M} → {w.end:%Y-%m-%d %H:%M} UTC. Full report: "
        "`report.html`; numbers: `report.json`.",
        "",
        f"- **Flow records analysed:** {head['flow_records']:,} ({head['accepted_records']:,} "
        f"accepted, {head['rejected_records']:,} rejected)",
        f"- **Rules:** {head['rules']:,} — {head['rules_used']:,} used, {head['rules_unused']:,} "
        f"unused, {head['rules_no_coverage']:,} without coverage, {head['rules_unobservable']:,} "
        f"unobservable, {head['rules_no_members']:,} without members",
        f"- **Findings:** {head['findings']:,} · **Recommendations:** {head['recommendations']:,}",
        "- **Replay proof:** " + ("no plan given" if checked is None else head["replay_claim"]),
        *(
            [f"- **Connectivity after the plan:** {md(data.delta().summary())}"]
            if data.recommendations
            else []
        ),
        "",
    ]
    if data.gap_sentence:
        lines[3:3] = [
            f"**Days without analysis:** {md(data.gap_sentence)}; figures and risks rest "
            "on the analysed days only.",
            "",
        ]
    lines += _exposure(data) + _findings(data) + _recommendations(data)
    lines += _delta(data) + _staged(data) + _dismissed(data)
    lines += _rules(data)
    lines += ["## Charts", ""] + [f"- `{name}`" for name in charts.values()] + [""]
    return "\n".join(lines)


def _exposure(data: ReportData) -> list[str]:
    b, a = data.exposure.before, data.exposure.after
    rows = [
        ("ingress IPv4", b.ingress_ipv4, a.ingress_ipv4),
        ("egress IPv4", b.egress_ipv4, a.egress_ipv4),
        ("ingress IPv6", f"{b.ingress_ipv6:.3e}", f"{a.ingress_ipv6:.3e}"),
        ("egress IPv6", f"{b.egress_ipv6:.3e}", f"{a.egress_ipv6:.3e}"),
    ]
    return [
        "## Exposure (addresses × ports allowed)",
        "",
        *_table(["", "before", "after plan"], rows),
        "",
    ]


def _findings(data: ReportData) -> list[str]:
    if data.findings.empty:
        return ["## Findings", "", "None for this window.", ""]
    rows = [(f.severity, f.kind, f.resource_id, f.title) for f in tuples(data.findings)]
    return ["## Findings", "", *_table(["severity", "kind", "resource", "title"], rows), ""]


def _recommendations(data: ReportData) -> list[str]:
    if not data.recommendations:
        return ["## Recommendations", "", "None.", ""]
    rows = [
        (
            r.action.value,
            r.rule_id,
            r.group_id,
            rule_text(r.current) if r.current is not None else "not recorded",
            "; ".join(rule_text(p) for p in r.proposed) or "(remove)",
            "no: may widen" if r.may_widen else "yes",
            r.risk.value,
            r.risk_reason,
        )
        for r in data.recommendations
    ]
    table = _table(
        ["action", "rule", "group", "current", "proposed", "subset of current?", "risk", "why"],
        rows,
    )
    return [
        "## Recommendations",
        "",
        f"{subset_sentence(data.recommendations)} {replay_sentence(data.verification)}",
        "",
        *table,
        "",
    ]


def _delta(data: ReportData) -> list[str]:
    """Per SG and direction, each path the plan changes, before → after, with its flows."""
    paths = data.delta().paths
    if not paths:
        return []
    rows = [
        (
            p.group_id,
            str(p.direction),
            p.change.value,
            p.rule_id,
            rule_text(p.before) if p.before is not None else "not recorded",
            "; ".join(rule_text(r) for r in p.after) or "nothing",
            p.flows,
            p.peers,
        )
        for p in paths
    ]
    headers = ["group", "direction", "change", "rule", "before", "after", "flows", "peers"]
    return [
        "## Connectivity delta",
        "",
        f"{md(data.delta().summary())}.",
        "",
        *_table(headers, rows),
        "",
    ]


def _staged(data: ReportData) -> list[str]:
    """Plans verified on later days ('flowlens verify'): their status and what blocks them."""
    plans = data.staged.plans
    if not plans:
        return []
    rows = [
        (
            p.plan_path,
            p.status,
            str(p.first_day) if p.first_day == p.last_day else f"{p.first_day}..{p.last_day}",
            p.days_verified,
            staged.clean_days_text(p),
            p.flows_checked,
            p.flows_cut,
            staged.unattributed_text(p),
            "; ".join(_blocker_text(b) for b in p.blocking) or "–",
        )
        for p in plans
    ]
    return ["## Staged plans", "", *_table(staged.PLAN_COLUMNS, rows), ""]


def _blocker_text(b: Blocking) -> str:
    explain = (
        f"; explain: flowlens explain --conversation-id {b.conversation_id}"
        if b.conversation_id
        else ""
    )
    return f"{b.rule_id} would cut, e.g. {staged.example_text(b)}{explain}"


def _dismissed(data: ReportData) -> list[str]:
    """Rules a reviewer dismissed ('flowlens dismiss'), apart from the rest: the plan leaves the
    active ones alone; expired and lapsed ones are judged afresh."""
    rows_in = data.staged.dismissed
    rows: list[tuple[str, ...]] = [
        (
            r.current_rule_id or r.dismissal.rule_id,
            r.dismissal.group_id,
            rule_text(r.dismissal.rule),
            r.state.value,
            staged.decision_text(r),
        )
        for r in rows_in
    ]
    rows += [
        (rule_id, group_id, "in the plan file", "active", reason)
        for rule_id, group_id, reason in staged.plan_only_kept(data.plan, rows_in)
    ]
    if not rows:
        return []
    return [
        "## Dismissed by a reviewer",
        "",
        *_table(["rule", "group", "allows", "state", "decision"], rows),
        "",
    ]


def _rules(data: ReportData) -> list[str]:
    """Every rule of the window with its status and its history: class, days used, last use."""
    if data.rules.empty:
        return []
    hist = histories(data)
    rows = []
    for r in tuples(data.rules):
        h = hist.get(str(r.rule_id))
        rows.append(
            (
                r.rule_id,
                r.group_id,
                r.direction,
                r.status,
                r.flows,
                h.cls if h else "–",
                f"{h.days_used} of {h.analysed_days}" if h else "–",
                str(h.last_used) if h and h.last_used else "–",
            )
        )
    headers = ["rule", "group", "dir", "status", "flows", "history", "days used", "last used"]
    return [
        "## Rules",
        "",
        "History: over the analysed days of the lookback up to the window's last day "
        "(never\\_used, stopped, periodic, active; docs/analysis.md).",
        "",
        *_table(headers, rows),
        "",
    ]
