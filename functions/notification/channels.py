"""Delivery channels: the outbound SNS topic, and SES where a sender is configured.

``sns`` publishes a JSON document (template, subject, body, recipient user) to the outbound topic,
whose subscribers (SMS, push, e-mail fan-out) deliver it. ``ses`` sends an e-mail from
``integration/service_endpoints.ses_sender`` to the address in the event data field
``business/email_recipient_field``. A channel that cannot apply (no sender configured, no
address in the event) is skipped and named in the result: that is config, not a failure to retry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from .config_schema import SES_CHANNEL, SNS_CHANNEL, NotificationConfig
from .models import EventEnvelope
from .rendering import RenderedMessage

USER_FIELD = "user_id"


@dataclass
class DeliveryResult:
    """The channels a message went out on, and those skipped because they do not apply."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Outbox:
    """Sends rendered messages with low-level SNS and SES clients."""

    def __init__(self, sns_client: Any, ses_client: Any) -> None:
        self._sns = sns_client
        self._ses = ses_client

    def send(self, channels: Sequence[str], message: RenderedMessage, event: EventEnvelope, config: NotificationConfig) -> DeliveryResult:
        """Send ``message`` on each of ``channels``; an error on any channel propagates (the record is retried)."""
        result = DeliveryResult()
        for channel in channels:
            if channel == SNS_CHANNEL:
                self._publish(message, event, config)
                result.sent.append(channel)
            elif channel == SES_CHANNEL and self._email(message, event, config):
                result.sent.append(channel)
            else:
                result.skipped.append(channel)
        return result

    def _publish(self, message: RenderedMessage, event: EventEnvelope, config: NotificationConfig) -> None:
        document = {
            "event_id": event.event_id,
            "template": event.template_name,
            "tenant_id": event.tenant_id,
            "user_id": event.data.get(USER_FIELD),
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

    def _email(self, message: RenderedMessage, event: EventEnvelope, config: NotificationConfig) -> bool:
        sender = config.integration.service_endpoints.ses_sender
        recipient = event.data.get(config.business.email_recipient_field)
        if not sender or not isinstance(recipient, str) or not recipient:
            return False
        self._ses.send_email(
            Source=sender,
            Destination={"ToAddresses": [recipient]},
            Message={"Subject": {"Data": message.subject, "Charset": "UTF-8"}, "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}}},
        )
        return True
