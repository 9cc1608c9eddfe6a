"""Bearer tokens on every route but ``/healthz``: 401 for a missing, malformed, unknown, expired or
revoked token, 403 for a token without the route's scope. Both are logged and audited with the
reason and, when known, the token's id; never with the token."""

from __future__ import annotations

import logging
from typing import Any, Callable, Coroutine

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPBearer

from ..tokens import Scope, TokenRecord, TokenRejected
from .context import AuditNote, services

log = logging.getLogger("platformctl.service.api")

#: Documents the scheme in the OpenAPI schema; the header itself is read below (a malformed one
#: must be told apart from a missing one).
BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>` (`platformctl tokens create`).")
_PREFIX = "bearer "


def presented_token(header: str | None) -> str | None:
    """The token of an ``Authorization`` header; the whole header when it is not a bearer one
    (so that it reads as malformed, not missing)."""
    if header is None or not header.strip():
        return None
    if header[: len(_PREFIX)].lower() == _PREFIX:
        return header[len(_PREFIX):].strip() or header
    return header


def authorise(request: Request, scope: Scope) -> TokenRecord:
    """The caller's token record, which must allow ``scope``; 401 or 403 otherwise.

    It reads the token from the database (every request: a revoked token is refused on the next
    one), so it runs off the event loop: in :func:`require`'s hand-off to the thread pool, or in a
    route's own hand-off when the route runs its work there in one (a tenant read)."""
    note = AuditNote.of(request)
    try:
        record = services(request).tokens.verify(presented_token(request.headers.get("authorization")))
    except TokenRejected as exc:
        note.token_id, note.reason = exc.token_id, f"token {exc.reason}"
        log.warning("401 %s %s: token %s (token id %s)", request.method, request.url.path, exc.reason, exc.token_id or "-")
        raise HTTPException(401, f"unauthorised: token {exc.reason}", headers={"WWW-Authenticate": "Bearer"}) from None
    note.token_id = record.token_id
    if not record.allows(scope):
        note.reason = f"scope {scope.value} missing"
        log.warning("403 %s %s: token %s lacks scope %s", request.method, request.url.path, record.token_id, scope.value)
        raise HTTPException(403, f"forbidden: this token lacks the '{scope.value}' scope")
    return record


def require(scope: Scope) -> Callable[..., Coroutine[Any, Any, TokenRecord]]:
    """A dependency: the caller's token record, which must allow ``scope``."""

    async def dependency(request: Request, _scheme: object = Depends(BEARER)) -> TokenRecord:
        return await run_in_threadpool(authorise, request, scope)

    return dependency
