"""``/healthz`` (the process answers; no token) and ``/readyz`` (the database is at the newest
migration and the queue answers)."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ..database import MIGRATIONS_DIR
from ..tokens import Scope, TokenRecord
from .auth import require
from .context import services
from .models import Health, Readiness
from .tenants import AUTH_ERRORS

router = APIRouter(tags=["health"])


def migration_head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


@router.get("/healthz", response_model=Health, summary="The process is up (no token needed)")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={**AUTH_ERRORS, 503: {"model": Readiness, "description": "Not ready."}},
            summary="The database is migrated and the queue reachable")
def readyz(request: Request, _token: TokenRecord = Depends(require(Scope.READ))) -> JSONResponse:
    svc = services(request)
    checks: dict[str, str] = {}
    try:
        current = svc.database.current_revision()
        checks["database"] = "ok" if current == migration_head() else f"at migration {current or 'none'}; run the migrations"
    except Exception as exc:  # any database error means "not ready", said in one line
        checks["database"] = f"unreachable: {type(exc).__name__}"
    checks["queue"] = svc.queue.reachable() or "ok"
    ready = all(value == "ok" for value in checks.values())
    body = Readiness(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
