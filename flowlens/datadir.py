"""The data-directory layout (docs/data-dir.md): every stage reads and writes paths from here."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DEFAULT_DATA_DIR = "./flowlens-data"
ENV_DATA_DIR = "FLOWLENS_DATA_DIR"

_SNAPSHOT_RE = re.compile(r"^snapshot=(\d{8}T\d{6}Z)$")


@dataclass(frozen=True)
class DataDir:
    """Paths inside one flowlens data directory. Creating the object touches nothing on disk."""

    root: Path

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None) -> DataDir:
        """The data dir from an explicit path, else ``$FLOWLENS_DATA_DIR``, else the default."""
        chosen = path if path is not None else os.environ.get(ENV_DATA_DIR, DEFAULT_DATA_DIR)
        return cls(Path(chosen))

    @property
    def flows(self) -> Path:
        return self.root / "flows"

    @property
    def tgw_flows(self) -> Path:
        return self.root / "tgw_flows"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def inventory(self) -> Path:
        return self.root / "inventory"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def manifest(self) -> Path:
        return self.root / "ingest_manifest.parquet"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def tmp(self) -> Path:
        """Scratch space for atomic writes; never read by queries."""
        return self.root / ".tmp"

    def snapshot_dir(self, stamp: str) -> Path:
        """An inventory snapshot folder; ``stamp`` is ``YYYYMMDDTHHMMSSZ`` (UTC)."""
        return self.inventory / f"snapshot={stamp}"

    @property
    def config_history(self) -> Path:
        """Stored AWS Config history (``<stamp>.json`` files of configuration items)."""
        return self.inventory / "config_history"

    def snapshots(self) -> list[str]:
        """Complete inventory snapshot stamps, oldest first."""
        if not self.inventory.is_dir():
            return []
        stamps = []
        for child in self.inventory.iterdir():
            m = _SNAPSHOT_RE.match(child.name)
            if m and child.is_dir():
                stamps.append(m.group(1))
        return sorted(stamps)

    @property
    def state(self) -> Path:
        """The reviewer's state: dismissals and plan verifications (flowlens.model.state)."""
        return self.root / "state"

    def state_table(self, name: str) -> Path:
        return self.state / f"{name}.parquet"

    def results_dir(self, day: date) -> Path:
        return self.results / f"date={day.isoformat()}"

    def analysed_days(self, days: Iterable[date]) -> list[date]:
        """The days among ``days`` that have analysis results
        (``results/date=D/rule_usage.parquet``)."""
        return sorted(
            d for d in set(days) if (self.results_dir(d) / "rule_usage.parquet").is_file()
        )
