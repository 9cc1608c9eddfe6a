"""How ``platformctl serve`` builds the API in each server process.

With one server process the command builds the app itself. With several (uvicorn's workers,
sharing the listening socket) each worker is a fresh interpreter (spawned, not forked) that
builds its own app, with its own database pool, from a factory: it gets the command's arguments
through :data:`ARGUMENTS_VARIABLE` in the environment the command sets before starting them.
The command migrates the job store once, before any worker starts; the workers do not.

Nothing is shared between the processes but the database and the audit file: every request's
token is read from the database by the process that serves it (a token revoked through any
process is refused by all on their next request), and each process appends its own whole,
fsynced lines to the audit trail (``O_APPEND``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi import FastAPI

from ..database import Database
from ..queue import JobQueue
from ..settings import ServiceSettings
from .app import create_app

#: The environment variable through which ``serve`` hands its arguments to its worker processes.
ARGUMENTS_VARIABLE = "PLATFORMCTL_SERVE_ARGUMENTS"


@dataclass(frozen=True)
class ServeArguments:
    """What ``serve`` was asked to serve: paths absolute, so that a worker reads the same ones."""

    registry: str
    state: str | None
    database: str | None
    redis: str | None

    @classmethod
    def of(cls, registry: Path, state: Path | None, database: str | None, redis: str | None) -> ServeArguments:
        return cls(registry=str(registry.resolve()), state=str(state.resolve()) if state is not None else None, database=database, redis=redis)

    def settings(self) -> ServiceSettings:
        return ServiceSettings.load(state_dir=Path(self.state) if self.state is not None else None, database_url=self.database)

    def app(self, settings: ServiceSettings, database: Database) -> FastAPI:
        return create_app(settings, registry=Path(self.registry), queue=JobQueue(settings, redis_url=self.redis), database=database)

    def to_environment(self) -> None:
        os.environ[ARGUMENTS_VARIABLE] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ServeArguments:
        raw = os.environ.get(ARGUMENTS_VARIABLE)
        if raw is None:
            raise RuntimeError(f"{ARGUMENTS_VARIABLE} is not set: this factory runs in the worker processes `platformctl serve --workers N` starts")
        return cls(**json.loads(raw))


def app_from_environment() -> FastAPI:
    """uvicorn's app factory in each worker process of ``serve --workers N``."""
    arguments = ServeArguments.from_environment()
    settings = arguments.settings()
    return arguments.app(settings, Database.from_settings(settings))


#: The factory as uvicorn imports it in a worker process.
APP_FACTORY = f"{__name__}:{app_from_environment.__name__}"
