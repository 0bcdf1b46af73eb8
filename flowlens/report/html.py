"""The self-contained HTML page: one template, inline CSS and script, charts as data URIs.

Every value is escaped with :func:`html.escape` on its way in (names, descriptions, tags and
rule descriptions come from AWS and may hold markup); only this module's own markup is raw.
Bidirectional-override and other invisible format characters are shown as ``[U+202E]``: in a
name or description they would reorder what a reviewer reads (the "Trojan Source" trick).
Control characters (a terminal escape sequence's ESC, a NUL) are shown as ``\x1b``
(:func:`flowlens.textsafe.show_controls`).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd

from flowlens.report import words
from flowlens.report.charts import port_label
from flowlens.report.data import ReportData
from flowlens.report.data import rows as tuples
from flowlens.textsafe import show_controls


@dataclass(frozen=True)
class Raw:
    """Markup built by this module (already escaped)."""

    text: str
    sort: float | None = None  # the number a sortable column orders this cell by


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
        return _text(", ".join(f"{k}={v}" for k, v in value.items()))
    if isinstance(value, list | tuple):
        return _text(", ".join(_tag_text(v) for v in value))
    return _text(str(value))


def _text(value: str) -> str:
    """HTML-escaped; control characters as ``\x1b``, format characters as visible markers."""
    return _visible(html.escape(show_controls(value, bidi=False)))


#: Unicode format characters that reorder or hide text: bidi embeddings, overrides, isolates, marks.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _visible(text: str) -> str:
    """Format characters replaced by a visible ``[U+XXXX]`` marker (the text is already escaped)."""
    return _INVISIBLE.sub(lambda m: f'<span class="ctl">[U+{ord(m.group()):04X}]</span>', text)


def _tag_text(item: Any) -> str:
    if isinstance(item, tuple | list) and len(item) == 2:
        return f"{item[0]}={item[1]}"
    if isinstance(item, Mapping) and "key" in item:
        return f"{item['key']}={item.get('value')}"
    return str(item)


def _sort_key(value: Any) -> str:
    """The ``data-v`` a numeric cell sorts by (its raw number), or "" for text cells."""
    if isinstance(value, Raw):
        return "" if value.sort is None else f' data-v="{value.sort:g}"'
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return "" if pd.isna(value) else f' data-v="{value}"'


def _width(em: int | None) -> str:
    return f' style="min-width:{em}em"' if em else ""


def _attrs(attrs: Mapping[str, Any] | None) -> str:
    return "".join(f' {k}="{esc(v)}"' for k, v in (attrs or {}).items())


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    numeric: Iterable[int] = (),
    *,
    tid: str = "",
    row_attrs: Sequence[Mapping[str, Any]] | None = None,
    filterable: bool = True,
    unsortable: Iterable[int] = (),
    wide: Mapping[int, int] | None = None,
) -> str:
    """A sortable table (click a header) with a filter box above it when it
    has more than a few rows.

    ``wide``: column → minimum width in em, for columns (rule lists, reasons)
    that read badly squeezed."""
    num, fixed, roomy = set(numeric), set(unsortable), dict(wide or {})
    body_rows = list(rows)

    def sort(i: int, h: str) -> str:
        return "" if i in fixed else f' data-sort title="Sort by {esc(h)}"'

    head = "".join(
        f'<th class="{"num" if i in num else ""}"{sort(i, h)}>{esc(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = "".join(
        f"<tr{_attrs(row_attrs[n] if row_attrs else None)}>"
        + "".join(
            "<td "
            f'class="{"num" if i in num else "wide" if i in roomy else ""}"'
            f"{_width(roomy.get(i))}{_sort_key(c)} "
            f'data-label="{esc(headers[i])}">{esc(c)}</td>'
            for i, c in enumerate(r)
        )
        + "</tr>"
        for n, r in enumerate(body_rows)
    )
    ident = f' id="{esc(tid)}"' if tid else ""
    box = (
        f'<input type="search" class="tfilter" placeholder="Filter these {len(body_rows):,} rows" '
        f'aria-label="Filter rows">'
        if filterable and len(body_rows) > 3
        else ""
    )
    return (
        f'<div class="tbl">{box}<div class="tablewrap"><table class="sortable"{ident}>'
        f"<thead><tr>{head}</tr>"
        f"</thead><tbody>{body}</tbody></table></div></div>"
    )


def no_data(what: str) -> str:
    return f'<div class="nodata"><strong>No data.</strong> {esc(what)}</div>'


def image(png: bytes | None, alt: str, empty: str) -> str:
    if not png:
        return no_data(empty)
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}"></figure>'


def howto(text: str) -> str:
    return f'<p class="howto"><strong>How to read this.</strong> {esc(text)}</p>'


def json_cell(value: Any) -> Raw:
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


def rule_line(p: Mapping[str, Any]) -> str:
    proto = port_label(p.get("ip_protocol"), p.get("from_port"))
    ports = p.get("from_port"), p.get("to_port")
    if ports[0] is not None and ports[1] not in (None, ports[0]):
        proto += f"-{ports[1]}"
    desc = (
        f' <span class="muted">{esc(p.get("description"))}</span>' if p.get("description") else ""
    )
    text = f"{p.get('direction', '')} {proto} {p.get('peer', '')}".strip()
    words_ = " ".join(
        f'<span class="nw">{esc(t)}</span>' for t in text.split(" ")
    )  # break between words, not at an id's hyphen
    return f"<code>{words_}</code>{desc}"


def badge(value: Any, kind: str) -> Raw:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    cls = "".join(ch for ch in text.lower() if ch.isalnum() or ch == "_")
    return Raw(f'<span class="badge {kind}-{cls}">{esc(text)}</span>')


def rule_text(r: Any) -> str:
    if pd.isna(r.ip_protocol):
        return ""
    proto = port_label(r.ip_protocol, r.from_port)
    if pd.notna(r.from_port) and pd.notna(r.to_port) and r.to_port != r.from_port:
        proto += f"-{int(r.to_port)}"
    more = f" (+{int(r.peer_rows) - 1} peers)" if pd.notna(r.peer_rows) and r.peer_rows > 1 else ""
    return f"{proto} {r.peer if pd.notna(r.peer) else ''}{more}"


def anchor(prefix: str, ident: Any) -> str:
    """An element id / fragment for an AWS id (escaped for the attribute it goes into)."""
    return esc(f"{prefix}-{ident}")


def sg_cell(group_id: Any, names: Mapping[str, str]) -> Raw:
    """``sg-… name``: the id (never broken mid-string) linking to its section, with its name."""
    if group_id is None or (isinstance(group_id, float) and pd.isna(group_id)) or group_id == "":
        return Raw('<span class="muted">–</span>')
    name = names.get(str(group_id), "")
    label = f' <span class="name">{esc(name)}</span>' if name else ""
    return Raw(f'<a class="id" href="#{anchor("sg", group_id)}">{esc(group_id)}</a>{label}')


def rule_cell(rule_id: Any, has_evidence: bool) -> Raw:
    """The rule id, with a link to its evidence when rule_matches holds any."""
    link = (
        f' <a class="evlink" href="#{anchor("ev", rule_id)}" '
        f'data-rule="{esc(rule_id)}">evidence</a>'
        if has_evidence
        else ""
    )
    return Raw(f'<span class="id">{esc(rule_id)}</span>{link}')


def section_rules(data: ReportData, names: Mapping[str, str]) -> str:
    if data.rules.empty:
        return no_data("No rule usage for this window: run 'flowlens analyze' for these days.")
    ev = set(data.evidence["rule_id"].astype(str)) if not data.evidence.empty else set()
    rows = [
        (
            rule_cell(r.rule_id, str(r.rule_id) in ev),
            sg_cell(r.group_id, names),
            r.direction,
            rule_text(r),
            r.description,
            badge(r.status, "st"),
            r.flows,
            r.connections,
            r.sole_flows,
            r.peers,
            r.status_reason,
        )
        for r in tuples(data.rules)
    ]
    return table(
        [
            "rule",
            "group",
            "dir",
            "allows",
            "description",
            "status",
            "flows",
            "connections",
            "sole flows",
            "peers",
            "why",
        ],
        rows,
        numeric=(6, 7, 8, 9),
        tid="rules-table",
    )


def section_exposure(data: ReportData, names: Mapping[str, str]) -> str:
    ex = data.exposure
    if not ex.rows:
        return no_data("No security-group rules in the inventory snapshot.")
    rows = [
        (
            sg_cell(b.group_id, names),
            b.direction,
            _n(b.ipv4),
            _n(a.ipv4),
            _delta(b.ipv4, a.ipv4),
            _n(b.ipv6),
            _n(a.ipv6),
            b.unresolved_peers,
        )
        for b, a in ex.rows
    ]
    return table(
        [
            "group",
            "direction",
            "IPv4 before",
            "IPv4 after",
            "IPv4 change",
            "IPv6 before",
            "IPv6 after",
            "unresolved peers",
        ],
        rows,
        numeric=(2, 3, 4, 5, 6, 7),
        tid="exposure-table",
    )


def _n(value: int) -> Raw:
    """An exposure figure in words ("281.5 trillion"), sorting by its exact value."""
    return Raw(esc(words.count(value)), sort=float(value))


def _delta(before: int, after: int) -> str:
    if before == 0:
        return "–" if after == 0 else "new"
    return f"{(after - before) / before:+.1%}"


def section_rejected(data: ReportData) -> str:
    if data.reject_causes.empty:
        return ""
    rows = [
        (badge(c.cause, "cause"), c.records, c.sources, c.example_detail)
        for c in tuples(data.reject_causes)
    ]
    return table(["cause", "records", "sources", "example"], rows, numeric=(1, 2))


def section_coverage(data: ReportData, subnet_labels: Mapping[str, str]) -> str:
    if data.coverage.empty:
        return ""
    pivot = data.coverage.pivot_table(
        index="subnet_id", columns="coverage", values="enis", aggfunc="sum", fill_value=0
    )
    cols = ["ALL", "ACCEPT-only", "REJECT-only", "none"]
    rows = [
        (
            subnet_labels.get(str(s), s),
            *[int(pivot.loc[s][c]) if c in pivot.columns else 0 for c in cols],
        )
        for s in pivot.index
    ]
    return table(["subnet", *cols], rows, numeric=(1, 2, 3, 4))


def section_ingest(data: ReportData) -> str:
    parts = []
    if data.ingest.empty:
        parts.append(no_data("No ingest manifest: run 'flowlens ingest'."))
    else:
        rows = [
            (i.status, i.objects, i.size, i.rows, i.quarantined, i.example_error)
            for i in tuples(data.ingest)
        ]
        parts.append(
            table(
                ["status", "objects", "bytes", "rows", "quarantined lines", "example error"],
                rows,
                numeric=(1, 2, 3, 4),
            )
        )
    if not data.quarantine.empty:
        reasons = [(q.reason, q.lines, q.objects) for q in tuples(data.quarantine)]
        parts.append(
            "<h3>Quarantined lines by reason</h3>"
            + table(["reason", "lines", "objects"], reasons, (1, 2))
        )
    return "".join(parts)


def headline_cards(head: Mapping[str, Any]) -> str:
    checked = head.get("flows_checked")
    cards = [
        ("flow records analysed", head["flow_records"], f"{head['accepted_records']:,} accepted"),
        (
            "rules used / unused",
            f"{head['rules_used']:,} / {head['rules_unused']:,}",
            f"{head['rules_no_coverage']:,} without coverage",
        ),
        ("rejected records", head["rejected_records"], f"{head['rejected_analysed']:,} attributed"),
        ("findings", head["findings"], "posture"),
        ("recommendations", head["recommendations"], "tightening proposals"),
        (
            "flows checked / cut",
            "–" if checked is None else f"{checked:,} / {head['flows_cut']:,}",
            "no plan given"
            if checked is None
            else "replay proof"
            if not head.get("flows_unattributed")
            else f"{head['flows_unattributed']:,} on unplaced ENIs "
            "protected, not membership-checked",
        ),
    ]
    return "".join(
        f'<div class="card"><div class="label">{esc(label)}</div><div '
        f'class="value">{esc(value)}</div><div class="sub">{esc(sub)}</div></div>'
        for label, value, sub in cards
    )


PAGE = Template(Path(__file__).with_name("template.html").read_text(encoding="utf-8"))


def render_page(values: Mapping[str, str]) -> str:
    """Fill the page template; every value must already be escaped markup."""
    return PAGE.substitute(values)
