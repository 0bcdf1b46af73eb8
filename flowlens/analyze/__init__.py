"""Analysis: conversations, rule attribution, rule usage, rejected traffic,
findings (docs/analysis.md).

``analyze`` and ``AnalysisSummary`` load on first use, so that the pure helpers of this package
(:mod:`flowlens.analyze.addresses`) import without DuckDB or the engines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowlens.analyze.pipeline import AnalysisSummary, analyze

__all__ = ["AnalysisSummary", "analyze"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from flowlens.analyze import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
