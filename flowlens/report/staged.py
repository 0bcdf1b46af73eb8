"""The report's staging sections: the plan's connectivity delta, staged plans, dismissed rules.

* the delta: per SG and direction, each path the plan changes, before → after, with the flows
  and peers the window observed on it, and the one-line summary at the top of the plan;
* staged plans: each plan ``flowlens verify`` checked on later days (``plan_verifications``),
  ready / pending / blocked, with what blocks it and an example flow (and its conversation id,
  for ``flowlens explain --conversation-id``);
* dismissed rules, apart from the plan: "kept: dismissed by …, reason …, until …", and the
  dismissals that no longer hold (expired, or lapsed because the rule's content changed).

Markup only; every value goes through :func:`flowlens.report.html.esc` (AWS-sourced strings and
reviewers' reasons alike).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from flowlens.dismissals import DismissalState
from flowlens.model.net import Rule
from flowlens.model.plan import Plan
from flowlens.report.charts import port_label
from flowlens.report.data import ReportData
from flowlens.report.html import Raw, badge, esc, no_data, rule_line, sg_cell, table
from flowlens.report.staged_data import Blocking, DismissedRule, StagedPlan

HOWTO = {
    "delta": "Each path the plan changes, per security group and direction: what the current rule "
    "lets through (peer, protocol, ports) → what lets it through after the plan (nothing: "
    "removed), with the accepted initiating flows and peers the window observed on it. "
    "'replaced' paths use a reference (SG, prefix list) that may admit more than the rule did.",
    "staged": "Plans verified on the days after their own window ('flowlens verify', nightly with "
    "'flowlens run --verify-plans DIR'): each later day's accepted flows replayed against the "
    "plan. 'blocked': some flow would be cut (the recommendation and an example are named; "
    "re-run 'flowlens recommend' over a window that includes that day); 'ready': enough clean "
    "days (--min-window-days); 'pending': not yet. 'flowlens apply --commit' applies only a "
    "ready plan.",
    "dismissed": "Rules a reviewer told the recommender to leave alone ('flowlens dismiss'), keyed "
    "by the rule's content. An active dismissal keeps the rule out of every plan; an expired "
    "one (past its --until day) or a lapsed one (no rule has that content any more) no longer "
    "does, and the rule is judged afresh. 'flowlens dismissals' lists and removes them.",
}


def delta_line(d: ReportData) -> str:
    """The plan's effect on connectivity in one line, for the top of the plan section."""
    if not d.recommendations:
        return ""
    return (
        f'<p class="delta-line" id="delta-summary"><strong>Connectivity:</strong> '
        f"{esc(d.delta().summary())}.</p>"
    )


def delta_section(d: ReportData, names: Mapping[str, str]) -> str:
    paths = d.delta().paths
    if not paths:
        return no_data("The plan changes no path: no recommendations for this window.")
    rows = [
        (
            sg_cell(p.group_id, names),
            str(p.direction),
            badge(p.change, "chg"),
            Raw(f'<span class="id">{esc(p.rule_id)}</span>'),
            _path_before(p.before),
            Raw("→"),
            _path_after(p.after),
            p.flows,
            p.peers,
        )
        for p in paths
    ]
    return table(
        ["group", "direction", "change", "rule", "before", "", "after", "flows", "peers"],
        rows,
        numeric=(7, 8),
        tid="delta-table",
        unsortable=(5,),
        wide={6: 14},
    )


PLAN_COLUMNS = (
    "plan",
    "status",
    "last days replayed",
    "days verified",
    "clean days",
    "flows checked",
    "flows cut",
    "unattributed",
    "blocked by",
)
"""The staged-plans table's columns, in the HTML and the Markdown report alike."""


def _path_before(rule: Rule | None) -> Raw:
    if rule is None:
        return Raw('<span class="muted">not recorded</span>')
    return Raw(rule_line({k: v for k, v in rule.to_dict().items() if k != "direction"}))


def _path_after(rules: Sequence[Rule]) -> Raw:
    """The rules after the plan, without direction (a column) or flowlens's own descriptions."""
    if not rules:
        return Raw('<span class="muted">nothing</span>')
    skip = {"direction", "description"}
    return Raw(
        "".join(
            f"<div>{rule_line({k: v for k, v in r.to_dict().items() if k not in skip})}</div>"
            for r in rules
        )
    )


# --- staged plans ------------------------------------------------------------------------------


def _day_span(first: date, last: date) -> str:
    return str(first) if first == last else f"{first}..{last}"


def _when(t: datetime | None) -> str:
    return "–" if t is None else f"{t:%Y-%m-%d %H:%M} UTC"


def example_text(b: Blocking) -> str:
    """``ingress tcp/22 from 192.0.2.50 on eni-… at 2026-11-29 10:00 UTC (12 flows)``."""
    e = b.example
    if e is None:
        return "no example recorded"
    side = "from" if e.direction == "ingress" else "to"
    return (
        f"{e.direction} {port_label(e.protocol, e.port)} {side} {e.peer} on {e.eni_id} at "
        f"{_when(e.last_seen)} ({e.flows:,} flows{', unplaced ENI' if e.unattributed else ''})"
    )


def _example_markup(b: Blocking) -> str:
    """:func:`example_text` with the ids kept on one line."""
    e = b.example
    if e is None:
        return esc(example_text(b))
    side = "from" if e.direction == "ingress" else "to"
    return (
        f"{esc(e.direction)} {esc(port_label(e.protocol, e.port))} {side} "
        f'<span class="id">{esc(e.peer)}</span> on <span class="id">{esc(e.eni_id)}</span> at '
        f"{esc(_when(e.last_seen))} ({e.flows:,} flows"
        f"{', unplaced ENI' if e.unattributed else ''})"
    )


def _blocking_cell(p: StagedPlan) -> Raw:
    if not p.blocking:
        return Raw('<span class="muted">–</span>')
    parts = []
    for b in p.blocking:
        explain = (
            f'<div class="reach">explain: <code class="cid">flowlens explain --conversation-id '
            f"{esc(b.conversation_id)}</code></div>"
            if b.conversation_id
            else ""
        )
        parts.append(
            f'<div class="blocker"><span class="id">{esc(b.rule_id)}</span> would cut, e.g. '
            f"{_example_markup(b)}{explain}</div>"
        )
    return Raw("".join(parts))


def clean_days_text(p: StagedPlan) -> str:
    need = f" of {p.min_window_days:g} needed" if p.min_window_days is not None else ""
    return f"{p.clean_days:,}{need}"


def unattributed_text(p: StagedPlan) -> str:
    if not p.flows_unattributed:
        return "0"
    return f"{p.flows_unattributed:,} ({p.flows_unattributed_protected:,} protected)"


def staged_section(d: ReportData) -> str:
    plans = d.staged.plans
    if not plans:
        return no_data(
            "No plan has been verified on later days yet: stage one with 'flowlens verify "
            "PLAN.json --date D', or nightly with 'flowlens run ... --verify-plans DIR'."
        )
    rows = [
        (
            Raw(f"<code>{esc(p.plan_path)}</code>"),
            badge(p.status, "ps"),
            _day_span(p.first_day, p.last_day),
            p.days_verified,
            Raw(esc(clean_days_text(p)), sort=float(p.clean_days)),
            p.flows_checked,
            p.flows_cut,
            Raw(esc(unattributed_text(p)), sort=float(p.flows_unattributed)),
            _blocking_cell(p),
            _when(p.verified_at),
        )
        for p in plans
    ]
    return table(
        [*PLAN_COLUMNS, "verified at"],
        rows,
        numeric=(3, 4, 5, 6, 7),
        tid="staged-table",
        wide={8: 22},
    )


# --- dismissed rules ---------------------------------------------------------------------------


def decision_text(r: DismissedRule) -> str:
    """What a dismissal does now, in the words the plan uses for a rule it keeps."""
    d = r.dismissal
    if r.state is DismissalState.ACTIVE:
        return f"kept: {d.kept_reason()}"
    if r.state is DismissalState.EXPIRED:
        return f"expired after {d.until}, judged afresh: {d.kept_reason()}"
    return (
        "lapsed: no rule of the snapshot has this content any more (changed or deleted), "
        f"judged afresh: {d.kept_reason()}"
    )


def plan_only_kept(plan: Plan | None, rows: Sequence[DismissedRule]) -> list[tuple[str, str, str]]:
    """(rule, group, reason) the plan file kept as dismissed that no dismissal here accounts for."""
    if plan is None:
        return []
    known = {r.current_rule_id for r in rows} | {r.dismissal.rule_id for r in rows}
    return [
        (k.rule_id, k.group_id, f"kept: {k.reason}")
        for k in plan.kept
        if k.label == "dismissed" and k.rule_id not in known
    ]


def dismissed_section(d: ReportData, names: Mapping[str, str]) -> str:
    rows_in = d.staged.dismissed
    extra = plan_only_kept(d.plan, rows_in)
    if not rows_in and not extra:
        return no_data("No rule is dismissed ('flowlens dismiss RULE --reason TEXT').")
    rows = [
        (
            Raw(f'<span class="id">{esc(r.current_rule_id or r.dismissal.rule_id)}</span>'),
            sg_cell(r.dismissal.group_id, names),
            Raw(rule_line(r.dismissal.rule.to_dict())),
            badge(r.state, "ds"),
            decision_text(r),
        )
        for r in rows_in
    ]
    rows += [
        (
            Raw(f'<span class="id">{esc(rule_id)}</span>'),
            sg_cell(group_id, names),
            Raw('<span class="muted">in the plan file</span>'),
            badge("active", "ds"),
            reason,
        )
        for rule_id, group_id, reason in extra
    ]
    return table(
        ["rule", "group", "allows", "state", "decision"],
        rows,
        tid="dismissed-table",
        wide={4: 24},
    )
