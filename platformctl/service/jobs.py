"""Job records of the provisioning service: status, times, the requesting token, per-stack
results and the log, in the service's database.

One active request per tenant is the database's guarantee, not this process's: a request's jobs
are created in the same transaction as a row of ``tenant_locks`` keyed by the tenant, and that
row goes when the request's last job ends. A second request's insert fails on the primary key,
whether it comes from another thread, process or machine, and becomes :class:`TenantBusy`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping, Sequence, Unpack

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .database import Database
from .tables import JobEventRow, JobRow, StackResultRow, TenantLockRow
from .tokens import utcnow


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: Statuses of a job that has not ended (what holds the tenant's lock, what a worker resumes).
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
#: Statuses a job ends in.
FINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobKind(str, Enum):
    PROVISION = "provision"
    OFFBOARD = "offboard"


@dataclass(frozen=True)
class StackResult:
    stack: str
    operation: str
    status: str
    changes: dict[str, int]
    message: str
    finished_at: dt.datetime


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    request_id: str
    tenant: str
    environment: str | None
    kind: JobKind
    status: JobStatus
    token_id: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    attempts: int
    error: str | None
    stacks: tuple[StackResult, ...]
    #: What the request changed, as the API recorded it (the runner reads it).
    change: Mapping[str, Any]


class TenantBusy(Exception):
    """The tenant already has a queued or running request; ``job_ids`` are its active jobs."""

    def __init__(self, tenant: str, job_ids: Sequence[str]) -> None:
        super().__init__(f"tenant {tenant!r} has an active request (job(s) {', '.join(job_ids) or 'just ending'})")
        self.tenant = tenant
        self.job_ids = tuple(job_ids)


class UnknownJob(LookupError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}")
        self.job_id = job_id


class JobStateError(Exception):
    """A transition a job's status does not allow (starting a finished job, finishing it twice
    with different outcomes)."""

    def __init__(self, job_id: str, status: JobStatus, wanted: str) -> None:
        super().__init__(f"job {job_id} is {status.value}; it cannot become {wanted}")
        self.job_id = job_id
        self.status = status


class JobStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(self.database.section.id_bytes)}"

    def create(
        self, tenant: str, environments: Sequence[str | None], kind: JobKind, token_id: str, change: Mapping[str, Any]
    ) -> list[JobRecord]:
        """One queued job per environment, in one transaction, all with one request_id.

        Raises :class:`TenantBusy` when the tenant already has a queued or running job."""
        if not environments:
            raise ValueError("a request needs at least one environment (None for a tenant-wide job)")
        request_id = self._new_id("req")
        now = utcnow()
        rows = [
            JobRow(
                job_id=self._new_id("job"), request_id=request_id, tenant=tenant, environment=environment, kind=JobKind(kind).value,
                status=JobStatus.QUEUED.value, token_id=token_id, change=dict(change), created_at=now, attempts=0, last_event=0,
            )
            for environment in environments
        ]
        try:
            with self.database.session(write=True) as session:
                # The lock row first: on Postgres a concurrent insert of the same tenant waits here
                # for the first transaction and then fails on the key.
                session.add(TenantLockRow(tenant=tenant, request_id=request_id, created_at=now))
                session.flush()
                session.add_all(rows)
                session.flush()
                return [_record(row, ()) for row in rows]
        except IntegrityError:
            raise TenantBusy(tenant, [job.job_id for job in self.active_for_tenant(tenant)]) from None

    def get(self, job_id: str) -> JobRecord | None:
        with self.database.session() as session:
            row = session.get(JobRow, job_id)
            return _load(session, row) if row is not None else None

    def for_tenant(self, tenant: str) -> list[JobRecord]:
        """The tenant's jobs, newest first."""
        with self.database.reading() as connection:
            return _load_all(connection, _FOR_TENANT, tenant=tenant)

    def active_for_tenant(self, tenant: str) -> list[JobRecord]:
        """The tenant's queued and running jobs, oldest first."""
        with self.database.reading() as connection:
            return _load_all(connection, _ACTIVE_FOR_TENANT, tenant=tenant)

    def start(self, job_id: str) -> JobRecord:
        """queued -> running, one more attempt (also running -> running when a job resumes)."""
        with self.database.session(write=True) as session:
            row = _row(session, job_id, lock=True)
            if JobStatus(row.status) not in ACTIVE:
                raise JobStateError(job_id, JobStatus(row.status), JobStatus.RUNNING.value)
            row.status = JobStatus.RUNNING.value
            row.attempts += 1
            row.started_at = row.started_at or utcnow()
            session.flush()
            return _load(session, row)

    def finish(self, job_id: str, status: JobStatus, error: str | None = None) -> JobRecord:
        """End a job; the tenant's lock goes with the request's last active job. Finishing a job
        again with the status it ended with changes nothing (a retried task may do so)."""
        status = JobStatus(status)
        if status not in FINAL:
            raise ValueError(f"{status.value} is not a final status")
        with self.database.session(write=True) as session:
            # The tenant's lock row first, then the job's (the order every writer of both takes):
            # the request's finishes queue behind each other, so the last one to commit sees the
            # others ended and releases the lock. Under Postgres's read committed, two finishes
            # that both saw the other job active would otherwise keep the tenant locked for good.
            # SQLite needs none of it: BEGIN IMMEDIATE already serialises writers.
            tenant = _row(session, job_id).tenant
            session.execute(select(TenantLockRow.tenant).where(TenantLockRow.tenant == tenant).with_for_update())
            row = _row(session, job_id, lock=True)
            current = JobStatus(row.status)
            if current in FINAL:
                if current != status:
                    raise JobStateError(job_id, current, status.value)
                return _load(session, row)
            row.status = status.value
            row.finished_at = utcnow()
            row.error = error
            session.flush()
            others = session.scalar(
                select(JobRow.job_id).where(JobRow.request_id == row.request_id, JobRow.status.in_([s.value for s in ACTIVE])).limit(1)
            )
            if others is None:
                session.execute(delete(TenantLockRow).where(TenantLockRow.tenant == row.tenant, TenantLockRow.request_id == row.request_id))
            return _load(session, row)

    def record_stack(self, job_id: str, result: StackResult) -> None:
        """Keep a stack operation's outcome (a rerun of the same stack and operation replaces it)."""
        with self.database.session(write=True) as session:
            _row(session, job_id)
            session.merge(
                StackResultRow(
                    job_id=job_id, stack=result.stack, operation=result.operation, status=result.status,
                    changes=dict(result.changes), message=result.message, finished_at=result.finished_at,
                )
            )

    def append_event(self, job_id: str, kind: str, data: Mapping[str, Any]) -> int:
        """Add an entry to the job's log; returns its sequence number (1, 2, ... within the job)."""
        with self.database.session(write=True) as session:
            seq = session.scalar(update(JobRow).where(JobRow.job_id == job_id).values(last_event=JobRow.last_event + 1).returning(JobRow.last_event))
            if seq is None:
                raise UnknownJob(job_id)
            session.add(JobEventRow(job_id=job_id, seq=seq, kind=kind, data=dict(data), created_at=utcnow()))
            return int(seq)

    def events(self, job_id: str, after: int = 0) -> list[tuple[int, str, dict[str, Any]]]:
        """The job's log after sequence number ``after``: (seq, kind, data), in order."""
        with self.database.session() as session:
            rows = session.execute(
                select(JobEventRow.seq, JobEventRow.kind, JobEventRow.data).where(JobEventRow.job_id == job_id, JobEventRow.seq > after).order_by(JobEventRow.seq)
            ).all()
            return [(int(seq), kind, dict(data)) for seq, kind, data in rows]

    def unfinished(self) -> list[JobRecord]:
        """Queued or running jobs, oldest first: what a restarted worker resumes."""
        with self.database.reading() as connection:
            return _load_all(connection, _UNFINISHED)


def _row(session: Session, job_id: str, *, lock: bool = False) -> JobRow:
    """The job's row; ``lock`` reads it afresh and holds it (SELECT ... FOR UPDATE) until commit."""
    row = session.get(JobRow, job_id, with_for_update=lock, populate_existing=lock)
    if row is None:
        raise UnknownJob(job_id)
    return row


#: The columns of a stack result, in :class:`StackResult`'s order (plain rows: no ORM objects to build).
_RESULT_COLUMNS = (StackResultRow.stack, StackResultRow.operation, StackResultRow.status, StackResultRow.changes,
                   StackResultRow.message, StackResultRow.finished_at)
#: A job's results oldest first (the order :attr:`JobRecord.stacks` promises).
_RESULT_ORDER = (StackResultRow.finished_at, StackResultRow.stack, StackResultRow.operation)


def _load(session: Session, row: JobRow) -> JobRecord:
    results = session.execute(select(*_RESULT_COLUMNS).where(StackResultRow.job_id == row.job_id).order_by(*_RESULT_ORDER)).all()
    return _record(row, tuple(_result(r) for r in results))


@dataclass(frozen=True)
class _JobsQuery:
    """The two statements that load the jobs matching a condition with their stack results.

    The results' statement selects its jobs by the same condition (a subquery), so no list of ids
    is sent and no bound-parameter limit applies however many jobs match. Both are built once, with
    bound parameters: building a statement costs more than SQLite takes to run it."""

    jobs: Select[Unpack[tuple[Any, ...]]]
    results: Select[Unpack[tuple[Any, ...]]]

    @classmethod
    def where(cls, condition: ColumnElement[bool], *order: Any) -> _JobsQuery:
        matching = select(JobRow.job_id).where(condition).scalar_subquery()
        return cls(
            jobs=select(*JobRow.__table__.columns).where(condition).order_by(*order),
            results=select(StackResultRow.job_id, *_RESULT_COLUMNS).where(StackResultRow.job_id.in_(matching)).order_by(StackResultRow.job_id, *_RESULT_ORDER),
        )


_ACTIVE_NAMES = [s.value for s in ACTIVE]
_FOR_TENANT = _JobsQuery.where(JobRow.tenant == bindparam("tenant"), JobRow.created_at.desc(), JobRow.job_id)
_ACTIVE_FOR_TENANT = _JobsQuery.where(and_(JobRow.tenant == bindparam("tenant"), JobRow.status.in_(_ACTIVE_NAMES)), JobRow.created_at, JobRow.job_id)
_UNFINISHED = _JobsQuery.where(JobRow.status.in_(_ACTIVE_NAMES), JobRow.created_at, JobRow.job_id)


def _load_all(connection: Connection, query: _JobsQuery, **params: Any) -> list[JobRecord]:
    """The jobs ``query`` selects, in its order, with their stack results: two queries in the
    connection's one transaction, however many jobs match; plain rows, no ORM objects."""
    rows = connection.execute(query.jobs, params).all()
    if not rows:
        return []
    results: dict[str, list[StackResult]] = {}
    for result in connection.execute(query.results, params):
        results.setdefault(result[0], []).append(_result(result[1:]))
    return [_record(row, tuple(results.get(row.job_id, ()))) for row in rows]


def _result(columns: Sequence[Any]) -> StackResult:
    stack, operation, status, changes, message, finished_at = columns
    return StackResult(stack, operation, status, dict(changes), message, finished_at)


def _record(row: JobRow | Row[Any], stacks: tuple[StackResult, ...]) -> JobRecord:
    return JobRecord(
        job_id=row.job_id, request_id=row.request_id, tenant=row.tenant, environment=row.environment, kind=JobKind(row.kind),
        status=JobStatus(row.status), token_id=row.token_id, created_at=row.created_at, started_at=row.started_at,
        finished_at=row.finished_at, attempts=row.attempts, error=row.error, stacks=stacks, change=dict(row.change),
    )
