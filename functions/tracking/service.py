"""The tracking API's endpoints: ingest a position, the latest position, the history.

Every endpoint receives the request scope (caller, config snapshot) from ``common.api``, which has
already checked the tenant and the route's operation (``tracking:write`` to ingest,
``tracking:read`` to read). A booking with no positions (or an id that cannot be one) is a 404.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any, Mapping

from common import clock
from common.aws_clients import AwsClients
from common.errors import BadRequest, FieldError, NotFound
from common.request_scope import RequestScope
from common.validation import parse_body, query_parameters

from .config_schema import TrackingConfig
from .models import BOOKING_ID_PATTERN, PositionUpdate
from .repository import TrackingRepository, position_key
from .rules import check_position

Scope = RequestScope[TrackingConfig]
Answer = tuple[dict[str, Any], int]
_BOOKING_ID = re.compile(BOOKING_ID_PATTERN)
# Length of the digest that tells two positions recorded at the same instant apart.
_DIGEST_BYTES = 8
VIEW_FIELDS = ("booking_id", "lat", "lon", "speed_kmh", "heading_deg", "recorded_at", "received_at", "reported_by")


class TrackingService:
    """Endpoints of the tracking API over one function's AWS clients."""

    def __init__(self, aws: AwsClients) -> None:
        self._aws = aws

    def ingest(self, scope: Scope, booking_id: str) -> Answer:
        """``POST /tracking/{booking_id}/positions``: store one validated position."""
        scope.resource_id = booking_id
        if not _BOOKING_ID.match(booking_id):
            raise BadRequest("invalid request", [FieldError("booking_id", "not a booking id", "string_pattern_mismatch")])
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
        scope.resource_id = booking_id
        position = self._repository(scope).latest(booking_id, scope.tenant.tenant_id) if _BOOKING_ID.match(booking_id) else None
        if position is None:
            raise NotFound("no position recorded for this booking")
        return position_view(position), 200

    def history(self, scope: Scope, booking_id: str) -> Answer:
        """``GET /tracking/{booking_id}/history?limit=&cursor=``: positions newest first, one page."""
        scope.resource_id = booking_id
        query = query_parameters(scope.event)
        limit = _page_size(query.get("limit"), scope.config.business.business_rules.history_page_size)
        if not _BOOKING_ID.match(booking_id):
            raise NotFound("no position recorded for this booking")
        page = self._repository(scope).page(booking_id, scope.tenant.tenant_id, limit, query.get("cursor"))
        return {"booking_id": booking_id, "items": [position_view(item) for item in page.items], "next_cursor": page.next_cursor}, 200

    def _repository(self, scope: Scope) -> TrackingRepository:
        return TrackingRepository(self._aws.client("dynamodb"), scope.config.integration.resources.tracking_table)


def position_view(position: Mapping[str, Any]) -> dict[str, Any]:
    """The API representation of a stored position (numbers as JSON numbers)."""
    view = {name: position.get(name) for name in VIEW_FIELDS}
    for name in ("lat", "lon", "speed_kmh", "heading_deg"):
        if view[name] is not None:
            view[name] = float(view[name])
    return view


def _digest(values: Mapping[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(values, sort_keys=True, separators=(",", ":")).encode(), digest_size=_DIGEST_BYTES).hexdigest()


def _page_size(raw: str | None, maximum: int) -> int:
    """``?limit=``: at most the configured page size, which is also the default."""
    if raw is None:
        return maximum
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest("invalid request", [FieldError("limit", f"must be a whole number from 1 to {maximum}", "int_range")])
    return int(raw)
