"""The tracking service's config schema: what it reads from ``/{tenant}/services/tracking/{env}``.

    business/business_rules    largest plausible speed, tolerated clock skew, history page size
    technical/cache            config cache age
    technical/scaling_policies, performance_thresholds   the function's memory, concurrency, alarms
    integration/resources      tracking and audit tables; the bookings table (read: whose each booking is)
"""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from common.config_schema import CONTRACT, AuditedResources, ContractModel, FunctionTechnical, ServiceContract

from .models import SPEED_CEILING_KMH

#: The largest tolerated device clock skew any tenant may configure: one day.
MAX_CLOCK_SKEW_CEILING_SECONDS = 86_400


class TrackingRules(ContractModel):
    """Validation limits of a position update and the size of a history page."""

    # Below the models' hard ceiling: a limit above it could never bind.
    max_speed_kmh: PositiveFloat = Field(le=SPEED_CEILING_KMH)
    # How far ahead of the function's clock a device's timestamp may be (device clocks drift). At
    # most a day: a clock further off is broken, and a timestamp near the end of the calendar
    # would overflow its own expiry (recorded_at + retention).
    max_clock_skew_seconds: NonNegativeInt = Field(le=MAX_CLOCK_SKEW_CEILING_SECONDS)
    # The default and the largest page of ``GET .../history``.
    history_page_size: PositiveInt


class TrackingBusiness(ContractModel):
    business_rules: TrackingRules


class TrackingResources(AuditedResources):
    model_config = CONTRACT

    tracking_table: str = Field(min_length=1)
    # The booking service's table: tracking reads one booking's owner and driver (GetItem only).
    bookings_table: str = Field(min_length=1)


class TrackingIntegration(ContractModel):
    resources: TrackingResources


class TrackingConfig(ServiceContract):
    business: TrackingBusiness  # type: ignore[assignment]
    technical: FunctionTechnical
    integration: TrackingIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "tracking"
SCHEMA = TrackingConfig
