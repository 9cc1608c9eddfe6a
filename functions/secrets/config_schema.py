"""The secrets service's config schema (``/{tenant}/services/secrets/{env}``).

    technical/rotation         days between rotations
    technical/generation       GetRandomPassword options per profile, and which tag picks the profile
    technical/scaling_policies, performance_thresholds   the function's memory, concurrency, alarms
    technical/tenant_tag       the tag that names a secret's tenant
    technical/cache            config cache age
    integration/resources      the audit table, and each secret's ARN by its registry key

>>> profile = GenerationProfile(field="password", length=32, exclude_characters="", exclude_punctuation=False,
...     exclude_uppercase=False, exclude_lowercase=False, exclude_numbers=False, include_space=False,
...     require_each_included_type=True)
>>> profile.length
32
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from common.config_schema import AuditedResources, ContractModel, FunctionTechnical, ServiceContract


class GenerationProfile(ContractModel):
    """How to generate one kind of secret value (Secrets Manager ``GetRandomPassword`` options)."""

    field: str = Field(min_length=1)
    # GetRandomPassword PasswordLength: 1 to 4,096.
    length: int = Field(ge=1, le=4096)
    exclude_characters: str
    exclude_punctuation: bool
    exclude_uppercase: bool
    exclude_lowercase: bool
    exclude_numbers: bool
    include_space: bool
    require_each_included_type: bool


class Generation(ContractModel):
    profile_tag: str = Field(min_length=1)
    default_profile: str
    profiles: dict[str, GenerationProfile]

    @model_validator(mode="after")
    def _default_exists(self) -> Generation:
        if self.default_profile not in self.profiles:
            raise ValueError(f"default_profile {self.default_profile!r} is not among the profiles")
        return self


class RotationSchedule(ContractModel):
    # Secrets Manager rotation rules: AutomaticallyAfterDays is 1 to 1,000.
    schedule_days: int = Field(ge=1, le=1000)


class SecretsTechnical(FunctionTechnical):
    rotation: RotationSchedule
    generation: Generation
    tenant_tag: str = Field(min_length=1)


class SecretsResources(AuditedResources):
    """The audit table, and each of the tenant's secrets by its registry key: ``{key: ARN}``."""

    # Declared entries are strict as everywhere; the others are the registry's secret keys,
    # each naming a Secrets Manager ARN.
    model_config = ConfigDict(strict=True, frozen=True, extra="allow")
    __pydantic_extra__: dict[str, Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")]]


class SecretsIntegration(ContractModel):
    resources: SecretsResources


class SecretsConfig(ServiceContract):
    technical: SecretsTechnical
    integration: SecretsIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "secrets"
SCHEMA = SecretsConfig
