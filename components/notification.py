"""The notification service: turns booking and payment events into messages to people.

Both event topics deliver (raw) into ``<prefix>-notifications``, whose policy admits only
those two topics. A Lambda event source mapping feeds the ``consumer`` function in batches and
reports partial failures (Powertools batch), so only the failed messages are retried; after
``max_receive_count`` receives a message moves to ``<prefix>-notifications-dlq``. Messages go
out through ``<prefix>-notifications-out`` (and SES where ``integration.service_endpoints.
ses_sender`` is set). Queue sizes, batching and retention are the service's ``technical.queue``
config; templates and channels are business config the function reads at run time.

Recipients come from the tenant's own records: the consumer may read one user of the tenant's
pool (``cognito-idp:AdminGetUser``) and one booking (``dynamodb:GetItem`` on the bookings table),
and it claims each (event, channel) send in the shared idempotency table, so an event is sent at
most once per channel: a conditional ``PutItem`` writes the claim (and returns the one already
there), ``UpdateItem`` marks it sent, ``DeleteItem`` releases it when the channel refused the
message (``SEND_CLAIM_ACTIONS``). Nothing else of any of them is granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import common_schema, notification_schema
from ubertruck.errors import UserError

from .business import ServiceAccess, audit_writer, service_parts
from .context import TenantContext, child
from .function import ServiceFunction
from .iam import Grant
from .messaging import DeadLetteredQueue, QueueSpec, consume_grant, encrypted_topic, publish_grants, subscribe_queue
from .tables import TenantDataStores

SERVICE = "notification"
QUEUE_NAME = "notifications"
#: Lambda reports a batch's failed items itself, so only those are retried (Powertools batch).
PARTIAL_BATCH_RESPONSE = "ReportBatchItemFailures"
SES_SEND_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")
#: Recipient look-ups: one user of the tenant's pool, one booking's details item.
DIRECTORY_READ_ACTIONS = ("cognito-idp:AdminGetUser",)
BOOKING_READ_ACTIONS = ("dynamodb:GetItem",)
#: The send claims in the idempotency table: claim (reading the claim already there in the same
#: call), mark sent, release (``functions/notification/sent_records.py``).
SEND_CLAIM_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
#: Lambda's own rule for SQS sources: above this batch size a batching window is required.
UNWINDOWED_BATCH_LIMIT = 10  # antipattern: ignore[UT005] reason: fixed by AWS Lambda for SQS event sources, not a setting


@dataclass(frozen=True)
class NotificationServiceArgs:
    ctx: TenantContext
    #: The tenant's shared tables (the consumer writes to the audit table and claims sends in
    #: the idempotency table).
    stores: TenantDataStores
    #: The topics whose events become notifications, keyed by a short name
    #: (``{"booking-events": booking.events_topic, "payment-events": payment.events_topic}``).
    event_topics: Mapping[str, aws.sns.Topic]
    #: The booking service's table, whose bookings carry the contact a message may go to.
    bookings_table: aws.dynamodb.Table
    #: The tenant's user pool, whose users' verified addresses messages go to.
    user_pool: aws.cognito.UserPool


def checked_queue(ctx: TenantContext) -> common_schema.QueueSettings:
    """The service's ``technical.queue`` config (each entry within AWS's limits, by the schema),
    checked against the rules AWS enforces at apply time that span other entries, and against the
    send records' retention (``business.sent_record_retention_seconds``), which must outlive any
    message; so a bad tenant override fails in the plan with the entry named."""
    config = ctx.service_config(SERVICE, notification_schema.NotificationConfig)
    queue = config.technical.queue
    where = f"tenant {ctx.tenant_id} ({ctx.environment}): services.{SERVICE}.technical.queue"
    function_timeout = ctx.settings.global_config.operational.timeouts.function_timeout_seconds
    if queue.visibility_timeout_seconds < function_timeout:
        raise UserError(f"{where}.visibility_timeout_seconds", f"must be at least the function timeout ({function_timeout} s), or messages are delivered twice")
    reserved = config.technical.scaling_policies.reserved_concurrency
    if queue.max_concurrency > reserved:
        raise UserError(f"{where}.max_concurrency", f"must not exceed scaling_policies.reserved_concurrency ({reserved}), or polled batches are throttled")
    if queue.batch_size > UNWINDOWED_BATCH_LIMIT and queue.max_batching_window_seconds < 1:
        raise UserError(f"{where}.max_batching_window_seconds", f"must be at least 1 when batch_size exceeds {UNWINDOWED_BATCH_LIMIT}")
    # A message can be delivered again until it expires in the queue or, moved there with its
    # original enqueue time, in the DLQ; a send record must outlive it or a redelivery resends.
    longest = max(queue.message_retention_seconds, queue.dlq_message_retention_seconds)
    if config.business.sent_record_retention_seconds < longest:
        raise UserError(
            f"tenant {ctx.tenant_id} ({ctx.environment}): services.{SERVICE}.business.sent_record_retention_seconds",
            f"must be at least the queue's and the DLQ's message retention ({longest} s), or a redelivered event is sent again",
        )
    return queue


def checked_queue_settings(ctx: TenantContext) -> dict[str, Any]:
    """``checked_queue`` as a mapping of entry name to value, for comparing with a config tree."""
    return checked_queue(ctx).model_dump()


def recipient_grants(args: NotificationServiceArgs) -> list[Grant]:
    """Read one user of the tenant's pool and one booking: where recipients come from."""
    return [Grant(DIRECTORY_READ_ACTIONS, [args.user_pool.arn]), Grant(BOOKING_READ_ACTIONS, [args.bookings_table.arn])]


def ses_grants(ctx: TenantContext) -> list[Grant]:
    """Send as the configured SES sender identity, when there is one."""
    sender = ctx.service_config(SERVICE, notification_schema.NotificationConfig).integration.service_endpoints.ses_sender
    return [Grant(SES_SEND_ACTIONS, [ctx.arn("ses", f"identity/{sender}")])] if sender else []


class NotificationService(pulumi.ComponentResource):
    """``ubertruck:notification:NotificationService`` — queue + DLQ subscribed to the event
    topics, outbound topic, role, consumer function and its event source mapping."""

    queue: DeadLetteredQueue
    outbound_topic: aws.sns.Topic
    function: ServiceFunction
    event_source: aws.lambda_.EventSourceMapping
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: NotificationServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:notification:NotificationService", name, None, opts)
        ctx, stores = args.ctx, args.stores
        settings = checked_queue(ctx)
        self.queue = DeadLetteredQueue(ctx, self, QueueSpec(QUEUE_NAME, settings))
        subscribe_queue(self, self.queue, args.event_topics)
        self.outbound_topic = encrypted_topic(ctx, self, QUEUE_NAME, "out")
        access = ServiceAccess(
            (
                consume_grant(self.queue.queue),
                *publish_grants(ctx, self.outbound_topic),
                audit_writer(stores),
                Grant(SEND_CLAIM_ACTIONS, [stores.idempotency.arn]),
                *recipient_grants(args),
                *ses_grants(ctx),
            ),
            {
                "queue_url": self.queue.queue.url,
                "dlq_url": self.queue.dlq.url,
                "outbound_topic_arn": self.outbound_topic.arn,
                "audit_table": stores.audit.name,
                "idempotency_table": stores.idempotency.name,
                "bookings_table": args.bookings_table.name,
                "user_pool_id": args.user_pool.id,
            },
        )
        parts = service_parts(self, ctx, SERVICE, "consumer", access)
        self.function = parts.function
        self.event_source = aws.lambda_.EventSourceMapping(
            ctx.name(SERVICE, "consumer", "queue"),
            event_source_arn=self.queue.queue.arn,
            # Known in a first preview, where the function's own output is not (tenant-name-prefix reads it).
            function_name=self.function.arn,
            batch_size=settings.batch_size,
            maximum_batching_window_in_seconds=settings.max_batching_window_seconds,
            scaling_config={"maximum_concurrency": settings.max_concurrency},
            function_response_types=[PARTIAL_BATCH_RESPONSE],
            tags=ctx.tags,
            # The role must allow receiving before Lambda starts polling.
            opts=child(self, depends_on=[parts.role]),
        )
        self.outputs = {
            "notification_queue_url": self.queue.queue.url,
            "notification_dlq_url": self.queue.dlq.url,
            "notification_outbound_topic_arn": self.outbound_topic.arn,
        }
        self.register_outputs(self.outputs)
