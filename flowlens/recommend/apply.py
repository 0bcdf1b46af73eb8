"""Apply a plan to EC2: dry-run by default; with commit, authorize → check → revoke, with rollback.

The only boto3 code of the recommender. A plan (``recommend --format json``) or a rollback file
is read as a *change set*: rules to authorize, then rules to revoke by id. Dry-run makes every
call with ``DryRun=True``; EC2 answers ``DryRunOperation`` when the call would succeed.
Commit writes the rollback file before the first call and rewrites it after every call, so it
always re-authorizes exactly what was revoked and revokes exactly what was authorized.

Before the first call, the rules to revoke are compared with the live ones
(describe-security-group-rules): a plan made from a snapshot whose rules have changed since is
refused (:func:`check_live`), unless forced, and a forced override is recorded in the rollback file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from flowlens.atomic import write_text_atomic
from flowlens.errors import AwsAccessError, InputError
from flowlens.model.net import Rule
from flowlens.recommend.ec2_shapes import ip_permission, rule_from_api
from flowlens.recommend.render_md import rule_text

log = logging.getLogger(__name__)

#: What ``apply --commit`` needs (``apply`` without commit needs the same, as DryRun checks them).
PERMISSIONS = (
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:DescribeSecurityGroupRules",
)


@dataclass(frozen=True)
class Authorize:
    group_id: str
    rules: tuple[Rule, ...]
    source_rule_id: str = ""

    @property
    def direction(self) -> str:
        return self.rules[0].direction


@dataclass(frozen=True)
class Revoke:
    group_id: str
    rule_id: str
    rule: Rule


@dataclass(frozen=True)
class ChangeSet:
    authorize: tuple[Authorize, ...]
    revoke: tuple[Revoke, ...]
    #: when the rules it refers to were seen (a plan's ``verification.snapshot_taken_at``), if known
    snapshot_taken_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "flowlens-change-set",
            "authorize": [
                {
                    "group_id": a.group_id,
                    "source_rule_id": a.source_rule_id,
                    "rules": [r.to_dict() for r in a.rules],
                }
                for a in self.authorize
            ],
            "revoke": [
                {"group_id": r.group_id, "rule_id": r.rule_id, "rule": r.rule.to_dict()}
                for r in self.revoke
            ],
        }


@dataclass(frozen=True)
class Drift:
    """A rule the change set would revoke that is no longer live as the change set knows it."""

    group_id: str
    rule_id: str
    how: str
    live: Rule | None = None  # the rule as it is now, when it still exists in the same group

    def __str__(self) -> str:
        return f"{self.rule_id} ({self.group_id}): {self.how}"


@dataclass(frozen=True)
class Step:
    """One EC2 call and what came of it."""

    call: str
    target: str
    ok: bool
    detail: str


@dataclass
class ApplyResult:
    steps: list[Step] = field(default_factory=list)
    rollback_path: Path | None = None

    @property
    def failed(self) -> bool:
        return any(not s.ok for s in self.steps)


def other_flowlens_file(doc: Mapping[str, Any]) -> str:
    """What a flowlens JSON file that is not a plan or change set is (""
    when it is none we know)."""
    if str(doc.get("schema") or "").startswith("flowlens.report"):
        return "a flowlens report (report.json); apply the plan.json written beside it"
    if {"stamp", "taken_at", "inputs"} <= doc.keys():
        return (
            "an inventory snapshot's snapshot.json; apply a plan from 'flowlens "
            "recommend --format json'"
        )
    if "stages" in doc:
        return (
            "a run summary or run state of 'flowlens run'; apply the plan.json in "
            "the run's --out directory"
        )
    if {"objects", "rows", "quarantined"} <= doc.keys():
        return (
            "an ingest summary ('flowlens ingest --json'); apply a plan from 'flowlens "
            "recommend --format json'"
        )
    return ""


def change_set(doc: Mapping[str, Any], source: str) -> ChangeSet:
    """A plan or a change set (rollback file) as a :class:`ChangeSet`; other
    flowlens files are named."""
    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: a plan is a JSON object, found {type(doc).__name__}")
    other = other_flowlens_file(doc)
    if other:
        raise InputError(f"{source} is not a plan: it is {other}")
    try:
        if "recommendations" in doc:
            recs = doc["recommendations"]
            auth = tuple(
                Authorize(
                    r["group_id"], tuple(Rule.from_dict(p) for p in r["proposed"]), r["rule_id"]
                )
                for r in recs
                if r["proposed"]
            )
            rev = tuple(
                Revoke(r["group_id"], r["rule_id"], Rule.from_dict(r["current"])) for r in recs
            )
            taken = (doc.get("verification") or {}).get("snapshot_taken_at")
            return ChangeSet(auth, rev, str(taken) if taken else None)
        if doc.get("kind") == "flowlens-change-set":
            auth = tuple(
                Authorize(
                    a["group_id"],
                    tuple(Rule.from_dict(p) for p in a["rules"]),
                    a.get("source_rule_id", ""),
                )
                for a in doc["authorize"]
                if a["rules"]
            )
            rev = tuple(
                Revoke(r["group_id"], r["rule_id"], Rule.from_dict(r["rule"]))
                for r in doc["revoke"]
            )
            return ChangeSet(auth, rev)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{source}: not a flowlens plan or change set ({type(exc).__name__}: {exc})"
        ) from None
    raise InputError(
        f"{source}: neither a plan (no 'recommendations') nor a change set (no "
        "kind 'flowlens-change-set')"
    )


def load_change_set(path: Path) -> ChangeSet:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such plan file") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    return change_set(doc, str(path))


def make_client(
    region: str | None = None, profile: str | None = None, endpoint_url: str | None = None
) -> Any:
    """An EC2 client; credential problems become :class:`AwsAccessError`."""
    from flowlens.aws import AwsOptions, client

    return client(AwsOptions(profile, region, endpoint_url), "ec2")


def _authorize_call(client: Any, a: Authorize, dry_run: bool) -> dict[str, Any]:
    fn = getattr(client, f"authorize_security_group_{a.direction}")
    return dict(
        fn(GroupId=a.group_id, IpPermissions=[ip_permission(r) for r in a.rules], DryRun=dry_run)
    )


def _revoke_call(client: Any, r: Revoke, dry_run: bool) -> None:
    fn = getattr(client, f"revoke_security_group_{r.rule.direction}")
    fn(GroupId=r.group_id, SecurityGroupRuleIds=[r.rule_id], DryRun=dry_run)


def _error(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return str(err.get("Code", "")), str(err.get("Message", exc))
    if isinstance(exc, NoCredentialsError):
        raise AwsAccessError(
            "no AWS credentials found; set AWS_PROFILE or pass --profile"
        ) from None
    return type(exc).__name__, str(exc)


def dry_run(client: Any, cs: ChangeSet) -> ApplyResult:
    """Make every call with DryRun=True; a ``DryRunOperation`` answer means it would succeed."""
    result = ApplyResult()
    calls: list[tuple[str, str, Any]] = [
        (
            f"authorize-{a.direction}",
            f"{a.group_id} ({len(a.rules)} rules)",
            lambda a=a: _authorize_call(client, a, True),
        )
        for a in cs.authorize
    ] + [
        (
            f"revoke-{r.rule.direction}",
            f"{r.group_id} {r.rule_id}",
            lambda r=r: _revoke_call(client, r, True),
        )
        for r in cs.revoke
    ]
    for name, target, call in calls:
        try:
            call()
            result.steps.append(Step(name, target, False, "EC2 ignored the DryRun flag"))
        except (ClientError, BotoCoreError) as exc:
            code, msg = _error(exc)
            ok = code == "DryRunOperation"
            result.steps.append(
                Step(name, target, ok, "would succeed" if ok else f"would fail: {code}: {msg}")
            )
    return result


class _Rollback:
    """The rollback change set, rewritten atomically after every call that changed something.

    ``forced`` (the drift that ``--force`` overrode) is kept in the file: whoever rolls back
    learns that the change was made over rules that had changed since the plan.
    """

    def __init__(
        self,
        path: Path,
        forced: Sequence[Drift] = (),
        snapshot_taken_at: str | None = None,
        not_ready: tuple[str, str] | None = None,
    ) -> None:
        self.path, self.authorize, self.revoke = path, [], []  # type: ignore[var-annotated]
        self.forced, self.snapshot_taken_at, self.not_ready = (
            tuple(forced),
            snapshot_taken_at,
            not_ready,
        )
        self.save()

    def save(self) -> None:
        doc = ChangeSet(tuple(self.authorize), tuple(self.revoke)).to_dict()
        if self.forced or self.not_ready:
            doc["forced"] = {
                "plan_snapshot_taken_at": self.snapshot_taken_at,
                "changed_rules": [
                    {"rule_id": d.rule_id, "group_id": d.group_id, "how": d.how}
                    for d in self.forced
                ],
            }
        if self.not_ready:  # a plan applied before its verification said ready (flowlens verify)
            doc["forced"]["plan_status"], doc["forced"]["plan_status_reason"] = self.not_ready
        write_text_atomic(json.dumps(doc, indent=2) + "\n", self.path)


def live_rules(client: Any, group_ids: Sequence[str]) -> dict[str, tuple[str, Rule]]:
    """rule id → (group id, rule) of every live rule of these groups
    (describe-security-group-rules)."""
    out: dict[str, tuple[str, Rule]] = {}
    if not group_ids:
        return out
    try:
        pages = client.get_paginator("describe_security_group_rules").paginate(
            Filters=[{"Name": "group-id", "Values": sorted(set(group_ids))}]
        )
        for page in pages:
            for item in page["SecurityGroupRules"]:
                out[item["SecurityGroupRuleId"]] = (item["GroupId"], rule_from_api(item))
    except (ClientError, BotoCoreError) as exc:
        code, msg = _error(exc)
        raise AwsAccessError(
            f"describe-security-group-rules failed, so the plan cannot be checked against "
            f"the live rules: {code}: {msg}"
        ) from None
    return out


def drift(revokes: Sequence[Revoke], live: Mapping[str, tuple[str, Rule]]) -> list[Drift]:
    """Every rule to revoke that is gone, moved to another group, or
    different from what the plan saw.

    Descriptions are not compared: EC2 matches rules by content, and a new description does not
    change what a rule allows.
    """
    out = []
    for r in revokes:
        found = live.get(r.rule_id)
        if found is None:
            out.append(Drift(r.group_id, r.rule_id, "no longer exists"))
        elif found[0] != r.group_id:
            out.append(Drift(r.group_id, r.rule_id, f"now belongs to {found[0]}"))
        elif found[1] != r.rule:
            out.append(
                Drift(
                    r.group_id,
                    r.rule_id,
                    f"changed from {_words(r.rule)} to {_words(found[1])}",
                    found[1],
                )
            )
    return out


def _words(rule: Rule) -> str:
    return f"{rule.direction} {rule_text(rule)}"


def check_live(client: Any, cs: ChangeSet) -> list[Drift]:
    """Compare the rules ``cs`` revokes with the live ones; the
    differences (empty when all match)."""
    return drift(cs.revoke, live_rules(client, [r.group_id for r in cs.revoke]))


def stale_plan_error(source: str, cs: ChangeSet, changed: Sequence[Drift]) -> InputError:
    """The refusal of a plan whose rules changed since it was made, naming each rule and how."""
    since = (
        f"since the snapshot of {cs.snapshot_taken_at} it was planned from"
        if cs.snapshot_taken_at
        else "since it was made"
    )
    lines = "\n".join(f"  {d}" for d in changed)
    return InputError(
        f"{source}: {len(changed)} rule(s) it would revoke changed {since}:\n{lines}\n"
        "re-run 'flowlens inventory' and 'flowlens recommend' for a fresh plan, "
        "or pass --force to apply it anyway (recorded in the rollback file)"
    )


def commit(
    client: Any,
    cs: ChangeSet,
    rollback_path: Path,
    forced: Sequence[Drift] = (),
    not_ready: tuple[str, str] | None = None,
) -> ApplyResult:
    """Authorize every new rule, check they exist, then revoke the old ones;
    stop at the first failure.

    ``forced``: the drift found before and overridden (written into the rollback file). A revoke
    removes the rule by id, whatever it holds now, so the rollback re-authorizes the live content.
    ``not_ready``: (status, reason) of a plan applied with --force before it was verified ready.
    """
    rb = _Rollback(rollback_path, forced, cs.snapshot_taken_at, not_ready)
    live = {d.rule_id: d.live for d in forced if d.live is not None}
    result = ApplyResult(rollback_path=rollback_path)
    new_ids = _authorize_all(client, cs, rb, result)
    if new_ids is None or not _check(client, new_ids, result):
        return result
    for r in cs.revoke:
        try:
            _revoke_call(client, r, False)
        except (ClientError, BotoCoreError) as exc:
            code, msg = _error(exc)
            result.steps.append(
                Step(
                    f"revoke-{r.rule.direction}",
                    f"{r.group_id} {r.rule_id}",
                    False,
                    f"{code}: {msg}",
                )
            )
            return result
        rb.authorize.append(Authorize(r.group_id, (live.get(r.rule_id, r.rule),), r.rule_id))
        rb.save()
        result.steps.append(
            Step(f"revoke-{r.rule.direction}", f"{r.group_id} {r.rule_id}", True, "revoked")
        )
    return result


def _authorize_all(
    client: Any, cs: ChangeSet, rb: _Rollback, result: ApplyResult
) -> list[str] | None:
    new_ids: list[str] = []
    for a in cs.authorize:
        name, target = f"authorize-{a.direction}", f"{a.group_id} ({len(a.rules)} rules)"
        try:
            resp = _authorize_call(client, a, False)
        except (ClientError, BotoCoreError) as exc:
            code, msg = _error(exc)
            result.steps.append(Step(name, target, False, f"{code}: {msg}"))
            return None
        created = _created(client, a, resp)
        rb.revoke.extend(Revoke(a.group_id, rid, rule) for rid, rule in created)
        rb.save()
        new_ids += [rid for rid, _ in created]
        result.steps.append(
            Step(name, target, True, "created " + ", ".join(rid for rid, _ in created))
        )
    return new_ids


def _created(client: Any, a: Authorize, resp: Mapping[str, Any]) -> list[tuple[str, Rule]]:
    """The (id, rule) of every rule the authorize call created.

    EC2 lists them in the response; moto 5.2 lists only one per call when several
    IpPermissions share protocol and ports, so missing ones are looked up by their content.
    """
    created = [
        (i["SecurityGroupRuleId"], rule_from_api(i)) for i in resp.get("SecurityGroupRules", [])
    ]
    if len(created) >= len(a.rules):
        return created
    have = {rule for _, rule in created}
    rules = client.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [a.group_id]}]
    )["SecurityGroupRules"]
    wanted = set(a.rules) - have
    created += [
        (i["SecurityGroupRuleId"], rule_from_api(i)) for i in rules if rule_from_api(i) in wanted
    ]
    return created


def _check(client: Any, new_ids: Sequence[str], result: ApplyResult) -> bool:
    """describe-security-group-rules must return every rule just created."""
    if not new_ids:
        return True
    try:
        found = {
            r["SecurityGroupRuleId"]
            for r in client.describe_security_group_rules(SecurityGroupRuleIds=list(new_ids))[
                "SecurityGroupRules"
            ]
        }
    except (ClientError, BotoCoreError) as exc:
        code, msg = _error(exc)
        result.steps.append(
            Step("describe-rules", f"{len(new_ids)} new rules", False, f"{code}: {msg}")
        )
        return False
    missing = sorted(set(new_ids) - found)
    result.steps.append(
        Step(
            "describe-rules",
            f"{len(new_ids)} new rules",
            not missing,
            "all present" if not missing else f"missing: {', '.join(missing)}",
        )
    )
    return not missing
