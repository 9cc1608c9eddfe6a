"""The payment API's endpoints: authorize, capture, refund and get.

Every endpoint receives the request scope (caller, config snapshot) from ``common.api``, which has
already checked the tenant and the route's operation. Finer rules here:

- object-level authorization, with the rules of ``payment.routes``: authorize reads the booking
  (one GetItem on the tenant's bookings table) and lets its owner, or an operator
  (``payment:manage``), pay for it; capture, refund and get let the payment's owner (the
  booking's customer) or an operator act. A refusal reads exactly like a missing object;
- authorize, capture and refund need an ``Idempotency-Key`` header and run at most once per key
  (Powertools idempotency, scoped to tenant, user and operation); the provider gets an
  idempotency key of its own, derived from our ids, so no retry ever charges twice;
- write-ahead: the intent (with that provider key) is stored before the provider is asked
  (``payment.repository``), then completed (``payment.settlement``). An intent that cannot be
  stored means the provider is never called (a dependency failure: 503 with ``Retry-After``). An
  operation the provider did not confirm stays pending, visible in ``GET /payments/{id}``, and is
  finished by a retry with the same key or by the reconciler;
- the amount invariants (capture <= authorized, refunds <= captured) are conditional writes in
  ``payment.repository``; every amount is also bounded by the tenant's ``max_amount_minor``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, cast

from common import clock
from common.access import ObjectParties, check_access
from common.aws_clients import AwsClients
from common.bounds import ID_MAX_LENGTH
from common.dynamo_items import from_item, to_item
from common.errors import BadRequest, Conflict, FieldError
from common.events import publish_for
from common.idempotency import IdempotentCall
from common.request_scope import RequestScope
from common.validation import json_body, parse_body, parse_model

from .api_key import ProviderApiKey
from .config_schema import PaymentConfig
from .errors import PaymentDeclined, ProviderError
from .models import ID_PATTERN, IDEMPOTENCY_KEY_PATTERN, AuthorizeRequest, CaptureRequest, RefundRequest
from .provider import ProviderClient, provider_call
from .repository import AUTHORIZE, AUTHORIZED, AUTHORIZING, CAPTURE, CAPTURED, CAPTURING, FAILED, MARKER_ATTRIBUTE, REFUND, REFUND_FAILED, REFUND_PENDING, Marker, PaymentRepository
from .settlement import DECLINED, Settlement, provider_key
from .views import PAYMENT_ID_PREFIX, REFUND_ID_PREFIX, derive_id, payment_view, refund_answer

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: What a capture request is known by on the payment: a retry of it is recognised, another is not.
CAPTURE_REQUEST_PREFIX = "cap_"
_ID = re.compile(ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)

Scope = RequestScope[PaymentConfig]
Answer = tuple[dict[str, Any], int]


class PaymentService:
    """Endpoints of the payment API over one function's AWS clients and provider client."""

    def __init__(self, aws: AwsClients, provider: ProviderClient) -> None:
        self._aws = aws
        self._provider = provider
        self._idempotent: IdempotentCall | None = None
        self._api_key: ProviderApiKey | None = None

    # --- endpoints -------------------------------------------------------------------------------

    def authorize(self, scope: Scope) -> Answer:
        """``POST /payments/authorize``: hold an amount at the provider for a booking."""
        key = _idempotency_key(scope)
        request = parse_body(AuthorizeRequest, scope.event)
        _check_amount(scope.config, request.amount_minor, request.currency)
        booking = _accessible(scope, self._booking(scope, request.booking_id), "booking not found")
        payment_id = derive_id(PAYMENT_ID_PREFIX, scope.tenant.tenant_id, scope.tenant.user_id, key)
        scope.resource_id = payment_id

        def authorize_once(_: Mapping[str, Any]) -> dict[str, Any]:
            repository, settlement = self._repository(scope), self._settlement(scope)
            now = clock.utc_now()
            intent = {
                "payment_id": payment_id,
                "booking_id": request.booking_id,
                "tenant_id": scope.tenant.tenant_id,
                # The payment is the booking's customer's, whoever (an operator) asked for it.
                "user_id": booking["user_id"],
                "requested_by": scope.tenant.user_id,
                "currency": request.currency,
                "authorized_minor": request.amount_minor,
                "captured_minor": 0,
                "refunded_minor": 0,
                "refundable_minor": 0,
                "provider_idempotency_key": provider_key(payment_id, AUTHORIZE),
                "created_at": now.isoformat(),
                "config_version": scope.config_version,
                "expires_at": _expiry(scope, now),
            }
            marker = Marker.start(now, payment_id, AUTHORIZE)
            if repository.begin_authorization(intent, marker):
                payment = {**intent, "status": AUTHORIZING, MARKER_ATTRIBUTE: marker.sort_key}
            else:
                payment = _same_authorization(repository.get(payment_id), request)
            if payment["status"] == AUTHORIZING:
                payment = settlement.drive_authorization(payment)
            settlement.finish_payment(payment, AUTHORIZE)
            if payment["status"] == FAILED:
                _raise_refusal(payment.get("failure_reason"))
            return payment_view(payment)

        return self._once(scope, AUTHORIZE, key, request.model_dump(), authorize_once), 201

    def capture(self, scope: Scope, payment_id: str) -> Answer:
        """``POST /payments/{payment_id}/capture``: take the authorized amount (or less) once."""
        key = _idempotency_key(scope)
        request = parse_model(CaptureRequest, _optional_body(scope))
        if request.amount_minor is not None:
            _check_amount(scope.config, request.amount_minor)
        self._visible_payment(scope, payment_id)
        capture_request = derive_id(CAPTURE_REQUEST_PREFIX, scope.tenant.tenant_id, scope.tenant.user_id, key, payment_id)

        def capture_once(_: Mapping[str, Any]) -> dict[str, Any]:
            repository, settlement = self._repository(scope), self._settlement(scope)
            payment = repository.get(payment_id) or {}
            retry = payment.get("capture_request") == capture_request
            if payment.get("status") == AUTHORIZED:
                amount = request.amount_minor or payment["authorized_minor"]
                if amount > payment["authorized_minor"]:
                    raise Conflict("invalid capture", [FieldError("amount_minor", f"must be at most the authorized {payment['authorized_minor']}", "less_than_equal")])
                marker = Marker.start(clock.utc_now(), payment_id, CAPTURE)
                if not repository.begin_capture(payment_id, amount, capture_request, provider_key(capture_request, CAPTURE), marker):
                    raise Conflict("the payment is no longer authorized for this amount")
                payment = repository.get(payment_id) or payment
            elif not (retry and payment.get("status") in (CAPTURING, CAPTURED)):
                raise Conflict(f"a payment in status {payment.get('status')} cannot be captured")
            elif request.amount_minor not in (None, payment.get("pending_capture_minor", payment.get("captured_minor"))):
                raise Conflict("this Idempotency-Key was already used for a different request")
            if payment["status"] == CAPTURING:
                payment = settlement.drive_capture(payment)
            settlement.finish_payment(payment, CAPTURE)
            if payment["status"] == AUTHORIZED:
                _raise_refusal(payment.get("capture_failure"))
            return payment_view(payment, repository.refunds(payment_id))

        return self._once(scope, CAPTURE, key, {"payment_id": payment_id, **request.model_dump()}, capture_once), 200

    def refund(self, scope: Scope, payment_id: str) -> Answer:
        """``POST /payments/{payment_id}/refund``: give back part of the capture; never more than it."""
        key = _idempotency_key(scope)
        request = parse_body(RefundRequest, scope.event)
        _check_amount(scope.config, request.amount_minor)
        payment = self._visible_payment(scope, payment_id)
        refund_id = derive_id(REFUND_ID_PREFIX, scope.tenant.tenant_id, scope.tenant.user_id, key, payment_id)

        def refund_once(_: Mapping[str, Any]) -> dict[str, Any]:
            repository, settlement = self._repository(scope), self._settlement(scope)
            now = clock.utc_now()
            refund = {
                "refund_id": refund_id,
                "payment_id": payment_id,
                "tenant_id": scope.tenant.tenant_id,
                "user_id": scope.tenant.user_id,
                "amount_minor": request.amount_minor,
                "currency": payment["currency"],
                "status": REFUND_PENDING,
                "provider_idempotency_key": provider_key(refund_id, REFUND),
                "created_at": now.isoformat(),
                "config_version": scope.config_version,
                "expires_at": _expiry(scope, now),
            }
            marker = Marker.start(now, payment_id, REFUND, refund_id)
            reserved = repository.reserve_refund(refund, marker)
            refund = {**refund, MARKER_ATTRIBUTE: marker.sort_key} if reserved else self._earlier_refund(repository, payment_id, refund_id)
            if refund["status"] == REFUND_PENDING:
                refund = settlement.drive_refund(repository.get(payment_id) or payment, refund)
            current = repository.get(payment_id) or payment
            settlement.finish_refund(current, refund)
            if refund["status"] == REFUND_FAILED:
                _raise_refusal(refund.get("failure_reason"))
            return refund_answer(refund, current, repository.refunds(payment_id))

        return self._once(scope, REFUND, key, {"payment_id": payment_id, **request.model_dump()}, refund_once), 201

    def get(self, scope: Scope, payment_id: str) -> Answer:
        """``GET /payments/{payment_id}``: the payment, its amounts and its refunds (pending ones too)."""
        payment = self._visible_payment(scope, payment_id)
        return payment_view(payment, self._repository(scope).refunds(payment_id)), 200

    # --- helpers ---------------------------------------------------------------------------------

    def _earlier_refund(self, repository: PaymentRepository, payment_id: str, refund_id: str) -> dict[str, Any]:
        """The refund of an earlier attempt with this key, to be finished; or why none was reserved."""
        existing = repository.get_refund(payment_id, refund_id)
        if existing is None:
            payment = repository.get(payment_id) or {}
            if payment.get("status") != CAPTURED:
                raise Conflict(f"a payment in status {payment.get('status')} cannot be refunded")
            limit = payment["refundable_minor"]
            raise Conflict("refund exceeds the captured amount", [FieldError("amount_minor", f"must be at most the refundable {limit}", "less_than_equal")])
        if existing["status"] == REFUND_FAILED:
            raise Conflict("this refund failed at the provider; use a new Idempotency-Key to try again")
        return existing

    def _once(self, scope: Scope, operation: str, key: str, payload: Mapping[str, Any], run: Callable[[Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        if self._idempotent is None:
            self._idempotent = IdempotentCall(self._aws.client("dynamodb"), key_prefix="payment")
        return self._idempotent.run(
            run,
            table=scope.config.integration.resources.idempotency_table,
            key={"tenant": scope.tenant.tenant_id, "user": scope.tenant.user_id, "operation": operation, "key": key},
            payload=payload,
            expires_after_seconds=scope.config.business.business_rules.idempotency_expiry_seconds,
            lambda_context=scope.lambda_context,
        )

    def _settlement(self, scope: Scope) -> Settlement:
        sns = self._aws.client("sns")

        def post(path: str, body: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
            if self._api_key is None:
                self._api_key = ProviderApiKey(self._aws.client("secretsmanager"))
            return self._provider.post(provider_call(scope.config, scope.global_config, self._api_key), path, body, idempotency_key)

        def publish(event_type: str, subject_id: str, data: Mapping[str, Any]) -> None:
            publish_for(scope, sns, subject_id, event_type, data)

        return Settlement(self._repository(scope), post, publish)

    def _booking(self, scope: Scope, booking_id: str) -> dict[str, Any] | None:
        """The booking's details item, if it is this tenant's (the table is the tenant's already;
        the tenant id on the item is a second guard)."""
        table = scope.config.integration.resources.bookings_table
        item = self._aws.client("dynamodb").get_item(TableName=table, Key=to_item({"pk": f"BOOKING#{booking_id}", "sk": "DETAILS"}), ConsistentRead=True).get("Item")
        booking = from_item(item) if item is not None else None
        return booking if booking is not None and booking.get("tenant_id") == scope.tenant.tenant_id else None

    def _visible_payment(self, scope: Scope, payment_id: str) -> dict[str, Any]:
        """The payment, if the caller may act on it (``check_access`` answers 404 otherwise)."""
        if not (_ID.match(payment_id) and len(payment_id) <= ID_MAX_LENGTH):
            raise BadRequest("invalid request", [FieldError("payment_id", f"must be 1 to {ID_MAX_LENGTH} letters, digits, '_' or '-'", "string_pattern_mismatch")])
        scope.resource_id = payment_id
        payment = self._repository(scope).get(payment_id)
        return _accessible(scope, payment if payment is not None and payment.get("tenant_id") == scope.tenant.tenant_id else None, "payment not found")

    def _repository(self, scope: Scope) -> PaymentRepository:
        return PaymentRepository(self._aws.client("dynamodb"), scope.config.integration.resources.payments_table)


def _accessible(scope: Scope, item: dict[str, Any] | None, missing: str) -> dict[str, Any]:
    """``item`` (a booking or a payment: its owner is ``user_id``, a booking's driver ``driver_id``)
    if the caller may act on it; ``check_access`` answers ``missing`` (404) when it is None or not."""
    check_access(scope, ObjectParties(owner_id=item["user_id"], driver_id=item.get("driver_id")) if item is not None else None, missing)
    return cast(dict[str, Any], item)


def _same_authorization(existing: Mapping[str, Any] | None, request: AuthorizeRequest) -> dict[str, Any]:
    """The payment an earlier attempt with this key stored, which must be for the same request."""
    if existing is None:
        raise Conflict("a request with this Idempotency-Key is still in progress")
    same = (existing["booking_id"], existing["authorized_minor"], existing["currency"]) == (request.booking_id, request.amount_minor, request.currency)
    if not same:
        raise Conflict("this Idempotency-Key was already used for a different request")
    return dict(existing)


def _raise_refusal(reason: str | None) -> None:
    """The provider said no: a decline is the payment's (402), a refusal the request's (502)."""
    if reason == DECLINED:
        raise PaymentDeclined("the payment provider declined this payment")
    raise ProviderError("the payment provider refused the request")


def _idempotency_key(scope: Scope) -> str:
    key = scope.header(IDEMPOTENCY_HEADER)
    if not key:
        raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, "the header is required", "missing")])
    if len(key) > ID_MAX_LENGTH or not _IDEMPOTENCY_KEY.match(key):
        raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, f"must be 1 to {ID_MAX_LENGTH} visible ASCII characters", "string_pattern_mismatch")])
    return key


def _check_amount(config: PaymentConfig, amount_minor: int, currency: str | None = None) -> None:
    """The tenant's policy: its currency, and at most its largest amount."""
    rules = config.business.business_rules
    problems = []
    if currency is not None and currency != rules.currency:
        problems.append(FieldError("currency", f"must be {rules.currency}", "literal_error"))
    if amount_minor > rules.max_amount_minor:
        problems.append(FieldError("amount_minor", f"must be at most {rules.max_amount_minor}", "less_than_equal"))
    if problems:
        raise BadRequest("invalid request", problems)


def _optional_body(scope: Scope) -> Any:
    """A capture may have no body at all (capture everything); otherwise it is JSON like any other."""
    return json_body(scope.event) if scope.event.get("body") else {}


def _expiry(scope: Scope, now: datetime) -> int:
    """The TTL of a payment record: the tenant's data retention from ``now``."""
    return clock.epoch_seconds(now + timedelta(days=scope.global_config.compliance.data_retention.days))
