"""The booking service: quotes, creates, lists and cancels the tenant's bookings, and assigns their drivers.

Bookings live in ``<prefix>-bookings``; creates are idempotent through the shared idempotency
table; every operation is audited; each change is published on ``<prefix>-booking-events``,
which the notification service consumes. Prices and cancellation rules are config, read by
the function at run time (``services/booking/<env>/business``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .business import service_parts, transactional_access
from .context import TenantContext
from .function import ServiceFunction
from .messaging import encrypted_topic
from .routes import Route, service_routes
from .tables import TableSpec, TenantDataStores, tenant_table

SERVICE = "booking"
#: Bookings carry ``expires_at`` once closed, so they leave with the tenant's data retention.
BOOKINGS = TableSpec("bookings")


@dataclass(frozen=True)
class BookingServiceArgs:
    ctx: TenantContext
    #: The tenant's shared audit and idempotency tables.
    stores: TenantDataStores


class BookingService(pulumi.ComponentResource):
    """``ubertruck:booking:BookingService`` — bookings table, events topic, role, API function."""

    table: aws.dynamodb.Table
    events_topic: aws.sns.Topic
    function: ServiceFunction
    routes: list[Route]
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: BookingServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:booking:BookingService", name, None, opts)
        ctx, stores = args.ctx, args.stores
        self.table = tenant_table(ctx, BOOKINGS, self)
        self.events_topic = encrypted_topic(ctx, self, SERVICE, "events")
        access = transactional_access(ctx, stores, "bookings_table", self.table, self.events_topic)
        parts = service_parts(self, ctx, SERVICE, "api", access)
        self.function = parts.function
        self.routes = service_routes(SERVICE, self.function)
        self.outputs = {
            "bookings_table": self.table.name,
            "booking_events_topic_arn": self.events_topic.arn,
            "booking_function": self.function.function.name,
        }
        self.register_outputs(self.outputs)
