"""The configuration service's config schema (``/{tenant}/services/configuration/{env}``).

    technical/cache            how long read-API answers may be served from memory
    technical/fallback         which entries the fallback answer redacts (while SSM is down)
    technical/scaling_policies, performance_thresholds   the function's memory, concurrency, alarms
    integration/resources      the audit table

>>> ConfigurationConfig.model_validate({"technical": {"cache": {"max_age_seconds": 60},
...     "scaling_policies": {"memory_mb": 256, "reserved_concurrency": 10},
...     "fallback": {"sensitive_entries": ["global/security/*"]},
...     "performance_thresholds": {"p99_latency_ms": 50, "error_rate_percent": 1}},
...     "integration": {"resources": {"audit_table": "acme-dev-audit"}}}).integration.resources.audit_table
'acme-dev-audit'
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config_schema import AuditOnlyResources, ContractModel, FunctionTechnical, ServiceContract


class FallbackRedaction(ContractModel):
    """``technical/fallback``: globs (over the path below the tenant root) of the entries the
    fallback answer redacts; the fallback document holds them in plaintext."""

    sensitive_entries: list[Annotated[str, Field(min_length=1)]]


class ConfigurationTechnical(FunctionTechnical):
    fallback: FallbackRedaction


class ConfigurationIntegration(ContractModel):
    resources: AuditOnlyResources


class ConfigurationConfig(ServiceContract):
    technical: ConfigurationTechnical
    integration: ConfigurationIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "configuration"
SCHEMA = ConfigurationConfig
