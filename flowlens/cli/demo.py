"""``flowlens demo``: the whole pipeline on the bundled sample_logs/, no AWS, no network."""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from flowlens.cli import _common
from flowlens.cli.run import print_result, report_exit
from flowlens.datadir import DataDir
from flowlens.errors import UsageError
from flowlens.lock import LOCK_NAME
from flowlens.samples import sample_logs_root

MARKER = ".flowlens-demo"


def register(sub: Any) -> None:
    p = _common.command_parser(
        sub,
        "demo",
        writes=_demo_lock_dir,
        help="run the whole pipeline on the bundled sample_logs/ (no AWS needed)",
        description="Ingest the sample day, snapshot its inventory, analyse, recommend and "
        "report. The demo's data directory is <out>/data unless --data-dir is given; it "
        "is rebuilt on every run.",
        example="flowlens demo\n"
        "flowlens demo --out /tmp/flowlens-demo && flowlens sql --data-dir /tmp/flowlens-demo/data "
        '"SELECT status, count(*) FROM rule_usage GROUP BY ALL"',
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default="reports/demo",
        help="report directory (default reports/demo)",
    )
    p.add_argument("--json", action="store_true", help="print the run summary as JSON on stdout")
    p.set_defaults(func=run)


def _demo_root(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else Path(args.out) / "data"


def _demo_lock_dir(args: argparse.Namespace) -> DataDir | None:
    """The demo's data dir, locked while it is rebuilt; not a folder the
    demo would refuse to touch."""
    root = _demo_root(args)
    if (
        root.exists()
        and not (root / MARKER).exists()
        and any(c.name != LOCK_NAME for c in root.iterdir())
    ):
        return None  # _fresh_data_dir refuses it
    return DataDir(root)


def _fresh_data_dir(args: argparse.Namespace) -> DataDir:
    """An empty demo data dir (its writer lock, held by this run, kept)."""
    root = _demo_root(args)
    if root.exists():
        others = [c for c in root.iterdir() if c.name != LOCK_NAME]
        if others and not (root / MARKER).exists():
            raise UsageError(
                f"{root} exists and is not a demo data directory; choose "
                "another --data-dir or --out"
            )
        for child in others:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("created by flowlens demo; rebuilt on every demo run\n")
    return DataDir(root)


def run(args: argparse.Namespace) -> int:
    from flowlens.batch import InventorySpec, run_batch, window_end
    from flowlens.ingest.source import LocalSource

    samples = sample_logs_root()
    expected = json.loads((samples / "expected.json").read_text(encoding="utf-8"))
    day = date.fromisoformat(expected["window"]["start"][:10])
    out = Path(args.out)
    dd = _fresh_data_dir(args)
    result = run_batch(
        LocalSource(samples / "s3"),
        [day],
        dd,
        InventorySpec(json_paths=(samples / "inventory",), taken_at=window_end([day])),
        out,
    )
    print_result(result, as_json=args.json)
    if not args.json:
        print(
            f"data:   {dd.root}  (try: flowlens sql --data-dir {dd.root} "
            '"SELECT * FROM rule_usage")'
        )
    return report_exit(result)
