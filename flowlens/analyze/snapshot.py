"""Which inventory snapshot describes an analysis window.

The inventory stage owns the real choice (``flowlens.inventory.snapshot.choose_snapshot``);
until it exists this module picks the latest snapshot taken before the window ended, else the
oldest one after it. Everything in the analysis goes through :func:`snapshot_for_window`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flowlens.datadir import DataDir
from flowlens.errors import AnalysisError

log = logging.getLogger(__name__)


def snapshot_for_window(dd: DataDir, window_start: datetime, window_end: datetime) -> str:
    """The snapshot stamp (``YYYYMMDDTHHMMSSZ``) to attribute this window's flows with."""
    try:
        from flowlens.inventory.snapshot import choose_snapshot  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _latest_before(dd, window_end)
    return str(choose_snapshot(dd, window_start, window_end))


def _latest_before(dd: DataDir, window_end: datetime) -> str:
    stamps = dd.snapshots()
    if not stamps:
        raise AnalysisError(
            f"no inventory snapshot under {dd.inventory}; run 'flowlens inventory --aws' or "
            "'flowlens inventory --from-json FILE...' first"
        )
    limit = window_end.strftime("%Y%m%dT%H%M%SZ")
    before = [s for s in stamps if s <= limit]
    chosen = before[-1] if before else stamps[0]
    if not before:
        log.warning("every inventory snapshot is newer than the window; using the oldest, %s", chosen)
    return chosen
