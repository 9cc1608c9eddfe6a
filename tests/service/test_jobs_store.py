"""JobStore on SQLite: the job lifecycle, stack results, the numbered event log, and exactly one
active request per tenant under concurrent threads and processes (the database enforces it).

The race helpers here are shared with tests/service/test_postgres.py.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select

from platformctl.service.database import Database, DatabaseUnavailable
from platformctl.service.jobs import JobKind, JobStateError, JobStatus, JobStore, StackResult, TenantBusy, UnknownJob
from platformctl.service.settings import sqlite_url
from platformctl.service.tables import JobRow, TenantLockRow

#: Contenders in each race (more than the machine's cores, so they really overlap).
CONTENDERS = 6
PROCESS_CONTENDERS = CONTENDERS
#: Seconds a contender waits for the others at the start line before the race is void.
START_LINE_WAIT_SECONDS = 120.0
TOKEN = "tok_0123456789abcdef"


@pytest.fixture()
def db(tmp_path) -> Database:
    database = Database(sqlite_url(tmp_path / "jobs.sqlite"))
    database.migrate()
    return database


@pytest.fixture()
def store(db) -> JobStore:
    return JobStore(db)


def _result(stack: str, status: str = "succeeded", creates: int = 1) -> StackResult:
    return StackResult(stack, "up", status, {"create": creates}, f"{stack} {status}", dt.datetime.now(dt.timezone.utc))


# --- the race helpers ------------------------------------------------------------------------


def attempt_create(url: str, tenant: str, start_line: Any) -> str:
    """One contender: a Database of its own, wait for the others, then try to create a request.
    'created:<request id>' or 'busy'."""
    store = JobStore(Database(url))
    start_line.wait(START_LINE_WAIT_SECONDS)
    try:
        jobs = store.create(tenant, ["dev", "prod"], JobKind.PROVISION, TOKEN, {"tier": ["changed"]})
    except TenantBusy:
        return "busy"
    finally:
        store.database.dispose()
    return f"created:{jobs[0].request_id}"


def _process_contender(url: str, tenant: str, start_line: Any, results: Any) -> None:
    results.put(attempt_create(url, tenant, start_line))


def race_threads(url: str, tenant: str) -> list[str]:
    start_line = threading.Barrier(CONTENDERS)
    with ThreadPoolExecutor(CONTENDERS) as pool:
        return list(pool.map(lambda _: attempt_create(url, tenant, start_line), range(CONTENDERS)))


def race_processes(url: str, tenant: str) -> list[str]:
    # Forked, as a Huey process worker is: each contender opens its own Database after the fork.
    context = multiprocessing.get_context("fork")
    start_line = context.Barrier(PROCESS_CONTENDERS)
    results = context.Queue()
    processes = [context.Process(target=_process_contender, args=(url, tenant, start_line, results)) for _ in range(PROCESS_CONTENDERS)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=START_LINE_WAIT_SECONDS * 2) for _ in processes]
    for process in processes:
        process.join()
    assert all(p.exitcode == 0 for p in processes)
    return outcomes


def assert_exactly_one_request(database: Database, tenant: str, outcomes: list[str]) -> None:
    created = [o for o in outcomes if o.startswith("created:")]
    assert len(created) == 1, outcomes
    assert outcomes.count("busy") == len(outcomes) - 1
    request_id = created[0].split(":", 1)[1]
    with database.session() as session:
        rows = session.scalars(select(JobRow).where(JobRow.tenant == tenant)).all()
        locks = session.scalars(select(TenantLockRow)).all()
    assert {row.request_id for row in rows} == {request_id}
    assert sorted(row.environment for row in rows) == ["dev", "prod"]
    assert [(lock.tenant, lock.request_id) for lock in locks] == [(tenant, request_id)]


# --- create and the tenant's one active request ------------------------------------------------


def test_create_queues_one_job_per_environment_under_one_request(store):
    jobs = store.create("acme", ["dev", "prod"], JobKind.PROVISION, TOKEN, {"tier": "gold"})
    assert [job.environment for job in jobs] == ["dev", "prod"]
    assert len({job.request_id for job in jobs}) == 1
    assert len({job.job_id for job in jobs}) == 2
    for job in jobs:
        assert (job.status, job.kind, job.token_id, job.attempts) == (JobStatus.QUEUED, JobKind.PROVISION, TOKEN, 0)
        assert job.started_at is None and job.finished_at is None and job.stacks == ()
        assert job.created_at.tzinfo == dt.timezone.utc
        stored = store.get(job.job_id)
        assert stored == job
        assert stored.change == {"tier": "gold"}


def test_a_tenant_wide_job_has_no_environment(store):
    (job,) = store.create("acme", [None], JobKind.OFFBOARD, TOKEN, {})
    assert store.get(job.job_id).environment is None
    assert store.get(job.job_id).kind is JobKind.OFFBOARD


def test_create_needs_an_environment(store):
    with pytest.raises(ValueError):
        store.create("acme", [], JobKind.PROVISION, TOKEN, {})


def test_second_request_for_a_busy_tenant_is_refused_with_its_active_jobs(store):
    first = store.create("acme", ["dev", "prod"], JobKind.PROVISION, TOKEN, {})
    with pytest.raises(TenantBusy) as refused:
        store.create("acme", ["dev"], JobKind.OFFBOARD, TOKEN, {})
    assert set(refused.value.job_ids) == {job.job_id for job in first}
    assert refused.value.tenant == "acme"
    assert len(store.for_tenant("acme")) == 2, "the refused request left no job behind"
    assert len(store.create("globex", ["dev"], JobKind.PROVISION, TOKEN, {})) == 1, "another tenant is not blocked"


def test_the_lock_goes_with_the_requests_last_active_job(store):
    dev, prod = store.create("acme", ["dev", "prod"], JobKind.PROVISION, TOKEN, {})
    store.start(dev.job_id)
    store.finish(dev.job_id, JobStatus.SUCCEEDED)
    with pytest.raises(TenantBusy) as refused:
        store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    assert refused.value.job_ids == (prod.job_id,)
    store.finish(prod.job_id, JobStatus.CANCELLED)
    (again,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    assert again.request_id != dev.request_id


def test_concurrent_threads_create_exactly_one_request(db):
    outcomes = race_threads(db.url, "acme")
    assert_exactly_one_request(db, "acme", outcomes)


def test_concurrent_processes_create_exactly_one_request(db):
    outcomes = race_processes(db.url, "acme")
    assert_exactly_one_request(db, "acme", outcomes)


def test_concurrent_requests_for_different_tenants_all_succeed(db):
    start_line = threading.Barrier(CONTENDERS)
    with ThreadPoolExecutor(CONTENDERS) as pool:
        outcomes = list(pool.map(lambda i: attempt_create(db.url, f"tenant-{i}", start_line), range(CONTENDERS)))
    assert all(o.startswith("created:") for o in outcomes), outcomes
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(TenantLockRow)) == CONTENDERS


# --- transitions -------------------------------------------------------------------------------


def test_start_runs_the_job_and_counts_attempts_also_on_resume(store):
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    first = store.start(job.job_id)
    assert (first.status, first.attempts) == (JobStatus.RUNNING, 1)
    assert first.started_at is not None and first.started_at.tzinfo == dt.timezone.utc
    resumed = store.start(job.job_id)
    assert (resumed.status, resumed.attempts, resumed.started_at) == (JobStatus.RUNNING, 2, first.started_at)


def test_finish_records_the_outcome_and_error(store):
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    store.start(job.job_id)
    done = store.finish(job.job_id, JobStatus.FAILED, "acme-dev: engine failed")
    assert (done.status, done.error) == (JobStatus.FAILED, "acme-dev: engine failed")
    assert done.finished_at is not None and done.finished_at >= done.started_at


def test_finishing_again_with_the_same_status_changes_nothing(store):
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    done = store.finish(job.job_id, JobStatus.SUCCEEDED)
    assert store.finish(job.job_id, JobStatus.SUCCEEDED) == done


@pytest.mark.parametrize("final", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_a_finished_job_cannot_start_or_end_differently(store, final):
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    store.finish(job.job_id, final)
    with pytest.raises(JobStateError):
        store.start(job.job_id)
    other = JobStatus.FAILED if final != JobStatus.FAILED else JobStatus.SUCCEEDED
    with pytest.raises(JobStateError):
        store.finish(job.job_id, other)
    assert store.get(job.job_id).status == final


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_finish_takes_only_a_final_status(store, status):
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    with pytest.raises(ValueError):
        store.finish(job.job_id, status)


def test_unknown_jobs(store):
    assert store.get("job_missing") is None
    for call in (
        lambda: store.start("job_missing"),
        lambda: store.finish("job_missing", JobStatus.FAILED),
        lambda: store.record_stack("job_missing", _result("acme-dev")),
        lambda: store.append_event("job_missing", "log", {}),
    ):
        with pytest.raises(UnknownJob):
            call()


# --- results, log, queries ---------------------------------------------------------------------


def test_stack_results_are_kept_and_a_rerun_replaces_its_own(store):
    (job,) = store.create("acme", [None], JobKind.PROVISION, TOKEN, {})
    store.record_stack(job.job_id, _result("acme-dev", "failed", 0))
    store.record_stack(job.job_id, _result("acme-prod"))
    store.record_stack(job.job_id, _result("acme-dev", "succeeded", 4))
    stacks = {(s.stack, s.operation): s for s in store.get(job.job_id).stacks}
    assert set(stacks) == {("acme-dev", "up"), ("acme-prod", "up")}
    assert (stacks["acme-dev", "up"].status, stacks["acme-dev", "up"].changes) == ("succeeded", {"create": 4})
    assert stacks["acme-prod", "up"].finished_at.tzinfo == dt.timezone.utc


def test_events_are_numbered_per_job_and_read_after_a_sequence_number(store):
    one, two = store.create("acme", ["dev", "prod"], JobKind.PROVISION, TOKEN, {})
    assert [store.append_event(one.job_id, "engine", {"line": n}) for n in range(3)] == [1, 2, 3]
    assert store.append_event(two.job_id, "engine", {"line": "other"}) == 1
    assert store.events(one.job_id) == [(1, "engine", {"line": 0}), (2, "engine", {"line": 1}), (3, "engine", {"line": 2})]
    assert store.events(one.job_id, after=2) == [(3, "engine", {"line": 2})]
    assert store.events(one.job_id, after=3) == []
    assert store.events(two.job_id) == [(1, "engine", {"line": "other"})]


def test_concurrent_event_writers_never_share_a_number(store):
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    with ThreadPoolExecutor(CONTENDERS) as pool:
        numbers = list(pool.map(lambda n: store.append_event(job.job_id, "engine", {"n": n}), range(CONTENDERS * 4)))
    assert sorted(numbers) == list(range(1, CONTENDERS * 4 + 1))
    assert [seq for seq, _, _ in store.events(job.job_id)] == sorted(numbers)


def test_for_tenant_is_newest_first_and_unfinished_is_what_a_worker_resumes(store):
    (old,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})
    store.finish(old.job_id, JobStatus.SUCCEEDED)
    (new,) = store.create("acme", ["dev"], JobKind.OFFBOARD, TOKEN, {})
    (other,) = store.create("globex", ["prod"], JobKind.PROVISION, TOKEN, {})
    store.start(other.job_id)
    assert [job.job_id for job in store.for_tenant("acme")] == [new.job_id, old.job_id]
    assert [job.job_id for job in store.unfinished()] == [new.job_id, other.job_id]
    assert [job.job_id for job in store.active_for_tenant("acme")] == [new.job_id]


def test_records_survive_a_new_database_object(db, store):
    (job,) = store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {"tier": "gold"})
    store.start(job.job_id)
    store.append_event(job.job_id, "engine", {"line": "x"})
    db.dispose()
    reopened = JobStore(Database(db.url))
    assert reopened.get(job.job_id).status is JobStatus.RUNNING
    assert reopened.events(job.job_id) == [(1, "engine", {"line": "x"})]
    with pytest.raises(TenantBusy):
        reopened.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})


# --- the lock under concurrent finishes ----------------------------------------------------------

#: Requests whose jobs are finished at the same moment, one after another.
FINISH_ROUNDS = 12


def assert_concurrent_finishes_release_the_lock(database: Database) -> None:
    """A request's jobs ended at once by different workers: whichever ends last releases the
    tenant's lock, every time (two finishes that each still saw the other job active would
    leave the tenant locked for good)."""
    store = JobStore(database)
    for _ in range(FINISH_ROUNDS):
        jobs = store.create("acme", ["dev", "prod", "stage"], JobKind.PROVISION, TOKEN, {})
        for job in jobs:
            store.start(job.job_id)
        start_line = threading.Barrier(len(jobs))

        def finish(job_id: str) -> JobStatus:
            start_line.wait(START_LINE_WAIT_SECONDS)
            return store.finish(job_id, JobStatus.SUCCEEDED).status

        with ThreadPoolExecutor(len(jobs)) as pool:
            assert list(pool.map(finish, [job.job_id for job in jobs])) == [JobStatus.SUCCEEDED] * len(jobs)
        with database.session() as session:
            assert session.scalars(select(TenantLockRow)).all() == []


def test_concurrent_finishes_of_a_request_release_the_lock(db):
    assert_concurrent_finishes_release_the_lock(db)


# --- fork ---------------------------------------------------------------------------------------


def _backend_pid(database: Database) -> int | None:
    """The Postgres server process a session talks to (None on SQLite, which has none)."""
    if database.dialect != "postgresql":
        return None
    with database.session() as session:
        return int(session.execute(select(func.pg_backend_pid())).scalar_one())


def assert_a_forked_child_and_its_parent_both_keep_working(database: Database) -> None:
    """A worker forked from a process that already used the store: the child starts with an
    empty pool and opens connections of its own (two processes on one connection corrupt both),
    and the parent's pooled connection still works after the child has exited."""
    store = JobStore(database)
    (before,) = store.create("parent", ["dev"], JobKind.PROVISION, TOKEN, {})
    parent_pid = _backend_pid(database)
    context = multiprocessing.get_context("fork")
    reports = context.Queue()

    def child() -> None:
        reports.put((database.engine.pool.checkedin(), _backend_pid(database)))
        (job,) = store.create("child", ["dev"], JobKind.PROVISION, TOKEN, {})
        store.finish(job.job_id, JobStatus.SUCCEEDED)

    process = context.Process(target=child)
    process.start()
    inherited, child_pid = reports.get(timeout=START_LINE_WAIT_SECONDS)
    process.join()
    assert process.exitcode == 0
    assert inherited == 0, "the child's pool starts empty"
    assert child_pid is None or child_pid != parent_pid
    assert [job.status for job in store.for_tenant("child")] == [JobStatus.SUCCEEDED]
    assert store.finish(before.job_id, JobStatus.SUCCEEDED).status is JobStatus.SUCCEEDED
    assert _backend_pid(database) == parent_pid, "the parent goes on with its own connection"


def test_a_forked_child_and_its_parent_both_keep_working(db):
    assert_a_forked_child_and_its_parent_both_keep_working(db)


# --- reading many jobs with their results --------------------------------------------------------


def _history(store: JobStore, tenant: str, requests: int) -> list[str]:
    """``requests`` finished requests of ``tenant`` (dev and prod), each stack with a preview and an up."""
    job_ids = []
    for index in range(requests):
        for job in store.create(tenant, ["dev", "prod"], JobKind.PROVISION, TOKEN, {}):
            for step, operation in enumerate(("preview", "up")):
                finished = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=index, seconds=step)
                store.record_stack(job.job_id, StackResult(f"{tenant}-{job.environment}", operation, "succeeded", {"same": index}, "", finished))
            store.finish(job.job_id, JobStatus.SUCCEEDED)
            job_ids.append(job.job_id)
    return job_ids


def test_a_list_of_jobs_carries_each_jobs_own_results_as_reading_the_job_alone_does(store):
    _history(store, "acme", 3)
    _history(store, "globex", 2)
    store.create("acme", ["dev"], JobKind.PROVISION, TOKEN, {})  # queued: no results yet
    listed = store.for_tenant("acme")
    assert len(listed) == 7
    assert all(job.stacks == store.get(job.job_id).stacks for job in listed)
    assert all({s.stack for s in job.stacks} == ({f"acme-{job.environment}"} if job.status == JobStatus.SUCCEEDED else set()) for job in listed)
    # Oldest first within a job: the preview finished before the up.
    assert all([s.operation for s in job.stacks] == ["preview", "up"] for job in listed if job.status == JobStatus.SUCCEEDED)
    assert [job.stacks for job in store.active_for_tenant("acme")] == [()]
    assert [job.stacks for job in store.unfinished()] == [()]


def test_a_tenants_jobs_and_their_results_are_two_queries_however_many_jobs(store, db):
    statements: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    counts = []
    for tenant, requests in (("acme", 1), ("globex", 6)):
        _history(store, tenant, requests)
        statements.clear()
        assert len(store.for_tenant(tenant)) == 2 * requests
        counts.append(len(statements))
    assert counts == [2, 2]


def test_reads_of_a_database_without_its_schema_are_unavailable_not_a_crash(tmp_path):
    database = Database(sqlite_url(tmp_path / "empty.sqlite"))
    with pytest.raises(DatabaseUnavailable, match="no such table"):
        JobStore(database).for_tenant("acme")
