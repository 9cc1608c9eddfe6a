"""The position update a device sends, as a pydantic model (the typed contract of the ingest route).

What is true of any position (coordinate ranges, a non-negative speed, a timestamp with a zone)
is checked here; the tenant's limits (largest speed, clock skew, retention) are config and are
checked in ``tracking.rules``.

>>> PositionUpdate.model_validate({"lat": 19.07, "lon": 72.87, "speed_kmh": 42, "recorded_at": "2024-05-01T12:00:00+05:30"}).lat
19.07
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Booking ids travel in the path; only URL-safe id characters may become part of a table key.
BOOKING_ID_PATTERN = r"^[A-Za-z0-9_-]+$"


class PositionUpdate(BaseModel):
    """``POST /tracking/{booking_id}/positions``: where the truck is, how fast, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    speed_kmh: float = Field(ge=0, allow_inf_nan=False)
    heading_deg: float | None = Field(default=None, ge=0, lt=360, allow_inf_nan=False)
    recorded_at: AwareDatetime
