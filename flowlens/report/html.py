"""The self-contained HTML page: one template, inline CSS, charts as data URIs, no JavaScript.

Every value is escaped with :func:`html.escape` on its way in (names, descriptions, tags and
rule descriptions come from AWS and may hold markup); only this module's own markup is raw.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd

from flowlens.report.charts import port_label
from flowlens.report.data import ReportData
from flowlens.report.data import rows as tuples
from flowlens.report.sentences import replay_sentence, subset_sentence


@dataclass(frozen=True)
class Raw:
    """Markup built by this module (already escaped)."""

    text: str


Cell = Any


def esc(value: Any) -> str:
    """Escape any value for HTML text or attribute context; numbers get thousands separators."""
    if isinstance(value, Raw):
        return value.text
    if value is None or (not isinstance(value, str | Mapping | list | tuple) and pd.isna(value)):
        return '<span class="muted">–</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, Mapping):
        return html.escape(", ".join(f"{k}={v}" for k, v in value.items()))
    if isinstance(value, list | tuple):
        return html.escape(", ".join(_tag_text(v) for v in value))
    return html.escape(str(value))


def _tag_text(item: Any) -> str:
    if isinstance(item, tuple | list) and len(item) == 2:
        return f"{item[0]}={item[1]}"
    if isinstance(item, Mapping) and "key" in item:
        return f"{item['key']}={item.get('value')}"
    return str(item)


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], numeric: Iterable[int] = ()) -> str:
    num = set(numeric)
    head = "".join(f'<th class="{"num" if i in num else ""}">{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if i in num else ""}">{esc(c)}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def no_data(what: str) -> str:
    return f'<div class="nodata"><strong>No data.</strong> {esc(what)}</div>'


def image(png: bytes | None, alt: str, empty: str) -> str:
    if not png:
        return no_data(empty)
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}"></figure>'


def howto(text: str) -> str:
    return f'<p class="howto"><strong>How to read this.</strong> {esc(text)}</p>'


def _json_cell(value: Any) -> Raw:
    if value in (None, "", {}, []):
        return Raw('<span class="muted">–</span>')
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return Raw(f"<code>{esc(value)}</code>")
    if isinstance(value, Mapping):
        return Raw("<br>".join(f"<code>{esc(k)}</code>: {esc(v)}" for k, v in value.items()))
    return Raw(f"<code>{esc(json.dumps(value))}</code>")


def _rule_line(p: Mapping[str, Any]) -> str:
    proto = port_label(p.get("ip_protocol"), p.get("from_port"))
    ports = p.get("from_port"), p.get("to_port")
    if ports[0] is not None and ports[1] not in (None, ports[0]):
        proto += f"-{ports[1]}"
    desc = f' <span class="muted">{esc(p.get("description"))}</span>' if p.get("description") else ""
    text = f"{p.get('direction', '')} {proto} {p.get('peer', '')}".strip()
    return f"<code>{esc(text)}</code>{desc}"


def _current_cell(current: Mapping[str, Any] | None) -> Raw:
    if not current:
        return Raw('<span class="muted">not recorded</span>')
    return Raw(_rule_line(current))


def _proposed_cell(items: Sequence[Mapping[str, Any]], may_widen: bool = False) -> Raw:
    marker = '<span class="badge widen">may widen</span> ' if may_widen else ""
    if not items:
        return Raw(marker + '<span class="muted">(remove)</span>')
    return Raw(marker + "<br>".join(_rule_line(p) for p in items))


def _badge(value: Any, kind: str) -> Raw:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    cls = "".join(ch for ch in text.lower() if ch.isalnum() or ch == "_")
    return Raw(f'<span class="badge {kind}-{cls}">{esc(text)}</span>')


def _rule_text(r: Any) -> str:
    if pd.isna(r.ip_protocol):
        return ""
    proto = port_label(r.ip_protocol, r.from_port)
    if pd.notna(r.from_port) and pd.notna(r.to_port) and r.to_port != r.from_port:
        proto += f"-{int(r.to_port)}"
    more = f" (+{int(r.peer_rows) - 1} peers)" if pd.notna(r.peer_rows) and r.peer_rows > 1 else ""
    return f"{proto} {r.peer if pd.notna(r.peer) else ''}{more}"


def section_findings(data: ReportData) -> str:
    if data.findings.empty:
        return no_data("No posture findings for this window (or 'flowlens analyze' has not run).")
    rows = [(_badge(f.severity, "sev"), f.kind, f.resource_id, f.title, f.detail, _json_cell(f.evidence))
            for f in tuples(data.findings)]
    return table(["severity", "kind", "resource", "title", "detail", "evidence"], rows)


def _risk_cell(risk: str, reason: str) -> Raw:
    why = f'<br><span class="muted">{esc(reason)}</span>' if reason else ""
    return Raw(_badge(risk, "risk").text + why)


def section_recommendations(data: ReportData) -> str:
    if not data.recommendations:
        return no_data("No recommendations: nothing to tighten, or 'flowlens recommend' has not run.")
    rows = [(_badge(r.action, "act"), r.rule_id, r.group_id,
             _current_cell(r.current.to_dict() if r.current is not None else None), Raw("→"),
             _proposed_cell([p.to_dict() for p in r.proposed], r.may_widen), _risk_cell(r.risk, r.risk_reason),
             _json_cell(r.evidence.to_dict())) for r in data.recommendations]
    return (f"<p>{esc(subset_sentence(data.recommendations))} {esc(replay_sentence(data.verification))}</p>"
            + table(["action", "rule", "group", "current", "", "proposed", "risk and why", "evidence"], rows))


def section_rules(data: ReportData) -> str:
    if data.rules.empty:
        return no_data("No rule usage for this window: run 'flowlens analyze' for these days.")
    rows = [(r.rule_id, r.group_id, r.direction, _rule_text(r), r.description, _badge(r.status, "st"),
             r.flows, r.connections, r.sole_flows, r.peers, r.status_reason)
            for r in tuples(data.rules)]
    return table(["rule", "group", "dir", "allows", "description", "status", "flows", "connections",
                  "sole flows", "peers", "why"], rows, numeric=(6, 7, 8, 9))


def section_groups(data: ReportData) -> str:
    if data.groups.empty:
        return no_data("No security groups in the inventory snapshot: run 'flowlens inventory'.")
    rows = [(g.group_id, g.group_name, g.description, g.vpc_id, g.is_default, g.tags, g.rules, g.members)
            for g in tuples(data.groups)]
    return table(["group", "name", "description", "VPC", "default", "tags", "rules", "ENIs"], rows, numeric=(6, 7))


def section_exposure(data: ReportData) -> str:
    ex = data.exposure
    if not ex.rows:
        return no_data("No security-group rules in the inventory snapshot.")
    rows = [(b.group_id, b.direction, b.ipv4, a.ipv4, _delta(b.ipv4, a.ipv4), _sci(b.ipv6), _sci(a.ipv6),
             b.unresolved_peers) for b, a in ex.rows]
    return table(["group", "direction", "IPv4 before", "IPv4 after", "IPv4 change", "IPv6 before",
                  "IPv6 after", "unresolved peers"], rows, numeric=(2, 3, 4, 5, 6, 7))


def _sci(value: int) -> str:
    return f"{value:,}" if value < 10**12 else f"{float(value):.3e}"


def _delta(before: int, after: int) -> str:
    if before == 0:
        return "–" if after == 0 else "new"
    return f"{(after - before) / before:+.1%}"


def section_rejected(data: ReportData) -> str:
    if data.reject_causes.empty:
        return ""
    rows = [(_badge(c.cause, "cause"), c.records, c.sources, c.example_detail)
            for c in tuples(data.reject_causes)]
    return table(["cause", "records", "sources", "example"], rows, numeric=(1, 2))


def section_coverage(data: ReportData, subnet_labels: Mapping[str, str]) -> str:
    if data.coverage.empty:
        return ""
    pivot = data.coverage.pivot_table(index="subnet_id", columns="coverage", values="enis", aggfunc="sum", fill_value=0)
    cols = ["ALL", "ACCEPT-only", "REJECT-only", "none"]
    rows = [(subnet_labels.get(str(s), s), *[int(pivot.loc[s][c]) if c in pivot.columns else 0 for c in cols])
            for s in pivot.index]
    return table(["subnet", *cols], rows, numeric=(1, 2, 3, 4))


def section_ingest(data: ReportData) -> str:
    parts = []
    if data.ingest.empty:
        parts.append(no_data("No ingest manifest: run 'flowlens ingest'."))
    else:
        rows = [(i.status, i.objects, i.size, i.rows, i.quarantined, i.example_error)
                for i in tuples(data.ingest)]
        parts.append(table(["status", "objects", "bytes", "rows", "quarantined lines", "example error"],
                           rows, numeric=(1, 2, 3, 4)))
    if not data.quarantine.empty:
        reasons = [(q.reason, q.lines, q.objects) for q in tuples(data.quarantine)]
        parts.append("<h3>Quarantined lines by reason</h3>" + table(["reason", "lines", "objects"], reasons, (1, 2)))
    return "".join(parts)


def headline_cards(head: Mapping[str, Any]) -> str:
    checked = head.get("flows_checked")
    cards = [
        ("flow records analysed", head["flow_records"], f"{head['accepted_records']:,} accepted"),
        ("rules used / unused", f"{head['rules_used']:,} / {head['rules_unused']:,}",
         f"{head['rules_no_coverage']:,} without coverage"),
        ("rejected records", head["rejected_records"], f"{head['rejected_analysed']:,} attributed"),
        ("findings", head["findings"], "posture"),
        ("recommendations", head["recommendations"], "tightening proposals"),
        ("flows checked / cut", "–" if checked is None else f"{checked:,} / {head['flows_cut']:,}",
         "replay proof" if checked is not None else "no plan given"),
    ]
    return "".join(f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
                   f'<div class="sub">{esc(sub)}</div></div>' for label, value, sub in cards)


PAGE = Template(Path(__file__).with_name("template.html").read_text(encoding="utf-8"))


def render_page(values: Mapping[str, str]) -> str:
    """Fill the page template; every value must already be escaped markup."""
    return PAGE.substitute(values)
