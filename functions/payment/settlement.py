"""Carrying a stored intent to its end: ask the provider under the intent's key, then complete or
fail the record, publish its event and drop its marker.

The API (``payment.service``) and the reconciler (``payment.reconciliation``) run the very same
steps, so a request that was cut short anywhere is finished exactly as it would have been:

1. the intent is stored (``payment.repository``), with the provider idempotency key;
2. ``drive_*`` posts to the provider with that key. The provider's API is idempotent on the key:
   posting again returns the original result, so a retry after a lost answer finds the hold (or
   refund) that was made instead of making another (the provider offers no look-up; re-posting
   under the key is its way of answering "what happened"). Then the record is completed, or, on
   a definite no (a decline, a refusal), failed: a capture goes back to ``AUTHORIZED``, a
   refund's reservation is released. When the provider cannot be reached, or its answer is
   unreadable, the record stays pending and the error goes to the caller;
3. ``finish`` publishes the operation's event (its id is derived from the operation, so a repeat
   is a duplicate consumers drop) and drops the marker.

Every completion is conditional on the record still being pending, so whoever comes second
(an API retry, the scheduled reconciler, ``platformctl payments reconcile``) changes nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from common import clock

from .errors import PaymentDeclined, ProviderAnswerUnreadable, ProviderError
from .repository import (
    AUTHORIZED,
    AUTHORIZING,
    CAPTURED,
    CAPTURING,
    MARKER_ATTRIBUTE,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    PaymentRepository,
    marker_operation,
    payment_key,
    refund_key,
)

#: ``post(path, body, idempotency_key)``: one provider request (``ProviderClient.post`` bound to
#: the tenant's endpoint and key).
Post = Callable[[str, Mapping[str, Any], str], dict[str, Any]]
#: ``publish(event_type, subject_id, data)``: one domain event on the service's topic.
Publish = Callable[[str, str, Mapping[str, Any]], None]

AUTHORIZED_EVENT, CAPTURED_EVENT, REFUNDED_EVENT = "payment.authorized", "payment.captured", "payment.refunded"
DECLINED, REFUSED = "declined", "refused"


def provider_key(subject_id: str, operation: str) -> str:
    """The provider idempotency key of ``operation`` on a payment or refund (stable per subject)."""
    return f"{subject_id}:{operation}"


class Settlement:
    """The provider steps and completions of one tenant's payments."""

    def __init__(self, repository: PaymentRepository, post: Post, publish: Publish) -> None:
        self.repository = repository
        self._post = post
        self._publish = publish

    # --- provider steps --------------------------------------------------------------------------
    # Each returns what is stored afterwards: completed, or failed on a definite no. When the
    # provider cannot say (unreachable, circuit open, an unreadable answer) the error is raised
    # and the record stays pending.

    def drive_authorization(self, payment: Mapping[str, Any]) -> dict[str, Any]:
        """Place the hold of an ``AUTHORIZING`` payment."""
        payment_id = payment["payment_id"]
        body = {"amount_minor": payment["authorized_minor"], "currency": payment["currency"], "reference": payment_id}
        outcome = self._ask("/authorizations", body, payment["provider_idempotency_key"])
        if isinstance(outcome, str):
            self.repository.fail_authorization(payment_id, outcome, _now())
        else:
            self.repository.complete_authorization(payment_id, outcome["id"], _now())
        return self._stored(payment_id, payment)

    def drive_capture(self, payment: Mapping[str, Any]) -> dict[str, Any]:
        """Capture the pending amount of a ``CAPTURING`` payment (back to ``AUTHORIZED`` on a no)."""
        payment_id = payment["payment_id"]
        path = f"/authorizations/{payment['provider_authorization_id']}/capture"
        outcome = self._ask(path, {"amount_minor": payment["pending_capture_minor"]}, payment["capture_provider_key"])
        if isinstance(outcome, str):
            self.repository.abandon_capture(payment_id, outcome)
        else:
            self.repository.complete_capture(payment_id, _now())
        return self._stored(payment_id, payment)

    def drive_refund(self, payment: Mapping[str, Any], refund: Mapping[str, Any]) -> dict[str, Any]:
        """Pay out a ``PENDING`` refund. A definite no releases the reservation, once: the release
        is conditional on the refund still being pending."""
        payment_id, refund_id = refund["payment_id"], refund["refund_id"]
        path = f"/authorizations/{payment['provider_authorization_id']}/refunds"
        # Refunds reserved before intents carried their key had the same key, derived the same way.
        key = refund.get("provider_idempotency_key") or provider_key(refund_id, "refund")
        outcome = self._ask(path, {"amount_minor": refund["amount_minor"], "reference": refund_id}, key)
        if isinstance(outcome, str):
            self.repository.release_refund(payment_id, refund_id, refund["amount_minor"], outcome)
        else:
            self.repository.settle_refund(payment_id, refund_id, outcome["id"], _now())
        return self.repository.get_refund(payment_id, refund_id) or dict(refund)

    def _ask(self, path: str, body: Mapping[str, Any], key: str) -> dict[str, Any] | str:
        """The provider's answer, or why it said no (``declined``, ``refused``)."""
        try:
            return self._post(path, body, key)
        except ProviderAnswerUnreadable:
            raise
        except PaymentDeclined:
            return DECLINED
        except ProviderError:
            return REFUSED

    # --- finishing -------------------------------------------------------------------------------

    def finish_payment(self, payment: Mapping[str, Any], operation: str, marker_sort_key: str | None = None) -> None:
        """Publish what ``operation`` did to ``payment`` (if it succeeded) and drop its marker."""
        marker = marker_sort_key or _own_marker(payment, operation)
        if marker is None:
            return
        status = payment["status"]
        if operation == "authorize" and status in (AUTHORIZED, CAPTURING, CAPTURED):
            self._event(payment, AUTHORIZED_EVENT, payment["payment_id"], payment["authorized_minor"])
        elif operation == "capture" and status == CAPTURED:
            self._event(payment, CAPTURED_EVENT, payment["payment_id"], payment["captured_minor"])
        if operation == "authorize" and status == AUTHORIZING or operation == "capture" and status == CAPTURING:
            return  # still pending: the marker stays for the reconciler
        self.repository.finish(payment_key(payment["payment_id"]), marker)

    def finish_refund(self, payment: Mapping[str, Any], refund: Mapping[str, Any], marker_sort_key: str | None = None) -> None:
        """Publish a paid-out refund and drop its marker; a pending refund keeps it."""
        marker = marker_sort_key or _own_marker(refund, "refund")
        if marker is None or refund["status"] == REFUND_PENDING:
            return
        if refund["status"] == REFUND_SUCCEEDED:
            self._event(payment, REFUNDED_EVENT, refund["refund_id"], refund["amount_minor"], refund_id=refund["refund_id"])
        self.repository.finish(refund_key(refund["payment_id"], refund["refund_id"]), marker)

    def _event(self, payment: Mapping[str, Any], event_type: str, subject_id: str, amount_minor: int, **extra: str) -> None:
        data = {
            "payment_id": payment["payment_id"],
            "booking_id": payment["booking_id"],
            "user_id": payment["user_id"],
            "amount_minor": amount_minor,
            "currency": payment["currency"],
            **extra,
        }
        self._publish(event_type, subject_id, data)

    def _stored(self, payment_id: str, before: Mapping[str, Any]) -> dict[str, Any]:
        return self.repository.get(payment_id) or dict(before)


def _own_marker(record: Mapping[str, Any], operation: str) -> str | None:
    """The record's marker if it is ``operation``'s: a payment being captured carries the
    capture's marker, which an authorization retried much later must leave alone."""
    marker = record.get(MARKER_ATTRIBUTE)
    return str(marker) if marker is not None and marker_operation(str(marker)) == operation else None


def _now() -> str:
    return clock.utc_now().isoformat()
