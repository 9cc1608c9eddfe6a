"""Two ASGI layers around the routes: the request body limit (413) and the audit record of every
request (token id, tenant, what changed, the outcome). ``/healthz`` is not audited: it carries no
token, changes nothing, and a probe every few seconds would drown the trail."""

from __future__ import annotations

import json
import logging
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..audit import ServiceAudit
from .context import AuditNote

log = logging.getLogger("platformctl.service.api")

#: Paths whose requests are not audited (see the module's docstring).
UNAUDITED = frozenset({"/healthz"})


class BodyLimit:
    """Refuse a body over ``limit`` bytes with 413: by its Content-Length before reading it, or,
    without one (chunked), after reading at most ``limit`` + 1 bytes of it. A body within the
    limit is read here in full and handed on (bodies are small: the limit is tens of kB)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > self.limit:
                await self._refuse(scope, send)
                return
        await self.app(scope, _replay([{"type": "http.request", "body": bytes(body), "more_body": False}], receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        state = scope.setdefault("state", {})
        note = state.get("audit") or AuditNote()
        note.reason = f"body over {self.limit} bytes"
        state["audit"] = note
        body = json.dumps({"detail": f"request body too large: the limit is {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then whatever the client sends next."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class AuditRequests:
    """One audit record per request, written when the response has been sent."""

    def __init__(self, app: ASGIApp, audit: ServiceAudit) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNAUDITED:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            note: AuditNote = state.get("audit") or AuditNote()
            if not note.recorded:
                await run_in_threadpool(record, self.audit, scope, status, note)


def record(audit: ServiceAudit, scope: Scope, status: int, note: AuditNote) -> None:
    """Append the request's audit record (fsynced) and mark it written. Called by the middleware
    once the response is out, or by a route from the thread it runs in, before its answer goes
    out (``recorded``: a tenant read, which so needs no hand-off of its own for the record)."""
    note.recorded = True
    try:
        audit.request(
            token_id=note.token_id, method=scope["method"], path=scope["path"], tenant=note.tenant, status=status,
            change=note.change, reason=note.reason,
        )
    except OSError as exc:  # a failed audit write is logged loudly; the answer is not held back for it
        log.error("audit write failed for %s %s: %s", scope["method"], scope["path"], exc)
