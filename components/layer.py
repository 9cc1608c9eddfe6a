"""The common function library (``functions/common``), shipped as a Lambda layer."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from platformctl.settings import TenantSettings

from .context import child
from .function import FUNCTIONS_DIR


class CommonLayer(pulumi.ComponentResource):
    """``ubertruck:layer:CommonLayer`` — ``python/common`` for every function of the stack."""

    layer: aws.lambda_.LayerVersion
    arn: pulumi.Output[str]

    def __init__(self, name: str, settings: TenantSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:layer:CommonLayer", name, None, opts)
        platform = settings.defaults.platform
        self.layer = aws.lambda_.LayerVersion(
            f"{settings.prefix}-common",
            layer_name=f"{settings.prefix}-common",
            description="UberTruck common function library (config client, tenant context, audit, errors)",
            compatible_runtimes=[platform.lambda_runtime],
            compatible_architectures=[platform.lambda_architecture],
            code=pulumi.AssetArchive({"python/common": pulumi.FileArchive(str(Path(FUNCTIONS_DIR, "common")))}),
            opts=child(self),
        )
        self.arn = self.layer.arn
        self.register_outputs({"arn": self.layer.arn})
