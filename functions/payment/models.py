"""Request bodies of the payment API, as pydantic models (the typed contract of each route).

Amounts are integers in minor units, strictly: ``10.5`` or ``"1000"`` are refused rather than
rounded or parsed. The tenant's currency and largest amount are config and are checked in
``payment.service``.

>>> AuthorizeRequest.model_validate({"booking_id": "bk_1", "amount_minor": 125000, "currency": "INR"}).amount_minor
125000
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt

# Ids travel in paths and become table keys: URL-safe id characters only.
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
# The Idempotency-Key header: visible ASCII only, so it is safe in keys and logs.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthorizeRequest(_Request):
    """``POST /payments/authorize``: hold ``amount_minor`` for a booking."""

    booking_id: str = Field(pattern=ID_PATTERN)
    amount_minor: StrictInt = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class CaptureRequest(_Request):
    """``POST /payments/{id}/capture``: take the money; the whole authorized amount unless smaller."""

    amount_minor: StrictInt | None = Field(default=None, gt=0)


class RefundRequest(_Request):
    """``POST /payments/{id}/refund``: give back part or all of what was captured."""

    amount_minor: StrictInt = Field(gt=0)
