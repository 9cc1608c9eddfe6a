"""End to end: ``platformctl serve`` and ``platformctl worker --local`` as processes, the real
engine (``make engine``) with the local stand-in for AWS. A new tenant is POSTed, its job applies
its dev stack, then DELETE offboards it. One tenant, one environment; in the engine tests' xdist
group so that it never runs beside them."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from platformctl.localaws.store import CloudStore
from platformctl.service.database import Database
from platformctl.service.settings import ServiceSettings
from platformctl.service.tokens import Scope, TokenStore
from tests.apply_engine.conftest import engine_missing
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults

from .app_support import POLL_SECONDS, free_port, new_tenant

pytestmark = pytest.mark.xdist_group("local-engine")

#: Seconds a job of the real engine may take before the test gives up (the shared stack's first
#: up takes the longest); nothing is measured against it.
JOB_WAIT_SECONDS = 600.0
TENANT = "e2e-freight"


def _platformctl(*args: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "platformctl", *args], cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


class Service:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.registry = root / "tenants"
        self.state = root / "state"
        self.port = free_port()
        # The API gates a POST offline before it answers: seconds, not milliseconds.
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=JOB_WAIT_SECONDS)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.tokens: dict[str, str] = {}

    def start(self) -> None:
        common = ["--state-dir", str(self.state), "--registry", str(self.registry)]
        self.processes.append(_platformctl("serve", "--port", str(self.port), *common, log=self.root / "serve.log"))
        self.processes.append(_platformctl("worker", "--local", *common, log=self.root / "worker.log"))
        deadline = time.monotonic() + JOB_WAIT_SECONDS
        while True:
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and all(p.poll() is None for p in self.processes), self.logs()
            time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(JOB_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
        self.client.close()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(self.root.glob("*.log")))

    def auth(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def wait(self, job_id: str) -> dict:
        deadline = time.monotonic() + JOB_WAIT_SECONDS
        while True:
            job = self.client.get(f"/jobs/{job_id}", headers=self.auth("read")).json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return job
            assert time.monotonic() < deadline, self.logs()
            time.sleep(POLL_SECONDS * 10)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    reason = engine_missing()
    if reason:
        pytest.skip(reason)
    service = Service(tmp_path_factory.mktemp("service-e2e"))
    shutil.copytree(PROJECT_ROOT / "tenants", service.registry)
    # The tenant stacks read their environment's shared stack: it is there before the service is.
    shared = subprocess.run(
        [sys.executable, "-m", "platformctl", "up", "--stack", "dev", "--local", "--state-dir", str(service.state), "--registry", str(service.registry)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert shared.returncode == 0, shared.stdout[-3000:] + shared.stderr[-3000:]
    database = Database.from_settings(ServiceSettings.load(state_dir=service.state))
    database.migrate()
    store = TokenStore(database)
    service.tokens = {scope.value: store.create([scope], expires_days=None, label="e2e")[1] for scope in Scope}
    database.dispose()
    service.start()
    try:
        yield service
    finally:
        service.stop()


def _cloud(service: Service) -> CloudStore:
    return CloudStore(service.state / "local" / "home" / load_defaults().localaws.store_default_subdir)


def test_a_posted_tenant_is_applied_by_the_worker_through_the_real_engine(service: Service) -> None:
    response = service.client.post("/tenants", json=new_tenant(TENANT, environments=("dev",)), headers=service.auth("provision"))
    assert response.status_code == 202, response.text
    (job_id,) = response.json()["job_ids"]
    job = service.wait(job_id)
    assert job["status"] == "succeeded", json.dumps(job)[-3000:] + service.logs()
    # The shared stack was up before the tenant was posted: the new tenant's stack in its pipeline is a change, so it is upped first.
    assert [(s["stack"], s["operation"], s["status"]) for s in job["stacks"]] == [
        ("dev", "preview", "succeeded"), (f"{TENANT}-dev", "preview", "succeeded"), ("dev", "up", "succeeded"), (f"{TENANT}-dev", "up", "succeeded"),
    ]
    assert job["stacks"][3]["changes"].get("create", 0) > 0
    assert any(entry["kind"] == "output" for entry in job["log"])
    assert _cloud(service).find(urn_contains=f"urn:pulumi:{TENANT}-dev::")
    tenant = service.client.get(f"/tenants/{TENANT}", headers=service.auth("read")).json()
    assert tenant["stacks"][0]["last_result"]["operation"] == "up"


def test_delete_offboards_it(service: Service) -> None:
    response = service.client.delete(f"/tenants/{TENANT}", headers=service.auth("offboard"))
    assert response.status_code == 202, response.text
    job = service.wait(response.json()["job_ids"][0])
    assert job["status"] == "succeeded", json.dumps(job)[-3000:] + service.logs()
    assert [(s["operation"], s["status"]) for s in job["stacks"]] == [("up", "succeeded"), ("destroy", "succeeded")]
    assert not (service.registry / f"{TENANT}.yaml").exists()
    assert json.loads((service.state / "retention" / f"{TENANT}.json").read_text())["tenant"] == TENANT
    assert service.client.get(f"/tenants/{TENANT}", headers=service.auth("read")).status_code == 404
