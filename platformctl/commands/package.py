"""``platformctl package``: build the Lambda artifacts the program deploys.

Wired into the CLI by ``register(app)``::

    from platformctl.commands import package
    package.register(app)

Then ``platformctl package [--arch arm64|x86_64] [--output DIR]`` writes one zip per handler
module, the common layer and ``DIR/manifest.json``, exits 0, and prints one line per artifact
(``built`` or ``unchanged``). A size over Lambda's limits, or a dependency list pip cannot satisfy,
is bad input (exit 2, one line naming the artifact or file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ubertruck.defaults import load_defaults

from ..package import PackageOptions, build_artifacts


def package(
    arch: Optional[str] = typer.Option(
        None, "--arch", metavar="ARCH", help="Lambda architecture: arm64 or x86_64 (default: platform.lambda_architecture)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="DIR", help="Where to write the artifacts (default: artifacts.output_dir/<arch>)."
    ),
) -> None:
    """Build the function zips and the layer (with its runtime dependencies) and their manifest."""
    options = PackageOptions.from_defaults(load_defaults(), arch=arch, output_dir=output)
    report = build_artifacts(options)
    for artifact in report.built:
        typer.echo(f"built      {artifact}")
    for artifact in report.reused:
        typer.echo(f"unchanged  {artifact}")
    typer.echo(f"wrote {report.manifest}", err=True)


def register(app: typer.Typer) -> None:
    """Add the ``package`` command to ``app``."""
    app.command("package")(package)
