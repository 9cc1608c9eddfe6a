"""A bare `pulumi preview` in the project, through the CLI's own Python language host.

The Go module proxy does not serve the language host (README, "The real engine"), so where
`make engine` could not build it this test skips with the recorded error as its reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from platformctl.apply.target import find_engine, language_host_problem
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults

from .conftest import engine_missing

#: What a project copy needs: the program, its packages, the registry and the shared stack file.
PROJECT_PARTS = ("__main__.py", "defaults.yaml", "ubertruck", "components", "platformctl", "functions", "tenants", "policies", ".venv")
#: Copied, not linked: `pulumi stack init` writes the secrets salt into them.
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.dev.yaml")


def test_bare_pulumi_preview_of_a_tenant_stack_needs_no_stack_file(tmp_path: Path) -> None:
    defaults = load_defaults()
    missing = engine_missing() or language_host_problem(defaults)
    if missing:
        pytest.skip(missing)
    project = tmp_path / "project"
    project.mkdir()
    for part in PROJECT_PARTS:
        (project / part).symlink_to(PROJECT_ROOT / part)
    for name in PROJECT_FILES:
        shutil.copy(PROJECT_ROOT / name, project / name)
    home, backend = tmp_path / "home", tmp_path / "backend"
    backend.mkdir()
    pulumi = str(find_engine(defaults))
    env = {**os.environ, "PULUMI_HOME": str(home), "PULUMI_BACKEND_URL": f"file://{backend}",
           "PULUMI_CONFIG_PASSPHRASE": "test-only", "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PATH": os.pathsep.join([str(Path(pulumi).parent), os.environ["PATH"]])}
    for stack in ("dev", "initech-dev"):
        subprocess.run([pulumi, "stack", "init", stack], cwd=project, env=env, check=True, capture_output=True)
    result = subprocess.run([pulumi, "preview", "--stack", "initech-dev", "--non-interactive"], cwd=project, env=env,
                            capture_output=True, text=True)
    # The shared stack was never applied, so the preview may stop at its StackReference; what it
    # must not do is refuse the stack for missing configuration.
    assert "missing configuration" not in result.stdout + result.stderr
    assert shutil.which("pulumi-language-python", path=env["PATH"]) or (Path(pulumi).parent / "pulumi-language-python").exists()
