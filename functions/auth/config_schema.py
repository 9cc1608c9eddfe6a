"""The auth service's config schema (``/{tenant}/services/auth/{env}``).

    technical/cache            config cache age, and how long fetched signing keys (JWKS) are kept
    integration/resources      the Cognito pool: user_pool_id, app_client_id, issuer, jwks_url

Token rules (token_use, maximum age, required claims) are global: ``global/security/authentication_rules``.

>>> AuthResources(user_pool_id="p", app_client_id="c", issuer="https://cognito-idp.x.amazonaws.com/p",
...               jwks_url="https://cognito-idp.x.amazonaws.com/p/.well-known/jwks.json").app_client_id
'c'
"""

from __future__ import annotations

from pydantic import Field

from common.config_schema import ConfigModel, ServiceConfig, ServiceResources, ServiceTechnical

_HTTPS = r"^https://"


class AuthResources(ServiceResources):
    user_pool_id: str = Field(min_length=1)
    app_client_id: str = Field(min_length=1)
    issuer: str = Field(pattern=_HTTPS)
    jwks_url: str = Field(pattern=_HTTPS)


class AuthIntegration(ConfigModel):
    resources: AuthResources


class AuthConfig(ServiceConfig):
    technical: ServiceTechnical
    integration: AuthIntegration  # type: ignore[assignment]
