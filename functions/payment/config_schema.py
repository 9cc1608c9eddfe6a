"""The payment service's config schema: what it reads from ``/{tenant}/services/payment/{env}``.

    business/business_rules     the tenant's currency, the largest amount, idempotency record lifetime
    technical/circuit_breakers  failures that open the provider circuit, and how long it stays open
    technical/reconciliation    how often unfinished operations are settled, how old, how many a run
    technical/cache             config cache age, and how long the provider API key is kept
    technical/scaling_policies, performance_thresholds   the function's memory, concurrency, alarms
    integration/external_apis   the provider's HTTPS endpoint; the API key's field in its secret
    integration/api_keys_reference  which registry ``secrets`` entry holds the provider's API key
    integration/resources       payments, bookings, audit and idempotency tables; events topic; provider secret
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveInt

from common.config_schema import CONTRACT, AuditedResources, CircuitBreakerSettings, ContractModel, FunctionTechnical, ServiceContract

from .models import AMOUNT_MINOR_CEILING


class PaymentRules(ContractModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    # The tenant's largest amount (policy), never above what the request models accept at all.
    max_amount_minor: int = Field(gt=0, le=AMOUNT_MINOR_CEILING)
    idempotency_expiry_seconds: PositiveInt


class PaymentBusiness(ContractModel):
    business_rules: PaymentRules


#: EventBridge rate expressions count whole minutes; a day is the longest interval offered here.
MINUTES_PER_DAY = 24 * 60


class ReconciliationSettings(ContractModel):
    """The reconciler of unfinished payment operations (``payment.reconciliation``)."""

    # How often the scheduled reconciler runs (an EventBridge rate, whole minutes).
    schedule_minutes: int = Field(ge=1, le=MINUTES_PER_DAY)
    # How old an unfinished operation must be before the reconciler settles it: at least the
    # function timeout, so a request still waiting on the provider is not raced.
    settle_after_minutes: int = Field(ge=1, le=MINUTES_PER_DAY)
    # The most operations one run settles; the next run takes the rest.
    max_operations_per_run: int = Field(ge=1, le=1000)


class PaymentTechnical(FunctionTechnical):
    circuit_breakers: CircuitBreakerSettings
    reconciliation: ReconciliationSettings


class ExternalApis(ContractModel):
    provider_endpoint: str = Field(pattern=r"^https://[^\s]+$")
    provider_api_key_field: str = Field(min_length=1)


class PaymentResources(AuditedResources):
    model_config = CONTRACT

    payments_table: str = Field(min_length=1)
    # The booking service's table: authorize reads the booking (its owner) before paying for it.
    bookings_table: str = Field(min_length=1)
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
