"""Deployable Lambda artifacts: ``platformctl package`` and what the program deploys.

- one zip per handler module (its service package at the zip root), content-addressed;
- the common layer: ``python/common`` plus every runtime dependency from manylinux wheels for the
  function runtime and architecture (``functions/requirements.txt``, pinned in full);
- ``manifest.json`` listing them with paths relative to the output folder.

The program gets them through ``program_artifacts`` (called by ``__main__.py``), which builds
what is missing or stale and returns the typed ``LambdaArtifacts`` that ``TenantPlatform`` hands
to its components. Building is content-addressed, so with nothing changed it only checks. The
typed model itself (``LambdaArtifacts``) is the domain core's,
``ubertruck/artifacts.py``: the components import it from there, never from this package.
"""

from __future__ import annotations

from pathlib import Path

from ubertruck.artifacts import LambdaArtifacts
from ubertruck.defaults import PlatformDefaults

from .build import BuildReport, build_artifacts
from .options import PackageOptions


def program_artifacts(defaults: PlatformDefaults, output_dir: Path | None = None) -> LambdaArtifacts:
    """The platform architecture's artifacts, built first if anything is missing or stale.

    Safe to call from many stack programs at once: one builds under the folder's lock while the
    others wait, then find everything in place.
    """
    return build_artifacts(PackageOptions.from_defaults(defaults, output_dir=output_dir)).artifacts


__all__ = ["BuildReport", "PackageOptions", "build_artifacts", "program_artifacts"]
