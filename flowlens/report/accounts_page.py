"""The organisation's page, ``accounts.html``: the accounts side by side and the references across
them, in the report's own stylesheet and script (report/template.html, page.js), so that both
pages look and behave alike. Markup only: the caller writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from flowlens import __version__
from flowlens.report import html

if TYPE_CHECKING:
    from flowlens.report.accounts import AccountRow, CrossReference


def span(days: Sequence[date]) -> str:
    """The window as the organisation's pages name it."""
    return f"{min(days)}" if len(set(days)) == 1 else f"{min(days)} .. {max(days)}"


def _relative(path: str, base: Path) -> str:
    """``path`` relative to ``base`` when it is under it (links of the page), else as given."""
    if not path:
        return ""
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path


def _link(href: str, text: str) -> html.Raw:
    return html.Raw(f'<a href="{html.esc(href)}">{html.esc(text)}</a>') if href else html.Raw("–")


def render_html(
    rows: Sequence[AccountRow],
    days: Sequence[date],
    refs: Sequence[CrossReference],
    out_dir: Path,
) -> str:
    """The organisation's page, in the report's own style and script (report/template.html)."""
    window = html.esc(span(days))
    counted = [
        ("accounts", len(rows), f"{sum(r.security_groups for r in rows):,} security groups"),
        ("rules unused", sum(r.unused for r in rows), f"of {sum(r.rules for r in rows):,} rules"),
        (
            "without coverage",
            sum(r.no_coverage for r in rows),
            "rules flowlens cannot judge",
        ),
        (
            "findings",
            sum(r.findings for r in rows),
            f"{sum(r.severe_findings for r in rows)} high+",
        ),
        ("recommendations", sum(r.recommendations for r in rows), "tightening proposals"),
        (
            "cross-account refs",
            len(refs),
            f"{sum(not x.peer_inventoried for x in refs)} to accounts not inventoried",
        ),
    ]
    cards = "".join(
        f'<div class="card"><div class="label">{html.esc(label)}</div><div '
        f'class="value">{html.esc(value)}</div><div class="sub">{html.esc(sub)}</div></div>'
        for label, value, sub in counted
    )
    table = html.table(
        [
            "account",
            "SGs",
            "rules",
            "used",
            "unused",
            "no coverage",
            "unobservable",
            "no members",
            "findings",
            "high+",
            "recommendations",
            "plan",
        ],
        [
            [
                _link(r.report, r.account_id) if r.report else r.account_id,
                r.security_groups,
                r.rules,
                r.used,
                r.unused,
                r.no_coverage,
                r.unobservable,
                r.no_members,
                r.findings,
                r.severe_findings,
                r.recommendations,
                _link(_relative(r.plan, out_dir), "plan.json"),
            ]
            for r in rows
        ],
        range(1, 11),
        tid="accounts",
    )
    ref_table = (
        html.table(
            [
                "account",
                "group",
                "rule",
                "direction",
                "peer group",
                "peer account",
                "status",
                "flows",
                "why",
            ],
            [
                [
                    x.account_id,
                    html.Raw(f'<span class="id">{html.esc(x.group_id)}</span>'),
                    html.Raw(f'<span class="id">{html.esc(x.rule_id)}</span>'),
                    x.direction,
                    html.Raw(f'<span class="id">{html.esc(x.peer)}</span>'),
                    x.peer_account_id + ("" if x.peer_inventoried else " (not inventoried)"),
                    html.badge(x.status, "st"),
                    x.flows,
                    x.status_reason or None,
                ]
                for x in refs
            ],
            (7,),
            tid="cross-account",
            wide={8: 20},
        )
        if refs
        else html.no_data("No rule references a security group of another account.")
    )
    return _PAGE.substitute(
        style=_STYLE,
        script=_SCRIPT,
        title=f"flowlens organisation · {len(rows)} accounts · {window}",
        meta=f"Window {window} (UTC) · generated "
        f"{html.esc(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))} · "
        '<a href="report.html">the report of all accounts together</a>',
        cards=cards,
        accounts=html.howto(
            "Worst first: high or critical findings, then unused rules, then rules without "
            "coverage. An account's name opens its own report (its groups, rules, ENIs, flows, "
            "findings and plan only); its plan folder holds the AWS CLI script and Terraform "
            "file for that account's credentials."
        )
        + table,
        refs=html.howto(
            "Rules whose peer is a security group of another account (peering, Transit Gateway, "
            "a VPC shared through AWS RAM): flowlens attributes their traffic when both accounts "
            "are inventoried, and says no_coverage naming the account when the peer's is not."
        )
        + ref_table,
        version=html.esc(__version__),
    )


_TEMPLATE = (Path(__file__).with_name("template.html")).read_text(encoding="utf-8")
#: The report's stylesheet and script, so that both pages look and behave alike.
_STYLE = _TEMPLATE[_TEMPLATE.index("<style>") : _TEMPLATE.index("</style>") + len("</style>")]
_SCRIPT = (Path(__file__).with_name("page.js")).read_text(encoding="utf-8")
_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
$style
</head>
<body>
<header>
<h1>$title</h1>
<div class="meta">$meta</div>
<div class="searchbar"><input type="search" id="search" placeholder="Search accounts, ids…" \
aria-label="Search the page"><span id="search-status" aria-live="polite"></span></div>
<div class="cards">$cards</div>
</header>
<div class="layout">
<nav aria-label="Contents"><h2>Contents</h2><ol>
<li><a href="#accounts-section">Accounts, worst first</a></li>
<li><a href="#references">References across accounts</a></li>
<li><a href="report.html">All accounts together</a></li>
</ol></nav>
<main>
<section id="accounts-section"><h2>Accounts, worst first</h2>$accounts</section>
<section id="references"><h2>References to groups of other accounts</h2>$refs</section>
</main>
</div>
<footer>Generated by flowlens $version. Machine-readable: accounts.json · summary: accounts.md.\
</footer>
<script>
$script
</script>
</body>
</html>
"""
)
