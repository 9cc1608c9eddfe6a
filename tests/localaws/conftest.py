"""A stand-in provider process per test, started the way the engine starts a plugin."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from platformctl.localaws.server import REGION_ENV_VARS
from platformctl.localaws.store import CloudStore
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults

from .client import ProviderClient

SECTION = load_defaults().localaws
#: How long a plugin process may take to start or stop before a test gives up on it: the bound
#: the offline engine allows its own plugin processes (policy packs).
PROCESS_DEADLINE = load_defaults().offline.policy_pack_startup_seconds


def start_provider(store_root: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    # Nothing of the caller's own AWS or Pulumi setup may leak into the provider under test.
    inherited = {k: v for k, v in os.environ.items() if k not in (SECTION.behaviours_env_var, "PULUMI_HOME", *REGION_ENV_VARS)}
    env = {**inherited, SECTION.store_env_var: str(store_root), **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "platformctl.localaws", "127.0.0.1:0"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        raise AssertionError(f"provider printed {line!r} instead of its port; stderr: {process.communicate()[1]}")
    return process, int(line)


def stop_provider(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(PROCESS_DEADLINE)


@pytest.fixture(scope="module")
def provider_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ProviderClient]]:
    """One provider process per test module: starting one costs about a second on a busy machine."""
    root = tmp_path_factory.mktemp("cloud")
    process, port = start_provider(root)
    client = ProviderClient(port)
    try:
        yield root, client
    finally:
        client.close()
        stop_provider(process)


@pytest.fixture
def store(provider_process: tuple[Path, ProviderClient]) -> CloudStore:
    """The module's cloud, emptied for this test (the provider keeps nothing of it in memory)."""
    root = provider_process[0]
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    return CloudStore(root)


@pytest.fixture
def provider(provider_process: tuple[Path, ProviderClient], store: CloudStore) -> ProviderClient:
    return provider_process[1]
