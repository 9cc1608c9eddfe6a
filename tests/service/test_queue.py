"""The Huey queue on its SQLite file: restarts of the API and workers lose nothing, a worker
stopped mid-job leaves it resumable, transient failures are retried with back-off, and the real
consumer runs jobs."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from platformctl.apply.operations import Failure
from platformctl.service.jobs import JobStatus

from .app_support import POLL_SECONDS, START_LINE_WAIT_SECONDS, build_rig, new_tenant, running_rig


def test_a_restart_mid_queue_loses_nothing(tmp_path: Path) -> None:
    with running_rig(tmp_path) as before:
        tokens = before.tokens
        queued = [job for name in ("zeta", "eta") for job in
                  before.client.post("/tenants", json=new_tenant(name), headers=before.auth("provision")).json()["job_ids"]]
        # The API and its queue go away here, with nothing run.
    with running_rig(tmp_path, tokens=tokens) as after:
        assert after.queue.queued_job_ids() == set(queued)
        assert sorted(after.drain()) == sorted(queued)
        assert {after.jobs.get(job_id).status for job_id in queued} == {JobStatus.SUCCEEDED}
        # Each job previews and ups its tenant's stack and its environment's shared stack.
        assert sorted(c.stack for c in after.operations.calls) == sorted(
            stack for t in ("zeta", "eta") for e in ("dev", "prod") for stack in (e, f"{t}-{e}") for _ in ("preview", "up")
        )


def test_a_worker_stopped_mid_job_leaves_it_resumable_and_the_registry_whole(tmp_path: Path) -> None:
    with running_rig(tmp_path) as before:
        tokens = before.tokens
        first, second = before.client.post("/tenants", json=new_tenant("zeta"), headers=before.auth("provision")).json()["job_ids"]
        entry = (before.registry / "zeta.yaml").read_bytes()
        # A worker takes the first task and starts the job, then is killed: the task is gone
        # from the queue, the job stays running.
        taken = before.queue.huey.dequeue()
        assert taken.args == (first,)
        before.jobs.start(first)
    with running_rig(tmp_path, tokens=tokens) as after:
        assert after.queue.queued_job_ids() == {second}
        assert after.queue.resume(after.jobs) == [first]
        assert after.queue.resume(after.jobs) == []  # covered now: not queued twice
        assert sorted(after.drain()) == sorted([first, second])
        job = after.jobs.get(first)
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
        assert (after.registry / "zeta.yaml").read_bytes() == entry


def test_a_transient_failure_is_retried_by_the_queue(tmp_path: Path) -> None:
    with running_rig(tmp_path, task_retry_delay_seconds=0) as rig:
        # Three transient failures exhaust the rollout's own attempts; the job then fails transiently.
        rig.operations.script = {"zeta-dev": [Failure.TRANSIENT] * 3}
        (job_id,) = rig.client.post("/tenants", json=new_tenant("zeta", environments=("dev",)), headers=rig.auth("provision")).json()["job_ids"]
        assert rig.drain() == [job_id, job_id]
        job = rig.jobs.get(job_id)
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
        assert [k for _, k, _ in rig.jobs.events(job_id)].count("retry") == 1


def test_retries_wait_with_back_off_and_the_last_failure_fails_the_job(tmp_path: Path) -> None:
    with running_rig(tmp_path, task_retries=2, task_retry_delay_seconds=30, task_retry_backoff=2.0) as rig:
        rig.operations.script = {"zeta-dev": [Failure.TRANSIENT] * 9}
        (job_id,) = rig.client.post("/tenants", json=new_tenant("zeta", environments=("dev",)), headers=rig.auth("provision")).json()["job_ids"]
        far = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(days=1)
        delays = []
        rig.drain()
        for _ in range(2):
            (task,) = rig.queue.huey.read_schedule(far)
            delays.append(task.retry_delay)
            rig.queue.huey.execute(task, far)  # as if the back-off had passed
        assert delays == [60.0, 120.0]  # 30 s, then x2 after each retry (Huey keeps the next delay on the task)
        assert rig.queue.huey.scheduled_count() == 0
        job = rig.jobs.get(job_id)
        assert (job.status, job.attempts) == (JobStatus.FAILED, 3)


def test_the_consumer_runs_queued_jobs(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        job_ids = rig.client.post("/tenants", json=new_tenant("zeta"), headers=rig.auth("provision")).json()["job_ids"]
        consumer = rig.queue.consumer(2)
        consumer.start()
        try:
            deadline = time.monotonic() + START_LINE_WAIT_SECONDS
            while time.monotonic() < deadline and any(rig.jobs.get(j).status != JobStatus.SUCCEEDED for j in job_ids):
                time.sleep(POLL_SECONDS)
        finally:
            consumer.stop(graceful=True)
        assert {rig.jobs.get(j).status for j in job_ids} == {JobStatus.SUCCEEDED}


def test_a_queue_without_a_runner_refuses_to_consume(tmp_path: Path) -> None:
    rig = build_rig(tmp_path)
    rig.queue._execute = None
    try:
        rig.queue.consumer(1)
    except Exception as exc:  # UserError: one line for the operator
        assert "no runner" in str(exc)
    else:
        raise AssertionError("a consumer without a runner was built")
