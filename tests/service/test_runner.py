"""The job runner: gate, preview, up (or the offboarding) through platformctl.apply, with every
outcome and engine line in the job store and the audit trail; cancellation; failures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from platformctl.apply.operations import Failure, OutputSink, StackOutcome
from platformctl.service.jobs import JobKind, JobStatus
from platformctl.service.runner import TransientJobFailure
from ubertruck.stacks import StackRef

from .app_support import Rig, running_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with running_rig(tmp_path) as rig:
        yield rig


def _job(rig: Rig, tenant: str = "globex", environment: str | None = "dev", kind: JobKind = JobKind.PROVISION) -> str:
    return rig.jobs.create(tenant, [environment], kind, "tok_test", {"display_name": "x"})[0].job_id


def _audit(rig: Rig, job_id: str) -> list[tuple[str, str]]:
    records = map(json.loads, rig.settings.audit_path.read_text().splitlines())
    return [(r["action"], r["outcome"]) for r in records if r.get("job_id") == job_id]


def test_a_provisioning_job_gates_previews_then_ups_its_stacks_with_the_shared_stack(rig: Rig) -> None:
    job_id = _job(rig)
    assert rig.runner.run(job_id) == JobStatus.SUCCEEDED
    # The environment's shared stack is gated with the tenant's (the API's gate only read its outputs).
    assert rig.gate.calls == [["dev", "globex-dev"]]
    job = rig.jobs.get(job_id)
    assert (job.status, job.attempts, job.error) == (JobStatus.SUCCEEDED, 1, None)
    # The stand-in's preview shows changes for both: both are upped, the shared stack first.
    assert [(s.stack, s.operation, s.status) for s in job.stacks] == [
        ("dev", "preview", "succeeded"), ("globex-dev", "preview", "succeeded"), ("dev", "up", "succeeded"), ("globex-dev", "up", "succeeded"),
    ]
    kinds = [kind for _, kind, _ in rig.jobs.events(job_id)]
    assert kinds[:3] == ["status", "gate", "operation"] and kinds[-1] == "status"
    assert kinds.count("stack") == 4
    # The engine's lines, batched per run: the previews' two lines each, then the ups'.
    assert [d["lines"] for _, k, d in rig.jobs.events(job_id) if k == "output"] == [
        [f"{stack} attempt {attempt} line {i}" for i in range(2)] for attempt in (1, 2) for stack in ("dev", "globex-dev")
    ]
    assert _audit(rig, job_id) == [
        ("job.started", "running"), ("job.stack.preview", "succeeded"), ("job.stack.preview", "succeeded"),
        ("job.stack.up", "succeeded"), ("job.stack.up", "succeeded"), ("job.finished", "succeeded"),
    ]
    # The rollout wrote its logs and report where the service keeps them, per job.
    assert list((rig.settings.path(rig.settings.section.runs_dir) / job_id).glob("up-*/report.json"))


def test_a_shared_stack_whose_preview_shows_no_change_is_not_upped(rig: Rig) -> None:
    scripted = rig.operations.run

    def shared_unchanged(operation: str, stack: StackRef, on_output: OutputSink) -> StackOutcome:
        outcome = scripted(operation, stack, on_output)
        return replace(outcome, changes={"same": 5}) if stack.tenant_id is None else outcome

    rig.operations.run = shared_unchanged  # type: ignore[method-assign]
    job_id = _job(rig)
    assert rig.runner.run(job_id) == JobStatus.SUCCEEDED
    assert [(s.stack, s.operation) for s in rig.jobs.get(job_id).stacks] == [("dev", "preview"), ("globex-dev", "preview"), ("globex-dev", "up")]


def test_a_gate_refusal_fails_the_job_before_the_engine(rig: Rig) -> None:
    rig.gate.refusals["globex"] = ["globex-dev: [mandatory] tenant-tag: untagged"]
    job_id = _job(rig)
    assert rig.runner.run(job_id, retries_left=3) == JobStatus.FAILED
    assert rig.operations.calls == []
    job = rig.jobs.get(job_id)
    assert job.error.startswith("gate refused: 1 mandatory violation(s)")
    assert ("violation", {"line": "globex-dev: [mandatory] tenant-tag: untagged"}) in [(k, d) for _, k, d in rig.jobs.events(job_id)]


def test_a_failed_preview_stops_before_up_and_is_not_retried_when_it_is_not_transient(rig: Rig) -> None:
    rig.operations.script = {"globex-dev": [Failure.POLICY]}
    job_id = _job(rig)
    assert rig.runner.run(job_id, retries_left=3) == JobStatus.FAILED
    assert [c.stack for c in rig.operations.calls] == ["dev", "globex-dev"]
    job = rig.jobs.get(job_id)
    assert job.error == "preview failed for globex-dev" and [s.status for s in job.stacks] == ["succeeded", "failed:policy"]


def test_a_transient_failure_asks_for_a_retry_while_retries_remain(rig: Rig) -> None:
    attempts = 3  # defaults.yaml rollout.retry.max_attempts: the rollout's own retries come first
    rig.operations.script = {"globex-dev": [Failure.TRANSIENT] * attempts}
    job_id = _job(rig)
    with pytest.raises(TransientJobFailure):
        rig.runner.run(job_id, retries_left=1)
    assert rig.jobs.get(job_id).status == JobStatus.RUNNING
    assert _audit(rig, job_id)[-1] == ("job.retry", "scheduled")
    # The next attempt of the task: the stand-in now succeeds (its script has run out).
    assert rig.runner.run(job_id, retries_left=0) == JobStatus.SUCCEEDED
    assert rig.jobs.get(job_id).attempts == 2


def test_a_transient_failure_with_no_retry_left_fails_the_job(rig: Rig) -> None:
    rig.operations.script = {"globex-dev": [Failure.TRANSIENT] * 3}
    job_id = _job(rig)
    assert rig.runner.run(job_id, retries_left=0) == JobStatus.FAILED
    assert {s.stack: s.status for s in rig.jobs.get(job_id).stacks}["globex-dev"] == "failed:transient"


def test_a_job_whose_tenant_file_is_gone_is_cancelled(rig: Rig) -> None:
    job_id = _job(rig)
    (rig.registry / "globex.yaml").unlink()
    assert rig.runner.run(job_id) == JobStatus.CANCELLED
    assert rig.jobs.get(job_id).status == JobStatus.CANCELLED and rig.operations.calls == []
    assert _audit(rig, job_id) == [("job.finished", "cancelled")]


def test_a_finished_job_is_not_run_again(rig: Rig) -> None:
    job_id = _job(rig)
    rig.runner.run(job_id)
    calls = len(rig.operations.calls)
    assert rig.runner.run(job_id) == JobStatus.SUCCEEDED
    assert len(rig.operations.calls) == calls


def test_an_offboarding_job_destroys_keeps_data_and_removes_the_file_last(rig: Rig) -> None:
    job_id = _job(rig, tenant="acme", environment=None, kind=JobKind.OFFBOARD)
    assert rig.runner.run(job_id) == JobStatus.SUCCEEDED
    assert [(c.stack) for c in rig.operations.calls] == ["acme-dev", "acme-dev", "acme-prod", "acme-prod"]
    assert not (rig.registry / "acme.yaml").exists()
    assert [(s.stack, s.operation) for s in rig.jobs.get(job_id).stacks] == [
        ("acme-dev", "up"), ("acme-dev", "destroy"), ("acme-prod", "up"), ("acme-prod", "destroy"),
    ]
    assert json.loads((rig.settings.state_dir / "retention" / "acme.json").read_text())["data_retention_days"] == 400


def test_a_failed_destroy_leaves_the_registry_file(rig: Rig) -> None:
    rig.operations.script = {"acme-prod": [None, Failure.PROGRAM]}
    job_id = _job(rig, tenant="acme", environment=None, kind=JobKind.OFFBOARD)
    assert rig.runner.run(job_id, retries_left=2) == JobStatus.FAILED
    assert (rig.registry / "acme.yaml").exists()
    assert rig.jobs.get(job_id).error == "offboarding stopped: destroy acme-prod failed; the registry file stays"


def test_an_offboarding_resumed_after_the_file_went_succeeds_without_the_engine(rig: Rig) -> None:
    job_id = _job(rig, tenant="acme", environment=None, kind=JobKind.OFFBOARD)
    rig.jobs.start(job_id)
    (rig.registry / "acme.yaml").unlink()  # the last step of the interrupted attempt
    assert rig.runner.run(job_id) == JobStatus.SUCCEEDED and rig.operations.calls == []


def test_engine_lines_reach_the_log_in_batches_of_the_configured_size(tmp_path: Path) -> None:
    with running_rig(tmp_path, events_output_batch_lines=2) as rig:
        rig.operations.lines = lambda stack, attempt: [f"line {i}" for i in range(5)]
        job_id = _job(rig)
        rig.runner.run(job_id)
        batches = [d["lines"] for _, k, d in rig.jobs.events(job_id) if k == "output"]
    # Four runs (the shared stack's and the tenant's preview and up), three batches each.
    assert batches[:3] == [["line 0", "line 1"], ["line 2", "line 3"], ["line 4"]] and len(batches) == 12
