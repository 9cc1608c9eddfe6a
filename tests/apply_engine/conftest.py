"""Engine-backed tests: the real Pulumi CLI (``make engine``) with the local stand-in for AWS.

They skip, with the reason, only when no engine is installed. Everything they write lives in a
temporary state folder and a temporary copy of the registry: never the project's ``tenants/``,
``.state/`` or the user's ``~/.pulumi``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from platformctl.apply.target import find_engine
from platformctl.localaws.store import CloudStore
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError


def engine_missing() -> str | None:
    try:
        find_engine(load_defaults())
    except UserError as exc:
        return str(exc)
    return None


@dataclass
class LocalPlatform:
    """A registry copy and a state folder that ``platformctl … --local`` commands share."""

    registry: Path
    state: Path

    def run(self, *args: str, registry: bool = True) -> subprocess.CompletedProcess[str]:
        extra = ["--local", "--state-dir", str(self.state)] + (["--registry", str(self.registry)] if registry else [])
        return subprocess.run(
            [sys.executable, "-m", "platformctl", *args, *extra], cwd=PROJECT_ROOT, capture_output=True, text=True,
            stdin=subprocess.DEVNULL,
        )

    def last_report(self, operation: str) -> dict:
        reports = sorted((self.state / "runs").glob(f"{operation}-*/report.json"))
        assert reports, f"no {operation} report under {self.state}"
        return json.loads(reports[-1].read_text())

    @property
    def cloud(self) -> CloudStore:
        return CloudStore(self.state / "local" / "home" / load_defaults().localaws.store_default_subdir)


def stacks_of(report: dict) -> dict[str, dict]:
    return {stack["stack"]: stack for wave in report["waves"] for stack in wave["stacks"]}


# Session scope: xdist may run other modules' tests between this group's, and a module fixture
# would then be torn down and the whole platform applied again.
@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> LocalPlatform:
    reason = engine_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("local-platform")
    registry = root / "tenants"
    shutil.copytree(PROJECT_ROOT / "tenants", registry)
    return LocalPlatform(registry=registry, state=root / "state")
