"""SSM parameters of the tenant's config namespace, written one way everywhere.

The configuration service writes the registry-driven hierarchy; each service also publishes
``/{tenant}/services/{service}/{env}/integration/resources``: the physical names and ARNs of
what it provisioned, so its functions never need an environment variable to find them.
"""

from __future__ import annotations

import json
from typing import Mapping

import pulumi
import pulumi_aws as aws

from ubertruck.settings import ConfigParameter, TenantSettings

from .context import TenantContext, child

RESOURCES_ENTRY = "resources"


def parameter_logical_name(ctx: TenantContext, path: str) -> str:
    """``/acme/services/booking/dev/business/pricing_models`` → ``acme-dev-config-services-booking-dev-business-pricing_models``."""
    return f"{ctx.prefix}-config{path.removeprefix('/' + ctx.tenant_id).replace('/', '-')}"


def config_parameter(ctx: TenantContext, param: ConfigParameter, value: pulumi.Input[str], parent: pulumi.Resource) -> aws.ssm.Parameter:
    """One parameter: SecureString under the tenant key when sensitive, String otherwise."""
    secure = param.secure
    return aws.ssm.Parameter(
        parameter_logical_name(ctx, param.path),
        name=param.path,
        type="SecureString" if secure else "String",
        key_id=ctx.key_arn if secure else None,
        value=pulumi.Output.secret(value) if secure else value,
        tier="Intelligent-Tiering",
        description=f"UberTruck config {param.section} for tenant {ctx.tenant_id}",
        tags=ctx.tags,
        opts=child(parent),
    )


def resources_path(ctx: TenantContext, service: str) -> str:
    return published_resources_path(ctx.settings, service)


def published_resources_path(settings: TenantSettings, service: str) -> str:
    """Where ``service``'s published resources live: the one answer for the infrastructure and
    for the function tests' stand-in namespace."""
    return f"{settings.service_namespace(service)}/integration/{RESOURCES_ENTRY}"


def published_resources_value(resources: Mapping[str, str]) -> str:
    """The parameter value of published ``resources`` (what the functions parse)."""
    return json.dumps(dict(resources), sort_keys=True)


def publish_resources(
    ctx: TenantContext, service: str, resources: Mapping[str, pulumi.Input[str]], parent: pulumi.Resource
) -> pulumi.Output[dict[str, str]]:
    """Write the service's ``integration/resources`` parameter; return the resolved mapping
    (functions also bake it into their fallback values)."""
    keys = sorted(resources)
    resolved = pulumi.Output.all(*[resources[k] for k in keys]).apply(lambda values: dict(zip(keys, values)))
    param = ConfigParameter(path=resources_path(ctx, service), value="", secure=False, section=f"services/{service}/integration")
    config_parameter(ctx, param, resolved.apply(published_resources_value), parent)
    return resolved
