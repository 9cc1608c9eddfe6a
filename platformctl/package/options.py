"""What one build of the Lambda artifacts needs: folders, target, limits and zip settings.

Everything comes from ``defaults.yaml`` (``platform`` and ``artifacts``); the CLI and the tests
override single fields (``--arch``, ``--output``, a small size limit) with ``dataclasses.replace``.

>>> from ubertruck.defaults import load_defaults
>>> options = PackageOptions.from_defaults(load_defaults(), arch="x86_64")
>>> options.python_version
'3.11'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ubertruck import PROJECT_ROOT
from ubertruck.defaults import PlatformDefaults
from ubertruck.errors import UserError

#: ``python3.11`` -> ``3.11``: the Lambda runtime identifier names the Python version it runs.
_RUNTIME_VERSION = re.compile(r"^python(?P<version>\d+\.\d+)$")


@dataclass(frozen=True)
class ZipSettings:
    """How every artifact zip is written, so equal content gives equal bytes."""

    timestamp: tuple[int, int, int, int, int, int]
    file_mode: int
    compression_level: int
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class PackageOptions:
    """One build: where the sources are, where artifacts and wheels go, and the target."""

    functions_dir: Path
    requirements_file: Path
    output_dir: Path
    wheelhouse_dir: Path
    common_package: str
    runtime: str
    architecture: str
    wheel_platforms: tuple[str, ...]
    python_implementation: str
    max_zipped_bytes: int
    max_unzipped_bytes: int
    hash_length: int
    download_timeout_seconds: int
    zip: ZipSettings

    @property
    def python_version(self) -> str:
        match = _RUNTIME_VERSION.match(self.runtime)
        if match is None:
            raise UserError("defaults.yaml: platform.lambda_runtime", f"{self.runtime!r} is not a python<major>.<minor> runtime")
        return match.group("version")

    @classmethod
    def from_defaults(
        cls,
        defaults: PlatformDefaults,
        arch: str | None = None,
        output_dir: Path | None = None,
        project_root: Path = PROJECT_ROOT,
    ) -> PackageOptions:
        """The options ``defaults.yaml`` gives, for ``arch`` (default: the platform's) into ``output_dir``."""
        artifacts = defaults.artifacts
        architecture = arch or defaults.platform.lambda_architecture
        if architecture not in artifacts.wheel_platforms:
            known = ", ".join(sorted(artifacts.wheel_platforms))
            raise UserError("--arch", f"unknown architecture {architecture!r}; expected one of {known} (artifacts.wheel_platforms)")
        out = output_dir if output_dir is not None else project_root / artifacts.output_dir / architecture
        return cls(
            functions_dir=project_root / "functions",
            requirements_file=project_root / artifacts.requirements_file,
            output_dir=out,
            wheelhouse_dir=project_root / artifacts.wheelhouse_dir,
            common_package=artifacts.common_package,
            runtime=defaults.platform.lambda_runtime,
            architecture=architecture,
            wheel_platforms=tuple(artifacts.wheel_platforms[architecture]),
            python_implementation=artifacts.python_implementation,
            max_zipped_bytes=artifacts.max_zipped_bytes,
            max_unzipped_bytes=artifacts.max_unzipped_bytes,
            hash_length=artifacts.hash_length,
            download_timeout_seconds=artifacts.download_timeout_seconds,
            zip=ZipSettings(
                timestamp=tuple(artifacts.zip_timestamp),  # type: ignore[arg-type]  # length checked by the model
                file_mode=artifacts.zip_file_mode,
                compression_level=artifacts.zip_compression_level,
                exclude=tuple(artifacts.exclude),
            ),
        )
