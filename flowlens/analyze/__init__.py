"""Analysis: conversations, rule attribution, rule usage, rejected traffic, findings (design.md §5)."""

from flowlens.analyze.pipeline import AnalysisSummary, analyze

__all__ = ["AnalysisSummary", "analyze"]
