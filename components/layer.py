"""The common layer: ``python/common`` and every runtime dependency, as ``platformctl package`` built it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ubertruck.artifacts import LambdaArtifacts, program_path
from ubertruck.settings import TenantSettings

from .context import child


class CommonLayer(pulumi.ComponentResource):
    """``ubertruck:layer:CommonLayer`` — the built layer zip, for every function of the stack.

    The zip is content-addressed and byte-for-byte reproducible, so its archive hash changes only
    when the common library or a dependency does, and only then is a new layer version published.
    """

    layer: aws.lambda_.LayerVersion
    arn: pulumi.Output[str]

    def __init__(self, name: str, settings: TenantSettings, artifacts: LambdaArtifacts, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:layer:CommonLayer", name, None, opts)
        self.layer = aws.lambda_.LayerVersion(
            f"{settings.prefix}-common",
            layer_name=f"{settings.prefix}-common",
            description="UberTruck common function library and its runtime dependencies (Powertools, pydantic, PyJWT, X-Ray SDK, boto3)",
            compatible_runtimes=[artifacts.runtime],
            compatible_architectures=[artifacts.architecture],
            code=pulumi.FileArchive(program_path(artifacts.layer)),
            opts=child(self),
        )
        self.arn = self.layer.arn
        self.register_outputs({"arn": self.layer.arn})
