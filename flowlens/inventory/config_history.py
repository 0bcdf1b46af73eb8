"""AWS Config history → timeline rows, for ENIs and security groups no snapshot holds. Pure.

Input: configuration items as ``GetResourceConfigHistory`` returns them (``aws configservice
get-resource-config-history`` prints ``{"configurationItems": [...]}``). Each item states one
configuration of one resource from its ``configurationItemCaptureTime``; Config records every
change, so that configuration held until the next item of the resource (a ``ResourceDeleted``
item ends it). The ``configuration`` field is the resource in lowerCamelCase EC2 shape, given as
a JSON string by the API and as an object by some exports: both are read.

Intervals (see :mod:`flowlens.inventory.timeline`): item ``k`` of a resource is

- certain from its capture time to just before the next item's capture (or, for the newest item,
  to the moment the history is complete to: the query's ``laterTime``, capped at the call time);
- possible from just after the previous item's capture (``resourceCreationTime``, else the far
  past, for the first) to the next item's capture (a deletion's, or the far future for the newest).

Config captures a change minutes after it happens; the certain end is exact to within that delay.
Consecutive items that give a table the identical row merge into one row (an ENI whose tags
changed keeps one ``eni_groups`` row).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flowlens.errors import InputError
from flowlens.inventory import normalize as nz
from flowlens.inventory import resources as rs
from flowlens.inventory.timeline import (
    FAR_FUTURE,
    FAR_PAST,
    JUST_AFTER,
    ConfigRows,
    Interval,
    Row,
    narrow,
)

log = logging.getLogger(__name__)

ENI_TYPE = "AWS::EC2::NetworkInterface"
SG_TYPE = "AWS::EC2::SecurityGroup"
#: The Config resource types flowlens reads, and the inventory tables each one gives rows for.
CONFIG_TABLES: dict[str, tuple[str, ...]] = {
    ENI_TYPE: ("enis", "eni_groups", "eni_ips"),
    SG_TYPE: ("security_groups", "sg_rules"),
}
DELETED = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded"})
NOT_RECORDED = frozenset({"ResourceNotRecorded", "ResourceDeletedNotRecorded"})
_JUST_BEFORE = timedelta(microseconds=1)

Json = Mapping[str, Any]


@dataclass(frozen=True)
class ConfigItem:
    """One configuration item, reduced to what the timeline needs."""

    resource_type: str
    resource_id: str
    captured_at: datetime
    status: str
    configuration: Json | None  # None for deleted / not-recorded items
    region: str | None
    created_at: datetime | None
    complete_to: (
        datetime | None
    )  # the history holding it has every change up to here (None: unknown)
    where: str  # file or API call, for messages

    @property
    def key(self) -> tuple[str, str, datetime, str]:
        return (self.resource_type, self.resource_id, self.captured_at, self.status)


def parse_time(value: Any, where: str) -> datetime | None:
    """A Config timestamp: ISO text (the CLI), a datetime (boto3) or
    epoch seconds (raw API JSON)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        return rs.parse_time(value)
    except ValueError:
        raise InputError(f"{where}: {value!r} is not a timestamp") from None


def parse_items(doc: Json, where: str, complete_to: datetime | None = None) -> list[ConfigItem]:
    """The items of a ``{"configurationItems": [...]}`` document of the types flowlens reads.

    Items of other resource types are skipped; a malformed item is an InputError naming
    ``where`` and the item's index.
    """
    raw = doc.get("configurationItems")
    if not isinstance(raw, list):
        raise InputError(f"{where}: 'configurationItems' should hold a list of configuration items")
    items: list[ConfigItem] = []
    skipped = 0
    for i, item in enumerate(raw):
        at = f"{where}: configurationItems[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{at}: not an object")
        rtype = item.get("resourceType")
        if rtype not in CONFIG_TABLES:
            skipped += 1
            continue
        rid, status = item.get("resourceId"), item.get("configurationItemStatus") or "OK"
        captured = parse_time(item.get("configurationItemCaptureTime"), at)
        if not rid or captured is None:
            raise InputError(f"{at}: needs resourceId and configurationItemCaptureTime")
        configuration = (
            None
            if status in DELETED | NOT_RECORDED
            else _configuration(item.get("configuration"), at)
        )
        if configuration is None and status not in DELETED | NOT_RECORDED:
            raise InputError(f"{at}: item of status {status} carries no configuration")
        items.append(
            ConfigItem(
                str(rtype),
                str(rid),
                captured,
                str(status),
                configuration,
                item.get("awsRegion"),
                parse_time(item.get("resourceCreationTime"), at),
                complete_to,
                where,
            )
        )
    if skipped:
        log.info("%s: %d configuration items of other resource types ignored", where, skipped)
    return items


def _configuration(value: Any, where: str) -> Json | None:
    if value is None or value == "" or value == "null":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: configuration is not valid JSON ({exc.msg})") from None
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: configuration should be an object or a JSON string of one")
    return value


# --- lowerCamelCase Config shapes → the EC2 API shapes the normalisers read ---------------------

_FIRST = re.compile(r"^[a-z]")


def pascal(value: Any) -> Any:
    """Keys ``lowerCamelCase`` → ``PascalCase``, recursively (Config → EC2 API spelling).

    A permission's ``ipRanges`` (Config's flat list of CIDR strings) is dropped when
    ``ipv4Ranges`` (the same ranges as objects) is present, else turned into objects.

    >>> permission = {"ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["10.0.0.0/8"]}
    >>> pascal({"groupId": "sg-1", "ipPermissions": [permission]})
    {'GroupId': 'sg-1', 'IpPermissions': [{'IpRanges': [{'CidrIp': '10.0.0.0/8'}]}]}
    """
    if isinstance(value, list):
        return [pascal(v) for v in value]
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key == "ipRanges" and (
            "ipv4Ranges" in value or not all(isinstance(r, str) for r in v or [])
        ):
            continue
        if key == "ipRanges":
            out["IpRanges"] = [{"CidrIp": r} for r in v or []]
        elif key == "ipv4Ranges":
            out["IpRanges"] = pascal(v)
        else:
            out[_FIRST.sub(lambda m: m.group(0).upper(), key)] = pascal(v)
    return out


def item_rows(item: ConfigItem) -> dict[str, list[Row]]:
    """The inventory rows of one recorded item (every table of its type, possibly empty)."""
    cfg = dict(pascal(item.configuration or {}))
    region = item.region
    try:
        if item.resource_type == ENI_TYPE:
            cfg.setdefault("NetworkInterfaceId", item.resource_id)
            return {
                "enis": [rs.eni(cfg, region)],
                "eni_groups": list(rs.eni_groups(cfg)),
                "eni_ips": list(nz.eni_addresses(cfg)),
            }
        cfg.setdefault("GroupId", item.resource_id)
        return {
            "security_groups": [nz.security_group(cfg, region)],
            "sg_rules": list(nz.group_rules(cfg, region)),
        }
    except (nz.NormalizeError, KeyError, TypeError, ValueError) as exc:
        what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(
            f"{item.where}: {item.resource_type} {item.resource_id} at "
            f"{item.captured_at:%Y-%m-%dT%H:%M:%SZ}: {what}"
        ) from None


def dedupe(items: Iterable[ConfigItem]) -> list[ConfigItem]:
    """One item per (type, id, capture time, status): the one fetched last (histories overlap)."""
    best: dict[tuple[str, str, datetime, str], ConfigItem] = {}
    for item in items:
        have = best.get(item.key)
        if have is None or (item.complete_to or FAR_PAST) > (have.complete_to or FAR_PAST):
            best[item.key] = item
    return sorted(best.values(), key=lambda i: (i.resource_type, i.resource_id, i.captured_at))


@dataclass(frozen=True)
class _State:
    item: ConfigItem
    rows: dict[str, list[Row]] | None  # None: deleted or not recorded


def _states(items: Sequence[ConfigItem]) -> list[_State]:
    return [_State(i, None if i.configuration is None else item_rows(i)) for i in items]


def _state_interval(states: Sequence[_State], k: int) -> Interval:
    item = states[k].item
    if k > 0:
        vf = states[k - 1].item.captured_at + JUST_AFTER
    else:
        vf = (
            item.created_at
            if item.created_at is not None and item.created_at <= item.captured_at
            else FAR_PAST
        )
    if k + 1 < len(states):
        nxt = states[k + 1].item.captured_at
        return Interval(vf, nxt, item.captured_at, max(item.captured_at, nxt - _JUST_BEFORE))
    fetched = (
        item.complete_to
        if item.complete_to is not None and item.complete_to > item.captured_at
        else item.captured_at
    )
    return Interval(vf, FAR_FUTURE, item.captured_at, fetched)


def resource_rows(items: Sequence[ConfigItem]) -> dict[str, list[tuple[Row, Interval]]]:
    """The rows of one resource's items (sorted by capture time), identical
    consecutive rows merged."""
    states = _states(items)
    out: dict[str, list[tuple[Row, Interval]]] = {}
    tables = CONFIG_TABLES[items[0].resource_type]
    for table in tables:
        open_runs: dict[
            str, tuple[Row, Interval, int]
        ] = {}  # row key → (row, interval, first state)
        done: list[tuple[Row, Interval, int]] = []
        for k, state in enumerate(states):
            rows = state.rows[table] if state.rows is not None else []
            here = {json.dumps(r, sort_keys=True, default=str): r for r in rows}
            for key in [key for key in open_runs if key not in here]:
                done.append(open_runs.pop(key))
            iv = _state_interval(states, k)
            for key, row in here.items():
                if key in open_runs:
                    r0, iv0, k0 = open_runs[key]
                    open_runs[key] = (
                        r0,
                        Interval(iv0.valid_from, iv.valid_to, iv0.seen_from, iv.seen_to),
                        k0,
                    )
                else:
                    open_runs[key] = (row, iv, k)
        done.extend(open_runs.values())
        out[table] = [(row, _narrowed(table, row, iv, states[k0])) for row, iv, k0 in done]
    return out


def _narrowed(table: str, row: Row, iv: Interval, first: _State) -> Interval:
    """AttachTime narrowing, as for snapshot rows (timeline._Narrowing)."""
    enis = (first.rows or {}).get("enis") or [{}]
    attach = enis[0].get("attach_time")
    if table == "enis":
        return narrow(iv, attach, attach)
    if table in ("eni_groups", "eni_ips"):
        return narrow(iv, attach, None)
    return iv


def config_rows(items: Iterable[ConfigItem]) -> ConfigRows:
    """Timeline rows of every resource in ``items`` (any order, duplicates allowed)."""
    by_resource: dict[tuple[str, str], list[ConfigItem]] = {}
    for item in dedupe(items):
        by_resource.setdefault((item.resource_type, item.resource_id), []).append(item)
    tables: dict[str, list[tuple[Row, Interval]]] = {}
    for resource_items in by_resource.values():
        for table, rows in resource_rows(resource_items).items():
            tables.setdefault(table, []).extend(rows)
    return ConfigRows(tables)
