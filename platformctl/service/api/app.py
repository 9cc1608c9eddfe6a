"""The FastAPI application of the provisioning service (see the README's "Self-service
provisioning" section for the routes, the scopes and the one-job-per-tenant rule)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from ubertruck.defaults import PlatformDefaults, load_defaults
from ubertruck.registry.loader import REGISTRY_DIR
from ubertruck.registry.model import Tenant

from ..audit import ServiceAudit
from ..database import Database, DatabaseUnavailable
from ..jobs import JobStore
from ..queue import JobQueue
from ..runner import gate_stacks
from ..settings import ServiceSettings
from ..tokens import TokenStore
from . import health, jobs, tenants
from .context import Gate, Services
from .middleware import AuditRequests, BodyLimit
from .models import ErrorBody, FieldProblem, ValidationErrorBody

DESCRIPTION = """Self-service provisioning for the UberTruck platform.

Every route but `/healthz` needs `Authorization: Bearer <token>` (`platformctl tokens create
--scope read|provision|offboard`). Writes check the entry as the registry files are checked
(422), gate it offline with both policy packs (409), take the tenant's lock (409 while a job of
the tenant is queued or running), write the registry file and queue one job per environment
(202). Jobs run in `platformctl worker`: gate, preview, then up, or the offboarding.
"""


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts[1:] if parts and parts[0] in ("body", "path", "query", "header") else parts) or "(root)"


def create_app(
    settings: ServiceSettings,
    *,
    registry: Path = REGISTRY_DIR,
    queue: JobQueue | None = None,
    database: Database | None = None,
    gate: Gate = gate_stacks,
    defaults: PlatformDefaults | None = None,
) -> FastAPI:
    """The API over ``settings``' database, audit trail and queue, writing ``registry``."""
    database = database or Database.from_settings(settings)
    app = FastAPI(title="UberTruck provisioning API", version="1", description=DESCRIPTION)
    app.state.services = Services(
        settings=settings, defaults=defaults or load_defaults(), database=database, tokens=TokenStore(database),
        jobs=JobStore(database), audit=ServiceAudit(settings.audit_path), queue=queue or JobQueue(settings), registry=registry,
        gate=gate,
    )
    for module in (health, tenants, jobs):
        app.include_router(module.router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldProblem(field=_field(tuple(e.get("loc", ()))), problem=str(e.get("msg", "invalid"))) for e in exc.errors()]
        body = ValidationErrorBody(detail=f"the request is not valid ({len(errors)} problem(s))", errors=errors)
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(DatabaseUnavailable)
    async def _unavailable(_request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return JSONResponse(ErrorBody(detail=f"the job store is unavailable: {exc.problem}").model_dump(), status_code=503)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            entry = Tenant.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(entry.pop("$defs", {}))
            components["Tenant"] = entry
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, limit=settings.section.max_body_bytes)
    app.add_middleware(AuditRequests, audit=app.state.services.audit)
    return app
