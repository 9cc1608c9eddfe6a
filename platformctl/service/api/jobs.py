"""``/jobs/{id}``: a job's status, per-stack results and log; ``/jobs/{id}/events``: the same log
as Server-Sent Events while the job runs (``fastapi.sse``), ending when the job ends.

The stream reads the job store, where the worker appends every engine line and stack outcome
as it happens; a client that reconnects with ``Last-Event-ID`` gets the events after that one.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ..jobs import FINAL, JobRecord
from ..tokens import Scope, TokenRecord
from .auth import require
from .context import AuditNote, services
from .models import ErrorBody, JobDetail, JobSummary, LogEntry, StackResultModel
from .tenants import AUTH_ERRORS

router = APIRouter(tags=["jobs"])

NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ErrorBody, "description": "No such job."}}


def _as_json(responses: dict[int | str, dict[str, object]]) -> dict[int | str, dict[str, object]]:
    """``responses`` with their bodies documented as JSON: a refusal of the event stream route is
    a JSON error, not an event stream (FastAPI would document it as the route's media type)."""
    documented: dict[int | str, dict[str, object]] = {}
    for status, response in responses.items():
        model = response["model"]
        assert isinstance(model, type)
        documented[status] = {
            "description": response["description"],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    return documented


def existing_job(job_id: str, request: Request) -> JobRecord:
    """A dependency, so that a 404 is sent before an event stream would start."""
    job = services(request).jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    AuditNote.of(request).tenant = job.tenant
    return job


@router.get("/jobs/{job_id}", response_model=JobDetail, responses={**AUTH_ERRORS, **NOT_FOUND}, summary="A job: status, per-stack results, log")
def get_job(job_id: str, request: Request, _token: TokenRecord = Depends(require(Scope.READ)), job: JobRecord = Depends(existing_job)) -> JobDetail:
    log = [LogEntry(seq=seq, kind=kind, data=data) for seq, kind, data in services(request).jobs.events(job_id)]
    return JobDetail(**JobSummary.of(job).model_dump(), stacks=[StackResultModel.of(s) for s in job.stacks], log=log)


def _last_event_id(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() else 0


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse, responses=_as_json({**AUTH_ERRORS, **NOT_FOUND}),
            summary="The job's events as Server-Sent Events, until it ends")
async def job_events(
    job_id: str, request: Request, _token: TokenRecord = Depends(require(Scope.READ)), _job: JobRecord = Depends(existing_job),
    last_event_id: str | None = Header(None, description="Resume after this event's id (sent back by EventSource clients)."),
) -> AsyncIterator[ServerSentEvent]:
    """Each event's ``event`` is its kind (status, gate, violation, operation, output, progress,
    stack, retry), its ``id`` the sequence number, its ``data`` a JSON object."""
    svc = services(request)
    poll = svc.settings.section.events_poll_seconds
    after = _last_event_id(last_event_id)
    while True:
        # Whether it had ended is read before the events: an ended job's events are all written.
        job = await run_in_threadpool(svc.jobs.get, job_id)
        for seq, kind, data in await run_in_threadpool(svc.jobs.events, job_id, after):
            yield ServerSentEvent(data=data, event=kind, id=str(seq))
            after = seq
        if job is None or job.status in FINAL or await request.is_disconnected():
            return
        await asyncio.sleep(poll)
