"""A tenant stack's effective settings: the registry file merged over the platform defaults.

Merge order (later wins; mappings merge key by key, lists and scalars replace):

1. ``defaults.yaml`` ``tenant_config``
2. ``defaults.yaml`` ``environments.<env>.tenant_config``
3. the tenant's ``config``
4. the tenant's ``config.environments.<env>``

>>> from platformctl.settings import tenant_settings           # doctest: +SKIP
>>> s = tenant_settings(tenant, "prod")                         # doctest: +SKIP
>>> s.service("booking")["business"]["pricing_models"]["currency"]  # doctest: +SKIP
'INR'
"""

from __future__ import annotations

import copy
import fnmatch
import json
from dataclasses import dataclass
from typing import Any, Mapping

from .defaults import EnvironmentSettings, PlatformDefaults, TierSettings, load_defaults
from .registry.model import ConfigOverrides, Tenant

GLOBAL_SECTIONS = ("security", "compliance", "operational")
SERVICE_SECTIONS = ("business", "technical", "integration")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` over ``base``: mappings recursively, everything else replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _overrides_as_tree(layer: ConfigOverrides) -> dict[str, Any]:
    return layer.model_dump(by_alias=True, exclude={"environments"}, exclude_unset=True)


@dataclass(frozen=True)
class ConfigParameter:
    """One SSM parameter of the tenant's config namespace."""

    path: str
    value: str
    secure: bool
    section: str


@dataclass(frozen=True)
class TenantSettings:
    """Everything a tenant stack needs, resolved once."""

    tenant: Tenant
    environment: str
    defaults: PlatformDefaults
    config: dict[str, Any]
    #: The registry file the tenant came from, for error messages that name it.
    registry_file: str = ""

    @property
    def source(self) -> str:
        return self.registry_file or f"tenants/{self.tenant.id}.yaml"

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    @property
    def prefix(self) -> str:
        """Every resource name of the stack starts with this."""
        return f"{self.tenant.id}-{self.environment}"

    @property
    def region(self) -> str:
        return self.tenant.region

    @property
    def env(self) -> EnvironmentSettings:
        return self.defaults.environments[self.environment]

    @property
    def tier(self) -> TierSettings:
        return self.defaults.tiers[self.tenant.tier]

    @property
    def log_retention_days(self) -> int:
        return self.defaults.log_retention_for(self.tenant.compliance.data_retention_days)

    @property
    def tags(self) -> dict[str, str]:
        return {
            self.defaults.platform.tenant_tag: self.tenant.id,
            "environment": self.environment,
            "platform": self.defaults.platform.project,
        }

    def global_section(self, section: str) -> dict[str, Any]:
        return self.config["global"][section]

    def service(self, name: str) -> dict[str, Any]:
        """The merged business/technical/integration sections of one service."""
        return self.config["services"][name]

    def technical(self, service: str, name: str) -> dict[str, Any]:
        return self.service(service)["technical"][name]

    def config_namespace(self) -> str:
        return f"/{self.tenant.id}"

    def service_namespace(self, service: str) -> str:
        return f"/{self.tenant.id}/services/{service}/{self.environment}"

    def parameters(self) -> list[ConfigParameter]:
        """The tenant's SSM hierarchy for this environment, one parameter per named entry."""
        params: list[ConfigParameter] = []
        patterns = self.defaults.platform.sensitive_config
        for section in GLOBAL_SECTIONS:
            for name, value in sorted(self.global_section(section).items()):
                rel = f"global/{section}/{name}"
                params.append(self._param(rel, value, patterns, f"global/{section}"))
        for service in self.defaults.platform.services:
            for section in SERVICE_SECTIONS:
                for name, value in sorted(self.service(service)[section].items()):
                    rel = f"services/{service}/{self.environment}/{section}/{name}"
                    params.append(self._param(rel, value, patterns, f"services/{service}/{section}"))
        return params

    def _param(self, rel: str, value: Any, patterns: list[str], section: str) -> ConfigParameter:  # noqa: ANN401
        secure = any(fnmatch.fnmatchcase(rel, p) for p in patterns)
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        return ConfigParameter(path=f"/{self.tenant.id}/{rel}", value=text, secure=secure, section=section)

    def fallback_document(self, service: str) -> dict[str, Any]:
        """The values a function of ``service`` falls back to when the config service is down.

        A deep copy: callers add published resources to it, which must not leak back into the
        settings that ``parameters()`` reads."""
        return copy.deepcopy({
            "service": service,
            "environment": self.environment,
            "tenant_id": self.tenant.id,
            "version": "fallback",
            "global": self.config["global"],
            "service_config": self.service(service),
            # Every function reads its metrics namespace and dimensions from here.
            "observability": self.service("observability"),
        })


def merged_config(tenant: Tenant, environment: str, defaults: PlatformDefaults) -> dict[str, Any]:
    """The tenant's whole config tree for ``environment`` (see module docs for the order)."""
    tree = deep_merge(defaults.tenant_config, defaults.environments[environment].tenant_config)
    tree = deep_merge(tree, _overrides_as_tree(tenant.config))
    env_layer = tenant.config.environments.get(environment)
    if env_layer is not None:
        tree = deep_merge(tree, _overrides_as_tree(env_layer))
    # Every declared section exists, so components can index without guessing.
    tree.setdefault("global", {})
    for section in GLOBAL_SECTIONS:
        tree["global"].setdefault(section, {})
    services = tree.setdefault("services", {})
    for service in defaults.platform.services:
        for section in SERVICE_SECTIONS:
            services.setdefault(service, {}).setdefault(section, {})
    # The registry's compliance block is the source of truth for retention.
    tree["global"]["compliance"]["data_retention"] = {"days": tenant.compliance.data_retention_days}
    return tree


def tenant_settings(tenant: Tenant, environment: str, defaults: PlatformDefaults | None = None, registry_file: str = "") -> TenantSettings:
    """Resolve ``tenant`` in ``environment``."""
    defaults = defaults or load_defaults()
    config = merged_config(tenant, environment, defaults)
    return TenantSettings(tenant=tenant, environment=environment, defaults=defaults, config=config, registry_file=registry_file)
