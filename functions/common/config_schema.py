"""Pydantic models of the tenant config: the one definition of every entry, for every reader.

A service's schema (``<Service>Config`` in ``functions/<service>/config_schema.py``, or below for
the services that have no function package: api, observability and pipeline) is its contract:

- the function validates its tree against it at run time (``config_client``);
- ``platformctl tenants validate`` and ``plan`` validate every tenant's merged tree against it,
  so a wrong type, a misspelt key or a value out of range fails before anything is deployed;
- the components read the validated models, never the raw tree.

Contract models (``ContractModel`` and classes with ``model_config = CONTRACT``) are strict and
forbid unknown entries: a number stored as text and a misspelt key are errors. Limits that AWS
itself enforces (Lambda memory, timeouts, queue settings) are bounds here, each citing the limit;
a value AWS would refuse at apply time is refused by validation instead.

``ConfigModel`` and the bases built on it (``ServiceConfig``, ``ServiceTechnical``,
``AuditedResources``) ignore unknown entries: they are *views*, for code that reads part of a
tree whose contract lives elsewhere (the metrics entry every function reads from the
observability tree; a generic function runtime). Views never define an entry's type in a way
that disagrees with the contract: they reuse the contract's models.

>>> ServiceConfig.model_validate({"technical": {"cache": {"max_age_seconds": 60}}}).technical.cache.max_age_seconds
60
>>> ScalingPolicies.model_validate({"memory_mb": 256, "reserved_concurrency": 1}).memory_mb
256
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from .bounds import DYNAMODB_ITEM_MAX_BYTES

#: The model config of a contract model: strict types, read-only, unknown entries refused. For a
#: contract class that extends a view base (``class X(AuditedResources): model_config = CONTRACT``).
CONTRACT = ConfigDict(strict=True, frozen=True, extra="forbid")


class ConfigModel(BaseModel):
    """Base of config *views*: strict types, read-only, unknown entries ignored."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class ContractModel(ConfigModel):
    """Base of contract models: strict types, read-only, unknown entries refused."""

    model_config = CONTRACT


class EmptySection(ConfigModel):
    """A section a view reads nothing from."""


class NoEntries(ContractModel):
    """A section in which the service's contract declares no entries (any entry is a mistake)."""


#: A percentage of requests or invocations.
Percent = Annotated[float, Field(ge=0, le=100)]
#: Lambda function timeout: 1 to 900 seconds (AWS Lambda quota "Function timeout", not adjustable).
LambdaTimeoutSeconds = Annotated[int, Field(ge=1, le=900)]
#: Lambda memory: 128 to 10,240 MB (AWS Lambda quota "Function memory", not adjustable).
LambdaMemoryMb = Annotated[int, Field(ge=128, le=10240)]


# --- global/security ---------------------------------------------------------------------------


class AuthenticationRules(ContractModel):
    """``global/security/authentication_rules``: what the authorizer demands of a token."""

    token_max_age_seconds: PositiveInt
    required_claims: list[str]
    token_use: str = Field(min_length=1)


class AuthorizationPolicies(ContractModel):
    """``global/security/authorization_policies``: role -> operation patterns (``booking:*``, ``*``)."""

    roles: dict[str, list[str]]


class EncryptionSettings(ContractModel):
    """``global/security/encryption_settings``: the tenant key's rotation and the weakest TLS
    policy the security pack accepts (its names are in ``defaults.yaml`` ``policy.tls_policies``)."""

    kms_key_rotation: bool
    tls_minimum_version: str = Field(min_length=1)


class SecurityConfig(ContractModel):
    authentication_rules: AuthenticationRules
    authorization_policies: AuthorizationPolicies
    encryption_settings: EncryptionSettings


# --- global/compliance -------------------------------------------------------------------------


class DataRetention(ContractModel):
    """``global/compliance/data_retention``: how long tenant data and audit records are kept."""

    days: PositiveInt


class AuditRequirements(ContractModel):
    enabled: bool
    include_config_version: bool


class ComplianceConfig(ContractModel):
    data_retention: DataRetention
    audit_requirements: AuditRequirements


# --- global/operational ------------------------------------------------------------------------


class Timeouts(ContractModel):
    """``global/operational/timeouts``: the functions' own timeout, the timeout of every outbound
    call they make, and how long API Gateway keeps an authorizer's answer."""

    function_timeout_seconds: LambdaTimeoutSeconds
    provider_timeout_seconds: PositiveFloat
    # API Gateway accepts an authorizer result TTL of 0 to 3600 seconds (authorizerResultTtlInSeconds).
    authorizer_ttl_seconds: int = Field(ge=0, le=3600)


class RetryPolicies(ContractModel):
    """``global/operational/retry_policies``: attempts and exponential backoff bounds."""

    max_attempts: PositiveInt
    base_delay_ms: NonNegativeInt
    max_delay_ms: NonNegativeInt

    @model_validator(mode="after")
    def _bounds_ordered(self) -> RetryPolicies:
        if self.max_delay_ms < self.base_delay_ms:
            raise ValueError("max_delay_ms must be at least base_delay_ms")
        return self


class RequestLimits(ContractModel):
    """``global/operational/request_limits``: the largest request body (bytes) and the deepest JSON
    nesting (objects and arrays) the API template lets through to any endpoint."""

    # A body larger than a DynamoDB item (400 KB) could never be stored as one.
    body_max_bytes: int = Field(ge=1, le=DYNAMODB_ITEM_MAX_BYTES)
    # Python's json module recurses once per level; a depth near the interpreter's recursion limit
    # would raise RecursionError, which the template's linear pre-scan exists to rule out.
    body_max_depth: int = Field(ge=1, le=100)


class DependencyOutage(ContractModel):
    """``global/operational/dependency_outage``: what a 503 tells the client when a dependency
    (DynamoDB, SSM, SNS, ...) is throttling or down: retry after this many seconds."""

    retry_after_seconds: PositiveInt


class OperationalConfig(ContractModel):
    timeouts: Timeouts
    retry_policies: RetryPolicies
    request_limits: RequestLimits
    dependency_outage: DependencyOutage


class GlobalConfig(ContractModel):
    """Everything under ``/{tenant}/global``."""

    security: SecurityConfig
    compliance: ComplianceConfig
    operational: OperationalConfig


# --- services: shared parts --------------------------------------------------------------------


class CacheConfig(ContractModel):
    """``technical/cache``: how long config (and other cached lookups) may be served from memory."""

    max_age_seconds: NonNegativeInt


class ScalingPolicies(ContractModel):
    """``technical/scaling_policies``: each function's memory and reserved concurrency."""

    memory_mb: LambdaMemoryMb
    # Lambda accepts 0 (the function is throttled) and up; the ceiling is the account's
    # concurrency quota, which is adjustable and so not a bound of the schema.
    reserved_concurrency: NonNegativeInt


class PerformanceThresholds(ContractModel):
    """``technical/performance_thresholds``: what each function's error and latency alarms watch for."""

    p99_latency_ms: PositiveFloat
    error_rate_percent: Percent


class CircuitBreakerSettings(ContractModel):
    """Consecutive provider failures that open the circuit; seconds before one trial call is let through."""

    failure_threshold: PositiveInt
    reset_seconds: PositiveInt


#: SQS keeps a message 60 seconds to 14 days (MessageRetentionPeriod).
SqsRetentionSeconds = Annotated[int, Field(ge=60, le=1209600)]


class QueueSettings(ContractModel):
    """``technical/queue`` of a service fed by a queue with a dead-letter queue. The bounds are
    AWS's own: SQS queue attributes and the Lambda event source mapping for SQS. Rules that span
    entries of several trees (visibility against the function timeout, pollers against reserved
    concurrency) are checked by the component that sees them all."""

    # SQS VisibilityTimeout: 0 to 43,200 seconds (12 hours).
    visibility_timeout_seconds: int = Field(ge=0, le=43200)
    # SQS redrive policy maxReceiveCount: 1 to 1,000.
    max_receive_count: int = Field(ge=1, le=1000)
    # Lambda SQS event source: batch size 1 to 10,000, batching window 0 to 300 seconds,
    # maximum concurrency 2 to 1,000.
    batch_size: int = Field(ge=1, le=10000)
    max_batching_window_seconds: int = Field(ge=0, le=300)
    max_concurrency: int = Field(ge=2, le=1000)
    message_retention_seconds: SqsRetentionSeconds
    dlq_message_retention_seconds: SqsRetentionSeconds


class ServiceTechnical(ConfigModel):
    """A view of ``technical`` for code that reads only the cache age."""

    cache: CacheConfig


class FunctionTechnical(ContractModel):
    """``technical`` of a service that runs functions: cache, scaling and alarm thresholds."""

    cache: CacheConfig
    scaling_policies: ScalingPolicies
    performance_thresholds: PerformanceThresholds


class ServiceResources(ConfigModel):
    """``integration/resources``: the physical resources the infrastructure gave the service.

    The infrastructure publishes this entry itself (``components/config_params.publish_resources``);
    a registry file never sets it."""


class AuditedResources(ServiceResources):
    """Resources of a service that writes audit records (a view base; contracts set ``CONTRACT``)."""

    audit_table: str = Field(min_length=1)


class AuditOnlyResources(AuditedResources):
    """The resources of a service whose only table is the audit table."""

    model_config = CONTRACT


class ServiceConfig(ConfigModel):
    """A view of ``/{tenant}/services/{service}/{env}`` and the base of every service's schema.

    Contracts narrow ``business``, ``technical`` and ``integration`` and set ``CONTRACT``.
    """

    business: EmptySection = Field(default_factory=EmptySection)
    technical: ServiceTechnical
    integration: EmptySection = Field(default_factory=EmptySection)


class ServiceContract(ServiceConfig):
    """Base of a service's contract: every section declared, unknown entries refused."""

    model_config = CONTRACT

    business: NoEntries = Field(default_factory=NoEntries)  # type: ignore[assignment]
    technical: FunctionTechnical  # type: ignore[assignment]
    integration: NoEntries = Field(default_factory=NoEntries)  # type: ignore[assignment]


# --- observability -----------------------------------------------------------------------------

#: CloudWatch alarm periods: 10, 20 or 30 seconds (high resolution) or a multiple of 60.
_HIGH_RESOLUTION_PERIODS = (10, 20, 30)
#: CloudWatch evaluates at most one day of data: evaluation_periods x period_seconds <= 86400.
_ALARM_WINDOW_MAX_SECONDS = 86400


class MetricsConfig(ContractModel):
    """``observability/technical/metrics``: the namespace and dimension functions publish in, and
    the seed's standard metric names the dashboards chart."""

    namespace: str = Field(min_length=1)
    dimension: str = Field(min_length=1)
    business: list[str]
    security: list[str]


class AlarmSettings(ContractModel):
    """``observability/technical/alarms``: the tenant's standard alarms and every alarm's period."""

    error_rate_threshold: Percent
    latency_threshold_ms: PositiveFloat
    period_seconds: PositiveInt
    evaluation_periods: PositiveInt

    @model_validator(mode="after")
    def _cloudwatch_accepts(self) -> AlarmSettings:
        if self.period_seconds not in _HIGH_RESOLUTION_PERIODS and self.period_seconds % 60:
            raise ValueError(f"period_seconds must be one of {list(_HIGH_RESOLUTION_PERIODS)} or a multiple of 60 (CloudWatch alarm periods)")
        if self.period_seconds * self.evaluation_periods > _ALARM_WINDOW_MAX_SECONDS:
            raise ValueError(f"evaluation_periods x period_seconds must not exceed {_ALARM_WINDOW_MAX_SECONDS} (CloudWatch evaluates at most one day)")
        return self


class ObservabilityServiceTechnical(ContractModel):
    alarms: AlarmSettings
    metrics: MetricsConfig


class ObservabilityServiceConfig(ServiceContract):
    """The observability service's contract (``/{tenant}/services/observability/{env}``); it has
    no function: the infrastructure reads the alarms, every function the metrics entry."""

    technical: ObservabilityServiceTechnical  # type: ignore[assignment]


class ObservabilityTechnical(ConfigModel):
    """A view: the metrics entry, the only part of the observability tree functions read."""

    metrics: MetricsConfig


class ObservabilityConfig(ConfigModel):
    """The view of ``/{tenant}/services/observability/{env}`` every function reads: the metrics
    namespace (the contract is ``ObservabilityServiceConfig``)."""

    technical: ObservabilityTechnical


# --- api ---------------------------------------------------------------------------------------


class CorsSettings(ContractModel):
    """``api/technical/cors``: browser origins allowed to call the API and what preflight answers."""

    allow_origins: list[Annotated[str, Field(pattern=r"^https?://[^\s/]+$")]] = Field(min_length=1)
    allow_headers: list[Annotated[str, Field(min_length=1)]]
    max_age_seconds: NonNegativeInt


class ApiTechnical(ContractModel):
    performance_thresholds: PerformanceThresholds
    cors: CorsSettings
    cache: CacheConfig


class ApiConfig(ServiceContract):
    """The api service's contract (``/{tenant}/services/api/{env}``); the REST API is
    infrastructure only, so no function reads it."""

    technical: ApiTechnical  # type: ignore[assignment]


# --- pipeline ----------------------------------------------------------------------------------


class PipelineConfig(ServiceContract):
    """The pipeline service's contract (``/{tenant}/services/pipeline/{env}``); infrastructure only.
    The pipeline itself is configured platform-wide (``defaults.yaml`` ``pipeline:``), so every
    section is empty."""

    technical: NoEntries = Field(default_factory=NoEntries)  # type: ignore[assignment]


#: The contracts of the services that have no function package (the others live in
#: ``functions/<service>/config_schema.py`` as ``SCHEMA``).
INFRASTRUCTURE_SCHEMAS: dict[str, type[ServiceContract]] = {
    "api": ApiConfig,
    "observability": ObservabilityServiceConfig,
    "pipeline": PipelineConfig,
}
