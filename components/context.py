"""What every tenant component receives: the resolved settings plus the stack-wide pieces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws

from ubertruck.artifacts import LambdaArtifacts
from ubertruck.contracts import ServiceContract
from ubertruck.errors import UserError
from ubertruck.settings import ModelT, TenantSettings


@dataclass(frozen=True)
class TenantContext:
    """The tenant stack's shared facts, built once by ``TenantPlatform``.
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

    def role_arn(self, role_name: str) -> str:
        """The ARN AWS gives the IAM role ``role_name`` (path ``/``) in this tenant's account."""
        return self.arn("iam", f"role/{role_name}", regional=False)

    def function_arn(self, function_name: str) -> str:
        """The ARN AWS gives the Lambda function ``function_name`` (unqualified) in this tenant's account."""
        return self.arn("lambda", f"function:{function_name}")

    def config_namespace_arn(self) -> str:
        """All of this tenant's SSM parameters: ``/{tenant_id}/*``."""
        return self.arn("ssm", f"parameter/{self.tenant_id}/*")

    def service_config(self, service: str, schema: type[ModelT] = ServiceContract) -> ModelT:  # type: ignore[assignment]
        """``service``'s validated config as its schema's model (``TenantSettings.service_config``)."""
        return self.settings.service_config(service, schema)


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    """Resource options for a child of ``parent`` (the convention: ``parent=self`` everywhere)."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)


def known_after(resource: pulumi.Resource, value: str) -> pulumi.Output[str]:
    """``value`` (an id AWS derives from names we set, such as an ARN), known in a preview, and
    still depending on ``resource`` so that whatever uses it is created after ``resource``.

    The provider's own output is unknown until the resource exists, and the policy packs count an
    unknown security property as a violation (DESIGN.md, "Unknown values"): a first preview could
    not link a function to its role. The URN is known in every preview and carries the dependency.
    """
    return resource.urn.apply(lambda _: value)


def pinned_provider(
    name: str, region: str, account_id: str, parent: pulumi.Resource, tags: Mapping[str, str] | None = None
) -> aws.Provider:
    """An AWS provider for ``region`` that works only in ``account_id`` (``allowedAccountIds``).

    Every AWS resource and invoke of every stack goes through one of these: with credentials of
    another account the provider refuses to configure, so nothing of an environment can land in
    the wrong account. ``tags`` become the provider's default tags.
    """
    return aws.Provider(
        name,
        region=region,
        allowed_account_ids=[account_id],
        default_tags={"tags": dict(tags)} if tags else None,
        opts=child(parent),
    )


def arn_account(arn: str) -> str:
    """The account field of an ARN (``arn:partition:service:region:account:resource``); empty
    when ``arn`` is not one."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else ""


def require_account(where: str, arn: str, account_id: str, environment: str) -> str:
    """``arn`` unchanged when it lies in ``account_id``; otherwise a ``UserError`` naming ``where``.

    Stack config names ARNs of things provisioned outside the platform (the deploy role, the
    source connection); one in another environment's account would be a cross-account grant.
    """
    if arn_account(arn) != account_id:
        raise UserError(
            where,
            f"'{arn}' is not in the {environment} account {account_id} (defaults.yaml environments.{environment}.account_id); "
            "expected an ARN of that account",
        )
    return arn
