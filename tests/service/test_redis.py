"""The queue on a real Redis (Debian's redis-server, started here on a free loopback port in a
temporary folder): jobs queued by the API run, survive a restart, and readyz sees the queue."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest

from platformctl.service.jobs import JobStatus

from .app_support import POLL_SECONDS, START_LINE_WAIT_SECONDS, new_tenant, redis_server, running_rig


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (.ci/run installs it: apt-get install redis-server)")
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def test_jobs_queued_on_redis_run_and_survive_a_restart(tmp_path: Path, redis_url: str) -> None:
    with running_rig(tmp_path, redis_url=redis_url) as before:
        assert before.queue.backend == "redis"
        tokens = before.tokens
        job_ids = before.client.post("/tenants", json=new_tenant("zeta"), headers=before.auth("provision")).json()["job_ids"]
        ready = before.client.get("/readyz", headers=before.auth("read")).json()
        assert ready == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}
    # Another API and worker (a new connection to the same Redis) find the jobs and run them.
    with running_rig(tmp_path, redis_url=redis_url, tokens=tokens) as after:
        assert after.queue.queued_job_ids() == set(job_ids)
        assert sorted(after.drain()) == sorted(job_ids)
        assert {after.jobs.get(j).status for j in job_ids} == {JobStatus.SUCCEEDED}
        assert after.queue.queued_job_ids() == set()


def test_the_consumer_runs_jobs_from_redis(tmp_path: Path, redis_url: str) -> None:
    with running_rig(tmp_path, redis_url=redis_url) as rig:
        (job_id,) = rig.client.post("/tenants", json=new_tenant("eta", environments=("dev",)), headers=rig.auth("provision")).json()["job_ids"]
        consumer = rig.queue.consumer(1)
        consumer.start()
        try:
            deadline = time.monotonic() + START_LINE_WAIT_SECONDS
            while time.monotonic() < deadline and rig.jobs.get(job_id).status != JobStatus.SUCCEEDED:
                time.sleep(POLL_SECONDS)
        finally:
            consumer.stop(graceful=True)
        assert rig.jobs.get(job_id).status == JobStatus.SUCCEEDED
