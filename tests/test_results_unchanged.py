"""Refactoring the SQL changes no result: every results table and the plan,
row for row, as committed.

Two days are rebuilt from scratch: the bundled sample day (as the ``sample_day`` fixture builds it)
and a generated day over two accounts (bench/generate.py's default and v5 custom flow logs with
tcp-flags and pkt-* fields as one account, bench/bench_analyze.py's flows and inventory as the
other). Each results table is compared with a fingerprint in tests/data/results_fingerprints.json
written by the code before the refactor: its row count and an order-independent hash (the sum of
DuckDB's ``hash`` of each row's contract columns, so duplicate rows count). The plan is compared
by the sha256 of its JSON.

To rewrite the fingerprints after a deliberate change of behaviour (say why in the commit):
``FLOWLENS_WRITE_FINGERPRINTS=1 python -m pytest tests/test_results_unchanged.py``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import numpy as np
import pytest

from flowlens.analyze import analyze
from flowlens.analyze.pipeline import OUTPUTS
from flowlens.atomic import write_parquet_atomic
from flowlens.datadir import DataDir
from flowlens.ingest.pipeline import ingest
from flowlens.ingest.source import LocalSource
from flowlens.inventory import snapshot_from_json
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.model.window import Window
from flowlens.recommend.pipeline import recommend
from flowlens.samples import sample_logs_root

REPO = Path(__file__).resolve().parent.parent
FINGERPRINTS = REPO / "tests" / "data" / "results_fingerprints.json"
GENERATED_DAY = date(2026, 11, 28)
TABLES = (*OUTPUTS, "recommendations")


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _sample_world(root: Path) -> tuple[DataDir, date]:
    samples = sample_logs_root()
    expected = json.loads((samples / "expected.json").read_text(encoding="utf-8"))
    day = date.fromisoformat(expected["window"]["start"][:10])
    dd = DataDir(root / "data")
    ingest(LocalSource(samples / "s3"), [day], dd, workers=2)
    snapshot_from_json([samples / "inventory"], dd, taken_at=Window.day(day).end)
    return dd, day


def _generated_world(root: Path) -> tuple[DataDir, date]:
    generate, bench_analyze = _bench("generate"), _bench("bench_analyze")
    dd = DataDir(root / "data")
    generate.generate_day(root / "bucket", 50_000, GENERATED_DAY, seed=3)
    ingest(LocalSource(root / "bucket"), [GENERATED_DAY], dd, workers=2)
    flows = bench_analyze.gen_flows(40_000, 60, np.random.default_rng(5))
    other = (
        dd.flows
        / "account_id=210987654321"
        / "region=eu-west-1"
        / f"date={GENERATED_DAY}"
        / "part-0.parquet"
    )
    write_parquet_atomic(flows, other)
    bench_analyze.gen_inventory(dd, 60)
    return dd, GENERATED_DAY


def _fingerprint(dd: DataDir, day: date, plan_json: str) -> dict[str, Any]:
    con = duckdb.connect()
    try:
        tables = {}
        for table in TABLES:
            path = str(dd.results_dir(day) / f"{table}.parquet").replace("'", "''")
            cols = ", ".join(f'"{c}"' for c in RESULT_SCHEMAS[table].names)
            count, digest = con.execute(
                f"SELECT COUNT(*), CAST(COALESCE(SUM(hash({cols})), 0) AS VARCHAR) "
                f"FROM read_parquet('{path}')"
            ).fetchone() or (0, "0")
            tables[table] = {"rows": count, "hash": digest}
    finally:
        con.close()
    return {"tables": tables, "plan_sha256": hashlib.sha256(plan_json.encode()).hexdigest()}


def _build(world: str, root: Path) -> dict[str, Any]:
    dd, day = (_sample_world if world == "sample" else _generated_world)(root)
    analyze(dd, [day])
    plan = recommend(dd, [day])
    return _fingerprint(dd, day, json.dumps(plan.to_dict(), sort_keys=True))


@pytest.mark.parametrize("world", ["sample", "generated"])
def test_results_equal_the_committed_fingerprints(world: str, tmp_path: Path) -> None:
    got = _build(world, tmp_path)
    assert all(
        got["tables"][t]["rows"] > 0
        for t in ("conversations", "rule_usage", "rejected", "findings")
    ), got
    if os.environ.get("FLOWLENS_WRITE_FINGERPRINTS") == "1":
        saved = (
            json.loads(FINGERPRINTS.read_text(encoding="utf-8")) if FINGERPRINTS.is_file() else {}
        )
        saved[world] = got
        FINGERPRINTS.parent.mkdir(parents=True, exist_ok=True)
        FINGERPRINTS.write_text(
            json.dumps(saved, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    expected = json.loads(FINGERPRINTS.read_text(encoding="utf-8"))[world]
    for table in TABLES:
        assert got["tables"][table] == expected["tables"][table], (
            f"{world}: {table} differs from before"
        )
    assert got["plan_sha256"] == expected["plan_sha256"], f"{world}: the plan differs from before"
