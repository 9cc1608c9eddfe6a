"""Which SDK path a real pack process takes: stock when started the way the real engine starts
it (policies/<pack>/analyzer, no offline variable), the fast paths when the offline engine
starts it at the verified SDK versions. The pack says which through its debug hook
(``offline.pack_sdk_path_report_env_var``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from platformctl.policy.runner import DEFAULT_PACKS, ENGINE_ADDRESS, PackProcess, startup_seconds
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults

OFFLINE = load_defaults().offline
STOCK = "sdk path: stock"
FAST = "sdk path: fast paths"


def _report_of_engine_started_pack(pack: str, env: dict[str, str]) -> tuple[str, str]:
    """Start ``policies/<pack>/analyzer <engine>`` as ``pulumi preview --policy-pack`` does; the
    port it prints and its stderr once it serves."""
    process = subprocess.Popen(
        [str(PROJECT_ROOT / "policies" / pack / "analyzer"), ENGINE_ADDRESS],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        port = process.stdout.readline().strip()  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=OFFLINE.policy_pack_shutdown_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    return port, stderr


def test_a_pack_started_the_way_the_real_engine_starts_it_runs_the_stock_sdk() -> None:
    env = {k: v for k, v in os.environ.items() if k != OFFLINE.pack_fast_paths_env_var}
    env[OFFLINE.pack_sdk_path_report_env_var] = "1"
    port, stderr = _report_of_engine_started_pack("security", env)
    assert port.isdigit(), stderr
    assert f"{STOCK} ({OFFLINE.pack_fast_paths_env_var} is not set" in stderr
    assert FAST not in stderr


def test_a_pack_the_offline_engine_starts_takes_the_fast_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OFFLINE.pack_sdk_path_report_env_var, "1")
    pack = PackProcess(DEFAULT_PACKS[1])
    try:
        assert f"{FAST} (offline engine, SDK versions verified)" in pack.stderr_tail()
    finally:
        pack.close()


def test_the_offline_engine_can_start_a_pack_exactly_as_the_real_engine_would(monkeypatch: pytest.MonkeyPatch) -> None:
    # Even with the variable inherited from the caller's environment.
    monkeypatch.setenv(OFFLINE.pack_fast_paths_env_var, "1")
    monkeypatch.setenv(OFFLINE.pack_sdk_path_report_env_var, "1")
    pack = PackProcess(DEFAULT_PACKS[1], fast_paths=False)
    try:
        assert STOCK in pack.stderr_tail()
    finally:
        pack.close()


def test_the_packs_import_the_rules_as_an_installed_package(tmp_path: Path) -> None:
    for pack in DEFAULT_PACKS:
        assert "sys.path" not in (pack / "__main__.py").read_text()
    # From elsewhere, with no search path pointing at the project: the editable install finds it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = subprocess.run(
        [sys.executable, "-c", "import policies.rules.sdk as m; print(m.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=startup_seconds(),
    )
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()) == PROJECT_ROOT / "policies" / "rules" / "sdk.py"
