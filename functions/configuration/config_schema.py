"""The configuration service's config schema (``/{tenant}/services/configuration/{env}``).

    technical/cache            how long read-API answers may be served from memory
    integration/resources      the audit table

>>> ConfigurationConfig.model_validate({"technical": {"cache": {"max_age_seconds": 60}},
...     "integration": {"resources": {"audit_table": "acme-dev-audit"}}}).integration.resources.audit_table
'acme-dev-audit'
"""

from __future__ import annotations

from common.config_schema import AuditedResources, ConfigModel, ServiceConfig, ServiceTechnical


class ConfigurationIntegration(ConfigModel):
    resources: AuditedResources


class ConfigurationConfig(ServiceConfig):
    technical: ServiceTechnical
    integration: ConfigurationIntegration  # type: ignore[assignment]
