"""Request bodies of the booking API, as pydantic models (the typed contract of each route).

Distances and weights are decimals, kept exact (``Decimal``) all the way into the fare. Limits
that are business rules (the largest distance and weight) come from config and are checked in
``booking.pricing``; the models check only what is true of any shipment.

>>> QuoteRequest.model_validate({"distance_km": "12.5", "weight_kg": 800, "surcharges": ["night"]}).distance_km
Decimal('12.5')
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# The Idempotency-Key header: visible ASCII only, so it is safe in keys and logs.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coordinates(_Request):
    """A point on Earth in decimal degrees (WGS 84)."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class QuoteRequest(_Request):
    """``POST /bookings/quote``: what the fare depends on."""

    distance_km: Decimal = Field(gt=0, allow_inf_nan=False)
    weight_kg: Decimal = Field(gt=0, allow_inf_nan=False)
    surcharges: list[str] = Field(default_factory=list)

    @field_validator("surcharges")
    @classmethod
    def _no_repeats(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("each surcharge may be named once")
        return names


class CreateBookingRequest(QuoteRequest):
    """``POST /bookings``: the quote's inputs plus where and when."""

    pickup: Coordinates
    dropoff: Coordinates
    pickup_at: AwareDatetime
