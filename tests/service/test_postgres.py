"""The job store on a real PostgreSQL 15 (started by tests/service/pg.py on a loopback port):
migrations match the models and are safe from several processes at once; tokens and the job
lifecycle work; one active request per tenant holds under concurrent threads and processes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from platformctl.service.database import Database, DatabaseUnavailable
from platformctl.service.jobs import JobKind, JobStatus, JobStore, StackResult, TenantBusy
from platformctl.service.tokens import Scope, TokenRejected, TokenStore
from tests.registry.support import run_cli
from tests.service import pg
from tests.service.test_jobs_store import (
    TOKEN,
    assert_a_forked_child_and_its_parent_both_keep_working,
    assert_concurrent_finishes_release_the_lock,
    assert_exactly_one_request,
    race_processes,
    race_threads,
)
from tests.service.test_migrations import assert_processes_migrating_at_once_leave_one_schema_at_head, head, schema_drift, version_rows

pytestmark = pytest.mark.xdist_group(pg.GROUP)
# The server and database fixtures, made visible to this module's tests.
postgres_server = pg.postgres_server
pg_url = pg.pg_url


@pytest.fixture()
def db(pg_url) -> Database:
    database = Database(pg_url)
    database.migrate()
    yield database
    database.dispose()


def test_the_url_is_postgres(db):
    assert db.dialect == "postgresql"
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW server_version").scalar().startswith("15.")


def test_a_plain_postgresql_url_uses_psycopg(pg_url):
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    database = Database(plain)
    assert database.url == pg_url
    database.migrate()
    assert database.current_revision() == head()
    database.dispose()


def test_migrations_reach_head_and_build_exactly_the_models(db):
    assert db.current_revision() == head()
    assert schema_drift(db) == []
    db.migrate()
    assert version_rows(db) == [head()]


def test_processes_migrating_at_once_leave_one_schema_at_head(pg_url):
    assert_processes_migrating_at_once_leave_one_schema_at_head(pg_url)


def test_tokens_round_trip(db):
    tokens = TokenStore(db)
    record, secret = tokens.create([Scope.PROVISION], expires_days=2, label="pg")
    assert tokens.verify(secret) == record
    assert record.created_at.tzinfo == dt.timezone.utc
    tokens.revoke(record.token_id)
    with pytest.raises(TokenRejected) as refused:
        tokens.verify(secret)
    assert refused.value.reason == "revoked"


def test_job_lifecycle(db):
    store = JobStore(db)
    dev, prod = store.create("acme", ["dev", "prod"], JobKind.PROVISION, TOKEN, {"config": {"x": 1}})
    with pytest.raises(TenantBusy) as refused:
        store.create("acme", ["dev"], JobKind.OFFBOARD, TOKEN, {})
    assert set(refused.value.job_ids) == {dev.job_id, prod.job_id}
    store.start(dev.job_id)
    assert [store.append_event(dev.job_id, "engine", {"n": n}) for n in range(2)] == [1, 2]
    store.record_stack(dev.job_id, StackResult("acme-dev", "up", "succeeded", {"create": 3}, "ok", dt.datetime.now(dt.timezone.utc)))
    store.finish(dev.job_id, JobStatus.SUCCEEDED)
    store.finish(prod.job_id, JobStatus.FAILED, "engine")
    done = store.get(dev.job_id)
    assert (done.status, done.attempts, [s.stack for s in done.stacks]) == (JobStatus.SUCCEEDED, 1, ["acme-dev"])
    assert done.finished_at.tzinfo == dt.timezone.utc
    assert store.events(dev.job_id, after=1) == [(2, "engine", {"n": 1})]
    assert store.get(prod.job_id).change == {"config": {"x": 1}}
    assert len(store.create("acme", ["dev"], JobKind.OFFBOARD, TOKEN, {})) == 1, "the lock went with the request's last job"


def test_concurrent_threads_create_exactly_one_request(db):
    assert_exactly_one_request(db, "acme", race_threads(db.url, "acme"))


def test_concurrent_processes_create_exactly_one_request(db):
    assert_exactly_one_request(db, "acme", race_processes(db.url, "acme"))


def test_a_stopped_server_is_reported_in_one_line_without_the_password(postgres_server):
    database = Database(postgres_server.url("postgres", password="s3cret-pass").replace(str(postgres_server.port), "1", 1))
    with pytest.raises(DatabaseUnavailable) as refused:
        database.current_revision()
    assert "s3cret-pass" not in str(refused.value)
    assert "\n" not in str(refused.value)


def test_concurrent_finishes_of_a_request_release_the_lock(db):
    assert_concurrent_finishes_release_the_lock(db)


def test_a_forked_child_and_its_parent_both_keep_working(db):
    assert_a_forked_child_and_its_parent_both_keep_working(db)


def test_tokens_cli_on_postgres(pg_url):
    created = run_cli("tokens", "create", "--scope", "offboard", "--database", pg_url)
    assert created.code == 0, created.stderr
    lines = dict(line.split(": ", 1) for line in created.stdout.splitlines())
    database = Database(pg_url)
    assert TokenStore(database).verify(lines["token"]).token_id == lines["token_id"]
    assert run_cli("tokens", "revoke", lines["token_id"], "--database", pg_url).code == 0
    listed = run_cli("tokens", "list", "--json", "--database", pg_url)
    assert [(t["token_id"], t["state"]) for t in json.loads(listed.stdout)] == [(lines["token_id"], "revoked")]
    database.dispose()
