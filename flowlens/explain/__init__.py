"""``flowlens explain``: which rules allow one flow, on each side, and would
the plan still allow it.

:func:`explain` reads the data dir (:mod:`flowlens.explain.load`, imported when called so that
the pure :mod:`flowlens.explain.core` loads no engine); :func:`explain_conversation` explains
the flow of one ``conversations`` row, named by its ``conversation_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flowlens.explain.core import Explanation, FlowQuery

if TYPE_CHECKING:
    from flowlens.datadir import DataDir

__all__ = ["Explanation", "FlowQuery", "explain", "explain_conversation"]


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


def explain_conversation(
    dd: DataDir,
    conversation_id: str,
    days: Sequence[date] | None = None,
    *,
    at: datetime | None = None,
    plan: str | Path | None = None,
    eni_id: str | None = None,
) -> Explanation:
    """See :func:`flowlens.explain.load.explain_conversation`."""
    from flowlens.explain import load

    return load.explain_conversation(dd, conversation_id, days, at=at, plan=plan, eni_id=eni_id)
