"""The tracking service: ingests truck positions per booking and serves the latest and the
history.

Positions live in ``<prefix>-tracking`` and carry ``expires_at``, set by the function from the
tenant's data retention (compliance config), so DynamoDB's TTL removes them on time. Every
operation is audited. Validation limits (speed, clock skew, page size) are config, read by the
function at run time (``services/tracking/<env>/business``).

Positions belong to bookings: before any read or write the function checks the caller against
the booking's customer and assigned driver, so it may read one booking's details item
(``dynamodb:GetItem`` on the bookings table) and nothing else of that table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .business import ServiceAccess, audit_writer, item_store, service_parts
from .iam import Grant
from .context import TenantContext
from .function import ServiceFunction
from .routes import Route, service_routes
from .tables import TableSpec, TenantDataStores, tenant_table

SERVICE = "tracking"
TRACKING = TableSpec("tracking")
#: Whose a booking is: one details item at a time, never a list or a write.
BOOKING_READ_ACTIONS = ("dynamodb:GetItem",)


@dataclass(frozen=True)
class TrackingServiceArgs:
    ctx: TenantContext
    #: The tenant's shared tables (tracking writes to the audit table).
    stores: TenantDataStores
    #: The booking service's table, whose bookings name their customer and driver.
    bookings_table: aws.dynamodb.Table


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
        access = ServiceAccess(
            (item_store(self.table), audit_writer(stores), Grant(BOOKING_READ_ACTIONS, [args.bookings_table.arn])),
            {"tracking_table": self.table.name, "audit_table": stores.audit.name, "bookings_table": args.bookings_table.name},
        )
        parts = service_parts(self, ctx, SERVICE, "api", access)
        self.function = parts.function
        self.routes = service_routes(SERVICE, self.function)
        self.outputs = {"tracking_table": self.table.name, "tracking_function": self.function.function.name}
        self.register_outputs(self.outputs)
