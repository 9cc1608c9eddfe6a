"""/jobs/{id}, its Server-Sent Events (streamed while a worker appends them, ending with the job),
/readyz."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Iterator

import pytest

from platformctl.service.database import Database
from platformctl.service.settings import sqlite_url

from .app_support import Rig, new_tenant, running_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with running_rig(tmp_path) as rig:
        yield rig


def _events(text: str) -> list[tuple[str, str, dict]]:
    """(id, event, data) of each event of an SSE body."""
    found = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        found.append((fields["id"], fields["event"], json.loads(fields["data"])))
    return found


def test_the_event_stream_follows_a_running_job_and_ends_with_it(rig: Rig) -> None:
    (job_id, *_) = rig.client.post("/tenants", json=new_tenant("zeta", environments=("dev",)), headers=rig.auth("provision")).json()["job_ids"]
    # The worker starts only once the stream is open and has had nothing to send: what the
    # stream gets, it gets while the job runs.
    opened = threading.Event()
    worker = threading.Thread(target=lambda: (opened.wait(30), rig.drain()))
    worker.start()
    with rig.client.stream("GET", f"/jobs/{job_id}/events", headers=rig.auth("read")) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        opened.set()
        text = "".join(stream.iter_text())
    worker.join()
    events = _events(text)
    assert [int(seq) for seq, _, _ in events] == list(range(1, len(events) + 1))
    kinds = [kind for _, kind, _ in events]
    assert kinds[:3] == ["status", "gate", "operation"] and "output" in kinds and "stack" in kinds
    assert events[-1][1:] == ("status", {"status": "succeeded", "error": None})
    outputs = [(data["stack"], data["lines"]) for _, kind, data in events if kind == "output"]
    # The environment's shared stack runs first in a provisioning job, then the tenant's.
    assert outputs[:2] == [(stack, [f"{stack} attempt 1 line 0", f"{stack} attempt 1 line 1"]) for stack in ("dev", "zeta-dev")]
    logged = rig.client.get(f"/jobs/{job_id}", headers=rig.auth("read")).json()["log"]
    assert [(str(e["seq"]), e["kind"], e["data"]) for e in logged] == events


def test_last_event_id_resumes_after_that_event(rig: Rig) -> None:
    (job_id, *_) = rig.client.post("/tenants", json=new_tenant("zeta", environments=("dev",)), headers=rig.auth("provision")).json()["job_ids"]
    rig.drain()
    whole = _events(rig.client.get(f"/jobs/{job_id}/events", headers=rig.auth("read")).text)
    rest = _events(rig.client.get(f"/jobs/{job_id}/events", headers={**rig.auth("read"), "Last-Event-ID": "3"}).text)
    assert rest == whole[3:]


def test_an_unknown_job_is_404(rig: Rig) -> None:
    for path in ("/jobs/job_nope", "/jobs/job_nope/events"):
        response = rig.client.get(path, headers=rig.auth("read"))
        assert (response.status_code, response.json()) == (404, {"detail": "no job 'job_nope'"})


def test_readyz_is_ready_with_a_migrated_database_and_a_queue(rig: Rig) -> None:
    response = rig.client.get("/readyz", headers=rig.auth("read"))
    assert (response.status_code, response.json()) == (200, {"status": "ready", "checks": {"database": "ok", "queue": "ok"}})


def test_readyz_is_503_when_the_queue_is_unreachable(tmp_path: Path) -> None:
    # A Redis URL on a port nobody listens on (port 1 needs root to bind and nothing does here).
    with running_rig(tmp_path, redis_url="redis://127.0.0.1:1/0") as rig:
        response = rig.client.get("/readyz", headers=rig.auth("read"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok" and response.json()["checks"]["queue"].startswith("redis queue unreachable")


def test_readyz_is_503_when_the_database_is_behind_its_migrations(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        tokens = rig.tokens
    # The same tokens in a database whose schema is one revision behind is not possible with one
    # migration; a database whose version table was emptied reads as never migrated.
    database = Database(sqlite_url(rig.settings.state_dir / "service" / "service.sqlite"), section=rig.settings.section)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
    with running_rig(tmp_path, database=_NoMigrate(database), tokens=tokens) as again:
        response = again.client.get("/readyz", headers=again.auth("read"))
    assert response.status_code == 503 and response.json()["checks"]["database"] == "at migration none; run the migrations"


class _NoMigrate(Database):
    """The database as it is: the rig must not bring it to head before readyz looks."""

    def __init__(self, database: Database) -> None:
        self.__dict__.update(database.__dict__)

    def migrate(self) -> None:
        return None
