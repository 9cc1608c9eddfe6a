"""The build manifest (``<output>/manifest.json``) and the typed view the program deploys from.

``LambdaArtifacts`` is what a stack program receives: the layer zip and each handler's zip, as
absolute paths. Building it never happens here: the builder (``platformctl/package``) writes the
manifest and returns this model, which ``__main__.py`` hands to ``TenantPlatform``; this module
only models what a build wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import UserError

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class LambdaArtifacts:
    """The built artifacts of one runtime and architecture."""

    root: Path
    runtime: str
    architecture: str
    layer: Path
    #: ``<service>.<module>`` -> that handler's function zip.
    functions: Mapping[str, Path] = field(default_factory=dict)

    def function_zip(self, name: str) -> Path:
        """The zip of handler ``<service>.<module>``; a clear error if the build has none."""
        try:
            return self.functions[name]
        except KeyError:
            raise UserError(
                str(self.root / MANIFEST_FILE), f"no artifact for handler module {name!r}; run `platformctl package` after adding it"
            ) from None


def program_path(path: Path) -> str:
    """How the program names an artifact to Pulumi: by its absolute path.

    The engine opens archives relative to its own working directory, and under the Automation API
    that is the backend's workspace folder (platformctl/apply/stack_run.py), not the project. The
    path is not part of an archive's hash, so another checkout's path does not redeploy anything.
    """
    return str(path.resolve())


def artifacts_from_document(root: Path, document: Mapping[str, Any]) -> LambdaArtifacts:
    """The typed view of a manifest document whose paths are relative to ``root``."""
    (layer,) = document["layers"]
    return LambdaArtifacts(
        root=root,
        runtime=document["runtime"],
        architecture=document["architecture"],
        layer=root / layer["artifact"],
        functions={entry["name"]: root / entry["artifact"] for entry in document["functions"]},
    )
