"""The relational store of the provisioning service: one SQLAlchemy engine for a URL.

SQLite (the default, a file shared by the API and the workers) runs in WAL mode with a busy
timeout, and every write transaction starts with ``BEGIN IMMEDIATE``: a deferred transaction
that reads and then writes can fail at once under another writer (SQLITE_BUSY_SNAPSHOT), where an
immediate one waits its turn. Postgres (``postgresql+psycopg://...``) is used as it is.
Connections are pooled per process; a forked child (a worker) starts with an empty pool.

The schema exists only through the Alembic migrations in ``migrations/``; :meth:`Database.migrate`
runs ``upgrade head`` and is safe when several processes start at once.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from pathlib import Path
from typing import Any, Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ubertruck.defaults import ServiceSection, load_defaults
from ubertruck.errors import UserError

from .settings import ServiceSettings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Postgres advisory lock key under which one process at a time migrates (any constant int8 works;
#: this one reads "UTmigr" in ASCII).
MIGRATION_LOCK_KEY = 0x55546D696772

#: The execution option that names how a SQLite transaction begins.
_BEGIN = "sqlite_begin"


class DatabaseUnavailable(UserError):
    """The database cannot be reached, or stayed locked longer than the busy timeout."""


class Database:
    """An engine and its sessions. ``session()`` reads; ``session(write=True)`` writes."""

    def __init__(self, url: str, *, section: ServiceSection | None = None) -> None:
        section = section or load_defaults().service
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise UserError("database", "not a database URL (expected sqlite:///PATH or postgresql+psycopg://...)") from None
        self.dialect = parsed.get_backend_name()
        if parsed.drivername == "postgresql":
            # psycopg (3) is the driver installed; a plain postgresql:// URL means it too.
            parsed = parsed.set(drivername="postgresql+psycopg")
            url = parsed.render_as_string(hide_password=False)
        self.url = url
        self.section = section
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine(parsed.database, section.sqlite_busy_timeout_ms)
        elif self.dialect == "postgresql":
            self.engine = _create(url, pool_pre_ping=True, connect_args={"connect_timeout": section.postgres_connect_timeout_seconds})
        else:
            raise UserError("database", f"unsupported database {self.dialect!r} (expected sqlite or postgresql)")
        _FORKABLE.add(self.engine)
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._writer = sessionmaker(bind=self.engine.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"}), expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Database:
        return cls(settings.database_url, section=settings.section)

    def _sqlite_engine(self, database: str | None, busy_timeout_ms: int) -> Engine:
        if not database or database == ":memory:":
            raise UserError("database", "SQLite needs a file (sqlite:///PATH): the API and the workers share it")
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = _create(f"sqlite:///{database}")

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own implicit BEGIN off: the "begin" hook below issues the right one.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA foreign_keys = ON")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN, "BEGIN"))

        return engine

    @contextlib.contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on an error."""
        factory = self._writer if write else self._reader
        try:
            with factory.begin() as session:
                yield session
        except OperationalError as exc:
            raise self._unavailable(exc) from None

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A pooled connection in one read transaction, without an ORM session: for the API's
        per-request reads, where a session's bookkeeping costs more than SQLite's query."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as exc:
            raise self._unavailable(exc) from None

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there already).

        One process at a time: SQLite's write lock (the whole upgrade is one immediate
        transaction; SQLite DDL is transactional) or a Postgres advisory lock held for the
        transaction. A process that waited finds the schema at head and does nothing."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        scripts = ScriptDirectory.from_config(config)
        current = self.current_revision()
        if current == scripts.get_current_head():
            return
        if current is not None and current not in {script.revision for script in scripts.walk_revisions()}:
            # A newer platformctl migrated this database: never write to a schema we do not know.
            raise UserError(f"database {self._shown_url()}", f"the schema is at revision {current!r}, which this platformctl does not know; upgrade platformctl")
        engine = self.engine.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"}) if self.dialect == "sqlite" else self.engine
        try:
            with engine.begin() as connection:
                if self.dialect == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise self._unavailable(exc) from None

    def current_revision(self) -> str | None:
        """The schema's migration revision (None before the first migration)."""
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except OperationalError as exc:
            raise self._unavailable(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()

    def _shown_url(self) -> str:
        """The URL as messages show it: never its password."""
        return make_url(self.url).render_as_string(hide_password=True)

    def _unavailable(self, exc: OperationalError) -> DatabaseUnavailable:
        # The driver's first line names the server and the problem; the URL is shown without its password.
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        return DatabaseUnavailable(f"database {self._shown_url()}", first)


#: Every engine of this process: a forked child (a worker) must not use its parent's pooled
#: connections, so the fork hook below drops them from the child's pools (without closing them:
#: they are still the parent's).
_FORKABLE: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_parent_connections() -> None:
    for engine in list(_FORKABLE):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_connections)


def _create(url: str, **options: Any) -> Engine:
    try:
        return create_engine(url, **options)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise UserError("database", f"cannot use this URL: {type(exc).__name__}") from None
