"""Request bodies of the payment API, as pydantic models (the typed contract of each route).

Amounts are integers in minor units, strictly: ``10.5``, ``"1000"`` or ``true`` are refused
rather than rounded or parsed. Every amount has a hard ceiling here (``AMOUNT_MINOR_CEILING``),
so a 40-digit amount is a 400 before it reaches ``Decimal`` or DynamoDB; the tenant's own largest
amount and currency are config and are checked in ``payment.service``. Ids and the
Idempotency-Key are bounded by ``common.bounds``.

>>> AuthorizeRequest.model_validate({"booking_id": "bk_1", "amount_minor": 125000, "currency": "INR"}).amount_minor
125000
>>> from pydantic import ValidationError
>>> try:
...     AuthorizeRequest.model_validate({"booking_id": "bk_1", "amount_minor": 10**40, "currency": "INR"})
... except ValidationError as exc:
...     print(exc.errors()[0]["loc"], exc.errors()[0]["type"])
('amount_minor',) less_than_equal
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from common.bounds import ID_MAX_LENGTH, ID_PATTERN, IDEMPOTENCY_KEY_PATTERN, BoundedId, bounded_int, bounded_text

#: The largest amount any tenant's config may allow: 2**53 - 1, the largest integer a JSON
#: client (IEEE double) carries exactly; far inside DynamoDB's 38-digit numbers.
AMOUNT_MINOR_CEILING = 2**53 - 1  # antipattern: ignore[UT005] reason: a hard limit of JSON numbers (IEEE double), not a tenant's policy
#: ISO 4217 alphabetic code.
CURRENCY_PATTERN = r"^[A-Z]{3}$"
CURRENCY_CODE_LENGTH = 3

AmountMinor: Any = bounded_int(gt=0, le=AMOUNT_MINOR_CEILING)
CurrencyCode: Any = bounded_text(CURRENCY_CODE_LENGTH, min_length=CURRENCY_CODE_LENGTH, pattern=CURRENCY_PATTERN)

__all__ = ["AMOUNT_MINOR_CEILING", "ID_MAX_LENGTH", "ID_PATTERN", "IDEMPOTENCY_KEY_PATTERN", "AuthorizeRequest", "CaptureRequest", "RefundRequest"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthorizeRequest(_Request):
    """``POST /payments/authorize``: hold ``amount_minor`` for a booking."""

    booking_id: BoundedId
    amount_minor: AmountMinor
    currency: CurrencyCode


class CaptureRequest(_Request):
    """``POST /payments/{id}/capture``: take the money; the whole authorized amount unless smaller."""

    amount_minor: AmountMinor | None = None


class RefundRequest(_Request):
    """``POST /payments/{id}/refund``: give back part or all of what was captured."""

    amount_minor: AmountMinor
