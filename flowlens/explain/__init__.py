"""``flowlens explain``: which rules allow one flow, on each side, and would
the plan still allow it.

:func:`explain` reads the data dir (:mod:`flowlens.explain.load`, imported when called so that
the pure :mod:`flowlens.explain.core` loads no engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flowlens.explain.core import Explanation, FlowQuery

if TYPE_CHECKING:
    from flowlens.datadir import DataDir

__all__ = ["Explanation", "FlowQuery", "explain"]


def explain(
    dd: DataDir,
    q: FlowQuery,
    days: Sequence[date],
    *,
    at: datetime | None = None,
    plan: str | Path | None = None,
) -> Explanation:
    """See :func:`flowlens.explain.load.explain`."""
    from flowlens.explain import load

    return load.explain(dd, q, days, at=at, plan=plan)
