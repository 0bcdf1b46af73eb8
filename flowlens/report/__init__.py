"""The daily report: HTML, Markdown, JSON and PNG charts over the catalog (docs/report.md).

``write_report`` and ``ReportPaths`` load on first use, so that the pure parts of this package
(:mod:`flowlens.report.exposure`) import without DuckDB, pandas or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowlens.report.render import ReportPaths, write_report

__all__ = ["ReportPaths", "write_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from flowlens.report import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
