"""``flowlens explain``: which rules allow one flow, on each side, and would the plan still allow it."""

from flowlens.explain.core import Explanation, FlowQuery
from flowlens.explain.load import explain

__all__ = ["Explanation", "FlowQuery", "explain"]
