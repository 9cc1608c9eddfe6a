"""The job queue: Huey, on a SQLite file by default or on Redis when a URL is configured.

The queue carries job ids only; the job itself (its tenant, environment, kind, status, results and
log) is a record in the job store. So nothing is lost when the API or a worker restarts: Huey's
queue is persistent (the SQLite file, or Redis), and a worker that starts re-queues every
unfinished job that no queued task covers (:meth:`JobQueue.resume`): a job whose worker was
stopped mid-run stays ``running`` in the store and runs again from its start (``up`` is
idempotent; offboarding removes the registry file only as its last step).

Transient failures are retried by Huey (``task_retries``, ``task_retry_delay_seconds``, multiplied
by ``task_retry_backoff`` after each retry): a job whose stacks failed only transiently, and any
exception of the task itself (the job store briefly unreachable).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from huey import RedisHuey, SqliteHuey  # type: ignore[import-untyped]
from huey.api import Huey, Task  # type: ignore[import-untyped]
from huey.consumer import Consumer  # type: ignore[import-untyped]

from ubertruck.errors import UserError

from .jobs import JobStatus, JobStore
from .settings import ServiceSettings

#: Huey's name for the task that runs a job (the API and the workers must agree on it).
TASK_NAME = "run_job"

#: Runs a job by id, given how many retries are left; raises to ask for a retry.
Execute = Callable[[str, int], JobStatus]

log = logging.getLogger("platformctl.service.queue")


class JobQueue:
    """Huey and its one task; the API enqueues job ids, a worker attaches a runner and consumes."""

    def __init__(self, settings: ServiceSettings, redis_url: str | None = None) -> None:
        section = settings.section
        url = settings.redis_url(redis_url)
        self.backend = "redis" if url else "sqlite"
        self.huey: Huey
        if url:
            self.huey = RedisHuey(section.queue_name, url=url, results=False)
            self.where = "redis"
        else:
            path = settings.queue_path
            path.parent.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(section.queue_name, filename=str(path), results=False)
            self.where = str(path)
        self.settings = settings
        self._execute: Execute | None = None
        self._task = self.huey.task(
            retries=section.task_retries, retry_delay=section.task_retry_delay_seconds,
            retry_backoff=section.task_retry_backoff, context=True, name=TASK_NAME,
        )(self._run)

    def _run(self, job_id: str, task: Task | None = None) -> None:
        if self._execute is None:
            raise RuntimeError("this queue has no runner attached: only `platformctl worker` runs jobs")
        self._execute(job_id, task.retries if task is not None else 0)

    def attach(self, execute: Execute) -> None:
        """What runs a job in this process (a worker's :class:`~.runner.JobRunner`)."""
        self._execute = execute

    def enqueue(self, job_id: str) -> None:
        self._task(job_id)

    def queued_job_ids(self) -> set[str]:
        """Jobs a task in the queue will run: waiting now, or scheduled for a retry."""
        tasks: list[Any] = [*self.huey.pending(), *self.huey.scheduled()]
        return {str(task.args[0]) for task in tasks if task.name == self._task.name and task.args}

    def reachable(self) -> str | None:
        """None when the queue answers; otherwise why not (one line, no URL)."""
        try:
            self.huey.pending_count()
        except Exception as exc:  # any broker error means "not ready"; readyz reports it
            return f"{self.backend} queue unreachable: {type(exc).__name__}"
        return None

    def resume(self, jobs: JobStore) -> list[str]:
        """Queue every unfinished job that no task in the queue covers; the ids queued."""
        covered = self.queued_job_ids()
        resumed = [job.job_id for job in jobs.unfinished() if job.job_id not in covered]
        for job_id in resumed:
            self.enqueue(job_id)
        if resumed:
            log.info("resumed %d unfinished job(s): %s", len(resumed), ", ".join(resumed))
        return resumed

    def consumer(self, workers: int) -> Consumer:
        """A Huey consumer of ``workers`` threads (each job's engine runs in processes of its own)."""
        if self._execute is None:
            raise UserError("worker", "no runner attached to the queue")
        section = self.settings.section
        return self.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=False, max_delay=section.worker_poll_max_seconds,
            check_worker_health=True,
        )
