"""The tenant's limits on a position update, from ``business/business_rules`` and data retention.

- the speed may not exceed ``max_speed_kmh``;
- the device's timestamp may be at most ``max_clock_skew_seconds`` ahead of the function's clock;
- a position older than the tenant's data retention is refused: it would be stored already
  expired (its TTL runs from when it was recorded).

>>> rules = TrackingRules(max_speed_kmh=160, max_clock_skew_seconds=300, history_page_size=100)
>>> now = datetime.fromisoformat("2024-05-01T12:00:00+00:00")
>>> update = PositionUpdate(lat=0, lon=0, speed_kmh=170, recorded_at=now + timedelta(seconds=301))
>>> [problem.field for problem in position_problems(update, rules, retention_days=90, now=now)]
['speed_kmh', 'recorded_at']
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common.errors import BadRequest, FieldError

from .config_schema import TrackingRules
from .models import PositionUpdate


def position_problems(update: PositionUpdate, rules: TrackingRules, retention_days: int, now: datetime) -> list[FieldError]:
    """Every way ``update`` breaks the tenant's limits (empty when it is acceptable)."""
    problems: list[FieldError] = []
    if update.speed_kmh > rules.max_speed_kmh:
        problems.append(FieldError("speed_kmh", f"must be at most {rules.max_speed_kmh:g} km/h", "less_than_equal"))
    if update.recorded_at > now + timedelta(seconds=rules.max_clock_skew_seconds):
        problems.append(FieldError("recorded_at", f"must not be more than {rules.max_clock_skew_seconds} s ahead of the server clock", "less_than_equal"))
    elif update.recorded_at <= now - timedelta(days=retention_days):
        problems.append(FieldError("recorded_at", f"must be within the data retention of {retention_days} days", "greater_than"))
    return problems


def check_position(update: PositionUpdate, rules: TrackingRules, retention_days: int, now: datetime) -> None:
    """``BadRequest`` naming each limit ``update`` breaks."""
    problems = position_problems(update, rules, retention_days, now)
    if problems:
        raise BadRequest("invalid request", problems)
