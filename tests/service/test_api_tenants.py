"""/tenants through the ASGI client: register, change, read and offboard; 422 with field paths;
gate refusals as 409 (the real gate once); one job per tenant under concurrent requests."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from platformctl.service.jobs import JobKind, JobStatus
from platformctl.service.runner import gate_stacks
from ubertruck.registry.loader import load_tenant

from .app_support import START_LINE_WAIT_SECONDS, Rig, StandInGate, new_tenant, running_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with running_rig(tmp_path) as rig:
        yield rig


def _requests(rig: Rig) -> list[dict]:
    return [r for r in map(json.loads, rig.settings.audit_path.read_text().splitlines()) if r["action"] == "request"]


def test_post_writes_the_file_and_queues_one_job_per_environment(rig: Rig) -> None:
    response = rig.client.post("/tenants", json=new_tenant("zeta"), headers=rig.auth("provision"))
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["tenant"] == "zeta" and len(accepted["job_ids"]) == 2
    jobs = [rig.jobs.get(job_id) for job_id in accepted["job_ids"]]
    assert sorted((j.environment, j.kind, j.status) for j in jobs) == [("dev", JobKind.PROVISION, JobStatus.QUEUED), ("prod", JobKind.PROVISION, JobStatus.QUEUED)]
    assert rig.queue.queued_job_ids() == set(accepted["job_ids"])
    assert load_tenant(rig.registry / "zeta.yaml").display_name == new_tenant("zeta")["display_name"]
    assert rig.gate.calls == [["zeta-dev", "zeta-prod"]]
    record = _requests(rig)[-1]
    assert (record["method"], record["tenant"], record["status"], record["outcome"]) == ("POST", "zeta", 202, "accepted")
    assert record["token_id"] == jobs[0].token_id and "display_name" in record["changed"]


def test_the_jobs_run_and_the_tenant_shows_its_stacks_last_results(rig: Rig) -> None:
    job_ids = rig.client.post("/tenants", json=new_tenant("zeta"), headers=rig.auth("provision")).json()["job_ids"]
    assert sorted(rig.drain()) == sorted(job_ids)
    tenant = rig.client.get("/tenants/zeta", headers=rig.auth("read")).json()
    assert [(s["stack"], s["last_result"]["operation"], s["last_result"]["status"]) for s in tenant["stacks"]] == [
        ("zeta-dev", "up", "succeeded"), ("zeta-prod", "up", "succeeded"),
    ]
    assert {j["status"] for j in tenant["jobs"]} == {"succeeded"} and tenant["entry"]["id"] == "zeta"
    listed = rig.client.get("/tenants", headers=rig.auth("read")).json()["tenants"]
    assert [t["id"] for t in listed] == ["acme", "globex", "initech", "zeta"]
    job = rig.client.get(f"/jobs/{job_ids[0]}", headers=rig.auth("read")).json()
    # The environment's shared stack with the tenant's: its preview shows the change (the stand-in's), so it is upped first.
    assert job["status"] == "succeeded" and [(s["stack"], s["operation"], s["status"]) for s in job["stacks"]] == [
        ("dev", "preview", "succeeded"), ("zeta-dev", "preview", "succeeded"), ("dev", "up", "succeeded"), ("zeta-dev", "up", "succeeded"),
    ]
    assert [e["kind"] for e in job["log"]][:3] == ["status", "gate", "operation"] and job["log"][-1]["data"]["status"] == "succeeded"


def test_an_invalid_entry_is_422_with_field_paths_and_nothing_happens(rig: Rig) -> None:
    body = new_tenant("zeta")
    body["tier"] = "platinum"
    body["contacts"][0]["email"] = "nobody"
    body["colour"] = "blue"
    response = rig.client.post("/tenants", json=body, headers=rig.auth("provision"))
    assert response.status_code == 422
    fields = {e["field"]: e["problem"] for e in response.json()["errors"]}
    assert set(fields) == {"tier", "contacts.0.email", "colour"}
    assert "unknown tier 'platinum'" in fields["tier"]
    assert not (rig.registry / "zeta.yaml").exists() and rig.jobs.unfinished() == [] and rig.gate.calls == []


def test_a_body_that_is_not_an_object_is_422(rig: Rig) -> None:
    response = rig.client.post("/tenants", content=b"[1, 2", headers={**rig.auth("provision"), "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["errors"]


def test_a_gate_refusal_is_409_with_the_violations_and_nothing_is_written(rig: Rig) -> None:
    rig.gate.refusals["zeta"] = ["zeta-dev: [mandatory] tenant-tag: a resource has no tenant tag"]
    response = rig.client.post("/tenants", json=new_tenant("zeta"), headers=rig.auth("provision"))
    assert response.status_code == 409
    assert response.json()["violations"] == ["zeta-dev: [mandatory] tenant-tag: a resource has no tenant tag"] * 2
    assert not (rig.registry / "zeta.yaml").exists() and rig.jobs.for_tenant("zeta") == []
    assert not any(rig.settings.path(rig.settings.section.gate_dir).iterdir())


def test_the_real_gate_refuses_an_expired_exemption(tmp_path: Path) -> None:
    body = new_tenant("zeta", environments=("dev",))
    # JSON has no dates: the ISO string becomes the registry's date, and the exemption is expired.
    body["policy"] = {"exemptions": [{"policy": "tenant-tag", "reason": "migration of legacy tags, agreed with security", "expires": "2020-01-01"}]}
    with running_rig(tmp_path, gate=gate_stacks) as rig:
        response = rig.client.post("/tenants", json=body, headers=rig.auth("provision"))
        assert response.status_code == 409, response.text
        assert any("exemptions-current" in line for line in response.json()["violations"])
        assert not (rig.registry / "zeta.yaml").exists() and rig.jobs.for_tenant("zeta") == []
        body["policy"]["exemptions"][0]["expires"] = "2999-01-01"
        accepted = rig.client.post("/tenants", json=body, headers=rig.auth("provision"))
        assert accepted.status_code == 202, accepted.text
        assert yaml.safe_load((rig.registry / "zeta.yaml").read_text())["policy"]["exemptions"][0]["expires"].isoformat() == "2999-01-01"


def test_post_of_an_existing_tenant_is_409(rig: Rig) -> None:
    response = rig.client.post("/tenants", json=new_tenant("acme"), headers=rig.auth("provision"))
    assert response.status_code == 409 and "PATCH" in response.json()["detail"]
    assert rig.jobs.for_tenant("acme") == []


def test_concurrent_posts_for_one_tenant_give_exactly_one_job_request(tmp_path: Path) -> None:
    contenders = 6
    # Every request waits in the gate for the others, so all of them race for the tenant's lock.
    barrier = threading.Barrier(contenders, timeout=START_LINE_WAIT_SECONDS)

    class RacingGate(StandInGate):
        def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            barrier.wait()
            return super().__call__(*args, **kwargs)

    with running_rig(tmp_path, gate=RacingGate()) as rig:
        with ThreadPoolExecutor(contenders) as pool:
            responses = list(pool.map(lambda _: rig.client.post("/tenants", json=new_tenant("zeta"), headers=rig.auth("provision")), range(contenders)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [202] + [409] * (contenders - 1)
        winner = next(r.json() for r in responses if r.status_code == 202)
        assert [j.job_id for j in rig.jobs.for_tenant("zeta")] and {j.request_id for j in rig.jobs.for_tenant("zeta")} == {winner["request_id"]}
        busy = [r.json() for r in responses if r.status_code == 409]
        assert all(set(b["job_ids"]) == set(winner["job_ids"]) for b in busy)


def test_a_second_request_while_a_job_is_queued_is_409_then_accepted_once_it_ended(rig: Rig) -> None:
    first = rig.client.patch("/tenants/acme", json={"display_name": "Acme One"}, headers=rig.auth("provision"))
    second = rig.client.patch("/tenants/acme", json={"display_name": "Acme Two"}, headers=rig.auth("provision"))
    assert (first.status_code, second.status_code) == (202, 409)
    assert set(second.json()["job_ids"]) == set(first.json()["job_ids"])
    assert load_tenant(rig.registry / "acme.yaml").display_name == "Acme One"
    rig.drain()
    third = rig.client.patch("/tenants/acme", json={"display_name": "Acme Three"}, headers=rig.auth("provision"))
    assert third.status_code == 202 and load_tenant(rig.registry / "acme.yaml").display_name == "Acme Three"


def test_patch_merges_into_the_entry(rig: Rig) -> None:
    response = rig.client.patch("/tenants/acme", json={"display_name": "Acme Renamed", "rollout": {"canary": True}}, headers=rig.auth("provision"))
    assert response.status_code == 202
    tenant = load_tenant(rig.registry / "acme.yaml")
    assert (tenant.display_name, tenant.rollout.canary, tenant.compliance.data_retention_days) == ("Acme Renamed", True, 400)
    assert sorted(rig.jobs.get(j).environment for j in response.json()["job_ids"]) == ["dev", "prod"]


def test_patch_naming_another_tenant_is_refused(rig: Rig) -> None:
    before = (rig.registry / "acme.yaml").read_bytes()
    response = rig.client.patch("/tenants/acme", json={"id": "globex"}, headers=rig.auth("provision"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "id" and "globex" in response.json()["errors"][0]["problem"]
    assert (rig.registry / "acme.yaml").read_bytes() == before and rig.jobs.for_tenant("acme") == []


def test_patch_that_breaks_the_entry_is_422_with_its_path(rig: Rig) -> None:
    response = rig.client.patch("/tenants/acme", json={"compliance": {"data_retention_days": 1}}, headers=rig.auth("provision"))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["compliance.data_retention_days"]


@pytest.mark.parametrize(("method", "body"), [("PATCH", {"display_name": "x"}), ("DELETE", None), ("GET", None)])
def test_an_unknown_tenant_is_404(rig: Rig, method: str, body: dict | None) -> None:
    scope = {"PATCH": "provision", "DELETE": "offboard", "GET": "read"}[method]
    response = rig.client.request(method, "/tenants/nobody", json=body, headers=rig.auth(scope))
    assert response.status_code == 404 and response.json() == {"detail": "no tenant 'nobody'"}


def test_delete_offboards_with_retention_and_removes_the_file_last(rig: Rig) -> None:
    response = rig.client.delete("/tenants/initech", headers=rig.auth("offboard"))
    assert response.status_code == 202
    (job_id,) = response.json()["job_ids"]
    assert rig.jobs.get(job_id).kind == JobKind.OFFBOARD
    assert rig.drain() == [job_id]
    job = rig.client.get(f"/jobs/{job_id}", headers=rig.auth("read")).json()
    assert job["status"] == "succeeded"
    assert [(s["stack"], s["operation"]) for s in job["stacks"]] == [("initech-dev", "up"), ("initech-dev", "destroy")]
    assert not (rig.registry / "initech.yaml").exists()
    retention = json.loads((rig.settings.state_dir / "retention" / "initech.json").read_text())
    assert retention["tenant"] == "initech"
    offboarding = [json.loads(line)["action"] for line in (rig.settings.state_dir / "audit" / "offboarding.jsonl").read_text().splitlines()]
    assert offboarding[-1] == "offboard.registry"


def test_delete_cancels_a_queued_job_and_the_worker_skips_it(rig: Rig) -> None:
    queued = rig.client.patch("/tenants/acme", json={"display_name": "Acme Soon Gone"}, headers=rig.auth("provision")).json()["job_ids"]
    response = rig.client.delete("/tenants/acme", headers=rig.auth("offboard"))
    assert response.status_code == 202
    assert {rig.jobs.get(j).status for j in queued} == {JobStatus.CANCELLED}
    rig.drain()
    assert not rig.operations.calls or all(c.stack.startswith("acme") for c in rig.operations.calls)
    assert [(c.stack) for c in rig.operations.calls] == ["acme-dev", "acme-dev", "acme-prod", "acme-prod"]  # offboarding only: up, destroy per stack
    assert {rig.jobs.get(j).status for j in queued} == {JobStatus.CANCELLED}
    assert rig.jobs.get(response.json()["job_ids"][0]).status == JobStatus.SUCCEEDED


def test_delete_while_a_job_runs_is_409(rig: Rig) -> None:
    (job_id, *_) = rig.client.patch("/tenants/acme", json={"display_name": "Acme Busy"}, headers=rig.auth("provision")).json()["job_ids"]
    rig.jobs.start(job_id)
    response = rig.client.delete("/tenants/acme", headers=rig.auth("offboard"))
    assert response.status_code == 409 and job_id in response.json()["job_ids"]
    assert (rig.registry / "acme.yaml").exists()


def test_an_oversized_body_is_413_unread(rig: Rig) -> None:
    body = new_tenant("zeta")
    body["display_name"] = "x" * (rig.settings.section.max_body_bytes + 1)
    response = rig.client.post("/tenants", json=body, headers=rig.auth("provision"))
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert not (rig.registry / "zeta.yaml").exists() and rig.gate.calls == []
    assert _requests(rig)[-1]["status"] == 413


def test_an_oversized_chunked_body_is_413(rig: Rig) -> None:
    limit = rig.settings.section.max_body_bytes

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 1024 + 2):
            yield b" " * 1024

    response = rig.client.post("/tenants", content=chunks(), headers={**rig.auth("provision"), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert rig.gate.calls == []


def test_a_tenant_whose_file_does_not_load_is_409_not_a_server_error(rig: Rig) -> None:
    (rig.registry / "globex.yaml").write_text("id: globex\ntier: [not, a, tier]\n")
    response = rig.client.get("/tenants/globex", headers=rig.auth("read"))
    assert response.status_code == 409 and response.json()["detail"].startswith("the registry file of globex does not load")
    listed = rig.client.get("/tenants", headers=rig.auth("read")).json()["tenants"]
    assert [t["id"] for t in listed] == ["acme", "initech"]
