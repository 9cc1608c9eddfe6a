"""The current time, in one place, so that tests can move it and every module agrees on UTC.

>>> utc_now().tzinfo is not None
True
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch: the unit of DynamoDB TTL attributes."""
    return int(moment.timestamp())
