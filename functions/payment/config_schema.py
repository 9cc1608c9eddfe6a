"""The payment service's config schema: what it reads from ``/{tenant}/services/payment/{env}``.

    business/business_rules     the tenant's currency, the largest amount, idempotency record lifetime
    technical/circuit_breakers  failures that open the provider circuit, and how long it stays open
    technical/cache             config cache age, and how long the provider API key is kept
    integration/external_apis   the provider's HTTPS endpoint; the API key's field in its secret
    integration/resources       payments, audit and idempotency tables; events topic; provider secret

>>> PaymentConfig.model_validate(config_tree).integration.external_apis.provider_endpoint     # doctest: +SKIP
'https://payments.provider.example/v1'
"""

from __future__ import annotations

from pydantic import Field, PositiveInt

from common.config_schema import AuditedResources, ConfigModel, ServiceConfig, ServiceTechnical


class PaymentRules(ConfigModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    max_amount_minor: PositiveInt
    idempotency_expiry_seconds: PositiveInt


class PaymentBusiness(ConfigModel):
    business_rules: PaymentRules


class CircuitBreakerSettings(ConfigModel):
    """Consecutive provider failures that open the circuit; seconds before one trial call is let through."""

    failure_threshold: PositiveInt
    reset_seconds: PositiveInt


class PaymentTechnical(ServiceTechnical):
    circuit_breakers: CircuitBreakerSettings


class ExternalApis(ConfigModel):
    provider_endpoint: str = Field(pattern=r"^https://[^\s]+$")
    provider_api_key_field: str = Field(min_length=1)


class PaymentResources(AuditedResources):
    payments_table: str = Field(min_length=1)
    idempotency_table: str = Field(min_length=1)
    events_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:")
    provider_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")


class PaymentIntegration(ConfigModel):
    external_apis: ExternalApis
    resources: PaymentResources


class PaymentConfig(ServiceConfig):
    business: PaymentBusiness  # type: ignore[assignment]
    technical: PaymentTechnical
    integration: PaymentIntegration  # type: ignore[assignment]
