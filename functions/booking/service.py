"""The booking API's endpoints: quote, create, get, list and cancel.

Every endpoint receives the request scope (caller, config snapshot) from ``common.api``, which has
already checked the tenant and the route's operation. Two finer rules live here:

- a caller sees and cancels their own bookings; acting on anyone's booking in the tenant, or
  listing the whole tenant (``?scope=tenant``), needs the ``booking:manage`` operation
  (``booking:*`` and ``*`` grant it in the default policies);
- a booking that is not visible to the caller is answered exactly like one that does not exist.

Create is idempotent on the ``Idempotency-Key`` header (Powertools idempotency, scoped to tenant and
user). The booking id is derived from the same key, so even a retry after a half-finished attempt
(booking stored, event not yet published) lands on the same booking instead of a second one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any, Mapping

from common import clock
from common.authorization import is_allowed, require
from common.aws_clients import AwsClients
from common.errors import BadRequest, Conflict, FieldError, NotFound
from common.events import publish_for
from common.idempotency import IdempotentCall
from common.request_scope import RequestScope
from common.validation import parse_body, query_parameters

from .cancellation import cancellation_terms, ensure_cancellable
from .config_schema import BookingConfig
from .models import IDEMPOTENCY_KEY_PATTERN, CreateBookingRequest, QuoteRequest
from .pricing import Quote, check_limits, quote
from .repository import BookingRepository, owner_partition, tenant_partition
from .status import BookingStatus

IDEMPOTENCY_HEADER = "Idempotency-Key"
MANAGE_OPERATION = "booking:manage"
CREATED_EVENT = "booking.created"
CANCELLED_EVENT = "booking.cancelled"
LIST_SCOPES = ("mine", "tenant")
BOOKING_ID_PREFIX = "bk_"
_BOOKING_ID = re.compile(r"^bk_[a-z2-7]+$")
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)

Scope = RequestScope[BookingConfig]
Answer = tuple[dict[str, Any], int]


class BookingService:
    """Endpoints of the booking API over one function's AWS clients."""

    def __init__(self, aws: AwsClients, idempotency_prefix: str = "booking.create") -> None:
        self._aws = aws
        self._idempotency_prefix = idempotency_prefix
        self._idempotent: IdempotentCall | None = None

    # --- endpoints -------------------------------------------------------------------------------

    def quote(self, scope: Scope) -> Answer:
        """``POST /bookings/quote``: the fare for a shipment, nothing stored."""
        request = parse_body(QuoteRequest, scope.event)
        business = scope.config.business
        check_limits(request, business.business_rules, business.pricing_models)
        fare = quote(request, business.pricing_models)
        return {"quote": fare.as_dict(), "config_version": scope.config_version}, 200

    def create(self, scope: Scope) -> Answer:
        """``POST /bookings``: book a shipment, at most once per Idempotency-Key."""
        key = self._idempotency_key(scope)
        request = parse_body(CreateBookingRequest, scope.event)
        business = scope.config.business
        check_limits(request, business.business_rules, business.pricing_models)
        now = clock.utc_now()
        if request.pickup_at <= now:
            raise BadRequest("invalid request", [FieldError("pickup_at", "must be in the future", "greater_than")])
        fare = quote(request, business.pricing_models)
        booking_id = derive_booking_id(scope.tenant.tenant_id, scope.tenant.user_id, key)
        payload = request.model_dump(mode="json")

        def create_once(_: Mapping[str, Any]) -> dict[str, Any]:
            record = self._new_booking(scope, booking_id, request, fare, payload)
            stored = self._repository(scope).create(record)
            if stored["request_fingerprint"] != record["request_fingerprint"]:
                raise Conflict("this Idempotency-Key was already used for a different booking")
            self._publish(scope, stored, CREATED_EVENT, {"status": stored["status"], "pickup_at": stored["pickup_at"]})
            return booking_view(stored)

        result = self._idempotent_call().run(
            create_once,
            table=scope.config.integration.resources.idempotency_table,
            key={"tenant": scope.tenant.tenant_id, "user": scope.tenant.user_id, "key": key},
            payload=payload,
            expires_after_seconds=business.business_rules.idempotency_expiry_seconds,
            lambda_context=scope.lambda_context,
        )
        scope.resource_id = result["booking_id"]
        return result, 201

    def get(self, scope: Scope, booking_id: str) -> Answer:
        """``GET /bookings/{booking_id}``."""
        return booking_view(self._visible_booking(scope, booking_id)), 200

    def list_bookings(self, scope: Scope) -> Answer:
        """``GET /bookings?scope=mine|tenant&limit=&cursor=``: newest first, one page."""
        query = query_parameters(scope.event)
        rules = scope.config.business.business_rules
        list_scope = query.get("scope", LIST_SCOPES[0])
        if list_scope not in LIST_SCOPES:
            raise BadRequest("invalid request", [FieldError("scope", f"must be one of {', '.join(LIST_SCOPES)}", "enum")])
        limit = _page_size(query.get("limit"), rules.page_size_default, rules.page_size_max)
        if list_scope == LIST_SCOPES[1]:
            self._require_manage(scope)
            partition = tenant_partition(scope.tenant.tenant_id)
        else:
            partition = owner_partition(scope.tenant.user_id)
        page = self._repository(scope).list(partition, limit, query.get("cursor"))
        return {"items": page.items, "next_cursor": page.next_cursor}, 200

    def cancel(self, scope: Scope, booking_id: str) -> Answer:
        """``POST /bookings/{booking_id}/cancel``: free inside the SLA window, a fee after it."""
        booking = self._visible_booking(scope, booking_id)
        sla = scope.config.business.sla_definitions
        ensure_cancellable(booking["status"], sla)
        now = clock.utc_now()
        terms = cancellation_terms(booking["price"]["total_minor"], _parse_time(booking["created_at"]), now, sla)
        cancellation = {
            "cancelled_at": now.isoformat(),
            "cancelled_by": scope.tenant.user_id,
            "free": terms.free,
            "fee_minor": terms.fee_minor,
            "fee_basis_points": terms.fee_basis_points,
            "currency": booking["price"]["currency"],
            "config_version": scope.config_version,
        }
        self._repository(scope).update_status(booking, booking["status"], BookingStatus.CANCELLED.value, {"cancellation": cancellation})
        cancelled = {**booking, "status": BookingStatus.CANCELLED.value, "cancellation": cancellation}
        self._publish(scope, cancelled, CANCELLED_EVENT, {"fee_minor": terms.fee_minor, "free": terms.free})
        return booking_view(cancelled), 200

    # --- helpers ---------------------------------------------------------------------------------

    def _visible_booking(self, scope: Scope, booking_id: str) -> dict[str, Any]:
        if not _BOOKING_ID.match(booking_id):
            raise NotFound("booking not found")
        scope.resource_id = booking_id
        booking = self._repository(scope).get(booking_id)
        if booking is None or booking.get("tenant_id") != scope.tenant.tenant_id:
            raise NotFound("booking not found")
        if booking["user_id"] != scope.tenant.user_id and not self._may_manage(scope):
            # The same answer as for a booking that does not exist: nothing leaks.
            raise NotFound("booking not found")
        return booking

    def _may_manage(self, scope: Scope) -> bool:
        return is_allowed(scope.tenant.roles, MANAGE_OPERATION, scope.global_config.security.authorization_policies)

    def _require_manage(self, scope: Scope) -> None:
        require(scope.tenant.roles, MANAGE_OPERATION, scope.global_config.security.authorization_policies)

    def _idempotency_key(self, scope: Scope) -> str:
        key = scope.header(IDEMPOTENCY_HEADER)
        if not key:
            raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, "the header is required to create a booking", "missing")])
        if not _IDEMPOTENCY_KEY.match(key):
            raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, "must be visible ASCII characters", "string_pattern_mismatch")])
        return key

    def _new_booking(self, scope: Scope, booking_id: str, request: CreateBookingRequest, fare: Quote, payload: Mapping[str, Any]) -> dict[str, Any]:
        created = clock.utc_now()
        retention = scope.global_config.compliance.data_retention.days
        return {
            "booking_id": booking_id,
            "tenant_id": scope.tenant.tenant_id,
            "user_id": scope.tenant.user_id,
            "status": BookingStatus.PENDING.value,
            "created_at": created.isoformat(),
            "pickup_at": request.pickup_at.isoformat(),
            "pickup": request.pickup.model_dump(),
            "dropoff": request.dropoff.model_dump(),
            "distance_km": str(request.distance_km),
            "weight_kg": str(request.weight_kg),
            "surcharges": list(request.surcharges),
            "price": fare.as_dict(),
            "config_version": scope.config_version,
            "request_fingerprint": fingerprint(payload),
            "expires_at": clock.epoch_seconds(created + timedelta(days=retention)),
        }

    def _publish(self, scope: Scope, booking: Mapping[str, Any], event_type: str, extra: Mapping[str, Any]) -> None:
        data = {
            "booking_id": booking["booking_id"],
            "user_id": booking["user_id"],
            "total_minor": booking["price"]["total_minor"],
            "currency": booking["price"]["currency"],
            **extra,
        }
        publish_for(scope, self._aws.client("sns"), booking["booking_id"], event_type, data)

    def _repository(self, scope: Scope) -> BookingRepository:
        return BookingRepository(self._aws.client("dynamodb"), scope.config.integration.resources.bookings_table)

    def _idempotent_call(self) -> IdempotentCall:
        if self._idempotent is None:
            self._idempotent = IdempotentCall(self._aws.client("dynamodb"), key_prefix=self._idempotency_prefix)
        return self._idempotent


def derive_booking_id(tenant_id: str, user_id: str, idempotency_key: str) -> str:
    """The booking id for a create request: the same tenant, user and key give the same id.

    >>> derive_booking_id("acme", "u-1", "k-1") == derive_booking_id("acme", "u-1", "k-1")
    True
    """
    digest = hashlib.blake2b("\x1f".join((tenant_id, user_id, idempotency_key)).encode(), digest_size=15).digest()
    return BOOKING_ID_PREFIX + base64.b32encode(digest).decode().lower()


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A digest of a create request's body, to tell a replay from a reused key."""
    return hashlib.blake2b(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode(), digest_size=16).hexdigest()


def booking_view(booking: Mapping[str, Any]) -> dict[str, Any]:
    """The API representation of a stored booking."""
    return {
        "booking_id": booking["booking_id"],
        "status": booking["status"],
        "created_at": booking["created_at"],
        "pickup_at": booking["pickup_at"],
        "pickup": _point(booking["pickup"]),
        "dropoff": _point(booking["dropoff"]),
        "distance_km": booking["distance_km"],
        "weight_kg": booking["weight_kg"],
        "surcharges": list(booking.get("surcharges", [])),
        "price": dict(booking["price"]),
        "config_version": booking["config_version"],
        "cancellation": dict(booking["cancellation"]) if booking.get("cancellation") else None,
    }


def _point(point: Mapping[str, Any]) -> dict[str, float]:
    return {"lat": float(point["lat"]), "lon": float(point["lon"])}


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _page_size(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest("invalid request", [FieldError("limit", f"must be a whole number from 1 to {maximum}", "int_range")])
    return int(raw)
