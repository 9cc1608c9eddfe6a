"""The registry file's typed model: the contract for ``tenants/<tenant-id>.yaml``.

Extra fields are forbidden and types are strict, so a typo or a quoted number is an error with
the field's path rather than a silently ignored value. Sets that the project declares
(environments, tiers, regions, services) are read from ``defaults.yaml``.

Example file (``platformctl tenants new acme`` writes one)::

    id: acme
    display_name: Acme Logistics
    tier: standard
    region: ap-south-1
    contacts: [{name: Ops, email: ops@acme.example, role: owner}]
    environments: [dev, prod]
    compliance: {data_retention_days: 365, residency: {allowed_regions: [ap-south-1]}}
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from ..defaults import load_defaults

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
SECRET_NAME_PATTERN = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ConfigSection = dict[str, JsonValue]


def _only_declared(values: Sequence[str], declared: Sequence[str], what: str, word: str = "unknown") -> None:
    """Refuse values outside the set the project declares, naming them and the declared set."""
    unknown = [v for v in values if v not in declared]
    if unknown:
        raise ValueError(f"{word} {what}(s) {unknown}; expected some of {list(declared)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Contact(_Strict):
    name: str = Field(min_length=1)
    email: str
    role: Literal["owner", "technical", "billing", "security"]

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL_PATTERN.match(value):
            raise ValueError("expected an email address like ops@example.com")
        return value


class AuditSettings(_Strict):
    enabled: bool = True


class Residency(_Strict):
    allowed_regions: list[str] = Field(min_length=1)

    @field_validator("allowed_regions")
    @classmethod
    def _supported(cls, regions: list[str]) -> list[str]:
        supported = load_defaults().platform.supported_regions
        _only_declared(regions, supported, "region", "unsupported")
        return regions


class Compliance(_Strict):
    data_retention_days: int = Field(default_factory=lambda: load_defaults().compliance.default_data_retention_days)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    residency: Residency

    @field_validator("data_retention_days")
    @classmethod
    def _minimum(cls, days: int) -> int:
        minimum = load_defaults().compliance.minimum_data_retention_days
        if days < minimum:
            raise ValueError(f"must be at least {minimum} days")
        return days


class GlobalConfig(_Strict):
    security: ConfigSection = Field(default_factory=dict)
    compliance: ConfigSection = Field(default_factory=dict)
    operational: ConfigSection = Field(default_factory=dict)


class ServiceConfig(_Strict):
    business: ConfigSection = Field(default_factory=dict)
    technical: ConfigSection = Field(default_factory=dict)
    integration: ConfigSection = Field(default_factory=dict)


def _check_services(services: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
    _only_declared(sorted(services), load_defaults().platform.services, "service")
    return services


class ConfigOverrides(_Strict):
    """One layer of the seed hierarchy: global sections and per-service sections."""

    global_: GlobalConfig = Field(default_factory=GlobalConfig, alias="global")
    services: dict[str, ServiceConfig] = Field(default_factory=dict)

    _services = field_validator("services")(_check_services)


class ConfigTree(ConfigOverrides):
    """The tenant's config, plus per-environment overrides merged over it."""

    environments: dict[str, ConfigOverrides] = Field(default_factory=dict)

    @field_validator("environments")
    @classmethod
    def _known_environments(cls, envs: dict[str, ConfigOverrides]) -> dict[str, ConfigOverrides]:
        declared = load_defaults().platform.environments
        _only_declared(sorted(envs), declared, "environment")
        return envs


class SecretRef(_Strict):
    """A reference to a Secrets Manager secret, by name. Never the value.

    ``rotation`` says who makes new values: the platform's rotation function (``password`` or
    ``api_key`` generation profiles, from the secrets service's config) or, for credentials a
    third party issues such as a payment provider's API key, nobody here (``external``: rotated
    at the provider, then stored with ``put-secret-value``; a generated value would break it).
    """

    secret_name: str
    description: str = ""
    rotation: Literal["password", "api_key", "external"] = "password"

    @field_validator("secret_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SECRET_NAME_PATTERN.match(value):
            raise ValueError("expected a Secrets Manager secret name (letters, digits and /_+=.@-)")
        return value


class Exemption(_Strict):
    """Exempts a resource (or the whole stack) from one named policy, for a reason, until a date."""

    policy: str = Field(min_length=1)
    reason: str = Field(min_length=10)
    expires: dt.date
    resource: str | None = None
    environments: list[str] | None = None


class PolicySection(_Strict):
    exemptions: list[Exemption] = Field(default_factory=list)
    settings: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)


class RolloutSettings(_Strict):
    """How fleet-wide rollouts treat this tenant (``platformctl up --all``, platformctl/apply/waves.py)."""

    #: A canary tenant's stacks run in a wave of their own before the other tenants of the environment.
    canary: bool = False


def tenant_id_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a tenant id, or None when it is a valid one.

    >>> tenant_id_problem("north-star") is None
    True
    >>> tenant_id_problem("../x")
    'expected a DNS label: lowercase letters, digits and inner hyphens'
    """
    platform = load_defaults().platform
    if len(value) > platform.tenant_id_max_length:
        return f"must be at most {platform.tenant_id_max_length} characters"
    if not TENANT_ID_PATTERN.match(value):
        return "expected a DNS label: lowercase letters, digits and inner hyphens"
    if value in platform.reserved_tenant_ids:
        return f"'{value}' is reserved by the platform"
    return None


class Tenant(_Strict):
    id: str
    display_name: str = Field(min_length=1)
    tier: str
    contacts: list[Contact] = Field(min_length=1)
    environments: list[str] = Field(min_length=1)
    compliance: Compliance
    # After `compliance`, so its validator can check residency and name this field when it fails.
    region: str
    config: ConfigTree = Field(default_factory=ConfigTree)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    policy: PolicySection = Field(default_factory=PolicySection)
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        problem = tenant_id_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("tier")
    @classmethod
    def _tier(cls, value: str) -> str:
        tiers = sorted(load_defaults().tiers)
        if value not in tiers:
            raise ValueError(f"unknown tier '{value}'; expected one of {tiers}")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str, info: ValidationInfo) -> str:
        supported = load_defaults().platform.supported_regions
        if value not in supported:
            raise ValueError(f"unsupported region '{value}'; expected one of {supported}")
        compliance = info.data.get("compliance")  # absent when compliance itself is invalid
        if compliance is not None and value not in compliance.residency.allowed_regions:
            raise ValueError(
                f"region '{value}' is not in compliance.residency.allowed_regions "
                f"{compliance.residency.allowed_regions}"
            )
        return value

    @field_validator("environments")
    @classmethod
    def _environments(cls, envs: list[str]) -> list[str]:
        declared = load_defaults().platform.environments
        _only_declared(envs, declared, "environment")
        if len(set(envs)) != len(envs):
            raise ValueError("lists an environment twice")
        return envs
