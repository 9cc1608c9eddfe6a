"""Requests of the booking API, as pydantic models (the typed contract of each route), and their bounds.

Distances and weights are decimals, kept exact (``Decimal``) all the way into the fare. Limits
that are business rules (the largest distance and weight, the page sizes) come from config and
are checked in ``booking.pricing`` and the service; the models hold what is true of any shipment
and the hard limits of the stores, so that nothing unbounded ever reaches a key, an item or a
number conversion:

    booking ids         ``bk_`` + base32, at most ``ID_MAX_LENGTH`` (128) characters
    driver ids          an id (letters, digits, ``_ -``), at most 128 characters
    Idempotency-Key     visible ASCII, at most 128 characters
    distance, weight    a JSON number or a decimal string, positive, at most
                        ``QUANTITY_MAX_DIGITS`` digits of which ``QUANTITY_DECIMAL_PLACES`` after
                        the point (to the metre and the gram); never a boolean
    coordinates         JSON numbers in degrees, never booleans, rounded to ``COORDINATE_DECIMALS``
    surcharges          at most ``SURCHARGES_MAX_ITEMS`` names, each a config key
    contact             an e-mail address (at most 254 characters, RFC 5321) and/or a phone number
                        (E.164: ``+`` and at most 15 digits)
    list query          ``scope`` mine|tenant; ``limit`` ASCII digits (range from config);
                        ``cursor`` at most ``QUERY_VALUE_MAX_LENGTH`` characters

>>> QuoteRequest.model_validate({"distance_km": "12.5", "weight_kg": 800, "surcharges": ["night"]}).distance_km
Decimal('12.5')
>>> QuoteRequest.model_validate({"distance_km": "1E+3", "weight_kg": 1}).distance_km
Decimal('1000')
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from common.bounds import IDEMPOTENCY_KEY_PATTERN, BoundedId, Cursor, PageSizeText, bounded_float, bounded_id, bounded_list, bounded_text

#: The ids this service issues: ``bk_`` and the lower-case base32 of a digest (27 characters today).
BOOKING_ID_PATTERN = r"^bk_[a-z2-7]+$"
BookingId: Any = bounded_id(pattern=BOOKING_ID_PATTERN)
#: The Idempotency-Key header: visible ASCII only (safe in keys and logs), as long as an id.
IdempotencyKey: Any = bounded_id(pattern=IDEMPOTENCY_KEY_PATTERN)

#: Quantities: 15 significant digits fit DynamoDB's 38 and Decimal's exact fare arithmetic;
#: 3 decimal places are metres of a distance in km and grams of a weight in kg.
QUANTITY_MAX_DIGITS = 15
QUANTITY_DECIMAL_PLACES = 3
#: Coordinates are stored to 7 decimal places (about a centimetre), so a value like ``1e-300``
#: becomes 0 instead of a number DynamoDB cannot hold (its smallest magnitude is 1e-130).
COORDINATE_DECIMALS = 7
#: Surcharge names are keys of ``pricing_models.surcharges`` (the config schema holds them to the
#: same shape), so a request names at most that many; the list bound keeps the check cheap.
CONFIG_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
CONFIG_KEY_MAX_LENGTH = 64
SURCHARGES_MAX_ITEMS = 32
#: An e-mail address: at most 254 characters (RFC 5321's path limit), a local part of at most 64,
#: ASCII only, one ``@`` and a dotted domain.
EMAIL_MAX_LENGTH = 254
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
#: A phone number in E.164: ``+``, a country code that does not start with 0, at most 15 digits.
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
PHONE_MAX_LENGTH = 16


def _plain_decimal(value: Decimal) -> Decimal:
    """``1E+3`` as ``1000``: the text stored and shown is always positional."""
    return Decimal(format(value, "f"))


#: A positive quantity: a JSON number or a decimal string, never a boolean, bounded in digits.
Quantity: Any = Annotated[
    Decimal,
    Field(gt=0, max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, allow_inf_nan=False),
    AfterValidator(_plain_decimal),
]


def coordinate(bound: float) -> Any:
    """Degrees within ``±bound``, a JSON number only, stored to ``COORDINATE_DECIMALS`` places."""
    return bounded_float(ge=-bound, le=bound, places=COORDINATE_DECIMALS)


Latitude: Any = coordinate(90)
Longitude: Any = coordinate(180)
EmailAddress: Any = bounded_text(EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN)
PhoneNumber: Any = bounded_text(PHONE_MAX_LENGTH, pattern=PHONE_PATTERN)
SurchargeNames: Any = bounded_list(bounded_text(CONFIG_KEY_MAX_LENGTH, min_length=1, pattern=CONFIG_KEY_PATTERN), SURCHARGES_MAX_ITEMS)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coordinates(_Request):
    """A point on Earth in decimal degrees (WGS 84)."""

    lat: Latitude
    lon: Longitude


class Contact(_Request):
    """Where the customer wants to hear about this booking (the notification service reads it)."""

    email: EmailAddress | None = None
    phone: PhoneNumber | None = None

    @model_validator(mode="after")
    def _some_address(self) -> Contact:
        if self.email is None and self.phone is None:
            raise ValueError("give an email, a phone or both")
        return self


class QuoteRequest(_Request):
    """``POST /bookings/quote``: what the fare depends on."""

    distance_km: Quantity
    weight_kg: Quantity
    surcharges: SurchargeNames = Field(default_factory=list)

    @field_validator("surcharges")
    @classmethod
    def _no_repeats(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("each surcharge may be named once")
        return names


class CreateBookingRequest(QuoteRequest):
    """``POST /bookings``: the quote's inputs plus where and when, and optionally a contact."""

    pickup: Coordinates
    dropoff: Coordinates
    pickup_at: AwareDatetime
    contact: Contact | None = None


class AssignDriverRequest(_Request):
    """``POST /bookings/{booking_id}/assign``: the driver (their user id) who will carry it."""

    driver_id: BoundedId


class BookingPath(_Request):
    """The path of a route on one booking."""

    booking_id: BookingId


class ListBookingsQuery(_Request):
    """``GET /bookings?scope=&limit=&cursor=``: whose bookings, how many, from where."""

    scope: Literal["mine", "tenant"] = "mine"
    limit: PageSizeText | None = None
    cursor: Cursor | None = None
