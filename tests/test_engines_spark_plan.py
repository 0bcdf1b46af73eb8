"""The Spark engine's step plan, without a JVM: which steps stay views (folded into readers)."""

from __future__ import annotations

import pytest

from flowlens.analyze.pipeline import STEPS, step_query
from flowlens.engines.spark_engine import _folds

IN_MEMORY = {"a", "b", "findings_rules", "span_rule_matches", "rule_shadows"}


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT x AS y, CAST(z AS VARCHAR) AS z FROM a WHERE x > 1",
        "SELECT x FROM a UNION ALL SELECT x FROM b",
        "WITH c AS (SELECT * FROM a UNION ALL SELECT * FROM b) SELECT MD5(x) AS id FROM c",
    ],
)
def test_renames_filters_and_appends_of_tables_in_memory_fold(sql: str) -> None:
    assert _folds(sql, IN_MEMORY)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a.x FROM a JOIN b ON a.x = b.x",  # a join: computed once, not per reader
        "SELECT x, COUNT(*) AS n FROM a GROUP BY x",
        "SELECT DISTINCT x FROM a",
        "SELECT x FROM a UNION SELECT x FROM b",  # UNION deduplicates
        "SELECT x, ROW_NUMBER() OVER (ORDER BY x) AS n FROM a",
        "SELECT x FROM a LIMIT 3",
        "SELECT x FROM a WHERE x IN (SELECT x FROM b)",
        "SELECT x FROM flows WHERE date = $day",  # a Parquet input: would be scanned per reader
    ],
)
def test_anything_that_costs_more_than_a_scan_is_checkpointed(sql: str) -> None:
    assert not _folds(sql, IN_MEMORY)


def test_the_analysis_folds_only_its_pure_projections() -> None:
    everything = {"span_rule_matches", "rule_shadows"} | {s.split("_", 1)[1] for s in STEPS}
    folded = {s for s in STEPS if _folds(step_query(s).sql, everything)}
    # 45 renames span_rule_matches, 84 formats rule_shadows, 89 appends the findings tables
    assert {"45_rule_matches", "84_findings_shadowed"} <= folded
    assert not folded & {"10_eni_flows", "30_conversation_sides", "40_key_rules", "70_rejected"}
