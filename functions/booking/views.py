"""What the booking API answers, as pydantic models: every success body is built through one of them.

The endpoints build their answers with ``<View>.model_validate(...).model_dump(mode="json")``, so
an answer can never drift from the model the route manifest names (``response=``) and the fuzz
suite checks against.

The booking's ``contact`` is personal data: it is shown only to the booking's own customer (the
owner). The assigned driver and operators see the booking without it, and no list shows it at
all (list items are summaries). The notification service reads it from the table, not the API.

>>> PointView.model_validate({"lat": 19, "lon": "72.5"}).model_dump()
{'lat': 19.0, 'lon': 72.5}
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PointView(_View):
    lat: float
    lon: float


class PriceView(_View):
    """A fare and how it was made up; every amount in minor units of ``currency``."""

    currency: str
    base_fare_minor: int
    distance_minor: int
    weight_minor: int
    surcharges_minor: dict[str, int]
    subtotal_minor: int
    minimum_fare_minor: int
    minimum_fare_applied: bool
    fare_minor: int
    tax_basis_points: int
    tax_minor: int
    total_minor: int

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class QuoteView(_View):
    """``POST /bookings/quote``: the fare, and the config version it was priced with."""

    quote: PriceView
    config_version: str


class CancellationView(_View):
    cancelled_at: str
    cancelled_by: str
    free: bool
    fee_minor: int
    fee_basis_points: int
    currency: str
    config_version: str


class ContactView(_View):
    email: str | None = None
    phone: str | None = None


class _BookingBasics(_View):
    booking_id: str
    status: str
    created_at: str
    pickup_at: str


class BookingView(_BookingBasics):
    """One booking, as its customer, its driver and operators see it (``contact``: its customer only)."""

    pickup: PointView
    dropoff: PointView
    distance_km: str
    weight_kg: str
    surcharges: list[str]
    price: PriceView
    config_version: str
    driver_id: str | None = None
    cancellation: CancellationView | None = None
    contact: ContactView | None = None


class BookingSummaryView(_BookingBasics):
    """A list item: enough to pick a booking, nothing personal beyond whose it is."""

    user_id: str
    total_minor: int
    currency: str


class BookingPageView(_View):
    """``GET /bookings``: one page, newest first, and the cursor of the next (``None`` on the last)."""

    items: list[BookingSummaryView]
    next_cursor: str | None


def booking_view(booking: Mapping[str, Any], *, show_contact: bool) -> dict[str, Any]:
    """The API representation of a stored booking; its contact only when ``show_contact``."""
    fields = {name: booking.get(name) for name in BookingView.model_fields if name != "contact"}
    fields["surcharges"] = list(booking.get("surcharges") or [])
    if show_contact:
        fields["contact"] = booking.get("contact")
    return BookingView.model_validate(fields).model_dump(mode="json")
