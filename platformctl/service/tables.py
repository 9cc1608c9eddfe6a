"""The provisioning service's tables (SQLAlchemy ORM). The migrations in ``migrations/versions``
create them; ``tests/service/test_migrations.py`` checks that the two agree.

Times are stored in UTC and read back timezone-aware on every backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Longest tenant id, environment, stack name and similar identifiers a column holds (generous:
#: the registry's own limits are far below it).
NAME_LENGTH = 200
#: Length of ids the service makes itself (job, request and token ids).
ID_LENGTH = 64


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime in, an aware UTC datetime out (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Dialect) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the job store keeps aware UTC times only")
        utc = value.astimezone(dt.timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Optional[dt.datetime], dialect: Dialect) -> Optional[dt.datetime]:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class TokenRow(Base):
    """A bearer token: its public id, scopes and the salted hash of its secret (never the secret)."""

    __tablename__ = "tokens"
    token_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    salt: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(ID_LENGTH * 2), nullable=False)
    #: Sorted scope names, comma-separated.
    scopes: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    label: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[Optional[dt.datetime]] = mapped_column(UtcDateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(UtcDateTime)


class JobRow(Base):
    """One job: one tenant, one environment (or none for a tenant-wide job), one request."""

    __tablename__ = "jobs"
    job_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False, index=True)
    tenant: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    environment: Mapped[Optional[str]] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    status: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False, index=True)
    token_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    #: What the request changed, as the API handed it over (the job runner reads it).
    change: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(UtcDateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[Optional[str]] = mapped_column(Text)
    #: Sequence number of the job's newest event (0: none yet); bumped in the row, so two writers
    #: of one job's events are serialised by the row's lock.
    last_event: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (Index("ix_jobs_tenant_created", "tenant", "created_at"),)


class StackResultRow(Base):
    """The outcome of one stack operation of a job (the newest one per stack and operation)."""

    __tablename__ = "stack_results"
    job_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True)
    stack: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    operation: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    status: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    changes: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    finished_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)


class JobEventRow(Base):
    """One entry of a job's log: numbered from 1 within the job."""

    __tablename__ = "job_events"
    job_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)


class TenantLockRow(Base):
    """The tenant's one active request. The primary key is what makes it one: a second request's
    insert fails in the database, whichever process or machine it comes from."""

    __tablename__ = "tenant_locks"
    tenant: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
