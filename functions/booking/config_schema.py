"""The booking service's config schema: what it reads from ``/{tenant}/services/booking/{env}``.

    business/pricing_models    currency and the fare's parts, in integer minor units; tax in basis points
    business/sla_definitions   free cancellation window, the fee after it, which statuses may be cancelled
    business/business_rules    shipment limits, page sizes, idempotency record lifetime, how far ahead a pickup may be
    technical/cache            config cache age
    technical/scaling_policies, performance_thresholds   the function's memory, concurrency, alarms
    integration/resources      bookings, audit and idempotency tables; the events topic
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, StringConstraints, field_validator, model_validator

from common.config_schema import (
    CONTRACT,
    AuditedResources,
    ContractModel,
    FunctionTechnical,
    ServiceContract,
)

from .models import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS, CONFIG_KEY_MAX_LENGTH, CONFIG_KEY_PATTERN, SURCHARGES_MAX_ITEMS
from .status import BookingStatus

#: The largest quantity a request can carry (``booking.models``): a limit above it could never bind.
QUANTITY_CEILING = 10 ** (QUANTITY_MAX_DIGITS - QUANTITY_DECIMAL_PLACES)
#: The furthest ahead any tenant may let a pickup be booked: 100 years.
MAX_ADVANCE_CEILING_DAYS = 36_525
#: A surcharge name in config is one a request can name (``booking.models.QuoteRequest``).
SurchargeName = Annotated[str, StringConstraints(min_length=1, max_length=CONFIG_KEY_MAX_LENGTH, pattern=CONFIG_KEY_PATTERN)]


class PricingModels(ContractModel):
    """How a fare is built. Amounts are integer minor units of ``currency``."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    base_fare_minor: NonNegativeInt
    per_km_minor: NonNegativeInt
    per_kg_minor: NonNegativeInt
    minimum_fare_minor: NonNegativeInt
    tax_rate_basis_points: NonNegativeInt
    surcharges: dict[SurchargeName, NonNegativeInt] = Field(default_factory=dict, max_length=SURCHARGES_MAX_ITEMS)


class SlaDefinitions(ContractModel):
    """Cancellation terms: free within the window after booking, a fee of the total after it."""

    free_cancellation_minutes: NonNegativeInt
    # A fee is a share of the booking's total: 10,000 basis points is all of it.
    cancellation_fee_basis_points: int = Field(ge=0, le=10000)
    max_cancellable_status: list[str]

    @field_validator("max_cancellable_status")
    @classmethod
    def _known_statuses(cls, statuses: list[str]) -> list[str]:
        unknown = sorted(set(statuses) - {status.value for status in BookingStatus})
        if unknown:
            raise ValueError(f"unknown booking status(es) {unknown}")
        return statuses


class BusinessRules(ContractModel):
    max_weight_kg: PositiveFloat = Field(lt=QUANTITY_CEILING)
    max_distance_km: PositiveFloat = Field(lt=QUANTITY_CEILING)
    page_size_default: PositiveInt
    page_size_max: PositiveInt
    idempotency_expiry_seconds: PositiveInt
    # How far ahead a pickup may be booked. At most 100 years: a pickup_at near the end of the
    # calendar could not carry a date computed from it.
    max_advance_booking_days: PositiveInt = Field(le=MAX_ADVANCE_CEILING_DAYS)

    @model_validator(mode="after")
    def _page_sizes_ordered(self) -> BusinessRules:
        if self.page_size_default > self.page_size_max:
            raise ValueError("page_size_default must not exceed page_size_max")
        return self


class BookingBusiness(ContractModel):
    pricing_models: PricingModels
    sla_definitions: SlaDefinitions
    business_rules: BusinessRules


class BookingResources(AuditedResources):
    model_config = CONTRACT

    bookings_table: str = Field(min_length=1)
    idempotency_table: str = Field(min_length=1)
    events_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:")


class BookingIntegration(ContractModel):
    resources: BookingResources


class BookingConfig(ServiceContract):
    business: BookingBusiness  # type: ignore[assignment]
    technical: FunctionTechnical
    integration: BookingIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "booking"
SCHEMA = BookingConfig
