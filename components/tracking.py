"""The tracking service: ingests truck positions per booking and serves the latest and the
history.

Positions live in ``<prefix>-tracking`` and carry ``expires_at``, set by the function from the
tenant's data retention (compliance config), so DynamoDB's TTL removes them on time. Every
operation is audited. Validation limits (speed, clock skew, page size) are config, read by the
function at run time (``services/tracking/<env>/business``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .business import ServiceAccess, audit_writer, item_store, service_parts
from .context import TenantContext
from .function import ServiceFunction
from .routes import Route, service_routes
from .tables import TableSpec, TenantDataStores, tenant_table

SERVICE = "tracking"
TRACKING = TableSpec("tracking")


@dataclass(frozen=True)
class TrackingServiceArgs:
    ctx: TenantContext
    #: The tenant's shared tables (tracking writes to the audit table).
    stores: TenantDataStores


class TrackingService(pulumi.ComponentResource):
    """``ubertruck:tracking:TrackingService`` — tracking table, role, API function."""

    table: aws.dynamodb.Table
    function: ServiceFunction
    routes: list[Route]
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: TrackingServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:tracking:TrackingService", name, None, opts)
        ctx, stores = args.ctx, args.stores
        self.table = tenant_table(ctx, TRACKING, self)
        access = ServiceAccess((item_store(self.table), audit_writer(stores)), {"tracking_table": self.table.name, "audit_table": stores.audit.name})
        parts = service_parts(self, ctx, SERVICE, "api", access)
        self.function = parts.function
        self.routes = service_routes(SERVICE, self.function)
        self.outputs = {"tracking_table": self.table.name, "tracking_function": self.function.function.name}
        self.register_outputs(self.outputs)
