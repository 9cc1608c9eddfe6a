"""The notification service's config schema: what it reads from ``/{tenant}/services/notification/{env}``.

    business/templates             per template: subject and body with ``{placeholders}``
    business/channels              per template: the channels it goes out on (``sns``, ``ses``)
    business/amount_placeholders   placeholder -> the event data field holding an amount in minor units
    business/currency_display      currency -> symbol and minor-unit digits
    business/recipients            where recipients come from (``sources``, in order) and ``verified_only``
    business/sent_record_retention_seconds  how long the record that an event went out on a channel is kept
    technical/queue                the event queue, its DLQ and the event source mapping (SQS and Lambda limits)
    technical/scaling_policies, performance_thresholds, cache
    integration/service_endpoints  ``ses_sender``: the SES identity to send from ("" = no SES)
    integration/resources          queue, DLQ, outbound topic; audit, idempotency and bookings tables; user pool
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from common.config_schema import CONTRACT, AuditedResources, ContractModel, FunctionTechnical, QueueSettings, ServiceContract

SNS_CHANNEL, SES_CHANNEL = "sns", "ses"
Channel = Literal["sns", "ses"]
USER_DIRECTORY, BOOKING_CONTACT = "user_directory", "booking_contact"
RecipientSource = Literal["user_directory", "booking_contact"]


class Template(ContractModel):
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)


class CurrencyDisplay(ContractModel):
    symbol: str
    minor_digits: NonNegativeInt


class RecipientRules(ContractModel):
    """Where a message's addresses come from: never the event, always the tenant's own records."""

    sources: list[RecipientSource] = Field(min_length=1)
    #: Directory addresses count only when the pool marks them verified.
    verified_only: bool

    @model_validator(mode="after")
    def _sources_once(self) -> RecipientRules:
        if len(set(self.sources)) != len(self.sources):
            raise ValueError("each source may be named once")
        return self


class NotificationBusiness(ContractModel):
    templates: dict[str, Template]
    channels: dict[str, list[Channel]]
    amount_placeholders: dict[str, str] = Field(default_factory=dict)
    currency_display: dict[str, CurrencyDisplay] = Field(default_factory=dict)
    recipients: RecipientRules
    sent_record_retention_seconds: PositiveInt

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
    idempotency_table: str = Field(min_length=1)
    bookings_table: str = Field(min_length=1)
    user_pool_id: str = Field(min_length=1)


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
