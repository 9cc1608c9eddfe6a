"""``platformctl serve`` (the provisioning API, with uvicorn) and ``platformctl worker`` (Huey's
consumer, running the jobs). Both migrate the job store first, so either may start first.

``--local`` makes the worker apply with the local stand-in for AWS, exactly as ``platformctl up
--local`` does; the API never runs the engine (it gates offline and queues).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ubertruck.defaults import load_defaults

from .engine_ops import BACKEND, LOCAL, REGISTRY, SECRETS, STATE

err_console = Console(stderr=True, highlight=False, soft_wrap=True)

DATABASE = typer.Option(None, "--database", help="SQLAlchemy URL of the job store (default: the service section's variable, else a SQLite file in the state folder).")
REDIS = typer.Option(None, "--redis", help="Redis URL of a queue shared by several workers (default: the service section's variable, else a SQLite file).")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default: service.server_host, 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default: service.server_port, 8080)."),
    local: bool = LOCAL,
    registry: Path = REGISTRY,
    state: Optional[Path] = STATE,
    database: Optional[str] = DATABASE,
    redis: Optional[str] = REDIS,
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Server processes sharing the port (default: service.server_workers)."),
) -> None:
    """Run the provisioning API (tenants, jobs, events) until stopped.

    ``--local`` is accepted for symmetry with ``worker``: the API itself never runs the engine.
    With several server processes each builds its own app (``service/api/serving.py``).
    """
    import uvicorn

    from ..service.api.serving import APP_FACTORY, ServeArguments
    from ..service.database import Database

    del local  # see the docstring
    arguments = ServeArguments.of(registry, state, database, redis)
    settings = arguments.settings()
    store = Database.from_settings(settings)
    store.migrate()
    section = settings.section
    count = workers or section.server_workers
    _logging()
    # No access log: the audit trail records every request (with its token id and outcome).
    host, port = host or section.server_host, port or section.server_port
    if count == 1:
        uvicorn.run(arguments.app(settings, store), host=host, port=port, log_level="info", access_log=False)
        return
    store.dispose()
    arguments.to_environment()
    uvicorn.run(APP_FACTORY, factory=True, workers=count, host=host, port=port, log_level="info", access_log=False)


def worker(
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Jobs at once (default: service.workers)."),
    local: bool = LOCAL,
    backend: Optional[str] = BACKEND,
    secrets_provider: Optional[str] = SECRETS,
    registry: Path = REGISTRY,
    state: Optional[Path] = STATE,
    database: Optional[str] = DATABASE,
    redis: Optional[str] = REDIS,
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Re-queue unfinished jobs no queued task covers (off when joining workers that are running jobs now)."),
) -> None:
    """Run queued jobs until stopped (Ctrl-C waits for running jobs; SIGTERM stops at once and
    leaves them to be resumed)."""
    from ..apply.target import state_dir
    from ..service.audit import ServiceAudit
    from ..service.database import Database
    from ..service.jobs import JobStore
    from ..service.queue import JobQueue
    from ..service.runner import EngineBackend, JobRunner
    from ..service.settings import ServiceSettings

    defaults = load_defaults()
    settings = ServiceSettings.load(state_dir=state, database_url=database, defaults=defaults)
    # The engine first: with none installed, one line and nothing started (as `platformctl up`).
    engine = EngineBackend.resolve(
        defaults, local=local, state=state or state_dir(defaults), registry=registry, backend=backend, secrets_provider=secrets_provider,
    )
    store = Database.from_settings(settings)
    store.migrate()
    jobs = JobStore(store)
    runner = JobRunner(
        jobs=jobs, audit=ServiceAudit(settings.audit_path), engine=engine, defaults=defaults,
        registry=registry, runs_dir=settings.path(settings.section.runs_dir),
        registry_cache=settings.path(settings.section.registry_cache_dir),
    )
    queue = JobQueue(settings, redis_url=redis)
    queue.attach(runner.run)
    _logging()
    if resume:
        resumed = queue.resume(jobs)
        err_console.print(f"worker: resumed {len(resumed)} unfinished job(s)", markup=False)
    count = workers or settings.section.workers
    err_console.print(f"worker: {count} worker(s) on the {queue.backend} queue ({queue.where}){' with --local' if local else ''}", markup=False)
    queue.consumer(count).run()


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``worker`` to ``app``."""
    app.command("serve")(serve)
    app.command("worker")(worker)
