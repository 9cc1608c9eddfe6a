"""What the business services (booking, tracking, payment, notification) build the same way:
exact DynamoDB grants per use, and the role + published resources + function of one service.

Each grant names exactly the actions a use needs on exactly one table's ARN, so a role reads
like the service's data-access contract:

>>> grants = [item_store(bookings), audit_writer(stores), idempotency_store(stores)]  # doctest: +SKIP
>>> parts = service_parts(component, ctx, "booking", "api", grants, {"bookings_table": bookings.name})  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from .config_params import publish_resources
from .context import TenantContext, child
from .function import ServiceFunction, ServiceFunctionArgs
from .iam import Grant, ServiceRole, ServiceRoleArgs
from .tables import TenantDataStores

#: A service's own items: read one, write one, change one, list a partition.
ITEM_STORE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query")
#: The audit trail is append-only for services: they record, never read or change.
AUDIT_WRITE_ACTIONS = ("dynamodb:PutItem",)
#: What Powertools idempotency does with its records (claim, complete, expire a failed claim).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def item_store(table: aws.dynamodb.Table) -> Grant:
    """Read and write the service's own items in ``table``."""
    return Grant(ITEM_STORE_ACTIONS, [table.arn])


def audit_writer(stores: TenantDataStores) -> Grant:
    """Append to the tenant's audit table."""
    return Grant(AUDIT_WRITE_ACTIONS, [stores.audit.arn])


def idempotency_store(stores: TenantDataStores) -> Grant:
    """Use the tenant's idempotency table the way Powertools does."""
    return Grant(IDEMPOTENCY_ACTIONS, [stores.idempotency.arn])


@dataclass(frozen=True)
class ServiceParts:
    """A service's role, its published ``integration/resources`` and its function."""

    role: ServiceRole
    resources: pulumi.Output[dict[str, str]]
    function: ServiceFunction


def service_parts(
    parent: pulumi.Resource,
    ctx: TenantContext,
    service: str,
    function: str,
    grants: Sequence[Grant],
    resources: Mapping[str, pulumi.Input[str]],
) -> ServiceParts:
    """Create, under ``parent``, the service's least-privilege role (config read, logs and
    X-Ray come with every role; ``grants`` add exactly what the service touches), publish its
    resources to the config namespace, and create its function reading them."""
    role = ServiceRole(ctx.name(service, "role"), ServiceRoleArgs(ctx, service, grants=list(grants)), opts=child(parent))
    published = publish_resources(ctx, service, resources, parent)
    fn = ServiceFunction(ctx.name(service, function), ServiceFunctionArgs(ctx, service, function, role.arn, published), opts=child(parent))
    return ServiceParts(role=role, resources=published, function=fn)
