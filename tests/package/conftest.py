"""Builds shared by the package tests: one x86_64 build (the host's architecture) per run.

The wheels come from the project's wheelhouse (``artifacts.wheelhouse_dir``, git-ignored), so
only a machine's first run downloads them. Under ``pytest -n`` the workers share one output
folder in the run's temporary root: the build's own folder lock lets one worker build while the
others wait, then reuse what it wrote.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from platformctl.package import BuildReport, PackageOptions, build_artifacts
from ubertruck.defaults import load_defaults

DEFAULTS = load_defaults()
HOST_ARCH = "x86_64"
FUNCTIONS_DIR = PackageOptions.from_defaults(DEFAULTS).functions_dir


def options_for(arch: str, output_dir: Path, **changes: object) -> PackageOptions:
    """The defaults' options for ``arch`` into ``output_dir``, with ``changes`` applied."""
    return dataclasses.replace(PackageOptions.from_defaults(DEFAULTS, arch=arch, output_dir=output_dir), **changes)


def _shared_dir(factory: pytest.TempPathFactory, request: pytest.FixtureRequest, name: str) -> Path:
    if hasattr(request.config, "workerinput"):
        return factory.getbasetemp().parent / name
    return factory.mktemp(name)


@pytest.fixture(scope="session")
def host_build(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> BuildReport:
    """The x86_64 artifacts, built once per run."""
    return build_artifacts(options_for(HOST_ARCH, _shared_dir(tmp_path_factory, request, "package-x86_64")))


@pytest.fixture
def build_copy(host_build: BuildReport, tmp_path: Path) -> tuple[PackageOptions, Path]:
    """A private copy of the host build and of ``functions/``: options building from the copy
    into the copied folder, whose artifacts (and records) are already there."""
    functions = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    output = tmp_path / "out"
    shutil.copytree(host_build.artifacts.root, output, ignore=shutil.ignore_patterns(".lock"))
    return options_for(HOST_ARCH, output, functions_dir=functions), output

