"""The plan as a reviewable, re-runnable bash script of AWS CLI calls: authorize
every new rule, then revoke.

The script checks where it runs before touching anything (``aws sts get-caller-identity``
against the plan's account, every call pinned to the plan's region), checks each rule to
revoke is still the rule that was planned, supports ``--dry-run`` (EC2's DryRun flag) and
can be run again after a partial failure: an authorization that already exists and a rule
already revoked are reported and skipped. AWS-sourced strings appear only as quoted
arguments (``shlex.quote``), never in comments. Pure: builds text.
"""

from __future__ import annotations

import json
import shlex

from flowlens.model.net import ICMPS, PORTED, Rule, ec2_protocol
from flowlens.model.plan import Plan, Recommendation
from flowlens.recommend.ec2_shapes import ip_permission
from flowlens.recommend.render_md import basis_sentence, delta_lines
from flowlens.recommend.text import comment_text, days_text

#: The functions every script starts with; the plan's steps call them.
_PRELUDE = r"""
usage() {
  cat <<'USAGE'
usage: plan.sh [--dry-run] [--account ID] [--region REGION]
  --dry-run         check identity, the rules to revoke and permissions (EC2 DryRun); change nothing
  --account ID      the account of steps the plan has no account for (the inventory did not say)
  --region REGION   the region of steps the plan has no region for (the inventory did not say)
USAGE
}

DRY_RUN=0
ARG_ACCOUNT=""
ARG_REGION=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --account) ARG_ACCOUNT="${2:?--account needs an account id}"; shift ;;
    --region) ARG_REGION="${2:?--region needs a region}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "plan.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

if [[ -n "$NEEDS_ACCOUNT" && -z "$ARG_ACCOUNT" ]]; then
  echo "plan.sh: the plan does not record the account of every step;" \
    "pass --account ID to say where it must run" >&2
  exit 2
fi
if [[ -n "$NEEDS_REGION" && -z "$ARG_REGION" ]]; then
  echo "plan.sh: the plan does not record the region of every step;" \
    "pass --region REGION to say where it must run" >&2
  exit 2
fi
STS_REGION="${FIRST_REGION:-$ARG_REGION}"
STS_ARGS=()
[[ -n "$STS_REGION" ]] && STS_ARGS=(--region "$STS_REGION")
if ! CALLER="$(aws sts get-caller-identity ${STS_ARGS[@]+"${STS_ARGS[@]}"} \
      --query Account --output text)" \
    || [[ -z "$CALLER" ]]; then
  echo "plan.sh: cannot tell which account these credentials belong to" \
    "(aws sts get-caller-identity failed)" >&2
  exit 3
fi
if [[ " $PLAN_ACCOUNTS ${ARG_ACCOUNT} " != *" $CALLER "* ]]; then
  echo "plan.sh: refusing: the credentials are for account $CALLER," \
    "the plan is for ${PLAN_ACCOUNTS:-$ARG_ACCOUNT}" >&2
  exit 1
fi
echo "plan.sh: running as account $CALLER$([[ $DRY_RUN == 1 ]] && echo ', dry run')" >&2

FAILED=0
OTHER=0
DRY=()  # expanded as ${DRY[@]+...}: an empty array is "unbound" under set -u in bash before 4.4
[[ $DRY_RUN == 1 ]] && DRY=(--dry-run)

here() {  # here STEP ACCOUNT REGION: sets STEP_REGION; false (skip the step) for another account
  STEP_REGION="${3:-$ARG_REGION}"
  if [[ "${2:-$ARG_ACCOUNT}" != "$CALLER" ]]; then
    echo "$1: for account ${2:-$ARG_ACCOUNT}, not run with these credentials"
    OTHER=$((OTHER + 1)); return 1
  fi
}

ec2() {  # ec2 ARGS...: one EC2 call in the step's region; its stderr is kept in $ERR
  local out
  if out="$(aws ec2 "$@" --region "$STEP_REGION" 2>&1 >/dev/null)"; then ERR=""; return 0; fi
  ERR="$out"; return 1
}

authorize() {  # authorize STEP ACCOUNT REGION DIRECTION GROUP PERMISSIONS_JSON
  local step="$1" direction="$4" group="$5" perms="$6"
  here "$step" "$2" "$3" || return 0
  if ec2 "authorize-security-group-$direction" --group-id "$group" --ip-permissions "$perms" \
      ${DRY[@]+"${DRY[@]}"}; then
    echo "$step: authorized in $STEP_REGION"
  elif [[ "$ERR" == *DryRunOperation* ]]; then
    echo "$step: would authorize in $STEP_REGION (dry run)"
  elif [[ "$ERR" == *InvalidPermission.Duplicate* ]]; then
    echo "$step: already authorized (an earlier run), kept"
  else
    echo "$step: authorize failed: $ERR" >&2
    echo "plan.sh: stopping before any revocation: the new rules must all exist first;" \
      "fix and re-run" >&2
    exit 1
  fi
}

# live_rule RULE_ID: protocol, group, egress, ports and peer, tab-separated (None when absent)
live_rule() {
  local query='SecurityGroupRules[0].[IpProtocol,GroupId,IsEgress,FromPort,ToPort,'
  query+='CidrIpv4,CidrIpv6,PrefixListId,ReferencedGroupInfo.GroupId]'
  aws ec2 describe-security-group-rules --region "$STEP_REGION" --security-group-rule-ids "$1" \
    --output text --query "$query" 2>&1
}

unchecked() {  # unchecked STEP RULE_ID: the plan does not carry the current rule to check against
  echo "$1: not revoking $2: the plan does not record the rule as it was planned," \
    "so it cannot be checked" >&2
  FAILED=$((FAILED + 1))
}

# revoke STEP ACCOUNT REGION DIRECTION GROUP RULE_ID PROTOCOL_NAME PROTOCOL_NUMBER PLANNED
revoke() {
  local step="$1" direction="$4" group="$5" rule="$6" pname="$7" pnum="$8" planned="$9"
  local live proto rest
  here "$step" "$2" "$3" || return 0
  if ! live="$(live_rule "$rule")"; then
    if [[ "$live" == *InvalidSecurityGroupRuleId.NotFound* ]]; then
      echo "$step: $rule no longer exists (revoked by an earlier run?), skipped"; return 0
    fi
    echo "$step: cannot read $rule: $live" >&2; FAILED=$((FAILED + 1)); return 0
  fi
  IFS=$'\t' read -r proto rest <<<"$live"
  if [[ ( "$proto" != "$pname" && "$proto" != "$pnum" ) || "$rest" != "$planned" ]]; then
    echo "$step: refusing to revoke $rule: it changed since the plan" >&2
    echo "  planned: $pname	$planned" >&2
    echo "  live:    $live" >&2
    FAILED=$((FAILED + 1)); return 0
  fi
  if ec2 "revoke-security-group-$direction" --group-id "$group" --security-group-rule-ids "$rule" \
      ${DRY[@]+"${DRY[@]}"}; then
    echo "$step: revoked"
  elif [[ "$ERR" == *DryRunOperation* ]]; then
    echo "$step: would revoke (dry run)"
  elif [[ "$ERR" == *InvalidSecurityGroupRuleId.NotFound* ]]; then
    echo "$step: already revoked, skipped"
  else
    echo "$step: revoke failed: $ERR" >&2; FAILED=$((FAILED + 1))
  fi
}
"""

_FINISH = r"""
if [[ $FAILED -gt 0 ]]; then
  echo "plan.sh: $FAILED revocation(s) not done (see above); the rest is done;" \
    "re-run after fixing" >&2
  exit 1
fi
if [[ $OTHER -gt 0 ]]; then
  echo "plan.sh: $OTHER step(s) are for other accounts:" \
    "run this script again with their credentials" >&2
  exit 1
fi
echo "plan.sh: done$([[ $DRY_RUN == 1 ]] && echo ' (dry run: nothing changed)')"
"""


def _comment(rec: Recommendation, index: int) -> list[str]:
    ev = rec.evidence
    lines = [
        f"# step {index}: {comment_text(rec.rule_id)} in {comment_text(rec.group_id)}: "
        f"{rec.action.value}/{rec.kind.value}, risk {rec.risk.value}; {ev.flows} flows, "
        f"{ev.connections} connections, {ev.peers} peers, {ev.ports} ports in "
        f"{days_text(ev.window_days)}",
        f"#   why: {comment_text(rec.risk_reason)}",
    ]
    if rec.may_widen:
        lines.append(
            "#   MAY WIDEN: not a subset of the current rule (an SG reference or "
            "prefix list); see the plan"
        )
    return lines


def _planned_line(group_id: str, rule: Rule) -> str:
    """What ``live_rule`` prints after the protocol for this rule (AWS CLI text
    output: None, True/False)."""
    ported = rule.ip_protocol in PORTED or rule.ip_protocol in ICMPS
    ports = (
        str(-1 if rule.from_port is None else rule.from_port),
        str(-1 if rule.to_port is None else rule.to_port),
    )
    peers = {
        t: (rule.peer if rule.peer_type == t else "None")
        for t in ("cidr4", "cidr6", "prefix_list", "sg")
    }
    return "\t".join(
        [
            group_id,
            "True" if rule.direction == "egress" else "False",
            *(ports if ported else ("-1", "-1")),
            *peers.values(),
        ]
    )


def _call(*words: str) -> str:
    return " ".join(shlex.quote(w) for w in words)


def _authorize(rec: Recommendation, step: str) -> str:
    perms = json.dumps([ip_permission(rule) for rule in rec.proposed], separators=(",", ":"))
    return _call(
        "authorize",
        step,
        rec.account_id,
        rec.region,
        rec.proposed[0].direction,
        rec.group_id,
        perms,
    )


def _revoke(rec: Recommendation, step: str) -> str:
    cur = rec.current
    if (
        cur is None
    ):  # a minimal-shape plan: nothing to check the live rule against, so it is not revoked
        return _call("unchecked", step, rec.rule_id)
    return _call(
        "revoke",
        step,
        rec.account_id,
        rec.region,
        cur.direction,
        rec.group_id,
        rec.rule_id,
        ec2_protocol(cur.ip_protocol),
        str(cur.ip_protocol),
        _planned_line(rec.group_id, cur),
    )


def render_cli(plan: Plan) -> str:
    """A bash script: identity and region checks, all authorizations first, then
    the checked revocations."""
    v = plan.verification
    w = plan.window_dict()
    recs = plan.recommendations
    accounts = sorted({r.account_id for r in recs if r.account_id})
    regions = sorted({r.region for r in recs if r.region})
    head = [
        "#!/usr/bin/env bash",
        "# flowlens tightening plan; review before running. Run with --dry-run first.",
        f"# window: {w['start']} .. {w['end']} ({days_text(plan.window_days)} analysed)",
        *([f"# {comment_text(plan.gap_sentence())}"] if plan.gap_sentence() else []),
        f"# replay proof: {comment_text(v.claim())}",
        f"# {comment_text(basis_sentence(plan))}",
        f"# connectivity: {comment_text(plan.delta().summary())}",
        "# Re-runnable: rules already authorized or already revoked are "
        "skipped; a rule that changed",
        "# since the plan is not revoked.",
        "set -uo pipefail",
        *(f"#   {comment_text(line)}" for line in delta_lines(plan)),
        *(
            f"# kept: {comment_text(f'{k.rule_id} ({k.group_id}) {k.reason}')}"
            for k in plan.kept
            if k.label == "dismissed"
        ),
        "",
        "# where the plan's rules live (from the inventory snapshot); every "
        "call is pinned to a region",
        f"PLAN_ACCOUNTS={shlex.quote(' '.join(accounts))}",
        f"FIRST_REGION={shlex.quote(regions[0] if regions else '')}",
        f"NEEDS_ACCOUNT={shlex.quote('yes' if any(not r.account_id for r in recs) else '')}",
        f"NEEDS_REGION={shlex.quote('yes' if any(not r.region for r in recs) else '')}",
        _PRELUDE,
        "# 1. authorize the new rules (nothing is revoked until all of them exist)",
    ]
    body: list[str] = []
    for i, rec in enumerate(recs, start=1):
        if rec.proposed:
            body += [*_comment(rec, i), _authorize(rec, f"step {i}")]
    tail = ["", "# 2. revoke the old rules, each checked against the plan first"]
    for i, rec in enumerate(recs, start=1):
        tail += [
            f"# step {i}: revoke {comment_text(rec.rule_id)} ({rec.action.value})",
            _revoke(rec, f"step {i}"),
        ]
    return "\n".join([*head, *body, *tail, _FINISH])
