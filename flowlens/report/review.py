"""The report's review sections: the plan first, evidence per rule, one section per security group.

Markup only, from :class:`~flowlens.report.data.ReportData`; every AWS-sourced value goes through
:func:`flowlens.report.html.esc` (text and attributes alike). Anchors: ``#sg-<group id>`` for a
group's section, ``#ev-<rule id>`` for a rule's evidence (its busiest peers × ports).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from flowlens.model.net import Rule
from flowlens.model.plan import Action, Recommendation, Verification
from flowlens.report import words
from flowlens.report.charts import port_label
from flowlens.report.data import ReportData, rows
from flowlens.report.html import (
    Raw,
    anchor,
    badge,
    esc,
    json_cell,
    no_data,
    rule_cell,
    rule_line,
    rule_text,
    sg_cell,
    table,
)

#: A finding kind with more rows than this is folded into one expandable group (scanners, mostly).
NOISY_AT = 5


def id_cell(value: Any) -> Raw:
    """An AWS id kept on one line (ids broken at their hyphen read as two things)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return Raw('<span class="muted">–</span>')
    return Raw(f'<span class="id">{esc(value)}</span>')


def _when(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def days_used(d: ReportData) -> dict[str, int]:
    """Rule id → analysed days of the window on which it allowed flows."""
    if d.rule_days.empty:
        return {}
    used = d.rule_days[d.rule_days["flows"] > 0]
    return {str(k): int(v) for k, v in used.groupby("rule_id")["date"].nunique().items()}


def analysed_days(d: ReportData) -> int:
    if d.analysed is not None:
        return len(d.analysed.analysed)
    return int(d.rule_days["date"].nunique()) if not d.rule_days.empty else 0


def _reach(rule: Rule | None, resolve: Mapping[str, Sequence[str]]) -> str:
    return words.reach(rule, resolve) if rule is not None else ""


def _current(r: Recommendation, resolve: Mapping[str, Sequence[str]]) -> Raw:
    if r.current is None:
        return Raw('<span class="muted">not recorded</span>')
    return Raw(
        rule_line(r.current.to_dict())
        + f'<div class="reach">{esc(_reach(r.current, resolve))}</div>'
    )


def _proposed(r: Recommendation, resolve: Mapping[str, Sequence[str]]) -> Raw:
    """The proposed rules, one per line with how many addresses each admits; a description shared by
    all of them (flowlens's "from sgr-…") is said once, not on every line."""
    marker = '<span class="badge widen">may widen</span> ' if r.may_widen else ""
    if not r.proposed:
        return Raw(marker + '<span class="muted">(remove)</span><div class="reach">nothing</div>')
    descs = {p.description for p in r.proposed}
    shared = len(descs) == 1
    lines = []
    for p in r.proposed:
        d = p.to_dict()
        if shared:
            d.pop("description", None)
        n = words.addresses(p, resolve)
        size = (
            ' <span class="reach">· '
            f"{esc(words.plural(n, 'address') if n is not None else 'members unknown')}</span>"
        )
        lines.append(f"<div>{rule_line(d)}{size}</div>")
    once = (
        f'<div class="muted">{esc(next(iter(descs)))}</div>' if shared and next(iter(descs)) else ""
    )
    return Raw(marker + "".join(lines) + once)


def _evidence_summary(r: Recommendation, used: Mapping[str, int], days: int, has_ev: bool) -> Raw:
    e = r.evidence
    bits = [
        f"{e.flows:,} flows",
        f"{e.peers:,} peers",
        f"{e.ports:,} ports",
        f"used on {used.get(r.rule_id, 0)} of {days} days" if days else "",
    ]
    seen = (
        f"<br>first {esc(_when(e.first_seen))} · last {esc(_when(e.last_seen))}"
        if e.first_seen
        else ""
    )
    link = (
        f'<br><a class="evlink" href="#{anchor("ev", r.rule_id)}" data-rule="{esc(r.rule_id)}">'
        f"top peers and ports →</a>"
        if has_ev
        else '<br><span class="muted">no matched flows</span>'
    )
    return Raw(esc(", ".join(b for b in bits if b)) + seen + link)


def _exposure_words(d: ReportData) -> list[str]:
    b, a = d.exposure.before, d.exposure.after
    out = []
    for label, before, after in (
        ("ingress IPv4", b.ingress_ipv4, a.ingress_ipv4),
        ("ingress IPv6", b.ingress_ipv6, a.ingress_ipv6),
        ("egress IPv4", b.egress_ipv4, a.egress_ipv4),
        ("egress IPv6", b.egress_ipv6, a.egress_ipv6),
    ):
        if before == after and before:
            out.append(f"{label}: {words.count(before)} address × port pairs (unchanged)")
        elif before or after:
            out.append(
                f"{label}: {words.count(before)} → {words.count(after)} address × port pairs"
            )
    return out


def _replay_items(v: Verification | None) -> list[tuple[str, str]]:
    if v is None:
        return [("flows checked", "–"), ("flows cut", "–")]
    items = [("flows checked", f"{v.flows_checked:,}"), ("flows cut", f"{v.flows_cut:,}")]
    for attr, label in (
        ("flows_unattributed", "flows unattributed"),
        ("flows_unattributed_protected", "unattributed, protected"),
    ):
        value = getattr(v, attr, None)
        if value is not None:
            items.append((label, f"{int(value):,}"))
    return items


def plan_summary(d: ReportData) -> str:
    """What the plan changes, in a few numbers and sentences: the first thing a reviewer reads."""
    recs = d.recommendations
    if not recs:
        return no_data(
            "No recommendations: nothing to tighten, or 'flowlens recommend' has not run."
        )
    acts = Counter(r.action for r in recs)
    risks = Counter(str(r.risk) for r in recs)
    widen = sum(r.may_widen for r in recs)
    groups = len({r.group_id for r in recs})
    tiles = [
        ("rules removed", f"{acts.get(Action.REMOVE, 0):,}"),
        ("rules narrowed", f"{acts.get(Action.NARROW, 0):,}"),
        ("rules replaced", f"{acts.get(Action.REPLACE, 0):,}"),
        ("may widen", f"{widen:,}"),
        *_replay_items(d.verification),
    ]
    tile_html = "".join(
        f'<div class="tile"><div class="v">{esc(v)}</div><div class="l">{esc(k)}</div></div>'
        for k, v in tiles
    )
    risk = ", ".join(f"{risks[k]} {k}" for k in ("high", "medium", "low") if risks.get(k))
    lines = [f"{len(recs)} changes to {groups} security groups; risk: {risk}."]
    lines += [f"Exposure {x}." for x in _exposure_words(d)]
    items = "".join(f"<li>{esc(x)}</li>" for x in lines)
    return (
        f'<div class="tiles" id="plan-tiles">{tile_html}</div><ul class="plan-lines">{items}</ul>'
    )


def recommendations_table(
    d: ReportData,
    names: Mapping[str, str],
    recs: Sequence[Recommendation] | None = None,
    tid: str = "recs-table",
) -> str:
    recs = d.recommendations if recs is None else recs
    resolve = d.exposure_resolve
    ev_rules = evidence_rules(d)
    used, days = days_used(d), analysed_days(d)
    body = [
        (
            (
                badge(r.action, "act"),
                rule_cell(r.rule_id, r.rule_id in ev_rules),
                sg_cell(r.group_id, names),
                _current(r, resolve),
                Raw("→"),
                _proposed(r, resolve),
                Raw(
                    badge(r.risk, "risk").text
                    + (f'<div class="muted">{esc(r.risk_reason)}</div>' if r.risk_reason else "")
                ),
                _evidence_summary(r, used, days, r.rule_id in ev_rules),
            ),
            {"data-rule": r.rule_id, "data-group": r.group_id},
        )
        for r in recs
    ]
    return table(
        ["action", "rule", "group", "current", "", "proposed", "risk and why", "evidence"],
        [b for b, _ in body],
        tid=tid,
        row_attrs=[a for _, a in body],
        unsortable=(4,),
        wide={5: 16, 6: 10},
    )


def evidence_rules(d: ReportData) -> set[str]:
    return {str(x) for x in d.evidence["rule_id"].unique()} if not d.evidence.empty else set()


def evidence_section(d: ReportData, names: Mapping[str, str]) -> str:
    """Per rule with matched flows: its busiest peers × ports, each block
    an ``#ev-<rule>`` target."""
    if d.evidence.empty:
        return no_data("No matched flows in rule_matches for this window: run 'flowlens analyze'.")
    rules = {str(r.rule_id): r for r in rows(d.rules)}
    recs = {r.rule_id: r for r in d.recommendations}
    used, days = days_used(d), analysed_days(d)
    blocks = []
    for rule_id, part in d.evidence.groupby("rule_id", sort=False):
        rid = str(rule_id)
        info = rules.get(rid)
        gid = part["group_id"].iloc[0]
        allows = (
            f" · {esc(info.description)}"
            if info is not None and isinstance(info.description, str) and info.description
            else ""
        )
        status = badge(info.status, "st").text if info is not None else ""
        rec = recs.get(rid)
        rec_note = f" · proposed: {badge(rec.action, 'act').text}" if rec is not None else ""
        body = [
            (
                e.rank,
                Raw(f"<code>{esc(e.peer_addr)}</code>"),
                port_label(e.protocol, e.service_port),
                e.enis,
                e.flows,
                e.connections,
                e.bytes,
                _when(e.first_seen),
                _when(e.last_seen),
                e.days,
            )
            for e in rows(part)
        ]
        head = (
            f'<summary><span class="id">{esc(rid)}</span> in {sg_cell(gid, names).text} '
            f"{status}{rec_note}"
            f'<span class="facts">top {len(body)} peer × port pairs by flows · '
            f"used on {used.get(rid, 0)} of {days} analysed days{allows}</span></summary>"
        )
        blocks.append(
            f'<details class="ev" id="{anchor("ev", rid)}" data-rule="{esc(rid)}">{head}'
            + table(
                [
                    "#",
                    "peer",
                    "port",
                    "ENIs",
                    "flows",
                    "connections",
                    "bytes",
                    "first seen",
                    "last seen",
                    "days",
                ],
                body,
                numeric=(0, 3, 4, 5, 6, 9),
                filterable=False,
            )
            + "</details>"
        )
    return "".join(blocks)


def findings_section(
    d: ReportData,
    names: Mapping[str, str],
    frame: pd.DataFrame | None = None,
    tid: str = "findings-table",
) -> str:
    """Findings, most severe first; a kind with more than :data:`NOISY_AT` rows
    folds into a counted group."""
    df = d.findings if frame is None else frame
    if df.empty:
        return no_data("No posture findings for this window (or 'flowlens analyze' has not run).")
    sizes = df["kind"].value_counts()
    noisy = [str(k) for k, n in sizes.items() if n > NOISY_AT]

    def body(part: pd.DataFrame) -> list[tuple[Any, ...]]:
        return [
            (
                badge(f.severity, "sev"),
                f.kind,
                id_cell(f.resource_id),
                sg_cell(f.group_id, names),
                f.title,
                f.detail,
                json_cell(f.evidence),
            )
            for f in rows(part)
        ]

    headers = ["severity", "kind", "resource", "group", "title", "detail", "evidence"]
    quiet = df[~df["kind"].isin(noisy)]
    out = [table(headers, body(quiet), tid=tid) if not quiet.empty else ""]
    for kind in noisy:
        part = df[df["kind"] == kind]
        sev = ", ".join(sorted({str(s) for s in part["severity"]}))
        out.append(
            f'<details class="noisy" data-kind="{esc(kind)}">'
            f"<summary><strong>{esc(kind)}</strong> · "
            f"{esc(sev)} · {len(part):,} findings (grouped: expand to list)</summary>"
            + table(headers, body(part), tid=f"{tid}-{kind}")
            + "</details>"
        )
    return "".join(out)


def _sparkline(days: pd.DataFrame) -> str:
    """Flows per analysed day as small bars (log height: one busy day must not flatten the rest)."""
    if days.empty:
        return '<span class="muted">–</span>'
    values = [int(v) for v in days["flows"]]
    top = max(math.log10(v + 1) for v in values) or 1.0
    w = 6
    bars = "".join(
        f'<rect x="{i * (w + 1)}" y="{20 - max(1.0, 20 * math.log10(v + 1) / top):.1f}" '
        f'width="{w}" '
        f'height="{max(1.0, 20 * math.log10(v + 1) / top):.1f}" class="{"on" if v else "off"}">'
        f"<title>{esc(str(day)[:10])}: {v:,} flows</title></rect>"
        for i, (day, v) in enumerate(zip(days["date"], values, strict=True))
    )
    width = len(values) * (w + 1)
    return (
        f'<svg class="spark" width="{width}" height="20" viewBox="0 0 {width} '
        f'20" role="img">{bars}</svg>'
    )


def _rule_rows(d: ReportData, group_rules: pd.DataFrame, ev: set[str]) -> list[tuple[Any, ...]]:
    per_day = (
        {str(k): v for k, v in d.rule_days.groupby("rule_id")} if not d.rule_days.empty else {}
    )
    used, days = days_used(d), analysed_days(d)
    return [
        (
            rule_cell(r.rule_id, str(r.rule_id) in ev),
            r.direction,
            rule_text(r),
            r.description,
            badge(r.status, "st"),
            r.flows,
            r.sole_flows,
            r.peers,
            Raw(
                _sparkline(per_day.get(str(r.rule_id), pd.DataFrame()))
                + f' <span class="muted">{used.get(str(r.rule_id), 0)}/{days} days</span>'
            ),
            r.status_reason,
        )
        for r in rows(group_rules)
    ]


def groups_section(d: ReportData, names: Mapping[str, str]) -> str:
    """One expandable section per security group: members, rules, usage,
    recommendations, findings."""
    if d.groups.empty:
        return no_data("No security groups in the inventory snapshot: run 'flowlens inventory'.")
    ev = evidence_rules(d)
    recs_by: dict[str, list[Recommendation]] = {}
    for r in d.recommendations:
        recs_by.setdefault(r.group_id, []).append(r)
    out = []
    for g in rows(d.groups):
        gid = str(g.group_id)
        members = (
            d.members[d.members["group_id"] == g.group_id] if not d.members.empty else d.members
        )
        grules = d.rules[d.rules["group_id"] == g.group_id] if not d.rules.empty else d.rules
        gfind = (
            d.findings[d.findings["group_id"] == g.group_id] if not d.findings.empty else d.findings
        )
        grecs = recs_by.get(gid, [])
        counts = Counter(str(s) for s in grules["status"]) if not grules.empty else Counter()
        status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        summary = (
            f'<summary><span class="id">{esc(gid)}</span> '
            f'<span class="name">{esc(g.group_name)}</span>'
            f'<span class="facts">{words.plural(len(members), "member")} · '
            f"{words.plural(int(g.rules or 0), 'rule')}"
            f"{' (' + esc(status) + ')' if status else ''} · "
            f"{words.plural(len(grecs), 'recommendation')} · "
            f"{words.plural(len(gfind), 'finding')}</span></summary>"
        )
        facts = (
            f"<p><strong>Description:</strong> {esc(g.description)} · <strong>VPC:</strong> "
            f"{esc(g.vpc_id)} · <strong>default:</strong> {esc(g.is_default)} · "
            f"<strong>tags:</strong> {esc(g.tags)}</p>"
        )
        mem = (
            table(
                ["ENI", "name", "type", "instance", "private IP", "subnet", "description"],
                [
                    (
                        id_cell(m.eni_id),
                        m.name,
                        m.interface_type,
                        id_cell(m.instance_id),
                        m.private_ip,
                        id_cell(m.subnet_id),
                        m.description,
                    )
                    for m in rows(members)
                ],
                filterable=False,
            )
            if not members.empty
            else no_data("No member ENIs in the snapshot: rules of this group cannot be observed.")
        )
        rules_html = (
            table(
                [
                    "rule",
                    "dir",
                    "allows",
                    "description",
                    "status",
                    "flows",
                    "sole flows",
                    "peers",
                    "flows per day",
                    "why",
                ],
                _rule_rows(d, grules, ev),
                numeric=(5, 6, 7),
            )
            if not grules.empty
            else no_data("No rule usage for this group in the window.")
        )
        recs_html = (
            recommendations_table(d, names, grecs, tid=f"recs-{gid}")
            if grecs
            else '<p class="muted">No recommendations.</p>'
        )
        find_html = (
            findings_section(d, names, gfind, tid=f"findings-{gid}")
            if not gfind.empty
            else '<p class="muted">No findings.</p>'
        )
        out.append(
            f'<details class="sg" id="{anchor("sg", gid)}" data-group="{esc(gid)}">{summary}'
            '<div class="sgbody">'
            f"{facts}<h3>Members</h3>{mem}<h3>Rules</h3>{rules_html}<h3>Recommendations</h3>{recs_html}"
            f"<h3>Findings</h3>{find_html}</div></details>"
        )
    return "".join(out)
