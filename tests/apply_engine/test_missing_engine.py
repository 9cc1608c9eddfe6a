"""With no engine installed, every engine command fails at once: one line, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults


@pytest.mark.parametrize(
    "command",
    [
        ["preview", "--all"],
        ["up", "--stack", "dev", "--local"],
        ["destroy", "--tenant", "acme"],
        ["refresh", "--env", "dev"],
        ["drift", "--all", "--local"],
        ["offboard", "initech", "--yes", "--local"],
    ],
)
def test_every_engine_command_says_to_run_make_engine_and_writes_nothing(command: list[str], tmp_path: Path) -> None:
    empty_tools = tmp_path / "tools"
    empty_tools.mkdir()
    state = tmp_path / "state"
    registry_before = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "tenants").iterdir()}
    # A PATH with the interpreter's folder only: no `pulumi` anywhere on it.
    env = {**os.environ, load_defaults().engine.tools_env_var: str(empty_tools), "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [sys.executable, "-m", "platformctl", *command, "--state-dir", str(state)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "make engine" in lines[0] and "Traceback" not in result.stderr
    assert not state.exists()
    assert {p.name: p.read_bytes() for p in (PROJECT_ROOT / "tenants").iterdir()} == registry_before
