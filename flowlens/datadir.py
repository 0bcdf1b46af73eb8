"""The data-directory layout (docs/data-dir.md): every stage reads and writes paths from here.

A data directory may sit in S3 (``--data-dir s3://bucket/prefix``, the lake layout of
docs/engines.md): ``root`` is then a local work directory (the inventory copied from the lake,
DuckDB's spill, the writer lock, the reviewer's state) and ``lake`` the S3 location the flows,
inventory and results are read from. The results may also sit apart from the data directory
(``--results-location``, a folder or ``s3://``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from flowlens.aws import AwsOptions

if TYPE_CHECKING:
    from flowlens.lake import S3Root

DEFAULT_DATA_DIR = "./flowlens-data"
ENV_DATA_DIR = "FLOWLENS_DATA_DIR"
#: The local work directory of a data directory in S3 (default: under $XDG_CACHE_HOME/flowlens).
ENV_WORK_DIR = "FLOWLENS_WORK_DIR"

_SNAPSHOT_RE = re.compile(r"^snapshot=(\d{8}T\d{6}Z)$")


@dataclass(frozen=True)
class DataDir:
    """Paths inside one flowlens data directory. Creating the object touches nothing on disk."""

    root: Path
    #: where the results tables are when not ``root/results``: a folder (the same
    #: ``date=<D>/<table>.parquet`` layout) or ``s3://bucket/prefix`` (``<table>/date=<D>/``)
    results_location: str | None = None
    #: the S3 location of a data directory in S3 (``root`` is then its local work directory)
    lake: str | None = None
    #: how to reach S3 when ``lake`` or ``results_location`` is there
    aws: AwsOptions = field(default_factory=AwsOptions)

    @classmethod
    def resolve(
        cls,
        path: str | os.PathLike[str] | None,
        *,
        results_location: str | None = None,
        aws: AwsOptions | None = None,
    ) -> DataDir:
        """The data dir from an explicit path, else ``$FLOWLENS_DATA_DIR``, else the default.

        ``s3://bucket/prefix``: a data directory in S3, worked on from ``$FLOWLENS_WORK_DIR``
        (default ``$XDG_CACHE_HOME/flowlens/s3/<bucket>/<prefix>``); its results default to
        ``<prefix>/results`` in S3.
        """
        from flowlens.lake import S3Path, is_s3

        chosen = str(path if path is not None else os.environ.get(ENV_DATA_DIR, DEFAULT_DATA_DIR))
        opts = aws or AwsOptions()
        if results_location is not None and not is_s3(results_location):
            results_location = str(Path(results_location))
        if not is_s3(chosen):
            return cls(Path(chosen), results_location, None, opts)
        lake = S3Path.parse(chosen)
        work = os.environ.get(ENV_WORK_DIR) or str(
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            / "flowlens"
            / "s3"
            / lake.fs_path
        )
        results = results_location or lake.child("results").uri
        return cls(Path(work), results, lake.uri, opts)

    @property
    def lake_root(self) -> S3Root | None:
        """The S3 location of a data directory in S3."""
        from flowlens.lake import S3Path, S3Root

        return S3Root(S3Path.parse(self.lake), self.aws) if self.lake else None

    @property
    def results_s3(self) -> S3Root | None:
        """The results location when it is in S3 (the lake layout)."""
        from flowlens.lake import S3Path, S3Root, is_s3

        if not is_s3(self.results_location):
            return None
        assert self.results_location is not None
        return S3Root(S3Path.parse(self.results_location), self.aws)

    @property
    def results_apart(self) -> bool:
        """Whether the results are anywhere but ``root/results`` (or the data dir is in S3):
        no stored catalog then, the views are built per connection."""
        if self.lake is not None or self.results_s3 is not None:
            return True
        return self.results_location is not None and self.results != self.root / "results"

    def describe(self) -> str:
        """The data directory as a user named it (its S3 URI when in S3)."""
        return self.lake or str(self.root)

    def results_description(self) -> str:
        """The results location as the user would name it."""
        return str(self.results_location) if self.results_s3 else str(self.results)

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
        """The local results folder (``--results-location`` when a folder): in S3 results, the
        work directory's, which holds nothing read."""
        if self.results_location is not None and self.results_s3 is None:
            return Path(self.results_location)
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
        (``results/date=D/rule_usage.parquet``; in S3 ``rule_usage/date=D/``)."""
        if self.results_s3 is not None:
            from flowlens.lake_dir import analysed_days_s3

            return analysed_days_s3(self, list(days))
        return sorted(
            d for d in set(days) if (self.results_dir(d) / "rule_usage.parquet").is_file()
        )
