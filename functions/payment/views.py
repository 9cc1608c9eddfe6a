"""Ids derived from idempotency keys, and the API representation of stored payments and refunds.

A payment's id is derived from the tenant, the caller and the Idempotency-Key, and a refund's
from those and the payment: a retry after a half-finished attempt (provider called, answer lost)
lands on the same id, and through it on the same provider idempotency key, instead of making a
second charge or refund.

>>> derive_id("pay_", "acme", "u-1", "k-1") == derive_id("pay_", "acme", "u-1", "k-1")
True
>>> payment_status({"status": "CAPTURED", "captured_minor": 1000, "refunded_minor": 400})
'PARTIALLY_REFUNDED'
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Mapping, Sequence

from .repository import CAPTURED

PAYMENT_ID_PREFIX = "pay_"
REFUND_ID_PREFIX = "rf_"
PARTIALLY_REFUNDED, REFUNDED = "PARTIALLY_REFUNDED", "REFUNDED"
# 15 bytes encode to 24 base32 characters without padding.
_ID_DIGEST_BYTES = 15
_PAYMENT_FIELDS = ("payment_id", "booking_id", "currency", "authorized_minor", "captured_minor", "refunded_minor", "refundable_minor", "created_at", "captured_at", "config_version")
_REFUND_FIELDS = ("refund_id", "payment_id", "amount_minor", "currency", "status", "created_at", "settled_at")


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
    return {name: refund.get(name) for name in _REFUND_FIELDS}


def payment_view(payment: Mapping[str, Any], refunds: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The API representation of a stored payment and its refunds (amounts in minor units)."""
    view = {name: payment.get(name) for name in _PAYMENT_FIELDS}
    view["status"] = payment_status(payment)
    view["refunds"] = [refund_view(refund) for refund in sorted(refunds, key=lambda r: str(r["created_at"]))]
    return view
