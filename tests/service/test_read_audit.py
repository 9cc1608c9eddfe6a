"""A tenant read writes its audit record in the thread it runs in, before its answer goes out:
exactly one record per request, whatever the answer (200, 401, 403, 404). A server process runs
at most ``service.server_read_threads`` of them at once."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest

from tests.service.app_support import Rig, build_rig


#: How long the stand-in read holds its thread (nothing is measured against it).
READ_PAUSE_SECONDS = 0.2


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return build_rig(tmp_path)


def _get(rig: Rig, path: str, headers: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    """GET ``path`` through the ASGI app; the status and the audit records on disk at the moment
    the response's first message is sent."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
        "raw_path": path.encode(), "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
        "headers": [(b"host", b"test"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
    }
    seen: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"], seen["records"] = message["status"], list(rig.audit.entries())

    asyncio.run(rig.app(scope, receive, send))
    return seen["status"], seen["records"]


@pytest.mark.parametrize(("path", "scope", "status"), [
    ("/tenants/acme", "read", 200), ("/tenants/acme", None, 401), ("/tenants/acme", "provision", 403), ("/tenants/nobody", "read", 404),
])
def test_a_read_is_recorded_once_and_before_its_answer_is_sent(rig: Rig, path: str, scope: str | None, status: int) -> None:
    before = len(list(rig.audit.entries()))
    answered, on_disk = _get(rig, path, rig.auth(scope) if scope else {})
    assert answered == status
    assert len(on_disk) == before + 1, "the record was on disk when the answer started"
    record = on_disk[-1]
    assert (record["path"], record["status"]) == (path, status)
    assert (record["token_id"] is None) == (scope is None), "the token's id, when a token came"
    assert len(list(rig.audit.entries())) == before + 1, "and no second record after it"


def test_a_server_process_runs_at_most_server_read_threads_tenant_reads_at_once(tmp_path: Path) -> None:
    rig = build_rig(tmp_path, server_read_threads=2)
    running, most = [0], [0]
    lock = threading.Lock()
    store = rig.app.state.services.jobs
    read = store.for_tenant

    def slow_read(tenant: str) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(READ_PAUSE_SECONDS)  # long enough for the other requests to have arrived
        with lock:
            running[0] -= 1
        return read(tenant)

    async def six() -> list[int]:
        transport = httpx.ASGITransport(app=rig.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = await asyncio.gather(*(client.get("/tenants/acme", headers=rig.auth("read")) for _ in range(6)))
        return [a.status_code for a in answers]

    with mock.patch.object(store, "for_tenant", slow_read):
        assert asyncio.run(six()) == [200] * 6
    assert most[0] == 2
