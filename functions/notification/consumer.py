"""The queue consumer: one notification per event record, failures reported per record.

For each SQS record (Powertools batch, ``ReportBatchItemFailures``):

1. the body must be an event envelope, for this function's own tenant; another tenant's event is
   refused (``TenantMismatch``) and reported as failed, so it ends in the DLQ for inspection and
   nothing is sent;
2. the event type names a template (``booking.created`` -> ``booking_created``); an event with no
   template in config is acknowledged without sending (``NotificationSkipped``);
3. the template is rendered from the event data and sent on the template's channels;
4. one audit record is written for the record, whatever its outcome.

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

from .channels import USER_FIELD, Outbox
from .config_schema import NotificationConfig
from .models import EventEnvelope
from .rendering import RenderError, render

SENT_METRIC, SKIPPED_METRIC, FAILED_METRIC = "NotificationSent", "NotificationSkipped", "NotificationFailed"
CHANNEL_SKIPPED_METRIC = "NotificationChannelSkipped"
SKIPPED = "skipped"
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

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda handler body: the partial batch response."""
        self._runtime.obs.annotate(tenant_id=self._runtime.env.tenant_id, operation="notification:consume")
        # A batch whose every record fails is reported the same way: record by record.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(event=event, record_handler=self.process, processor=processor, context=context)

    def process(self, record: SQSRecord) -> None:
        """Notify for one record; raises (the record fails) when it cannot be sent."""
        snapshot = self._runtime.config.service_config()
        action, user, outcome, resource = f"{ACTION_PREFIX}unknown", QUEUE_CALLER, ERROR, None
        try:
            envelope = self._envelope(record)
            action, resource = f"{ACTION_PREFIX}{envelope.template_name}", envelope.event_id
            user = str(envelope.data.get(USER_FIELD) or QUEUE_CALLER)
            outcome = self._notify(envelope, snapshot)
        except ForeignEvent:
            outcome = DENIED
            self._runtime.obs.count(TENANT_MISMATCH)
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

    def _notify(self, envelope: EventEnvelope, snapshot: ConfigSnapshot[NotificationConfig]) -> str:
        config = snapshot.model
        template = config.business.templates.get(envelope.template_name)
        if template is None:
            self._runtime.obs.count(SKIPPED_METRIC)
            self._runtime.logger.info("no template for event type", extra={"event_type": envelope.event_type, "event_id": envelope.event_id})
            return SKIPPED
        message = render(template, envelope.data, config.business)
        result = self._outbox_for().send(config.business.channels.get(envelope.template_name, []), message, envelope, config)
        for _ in result.sent:
            self._runtime.obs.count(SENT_METRIC)
        for channel in result.skipped:
            self._runtime.obs.count(CHANNEL_SKIPPED_METRIC)
            self._runtime.logger.info("channel not applicable", extra={"channel": channel, "event_id": envelope.event_id})
        self._runtime.obs.count(OPERATION_SUCCESS)
        return SUCCESS if result.sent else SKIPPED

    def _fail(self, record: SQSRecord, exc: Exception) -> None:
        self._runtime.obs.count(FAILED_METRIC)
        # The error's kind and message only: the body may carry personal data.
        self._runtime.logger.warning("notification failed", extra={"message_id": record.message_id, "error_type": type(exc).__name__})

    def _outbox_for(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(self._runtime.aws.client("sns"), self._runtime.aws.client("ses"))
        return self._outbox
