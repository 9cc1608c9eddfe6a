"""Pydantic models of the tenant config a function reads, and the base of every service schema.

The global sections (``/{tenant}/global/...``) are the same for every service and live here.
Each service package declares its own ``ServiceConfig`` subclass naming the business, technical
and integration entries it uses; entries it does not use are ignored, so the infrastructure may
add config without breaking functions. Types are strict: a number stored as text is refused, and
the config client then falls back (see ``config_client``).

>>> ServiceConfig.model_validate({"technical": {"cache": {"max_age_seconds": 60}}}).technical.cache.max_age_seconds
60
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator


class ConfigModel(BaseModel):
    """Base of every config model: strict types, read-only, unknown entries ignored."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class EmptySection(ConfigModel):
    """A section the service reads nothing from."""


# --- global/security ---------------------------------------------------------------------------


class AuthenticationRules(ConfigModel):
    """``global/security/authentication_rules``: what the authorizer demands of a token."""

    token_max_age_seconds: PositiveInt
    required_claims: list[str]
    token_use: str = Field(min_length=1)


class AuthorizationPolicies(ConfigModel):
    """``global/security/authorization_policies``: role -> operation patterns (``booking:*``, ``*``)."""

    roles: dict[str, list[str]]


class SecurityConfig(ConfigModel):
    authentication_rules: AuthenticationRules
    authorization_policies: AuthorizationPolicies


# --- global/compliance -------------------------------------------------------------------------


class DataRetention(ConfigModel):
    """``global/compliance/data_retention``: how long tenant data and audit records are kept."""

    days: PositiveInt


class AuditRequirements(ConfigModel):
    enabled: bool
    include_config_version: bool


class ComplianceConfig(ConfigModel):
    data_retention: DataRetention
    audit_requirements: AuditRequirements


# --- global/operational ------------------------------------------------------------------------


class Timeouts(ConfigModel):
    """``global/operational/timeouts``: the functions use the provider timeout for every outbound call."""

    provider_timeout_seconds: PositiveFloat


class RetryPolicies(ConfigModel):
    """``global/operational/retry_policies``: attempts and exponential backoff bounds."""

    max_attempts: PositiveInt
    base_delay_ms: NonNegativeInt
    max_delay_ms: NonNegativeInt

    @model_validator(mode="after")
    def _bounds_ordered(self) -> RetryPolicies:
        if self.max_delay_ms < self.base_delay_ms:
            raise ValueError("max_delay_ms must be at least base_delay_ms")
        return self


class OperationalConfig(ConfigModel):
    timeouts: Timeouts
    retry_policies: RetryPolicies


class GlobalConfig(ConfigModel):
    """Everything under ``/{tenant}/global`` that functions use."""

    security: SecurityConfig
    compliance: ComplianceConfig
    operational: OperationalConfig


# --- services ----------------------------------------------------------------------------------


class CacheConfig(ConfigModel):
    """``technical/cache``: how long config (and other cached lookups) may be served from memory."""

    max_age_seconds: NonNegativeInt


class ServiceTechnical(ConfigModel):
    cache: CacheConfig


class ServiceResources(ConfigModel):
    """``integration/resources``: the physical resources the infrastructure gave the service."""


class ServiceConfig(ConfigModel):
    """Base of a service's schema over ``/{tenant}/services/{service}/{env}``.

    Subclasses narrow ``business``, ``technical`` and ``integration`` to what they read.
    """

    business: EmptySection = Field(default_factory=EmptySection)
    technical: ServiceTechnical
    integration: EmptySection = Field(default_factory=EmptySection)


class AuditedResources(ServiceResources):
    """Resources of a service that writes audit records."""

    audit_table: str = Field(min_length=1)


# --- observability -----------------------------------------------------------------------------


class MetricsConfig(ConfigModel):
    namespace: str = Field(min_length=1)


class ObservabilityTechnical(ConfigModel):
    metrics: MetricsConfig


class ObservabilityConfig(ConfigModel):
    """The part of ``/{tenant}/services/observability/{env}`` every function reads: the metrics namespace."""

    technical: ObservabilityTechnical
