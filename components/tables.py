"""DynamoDB tables the platform's way: tenant key, point-in-time recovery, TTL where data
expires, deletion protection where the environment asks for it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .context import TenantContext

#: Every platform table but idempotency uses this key layout (see functions/common).
PK, SK = "pk", "sk"
#: TTL attribute names: ``expires_at`` on platform tables, Powertools' default on idempotency.
TTL_ATTRIBUTE = "expires_at"
IDEMPOTENCY_KEY, IDEMPOTENCY_TTL = "id", "expiration"


@dataclass(frozen=True)
class TableSpec:
    """A table's logical name within the tenant (``bookings``) and its key/TTL layout."""

    name: str
    hash_key: str = PK
    range_key: str | None = SK
    ttl_attribute: str | None = TTL_ATTRIBUTE


def tenant_table(ctx: TenantContext, spec: TableSpec, parent: pulumi.Resource) -> aws.dynamodb.Table:
    """Create ``<tenant>-<env>-<spec.name>`` as a child of ``parent``."""
    attributes: list[aws.dynamodb.TableAttributeArgsDict] = [{"name": spec.hash_key, "type": "S"}]
    if spec.range_key:
        attributes.append({"name": spec.range_key, "type": "S"})
    table_name = ctx.name(spec.name)
    return aws.dynamodb.Table(
        table_name,
        name=table_name,
        billing_mode="PAY_PER_REQUEST",
        hash_key=spec.hash_key,
        range_key=spec.range_key,
        attributes=attributes,
        server_side_encryption={"enabled": True, "kms_key_arn": ctx.key_arn},
        point_in_time_recovery={"enabled": True},
        deletion_protection_enabled=ctx.settings.env.deletion_protection,
        ttl={"attribute_name": spec.ttl_attribute, "enabled": True} if spec.ttl_attribute else None,
        tags=ctx.tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=ctx.settings.env.deletion_protection),
    )


AUDIT = TableSpec("audit")
IDEMPOTENCY = TableSpec("idempotency", hash_key=IDEMPOTENCY_KEY, range_key=None, ttl_attribute=IDEMPOTENCY_TTL)


class TenantDataStores(pulumi.ComponentResource):
    """``ubertruck:tables:TenantDataStores`` — the tables every service shares: audit and idempotency."""

    audit: aws.dynamodb.Table
    idempotency: aws.dynamodb.Table

    def __init__(self, name: str, ctx: TenantContext, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:tables:TenantDataStores", name, None, opts)
        self.audit = tenant_table(ctx, AUDIT, self)
        self.idempotency = tenant_table(ctx, IDEMPOTENCY, self)
        self.register_outputs({"audit_table": self.audit.name, "idempotency_table": self.idempotency.name})
