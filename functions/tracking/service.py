"""The tracking API's endpoints: ingest a position, the latest position, the history.

Every endpoint receives the request scope (caller, config snapshot) from ``common.api``, which has
already checked the tenant and the route's operation (``tracking:write`` to ingest,
``tracking:read`` to read). Each then checks the caller against the booking the positions belong
to (``common.access.check_access``, the route's ``AccessRule`` in ``tracking.routes``):

- ingest: the driver assigned to the booking, or an operator (``booking:manage``);
- latest, history: the booking's customer, its assigned driver, or an operator.

A booking that does not exist and one the caller may not follow answer the same 404. Every input
is bounded first (``tracking.models``): a violation is a 400 with details, and nothing is read
or written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any, Mapping

from common import clock
from common.access import check_access
from common.aws_clients import AwsClients
from common.bounds import page_size
from common.errors import NotFound
from common.request_scope import RequestScope
from common.validation import parse_body, parse_model, query_parameters

from .bookings import booking_parties
from .config_schema import TrackingConfig
from .models import HistoryQuery, PositionUpdate, TrackingPath
from .repository import TrackingRepository, position_key
from .rules import check_position
from .views import history_view, position_view

Scope = RequestScope[TrackingConfig]
Answer = tuple[dict[str, Any], int]
# Length of the digest that tells two positions recorded at the same instant apart.
_DIGEST_BYTES = 8
#: What a refusal says: the same whether the booking is missing or not the caller's.
MISSING = "booking not found"


class TrackingService:
    """Endpoints of the tracking API over one function's AWS clients."""

    def __init__(self, aws: AwsClients) -> None:
        self._aws = aws

    def ingest(self, scope: Scope, booking_id: str) -> Answer:
        """``POST /tracking/{booking_id}/positions``: store one validated position."""
        self._check_booking(scope, booking_id)
        update = parse_body(PositionUpdate, scope.event)
        now = clock.utc_now()
        retention_days = scope.global_config.compliance.data_retention.days
        check_position(update, scope.config.business.business_rules, retention_days, now)
        values = update.model_dump(mode="json")
        position = {
            **values,
            "booking_id": booking_id,
            "tenant_id": scope.tenant.tenant_id,
            "reported_by": scope.tenant.user_id,
            "received_at": now.isoformat(),
            "config_version": scope.config_version,
            # Retention runs from when the position was recorded, as for any record of an event.
            "expires_at": clock.epoch_seconds(update.recorded_at + timedelta(days=retention_days)),
        }
        self._repository(scope).put(position_key(booking_id, update.recorded_at, _digest(values)), position)
        return position_view(position), 201

    def latest(self, scope: Scope, booking_id: str) -> Answer:
        """``GET /tracking/{booking_id}/latest``: the most recently recorded position."""
        self._check_booking(scope, booking_id)
        position = self._repository(scope).latest(booking_id, scope.tenant.tenant_id)
        if position is None:
            raise NotFound("no position recorded for this booking")
        return position_view(position), 200

    def history(self, scope: Scope, booking_id: str) -> Answer:
        """``GET /tracking/{booking_id}/history?limit=&cursor=``: positions newest first, one page."""
        self._check_booking(scope, booking_id)
        query = parse_model(HistoryQuery, query_parameters(scope.event))
        limit = page_size(query.limit, scope.config.business.business_rules.history_page_size)
        page = self._repository(scope).page(booking_id, scope.tenant.tenant_id, limit, query.cursor)
        return history_view(booking_id, page.items, page.next_cursor), 200

    def _check_booking(self, scope: Scope, booking_id: str) -> None:
        """``BadRequest`` for an id no booking can have; ``NotFound`` unless the caller may act on the booking."""
        parse_model(TrackingPath, {"booking_id": booking_id})
        scope.resource_id = booking_id
        resources = scope.config.integration.resources
        parties = booking_parties(self._aws.client("dynamodb"), resources.bookings_table, booking_id, scope.tenant.tenant_id)
        check_access(scope, parties, MISSING)

    def _repository(self, scope: Scope) -> TrackingRepository:
        return TrackingRepository(self._aws.client("dynamodb"), scope.config.integration.resources.tracking_table)


def _digest(values: Mapping[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(values, sort_keys=True, separators=(",", ":")).encode(), digest_size=_DIGEST_BYTES).hexdigest()
