"""Delivery channels: the outbound SNS topic, and SES where a sender is configured.

``sns`` publishes a JSON document (template, subject, body, user and the resolved recipient's
addresses) to the outbound topic, whose subscribers (SMS, push, e-mail fan-out) deliver it.
``ses`` sends an e-mail from ``integration/service_endpoints.ses_sender`` to the resolved
recipient's e-mail address (``notification.recipients``; never an address from the event). A
channel that cannot apply (no sender configured, no e-mail address) is skipped and named in the
result: that is config or data, not a failure to retry. Each send that applies runs at most once
per event and channel (``notification.sent_records``); one already sent is named ``repeated``,
and one a crashed delivery may or may not have sent (so it is not sent again) ``unknown``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from .config_schema import SES_CHANNEL, SNS_CHANNEL, NotificationConfig
from .models import EventEnvelope
from .recipients import USER_FIELD, Recipient
from .rendering import RenderedMessage
from .sent_records import SENT_NOW, UNKNOWN, SentRecords


@dataclass
class DeliveryResult:
    """The channels a message went out on now, those it had gone out on before (a redelivery),
    those an earlier delivery ended on mid-send (it may or may not have gone out), and those
    skipped because they do not apply."""

    sent: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """One message to send: what, for which event, to whom, and the invocation sending it."""

    message: RenderedMessage
    event: EventEnvelope
    recipient: Recipient
    lambda_context: Any = None


class Outbox:
    """Sends rendered messages with low-level SNS and SES clients, each at most once per channel."""

    def __init__(self, sns_client: Any, ses_client: Any, sent_records: SentRecords) -> None:
        self._sns = sns_client
        self._ses = ses_client
        self._records = sent_records

    def send(self, channels: Sequence[str], delivery: Delivery, config: NotificationConfig, result: DeliveryResult) -> None:
        """Send ``delivery`` on each of ``channels``, noting each channel's fate in ``result`` as it
        happens; an error on any channel propagates (the record is retried, and the channels
        already sent, which ``result`` names, are not sent again)."""
        senders = {SNS_CHANNEL: self._publish, SES_CHANNEL: self._email}
        for channel in channels:
            if not self._applies(channel, delivery, config):
                result.skipped.append(channel)
                continue
            outcome = self._records.send_once(
                functools.partial(senders[channel], delivery, config),
                event_id=delivery.event.event_id,
                channel=channel,
                table=config.integration.resources.idempotency_table,
                retention_seconds=config.business.sent_record_retention_seconds,
                lambda_context=delivery.lambda_context,
            )
            (result.sent if outcome == SENT_NOW else result.unknown if outcome == UNKNOWN else result.repeated).append(channel)

    @staticmethod
    def _applies(channel: str, delivery: Delivery, config: NotificationConfig) -> bool:
        if channel == SES_CHANNEL:
            return bool(config.integration.service_endpoints.ses_sender and delivery.recipient.email)
        return delivery.recipient.resolved

    def _publish(self, delivery: Delivery, config: NotificationConfig) -> None:
        event, message = delivery.event, delivery.message
        document = {
            "event_id": event.event_id,
            "template": event.template_name,
            "tenant_id": event.tenant_id,
            "user_id": event.data.get(USER_FIELD),
            "recipient": delivery.recipient.document(),
            "subject": message.subject,
            "body": message.body,
        }
        self._sns.publish(
            TopicArn=config.integration.resources.outbound_topic_arn,
            Message=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
            MessageAttributes={
                "template": {"DataType": "String", "StringValue": event.template_name},
                "tenant_id": {"DataType": "String", "StringValue": event.tenant_id},
            },
        )

    def _email(self, delivery: Delivery, config: NotificationConfig) -> None:
        message = delivery.message
        self._ses.send_email(
            Source=config.integration.service_endpoints.ses_sender,
            Destination={"ToAddresses": [delivery.recipient.email]},
            Message={"Subject": {"Data": message.subject, "Charset": "UTF-8"}, "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}}},
        )
