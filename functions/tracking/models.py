"""Requests of the tracking API, as pydantic models (the typed contract of each route), and their bounds.

What is true of any position (coordinate ranges, a speed no vehicle on land exceeds, a timestamp
with a zone) and the hard limits of the stores are checked here; the tenant's limits (largest
speed, clock skew, retention, page size) are config and are checked in ``tracking.rules`` and
the service:

    booking ids         letters, digits, ``_ -``: at most ``ID_MAX_LENGTH`` (128) characters
    lat, lon            JSON numbers (never booleans or text) within ±90 / ±180 degrees
    speed_kmh           a JSON number from 0 to ``SPEED_CEILING_KMH``
    heading_deg         a JSON number from 0 up to (not including) 360
    numbers             stored to ``STORED_DECIMALS`` places, so a value like ``1e-300`` becomes 0
                        instead of a number DynamoDB cannot hold (its smallest magnitude is 1e-130)
    history query       ``limit`` ASCII digits (range from config); ``cursor`` at most
                        ``QUERY_VALUE_MAX_LENGTH`` characters

>>> PositionUpdate.model_validate({"lat": 19.07, "lon": 72.87, "speed_kmh": 42, "recorded_at": "2024-05-01T12:00:00+05:30"}).lat
19.07
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from common.bounds import BoundedId, Cursor, PageSizeText, bounded_float

#: Numbers are stored to 7 decimal places: about a centimetre of latitude, far below any GPS error.
STORED_DECIMALS = 7
#: No vehicle on land has gone faster (the land speed record is 1,228 km/h): a reading above this
#: is never a truck's, whatever the tenant's ``max_speed_kmh`` (which must stay below it).
SPEED_CEILING_KMH = 1300


def stored_number(**bounds: float) -> Any:
    """A JSON number within ``bounds`` (never a boolean or text), rounded to ``STORED_DECIMALS``."""
    return bounded_float(**bounds, places=STORED_DECIMALS)


Latitude: Any = stored_number(ge=-90, le=90)
Longitude: Any = stored_number(ge=-180, le=180)
Speed: Any = stored_number(ge=0, le=SPEED_CEILING_KMH)
Heading: Any = stored_number(ge=0, lt=360)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionUpdate(_Request):
    """``POST /tracking/{booking_id}/positions``: where the truck is, how fast, and when."""

    lat: Latitude
    lon: Longitude
    speed_kmh: Speed
    heading_deg: Heading | None = None
    recorded_at: AwareDatetime


class TrackingPath(_Request):
    """The path of every tracking route: the booking the positions belong to."""

    booking_id: BoundedId


class HistoryQuery(_Request):
    """``GET /tracking/{booking_id}/history?limit=&cursor=``."""

    limit: PageSizeText | None = None
    cursor: Cursor | None = None
