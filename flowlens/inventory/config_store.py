"""Store and read AWS Config history in the data dir: ``inventory/config_history/<stamp>.json``.

Each file is one fetch, named by when it was stored: ``{"fetched_at", "complete_to", "source",
"inputs", "sha256", "configurationItems": [...]}``. ``complete_to``: the history holds every
change of its resources up to that moment (null for files of unknown age). The items are kept
exactly as AWS returned them (``configuration`` left as given), so a later flowlens reads them
again with its own rules. Files are written atomically and never changed; a fetch identical to
a stored one is not stored again (re-runs add nothing); every file is read for every timeline
(items repeated across fetches count once).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowlens.atomic import write_text_atomic
from flowlens.datadir import DataDir
from flowlens.errors import InputError
from flowlens.inventory.config_history import ConfigItem, config_rows, parse_items
from flowlens.inventory.timeline import ConfigRows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfigHistoryInfo:
    """What one stored fetch holds."""

    path: Path
    complete_to: datetime | None  # None: a file export of unknown time (no --taken-at)
    source: str  # "aws" | "json"
    items: int
    resources: int
    deleted: int
    inputs: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "complete_to": self.complete_to.isoformat() if self.complete_to else None,
            "source": self.source,
            "items": self.items,
            "resources": self.resources,
            "deleted": self.deleted,
            "inputs": self.inputs,
        }


def write_config_history(
    dd: DataDir,
    items: Sequence[dict[str, Any]],
    *,
    source: str,
    complete_to: datetime | None,
    inputs: dict[str, str] | None = None,
) -> ConfigHistoryInfo:
    """Store one fetch of raw configuration items (checked readable first: a bad item fails here).

    ``complete_to``: the history holds every change up to this moment (the newest item of a
    resource is certain until then); None for files of unknown age.
    """
    parsed = parse_items(
        {"configurationItems": list(items)}, f"{source} config history", complete_to
    )
    from flowlens.inventory.snapshot import stamp_of

    body = json.dumps(list(items), sort_keys=True, default=_json_default)
    digest = hashlib.sha256(f"{body}|{complete_to}".encode()).hexdigest()
    summary = (
        len(parsed),
        len({(i.resource_type, i.resource_id) for i in parsed}),
        sum(1 for i in parsed if i.configuration is None),
    )
    for existing in _stored_files(dd):
        if _digest_of(existing) == digest:  # the same fetch again (a re-run): nothing new to store
            log.info("these %d configuration items are stored already in %s", len(parsed), existing)
            return ConfigHistoryInfo(existing, complete_to, source, *summary, dict(inputs or {}))
    moment = datetime.now(UTC)
    path = dd.config_history / f"{stamp_of(moment)}.json"
    n = 0
    while path.exists():  # two fetches in one second: keep both
        n += 1
        path = dd.config_history / f"{stamp_of(moment)}-{n}.json"
    doc = {
        "fetched_at": moment.isoformat(),
        "complete_to": complete_to.astimezone(UTC).isoformat() if complete_to else None,
        "source": source,
        "inputs": dict(inputs or {}),
        "sha256": digest,
        "configurationItems": list(items),
    }
    write_text_atomic(json.dumps(doc, indent=1, default=_json_default) + "\n", path)
    info = ConfigHistoryInfo(path, complete_to, source, *summary, dict(inputs or {}))
    log.info(
        "stored %d configuration items of %d resources in %s", info.items, info.resources, path
    )
    return info


def _stored_files(dd: DataDir) -> list[Path]:
    folder = dd.config_history
    return (
        sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
        if folder.is_dir()
        else []
    )


def _digest_of(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("sha256") or "") or None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def stored_items(dd: DataDir) -> list[ConfigItem]:
    """Every stored configuration item (InputError naming the file when one is unreadable)."""
    items: list[ConfigItem] = []
    for path in _stored_files(dd):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: stored Config history is unreadable ({exc})") from None
        fetched = doc.get("complete_to")
        items += parse_items(doc, str(path), datetime.fromisoformat(fetched) if fetched else None)
    return items


def load_config_rows(dd: DataDir) -> ConfigRows | None:
    """The timeline rows of all stored Config history (None when there is none)."""
    items = stored_items(dd)
    return config_rows(items) if items else None
