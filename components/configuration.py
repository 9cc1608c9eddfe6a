"""The configuration service: the tenant's SSM hierarchy and the function that serves it.

Every entry of the tenant's merged config (registry over platform defaults) becomes one
parameter under ``/{tenant_id}/…``; sensitive entries are SecureString under the tenant key.
The ``configuration-api`` function answers ``GET /config/{path+}`` for clients outside Lambda
(platform functions read SSM directly through ``ConfigurationClient``). Its role reads the
whole tenant namespace, read-only, and writes the audit trail of what was read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config_params import config_parameter, publish_resources
from .context import TenantContext, child
from .function import ServiceFunction, ServiceFunctionArgs
from .iam import Grant, ServiceRole, ServiceRoleArgs
from .routes import Route, service_routes

SERVICE = "configuration"
#: Audit writes only: the service records reads, it never reads or changes the trail.
AUDIT_WRITE_ACTIONS = ("dynamodb:PutItem",)


@dataclass(frozen=True)
class ConfigurationServiceArgs:
    ctx: TenantContext
    #: The tenant's audit table (``TenantDataStores.audit``).
    audit_table: aws.dynamodb.Table


class ConfigurationService(pulumi.ComponentResource):
    """``ubertruck:configuration:ConfigurationService`` — SSM hierarchy, config API function."""

    parameters: dict[str, aws.ssm.Parameter]
    role: ServiceRole
    function: ServiceFunction
    routes: list[Route]
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: ConfigurationServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:configuration:ConfigurationService", name, None, opts)
        ctx = args.ctx
        # The hierarchy is built from the registry alone, so it exists before any function runs.
        self.parameters = {p.path: config_parameter(ctx, p, p.value, self) for p in ctx.settings.parameters()}
        resources = publish_resources(ctx, SERVICE, {"audit_table": args.audit_table.name}, self)
        self.role = ServiceRole(
            ctx.name(SERVICE, "role"),
            ServiceRoleArgs(ctx, SERVICE, grants=[Grant(AUDIT_WRITE_ACTIONS, [args.audit_table.arn])], whole_namespace=True),
            opts=child(self),
        )
        self.function = ServiceFunction(
            ctx.name(SERVICE, "api"),
            ServiceFunctionArgs(ctx, SERVICE, "api", self.role.arn, resources),
            # Functions must not start before the values they fall back from exist.
            opts=child(self, depends_on=list(self.parameters.values())),
        )
        self.routes = service_routes(SERVICE, self.function)
        self.outputs = {"config_namespace": ctx.settings.config_namespace(), "config_function": self.function.function.name}
        self.register_outputs(self.outputs)
