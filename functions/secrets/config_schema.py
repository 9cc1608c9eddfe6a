"""The secrets service's config schema (``/{tenant}/services/secrets/{env}``).

    technical/generation       GetRandomPassword options per profile, and which tag picks the profile
    technical/tenant_tag       the tag that names a secret's tenant
    technical/cache            config cache age
    integration/resources      the audit table

>>> profile = GenerationProfile(field="password", length=32, exclude_characters="", exclude_punctuation=False,
...     exclude_uppercase=False, exclude_lowercase=False, exclude_numbers=False, include_space=False,
...     require_each_included_type=True)
>>> profile.length
32
"""

from __future__ import annotations

from pydantic import Field, PositiveInt, model_validator

from common.config_schema import AuditedResources, ConfigModel, ServiceConfig, ServiceTechnical


class GenerationProfile(ConfigModel):
    """How to generate one kind of secret value (Secrets Manager ``GetRandomPassword`` options)."""

    field: str = Field(min_length=1)
    length: PositiveInt
    exclude_characters: str
    exclude_punctuation: bool
    exclude_uppercase: bool
    exclude_lowercase: bool
    exclude_numbers: bool
    include_space: bool
    require_each_included_type: bool


class Generation(ConfigModel):
    profile_tag: str = Field(min_length=1)
    default_profile: str
    profiles: dict[str, GenerationProfile]

    @model_validator(mode="after")
    def _default_exists(self) -> Generation:
        if self.default_profile not in self.profiles:
            raise ValueError(f"default_profile {self.default_profile!r} is not among the profiles")
        return self


class SecretsTechnical(ServiceTechnical):
    generation: Generation
    tenant_tag: str = Field(min_length=1)


class SecretsIntegration(ConfigModel):
    resources: AuditedResources


class SecretsConfig(ServiceConfig):
    technical: SecretsTechnical
    integration: SecretsIntegration  # type: ignore[assignment]
