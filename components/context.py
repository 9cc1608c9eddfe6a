"""What every tenant component receives: the resolved settings plus the stack-wide pieces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from platformctl.package.manifest import LambdaArtifacts
from platformctl.settings import TenantSettings


@dataclass(frozen=True)
class TenantContext:
    """The tenant stack's shared facts, built once by ``TenantPlatform``.

    >>> ctx.name("booking", "create")      # doctest: +SKIP
    'acme-dev-booking-create'
    """

    settings: TenantSettings
    account_id: str
    key_arn: pulumi.Output[str]
    alarm_topic_arn: pulumi.Input[str]
    layer_arn: pulumi.Input[str]
    #: The built function zips and layer (``platformctl package``) the functions deploy.
    artifacts: LambdaArtifacts | None = None

    @property
    def prefix(self) -> str:
        return self.settings.prefix

    @property
    def tenant_id(self) -> str:
        return self.settings.tenant_id

    @property
    def environment(self) -> str:
        return self.settings.environment

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def tags(self) -> dict[str, str]:
        return self.settings.tags

    def name(self, *parts: str) -> str:
        """A resource name: the stack prefix, then ``parts``, hyphen-joined."""
        return "-".join([self.prefix, *parts])

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        """An ARN in this tenant's account (and region, unless ``regional`` is false)."""
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"

    def config_namespace_arn(self) -> str:
        """All of this tenant's SSM parameters: ``/{tenant_id}/*``."""
        return self.arn("ssm", f"parameter/{self.tenant_id}/*")

    def technical(self, service: str, name: str) -> dict[str, Any]:
        return self.settings.technical(service, name)


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:  # noqa: ANN401
    """Resource options for a child of ``parent`` (the convention: ``parent=self`` everywhere)."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)
