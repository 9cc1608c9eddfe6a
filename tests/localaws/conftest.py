"""A stand-in provider process per test, started the way the engine starts a plugin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from platformctl import PROJECT_ROOT
from platformctl.localaws.store import CloudStore
from platformctl.defaults import load_defaults

from .client import ProviderClient

SECTION = load_defaults().localaws


def start_provider(store_root: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    inherited = {k: v for k, v in os.environ.items() if k not in (SECTION.behaviours_env_var, "PULUMI_HOME")}
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
    return process.wait(timeout=10)


@pytest.fixture
def store(tmp_path: Path) -> CloudStore:
    return CloudStore(tmp_path / "cloud")


@pytest.fixture
def provider(store: CloudStore) -> Iterator[ProviderClient]:
    process, port = start_provider(store.root)
    client = ProviderClient(port)
    try:
        yield client
    finally:
        client.close()
        stop_provider(process)
