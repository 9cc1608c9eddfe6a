"""Install the stand-in as the ``aws`` resource plugin of an isolated PULUMI_HOME.

The plugin is a tarball holding one executable, ``pulumi-resource-aws``: a shell launcher that
runs ``python -m platformctl.localaws`` from this project. ``pulumi plugin install --file``
unpacks it where the engine looks for pulumi-aws of the pinned version. The launcher carries a
stamp (a hash of its own text), so installing the same launcher again costs one file read.
"""

from __future__ import annotations

import hashlib
import io
import os
import shlex
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ubertruck import PROJECT_ROOT
from ubertruck.errors import UserError

from .settings import PULUMI_HOME_ENV_VAR, localaws_defaults, provider_version

PLUGIN_KIND = "resource"
PLUGIN_NAME = "aws"
#: The executable the engine runs for a resource plugin named ``aws``.
LAUNCHER = f"pulumi-{PLUGIN_KIND}-{PLUGIN_NAME}"
#: File beside the launcher holding the hash of the launcher's text.
STAMP = "localaws.stamp"
_EXECUTABLE = 0o755
_READABLE = 0o644


def launcher_script(python: Path, project_root: Path = PROJECT_ROOT) -> str:
    """The shell launcher: the project importable, then the stand-in in place of the shell."""
    root, interpreter = shlex.quote(str(project_root.resolve())), shlex.quote(str(python))
    return (
        "#!/bin/sh\n"
        "# Local stand-in for pulumi-aws (platformctl/localaws); written by platformctl.localaws.install.\n"
        f'PYTHONPATH={root}"${{PYTHONPATH:+:$PYTHONPATH}}"\n'
        "export PYTHONPATH\n"
        f'exec {interpreter} -m platformctl.localaws "$@"\n'
    )


def plugin_dir(pulumi_home: Path, version: str) -> Path:
    """Where the engine finds resource plugin ``aws`` of ``version`` under ``pulumi_home``."""
    return Path(pulumi_home) / "plugins" / f"{PLUGIN_KIND}-{PLUGIN_NAME}-v{version}"


def _add(archive: tarfile.TarFile, name: str, text: str, mode: int) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    archive.addfile(info, io.BytesIO(data))


def build_tarball(script: str, stamp: str, destination: Path) -> Path:
    """Write the plugin tarball (launcher and stamp) to ``destination``."""
    with tarfile.open(destination, "w:gz") as archive:
        _add(archive, LAUNCHER, script, _EXECUTABLE)
        _add(archive, STAMP, stamp + "\n", _READABLE)
    return destination


def install_plugin(pulumi: Path, pulumi_home: Path, python: Path) -> Path:
    """Make the stand-in the ``aws`` plugin of ``pulumi_home``; the plugin's folder.

    Idempotent: when that folder already holds this very launcher, nothing runs. It only ever
    touches ``pulumi_home`` (passed to the CLI as PULUMI_HOME), never the user's own ~/.pulumi.
    """
    pulumi_home = Path(pulumi_home).resolve()
    version = provider_version()
    script = launcher_script(Path(python).absolute())
    stamp = hashlib.sha256(f"{version}\n{script}".encode()).hexdigest()
    target = plugin_dir(pulumi_home, version)
    stamp_file = target / STAMP
    if stamp_file.is_file() and stamp_file.read_text(encoding="utf-8").strip() == stamp and (target / LAUNCHER).is_file():
        return target
    if not Path(pulumi).is_file():
        raise UserError(str(pulumi), "no pulumi CLI there; build it with `make engine`")
    env = {
        **os.environ,
        PULUMI_HOME_ENV_VAR: str(pulumi_home),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # Nothing here should ever reach for the network.
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    pulumi_home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="localaws-plugin-") as scratch:
        tarball = build_tarball(script, stamp, Path(scratch) / f"{LAUNCHER}-v{version}.tar.gz")
        command = [str(pulumi), "plugin", "install", PLUGIN_KIND, PLUGIN_NAME, version, "--file", str(tarball), "--reinstall"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=localaws_defaults().install_timeout_seconds, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise UserError(f"pulumi plugin install {PLUGIN_KIND} {PLUGIN_NAME} {version}", detail[-1] if detail else f"exit code {result.returncode}")
    if not (target / LAUNCHER).is_file():
        raise UserError(str(target), f"the plugin was installed elsewhere; expected {LAUNCHER} here")
    return target
