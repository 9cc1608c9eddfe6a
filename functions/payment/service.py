"""The payment API's endpoints: authorize, capture, refund and get.

Every endpoint receives the request scope (caller, config snapshot) from ``common.api``, which has
already checked the tenant and the route's operation. Finer rules here:

- a caller sees and acts on their own payments; anyone's payment in the tenant needs the
  ``payment:manage`` operation. A payment the caller may not see is answered like a missing one;
- authorize, capture and refund need an ``Idempotency-Key`` header and run at most once per key
  (Powertools idempotency, scoped to tenant, user and operation); the provider gets an
  idempotency key of its own, derived from our ids, so no retry ever charges twice;
- the amount invariants (capture <= authorized, refunds <= captured) are conditional writes in
  ``payment.repository``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from common import clock
from common.authorization import is_allowed
from common.aws_clients import AwsClients
from common.errors import BadRequest, Conflict, FieldError, NotFound
from common.events import publish_for
from common.idempotency import IdempotentCall
from common.request_scope import RequestScope
from common.validation import json_body, parse_body, parse_model

from .api_key import ProviderApiKey
from .config_schema import PaymentConfig
from .errors import PaymentDeclined, ProviderError
from .models import ID_PATTERN, IDEMPOTENCY_KEY_PATTERN, AuthorizeRequest, CaptureRequest, RefundRequest
from .provider import ProviderCall, ProviderClient
from .repository import AUTHORIZED, CAPTURED, REFUND_FAILED, REFUND_PENDING, PaymentRepository
from .views import PAYMENT_ID_PREFIX, REFUND_ID_PREFIX, derive_id, payment_view, refund_view

IDEMPOTENCY_HEADER = "Idempotency-Key"
MANAGE_OPERATION = "payment:manage"
AUTHORIZED_EVENT, CAPTURED_EVENT, REFUNDED_EVENT = "payment.authorized", "payment.captured", "payment.refunded"
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
        _check_amount(request, scope.config)
        payment_id = derive_id(PAYMENT_ID_PREFIX, scope.tenant.tenant_id, scope.tenant.user_id, key)
        scope.resource_id = payment_id

        def authorize_once(_: Mapping[str, Any]) -> dict[str, Any]:
            answer = self._call_provider(
                scope, "/authorizations", {"amount_minor": request.amount_minor, "currency": request.currency, "reference": payment_id}, f"{payment_id}:authorize"
            )
            now = clock.utc_now()
            record = {
                "payment_id": payment_id,
                "booking_id": request.booking_id,
                "tenant_id": scope.tenant.tenant_id,
                "user_id": scope.tenant.user_id,
                "currency": request.currency,
                "status": AUTHORIZED,
                "authorized_minor": request.amount_minor,
                "captured_minor": 0,
                "refunded_minor": 0,
                "refundable_minor": 0,
                "provider_authorization_id": answer["id"],
                "created_at": now.isoformat(),
                "config_version": scope.config_version,
                "expires_at": _expiry(scope, now),
            }
            stored = self._repository(scope).create(record)
            self._publish(scope, stored, AUTHORIZED_EVENT, payment_id, stored["authorized_minor"])
            return payment_view(stored)

        return self._once(scope, "authorize", key, request.model_dump(), authorize_once), 201

    def capture(self, scope: Scope, payment_id: str) -> Answer:
        """``POST /payments/{payment_id}/capture``: take the authorized amount (or less) once."""
        key = _idempotency_key(scope)
        request = parse_model(CaptureRequest, _optional_body(scope))
        self._visible_payment(scope, payment_id)

        def capture_once(_: Mapping[str, Any]) -> dict[str, Any]:
            repository = self._repository(scope)
            payment = self._visible_payment(scope, payment_id)
            if payment["status"] != AUTHORIZED:
                raise Conflict(f"a payment in status {payment['status']} cannot be captured")
            amount = request.amount_minor or payment["authorized_minor"]
            if amount > payment["authorized_minor"]:
                raise Conflict("invalid capture", [FieldError("amount_minor", f"must be at most the authorized {payment['authorized_minor']}", "less_than_equal")])
            self._call_provider(scope, f"/authorizations/{payment['provider_authorization_id']}/capture", {"amount_minor": amount}, f"{payment_id}:capture")
            repository.capture(payment_id, amount, {"captured_at": clock.utc_now().isoformat()})
            captured = repository.get(payment_id) or payment
            self._publish(scope, captured, CAPTURED_EVENT, payment_id, amount)
            return payment_view(captured, repository.refunds(payment_id))

        return self._once(scope, "capture", key, {"payment_id": payment_id, **request.model_dump()}, capture_once), 200

    def refund(self, scope: Scope, payment_id: str) -> Answer:
        """``POST /payments/{payment_id}/refund``: give back part of the capture; never more than it."""
        key = _idempotency_key(scope)
        request = parse_body(RefundRequest, scope.event)
        payment = self._visible_payment(scope, payment_id)
        refund_id = derive_id(REFUND_ID_PREFIX, scope.tenant.tenant_id, scope.tenant.user_id, key, payment_id)

        def refund_once(_: Mapping[str, Any]) -> dict[str, Any]:
            now = clock.utc_now()
            refund = {
                "refund_id": refund_id,
                "payment_id": payment_id,
                "tenant_id": scope.tenant.tenant_id,
                "user_id": scope.tenant.user_id,
                "amount_minor": request.amount_minor,
                "currency": payment["currency"],
                "status": REFUND_PENDING,
                "created_at": now.isoformat(),
                "config_version": scope.config_version,
                "expires_at": _expiry(scope, now),
            }
            refund = self._reserve(scope, refund)
            if refund["status"] == REFUND_PENDING:
                self._pay_out(scope, payment, refund)
            repository = self._repository(scope)
            stored = repository.get_refund(payment_id, refund_id) or refund
            return {"refund": refund_view(stored), "payment": payment_view(repository.get(payment_id) or payment, repository.refunds(payment_id))}

        return self._once(scope, "refund", key, {"payment_id": payment_id, **request.model_dump()}, refund_once), 201

    def get(self, scope: Scope, payment_id: str) -> Answer:
        """``GET /payments/{payment_id}``: the payment, its amounts and its refunds."""
        payment = self._visible_payment(scope, payment_id)
        return payment_view(payment, self._repository(scope).refunds(payment_id)), 200

    # --- refund steps ----------------------------------------------------------------------------

    def _reserve(self, scope: Scope, refund: dict[str, Any]) -> dict[str, Any]:
        """The refund, its amount reserved; or the same refund from an earlier, unfinished attempt."""
        repository = self._repository(scope)
        if repository.reserve_refund(refund):
            return refund
        existing = repository.get_refund(refund["payment_id"], refund["refund_id"])
        if existing is None:
            payment = repository.get(refund["payment_id"]) or {}
            if payment.get("status") != CAPTURED:
                raise Conflict(f"a payment in status {payment.get('status')} cannot be refunded")
            limit = payment["refundable_minor"]
            raise Conflict("refund exceeds the captured amount", [FieldError("amount_minor", f"must be at most the refundable {limit}", "less_than_equal")])
        if existing["status"] == REFUND_FAILED:
            raise Conflict("this refund failed at the provider; use a new Idempotency-Key to try again")
        return existing

    def _pay_out(self, scope: Scope, payment: Mapping[str, Any], refund: Mapping[str, Any]) -> None:
        """Ask the provider for a reserved refund; release the reservation only on a definite no.

        When the provider does not answer, the refund may have happened: the reservation stays,
        and a retry with the same Idempotency-Key asks again under the same provider key.
        """
        repository = self._repository(scope)
        path = f"/authorizations/{payment['provider_authorization_id']}/refunds"
        try:
            answer = self._call_provider(scope, path, {"amount_minor": refund["amount_minor"], "reference": refund["refund_id"]}, f"{refund['refund_id']}:refund")
        except (PaymentDeclined, ProviderError):
            repository.release_refund(refund["payment_id"], refund["refund_id"], refund["amount_minor"])
            raise
        repository.settle_refund(refund["payment_id"], refund["refund_id"], answer["id"], clock.utc_now().isoformat())
        self._publish(scope, payment, REFUNDED_EVENT, refund["refund_id"], refund["amount_minor"], refund_id=refund["refund_id"])

    # --- helpers ---------------------------------------------------------------------------------

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

    def _call_provider(self, scope: Scope, path: str, body: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        integration, technical = scope.config.integration, scope.config.technical
        if self._api_key is None:
            self._api_key = ProviderApiKey(self._aws.client("secretsmanager"))
        call = ProviderCall(
            endpoint=integration.external_apis.provider_endpoint,
            api_key=self._api_key.get(integration.resources.provider_secret_arn, integration.external_apis.provider_api_key_field, technical.cache.max_age_seconds),
            operational=scope.global_config.operational,
            breaker_settings=technical.circuit_breakers,
        )
        return self._provider.post(call, path, body, idempotency_key)

    def _visible_payment(self, scope: Scope, payment_id: str) -> dict[str, Any]:
        scope.resource_id = payment_id
        payment = self._repository(scope).get(payment_id) if _ID.match(payment_id) else None
        if payment is None or payment.get("tenant_id") != scope.tenant.tenant_id:
            raise NotFound("payment not found")
        may_manage = is_allowed(scope.tenant.roles, MANAGE_OPERATION, scope.global_config.security.authorization_policies)
        if payment["user_id"] != scope.tenant.user_id and not may_manage:
            raise NotFound("payment not found")  # the same answer as for a missing payment
        return payment

    def _publish(self, scope: Scope, payment: Mapping[str, Any], event_type: str, subject_id: str, amount_minor: int, **extra: str) -> None:
        data = {
            "payment_id": payment["payment_id"],
            "booking_id": payment["booking_id"],
            "user_id": payment["user_id"],
            "amount_minor": amount_minor,
            "currency": payment["currency"],
            **extra,
        }
        publish_for(scope, self._aws.client("sns"), subject_id, event_type, data)

    def _repository(self, scope: Scope) -> PaymentRepository:
        return PaymentRepository(self._aws.client("dynamodb"), scope.config.integration.resources.payments_table)


def _idempotency_key(scope: Scope) -> str:
    key = scope.header(IDEMPOTENCY_HEADER)
    if not key:
        raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, "the header is required", "missing")])
    if not _IDEMPOTENCY_KEY.match(key):
        raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, "must be visible ASCII characters", "string_pattern_mismatch")])
    return key


def _check_amount(request: AuthorizeRequest, config: PaymentConfig) -> None:
    rules = config.business.business_rules
    problems = []
    if request.currency != rules.currency:
        problems.append(FieldError("currency", f"must be {rules.currency}", "literal_error"))
    if request.amount_minor > rules.max_amount_minor:
        problems.append(FieldError("amount_minor", f"must be at most {rules.max_amount_minor}", "less_than_equal"))
    if problems:
        raise BadRequest("invalid request", problems)


def _optional_body(scope: Scope) -> Any:
    """A capture may have no body at all (capture everything); otherwise it is JSON like any other."""
    return json_body(scope.event) if scope.event.get("body") else {}


def _expiry(scope: Scope, now: datetime) -> int:
    """The TTL of a payment record: the tenant's data retention from ``now``."""
    return clock.epoch_seconds(now + timedelta(days=scope.global_config.compliance.data_retention.days))
