"""``/tenants``: register, change and offboard tenants; read them with their stacks' last results.

A write runs, in this order, and stops at the first refusal: the entry's check (422 with field
paths), the offline plan gate over the tenant's stacks in a scratch copy of the registry (409 with
the violations), the tenant's lock in the job store (409 when a job of the tenant is queued or
running: one job per tenant), the registry file written atomically, then one job per environment
queued (202 with the job ids). Nothing is written before the lock is held, so the file on disk is
always the one whose jobs run.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any, Mapping

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from ubertruck.atomic import write_text_atomic
from ubertruck.errors import UserError, UserErrors
from ubertruck.registry import load_registry
from ubertruck.registry.loader import REGISTRY_SUFFIX, load_tenant, tenant_file
from ubertruck.registry.model import Tenant, tenant_id_problem
from ubertruck.safe_yaml import load_file
from ubertruck.stacks import all_stacks, tenant_stack_name

from ..jobs import JobKind, JobStateError, JobStatus, TenantBusy
from ..runner import scratch_registry
from ..tokens import Scope, TokenRecord
from .auth import BEARER, authorise, require
from .context import AuditNote, Services, services
from .entries import check_entry, entry_text, merge_patch, problems
from .middleware import record
from .models import (
    Accepted, ErrorBody, GateRefusal, JobSummary, StackResultModel, TenantBusyBody, TenantDetail, TenantList, TenantStack,
    TenantSummary, ValidationErrorBody,
)

router = APIRouter(tags=["tenants"])
JSON_MEDIA_TYPE = JSONResponse.media_type
log = logging.getLogger("platformctl.service.api")

#: The registry entry's JSON schema stands in for the body's (see app.py); the body is read as
#: plain JSON so that its problems come from the registry's own checks, with the files' paths.
ENTRY_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tenant"}}}}}
PATCH_BODY = {"requestBody": {"required": True, "content": {"application/merge-patch+json": {"schema": {"type": "object"}},
                                                            "application/json": {"schema": {"type": "object"}}}}}

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, malformed, unknown, expired or revoked token."},
    403: {"model": ErrorBody, "description": "The token lacks the route's scope."},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    409: {"model": GateRefusal | TenantBusyBody | ErrorBody,
          "description": "The gate refused the entry, the tenant has a job queued or running, it exists already (POST), or its file does not load."},
    413: {"model": ErrorBody, "description": "The body is over the configured limit."},
    422: {"model": ValidationErrorBody, "description": "The body is not a valid registry entry."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such tenant."}}
UNREADABLE: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody, "description": "The tenant's registry file does not load (fix it in git)."}}


class _TenantCache:
    """Registry files already checked, by (inode, mtime, size): a file is replaced by a rename,
    so a changed file is a new key and is checked again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[Path, tuple[tuple[int, int, int], Tenant]] = {}

    def load(self, path: Path) -> Tenant | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            hit = self._seen.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        tenant = load_tenant(path)
        with self._lock:
            self._seen[path] = (key, tenant)
        return tenant


_CACHE = _TenantCache()


def _existing(svc: Services, tenant_id: str) -> Tenant:
    if tenant_id_problem(tenant_id) is not None:
        raise HTTPException(404, f"no tenant {tenant_id!r}")
    try:
        tenant = _CACHE.load(tenant_file(tenant_id, svc.registry))
    except (UserError, UserErrors) as exc:
        raise HTTPException(409, f"the registry file of {tenant_id} does not load: {str(exc).splitlines()[0]}") from None
    if tenant is None:
        raise HTTPException(404, f"no tenant {tenant_id!r}")
    return tenant


def _invalid(exc: UserError | UserErrors) -> JSONResponse:
    found = problems(exc)
    body = ValidationErrorBody(detail=f"the body is not a valid registry entry ({len(found)} problem(s))", errors=found)
    return JSONResponse(body.model_dump(), status_code=422)


def _busy(exc: TenantBusy) -> JSONResponse:
    body = TenantBusyBody(detail=f"tenant {exc.tenant} has a job queued or running; one job per tenant at a time", job_ids=list(exc.job_ids))
    return JSONResponse(body.model_dump(), status_code=409)


def _gate(svc: Services, tenant: Tenant, text: str) -> list[str]:
    """The gate over ``tenant``'s stacks, with its file reading ``text`` in a scratch registry."""
    section = svc.settings.section
    scratch = scratch_registry(svc.registry, svc.settings.path(section.gate_dir), tenant.id, text)
    try:
        # The other tenants as the real registry holds them (unchanged files come from the cache),
        # the candidate as just checked: the scratch copy is only what the planned program reads.
        loaded = load_registry([svc.registry], cache_dir=svc.settings.path(section.registry_cache_dir))
        loaded.raise_for_errors()
        tenants = {**loaded.tenants, tenant.id: tenant}
        stacks = all_stacks(tenants, svc.defaults.platform.environments, only_tenants=[tenant.id])
        return svc.gate(stacks, tenants, svc.defaults, scratch)
    except (UserError, UserErrors) as exc:
        # The entry passed its own checks but its stacks cannot be planned (a service's config
        # contract, another registry file): a refusal too, said with the real registry's paths.
        return [f"cannot plan: {line}" for line in str(exc).replace(str(scratch), str(svc.registry)).splitlines()]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _submit(svc: Services, token: TokenRecord, tenant: Tenant, text: str, change: Mapping[str, Any], *, new: bool) -> JSONResponse:
    """Gate, lock, write, queue (see the module's docstring)."""
    refusals = _gate(svc, tenant, text)
    if refusals:
        body = GateRefusal(detail=f"the gate refused {tenant.id}: {len(refusals)} mandatory violation(s); nothing was written", violations=refusals)
        return JSONResponse(body.model_dump(), status_code=409)
    try:
        jobs = svc.jobs.create(tenant.id, list(tenant.environments), JobKind.PROVISION, token.token_id, change)
    except TenantBusy as exc:
        return _busy(exc)
    try:
        write_text_atomic(tenant_file(tenant.id, svc.registry), text, exclusive=new)
    except BaseException as exc:
        # The lock is ours and nothing was queued: end the jobs so the tenant is not left locked.
        for job in jobs:
            svc.jobs.finish(job.job_id, JobStatus.CANCELLED, "the registry file was not written")
        if isinstance(exc, UserError):
            return JSONResponse(ErrorBody(detail=f"tenant {tenant.id} already exists; change it with PATCH").model_dump(), status_code=409)
        raise
    for job in jobs:
        svc.queue.enqueue(job.job_id)
        svc.audit.job(job_id=job.job_id, tenant=tenant.id, token_id=token.token_id, transition="queued", outcome="queued",
                      detail={"environment": job.environment, "kind": job.kind.value})
    accepted = Accepted(tenant=tenant.id, request_id=jobs[0].request_id, job_ids=[job.job_id for job in jobs])
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.post("/tenants", status_code=202, response_model=Accepted, responses=WRITE_ERRORS, openapi_extra=ENTRY_BODY,
             summary="Register a tenant and provision its stacks")
def create_tenant(request: Request, body: Any = Body(...), token: TokenRecord = Depends(require(Scope.PROVISION))) -> JSONResponse:
    """The body is a registry entry (``tenants/<id>.yaml`` as JSON). 202 with one job per environment."""
    svc, note = services(request), AuditNote.of(request)
    note.change = body if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        note.tenant = body["id"]
    try:
        tenant = check_entry(body)
    except (UserError, UserErrors) as exc:
        return _invalid(exc)
    if tenant_file(tenant.id, svc.registry).exists():
        return JSONResponse(ErrorBody(detail=f"tenant {tenant.id} already exists; change it with PATCH").model_dump(), status_code=409)
    return _submit(svc, token, tenant, entry_text(body), body, new=True)


@router.patch("/tenants/{tenant_id}", status_code=202, response_model=Accepted, responses={**WRITE_ERRORS, **NOT_FOUND},
              openapi_extra=PATCH_BODY, summary="Change a tenant's entry and apply it")
def change_tenant(tenant_id: str, request: Request, body: Any = Body(...), token: TokenRecord = Depends(require(Scope.PROVISION))) -> JSONResponse:
    """A JSON merge patch over the tenant's registry entry; the result goes through the same steps as POST."""
    svc, note = services(request), AuditNote.of(request)
    note.tenant = tenant_id
    note.change = body if isinstance(body, dict) else None
    _existing(svc, tenant_id)
    if not isinstance(body, dict):
        return _invalid(UserError("body", "expected a JSON object (a merge patch of the registry entry)"))
    if "id" in body and body["id"] != tenant_id:
        return _invalid(UserError("body: id", f"names tenant {body['id']!r} but the path names {tenant_id!r}; a tenant's id cannot change"))
    document = merge_patch(load_file(tenant_file(tenant_id, svc.registry)), body)
    try:
        tenant = check_entry(document)
    except (UserError, UserErrors) as exc:
        return _invalid(exc)
    return _submit(svc, token, tenant, entry_text(document), body, new=False)


@router.delete("/tenants/{tenant_id}", status_code=202, response_model=Accepted,
               responses={**AUTH_ERRORS, **NOT_FOUND, 409: {"model": TenantBusyBody | ErrorBody, "description": "A job of the tenant is running, or its file does not load."}},
               summary="Offboard a tenant")
def offboard_tenant(tenant_id: str, request: Request, token: TokenRecord = Depends(require(Scope.OFFBOARD))) -> JSONResponse:
    """Queues the offboarding (``platformctl offboard``): stacks destroyed, data retained until the
    tenant's retention ends, the registry file removed last. Jobs of the tenant still queued are
    cancelled; a running one makes this a 409."""
    svc, note = services(request), AuditNote.of(request)
    note.tenant = tenant_id
    note.change = {"offboard": True}
    _existing(svc, tenant_id)
    for job in svc.jobs.active_for_tenant(tenant_id):
        if job.status != JobStatus.QUEUED:
            return _busy(TenantBusy(tenant_id, [job.job_id]))
        try:
            svc.jobs.finish(job.job_id, JobStatus.CANCELLED, "the tenant is being offboarded")
        except JobStateError:
            return _busy(TenantBusy(tenant_id, [job.job_id]))
        svc.audit.job(job_id=job.job_id, tenant=tenant_id, token_id=token.token_id, transition="cancelled", outcome="cancelled",
                      detail={"reason": "tenant offboarded while the job was queued"})
    try:
        jobs = svc.jobs.create(tenant_id, [None], JobKind.OFFBOARD, token.token_id, {"offboard": True})
    except TenantBusy as exc:
        return _busy(exc)
    job = jobs[0]
    svc.queue.enqueue(job.job_id)
    svc.audit.job(job_id=job.job_id, tenant=tenant_id, token_id=token.token_id, transition="queued", outcome="queued", detail={"kind": "offboard"})
    return JSONResponse(Accepted(tenant=tenant_id, request_id=job.request_id, job_ids=[job.job_id]).model_dump(), status_code=202)


def _summary(tenant: Tenant) -> TenantSummary:
    return TenantSummary(id=tenant.id, display_name=tenant.display_name, tier=tenant.tier, region=tenant.region, environments=list(tenant.environments))


@router.get("/tenants", response_model=TenantList, responses=AUTH_ERRORS, summary="List the registered tenants")
def list_tenants(request: Request, _token: TokenRecord = Depends(require(Scope.READ))) -> TenantList:
    svc = services(request)
    tenants = []
    for path in sorted(svc.registry.glob(f"*{REGISTRY_SUFFIX}")):
        try:
            tenant = _CACHE.load(path)
        except (UserError, UserErrors):
            continue  # a broken file is `platformctl tenants validate`'s to report
        if tenant is not None:
            tenants.append(_summary(tenant))
    return TenantList(tenants=tenants)


@router.get("/tenants/{tenant_id}", response_model=TenantDetail, responses={**AUTH_ERRORS, **NOT_FOUND, **UNREADABLE},
            summary="A tenant, its stacks and their last results", dependencies=[Depends(BEARER)])
async def get_tenant(tenant_id: str, request: Request) -> Response:
    """The token check, the read and the audit record in one hand-off to the thread pool (each
    hand-off is a thread to wake, which a busy machine delays), the record written before the
    answer goes out; ``BEARER`` above documents the scheme as ``require`` does."""
    return await anyio.to_thread.run_sync(_audited_read, request, tenant_id, limiter=_readers(services(request)))


#: The limiter of tenant reads (``service.server_read_threads``), one per event loop as anyio's
#: own default thread limiter is.
_READERS: RunVar[CapacityLimiter] = RunVar("tenant_readers")


def _readers(svc: Services) -> CapacityLimiter:
    try:
        return _READERS.get()
    except LookupError:
        limiter = CapacityLimiter(svc.settings.section.server_read_threads)
        _READERS.set(limiter)
        return limiter


def _audited_read(request: Request, tenant_id: str) -> Response:
    audit = services(request).audit
    try:
        response = _tenant_detail(request, tenant_id)
    except HTTPException as exc:
        record(audit, request.scope, exc.status_code, AuditNote.of(request))
        raise
    # Any other error is a 5xx the exception handlers shape: the middleware records it.
    record(audit, request.scope, response.status_code, AuditNote.of(request))
    return response


def _tenant_detail(request: Request, tenant_id: str) -> Response:
    """The answer is the :class:`TenantDetail` built here, dumped once (FastAPI would validate the
    model again against ``response_model`` and then encode it: a second cost per read)."""
    authorise(request, Scope.READ)
    svc = services(request)
    AuditNote.of(request).tenant = tenant_id
    tenant = _existing(svc, tenant_id)
    jobs = svc.jobs.for_tenant(tenant_id)
    last: dict[str, StackResultModel] = {}
    for job in jobs:
        for result in job.stacks:
            if result.stack not in last or result.finished_at > last[result.stack].finished_at:
                last[result.stack] = StackResultModel.of(result)
    stacks = [
        TenantStack(stack=tenant_stack_name(tenant_id, env), environment=env, last_result=last.get(tenant_stack_name(tenant_id, env)))
        for env in tenant.environments
    ]
    detail = TenantDetail(
        **_summary(tenant).model_dump(), entry=tenant.model_dump(mode="json", by_alias=True), stacks=stacks,
        jobs=[JobSummary.of(job) for job in jobs],
    )
    return Response(detail.model_dump_json(), media_type=JSON_MEDIA_TYPE)
