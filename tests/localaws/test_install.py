"""Installing the stand-in as the aws plugin of an isolated PULUMI_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from platformctl.localaws.install import LAUNCHER, STAMP, install_plugin, launcher_script
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults

from .conftest import PROCESS_DEADLINE

PULUMI = PROJECT_ROOT / ".tools" / "bin" / "pulumi"
needs_pulumi = pytest.mark.skipif(not PULUMI.is_file(), reason="the pulumi CLI is not built (make engine)")


def test_the_launcher_runs_the_stand_in_from_this_project(tmp_path):
    script = tmp_path / LAUNCHER
    script.write_text(launcher_script(Path(sys.executable)))
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env[load_defaults().localaws.store_env_var] = str(tmp_path / "cloud")
    # Started from elsewhere, as the engine does: the project must still be importable.
    process = subprocess.Popen([str(script), "127.0.0.1:0"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip().isdigit()
    finally:
        process.terminate()
        assert process.wait(PROCESS_DEADLINE) == 0


@needs_pulumi
def test_install_puts_the_plugin_where_the_engine_looks_and_only_there(tmp_path):
    home = tmp_path / "pulumi-home"
    version = load_defaults().offline.aws_provider_version
    plugin = install_plugin(PULUMI, home, Path(sys.executable))
    assert plugin == home / "plugins" / f"resource-aws-v{version}"
    assert os.access(plugin / LAUNCHER, os.X_OK)
    listed = subprocess.run([str(PULUMI), "plugin", "ls"], env={**os.environ, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true"}, capture_output=True, text=True, check=True)
    assert "aws" in listed.stdout and version in listed.stdout


@needs_pulumi
def test_installing_the_same_plugin_again_does_not_run_pulumi(tmp_path):
    home = tmp_path / "pulumi-home"
    plugin = install_plugin(PULUMI, home, Path(sys.executable))
    stamp = (plugin / STAMP).read_text()
    # A missing CLI would fail the install; the stamp makes it unnecessary.
    assert install_plugin(tmp_path / "no-such-pulumi", home, Path(sys.executable)) == plugin
    assert (plugin / STAMP).read_text() == stamp


@needs_pulumi
def test_a_different_launcher_is_reinstalled(tmp_path):
    home = tmp_path / "pulumi-home"
    install_plugin(PULUMI, home, Path(sys.executable))
    other_python = tmp_path / "python"
    other_python.symlink_to(sys.executable)
    plugin = install_plugin(PULUMI, home, other_python)
    assert str(other_python) in (plugin / LAUNCHER).read_text()
