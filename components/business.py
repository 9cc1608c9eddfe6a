"""What the business services (booking, tracking, payment, notification) build the same way:
exact DynamoDB grants per use, and the role + published resources + function of one service.

Each grant names exactly the actions a use needs on exactly one table's ARN, so a role reads
like the service's data-access contract. A service's grants and the resources it publishes
are built together (``ServiceAccess``) so the function is told about exactly what it may use.
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
from .messaging import publish_grants
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
class ServiceAccess:
    """What a service may touch (``grants``) and what it is told about (``resources``, its
    published ``integration/resources``: names and ARNs by the key its functions read)."""

    grants: tuple[Grant, ...]
    resources: Mapping[str, pulumi.Input[str]]

    def plus(self, grants: Sequence[Grant], resources: Mapping[str, pulumi.Input[str]]) -> "ServiceAccess":
        """This access and more (a payment provider's secret, say)."""
        return ServiceAccess((*self.grants, *grants), {**self.resources, **resources})


def transactional_access(
    ctx: TenantContext, stores: TenantDataStores, table_key: str, table: aws.dynamodb.Table, events_topic: aws.sns.Topic
) -> ServiceAccess:
    """A service that keeps its items in ``table`` (published as ``table_key``), makes its
    writes idempotent, audits every operation and publishes each change on ``events_topic``."""
    return ServiceAccess(
        (item_store(table), audit_writer(stores), idempotency_store(stores), *publish_grants(ctx, events_topic)),
        {
            table_key: table.name,
            "audit_table": stores.audit.name,
            "idempotency_table": stores.idempotency.name,
            "events_topic_arn": events_topic.arn,
        },
    )


@dataclass(frozen=True)
class ServiceParts:
    """A service's role, its published ``integration/resources`` and its function."""

    role: ServiceRole
    resources: pulumi.Output[dict[str, str]]
    function: ServiceFunction


def service_parts(parent: pulumi.Resource, ctx: TenantContext, service: str, function: str, access: ServiceAccess) -> ServiceParts:
    """Create, under ``parent``, the service's least-privilege role (config read, logs and
    X-Ray come with every role; ``access.grants`` add exactly what the service touches),
    publish ``access.resources`` to the config namespace, and create its function reading them."""
    role = ServiceRole(ctx.name(service, "role"), ServiceRoleArgs(ctx, service, grants=list(access.grants)), opts=child(parent))
    published = publish_resources(ctx, service, access.resources, parent)
    fn = ServiceFunction(ctx.name(service, function), ServiceFunctionArgs(ctx, service, function, role.arn, published), opts=child(parent))
    return ServiceParts(role=role, resources=published, function=fn)
