"""One audit record per operation, written to the tenant's audit table.

A record says who did what, when, under which config, and how it ended. It never holds the
request payload: only identifiers (tenant, user, request, resource) and outcomes. Records expire
through the table's ``expires_at`` TTL after ``global/compliance/data_retention.days``.

Item layout (audit table, ``pk``/``sk``):

    pk  AUDIT#<service>#<YYYY-MM-DD>          one partition per service and UTC day
    sk  <ISO-8601 time>#<request id>          time-ordered within the day

>>> record = AuditRecord(action="booking:create", tenant_id="acme", user_id="u-1", request_id="r-1",
...     config_version="4c1f", global_config_version="9e2a", outcome=outcome_for(201), status_code=201,
...     occurred_at=datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc), service="booking", environment="dev")
>>> item = record.item(retention_days=90, include_config_version=True)
>>> item["pk"], item["outcome"], item["expires_at"] - item["occurred_epoch"]
('AUDIT#booking#2024-05-01', 'success', 7776000)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .clock import epoch_seconds
from .dynamo_items import to_item

# The audit trail's outcome vocabulary, and the outcome of each client error status.
SUCCESS = "success"
ERROR = "error"
DENIED = "denied"
REJECTED = "rejected"
_OUTCOMES = {400: REJECTED, 403: DENIED, 404: "not_found", 409: "conflict"}
_CLIENT_ERROR_FLOOR, _SERVER_ERROR_FLOOR = 400, 500


def outcome_for(status_code: int) -> str:
    """``success`` for 2xx/3xx, ``error`` for 5xx, the client error's name otherwise."""
    if status_code < _CLIENT_ERROR_FLOOR:
        return SUCCESS
    if status_code >= _SERVER_ERROR_FLOOR:
        return ERROR
    return _OUTCOMES.get(status_code, REJECTED)


@dataclass(frozen=True)
class AuditRecord:
    """What happened in one operation. Identifiers and outcome only, never payload values."""

    action: str
    tenant_id: str
    user_id: str
    request_id: str
    config_version: str
    global_config_version: str
    outcome: str
    status_code: int | None
    occurred_at: datetime
    service: str
    environment: str
    resource_id: str | None = None

    def item(self, retention_days: int, include_config_version: bool) -> dict[str, Any]:
        """The plain item written to the audit table."""
        occurred = self.occurred_at.astimezone(timezone.utc)
        item: dict[str, Any] = {
            "pk": f"AUDIT#{self.service}#{occurred.date().isoformat()}",
            "sk": f"{occurred.isoformat()}#{self.request_id}",
            "action": self.action,
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "request_id": self.request_id,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "occurred_at": occurred.isoformat(),
            "occurred_epoch": epoch_seconds(occurred),
            "service": self.service,
            "environment": self.environment,
            "resource_id": self.resource_id,
            "expires_at": epoch_seconds(occurred + timedelta(days=retention_days)),
        }
        if include_config_version:
            item["config_version"] = self.config_version
            item["global_config_version"] = self.global_config_version
        return item


class AuditTrail:
    """Writes audit records with a low-level DynamoDB client.
    """

    def __init__(self, dynamodb_client: Any) -> None:
        self._client = dynamodb_client

    def write(self, record: AuditRecord, *, table: str, retention_days: int, include_config_version: bool) -> None:
        self._client.put_item(TableName=table, Item=to_item(record.item(retention_days, include_config_version)))
