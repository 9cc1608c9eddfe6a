"""The notification service's config schema: what it reads from ``/{tenant}/services/notification/{env}``.

    business/templates             per template: subject and body with ``{placeholders}``
    business/channels              per template: the channels it goes out on (``sns``, ``ses``)
    business/amount_placeholders   placeholder -> the event data field holding an amount in minor units
    business/currency_display      currency -> symbol and minor-unit digits
    business/email_recipient_field the event data field holding the recipient's e-mail address
    technical/queue                the event queue, its DLQ and the event source mapping (SQS and Lambda limits)
    technical/scaling_policies, performance_thresholds, cache
    integration/service_endpoints  ``ses_sender``: the SES identity to send from ("" = no SES)
    integration/resources          queue, DLQ, outbound topic and audit table
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, model_validator

from common.config_schema import CONTRACT, AuditedResources, ContractModel, FunctionTechnical, QueueSettings, ServiceContract

SNS_CHANNEL, SES_CHANNEL = "sns", "ses"
Channel = Literal["sns", "ses"]


class Template(ContractModel):
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)


class CurrencyDisplay(ContractModel):
    symbol: str
    minor_digits: NonNegativeInt


class NotificationBusiness(ContractModel):
    templates: dict[str, Template]
    channels: dict[str, list[Channel]]
    amount_placeholders: dict[str, str] = Field(default_factory=dict)
    currency_display: dict[str, CurrencyDisplay] = Field(default_factory=dict)
    email_recipient_field: str = Field(min_length=1)

    @model_validator(mode="after")
    def _channels_name_templates(self) -> NotificationBusiness:
        unknown = sorted(set(self.channels) - set(self.templates))
        if unknown:
            raise ValueError(f"channels name templates that do not exist: {unknown}")
        return self


class NotificationTechnical(FunctionTechnical):
    queue: QueueSettings


class ServiceEndpoints(ContractModel):
    ses_sender: str = ""


class NotificationResources(AuditedResources):
    model_config = CONTRACT

    queue_url: str = Field(min_length=1)
    dlq_url: str = Field(min_length=1)
    outbound_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:")


class NotificationIntegration(ContractModel):
    service_endpoints: ServiceEndpoints = Field(default_factory=ServiceEndpoints)
    resources: NotificationResources


class NotificationConfig(ServiceContract):
    business: NotificationBusiness  # type: ignore[assignment]
    technical: NotificationTechnical
    integration: NotificationIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "notification"
SCHEMA = NotificationConfig
