"""Inventory stage: snapshot SGs, rules, ENIs, NACLs, prefix lists and flow-log coverage.

Public API::

    snapshot_from_json(paths, dd, region=None, taken_at=None) -> SnapshotInfo
    snapshot_from_aws(session_or_clients, regions, dd, endpoint_url=None, taken_at=None)
        -> SnapshotInfo
    inventory_from_json(paths, dd, region=None, taken_at=None)
        -> (SnapshotInfo | None, ConfigHistoryInfo | None)
    config_history_from_json(paths, dd, complete_to=None) -> ConfigHistoryInfo
    config_history_from_aws(session_or_clients, dd, days, endpoint_url=None) -> ConfigLookup
    choose_snapshot(dd, window_start, window_end) -> str
    flowlens.inventory.timeline.load_timeline(dd, window_start, window_end) -> Timeline
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlens.datadir import DataDir
from flowlens.errors import InputError
from flowlens.inventory.build import InventoryTables, RawInventory, build_inventory
from flowlens.inventory.config_lookup import (
    ConfigLookup,
    config_history_from_aws,
    config_history_from_json,
)
from flowlens.inventory.normalize import NormalizeError
from flowlens.inventory.snapshot import SnapshotInfo, choose_snapshot, write_snapshot

if TYPE_CHECKING:
    from flowlens.inventory.config_store import ConfigHistoryInfo

log = logging.getLogger(__name__)

__all__ = [
    "ConfigLookup",
    "InventoryTables",
    "RawInventory",
    "SnapshotInfo",
    "build_inventory",
    "choose_snapshot",
    "config_history_from_aws",
    "config_history_from_json",
    "inventory_from_json",
    "snapshot_from_aws",
    "snapshot_from_json",
]


def snapshot_from_json(
    paths: Iterable[str | Path],
    dd: DataDir,
    *,
    region: str | None = None,
    taken_at: datetime | None = None,
) -> SnapshotInfo:
    """A snapshot from AWS CLI output files or folders (shape detected per file).

    ``taken_at``: when the JSON was captured. Without it the snapshot is stamped now, which places
    the exported state at the wrong moment when the files are older: warned.
    """
    from flowlens.inventory.from_json import read_files

    if taken_at is None:
        log.warning(
            "no --taken-at given: the snapshot is stamped with the current time, so it cannot be "
            "placed in history; give the time the JSON was captured (ISO 8601 UTC, "
            "e.g. 2026-11-28T06:00:00Z)"
        )

    raw, inputs = read_files(paths, region)
    inventory = build_inventory(raw)
    regions = sorted(
        {
            r
            for t in ("enis", "subnets", "sg_rules")
            for r in inventory.tables[t].column("region").to_pylist()
            if r
        }
    )
    return write_snapshot(
        inventory, dd, source="json", regions=regions, inputs=inputs, taken_at=taken_at
    )


def snapshot_from_aws(
    session_or_clients: Any,
    regions: list[str],
    dd: DataDir,
    *,
    endpoint_url: str | None = None,
    taken_at: datetime | None = None,
) -> SnapshotInfo:
    """A snapshot from the EC2 API of every region (a boto3 Session, or {region: ec2 client}).

    Stamped with the time the calls started (``taken_at`` overrides): the state read is the one
    AWS had then, give or take the seconds the calls take.
    """
    from flowlens.inventory.from_aws import collect

    called_at = taken_at or datetime.now(UTC)
    try:
        inventory = build_inventory(collect(session_or_clients, regions, endpoint_url))
    except NormalizeError as exc:
        raise InputError(
            "EC2 API output "
            f"({', '.join(regions)}{', ' + endpoint_url if endpoint_url else ''}): {exc}"
        ) from None
    inputs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    return write_snapshot(
        inventory, dd, source="aws", regions=regions, inputs=inputs, taken_at=called_at
    )


def inventory_from_json(
    paths: Iterable[str | Path],
    dd: DataDir,
    *,
    region: str | None = None,
    taken_at: datetime | None = None,
) -> tuple[SnapshotInfo | None, ConfigHistoryInfo | None]:
    """Files as exported: ``describe-*`` outputs become a snapshot, Config history files are stored.

    A folder holding only Config history makes no snapshot (an empty snapshot would claim that
    nothing existed at that moment).
    """
    from flowlens.inventory.from_json import partition_files

    ec2, config = partition_files(paths)
    snap = snapshot_from_json(ec2, dd, region=region, taken_at=taken_at) if ec2 else None
    history = config_history_from_json(config, dd, complete_to=taken_at) if config else None
    return snap, history
