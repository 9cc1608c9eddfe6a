"""The provisioning service's settings: the ``service:`` section of ``defaults.yaml``, resolved.

Paths in the section are relative to the state folder (``engine.state_dir``, ``.state``) unless
absolute; the database is that SQLite file unless a URL is given (an option, else the
environment variable the section names).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ubertruck import PROJECT_ROOT
from ubertruck.defaults import PlatformDefaults, ServiceSection, load_defaults


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file at ``path``."""
    return f"sqlite:///{path.resolve()}"


@dataclass(frozen=True)
class ServiceSettings:
    """What the API, the workers and the admin commands share; build it with :meth:`load`."""

    section: ServiceSection
    #: The state folder every relative path of the section is under.
    state_dir: Path
    #: SQLAlchemy URL of the job records and tokens.
    database_url: str

    @classmethod
    def load(
        cls,
        *,
        state_dir: Path | None = None,
        database_url: str | None = None,
        defaults: PlatformDefaults | None = None,
    ) -> ServiceSettings:
        """Settings from ``defaults.yaml``; ``state_dir`` and ``database_url`` override it."""
        defaults = defaults or load_defaults()
        section = defaults.service
        state = state_dir or PROJECT_ROOT / defaults.engine.state_dir
        url = database_url or os.environ.get(section.database_url_env_var) or sqlite_url(_under(state, section.database_file))
        return cls(section=section, state_dir=state, database_url=url)

    def path(self, configured: str) -> Path:
        """A path of the section: under the state folder unless absolute."""
        return _under(self.state_dir, configured)

    @property
    def audit_path(self) -> Path:
        return self.path(self.section.audit_file)

    @property
    def queue_path(self) -> Path:
        """The SQLite file of Huey's queue (used unless a Redis URL is configured)."""
        return self.path(self.section.queue_file)

    def redis_url(self, given: str | None = None) -> str | None:
        """The Redis URL of a shared queue: ``given`` (``--redis``), else the section's variable."""
        return given or os.environ.get(self.section.redis_url_env_var) or None


def _under(state: Path, configured: str) -> Path:
    path = Path(configured)
    return path if path.is_absolute() else state / path
