"""Log groups the platform's way: under ``/ubertruck/<tenant>-<env>/<service>/``, kept as long
as the tenant's compliance config asks, encrypted with the tenant key.

The path matters: the tenant key's policy lets CloudWatch Logs use the key only for log groups
below ``/ubertruck/<tenant>-<env>``, and service roles may write only to their service's groups.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .context import TenantContext, child


def log_group_name(ctx: TenantContext, service: str, stream: str) -> str:
    """``/ubertruck/acme-dev/api/access``."""
    return f"/ubertruck/{ctx.prefix}/{service}/{stream}"


def service_log_group(ctx: TenantContext, service: str, stream: str, parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """The log group of ``stream`` (a function, or ``access`` for API access logs) of ``service``."""
    return aws.cloudwatch.LogGroup(
        f"{ctx.name(service, stream)}-logs",
        name=log_group_name(ctx, service, stream),
        retention_in_days=ctx.settings.log_retention_days,
        kms_key_id=ctx.key_arn,
        tags=ctx.tags,
        opts=child(parent),
    )
