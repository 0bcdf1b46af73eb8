"""The organisation: every account of the snapshot side by side, worst first, and its own report.

Written by ``flowlens report`` and ``flowlens run`` beside the report when the inventory holds
more than one account: ``accounts.html``, ``accounts.md`` and ``accounts.json`` (per account its
security groups, its rules by status, its findings and the plan's recommendations for it, with
its own plan and report, and the rules that reference a group of another account), and per
account the whole report of that account alone in ``accounts/<id>/`` (:func:`write_organisation`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from string import Template
from typing import Any

import duckdb

from flowlens import __version__, sqlfiles
from flowlens.atomic import write_text_atomic
from flowlens.catalog import register_views
from flowlens.datadir import DataDir
from flowlens.model.plan import Plan
from flowlens.recommend.by_account import for_account
from flowlens.report import html

#: The account of groups the inventory did not place in one (sql/report/accounts.sql).
UNKNOWN = "unknown"


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    security_groups: int
    rules: int
    used: int
    unused: int
    no_coverage: int
    unobservable: int
    no_members: int
    findings: int
    severe_findings: int
    recommendations: int = 0
    plan: str = ""
    report: str = ""  # the account's report.html, relative to the organisation's page


@dataclass(frozen=True)
class CrossReference:
    """A rule whose peer is a security group of another account (sql/report/cross_account.sql)."""

    account_id: str
    group_id: str
    rule_id: str
    direction: str
    peer: str
    peer_account_id: str
    peer_inventoried: bool
    status: str
    flows: int
    status_reason: str


def _query(dd: DataDir, name: str, days: Sequence[date]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    try:
        register_views(con, dd)
        query = sqlfiles.load("report", name)
        cur = sqlfiles.execute(con, query, {"start_date": min(days), "end_date": max(days)})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def account_rows(
    dd: DataDir, days: Sequence[date], plan: Mapping[str, Any] | None = None
) -> list[AccountRow]:
    """The accounts of the latest snapshot, worst first (sql/report/accounts.sql)."""
    found = _query(dd, "accounts", days)
    recs: dict[str, int] = {}
    for r in (plan or {}).get("recommendations") or []:
        key = str(r.get("account_id") or "unknown")
        recs[key] = recs.get(key, 0) + 1
    return [_row(row, recs.get(str(row["account_id"]), 0)) for row in found]


def _row(row: Mapping[str, Any], recommendations: int) -> AccountRow:
    return AccountRow(
        account_id=str(row["account_id"]),
        security_groups=int(row["security_groups"]),
        rules=int(row["rules"]),
        used=int(row["used"]),
        unused=int(row["unused"]),
        no_coverage=int(row["no_coverage"]),
        unobservable=int(row["unobservable"]),
        no_members=int(row["no_members"]),
        findings=int(row["findings"]),
        severe_findings=int(row["severe_findings"]),
        recommendations=recommendations,
    )


def cross_references(dd: DataDir, days: Sequence[date]) -> list[CrossReference]:
    """Rules referencing a group of another account, with their latest status of the window."""
    return [
        CrossReference(
            account_id=str(r["account_id"]),
            group_id=str(r["group_id"]),
            rule_id=str(r["rule_id"]),
            direction=str(r["direction"]),
            peer=str(r["peer"]),
            peer_account_id=str(r["peer_account_id"]),
            peer_inventoried=bool(r["peer_inventoried"]),
            status=str(r["status"] or "not analysed"),
            flows=int(r["flows"] or 0),
            status_reason=str(r["status_reason"] or ""),
        )
        for r in _query(dd, "cross_account", days)
    ]


def _span(days: Sequence[date]) -> str:
    return f"{min(days)}" if len(set(days)) == 1 else f"{min(days)} .. {max(days)}"


def render_md(
    rows: Sequence[AccountRow], days: Sequence[date], refs: Sequence[CrossReference] = ()
) -> str:
    lines = [
        f"# Organisation: {len(rows)} accounts, {_span(days)}",
        "",
        "Worst first: high or critical findings, then unused rules, then rules without coverage.",
        "",
        "| account | SGs | rules | used | unused | no coverage | unobservable | no members "
        "| findings | high+ | recommendations | plan | report |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        report = r.report.removesuffix("report.html") + "summary.md" if r.report else "-"
        lines.append(
            f"| {r.account_id} | {r.security_groups} | {r.rules} | {r.used} | {r.unused} "
            f"| {r.no_coverage} | {r.unobservable} | {r.no_members} | {r.findings} "
            f"| {r.severe_findings} | {r.recommendations} | {r.plan or '-'} | {report} |"
        )
    if refs:
        lines += [
            "",
            "## References to groups of other accounts",
            "",
            "| account | group | rule | direction | peer group | peer account | status | flows "
            "| why |",
            "|---|---|---|---|---|---|---|---:|---|",
        ]
        lines += [
            f"| {x.account_id} | {x.group_id} | {x.rule_id} | {x.direction} | {x.peer} "
            f"| {x.peer_account_id}{'' if x.peer_inventoried else ' (not inventoried)'} "
            f"| {x.status} | {x.flows} | {x.status_reason or '-'} |"
            for x in refs
        ]
    return "\n".join(lines) + "\n"


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
    span = html.esc(_span(days))
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
        title=f"flowlens organisation · {len(rows)} accounts · {span}",
        meta=f"Window {span} (UTC) · generated "
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


def write_accounts(
    dd: DataDir,
    days: Sequence[date],
    out_dir: Path,
    plan: Mapping[str, Any] | None = None,
    account_plans: Mapping[str, str] | None = None,
    reports: Mapping[str, str] | None = None,
) -> list[AccountRow]:
    """``accounts.html``, ``accounts.md`` and ``accounts.json`` in ``out_dir``; nothing for a
    single account. ``reports``: account → its report.html relative to ``out_dir``."""
    rows = account_rows(dd, days, plan)
    if len(rows) <= 1:
        return rows
    plans, pages = dict(account_plans or {}), dict(reports or {})
    rows = [
        AccountRow(
            **{
                **asdict(r),
                "plan": plans.get(r.account_id, ""),
                "report": pages.get(r.account_id, ""),
            }
        )
        for r in rows
    ]
    refs = cross_references(dd, days)
    write_text_atomic(render_md(rows, days, refs), out_dir / "accounts.md")
    write_text_atomic(render_html(rows, days, refs, out_dir), out_dir / "accounts.html")
    doc = {
        "days": [d.isoformat() for d in days],
        "accounts": [asdict(r) for r in rows],
        "cross_account_references": [asdict(x) for x in refs],
    }
    write_text_atomic(json.dumps(doc, indent=2) + "\n", out_dir / "accounts.json")
    return rows


def account_plan(doc: Mapping[str, Any], account: str, where: str = "plan") -> dict[str, Any]:
    """The part of the organisation's plan ``doc`` for ``account`` (as ``recommend`` splits it)."""
    return for_account(Plan.from_dict(doc, where=where), account).to_dict()


def write_organisation(
    dd: DataDir,
    days: Sequence[date],
    out_dir: Path,
    *,
    plan: Mapping[str, Any] | None = None,
    plan_source: str = "plan",
    account_plans: Mapping[str, str] | None = None,
    snapshot: str | None = None,
) -> list[AccountRow]:
    """Per account of a multi-account inventory its report in ``accounts/<id>/``, and the
    organisation's page (:func:`write_accounts`); nothing for a single account.

    An account's report shows its plan: its file in ``account_plans`` (``flowlens run`` writes
    ``accounts/<id>/plan.json``), else its part of ``plan``, else its rows of the
    ``recommendations`` table.
    """
    from flowlens.report.render import read_plan_file, write_report

    rows = account_rows(dd, days, plan)
    if len(rows) <= 1:
        return rows
    plans = dict(account_plans or {})
    reports: dict[str, str] = {}
    for row in rows:
        account = row.account_id
        if account == UNKNOWN:
            continue  # groups no snapshot places in an account: in the whole report only
        own: Mapping[str, Any] | None = None
        if account in plans:
            own = read_plan_file(Path(plans[account]))
        elif plan is not None:
            own = account_plan(plan, account, plan_source)
        folder = out_dir / "accounts" / account
        write_report(
            dd,
            days,
            folder,
            plan=own,
            snapshot=snapshot,
            account=account,
            organisation="../../accounts.html",
        )
        reports[account] = f"accounts/{account}/report.html"
    return write_accounts(dd, days, out_dir, plan, plans, reports)
