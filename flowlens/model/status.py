"""What the analysis says about a rule and a rejected record: the status and cause vocabularies.

Every stage tests a status through these enums (they are ``str`` subclasses, so a value read
from a results table compares equal to its member). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class RuleStatus(StrEnum):
    """``rule_usage.status``: docs/analysis.md explains each."""

    USED = "used"
    UNUSED = "unused"
    UNOBSERVABLE = "unobservable"
    NO_COVERAGE = "no_coverage"
    NO_MEMBERS = "no_members"


class RuleChange(StrEnum):
    """``rule_usage.change``: how a rule's latest content began or ended inside the analysed day."""

    CREATED = "created"
    CHANGED = "changed"
    DELETED = "deleted"


class RejectCause(StrEnum):
    """``rejected.cause``: why a REJECT record was rejected."""

    NACL = "nacl"
    SG = "sg"
    BPA = "bpa"
    LATE_PACKET = "late_packet"
    UNKNOWN = "unknown"


#: Why rules with these statuses are never removal candidates.
NOT_REMOVABLE: Mapping[RuleStatus, str] = {
    RuleStatus.NO_COVERAGE: "not every ENI of its SG was covered by an ALL-traffic flow log for "
    "the whole window, so 'unused' cannot be known",
    RuleStatus.UNOBSERVABLE: "the traffic it allows is never recorded by flow logs (Amazon DNS, "
    "IMDS, time sync, DHCP, ICMP type/code), so its use cannot be observed",
    RuleStatus.NO_MEMBERS: "no ENI carries its SG, so no traffic can show whether it is needed; "
    "removing it changes nothing today and breaks the next attachment (delete the SG "
    "itself if it is abandoned)",
}

#: When a rule's rows over several analysed days disagree and none says used, the first of these
#: that occurs is the combined status (see :func:`flowlens.recommend.inputs.combine_usage`).
UNCERTAIN_ORDER: tuple[RuleStatus, ...] = (
    RuleStatus.NO_COVERAGE,
    RuleStatus.UNOBSERVABLE,
    RuleStatus.NO_MEMBERS,
)
