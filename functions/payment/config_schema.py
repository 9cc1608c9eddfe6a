"""The payment service's config schema: what it reads from ``/{tenant}/services/payment/{env}``.

    business/business_rules     the tenant's currency, the largest amount, idempotency record lifetime
    technical/circuit_breakers  failures that open the provider circuit, and how long it stays open
    technical/cache             config cache age, and how long the provider API key is kept
    technical/scaling_policies, performance_thresholds   the function's memory, concurrency, alarms
    integration/external_apis   the provider's HTTPS endpoint; the API key's field in its secret
    integration/api_keys_reference  which registry ``secrets`` entry holds the provider's API key
    integration/resources       payments, audit and idempotency tables; events topic; provider secret
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveInt

from common.config_schema import CONTRACT, AuditedResources, CircuitBreakerSettings, ContractModel, FunctionTechnical, ServiceContract


class PaymentRules(ContractModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    max_amount_minor: PositiveInt
    idempotency_expiry_seconds: PositiveInt


class PaymentBusiness(ContractModel):
    business_rules: PaymentRules


class PaymentTechnical(FunctionTechnical):
    circuit_breakers: CircuitBreakerSettings


class ExternalApis(ContractModel):
    provider_endpoint: str = Field(pattern=r"^https://[^\s]+$")
    provider_api_key_field: str = Field(min_length=1)


class PaymentResources(AuditedResources):
    model_config = CONTRACT

    payments_table: str = Field(min_length=1)
    idempotency_table: str = Field(min_length=1)
    events_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:")
    provider_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")


class PaymentIntegration(ContractModel):
    external_apis: ExternalApis
    # Which entry of the tenant's registry ``secrets`` holds each API key (names, never values):
    # ``provider_api_key`` for the provider. The infrastructure resolves them to secret ARNs, and
    # names a missing one (components/payment.py).
    api_keys_reference: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    resources: PaymentResources


class PaymentConfig(ServiceContract):
    business: PaymentBusiness  # type: ignore[assignment]
    technical: PaymentTechnical
    integration: PaymentIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "payment"
SCHEMA = PaymentConfig
