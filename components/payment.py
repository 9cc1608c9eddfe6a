"""The payment service: authorizes, captures and refunds through the tenant's payment provider.

Payments live in ``<prefix>-payments`` (with ``expires_at`` for the retention TTL); authorize
and capture are idempotent through the shared idempotency table; every operation is audited;
each change is published on ``<prefix>-payment-events``. The provider's API key is the
Secrets Manager secret the registry names in ``secrets``; the payment config's
``integration.api_keys_reference.provider_api_key`` says which entry, and the role may read
exactly that one secret.

Authorize reads the booking it pays for (``dynamodb:GetItem`` on the bookings table, nothing
else of it) to find the booking's customer. Every operation stores its intent, with a marker,
before the provider is asked, and drops the marker when done (``dynamodb:DeleteItem`` on the
payments table, the one action the service's own items need beyond the usual four). The
``reconciler`` function settles operations left unfinished: an EventBridge rule invokes it every
``technical.reconciliation.schedule_minutes``, and only that rule may (the permission names it).
It runs with the service's role: it touches exactly the payments table, the provider secret, the
events topic and the audit table the API does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import payment_schema
from ubertruck.errors import UserError

from .business import service_parts, transactional_access
from .context import TenantContext, child
from .function import ServiceFunction, ServiceFunctionArgs
from .iam import Grant
from .messaging import encrypted_topic
from .routes import Route, service_routes
from .tables import TableSpec, TenantDataStores, tenant_table

SERVICE = "payment"
PAYMENTS = TableSpec("payments")
#: The entry of ``integration.api_keys_reference`` that names the provider's API key secret.
PROVIDER_KEY_REFERENCE = "provider_api_key"
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue",)
#: The booking a payment is for: one item, read.
BOOKING_READ_ACTIONS = ("dynamodb:GetItem",)
#: Markers of unfinished operations are deleted once the operation is over.
MARKER_DELETE_ACTIONS = ("dynamodb:DeleteItem",)
RECONCILER = "reconciler"
SCHEDULER_PRINCIPAL = "events.amazonaws.com"
SECONDS_PER_MINUTE = 60


@dataclass(frozen=True)
class PaymentServiceArgs:
    ctx: TenantContext
    #: The tenant's shared audit and idempotency tables.
    stores: TenantDataStores
    #: The secrets component's ARNs, keyed by the registry's ``secrets`` entry names.
    secret_arns: Mapping[str, pulumi.Input[str]]
    #: The booking service's table: authorize reads the booking's customer from it.
    bookings_table: aws.dynamodb.Table


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


def rate_expression(minutes: int) -> str:
    """An EventBridge rate expression (the unit is singular for one).

    >>> rate_expression(1), rate_expression(5)
    ('rate(1 minute)', 'rate(5 minutes)')
    """
    return f"rate({minutes} minute{'' if minutes == 1 else 's'})"


def checked_reconciliation(ctx: TenantContext) -> payment_schema.ReconciliationSettings:
    """The reconciler's config, checked against the function timeout: an operation younger than
    that may still be waiting on the provider in its own request, and is left alone."""
    settings = ctx.service_config(SERVICE, payment_schema.PaymentConfig).technical.reconciliation
    function_timeout = ctx.settings.global_config.operational.timeouts.function_timeout_seconds
    if settings.settle_after_minutes * SECONDS_PER_MINUTE < function_timeout:
        raise UserError(
            f"tenant {ctx.tenant_id} ({ctx.environment}): services.{SERVICE}.technical.reconciliation.settle_after_minutes",
            f"must be at least the function timeout ({function_timeout} s), or the reconciler races requests still in flight",
        )
    return settings


class PaymentService(pulumi.ComponentResource):
    """``ubertruck:payment:PaymentService`` — payments table, events topic, role, API function,
    and the scheduled reconciler (function, rule, target, invoke permission)."""

    table: aws.dynamodb.Table
    events_topic: aws.sns.Topic
    function: ServiceFunction
    reconciler: ServiceFunction
    schedule: aws.cloudwatch.EventRule
    routes: list[Route]
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: PaymentServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:payment:PaymentService", name, None, opts)
        ctx, stores = args.ctx, args.stores
        secret_arn = provider_secret_arn(ctx, args.secret_arns)
        reconciliation = checked_reconciliation(ctx)
        self.table = tenant_table(ctx, PAYMENTS, self)
        self.events_topic = encrypted_topic(ctx, self, SERVICE, "events")
        access = transactional_access(ctx, stores, "payments_table", self.table, self.events_topic).plus(
            [
                Grant(SECRET_READ_ACTIONS, [secret_arn]),
                Grant(BOOKING_READ_ACTIONS, [args.bookings_table.arn]),
                Grant(MARKER_DELETE_ACTIONS, [self.table.arn]),
            ],
            {"provider_secret_arn": secret_arn, "bookings_table": args.bookings_table.name},
        )
        parts = service_parts(self, ctx, SERVICE, "api", access)
        self.function = parts.function
        self.routes = service_routes(SERVICE, self.function)
        self.reconciler = ServiceFunction(
            ctx.name(SERVICE, RECONCILER),
            ServiceFunctionArgs(ctx, SERVICE, RECONCILER, parts.role.arn, parts.resources, handler_module=RECONCILER),
            opts=child(self),
        )
        self.schedule = self._schedule(ctx, rate_expression(reconciliation.schedule_minutes))
        self.outputs = {
            "payments_table": self.table.name,
            "payment_events_topic_arn": self.events_topic.arn,
            "payment_function": self.function.function.name,
            "payment_reconciler_function": self.reconciler.function.name,
        }
        self.register_outputs(self.outputs)

    def _schedule(self, ctx: TenantContext, expression: str) -> aws.cloudwatch.EventRule:
        """The rule that invokes the reconciler, its target, and the permission naming that rule."""
        name = ctx.name(SERVICE, RECONCILER, "schedule")
        rule = aws.cloudwatch.EventRule(
            name, name=name, description=f"{ctx.prefix}: settle unfinished payment operations", schedule_expression=expression, tags=ctx.tags, opts=child(self)
        )
        function = self.reconciler.function
        aws.cloudwatch.EventTarget(name, rule=rule.name, arn=function.arn, opts=child(self))
        aws.lambda_.Permission(
            name,
            action="lambda:InvokeFunction",
            function=function.name,
            principal=SCHEDULER_PRINCIPAL,
            source_arn=rule.arn,
            # The rule's ARN names this account already; the account pins it for any principal.
            source_account=ctx.account_id,
            opts=child(self),
        )
        return rule
