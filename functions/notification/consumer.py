"""The queue consumer: one notification per event record, each channel at most once, failures
reported per record.

For each SQS record (Powertools batch, ``ReportBatchItemFailures``):

1. the body must be an event envelope, for this function's own tenant; another tenant's event is
   refused (``TenantMismatch``) and reported as failed, so it ends in the DLQ for inspection and
   nothing is sent;
2. the event type names a template (``booking.created`` -> ``booking_created``); an event with no
   template in config is acknowledged without sending (``NotificationSkipped``);
3. the template is rendered from the event data;
4. the recipient is resolved from the tenant's user pool and the booking's contact
   (``notification.recipients``), never from the event's own fields; an event with no address at
   all is acknowledged without sending (``NotificationRecipientUnresolved``, audit outcome
   ``unresolved``): retrying would not find one;
5. the message is sent on the template's channels, each guarded by a claim on (event id, channel)
   in the idempotency table (``notification.sent_records``): a channel already sent for this event
   sends nothing (``NotificationRepeatSuppressed``), a channel another delivery is still
   sending fails the record, which SQS delivers again later (``NotificationInProgress``), and a
   channel an earlier delivery crashed or timed out on mid-send sends nothing either: it may or
   may not have gone out, so it is counted ``NotificationOutcomeUnknown``, logged with the event
   id and channel, and the record is acknowledged (audit outcome ``unknown``, whatever the other
   channels did, so the record stands out for inspection);
6. one audit record is written for the record, whatever its outcome.

A record that fails is reported in ``batchItemFailures``; the others are acknowledged. After
``max_receive_count`` receives SQS moves a failing message to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from common.audit import DENIED, ERROR, REJECTED, SUCCESS
from common.config_client import ConfigSnapshot
from common.observability import OPERATION_SUCCESS, TENANT_MISMATCH
from common.runtime import FunctionRuntime

from .channels import Delivery, DeliveryResult, Outbox
from .config_schema import NotificationConfig
from .models import EventEnvelope
from .recipients import USER_FIELD, RecipientResolver
from .rendering import RenderError, render
from .sent_records import DeliveryInProgress, SentRecords

SENT_METRIC, SKIPPED_METRIC, FAILED_METRIC = "NotificationSent", "NotificationSkipped", "NotificationFailed"
CHANNEL_SKIPPED_METRIC = "NotificationChannelSkipped"
UNRESOLVED_METRIC = "NotificationRecipientUnresolved"
REPEAT_METRIC, IN_PROGRESS_METRIC = "NotificationRepeatSuppressed", "NotificationInProgress"
UNKNOWN_METRIC = "NotificationOutcomeUnknown"
# Audit outcomes of the consumer's own (common.audit holds the shared ones).
SKIPPED, UNRESOLVED, REPEATED, IN_PROGRESS, UNKNOWN = "skipped", "unresolved", "repeated", "in_progress", "unknown"
# Who acts when the consumer sends: the notification service itself, on the queue's behalf.
QUEUE_CALLER = "sqs.amazonaws.com"
ACTION_PREFIX = "notification:"


class ForeignEvent(Exception):
    """The event names another tenant than the function's own."""


class NotificationConsumer:
    """Processes one SQS batch per invocation with Powertools batch."""

    def __init__(self, runtime: FunctionRuntime[NotificationConfig]) -> None:
        self._runtime = runtime
        self._outbox: Outbox | None = None
        self._recipients = RecipientResolver(runtime.env.tenant_id, runtime.aws)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda handler body: the partial batch response."""
        self._runtime.obs.annotate(tenant_id=self._runtime.env.tenant_id, operation="notification:consume")
        # A batch whose every record fails is reported the same way: record by record.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(event=event, record_handler=self.process, processor=processor, context=context)

    def process(self, record: SQSRecord, lambda_context: Any = None) -> None:
        """Notify for one record; raises (the record fails) when it cannot be sent now."""
        snapshot = self._runtime.config.service_config()
        action, user, outcome, resource = f"{ACTION_PREFIX}unknown", QUEUE_CALLER, ERROR, None
        try:
            envelope = self._envelope(record)
            action, resource = f"{ACTION_PREFIX}{envelope.template_name}", envelope.event_id
            user = str(envelope.data.get(USER_FIELD) or QUEUE_CALLER)
            outcome = self._notify(envelope, snapshot, lambda_context)
        except ForeignEvent:
            outcome = DENIED
            self._runtime.obs.count(TENANT_MISMATCH)
            raise
        except DeliveryInProgress:
            outcome = IN_PROGRESS
            self._runtime.obs.count(IN_PROGRESS_METRIC)
            self._runtime.logger.info("another delivery is sending this event", extra={"message_id": record.message_id})
            raise
        except (ValidationError, RenderError, ValueError) as exc:
            outcome = REJECTED
            self._fail(record, exc)
            raise
        except Exception as exc:
            self._fail(record, exc)
            raise
        finally:
            self._runtime.record_audit(action=action, user_id=user, request_id=record.message_id, outcome=outcome, resource_id=resource, service_snapshot=snapshot)

    def _envelope(self, record: SQSRecord) -> EventEnvelope:
        envelope = EventEnvelope.model_validate_json(record.body)
        if envelope.tenant_id != self._runtime.env.tenant_id:
            raise ForeignEvent("the event names another tenant")
        return envelope

    def _notify(self, envelope: EventEnvelope, snapshot: ConfigSnapshot[NotificationConfig], lambda_context: Any) -> str:
        config = snapshot.model
        template = config.business.templates.get(envelope.template_name)
        if template is None:
            self._runtime.obs.count(SKIPPED_METRIC)
            self._runtime.logger.info("no template for event type", extra={"event_type": envelope.event_type, "event_id": envelope.event_id})
            return SKIPPED
        message = render(template, envelope.data, config.business)
        recipient = self._recipients.resolve(envelope, config)
        if not recipient.resolved:
            self._runtime.obs.count(UNRESOLVED_METRIC)
            # Ids only: the event's data may carry personal data.
            self._runtime.logger.warning("no recipient for event", extra={"event_type": envelope.event_type, "event_id": envelope.event_id})
            return UNRESOLVED
        delivery = Delivery(message, envelope, recipient, lambda_context)
        result = DeliveryResult()
        try:
            self._outbox_for().send(config.business.channels.get(envelope.template_name, []), delivery, config, result)
        finally:
            # Counted even when a later channel fails: what went out, went out.
            self._count(result, envelope)
        self._runtime.obs.count(OPERATION_SUCCESS)
        if result.unknown:
            return UNKNOWN
        return SUCCESS if result.sent else REPEATED if result.repeated else SKIPPED

    def _count(self, result: DeliveryResult, envelope: EventEnvelope) -> None:
        for _ in result.sent:
            self._runtime.obs.count(SENT_METRIC)
        for channel in result.repeated:
            self._runtime.obs.count(REPEAT_METRIC)
            self._runtime.logger.info("already sent on channel", extra={"channel": channel, "event_id": envelope.event_id})
        for channel in result.unknown:
            self._runtime.obs.count(UNKNOWN_METRIC)
            # Ids only: no address. Someone may need to check whether this one went out.
            self._runtime.logger.warning("an earlier delivery ended mid-send: not sent again", extra={"channel": channel, "event_id": envelope.event_id})
        for channel in result.skipped:
            self._runtime.obs.count(CHANNEL_SKIPPED_METRIC)
            self._runtime.logger.info("channel not applicable", extra={"channel": channel, "event_id": envelope.event_id})

    def _fail(self, record: SQSRecord, exc: Exception) -> None:
        self._runtime.obs.count(FAILED_METRIC)
        # The error's kind and message only: the body may carry personal data.
        self._runtime.logger.warning("notification failed", extra={"message_id": record.message_id, "error_type": type(exc).__name__})

    def _outbox_for(self) -> Outbox:
        if self._outbox is None:
            aws = self._runtime.aws
            self._outbox = Outbox(aws.client("sns"), aws.client("ses"), SentRecords(aws.client("dynamodb")))
        return self._outbox
