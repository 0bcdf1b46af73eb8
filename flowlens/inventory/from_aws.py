"""Collect the raw inventory from the EC2 API: the only module here that talks to boto3.

Every call goes through :func:`_collect`, which paginates, and maps refusals to
:class:`AwsAccessError` naming the IAM action from :mod:`flowlens.inventory.permissions`.
Throttling is retried by botocore (``adaptive`` retry mode, 10 attempts).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError

from flowlens.errors import AwsAccessError
from flowlens.inventory.build import PrefixListEntries, RawInventory
from flowlens.inventory.permissions import permission_for

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10


def retry_config() -> Config:
    """Adaptive retries (client-side rate limiting on throttling);
    ``$AWS_MAX_ATTEMPTS`` overrides 10."""
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    return Config(retries={"mode": "adaptive", "max_attempts": attempts})


_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "OptInRequired",
}

#: (kind, client method, response key) of the per-region describe calls.
DESCRIBE_CALLS: tuple[tuple[str, str, str], ...] = (
    ("vpcs", "describe_vpcs", "Vpcs"),
    ("subnets", "describe_subnets", "Subnets"),
    ("security_groups", "describe_security_groups", "SecurityGroups"),
    ("security_group_rules", "describe_security_group_rules", "SecurityGroupRules"),
    ("network_interfaces", "describe_network_interfaces", "NetworkInterfaces"),
    ("network_acls", "describe_network_acls", "NetworkAcls"),
    ("prefix_lists", "describe_managed_prefix_lists", "PrefixLists"),
    ("flow_logs", "describe_flow_logs", "FlowLogs"),
)

ClientSource = Any  # a boto3 Session (or anything with .client(...)) or {region: ec2 client}


def make_session(profile: str | None = None) -> boto3.Session:
    """A boto3 session for ``--profile`` (the CLI's one place to create AWS objects)."""
    from flowlens.aws import AwsOptions, session

    return session(AwsOptions(profile=profile))


def ec2_client(source: ClientSource, region: str, endpoint_url: str | None = None) -> Any:
    """The EC2 client of ``region``: taken from a mapping, or made from a session."""
    if isinstance(source, Mapping):
        if region not in source:
            raise AwsAccessError(f"no EC2 client was given for region {region}")
        return source[region]
    return source.client(
        "ec2", region_name=region, endpoint_url=endpoint_url, config=retry_config()
    )


def _api_name(client: Any, method: str) -> str:
    return str(client.meta.method_to_api_mapping.get(method, method))


def _access_error(client: Any, method: str, region: str, exc: Exception) -> AwsAccessError:
    action = permission_for(_api_name(client, method))
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        text = exc.response.get("Error", {}).get("Message", "")
        if code in _DENIED:
            return AwsAccessError(
                f"{region}: {action} was refused ({code}: {text}); grant {action} "
                f"(the full policy is in docs/inventory.md, 'IAM permissions')"
            )
        return AwsAccessError(f"{region}: {action} failed ({code}: {text})")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AwsAccessError(
            f"{region}: no AWS credentials found; set AWS_PROFILE/--profile or AWS_ACCESS_KEY_ID"
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return AwsAccessError(
            f"{region}: cannot reach the EC2 endpoint ({exc}); check --endpoint-url and the network"
        )
    return AwsAccessError(f"{region}: {action} failed: {exc}")


def _collect(
    client: Any, method: str, key: str, region: str, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a (paginated) describe call."""
    try:
        if client.can_paginate(method):
            items: list[dict[str, Any]] = []
            for page in client.get_paginator(method).paginate(**params):
                items.extend(page.get(key) or [])
            return items
        return list(getattr(client, method)(**params).get(key) or [])
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        raise _access_error(client, method, region, exc) from None


def collect_region(client: Any, region: str, raw: RawInventory) -> None:
    """All describe calls of one region into ``raw``."""
    for kind, method, key in DESCRIBE_CALLS:
        items = _collect(client, method, key, region)
        log.info("%s: %d %s", region, len(items), kind)
        raw.add(kind, region, items)
    for pl in [p for r, p in raw.items["prefix_lists"] if r == region]:
        params: dict[str, Any] = {"PrefixListId": pl["PrefixListId"]}
        if pl.get("Version") is not None:
            params["TargetVersion"] = pl["Version"]
        entries = _collect(client, "get_managed_prefix_list_entries", "Entries", region, **params)
        raw.entries.append(
            PrefixListEntries(pl["PrefixListId"], pl.get("Version"), region, entries)
        )


def collect_stale(client: Any, region: str, raw: RawInventory) -> bool:
    """Stale SG references of every VPC of ``region``; False (with a warning) if the API refuses.

    Stale marks are auxiliary: without them ``sg_rules.stale`` stays NULL, which says "not
    checked" instead of failing the whole snapshot.
    """
    found: list[dict[str, Any]] = []
    try:
        for vpc in [v for r, v in raw.items["vpcs"] if r == region]:
            found += _collect(
                client,
                "describe_stale_security_groups",
                "StaleSecurityGroupSet",
                region,
                VpcId=vpc["VpcId"],
            )
    except AwsAccessError as exc:
        log.warning(
            "stale security-group references not checked, sg_rules.stale left NULL: %s", exc
        )
        return False
    raw.add("stale_security_groups", region, found)
    return True


def collect(
    source: ClientSource, regions: list[str], endpoint_url: str | None = None
) -> RawInventory:
    """The raw inventory of every region in ``regions``."""
    raw = RawInventory()
    stale_ok: list[bool] = []
    for region in regions:
        try:
            client = ec2_client(source, region, endpoint_url)
        except (NoRegionError, BotoCoreError) as exc:
            raise AwsAccessError(f"{region}: cannot create an EC2 client ({exc})") from None
        collect_region(client, region, raw)
        stale_ok.append(collect_stale(client, region, raw))
    raw.stale_collected = all(stale_ok)
    return raw
