"""What the API answers: one pydantic model per response and per error, as the OpenAPI schema shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..jobs import JobRecord, StackResult

JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobKindName = Literal["provision", "offboard"]


class ErrorBody(BaseModel):
    """Any refusal: 401, 403, 404, 413 and the like."""

    detail: str = Field(description="What was wrong, in one line; never a token or a config value.")


class FieldProblem(BaseModel):
    field: str = Field(description="The dotted path of the field in the registry entry (or the request part).")
    problem: str


class ValidationErrorBody(BaseModel):
    """422: the body is not a valid registry entry (the same checks as the registry files)."""

    detail: str
    errors: list[FieldProblem]


class GateRefusal(BaseModel):
    """409: the offline plan gate found mandatory policy violations; nothing was written or queued."""

    detail: str
    violations: list[str]


class TenantBusyBody(BaseModel):
    """409: the tenant already has a queued or running job (one job per tenant)."""

    detail: str
    job_ids: list[str]


class Accepted(BaseModel):
    """202: the registry file is written and the jobs are queued."""

    tenant: str
    request_id: str
    job_ids: list[str]


class StackResultModel(BaseModel):
    stack: str
    operation: str
    status: str = Field(description="succeeded, or failed:<transient|concurrent|policy|program|engine>")
    changes: dict[str, int]
    message: str
    finished_at: dt.datetime

    @classmethod
    def of(cls, result: StackResult) -> StackResultModel:
        return cls(stack=result.stack, operation=result.operation, status=result.status, changes=dict(result.changes),
                   message=result.message, finished_at=result.finished_at)


class JobSummary(BaseModel):
    job_id: str
    request_id: str
    tenant: str
    environment: str | None
    kind: JobKindName
    status: JobStatusName
    token_id: str = Field(description="The id of the token that asked for the job (never the token).")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    attempts: int
    error: str | None

    @classmethod
    def of(cls, job: JobRecord) -> JobSummary:
        return cls(
            job_id=job.job_id, request_id=job.request_id, tenant=job.tenant, environment=job.environment, kind=job.kind.value,
            status=job.status.value, token_id=job.token_id, created_at=job.created_at, started_at=job.started_at,
            finished_at=job.finished_at, attempts=job.attempts, error=job.error,
        )


class LogEntry(BaseModel):
    seq: int
    kind: str = Field(description="status, gate, violation, operation, output, progress, stack or retry")
    data: dict[str, Any]


class JobDetail(JobSummary):
    stacks: list[StackResultModel]
    log: list[LogEntry]


class TenantSummary(BaseModel):
    id: str
    display_name: str
    tier: str
    region: str
    environments: list[str]


class TenantList(BaseModel):
    tenants: list[TenantSummary]


class TenantStack(BaseModel):
    stack: str
    environment: str
    last_result: StackResultModel | None = Field(description="The newest operation any job ran on this stack.")


class TenantDetail(TenantSummary):
    entry: dict[str, Any] = Field(description="The registry entry, as the file holds it.")
    stacks: list[TenantStack]
    jobs: list[JobSummary] = Field(description="The tenant's jobs, newest first.")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(description="Per dependency: ok, or why it is not ready.")
