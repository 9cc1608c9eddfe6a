"""The configuration service's config schema (``/{tenant}/services/configuration/{env}``).

    technical/cache            how long read-API answers may be served from memory
    technical/scaling_policies, performance_thresholds   the function's memory, concurrency, alarms
    integration/resources      the audit table

>>> ConfigurationConfig.model_validate({"technical": {"cache": {"max_age_seconds": 60},
...     "scaling_policies": {"memory_mb": 256, "reserved_concurrency": 10},
...     "performance_thresholds": {"p99_latency_ms": 50, "error_rate_percent": 1}},
...     "integration": {"resources": {"audit_table": "acme-dev-audit"}}}).integration.resources.audit_table
'acme-dev-audit'
"""

from __future__ import annotations

from common.config_schema import AuditOnlyResources, ContractModel, FunctionTechnical, ServiceContract


class ConfigurationIntegration(ContractModel):
    resources: AuditOnlyResources


class ConfigurationConfig(ServiceContract):
    technical: FunctionTechnical
    integration: ConfigurationIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "configuration"
SCHEMA = ConfigurationConfig
