"""A provisioning service on a temporary state folder, for the API, queue and runner tests.

Everything is the production code (the app, the job store, the audit trail, Huey's SQLite queue,
the runner) except the two things that would need the real engine or take seconds per call:

* the stack operations: :class:`tests.apply.support.ScriptedStackOperations`, at the same
  boundary the apply tests use (offboarding runs the real ``offboard_tenant`` with them);
* the gate, in tests that are not about it: :class:`StandInGate` returns the refusals a test
  sets. Tests of the gate itself use the real one (``runner.gate_stacks``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping
from unittest import mock

from fastapi import FastAPI
from fastapi.testclient import TestClient

from platformctl.apply import offboard as offboard_module
from platformctl.apply.offboard import OffboardResult, offboard_tenant
from platformctl.apply.target import EngineTarget
from platformctl.service.api import create_app
from platformctl.service.audit import ServiceAudit
from platformctl.service.database import Database
from platformctl.service.jobs import JobStore
from platformctl.service.queue import JobQueue
from platformctl.service.runner import Gate, JobRunner
from platformctl.service.settings import ServiceSettings
from platformctl.service.tokens import Scope, TokenStore
from tests.apply.support import RecordingSleep, ScriptedStackOperations
from tests.registry.support import valid_document
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import PlatformDefaults, load_defaults
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef

#: Seconds a test waits for threads or processes it started to reach a point (a stuck run fails
#: the test instead of hanging it; nothing is measured against it).
START_LINE_WAIT_SECONDS = 120.0
#: Seconds between two looks at something a test waits for (a job's status, a server's answer).
POLL_SECONDS = 0.05

#: The target offboarding hands to its stack operations; the stand-in never reads it.
STAND_IN_TARGET = EngineTarget(pulumi="", backend_url="", secrets_provider="passphrase", local=True, workspace_dir="")


@dataclass
class StandInGate:
    """The gate's signature; refuses the tenants in ``refusals`` with their lines, records each call."""

    refusals: dict[str, list[str]] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, stacks: list[StackRef], tenants: Mapping[str, Tenant], defaults: PlatformDefaults, registry: Path) -> list[str]:
        self.calls.append([s.name for s in stacks])
        return [line for s in stacks if s.tenant_id for line in self.refusals.get(s.tenant_id, [])]


@dataclass
class StandInEngine:
    """The runner's engine with scripted stack operations (the real offboarding code around them)."""

    operations_: ScriptedStackOperations
    state: Path
    defaults: PlatformDefaults

    def operations(self, stacks: list[StackRef], tenants: Mapping[str, Tenant], registry: Path) -> ScriptedStackOperations:
        return self.operations_

    def offboard(self, tenant: Tenant, tenants: Mapping[str, Tenant], registry: Path, say: Callable[[str], None],
                 on_output: Callable[[str, str], None]) -> OffboardResult:
        with mock.patch.object(offboard_module, "AutomationStackOperations", lambda *args, **kwargs: self.operations_):
            return offboard_tenant(tenant, STAND_IN_TARGET, self.defaults, registry, self.state, {}, say, on_output)


@dataclass
class Rig:
    """One service: settings, registry copy, stores, queue, app, client, a token per scope, runner."""

    root: Path
    settings: ServiceSettings
    registry: Path
    database: Database
    queue: JobQueue
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    gate: StandInGate
    operations: ScriptedStackOperations
    runner: JobRunner

    @property
    def jobs(self) -> JobStore:
        return JobStore(self.database)

    @property
    def audit(self) -> ServiceAudit:
        return ServiceAudit(self.settings.audit_path)

    def auth(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def drain(self) -> list[str]:
        """Run every task the queue holds now, as a worker would, oldest first; the job ids run.
        A task Huey schedules for a retry is not run here (it waits for its back-off)."""
        ran: list[str] = []
        while True:
            task = self.queue.huey.dequeue()
            if task is None:
                return ran
            ran.append(str(task.args[0]))
            self.queue.huey.execute(task)


def settings_for(root: Path, defaults: PlatformDefaults | None = None, **section: Any) -> ServiceSettings:
    """Settings whose every path is under ``root`` (and the ``service`` section's fields overridden)."""
    defaults = defaults or load_defaults()
    if section:
        defaults = defaults.model_copy(update={"service": defaults.service.model_copy(update=section)})
    return ServiceSettings.load(state_dir=root / "state", defaults=defaults)


def copy_registry(root: Path) -> Path:
    registry = root / "tenants"
    shutil.copytree(PROJECT_ROOT / "tenants", registry)
    return registry


def build_rig(root: Path, *, gate: Gate | None = None, redis_url: str | None = None, registry: Path | None = None,
              database: Database | None = None, tokens: dict[str, str] | None = None, **section: Any) -> Rig:
    """A service under ``root``; a second call on the same root is the same service restarted."""
    defaults = load_defaults()
    settings = settings_for(root, defaults, **section)
    defaults = defaults.model_copy(update={"service": settings.section})
    registry = registry or (root / "tenants" if (root / "tenants").is_dir() else copy_registry(root))
    database = database or Database.from_settings(settings)
    database.migrate()
    if tokens is None:
        store = TokenStore(database)
        tokens = {scope.value: store.create([scope], expires_days=None, label=f"test {scope.value}")[1] for scope in Scope}
    stand_in_gate = gate if isinstance(gate, StandInGate) else StandInGate()
    queue = JobQueue(settings, redis_url=redis_url)
    app = create_app(settings, registry=registry, queue=queue, database=database, gate=gate or stand_in_gate, defaults=defaults)
    operations = ScriptedStackOperations()
    runner = JobRunner(
        jobs=JobStore(database), audit=ServiceAudit(settings.audit_path),
        engine=StandInEngine(operations, settings.state_dir, defaults), defaults=defaults, registry=registry,
        runs_dir=settings.path(settings.section.runs_dir), gate=gate or stand_in_gate, sleep=RecordingSleep(),
        registry_cache=settings.path(settings.section.registry_cache_dir),
    )
    queue.attach(runner.run)
    return Rig(root, settings, registry, database, queue, app, TestClient(app), tokens, stand_in_gate, operations, runner)


@contextmanager
def running_rig(root: Path, **options: Any) -> Iterator[Rig]:
    rig = build_rig(root, **options)
    try:
        with rig.client:
            yield rig
    finally:
        rig.database.dispose()


def new_tenant(tenant_id: str = "north-star", environments: tuple[str, ...] = ("dev", "prod")) -> dict[str, Any]:
    """A valid registry entry as a POST body."""
    document = valid_document(tenant_id)
    document["environments"] = list(environments)
    document["secrets"] = {"payment_provider_api_key": {"secret_name": f"{tenant_id}/payment/provider-api-key"}}
    return document


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Debian's redis-server on a free loopback port, its files in ``folder``; yields its URL."""
    import redis

    server = shutil.which("redis-server")
    if server is None:
        raise FileNotFoundError("redis-server is not installed (.ci/run installs it: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "", "--appendonly", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + START_LINE_WAIT_SECONDS
    try:
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(POLL_SECONDS)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait()
