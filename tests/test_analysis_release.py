"""Intermediate tables are freed after the last step that reads them, and never before."""

from __future__ import annotations

import re

from flowlens.analyze.pipeline import (
    OUTPUTS,
    STEPS,
    VIEW_STEPS,
    release_plan,
    step_query,
    step_table,
)


def test_a_table_is_freed_after_its_last_reader_and_results_are_kept() -> None:
    plan = release_plan(
        {
            "10_a": "SELECT 1",
            "20_b": "SELECT * FROM a",
            "30_conversations": "SELECT * FROM b JOIN a USING (x)",  # a result: kept
            "40_c": "SELECT * FROM prior_b, conversations",  # prior_b is not b
            "50_d": "SELECT 2",
        }
    )
    assert plan == {
        "10_a": [],
        "20_b": [],
        "30_conversations": ["a", "b"],
        "40_c": ["c"],
        "50_d": ["d"],
    }


def test_the_real_plan_frees_each_intermediate_once_after_its_last_reader() -> None:
    sql = {step: step_query(step).sql for step in STEPS}
    plan = release_plan(sql)
    freed = [t for tables in plan.values() for t in tables]
    intermediates = [step_table(s) for s in STEPS if step_table(s) not in OUTPUTS]
    assert sorted(freed) == sorted(intermediates)
    order = list(STEPS)
    for step, tables in plan.items():
        for table in tables:
            later = order[order.index(step) + 1 :]
            assert not any(re.search(rf"\b{table}\b", sql[s]) for s in later), (table, step)
    # the biggest go as soon as the next step has read them
    assert "eni_flows" in plan["30_conversation_sides"]


def test_what_a_results_view_reads_is_kept_until_the_results_are_written() -> None:
    sql = {
        "10_a": "SELECT 1",
        "20_b": "SELECT * FROM a",
        "30_conversations": "SELECT * FROM b",  # left a view: b is read when it is written
        "40_c": "SELECT * FROM b, conversations",
    }
    assert release_plan(sql, views={"30_conversations"}) == {
        "10_a": [],
        "20_b": ["a"],
        "30_conversations": [],
        "40_c": ["c"],
    }
    assert release_plan(sql)["40_c"] == ["b", "c"]


def test_the_real_plan_keeps_what_the_conversations_view_reads() -> None:
    sql = {step: step_query(step).sql for step in STEPS}
    freed = {t for tables in release_plan(sql, views=VIEW_STEPS).values() for t in tables}
    assert not freed & {"conversation_sides", "key_rule_counts", "unattributed_enis"}
    assert "eni_flows" in freed
