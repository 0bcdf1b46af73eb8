"""The daily report: HTML, Markdown, JSON and PNG charts over the catalog (design.md §1)."""

from flowlens.report.render import ReportPaths, write_report

__all__ = ["ReportPaths", "write_report"]
