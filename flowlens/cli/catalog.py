"""``flowlens catalog``: where the catalog is, which data directory its
views read, and rewriting it."""

from __future__ import annotations

import argparse
from typing import Any

from flowlens.cli import _common
from flowlens.datadir import DataDir
from flowlens.errors import UsageError


def _refresh_lock_dir(args: argparse.Namespace) -> DataDir | None:
    """``--refresh`` writes the catalog (under the writer lock); without
    it the command only reads."""
    dd = _common.data_dir(args)
    return dd if args.refresh and dd.root.is_dir() else None


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "catalog",
        writes=_refresh_lock_dir,
        help="show or rewrite catalog.duckdb (the views any DuckDB client opens)",
        description="catalog.duckdb holds one view per flowlens table, reading the data "
        "directory's Parquet files by absolute path, so DuckDB clients can open it from any "
        "directory. Without options, say whether it is current; --refresh rewrites it for the "
        "files present now and for where the data directory is now (after moving or copying it). "
        "Every command that writes data refreshes it too.",
        example="flowlens catalog --refresh --data-dir /mnt/moved/flowlens-data\n"
        "duckdb /mnt/moved/flowlens-data/catalog.duckdb -c 'SELECT COUNT(*) FROM flows'",
    )
    p.add_argument(
        "--refresh",
        action="store_true",
        help="rewrite the views for the data directory as it is now",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowlens.catalog import catalog_root, data_dir_path, refresh_catalog

    dd = _common.data_dir(args)
    if not dd.root.is_dir():
        raise UsageError(
            f"no flowlens data directory at {dd.root}; pass --data-dir or set $FLOWLENS_DATA_DIR"
        )
    if args.refresh:
        refresh_catalog(dd)
    reads, here = catalog_root(dd), data_dir_path(dd)
    result = {
        "catalog": str(dd.catalog.absolute()),
        "reads": reads,
        "current": reads == here,
        "refreshed": bool(args.refresh),
    }
    if args.json:
        _common.print_json(result)
    elif result["current"]:
        print(f"{result['catalog']}: {'rewritten, ' if args.refresh else ''}views read {here}")
    else:
        where = (
            f"views read {reads}"
            if reads
            else "no catalog yet"
            if not dd.catalog.exists()
            else "views of unknown origin"
        )
        print(f"{result['catalog']}: {where}, not {here}; run 'flowlens catalog --refresh'")
    return 0
