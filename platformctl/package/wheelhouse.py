"""The wheelhouse: the runtime dependencies as manylinux wheels for the function runtime.

``pip download --only-binary=:all: --platform <tag>... --python-version 3.11 --implementation cp``
fetches them once into ``<wheelhouse_dir>/<key>/``, where ``key`` hashes the dependency list and
the target. The folder appears whole (downloaded beside it, then renamed), with ``wheels.json``
listing its wheels, so a later build finds it and makes no network call.

The download resolves dependencies, and then the set it got must be exactly the pinned set: a
package pip needed that is not pinned (or a pin nothing needs) is an error naming it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ubertruck.errors import UserError

from .files import file_sha256, folder_lock
from .options import PackageOptions
from .requirements import normalize, read_pins

#: The list of wheels written last, when the folder is complete.
RECORD = "wheels.json"


@dataclass(frozen=True)
class Wheel:
    """One downloaded wheel."""

    path: Path
    name: str
    version: str
    sha256: str


def wheelhouse_key(options: PackageOptions) -> str:
    """The folder name for this dependency list and target."""
    digest = hashlib.sha256()
    digest.update(options.requirements_file.read_bytes())
    for part in (options.python_version, options.python_implementation, *options.wheel_platforms):
        digest.update(b"\0" + part.encode())
    return f"{options.architecture}-{digest.hexdigest()[: options.hash_length]}"


def _wheel_identity(path: Path) -> tuple[str, str]:
    # A wheel's file name is <name>-<version>-<tags>.whl (name with '_' for '-').
    name, version = path.name.split("-")[:2]
    return normalize(name), version


def _load(folder: Path) -> list[Wheel]:
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    return [Wheel(folder / entry["file"], entry["name"], entry["version"], entry["sha256"]) for entry in record["wheels"]]


def _download(options: PackageOptions, target: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--python-version", options.python_version,
        "--implementation", options.python_implementation,
        *[arg for tag in options.wheel_platforms for arg in ("--platform", tag)],
        "--dest", str(target), "--requirement", str(options.requirements_file),
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=options.download_timeout_seconds, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(str(options.requirements_file), f"downloading the wheels took over {options.download_timeout_seconds} s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed without a message"])[-1]
        raise UserError(str(options.requirements_file), f"pip could not download the {options.architecture} wheels: {last}")


def _check_exact(options: PackageOptions, wheels: list[Path]) -> None:
    pinned = {pin.name: pin.version for pin in read_pins(options.requirements_file)}
    got = dict(_wheel_identity(path) for path in wheels)
    # Every pin is on pip's command line, so only the resolver's additions can differ.
    extra = sorted(f"{name}=={version}" for name, version in got.items() if pinned.get(name) != version)
    if extra:
        raise UserError(str(options.requirements_file), f"the pinned packages also need {', '.join(extra)}: pin them here")


def ensure_wheels(options: PackageOptions) -> list[Wheel]:
    """The wheels for ``options``' target, downloading them only if no complete folder exists."""
    folder = options.wheelhouse_dir / wheelhouse_key(options)
    if (folder / RECORD).is_file():
        return _load(folder)
    with folder_lock(options.wheelhouse_dir):
        if (folder / RECORD).is_file():  # another process finished it while we waited
            return _load(folder)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=options.wheelhouse_dir))
        try:
            _download(options, staging)
            paths = sorted(staging.glob("*.whl"))
            _check_exact(options, paths)
            entries = [
                {"file": p.name, "name": _wheel_identity(p)[0], "version": _wheel_identity(p)[1], "sha256": file_sha256(p)} for p in paths
            ]
            (staging / RECORD).write_text(json.dumps({"wheels": entries}, indent=1, sort_keys=True), encoding="utf-8")
            shutil.rmtree(folder, ignore_errors=True)  # an incomplete folder from an interrupted run
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _load(folder)
