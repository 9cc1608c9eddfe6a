"""The auth service's config schema (``/{tenant}/services/auth/{env}``).

    technical/cache            config cache age, and how long fetched signing keys (JWKS) are kept
    technical/scaling_policies, performance_thresholds   the functions' memory, concurrency, alarms
    technical/user_pool        the Cognito pool's password policy, token lifetimes, MFA and feature plan
    integration/resources      the Cognito pool: user_pool_id, app_client_id, issuer, jwks_url

Token rules (token_use, maximum age, required claims) are global: ``global/security/authentication_rules``.

>>> AuthResources(user_pool_id="p", app_client_id="c", issuer="https://cognito-idp.x.amazonaws.com/p",
...               jwks_url="https://cognito-idp.x.amazonaws.com/p/.well-known/jwks.json").app_client_id
'c'
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from common.config_schema import CONTRACT, ContractModel, FunctionTechnical, ServiceContract, ServiceResources

_HTTPS = r"^https://"
#: Cognito feature plans whose pre token generation event (V2_0) may add claims to access tokens.
#: The authorizer accepts access tokens only, and the tenant claim reaches them through that event.
ACCESS_TOKEN_CUSTOMIZATION_TIERS = ("ESSENTIALS", "PLUS")


class UserPoolSettings(ContractModel):
    """``technical/user_pool``. The bounds are Cognito's own limits."""

    # Cognito: a password policy's minimum length is 6 to 99.
    password_minimum_length: int = Field(ge=6, le=99)
    # Cognito: access and ID tokens live 5 minutes to 1 day; refresh tokens 1 hour to 10 years.
    access_token_validity_minutes: int = Field(ge=5, le=1440)
    id_token_validity_minutes: int = Field(ge=5, le=1440)
    refresh_token_validity_days: int = Field(ge=1, le=3650)
    password_require: list[Literal["lowercase", "uppercase", "numbers", "symbols"]]
    # Cognito: a temporary password is valid for 0 to 365 days.
    temporary_password_validity_days: int = Field(ge=0, le=365)
    mfa_configuration: Literal["OFF", "ON", "OPTIONAL"]
    tier: Literal["LITE", "ESSENTIALS", "PLUS"]

    @field_validator("tier")
    @classmethod
    def _access_token_claims(cls, tier: str) -> str:
        if tier not in ACCESS_TOKEN_CUSTOMIZATION_TIERS:
            raise ValueError(
                f"the pre token generation trigger V2_0 puts the tenant claim in access tokens only on "
                f"{' or '.join(ACCESS_TOKEN_CUSTOMIZATION_TIERS)}; expected one of those"
            )
        return tier


class AuthTechnical(FunctionTechnical):
    user_pool: UserPoolSettings


class AuthResources(ServiceResources):
    model_config = CONTRACT

    user_pool_id: str = Field(min_length=1)
    app_client_id: str = Field(min_length=1)
    issuer: str = Field(pattern=_HTTPS)
    jwks_url: str = Field(pattern=_HTTPS)


class AuthIntegration(ContractModel):
    resources: AuthResources


class AuthConfig(ServiceContract):
    technical: AuthTechnical
    integration: AuthIntegration  # type: ignore[assignment]


#: The service this schema is the contract of, and the contract itself (ubertruck/contracts.py reads both).
SCHEMA_SERVICE = "auth"
SCHEMA = AuthConfig
