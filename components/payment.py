"""The payment service: authorizes, captures and refunds through the tenant's payment provider.

Payments live in ``<prefix>-payments`` (with ``expires_at`` for the retention TTL); authorize
and capture are idempotent through the shared idempotency table; every operation is audited;
each change is published on ``<prefix>-payment-events``. The provider's API key is the
Secrets Manager secret the registry names in ``secrets``; the payment config's
``integration.api_keys_reference.provider_api_key`` says which entry, and the role may read
exactly that one secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import payment_schema
from ubertruck.errors import UserError

from .business import service_parts, transactional_access
from .context import TenantContext
from .function import ServiceFunction
from .iam import Grant
from .messaging import encrypted_topic
from .routes import Route, service_routes
from .tables import TableSpec, TenantDataStores, tenant_table

SERVICE = "payment"
PAYMENTS = TableSpec("payments")
#: The entry of ``integration.api_keys_reference`` that names the provider's API key secret.
PROVIDER_KEY_REFERENCE = "provider_api_key"
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue",)


@dataclass(frozen=True)
class PaymentServiceArgs:
    ctx: TenantContext
    #: The tenant's shared audit and idempotency tables.
    stores: TenantDataStores
    #: The secrets component's ARNs, keyed by the registry's ``secrets`` entry names.
    secret_arns: Mapping[str, pulumi.Input[str]]


def provider_secret_arn(ctx: TenantContext, secret_arns: Mapping[str, pulumi.Input[str]]) -> pulumi.Input[str]:
    """The ARN of the provider API key secret the payment config refers to, or a clear error."""
    references = ctx.service_config(SERVICE, payment_schema.PaymentConfig).integration.api_keys_reference
    reference = references.get(PROVIDER_KEY_REFERENCE)
    where = ctx.settings.source
    if not reference:
        raise UserError(
            f"{where}: config.services.payment.integration.api_keys_reference",
            f"no '{PROVIDER_KEY_REFERENCE}' entry; expected the name of an entry of 'secrets'",
        )
    if reference not in secret_arns:
        raise UserError(f"{where}: secrets", f"no '{reference}' entry; the payment service's provider API key refers to it")
    return secret_arns[reference]


class PaymentService(pulumi.ComponentResource):
    """``ubertruck:payment:PaymentService`` — payments table, events topic, role, API function."""

    table: aws.dynamodb.Table
    events_topic: aws.sns.Topic
    function: ServiceFunction
    routes: list[Route]
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: PaymentServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:payment:PaymentService", name, None, opts)
        ctx, stores = args.ctx, args.stores
        secret_arn = provider_secret_arn(ctx, args.secret_arns)
        self.table = tenant_table(ctx, PAYMENTS, self)
        self.events_topic = encrypted_topic(ctx, self, SERVICE, "events")
        access = transactional_access(ctx, stores, "payments_table", self.table, self.events_topic).plus(
            [Grant(SECRET_READ_ACTIONS, [secret_arn])], {"provider_secret_arn": secret_arn}
        )
        parts = service_parts(self, ctx, SERVICE, "api", access)
        self.function = parts.function
        self.routes = service_routes(SERVICE, self.function)
        self.outputs = {
            "payments_table": self.table.name,
            "payment_events_topic_arn": self.events_topic.arn,
            "payment_function": self.function.function.name,
        }
        self.register_outputs(self.outputs)
