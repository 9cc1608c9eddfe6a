"""``build_artifacts``: the layer and one zip per handler, checked against Lambda's limits, and
the manifest that lists them.

One build per output folder at a time (a file lock); unchanged inputs reuse their artifacts, so a
build with nothing changed writes nothing and makes no network call. The manifest is written
last, atomically, and only after every limit check passed: a program reading it only ever sees
artifacts that exist whole and fit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ubertruck.artifacts import MANIFEST_FILE, LambdaArtifacts, artifacts_from_document
from ubertruck.atomic import write_text_atomic
from ubertruck.errors import UserError

from .artifact import Built, input_key, produce
from .contents import LAYER_PREFIX, tree_entries, wheel_entries, wheel_parts
from .files import folder_lock
from .options import PackageOptions
from .sources import HandlerModule, handler_modules
from .wheelhouse import ensure_wheels

LAYER_NAME = "common"


@dataclass
class BuildReport:
    """What a build produced: the artifacts, and which of their files it wrote this time."""

    artifacts: LambdaArtifacts
    manifest: Path
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)


def _layer(options: PackageOptions, report: BuildReport) -> Built:
    wheels = ensure_wheels(options)
    common = options.functions_dir / options.common_package
    entries, parts = tree_entries(common, f"{LAYER_PREFIX}/{options.common_package}", options.zip.exclude)
    key = input_key("layer", [*parts, *wheel_parts(wheels)], options)
    built, fresh = produce(options, "layers", LAYER_NAME, key, lambda stack: [*entries, *wheel_entries(wheels, stack)])
    (report.built if fresh else report.reused).append(built.artifact)
    return built


def _service(options: PackageOptions, service: str, report: BuildReport, done: dict[str, Built]) -> Built:
    if service not in done:
        entries, parts = tree_entries(options.functions_dir / service, service, options.zip.exclude)
        built, fresh = produce(options, "functions", service, input_key("function", parts, options), lambda _stack: entries)
        (report.built if fresh else report.reused).append(built.artifact)
        done[service] = built
    return done[service]


def check_limits(options: PackageOptions, layer: Built, functions: dict[str, Built]) -> None:
    """Refuse any zip over the direct-upload limit, and any function over the unzipped limit
    together with its layer, naming the artifact and the limit."""
    for built in [layer, *functions.values()]:
        if built.size > options.max_zipped_bytes:
            raise UserError(
                built.artifact,
                f"{built.size} bytes zipped, over Lambda's direct-upload limit of {options.max_zipped_bytes} bytes (artifacts.max_zipped_bytes)",
            )
    for built in functions.values():
        total = built.unzipped_size + layer.unzipped_size
        if total > options.max_unzipped_bytes:
            raise UserError(
                built.artifact,
                f"{total} bytes unzipped with its layer, over Lambda's limit of {options.max_unzipped_bytes} bytes (artifacts.max_unzipped_bytes)",
            )


def _entry(built: Built) -> dict[str, Any]:
    return {"artifact": built.artifact, "sha256": built.sha256, "size": built.size, "unzipped_size": built.unzipped_size}


def manifest_document(options: PackageOptions, layer: Built, handlers: list[HandlerModule], zips: dict[str, Built]) -> dict[str, Any]:
    """The manifest: the layer, then one entry per handler (paths relative to the output folder)."""
    functions = [
        {
            "name": module.name,
            "service": module.service,
            "handler": module.handler,
            "runtime": options.runtime,
            "architecture": options.architecture,
            "layers": [layer.artifact],
            **_entry(zips[module.service]),
        }
        for module in handlers
    ]
    return {
        "runtime": options.runtime,
        "architecture": options.architecture,
        "layers": [{"name": LAYER_NAME, **_entry(layer)}],
        "functions": functions,
    }


def build_artifacts(options: PackageOptions) -> BuildReport:
    """Build (or reuse) every artifact for ``options`` and write the manifest."""
    manifest = options.output_dir / MANIFEST_FILE
    report = BuildReport(artifacts=LambdaArtifacts(options.output_dir, options.runtime, options.architecture, Path()), manifest=manifest)
    with folder_lock(options.output_dir):
        layer = _layer(options, report)
        handlers = handler_modules(options.functions_dir, options.common_package)
        done: dict[str, Built] = {}
        for module in handlers:
            _service(options, module.service, report, done)
        check_limits(options, layer, done)
        document = manifest_document(options, layer, handlers, done)
        text = json.dumps(document, indent=1, sort_keys=True) + "\n"
        # Unchanged: leave the file alone, so nothing watching it sees a change.
        if not manifest.is_file() or manifest.read_text(encoding="utf-8") != text:
            write_text_atomic(manifest, text)
    report.artifacts = artifacts_from_document(options.output_dir, document)
    return report
