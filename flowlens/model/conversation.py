"""The stable id of one ``conversations`` row, which a user copies from ``flowlens sql`` output.

A row of ``conversations`` is one ENI × conversation (protocol and unordered address/port pair) ×
analysed day. Its id hashes exactly those key columns, so re-analysing a day gives every
conversation the id it had before, and nothing the analysis decides enters it: which side is the
initiator (the pair is ordered by its text, not by the decision), the verdict, the counters. The
catalog computes it in SQL (:data:`CONVERSATION_ID_SQL`, the ``conversation_id`` column of the
``conversations`` view); :func:`conversation_id` is the same function in Python. 64 bits of
SHA-256: a collision is negligible below billions of rows, and a lookup that finds two rows says so.

Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

PREFIX = "cv-"
HEX_DIGITS = 16
ID_PATTERN = re.compile(rf"^{PREFIX}[0-9a-f]{{{HEX_DIGITS}}}$")


def _endpoint_sql(addr: str, port: str) -> str:
    return f"coalesce({addr}, '-') || ' ' || coalesce(CAST({port} AS VARCHAR), '-')"


_INITIATOR = _endpoint_sql("initiator_addr", "initiator_port")
_RESPONDER = _endpoint_sql("responder_addr", "responder_port")

#: The id as a DuckDB expression over a ``conversations`` row (its ``date`` a DATE).
CONVERSATION_ID_SQL = (
    f"'{PREFIX}' || left(sha256(concat_ws('|', CAST(\"date\" AS VARCHAR), coalesce(eni_id, '-'), "
    f"coalesce(CAST(protocol AS VARCHAR), '-'), least({_INITIATOR}, {_RESPONDER}), "
    f"greatest({_INITIATOR}, {_RESPONDER}))), {HEX_DIGITS})"
)


def _endpoint(addr: str | None, port: int | None) -> str:
    return f"{'-' if addr is None else addr} {'-' if port is None else port}"


def conversation_id(
    day: date,
    eni_id: str | None,
    protocol: int | None,
    initiator: tuple[str | None, int | None],
    responder: tuple[str | None, int | None],
) -> str:
    """The id of the conversation ``initiator`` ↔ ``responder`` seen on ``eni_id`` on ``day``.

    The two endpoints may be given either way round:

    >>> a = conversation_id(date(2026, 11, 28), "eni-1", 6, ("10.0.0.1", 40000), ("10.0.0.2", 443))
    >>> a == conversation_id(date(2026, 11, 28), "eni-1", 6, ("10.0.0.2", 443), ("10.0.0.1", 40000))
    True
    >>> a
    'cv-e0d320e874fe8fb8'
    """
    one, two = _endpoint(*initiator), _endpoint(*responder)
    key = "|".join(
        [
            day.isoformat(),
            "-" if eni_id is None else eni_id,
            "-" if protocol is None else str(protocol),
            min(one, two),
            max(one, two),
        ]
    )
    return PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:HEX_DIGITS]


def is_conversation_id(text: str) -> bool:
    """Whether ``text`` has the shape of a conversation id (``cv-`` and 16 hex digits).

    >>> is_conversation_id("cv-1d0f7a5f1f2e9b57"), is_conversation_id("sgr-1d0f7a5f1f2e9b57")
    (True, False)
    """
    return ID_PATTERN.match(text) is not None
