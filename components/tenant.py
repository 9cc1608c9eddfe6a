"""``TenantPlatform``: everything one tenant runs in one environment."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platformctl.settings import TenantSettings

from .context import TenantContext, child
from .layer import CommonLayer
from .tables import TenantDataStores
from .tenant_key import TenantKey, TenantKeyArgs


def shared_stack_reference(settings: TenantSettings, parent: pulumi.Resource) -> pulumi.StackReference:
    """The shared platform stack of this environment (alarm topic, dashboards, pipeline)."""
    config = pulumi.Config(settings.defaults.platform.project)
    organization = config.get("sharedStackOrganization") or settings.defaults.offline.organization
    name = f"{organization}/{settings.defaults.platform.project}/{settings.environment}"
    return pulumi.StackReference(name, opts=child(parent))


class TenantPlatform(pulumi.ComponentResource):
    """``ubertruck:tenant:TenantPlatform`` — the tenant stack's root component."""

    def __init__(self, settings: TenantSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:tenant:TenantPlatform", settings.prefix, None, opts)
        # Tenant stacks have no per-stack file: the provider's region comes from the registry.
        provider = aws.Provider(
            f"{settings.prefix}-aws",
            region=settings.region,
            default_tags={"tags": settings.tags},
            opts=child(self),
        )
        scoped = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider)).account_id
        shared = shared_stack_reference(settings, self)
        key = TenantKey(f"{settings.prefix}-key", TenantKeyArgs(settings, account_id), opts=scoped)
        layer = CommonLayer(f"{settings.prefix}-layer", settings, opts=scoped)
        ctx = TenantContext(
            settings=settings,
            account_id=account_id,
            key_arn=key.arn,
            alarm_topic_arn=shared.get_output("alarm_topic_arn"),
            layer_arn=layer.arn,
        )
        stores = TenantDataStores(f"{settings.prefix}-data", ctx, opts=scoped)
        self.outputs = {
            "tenant_id": settings.tenant_id,
            "environment": settings.environment,
            "kms_key_arn": key.arn,
            "audit_table": stores.audit.name,
        }
        self.register_outputs(self.outputs)
