"""Fetch AWS Config history for ENIs and security groups: the boto3 edge of ``--config-history``.

For each resource, two kinds of ``GetResourceConfigHistory`` call:

1. the item in force when the window starts: ``laterTime`` = window start, ``limit`` 1 (the API
   lists newest first by default);
2. every item inside the window, oldest first, paginated, in spans of at most seven days (the API
   refuses a longer ``earlierTime``–``laterTime`` span).

Deleted resources are included: their ``ResourceDeleted`` item is what ends their interval. A
resource Config never recorded (``ResourceNotDiscoveredException``) has no history: it is
reported, not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from flowlens.errors import AwsAccessError
from flowlens.inventory.from_aws import _access_error, retry_config

log = logging.getLogger(__name__)

MAX_SPAN = timedelta(days=7)
PAGE_LIMIT = 100  # the API's maximum


@dataclass(frozen=True)
class Resource:
    resource_type: str  # AWS::EC2::NetworkInterface | AWS::EC2::SecurityGroup
    resource_id: str
    region: str


@dataclass
class Fetched:
    """The raw items fetched, and the resources Config had no history for."""

    items: list[dict[str, Any]] = field(default_factory=list)
    not_recorded: list[Resource] = field(default_factory=list)


def config_client(source: Any, region: str, endpoint_url: str | None = None) -> Any:
    """The Config client of ``region``: from a mapping {region: client}, or made from a session."""
    if isinstance(source, Mapping):
        if region not in source:
            raise AwsAccessError(f"no AWS Config client was given for region {region}")
        return source[region]
    return source.client(
        "config", region_name=region, endpoint_url=endpoint_url, config=retry_config()
    )


def spans(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end]`` cut into consecutive spans of at most :data:`MAX_SPAN`.

    >>> from datetime import UTC
    >>> start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC)
    >>> [(a.day, b.day) for a, b in spans(start, end)]
    [(1, 8), (8, 15)]
    """
    out: list[tuple[datetime, datetime]] = []
    a = start
    while a < end:
        b = min(a + MAX_SPAN, end)
        out.append((a, b))
        a = b
    return out


def _call(client: Any, region: str, **params: Any) -> dict[str, Any] | None:
    """One page; None when Config never recorded the resource."""
    try:
        return dict(client.get_resource_config_history(**params))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotDiscoveredException":
            return None
        raise _access_error(client, "get_resource_config_history", region, exc) from None
    except BotoCoreError as exc:
        raise _access_error(client, "get_resource_config_history", region, exc) from None


def resource_history(
    client: Any, resource: Resource, start: datetime, end: datetime
) -> list[dict[str, Any]] | None:
    """Every item of one resource relevant to ``[start, end]`` (None: not recorded by Config)."""
    key = {"resourceType": resource.resource_type, "resourceId": resource.resource_id}
    first = _call(client, resource.region, **key, laterTime=start, limit=1)
    if first is None:
        return None
    items = list(first.get("configurationItems") or [])
    for a, b in spans(start, end):
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                **key,
                "earlierTime": a,
                "laterTime": b,
                "chronologicalOrder": "Forward",
                "limit": PAGE_LIMIT,
            }
            if token:
                params["nextToken"] = token
            page = _call(client, resource.region, **params)
            if page is None:
                break
            items.extend(page.get("configurationItems") or [])
            token = page.get("nextToken")
            if not token:
                break
    return items


def fetch(
    source: Any,
    resources: Iterable[Resource],
    start: datetime,
    end: datetime,
    endpoint_url: str | None = None,
) -> Fetched:
    """The Config history of every resource over ``[start, end]`` (one client per region)."""
    clients: dict[str, Any] = {}
    out = Fetched()
    for res in resources:
        if res.region not in clients:
            try:
                clients[res.region] = config_client(source, res.region, endpoint_url)
            except BotoCoreError as exc:
                raise AwsAccessError(
                    f"{res.region}: cannot create an AWS Config client ({exc})"
                ) from None
        items = resource_history(clients[res.region], res, start, end)
        if items is None:
            out.not_recorded.append(res)
            log.info("%s %s: AWS Config has no history of it", res.resource_type, res.resource_id)
        else:
            out.items.extend(items)
            log.info(
                "%s %s: %d configuration items", res.resource_type, res.resource_id, len(items)
            )
    return out
