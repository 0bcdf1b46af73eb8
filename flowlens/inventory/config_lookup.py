"""AWS Config history into the data dir: from ``get-resource-config-history`` files, or looked up
for the ENIs of a window's flows that no snapshot holds (``--config-history``). See docs/time.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlens.datadir import DataDir
from flowlens.errors import InputError
from flowlens.model.window import Window

if TYPE_CHECKING:
    from flowlens.inventory.config_store import ConfigHistoryInfo
    from flowlens.inventory.window_flows import FlowEni

log = logging.getLogger(__name__)


def config_history_from_json(
    paths: Iterable[str | Path], dd: DataDir, *, complete_to: datetime | None = None
) -> ConfigHistoryInfo:
    """Store ``aws configservice get-resource-config-history`` output files as Config history.

    ``complete_to``: when the files were exported (their newest items are certain until then).
    """
    from flowlens.inventory.config_history import parse_items
    from flowlens.inventory.config_store import write_config_history
    from flowlens.inventory.from_json import CONFIG_KEY, expand_paths, load_json

    items: list[dict[str, Any]] = []
    inputs: dict[str, str] = {}
    for path in expand_paths(paths):
        doc = load_json(path)
        if not isinstance(doc, dict) or not isinstance(doc.get(CONFIG_KEY), list):
            raise InputError(
                f"{path}: not get-resource-config-history output (no list under {CONFIG_KEY!r})"
            )
        parse_items(doc, str(path))  # a bad item is reported with its file and index
        items.extend(doc[CONFIG_KEY])
        inputs[str(path)] = "config_history"
    return write_config_history(dd, items, source="json", complete_to=complete_to, inputs=inputs)


@dataclass(frozen=True)
class ConfigLookup:
    """What ``--config-history`` looked up and found."""

    window: tuple[datetime, datetime]
    flow_enis: int  # ENIs the window's flows are on
    missing_enis: list[FlowEni]  # ... that no snapshot holds: looked up in Config
    missing_groups: list[str]  # groups those ENIs held that no snapshot holds: looked up too
    not_recorded: list[str] = field(default_factory=list)  # resources Config has no history of
    stored: ConfigHistoryInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {"start": self.window[0].isoformat(), "end": self.window[1].isoformat()},
            "flow_enis": self.flow_enis,
            "missing_enis": [
                {"eni_id": e.eni_id, "regions": list(e.regions), "records": e.records}
                for e in self.missing_enis
            ],
            "missing_groups": self.missing_groups,
            "not_recorded": self.not_recorded,
            "stored": self.stored.to_dict() if self.stored else None,
        }


def config_history_from_aws(
    session_or_clients: Any, dd: DataDir, days: Sequence[date], *, endpoint_url: str | None = None
) -> ConfigLookup:
    """Look up in AWS Config the ENIs of the window's flows that no snapshot
    holds, and their groups.

    Needs the window's flows ingested and at least one snapshot. The items fetched are stored
    (:mod:`flowlens.inventory.config_store`) and feed every later timeline.
    """
    from flowlens.inventory.config_aws import Resource, fetch
    from flowlens.inventory.config_history import ENI_TYPE, SG_TYPE, config_rows, parse_items
    from flowlens.inventory.config_store import write_config_history
    from flowlens.inventory.timeline import load_timeline
    from flowlens.inventory.window_flows import window_enis

    window = Window.of(days)
    start, end = window.start, window.end
    enis = window_enis(dd, days)
    if not enis:
        log.warning(
            "no ingested flows for %s..%s: run 'flowlens ingest' for the window "
            "first; nothing looked up",
            min(days),
            max(days),
        )
    timeline = load_timeline(dd, start, end)
    held = {r["eni_id"] for r in timeline.tables["enis"].to_pylist() if r["source"] == "snapshot"}
    known_groups = {
        r["group_id"]
        for r in timeline.tables["security_groups"].to_pylist()
        if r["source"] == "snapshot"
    }
    missing = sorted(
        (e for e in enis.values() if e.eni_id not in held), key=lambda e: (-e.records, e.eni_id)
    )
    lookup = ConfigLookup((start, end), len(enis), missing, [])
    if not missing:
        log.info("every ENI of the window's flows is in a snapshot; no Config history needed")
        return lookup
    complete_to = min(datetime.now(UTC), end)
    found = fetch(
        session_or_clients,
        [Resource(ENI_TYPE, e.eni_id, r) for e in missing for r in e.regions],
        start,
        end,
        endpoint_url,
    )
    region_of = {e.eni_id: e.regions[0] for e in missing}
    rows = config_rows(parse_items({"configurationItems": found.items}, "AWS Config", complete_to))
    groups = sorted(
        {
            (g["group_id"], region_of.get(g["eni_id"], ""))
            for g, _ in rows.tables.get("eni_groups", [])
            if g["group_id"] and g["group_id"] not in known_groups
        }
    )
    more = fetch(
        session_or_clients,
        [Resource(SG_TYPE, g, r) for g, r in groups if r],
        start,
        end,
        endpoint_url,
    )
    items = found.items + more.items
    not_recorded = [r.resource_id for r in found.not_recorded + more.not_recorded]
    stored = (
        write_config_history(
            dd,
            items,
            source="aws",
            complete_to=complete_to,
            inputs={"endpoint_url": endpoint_url} if endpoint_url else {},
        )
        if items
        else None
    )
    return ConfigLookup(
        (start, end), len(enis), missing, [g for g, _ in groups], not_recorded, stored
    )
