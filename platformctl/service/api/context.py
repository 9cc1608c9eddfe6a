"""What the routes share: the service's stores and queue (on ``app.state``) and the per-request
note the audit middleware writes when the response is done."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from fastapi import Request
from ubertruck.defaults import PlatformDefaults

from ..audit import ServiceAudit
from ..database import Database
from ..jobs import JobStore
from ..queue import JobQueue
from ..runner import Gate
from ..settings import ServiceSettings
from ..tokens import TokenStore



@dataclass
class Services:
    settings: ServiceSettings
    defaults: PlatformDefaults
    database: Database
    tokens: TokenStore
    jobs: JobStore
    audit: ServiceAudit
    queue: JobQueue
    registry: Path
    gate: Gate


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


@dataclass
class AuditNote:
    """What the audit record of this request says besides method, path and status."""

    token_id: str | None = None
    tenant: str | None = None
    change: Mapping[str, Any] | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The record is written already (by a route, before its answer went out): the middleware
    #: writes no second one.
    recorded: bool = False

    @classmethod
    def of(cls, request: Request) -> AuditNote:
        note = getattr(request.state, "audit", None)
        if note is None:
            note = cls()
            request.state.audit = note
        return note
