"""Collect the raw inventory of many accounts × regions through one assumed role per account.

The organisation's tools (Prowler, CloudMapper, Cloud Custodian) work the same way: from one
place, assume a read-only role in every member account and read each region. Here:

1. per account (in parallel, at most ``workers`` at a time): ``sts:AssumeRole`` on
   ``arn:<partition>:iam::<account>:role/<role name>`` with session name ``flowlens`` (and the
   external id when given), then one EC2 client per region, each with adaptive retries;
2. per account × region (in parallel, same bound): every describe call of
   :mod:`flowlens.inventory.from_aws` into a raw inventory of its own;
3. the parts are merged in (account, region) order, so the result does not depend on which
   thread finished first.

An account whose role cannot be assumed, or a region whose calls fail, is a
:class:`ScopeFailure` naming it and AWS's answer; the other parts are kept. The snapshot then
records which (account, region) pairs it read, so the timeline does not take the missing ones
as deleted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flowlens.aws import AwsOptions, assume_role, caller_identity
from flowlens.errors import AwsAccessError, UsageError
from flowlens.inventory.build import RawInventory, is_account_id

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 8

#: An IAM role name, optionally with its path (``audit/flowlens-readonly``).
_ROLE_NAME = re.compile(r"[\w+=,.@-]+(/[\w+=,.@-]+)*")


@dataclass(frozen=True)
class ScopeFailure:
    """An account (``region`` None: its role could not be assumed) or one region of it that
    could not be read, and why."""

    account: str
    region: str | None
    error: str

    def to_dict(self) -> dict[str, str | None]:
        return {"account": self.account, "region": self.region, "error": self.error}

    def describe(self) -> str:
        return f"account {self.account}{f' {self.region}' if self.region else ''}: {self.error}"


@dataclass
class AccountsCollection:
    """The merged raw inventory, the (account, region) pairs it holds, and what failed."""

    raw: RawInventory
    scopes: list[tuple[str, str]] = field(default_factory=list)
    failures: list[ScopeFailure] = field(default_factory=list)

    @property
    def accounts(self) -> list[str]:
        return sorted({a for a, _ in self.scopes})


def parse_accounts(text: str) -> list[str]:
    """``111122223333,444455556666`` → the ids, in order, once each; anything else is exit 2."""
    ids = [a.strip() for a in text.split(",") if a.strip()]
    bad = [a for a in ids if not is_account_id(a)]
    if bad or not ids:
        raise UsageError(
            f"--accounts {text!r}: account ids are 12 digits, comma-separated "
            f"(e.g. 111122223333,444455556666){'; not one: ' + ', '.join(bad) if bad else ''}"
        )
    return list(dict.fromkeys(ids))


def role_arn(partition: str, account: str, role_name: str) -> str:
    """The ARN of ``role_name`` (``path/name`` allowed) in ``account``."""
    name = role_name.strip().strip("/")
    if not _ROLE_NAME.fullmatch(name):
        raise UsageError(
            f"--role-name {role_name!r} is not an IAM role name (letters, digits and +=,.@_-, "
            "optionally after a path such as audit/)"
        )
    return f"arn:{partition}:iam::{account}:role/{name}"


def _clients(
    opts: AwsOptions,
    arn: str,
    external_id: str | None,
    regions: Sequence[str],
) -> dict[str, Any]:
    """Assume the role, then one EC2 client per region (made in this thread: boto3 sessions
    are not thread-safe, clients are)."""
    from flowlens.inventory.from_aws import ec2_client

    sess = assume_role(opts, arn, external_id=external_id)
    return {r: ec2_client(sess, r, opts.endpoint) for r in regions}


def _read(client: Any, account: str, region: str, endpoint: str | None) -> RawInventory:
    from flowlens.inventory.from_aws import collect

    return collect({region: client}, [region], endpoint, account=account)


def collect_accounts(
    opts: AwsOptions,
    accounts: Sequence[str],
    regions: Sequence[str],
    role_name: str,
    *,
    external_id: str | None = None,
    workers: int = DEFAULT_WORKERS,
) -> AccountsCollection:
    """Every account × region through the assumed roles; see the module docstring."""
    if workers < 1:
        raise UsageError(f"--workers {workers}: at least 1")
    partition = caller_identity(opts).partition
    arns = {a: role_arn(partition, a, role_name) for a in accounts}
    failures: list[ScopeFailure] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowlens-org") as pool:
        assumed = {a: pool.submit(_clients, opts, arns[a], external_id, regions) for a in accounts}
        clients: dict[str, dict[str, Any]] = {}
        for account, future in assumed.items():
            try:
                clients[account] = future.result()
            except AwsAccessError as exc:
                failures.append(ScopeFailure(account, None, str(exc)))
        reads = {
            (a, r): pool.submit(_read, c[r], a, r, opts.endpoint)
            for a, c in clients.items()
            for r in regions
        }
        parts: dict[tuple[str, str], RawInventory] = {}
        for (account, region), read in reads.items():
            try:
                parts[(account, region)] = read.result()
            except AwsAccessError as exc:
                text = str(exc).removeprefix(f"{region}: ")  # the failure names it already
                failures.append(ScopeFailure(account, region, text))
    merged = RawInventory()
    for scope in sorted(parts):
        merged.merge(parts[scope])
    merged.stale_collected = bool(parts) and all(p.stale_collected for p in parts.values())
    for f in failures:
        log.error("inventory of %s failed", f.describe())
    return AccountsCollection(merged, sorted(parts), failures)
