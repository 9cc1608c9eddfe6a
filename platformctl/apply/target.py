"""Where and how the real engine applies stacks: the CLI binary, the backend, secrets and home.

Resolved once per command, before anything is written, so that a missing engine or a missing
passphrase fails at once with one line:

* the ``pulumi`` binary: ``make engine`` puts it in ``engine.tools_dir``; otherwise ``PATH``;
* the backend: ``--backend URL``, else Pulumi's own ``PULUMI_BACKEND_URL``, else a ``file://``
  backend in the git-ignored state folder; ``--local`` always uses its own file backend;
* secrets: a passphrase (``PULUMI_CONFIG_PASSPHRASE`` or ``…_FILE``) or a KMS URL given by
  ``--secrets-provider``; ``--local`` generates a passphrase of its own on first use;
* ``PULUMI_HOME``: the user's own, except under ``--local``, which isolates it in the state folder
  (that is where the local stand-in for AWS is installed, never in the user's home).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ubertruck import PROJECT_ROOT
from ubertruck.atomic import write_text_atomic
from ubertruck.defaults import PlatformDefaults
from ubertruck.errors import UserError

#: Pulumi's variable naming a file that holds the passphrase (the passphrase variable plus ``_FILE``).
PASSPHRASE_FILE_VAR = "PULUMI_CONFIG_PASSPHRASE_FILE"

#: What to run when no engine is installed; printed in the one-line error.
INSTALL_HINT = "run `make engine` (builds the Pulumi CLI into .tools/bin) or put `pulumi` on PATH"


def tools_dir(defaults: PlatformDefaults) -> Path:
    """Where ``make engine`` puts the engine, unless the tools variable names another folder."""
    override = os.environ.get(defaults.engine.tools_env_var)
    return Path(override) if override else PROJECT_ROOT / defaults.engine.tools_dir


def state_dir(defaults: PlatformDefaults) -> Path:
    return PROJECT_ROOT / defaults.engine.state_dir


def find_engine(defaults: PlatformDefaults) -> Path:
    """The ``pulumi`` binary: the one ``make engine`` built, else the first on ``PATH``."""
    built = tools_dir(defaults) / "pulumi"
    if built.is_file() and os.access(built, os.X_OK):
        return built
    found = shutil.which("pulumi")
    if found:
        return Path(found)
    raise UserError("engine", f"the Pulumi engine is not installed: {INSTALL_HINT}")


def language_host_problem(defaults: PlatformDefaults) -> str | None:
    """Why ``make engine`` could not build the Python language host, or None when it is there."""
    record = tools_dir(defaults).parent / "language-host.unavailable"
    if (tools_dir(defaults) / "pulumi-language-python").is_file() or shutil.which("pulumi-language-python"):
        return None
    if record.is_file():
        return record.read_text(encoding="utf-8").strip()
    return "pulumi-language-python is neither built (make engine) nor on PATH"


@dataclass(frozen=True)
class EngineTarget:
    """Everything an engine operation needs besides the stack: serialisable for the stack process."""

    pulumi: str
    backend_url: str
    secrets_provider: str
    local: bool
    #: Per-backend folder holding the engine's own stack files (secrets salt, shared config copy).
    workspace_dir: str
    #: The isolated PULUMI_HOME of --local; empty for the user's own.
    pulumi_home: str = ""
    env: dict[str, str] = field(default_factory=dict)
    #: Stack config every stack of this run gets on top of its own (e.g. another registry folder).
    config: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "EngineTarget":
        return cls(**data)  # type: ignore[arg-type]


def materialise(target: EngineTarget) -> None:
    """Create what the target needs on disk: a file backend's folder, the --local passphrase.

    Kept apart from :func:`resolve_target` so that resolving (and ``--dry-run``) writes nothing.
    """
    if target.backend_url.startswith("file://"):
        Path(target.backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    passphrase = target.env.get(PASSPHRASE_FILE_VAR)
    if target.local and passphrase and not Path(passphrase).is_file():
        # A passphrase of its own for the --local backend, made on first use and kept (0600) beside it.
        write_text_atomic(Path(passphrase), secrets.token_urlsafe(32) + "\n")
        Path(passphrase).chmod(0o600)


def resolve_target(
    defaults: PlatformDefaults,
    *,
    local: bool = False,
    backend: str | None = None,
    secrets_provider: str | None = None,
    state: Path | None = None,
    registry_dir: Path | None = None,
) -> EngineTarget:
    """Resolve the engine, backend, secrets and home; fails before writing anything."""
    pulumi = find_engine(defaults)
    settings = defaults.engine
    if local and backend:
        raise UserError("--backend", "--local keeps its own file backend in the state folder; drop one of the two")
    state = state or state_dir(defaults)
    provider = secrets_provider or settings.default_secrets_provider
    env = {
        # Pulumi's own switches: no update nag, and a stack whose local stack file is gone
        # recovers its secrets manager from the state instead of failing to decrypt.
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
    }
    home = ""
    if local:
        local_dir = state / "local"
        url = f"file://{local_dir / 'backend'}"
        home = str(local_dir / "home")
        if settings.local_skip_checkpoints:
            env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    else:
        url = backend or os.environ.get(settings.backend_env_var) or f"file://{state / 'backend'}"
    passphrase_file = PASSPHRASE_FILE_VAR
    if provider == "passphrase":
        if os.environ.get(settings.passphrase_env_var) is not None:
            env[settings.passphrase_env_var] = os.environ[settings.passphrase_env_var]
        elif os.environ.get(passphrase_file):
            env[passphrase_file] = os.environ[passphrase_file]
        elif local:
            env[passphrase_file] = str(state / "local" / "passphrase")
        else:
            raise UserError(
                "secrets",
                f"the passphrase secrets provider needs {settings.passphrase_env_var} or {passphrase_file}; "
                "or pass --secrets-provider awskms://… (or use --local)",
            )
    env[settings.backend_env_var] = url
    if home:
        env["PULUMI_HOME"] = home
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    config = {}
    if registry_dir is not None:
        config[f"{defaults.platform.project}:registryDir"] = str(registry_dir.resolve())
    return EngineTarget(
        pulumi=str(pulumi),
        backend_url=url,
        secrets_provider=provider,
        local=local,
        workspace_dir=str(state / "workspaces" / digest),
        pulumi_home=home,
        env=env,
        config=config,
    )
