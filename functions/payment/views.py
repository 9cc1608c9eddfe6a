"""Ids derived from idempotency keys, and the API representation of stored payments and refunds.

A payment's id is derived from the tenant, the caller and the Idempotency-Key, and a refund's
from those and the payment: a retry after a half-finished attempt (provider called, answer lost)
lands on the same id, and through it on the same provider idempotency key, instead of making a
second charge or refund.

Answers are built through the pydantic models here (``PaymentView``, ``RefundView``,
``RefundAnswer``), the ``response`` models the route manifest names, so what a route answers
cannot drift from its declared shape. Pending work is visible: a payment being authorized or
captured shows ``AUTHORIZING`` or ``CAPTURING`` (and the amount being captured), a refund the
provider has not confirmed yet ``PENDING``.

>>> derive_id("pay_", "acme", "u-1", "k-1") == derive_id("pay_", "acme", "u-1", "k-1")
True
>>> payment_status({"status": "CAPTURED", "captured_minor": 1000, "refunded_minor": 400})
'PARTIALLY_REFUNDED'
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from .repository import CAPTURED

PAYMENT_ID_PREFIX = "pay_"
REFUND_ID_PREFIX = "rf_"
PARTIALLY_REFUNDED, REFUNDED = "PARTIALLY_REFUNDED", "REFUNDED"
# 15 bytes encode to 24 base32 characters without padding.
_ID_DIGEST_BYTES = 15

PaymentStatus = Literal["AUTHORIZING", "AUTHORIZED", "FAILED", "CAPTURING", "CAPTURED", "PARTIALLY_REFUNDED", "REFUNDED"]
RefundStatus = Literal["PENDING", "SUCCEEDED", "FAILED"]


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RefundView(_View):
    """One refund of a payment."""

    refund_id: str
    payment_id: str
    amount_minor: int
    currency: str
    status: RefundStatus
    created_at: str
    settled_at: str | None = None


class PaymentView(_View):
    """``GET /payments/{id}``, and the answer of authorize and capture."""

    payment_id: str
    booking_id: str
    currency: str
    status: PaymentStatus
    authorized_minor: int
    captured_minor: int
    refunded_minor: int
    refundable_minor: int
    #: While ``CAPTURING``: the amount the provider is being asked to capture.
    pending_capture_minor: int | None = None
    #: When ``FAILED``: ``declined`` (by the provider, for the payment) or ``refused`` (the request).
    failure_reason: str | None = None
    created_at: str
    captured_at: str | None = None
    config_version: str
    refunds: list[RefundView]


class RefundAnswer(_View):
    """``POST /payments/{id}/refund``: the refund and the payment after it."""

    refund: RefundView
    payment: PaymentView


def derive_id(prefix: str, *parts: str) -> str:
    """A stable id for ``parts`` (tenant, user, key ...): the same parts give the same id."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=_ID_DIGEST_BYTES).digest()
    return prefix + base64.b32encode(digest).decode().lower()


def payment_status(payment: Mapping[str, Any]) -> str:
    """The status a client sees: a captured payment shows how much of it has been refunded."""
    if payment["status"] != CAPTURED or not payment.get("refunded_minor"):
        return str(payment["status"])
    return REFUNDED if payment["refunded_minor"] >= payment["captured_minor"] else PARTIALLY_REFUNDED


def refund_view(refund: Mapping[str, Any]) -> dict[str, Any]:
    return RefundView.model_validate(dict(refund)).model_dump(mode="json")


def payment_view(payment: Mapping[str, Any], refunds: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The API representation of a stored payment and its refunds (amounts in minor units)."""
    ordered = sorted(refunds, key=lambda r: str(r["created_at"]))
    view = PaymentView.model_validate({**payment, "status": payment_status(payment), "refunds": [dict(r) for r in ordered]})
    return view.model_dump(mode="json")


def refund_answer(refund: Mapping[str, Any], payment: Mapping[str, Any], refunds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return RefundAnswer.model_validate({"refund": dict(refund), "payment": payment_view(payment, refunds)}).model_dump(mode="json")
