"""From inputs to a proven plan: gather candidates, prove them by replay, respect quotas, rate risk.

Risk (documented in docs/recommend.md): a narrowing that stays inside the old rule and a
structurally redundant removal are ``low``; removing an unused rule, removing a rule that is
redundant only by observation, and replacing a CIDR by an SG reference (which may widen) are
``medium``; every level except a structural removal is raised one step when the days analysed
are fewer than ``min_window_days`` or when days of the requested window have no analysis
(a day without results is a day without evidence, whatever the window asked for).

Pure: no boto3, no duckdb.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from flowlens.analyze.history import History
from flowlens.model.net import PeerType, Rule
from flowlens.model.plan import (
    Action,
    Dropped,
    Evidence,
    Kept,
    Kind,
    Plan,
    Recommendation,
    Risk,
    Verification,
)
from flowlens.model.state import content_key
from flowlens.model.status import NOT_REMOVABLE, RuleStatus
from flowlens.model.window import AnalysedWindow
from flowlens.recommend import cover_limits, evidence, permissiveness
from flowlens.recommend.inputs import Inventory, Observed, Settings, SgRule, Usage
from flowlens.recommend.observations import Matched, Observations, PyObservations
from flowlens.recommend.proposals import (
    Candidate,
    address_space,
    exclusion_reason,
    narrow,
    public_spread,
    removal,
    structurally_redundant,
)
from flowlens.recommend.replay import describe_flow


class _Work:
    """The mutable state of one planning run (kept out of the pure helpers' signatures)."""

    def __init__(
        self,
        inv: Inventory,
        obs: Observations,
        settings: Settings,
        window_start: datetime,
        window_end: datetime,
        dismissed: Mapping[str, str] | None = None,
    ) -> None:
        self.inv, self.obs, self.settings = inv, obs, settings
        self.dismissed = dismissed or {}
        self.window_start, self.window_end = window_start, window_end
        self.rules_by_group = inv.rules_by_group()
        self.matched: dict[str, Matched] = {}
        self.kept: list[Kept] = []
        self.dropped: list[Dropped] = []

    def matched_for(self, r: SgRule) -> Matched:
        if r.rule_id not in self.matched:
            self.matched[r.rule_id] = self.obs.matched(r)
        return self.matched[r.rule_id]

    def keep(self, r: SgRule, reason: str, label: str) -> None:
        self.kept.append(Kept(r.rule_id, r.group_id, reason, label))

    def drop(self, c: Candidate, reason: str) -> None:
        self.dropped.append(Dropped(c.sg_rule.rule_id, c.sg_rule.group_id, c.kind.value, reason))


def _first_pass(w: _Work, usage: Mapping[str, Usage]) -> tuple[list[Candidate], list[SgRule]]:
    """Removal and narrowing candidates, and the rules that may be redundant (decided later)."""
    candidates: list[Candidate] = []
    maybe_redundant: list[SgRule] = []
    for r in sorted(w.inv.rules, key=lambda x: (x.group_id, x.rule_id)):
        reason = exclusion_reason(r, w.inv, w.settings)
        u = usage.get(r.rule_id)
        dismissal = w.dismissed.get(content_key(r.group_id, r.rule))
        if (
            dismissal
        ):  # a reviewer's decision comes first: the rule is not touched, nor replayed as changed
            w.keep(r, dismissal, "dismissed")
        elif reason:
            w.keep(r, reason, "excluded")
        elif u is None:
            w.keep(
                r,
                "no rule_usage row covers this rule in the window; run 'flowlens analyze'",
                "no_usage",
            )
        elif u.change == "deleted":
            w.keep(
                r,
                f"deleted inside the window ({_when(u.change_at)}); nothing is recommended for it",
                "deleted",
            )
        elif u.status in NOT_REMOVABLE:
            w.keep(r, NOT_REMOVABLE[u.status], u.status)
        elif u.status == RuleStatus.UNUSED and (short := _too_new(u, w)):
            w.keep(r, short, "too_new")
        elif u.status == RuleStatus.UNUSED:
            candidates.append(removal(r, u))  # type: ignore[arg-type]
        elif u.sole_flows == 0:
            maybe_redundant.append(r)
        else:
            _narrow_or_keep(w, r, candidates)
    return candidates, maybe_redundant


def _when(at: datetime | None) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else "time unknown"


def _too_new(u: Usage, w: _Work) -> str:
    """Why an unused rule that changed inside the window has not existed long
    enough to remove, or ''."""
    if u.change not in ("created", "changed"):
        return ""
    days = u.existence_days(w.window_start, w.window_end)
    if days >= w.settings.min_window_days:
        return ""
    return (
        f"{u.change} on {_when(u.change_at)}: unused over the {days:.2g} days it has existed in "
        f"this form, less than --min-window-days {w.settings.min_window_days:g}; not "
        "recommended for removal yet"
    )


def _change_note(u: Usage, w: _Work) -> str:
    """A rule that changed inside the window is judged only over its time in this form: say so."""
    if u.change not in ("created", "changed"):
        return ""
    return (
        f"{u.change} on {_when(u.change_at)}: judged over the "
        f"{u.existence_days(w.window_start, w.window_end):.2g} days it has existed in this form"
    )


def _narrow_or_keep(w: _Work, r: SgRule, candidates: list[Candidate], note: str = "") -> None:
    m = w.matched_for(r)
    if not m.flows:
        w.keep(r, "rule_usage says used, but no observed flow of the window matches it", "no_flows")
        return
    c = narrow(r, m.flows, w.inv, w.settings, m.truncated)
    if c is not None:
        candidates.append(replace(c, notes=(*c.notes, note)) if note else c)
        return
    public, blocks = public_spread({ob.flow.peer_addr for ob in m.flows}, w.settings)
    if public:
        w.keep(
            r,
            f"public by observation: {m.stats.peers} peers across {blocks} "
            "address blocks; kept as it is",
            "public",
        )
    elif m.truncated:
        w.keep(
            r,
            f"{m.stats.peers} distinct peers, more than can be covered exactly "
            f"(over {w.settings.max_cover_peers} on one port); kept as it is",
            "too_many_peers",
        )
    else:
        w.keep(r, "already as narrow as the observed traffic", "minimal")


def _select_redundant(
    w: _Work, pool: Sequence[SgRule], removed: set[str], candidates: list[Candidate]
) -> None:
    """Remove redundant rules one at a time, widest first, re-checking the union each time."""
    for r in sorted(pool, key=lambda x: (-address_space(x.rule), x.group_id, x.rule_id)):
        trial = {rid: () for rid in (*removed, r.rule_id)}
        res = w.obs.replay(trial, scope=r)
        if res.flows_cut == 0:
            removed.add(r.rule_id)
            # Judged against the rules as the plan leaves them: a narrowed rule counts as narrowed.
            others = [
                o
                for o in evidence.rules_after(w.inv, candidates)
                if o.group_id == r.group_id and o.rule_id not in removed
            ]
            inside = structurally_redundant(r, others, w.inv)
            note = (
                f"everything it allows is also allowed by {inside}"
                if inside
                else ("every observed flow it allows is also allowed by rules that are kept")
            )
            candidates.append(
                Candidate(r, Kind.REDUNDANT, (), structural=inside is not None, notes=(note,))
            )
        else:
            note = "not removable as redundant: together with the other removals it would cut flows"
            _narrow_or_keep(w, r, candidates, note)


def _hold_periodic(
    w: _Work, candidates: list[Candidate], history: Mapping[str, History], days: float
) -> list[Candidate]:
    blocked = evidence.periodic_blocks(candidates, history, days)
    for c in candidates:
        if c.sg_rule.rule_id in blocked:
            w.drop(c, blocked[c.sg_rule.rule_id])
    return [c for c in candidates if c.sg_rule.rule_id not in blocked]


def _shadowed(w: _Work, candidates: list[Candidate], usage: Mapping[str, Usage]) -> list[Candidate]:
    """Rules left as they are that the plan's remaining rules cover by configuration: removals."""
    changing = {c.sg_rule.rule_id for c in candidates} | {d.rule_id for d in w.dropped}
    # a reviewer's dismissal and a rule deleted inside the window hold
    # against every kind of proposal
    changing |= {k.rule_id for k in w.kept if k.label in ("dismissed", "deleted")}
    pool = [
        r
        for r in w.inv.rules
        if r.rule_id not in changing
        and r.rule_id in usage
        and exclusion_reason(r, w.inv, w.settings) is None
    ]
    added = evidence.shadowed_removals(w.inv, candidates, pool)
    ids = {c.sg_rule.rule_id for c in added}
    w.kept = [k for k in w.kept if k.rule_id not in ids]
    return added


def _cap_rules(w: _Work, candidates: list[Candidate]) -> list[Candidate]:
    if w.settings.max_rules_per_sg is None:
        return candidates
    over = cover_limits.growth_over_cap(w.rules_by_group, candidates, w.settings.max_rules_per_sg)
    for c, why in over:
        w.drop(c, why)
    gone = {id(c) for c, _ in over}
    return [c for c in candidates if id(c) not in gone]


def _prove(w: _Work, candidates: list[Candidate]) -> list[Candidate]:
    """Drop every candidate that the replay blames for a cut, until nothing is cut."""
    while True:
        changes = {c.sg_rule.rule_id: c.proposed for c in candidates}
        res = w.obs.replay(changes)
        if res.flows_cut == 0:
            return candidates
        for c in [c for c in candidates if c.sg_rule.rule_id in res.cuts]:
            cut = res.cuts[c.sg_rule.rule_id]
            w.drop(
                c,
                f"replay: it would cut {cut.flows} accepted flows ({cut.connections} connections), "
                f"e.g. {describe_flow(cut.example)}",
            )
        candidates = [c for c in candidates if c.sg_rule.rule_id not in res.cuts]


def _families(rule: Rule, weight: Mapping[str, int]) -> list[tuple[int, int]]:
    if rule.family is not None:
        return [(rule.family, 1)]
    n = weight.get(rule.peer, 1) if rule.peer_type is PeerType.PREFIX_LIST else 1
    return [(4, n), (6, n)]  # references count against both families, to be safe


def _bucket_counts(rules: Sequence[Rule], weight: Mapping[str, int]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for rule in rules:
        for fam, n in _families(rule, weight):
            out[(rule.direction, fam)] = out.get((rule.direction, fam), 0) + n
    return out


def _enforce_quota(w: _Work, candidates: list[Candidate]) -> list[Candidate]:
    """Drop the largest additions of an SG until its rules fit the
    per-direction, per-family quota."""
    quota, weight = w.settings.quota_per_family, w.inv.prefix_list_weight
    for group, rules in sorted(w.rules_by_group.items()):
        while True:
            mine = [c for c in candidates if c.sg_rule.group_id == group]
            changed = {c.sg_rule.rule_id for c in mine}
            after = [r.rule for r in rules if r.rule_id not in changed] + [
                p for c in mine for p in c.proposed
            ]
            before = _bucket_counts([r.rule for r in rules], weight)
            over = {
                b: n
                for b, n in _bucket_counts(after, weight).items()
                if n > quota and n > before.get(b, 0)
            }
            growing = [c for c in mine if len(c.proposed) > 1]
            if not over or not growing:
                break
            worst = max(growing, key=lambda c: (len(c.proposed), c.sg_rule.rule_id))
            w.drop(
                worst,
                f"quota: {group} would hold {max(over.values())} rules in one direction and "
                f"family (limit {quota}); a prefix list or an SG reference would fit better",
            )
            candidates = [c for c in candidates if c is not worst]
    return candidates


def _dedupe(w: _Work, candidates: list[Candidate]) -> list[Candidate]:
    """Never propose a rule its SG already has (EC2 refuses duplicates); same access either way."""
    changed = {c.sg_rule.rule_id for c in candidates}
    seen = {(r.group_id, r.rule) for r in w.inv.rules if r.rule_id not in changed}
    out = []
    for c in candidates:
        fresh = tuple(p for p in c.proposed if (c.sg_rule.group_id, p) not in seen)
        seen.update((c.sg_rule.group_id, p) for p in fresh)
        if c.proposed and not fresh:
            note = "every narrowed rule it would become already exists in its SG"
            c = replace(
                c, kind=Kind.REDUNDANT, proposed=(), may_widen=False, notes=(*c.notes, note)
            )
        out.append(replace(c, proposed=fresh))
    return out


def _short_window(window_days: float, analysed: AnalysedWindow | None, settings: Settings) -> str:
    """Why the window is too short to rest a rating on, or "" when it is long enough."""
    reasons = []
    if window_days < settings.min_window_days:
        unit = "day" if window_days == 1 else "days"
        what = (
            f"{window_days:g} {unit} analysed"
            if analysed is not None
            else f"a window of {window_days:g} {unit}"
        )
        reasons.append(f"{what}, fewer than {settings.min_window_days:g} (--min-window-days)")
    if analysed is not None and analysed.missing:
        reasons.append(analysed.gap_sentence())
    return "; ".join(reasons)


def _risk(
    c: Candidate, window_days: float, settings: Settings, analysed: AnalysedWindow | None = None
) -> tuple[Risk, str]:
    base = {
        Kind.UNUSED: (
            Risk.MEDIUM,
            "removes access that no flow used in the window; rare jobs may need it",
        ),
        Kind.REDUNDANT: (
            Risk.MEDIUM,
            "redundant by observation: other rules allowed every observed flow",
        ),
        Kind.NARROW: (Risk.LOW, "stays inside the current rule and keeps every observed flow"),
        Kind.SG_REFERENCE: (
            Risk.MEDIUM,
            "an SG reference may widen access when the SG gains members",
        ),
        Kind.PREFIX_LIST: (Risk.LOW, "an AWS-managed prefix list inside the current CIDR"),
    }[c.kind]
    if c.kind is Kind.REDUNDANT and c.structural:
        return Risk.LOW, "another rule of the same SG allows everything this one allows"
    if c.may_widen and c.kind is Kind.PREFIX_LIST:
        base = (Risk.MEDIUM, "the AWS-managed prefix list reaches beyond the current CIDR")
    elif c.may_widen and c.kind is Kind.NARROW:
        base = (
            Risk.MEDIUM,
            "narrowed, but part of it is a reference that may widen access (see notes)",
        )
    short = _short_window(window_days, analysed, settings)
    if short:
        return base[0].raised(), f"{base[1]}; {short}"
    return base


def _evidence(
    c: Candidate, w: _Work, usage: Usage, start: datetime, end: datetime, days: float
) -> Evidence:
    st = w.matched_for(c.sg_rule).stats
    return Evidence(
        start,
        end,
        days,
        usage.status,
        usage.status_reason
        or "every ENI of the SG covered by an ALL-traffic flow log (per analyze)",
        flows=st.flows,
        connections=st.connections,
        sole_flows=usage.sole_flows,
        peers=st.peers,
        ports=st.ports,
        protocols=st.protocols,
        sample_peers=st.sample_peers,
        first_seen=st.first_seen or usage.first_seen,
        last_seen=st.last_seen or usage.last_seen,
        public_by_observation=c.public,
    )


def _action(c: Candidate) -> Action:
    """remove without proposed rules; replace for a move to a reference that may widen; else narrow.

    A prefix list inside the old CIDR is a narrowing like any sub-prefix; one that reaches beyond it
    may widen and is a replacement, marked like a CIDR → SG reference
    (docs/recommend.md#safety-contract).
    """
    if c.kind in (Kind.UNUSED, Kind.REDUNDANT):
        return Action.REMOVE
    if c.kind is Kind.SG_REFERENCE or (c.kind is Kind.PREFIX_LIST and c.may_widen):
        return Action.REPLACE
    return Action.NARROW


def build_plan(
    inv: Inventory,
    usage: Mapping[str, Usage],
    observed: Sequence[Observed] | Observations,
    window_start: datetime,
    window_end: datetime,
    settings: Settings,
    analysed: AnalysedWindow | None = None,
    *,
    dismissed: Mapping[str, str] | None = None,
    history: Mapping[str, History] | None = None,
) -> Plan:
    """Every proposal that survives the replay proof and the quotas, with evidence and risk.

    ``analysed`` names the days asked for and those with results; risk then rests on the
    analysed days. Without it the span ``window_start``..``window_end`` counts as analysed.
    The rules are ``inv``'s (the latest snapshot's, taken at ``inv.snapshot_taken_at``); the
    verification records that time and the analysed days. ``dismissed``: rule content key →
    why a reviewer dismissed it (those rules are kept as they are).
    ``history`` (rule_history per rule) holds back removals of periodic rules the window is too
    short for (:mod:`flowlens.recommend.evidence`).
    """
    obs = PyObservations(observed, inv) if isinstance(observed, Sequence) else observed
    w = _Work(inv, obs, settings, window_start, window_end, dismissed)
    candidates, pool = _first_pass(w, usage)
    removed = {c.sg_rule.rule_id for c in candidates if c.kind is Kind.UNUSED}
    _select_redundant(w, pool, removed, candidates)
    days = (
        float(analysed.days)
        if analysed is not None
        else (window_end - window_start).total_seconds() / 86400
    )
    candidates = _hold_periodic(w, candidates, history or {}, days)
    candidates += _shadowed(w, candidates, usage)
    candidates = _dedupe(w, _cap_rules(w, _enforce_quota(w, _prove(w, candidates))))
    final = obs.replay({c.sg_rule.rule_id: c.proposed for c in candidates})
    recs = []
    for c in sorted(candidates, key=lambda c: (c.sg_rule.group_id, c.sg_rule.rule_id)):
        risk, why = _risk(c, days, settings, analysed)
        u = usage[c.sg_rule.rule_id]
        ev = _evidence(c, w, u, window_start, window_end, days)
        notes = tuple(dict.fromkeys(n for n in (*c.notes, _change_note(u, w)) if n))
        if history and c.sg_rule.rule_id in history:
            ev = replace(ev, history=history[c.sg_rule.rule_id].to_dict())
        ev = replace(
            ev,
            permissiveness={
                "before": permissiveness.score(c.sg_rule.rule, inv.ctx),
                "after": permissiveness.set_score(c.proposed, inv.ctx),
            },
        )
        recs.append(
            Recommendation(
                c.sg_rule.rule_id,
                c.sg_rule.group_id,
                _action(c),
                c.kind,
                c.sg_rule.rule,
                c.proposed,
                ev,
                risk,
                why,
                c.may_widen,
                notes,
            )
        )
    verification = Verification(
        final.flows_checked,
        final.connections_checked,
        final.flows_cut,
        final.flows_not_allowed_now,
        final.flows_unattributed,
        final.flows_unattributed_protected,
        inv.snapshot_taken_at,
        tuple(analysed.analysed) if analysed is not None else (),
    )
    return Plan(
        window_start,
        window_end,
        verification,
        tuple(recs),
        tuple(w.dropped),
        tuple(w.kept),
        settings.to_dict(),
        analysed,
    )
