"""A data directory or results location in S3, at the edges of the stages that read them.

- The inventory of a data directory in S3 is copied to its local work directory
  (:func:`stage_inventory`): the timeline reads every table of the chosen snapshots whole into
  memory anyway, snapshots are never rewritten once taken, and every local reader (timeline,
  catalog views, recommend, report) then works unchanged. Only snapshots new or changed since
  the last copy are fetched.
- The flows, tgw_flows and results stay in S3 and are scanned there
  (:func:`flowlens.lake.dataset`).
- Results are written per table, day by day (:func:`day_results`), in the lake layout
  ``<location>/<table>/date=<D>/``. S3 has no rename of a folder, so a day's ``rule_usage`` (the
  table whose presence makes a day "analysed") is deleted first and written last: a run killed
  half-way leaves a day that counts as not analysed, never one that looks complete.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from flowlens import lake
from flowlens.atomic import atomic_dir, write_parquet_atomic
from flowlens.datadir import DataDir
from flowlens.lake import S3Root

if TYPE_CHECKING:
    from flowlens.engines.base import Engine

log = logging.getLogger(__name__)

#: The table whose file makes a results day count as analysed (DataDir.analysed_days).
MARKER_TABLE = "rule_usage"

_LAKE_INVENTORY_RE = re.compile(r"^([a-z_]+)/(snapshot=[^/]+)/([a-z_]+\.parquet)$")
_SNAPSHOT_RE = re.compile(r"^(snapshot=\d{8}T\d{6}Z)/")

#: Writes one results table of the day: ``write(table, contract types)``.
TableWriter = Callable[[str, Mapping[str, pa.DataType]], None]


def results_table_root(dd: DataDir, table: str) -> S3Root:
    """All days of one results table in an S3 results location: ``<location>/<table>/``."""
    root = dd.results_s3
    assert root is not None
    return S3Root(root.path.child(table), root.aws)


def results_day_root(dd: DataDir, day: date, table: str) -> S3Root:
    """One day of one results table in S3: ``<location>/<table>/date=<D>/``."""
    root = results_table_root(dd, table)
    return S3Root(root.path.child(f"date={day.isoformat()}"), root.aws)


def analysed_days_s3(dd: DataDir, days: Sequence[date]) -> list[date]:
    """The days among ``days`` with a ``rule_usage`` file in the S3 results location."""
    wanted = {f"date={d.isoformat()}": d for d in set(days)}
    found = set()
    for rel, _size in lake.walk(results_table_root(dd, MARKER_TABLE)):
        part = rel.split("/", 1)[0]
        if part in wanted and not any(p[:1] in "._" for p in rel.split("/")):
            found.add(wanted[part])
    return sorted(found)


def check_results_location(dd: DataDir) -> None:
    """Fail before any work when an S3 results location's bucket does not exist."""
    if dd.results_s3 is not None:
        lake.check_bucket(dd.results_s3)


def local_inventory_path(relative: str) -> str:
    """The data-dir path of an object under ``inventory/`` in S3 (the inverse of
    :func:`flowlens.engines.ddl.lake_key`; objects already in the local layout unchanged).

    >>> local_inventory_path("rules/snapshot=20261128T060000Z/rules.parquet")
    'snapshot=20261128T060000Z/rules.parquet'
    >>> local_inventory_path("snapshot=20261128T060000Z/snapshot.json")
    'snapshot=20261128T060000Z/snapshot.json'
    """
    m = _LAKE_INVENTORY_RE.match(relative)
    return f"{m.group(2)}/{m.group(3)}" if m else relative


def stage_inventory(dd: DataDir) -> int:
    """Copy the lake's inventory (snapshots, Config history) into the work directory; returns
    the number of files fetched. A snapshot whose files differ from the local copy is replaced
    whole (fetched into a hidden folder, then swapped in)."""
    root = dd.lake_root
    if root is None:
        return 0
    lake.check_bucket(root)
    inventory = S3Root(root.path.child("inventory"), root.aws)
    wanted: dict[str, dict[str, tuple[str, int]]] = {}  # local folder → local name → (key, size)
    for rel, size in lake.walk(inventory):
        local = local_inventory_path(rel)
        folder, _, name = local.rpartition("/")
        if not name or name.startswith(".") or not folder:
            continue
        wanted.setdefault(folder, {})[name] = (rel, size)
    fetched = 0
    for folder, files in sorted(wanted.items()):
        target = dd.inventory / folder
        if _same_files(target, files):
            continue
        staging = dd.inventory / f".{folder.replace('/', '_')}.{uuid.uuid4().hex[:8]}.staging"
        try:
            for name, (rel, _size) in files.items():
                lake.download(S3Root(inventory.path.child(rel), root.aws), staging / name)
                fetched += 1
            if _SNAPSHOT_RE.match(folder + "/"):
                with atomic_dir(target) as out:
                    for item in staging.iterdir():
                        item.replace(out / item.name)
            else:  # config_history/: files added one by one, never a whole folder swapped
                target.mkdir(parents=True, exist_ok=True)
                for item in staging.iterdir():
                    item.replace(target / item.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if fetched:
        log.info("copied %d inventory file(s) from %s to %s", fetched, inventory.path.uri, dd.root)
    return fetched


def _same_files(folder: Path, files: Mapping[str, tuple[str, int]]) -> bool:
    if not folder.is_dir():
        return False
    return all(
        (folder / name).is_file() and (folder / name).stat().st_size == size
        for name, (_rel, size) in files.items()
    )


@contextmanager
def day_results(dd: DataDir, day: date, eng: Engine) -> Iterator[TableWriter]:
    """Where the analysis writes a day's results tables, whatever the location.

    Local: the day's folder, swapped in whole (:func:`flowlens.atomic.atomic_dir`). S3: each
    table's day prefix replaced, ``rule_usage`` deleted first and written last; engines that
    can write S3 from where they run (``write_parquet_s3``: Spark's executors, Athena's CTAS)
    write it there, DuckDB writes a local file that is uploaded.
    """
    if dd.results_s3 is None:
        with atomic_dir(dd.results_dir(day)) as out:
            yield lambda table, types: eng.write_parquet(table, types, out / f"{table}.parquet")
        return
    lake.delete_under(results_day_root(dd, day, MARKER_TABLE))
    deferred: list[tuple[str, Mapping[str, pa.DataType]]] = []

    def write(table: str, types: Mapping[str, pa.DataType]) -> None:
        if table == MARKER_TABLE:
            deferred.append((table, types))
        else:
            write_s3(dd, day, eng, table, types)

    yield write
    for table, types in deferred:
        write_s3(dd, day, eng, table, types)
    log.info("results of %s written to %s", day, dd.results_description())


def write_s3(
    dd: DataDir, day: date, eng: Engine, table: str, types: Mapping[str, pa.DataType]
) -> None:
    """One results table of ``day`` into its S3 day prefix, replacing what was there."""
    target = results_day_root(dd, day, table)
    remote: Any = getattr(eng, "write_parquet_s3", None)
    if remote is not None:
        remote(table, types, target)
        return
    local = dd.tmp / f"results-{uuid.uuid4().hex[:12]}" / f"{table}.parquet"
    try:
        eng.write_parquet(table, types, local)
        lake.delete_under(target)
        lake.upload(local, S3Root(target.path.child(f"{table}.parquet"), target.aws))
    finally:
        shutil.rmtree(local.parent, ignore_errors=True)


def write_table(dd: DataDir, day: date, table: str, rows: pa.Table) -> str:
    """Write a results table built in Python (``recommendations``) for ``day``; returns where."""
    if dd.results_s3 is None:
        final = dd.results_dir(day) / f"{table}.parquet"
        write_parquet_atomic(rows, final)
        return str(final)
    target = results_day_root(dd, day, table)
    local = dd.tmp / f"results-{uuid.uuid4().hex[:12]}" / f"{table}.parquet"
    try:
        write_parquet_atomic(rows, local)
        lake.delete_under(target)
        dest = S3Root(target.path.child(f"{table}.parquet"), target.aws)
        lake.upload(local, dest)
    finally:
        shutil.rmtree(local.parent, ignore_errors=True)
    return dest.path.uri
