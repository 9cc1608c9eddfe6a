"""The booking API's endpoints: quote, create, get, list, cancel and assign a driver.

Every endpoint receives the request scope (caller, config snapshot) from ``common.api``, which has
already checked the tenant and the route's operation. Who may act on one booking is the route's
``AccessRule`` (``booking.routes``), checked here with ``common.access.check_access`` against
the booking's parties (owner: its ``user_id``; driver: its ``driver_id``):

- get: its customer, its assigned driver, operators (``booking:manage``);
- cancel: its customer, operators;
- assign: operators only;
- a booking the caller may not act on is answered exactly like one that does not exist;
- listing the whole tenant (``?scope=tenant``) needs ``booking:manage``.

Every input is bounded before anything is read or written (``booking.models``): a violation is a
400 with one detail per field, and nothing is stored.

Create is idempotent on the ``Idempotency-Key`` header (Powertools idempotency, scoped to tenant and
user). The booking id is derived from the same key, so even a retry after a half-finished attempt
(booking stored, event not yet published) lands on the same booking instead of a second one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Mapping

from pydantic import TypeAdapter, ValidationError

from common import clock
from common.access import ObjectParties, check_access
from common.authorization import require
from common.aws_clients import AwsClients
from common.bounds import page_size
from common.errors import BadRequest, Conflict, FieldError
from common.events import publish_for
from common.idempotency import IdempotentCall
from common.request_scope import RequestScope
from common.validation import field_errors, parse_body, parse_model, query_parameters

from .cancellation import cancellation_terms, ensure_cancellable
from .config_schema import BookingConfig
from .models import AssignDriverRequest, BookingPath, CreateBookingRequest, IdempotencyKey, ListBookingsQuery, QuoteRequest
from .pricing import Quote, check_limits, quote
from .repository import BookingRepository, owner_partition, tenant_partition
from .routes import MANAGE_BOOKINGS
from .status import BookingStatus, ensure_assignable
from .views import BookingPageView, QuoteView, booking_view

IDEMPOTENCY_HEADER = "Idempotency-Key"
CREATED_EVENT = "booking.created"
CANCELLED_EVENT = "booking.cancelled"
ASSIGNED_EVENT = "booking.assigned"
TENANT_SCOPE = "tenant"
BOOKING_ID_PREFIX = "bk_"
#: What a refusal says: the same whether the booking is missing or not the caller's.
MISSING = "booking not found"
_IDEMPOTENCY_KEY: TypeAdapter[str] = TypeAdapter(IdempotencyKey)

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
        return QuoteView.model_validate({"quote": fare.as_dict(), "config_version": scope.config_version}).model_dump(mode="json"), 200

    def create(self, scope: Scope) -> Answer:
        """``POST /bookings``: book a shipment, at most once per Idempotency-Key."""
        key = self._idempotency_key(scope)
        request = parse_body(CreateBookingRequest, scope.event)
        business = scope.config.business
        check_limits(request, business.business_rules, business.pricing_models)
        now = clock.utc_now()
        check_pickup_time(request.pickup_at, now, business.business_rules.max_advance_booking_days)
        fare = quote(request, business.pricing_models)
        booking_id = derive_booking_id(scope.tenant.tenant_id, scope.tenant.user_id, key)
        payload = request.model_dump(mode="json")

        def create_once(_: Mapping[str, Any]) -> dict[str, Any]:
            record = self._new_booking(scope, booking_id, request, fare, payload)
            stored = self._repository(scope).create(record)
            if stored["request_fingerprint"] != record["request_fingerprint"]:
                raise Conflict("this Idempotency-Key was already used for a different booking")
            self._publish(scope, stored, CREATED_EVENT, {"status": stored["status"], "pickup_at": stored["pickup_at"]})
            # Only the creator gets this answer (the record is scoped to tenant and user), and the
            # creator is the booking's owner: the contact is theirs to see.
            return booking_view(stored, show_contact=True)

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
        booking = self._accessible_booking(scope, booking_id)
        return booking_view(booking, show_contact=_is_owner(scope, booking)), 200

    def list_bookings(self, scope: Scope) -> Answer:
        """``GET /bookings?scope=mine|tenant&limit=&cursor=``: newest first, one page."""
        query = parse_model(ListBookingsQuery, query_parameters(scope.event))
        rules = scope.config.business.business_rules
        limit = page_size(query.limit, rules.page_size_max, default=rules.page_size_default)
        if query.scope == TENANT_SCOPE:
            require(scope.tenant.roles, MANAGE_BOOKINGS, scope.global_config.security.authorization_policies)
            partition = tenant_partition(scope.tenant.tenant_id)
        else:
            partition = owner_partition(scope.tenant.user_id)
        page = self._repository(scope).list(partition, limit, query.cursor)
        return BookingPageView.model_validate({"items": page.items, "next_cursor": page.next_cursor}).model_dump(mode="json"), 200

    def cancel(self, scope: Scope, booking_id: str) -> Answer:
        """``POST /bookings/{booking_id}/cancel``: free inside the SLA window, a fee after it."""
        booking = self._accessible_booking(scope, booking_id)
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
        return booking_view(cancelled, show_contact=_is_owner(scope, booking)), 200

    def assign(self, scope: Scope, booking_id: str) -> Answer:
        """``POST /bookings/{booking_id}/assign``: give the booking a driver; a pending one is confirmed.

        The write is conditional on the status read, so a booking cancelled meanwhile is a 409
        and is never confirmed. The driver id is the driver's user id (the authorizer's
        ``user_id`` of their token), which tracking compares against whoever reports positions.
        """
        booking = self._accessible_booking(scope, booking_id)
        request = parse_body(AssignDriverRequest, scope.event)
        status = BookingStatus(booking["status"])
        new_status = ensure_assignable(status)
        self._repository(scope).update_status(booking, status.value, new_status.value, {"driver_id": request.driver_id})
        assigned = {**booking, "status": new_status.value, "driver_id": request.driver_id}
        self._publish(scope, assigned, ASSIGNED_EVENT, {"status": new_status.value, "driver_id": request.driver_id})
        return booking_view(assigned, show_contact=_is_owner(scope, booking)), 200

    # --- helpers ---------------------------------------------------------------------------------

    def _accessible_booking(self, scope: Scope, booking_id: str) -> dict[str, Any]:
        """The booking, when the route's access rule lets the caller act on it; else ``NotFound``."""
        parse_model(BookingPath, {"booking_id": booking_id})
        scope.resource_id = booking_id
        booking = self._repository(scope).get(booking_id)
        # The table is the tenant's own; the tenant id on the item is a second guard.
        mine = booking is not None and booking.get("tenant_id") == scope.tenant.tenant_id
        parties = ObjectParties(owner_id=booking["user_id"], driver_id=booking.get("driver_id")) if booking is not None and mine else None
        check_access(scope, parties, MISSING)
        assert booking is not None  # check_access has refused a missing booking
        return booking

    def _idempotency_key(self, scope: Scope) -> str:
        key = scope.header(IDEMPOTENCY_HEADER)
        if not key:
            raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, "the header is required to create a booking", "missing")])
        try:
            return _IDEMPOTENCY_KEY.validate_python(key)
        except ValidationError as exc:
            raise BadRequest("invalid request", [FieldError(IDEMPOTENCY_HEADER, d.message, d.type) for d in field_errors(exc)]) from None

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
            # Exact decimals, bounded in digits by the model, kept as their positional text.
            "distance_km": str(request.distance_km),
            "weight_kg": str(request.weight_kg),
            "surcharges": list(request.surcharges),
            "price": fare.as_dict(),
            # The notification service reads this map (email, phone) to reach the customer.
            "contact": request.contact.model_dump(exclude_none=True) if request.contact else None,
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


def check_pickup_time(pickup_at: datetime, now: datetime, max_advance_days: int) -> None:
    """``BadRequest`` unless ``pickup_at`` is after ``now`` and at most ``max_advance_days`` ahead."""
    if pickup_at <= now:
        raise BadRequest("invalid request", [FieldError("pickup_at", "must be in the future", "greater_than")])
    if pickup_at > now + timedelta(days=max_advance_days):
        raise BadRequest("invalid request", [FieldError("pickup_at", f"must be at most {max_advance_days} days ahead", "less_than_equal")])


def _is_owner(scope: Scope, booking: Mapping[str, Any]) -> bool:
    return bool(booking["user_id"] == scope.tenant.user_id)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
