"""Inventory stage: snapshot SGs, rules, ENIs, NACLs, prefix lists and flow-log coverage.

Public API::

    snapshot_from_json(paths, dd, region=None) -> SnapshotInfo
    snapshot_from_aws(session_or_clients, regions, dd, endpoint_url=None) -> SnapshotInfo
    choose_snapshot(dd, window_start, window_end) -> str
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from flowlens.datadir import DataDir
from flowlens.errors import InputError
from flowlens.inventory.build import InventoryTables, RawInventory, build_inventory
from flowlens.inventory.normalize import NormalizeError
from flowlens.inventory.snapshot import SnapshotInfo, choose_snapshot, write_snapshot

__all__ = [
    "InventoryTables",
    "RawInventory",
    "SnapshotInfo",
    "build_inventory",
    "choose_snapshot",
    "snapshot_from_aws",
    "snapshot_from_json",
]


def snapshot_from_json(
    paths: Iterable[str | Path], dd: DataDir, *, region: str | None = None, taken_at: datetime | None = None
) -> SnapshotInfo:
    """A snapshot from AWS CLI output files or folders (shape detected per file)."""
    from flowlens.inventory.from_json import read_files

    raw, inputs = read_files(paths, region)
    inventory = build_inventory(raw)
    regions = sorted({r for t in ("enis", "subnets", "sg_rules") for r in inventory.tables[t].column("region").to_pylist() if r})
    return write_snapshot(inventory, dd, source="json", regions=regions, inputs=inputs, taken_at=taken_at)


def snapshot_from_aws(
    session_or_clients: Any, regions: list[str], dd: DataDir, *,
    endpoint_url: str | None = None, taken_at: datetime | None = None,
) -> SnapshotInfo:
    """A snapshot from the EC2 API of every region (a boto3 Session, or {region: ec2 client})."""
    from flowlens.inventory.from_aws import collect

    try:
        inventory = build_inventory(collect(session_or_clients, regions, endpoint_url))
    except NormalizeError as exc:
        raise InputError(f"EC2 API output ({', '.join(regions)}{', ' + endpoint_url if endpoint_url else ''}): {exc}") from None
    inputs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    return write_snapshot(inventory, dd, source="aws", regions=regions, inputs=inputs, taken_at=taken_at)
