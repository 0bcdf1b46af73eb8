"""The inventory of one analysed day and its epochs: the parts of the day in which nothing changed.

Pure (pyarrow only). The timeline (:mod:`flowlens.inventory.timeline`) gives every inventory row
the interval ``[valid_from, valid_to)`` in which it possibly held. Inside a day only a few of
those edges fall (a snapshot that shows a change, an attachment time): they split the day into
epochs, and inside one epoch every row either possibly holds all the time or not at all. So the
analysis matches each conversation against the rows valid in the epochs its records span — a
join of the (few) match keys with the (few) epochs, never of every record with the timeline — and
a day without a change is one epoch: exactly the single-snapshot analysis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from flowlens import arrays
from flowlens.model.inventory import TS

#: The tables whose changes decide which rules and groups a conversation is judged by; changes
#: elsewhere (a flow log, a NACL) are judged over the whole day and split no epoch.
ATTRIBUTION_TABLES: tuple[str, ...] = (
    "enis",
    "eni_groups",
    "eni_ips",
    "sg_rules",
    "prefix_lists",
    "prefix_list_entries",
)

#: Record times (unix seconds) before the first and after the last epoch still fall into them.
FIRST_SECOND, LAST_SECOND = 0, 253402214400  # 1970-01-01, 9999-12-31

EPOCHS_SCHEMA = pa.schema(
    [
        pa.field("epoch", pa.int32()),
        pa.field("epoch_from", TS),
        pa.field("epoch_to", TS),  # the epoch inside the day, half-open
        pa.field("from_s", pa.int64()),
        pa.field("to_s", pa.int64()),  # the record seconds it takes, half-open
    ]
)


def day_tables(
    tables: Mapping[str, pa.Table], start: datetime, end: datetime
) -> dict[str, pa.Table]:
    """Each timeline table cut to the rows possibly valid at some time of ``[start, end)``.

    Time-unaware queries read these as the day's inventory (every row the day may have seen);
    time-aware ones add the epoch condition.
    """
    lo, hi = arrays.scalar(_utc(start), TS), arrays.scalar(_utc(end), TS)
    return {
        name: t.filter(pc.and_(pc.less(t["valid_from"], hi), pc.greater(t["valid_to"], lo)))
        for name, t in tables.items()
    }


def change_points(
    tables: Mapping[str, pa.Table],
    start: datetime,
    end: datetime,
    names: Iterable[str] = ATTRIBUTION_TABLES,
) -> list[datetime]:
    """The distinct validity edges strictly inside ``(start, end)`` of the named tables, in order.

    >>> from flowlens.inventory.timeline import FAR_FUTURE, FAR_PAST
    >>> noon, day = datetime(2026, 11, 28, 12, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC)
    >>> valid_from, valid_to = pa.array([FAR_PAST, noon], TS), pa.array([noon, FAR_FUTURE], TS)
    >>> t = pa.table({"valid_from": valid_from, "valid_to": valid_to})
    >>> change_points({"sg_rules": t}, day, datetime(2026, 11, 29, tzinfo=UTC))
    [datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)]
    """
    lo, hi = _utc(start), _utc(end)
    points: set[datetime] = set()
    for name in names:
        table = tables.get(name)
        if table is None:
            continue
        for column in ("valid_from", "valid_to"):
            for moment in arrays.pylist(table.column(column)):
                if moment is not None and lo < _utc(moment) < hi:
                    points.add(_utc(moment))
    return sorted(points)


def epochs_table(points: list[datetime], start: datetime, end: datetime) -> pa.Table:
    """The epochs between ``start``, each change point and ``end``, numbered from 0.

    ``from_s``/``to_s`` are the record seconds (flow-log ``start``/``end``) an epoch takes: a
    record at second ``s`` is in the epoch with ``from_s <= s < to_s``; an edge inside a second
    belongs to the epoch it opens from the next whole second. The first and last epoch reach to
    :data:`FIRST_SECOND`/:data:`LAST_SECOND`, so every record falls into exactly one.

    >>> day = datetime(2026, 11, 28, tzinfo=UTC)
    >>> t = epochs_table(
    ...     [datetime(2026, 11, 28, 12, tzinfo=UTC)], day, datetime(2026, 11, 29, tzinfo=UTC)
    ... )
    >>> t.column("epoch").to_pylist(), t.column("from_s").to_pylist()[1]
    ([0, 1], 1795867200)
    """
    edges = [_utc(start), *points, _utc(end)]
    n = len(edges) - 1
    seconds = [FIRST_SECOND, *(math.ceil(p.timestamp()) for p in points), LAST_SECOND]
    return arrays.table(
        {
            "epoch": range(n),
            "epoch_from": edges[:-1],
            "epoch_to": edges[1:],
            "from_s": seconds[:-1],
            "to_s": seconds[1:],
        },
        schema=EPOCHS_SCHEMA,
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
