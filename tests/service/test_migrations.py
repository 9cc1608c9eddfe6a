"""The schema exists only through the Alembic migrations: a new database is empty until
``migrate()``, which brings it to head, matches the ORM models, is idempotent and is safe when
several processes run it at once. SQLite runs in WAL mode with the configured busy timeout.
(Postgres: tests/service/test_postgres.py.)"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from platformctl.service.database import MIGRATIONS_DIR, Database, DatabaseUnavailable
from platformctl.service.jobs import JobKind, JobStore
from platformctl.service.settings import ServiceSettings, sqlite_url
from platformctl.service.tables import Base
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError

#: Processes migrating one new database at once.
MIGRATORS = 4
TABLES = {"tokens", "jobs", "stack_results", "job_events", "tenant_locks"}


def head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    revision = ScriptDirectory.from_config(config).get_current_head()
    assert revision is not None
    return revision


def schema_drift(database: Database) -> list[Any]:
    """What the models declare that the migrated schema lacks, or the other way round."""
    with database.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)


def migrate_in_process(url: str, start_line: Any, results: Any) -> None:
    database = Database(url)
    start_line.wait()
    database.migrate()
    results.put(database.current_revision())


def migrate_concurrently(url: str) -> list[str]:
    # Forked: each migrator opens its own Database after the fork, as serve and worker processes do.
    context = multiprocessing.get_context("fork")
    start_line = context.Barrier(MIGRATORS)
    results = context.Queue()
    processes = [context.Process(target=migrate_in_process, args=(url, start_line, results)) for _ in range(MIGRATORS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0] * MIGRATORS
    return [results.get() for _ in processes]


def version_rows(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


@pytest.fixture()
def url(tmp_path) -> str:
    return sqlite_url(tmp_path / "state" / "service.sqlite")


def test_a_new_database_has_no_schema_until_it_is_migrated(url):
    database = Database(url)
    assert database.current_revision() is None
    assert not TABLES & set(inspect(database.engine).get_table_names())
    with pytest.raises(DatabaseUnavailable, match="no such table"):
        JobStore(database).create("acme", ["dev"], JobKind.PROVISION, "tok_x", {})
    database.migrate()
    assert database.current_revision() == head()
    assert TABLES <= set(inspect(database.engine).get_table_names())


def test_the_migrations_build_exactly_the_models(url):
    database = Database(url)
    database.migrate()
    assert schema_drift(database) == []


def test_migrate_again_is_a_no_op_that_keeps_the_data(url):
    database = Database(url)
    database.migrate()
    (job,) = JobStore(database).create("acme", ["dev"], JobKind.PROVISION, "tok_x", {})
    database.migrate()
    Database(url).migrate()
    assert JobStore(database).get(job.job_id) == job
    assert version_rows(database) == [head()]


def assert_processes_migrating_at_once_leave_one_schema_at_head(url: str) -> None:
    assert migrate_concurrently(url) == [head()] * MIGRATORS
    database = Database(url)
    assert version_rows(database) == [head()]
    assert schema_drift(database) == []
    database.dispose()


def test_processes_migrating_at_once_leave_one_schema_at_head(url):
    assert_processes_migrating_at_once_leave_one_schema_at_head(url)


def test_downgrade_and_upgrade_round_trip(url):
    from alembic import command

    database = Database(url)
    database.migrate()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not TABLES & set(inspect(database.engine).get_table_names())
    database.migrate()
    assert schema_drift(database) == []


def test_sqlite_runs_in_wal_mode_with_the_configured_busy_timeout(url):
    database = Database(url)
    database.migrate()
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == load_defaults().service.sqlite_busy_timeout_ms
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_writer_waits_for_another_writer_instead_of_failing(url):
    """Two write sessions on one file: the second blocks on the first's lock (busy timeout) and
    commits after it; with no wait it would fail at once with 'database is locked'."""
    import threading

    database = Database(url)
    database.migrate()
    store = JobStore(database)
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, "tok_x", {})
    holding, second_done = threading.Event(), threading.Event()
    outcome: list[int] = []

    def second_writer() -> None:
        holding.wait()
        outcome.append(store.append_event(job.job_id, "engine", {"from": "second"}))
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with database.session(write=True) as session:
        session.execute(text("SELECT 1"))  # the session begins (BEGIN IMMEDIATE) at its first statement
        holding.set()
        # The second writer cannot finish while this transaction holds the write lock.
        assert not second_done.wait(0.5)
    thread.join()
    assert outcome == [1]


def test_without_a_busy_timeout_the_same_contention_fails(url):
    """The control for the test above: the lock really is contended."""
    section = load_defaults().service.model_copy(update={"sqlite_busy_timeout_ms": 0})
    database = Database(url, section=section)
    database.migrate()
    other = Database(url, section=section)
    with database.session(write=True) as session:
        session.execute(text("SELECT 1"))
        with pytest.raises(DatabaseUnavailable, match="database is locked"):
            with other.session(write=True) as session:
                session.execute(text("SELECT 1"))


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u@h/d", "unsupported database 'mysql'"),
        ("sqlite://", "SQLite needs a file"),
        ("sqlite:///:memory:", "SQLite needs a file"),
        ("postgresql+psycopg2://u@h/d", "cannot use this URL: ModuleNotFoundError"),
    ],
)
def test_bad_database_urls_are_bad_input(bad, words):
    with pytest.raises(UserError, match=words):
        Database(bad)


def test_settings_default_to_the_sqlite_file_under_the_state_folder(tmp_path, monkeypatch):
    section = load_defaults().service
    monkeypatch.delenv(section.database_url_env_var, raising=False)
    settings = ServiceSettings.load(state_dir=tmp_path)
    assert settings.database_url == sqlite_url(tmp_path / section.database_file)
    assert settings.audit_path == tmp_path / section.audit_file
    monkeypatch.setenv(section.database_url_env_var, "postgresql+psycopg://team@db/jobs")
    assert ServiceSettings.load(state_dir=tmp_path).database_url == "postgresql+psycopg://team@db/jobs"
    assert ServiceSettings.load(state_dir=tmp_path, database_url=sqlite_url(tmp_path / "x.sqlite")).database_url == sqlite_url(tmp_path / "x.sqlite")
    assert settings.path(str(tmp_path / "abs.jsonl")) == tmp_path / "abs.jsonl"


def test_operational_errors_are_reported_without_the_password():
    database = Database("postgresql+psycopg://ops:hunter2secret@127.0.0.1:1/jobs")
    with pytest.raises(DatabaseUnavailable) as refused:
        database.migrate()
    assert "hunter2secret" not in str(refused.value)
    assert "127.0.0.1" in str(refused.value)
    assert isinstance(refused.value.__context__, OperationalError) or refused.value.__suppress_context__


def test_a_schema_newer_than_this_platformctl_is_left_alone(url):
    database = Database(url)
    database.migrate()
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    with pytest.raises(UserError, match="revision 'from_the_future', which this platformctl does not know"):
        database.migrate()
    assert version_rows(database) == ["from_the_future"]
