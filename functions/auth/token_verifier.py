"""Verification of a Cognito access token against the pool, the rules and the function's tenant.

A token is accepted when all of these hold:

- it is a JWT signed with RS256 by a key of the pool's JWKS (``kid`` in the header);
- ``iss`` is the pool's issuer, ``exp`` is in the future, ``iat`` is not in the future and no older
  than ``authentication_rules.token_max_age_seconds``;
- every claim in ``authentication_rules.required_claims`` is present, ``token_use`` equals
  ``authentication_rules.token_use``, and the token was issued to the tenant's app client
  (``client_id`` of an access token, ``aud`` of an ID token);
- ``custom:tenant_id`` is the function's own tenant; a valid token of another tenant is a
  ``TenantMismatch``, reported apart from invalid tokens.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import jwt

from common.config_schema import AuthenticationRules
from common.tenant import TenantContext

from .config_schema import AuthResources
from .jwks import JwksCache

# Cognito signs with RS256 only; accepting anything else would open algorithm-confusion attacks.
ALGORITHM = "RS256"
TENANT_CLAIM = "custom:tenant_id"
GROUPS_CLAIM = "cognito:groups"
_ACCESS = "access"


class TokenRejected(Exception):
    """The token is not valid for this API. The message names the check that failed, never the token."""


class TenantMismatch(TokenRejected):
    """A valid token, but of another tenant (or with no tenant claim)."""


class TokenVerifier:
    """Checks tokens for one tenant, with signing keys from ``keys``."""

    def __init__(self, own_tenant: str, keys: JwksCache, clock: Callable[[], float] = time.time) -> None:
        self._own_tenant = own_tenant
        self._keys = keys
        self._clock = clock

    def verify(self, token: str, resources: AuthResources, rules: AuthenticationRules, key_max_age: int) -> TenantContext:
        """The caller the token stands for; ``TokenRejected`` (or ``TenantMismatch``) otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("malformed token") from None
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise TokenRejected("unexpected signing algorithm or no key id")
        key = self._keys.signing_key(resources.jwks_url, header["kid"], key_max_age)
        if key is None:
            raise TokenRejected("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=resources.issuer,
                options={"require": ["exp", "iat", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token expired") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("bad signature") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"invalid token ({type(exc).__name__})") from None
        self._check_rules(claims, resources, rules)
        tenant = claims.get(TENANT_CLAIM)
        if tenant != self._own_tenant:
            raise TenantMismatch("token of another tenant")
        groups = claims.get(GROUPS_CLAIM) or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise TokenRejected("malformed groups claim")
        return TenantContext(tenant_id=tenant, user_id=str(claims["sub"]), roles=tuple(groups))

    def _check_rules(self, claims: dict[str, Any], resources: AuthResources, rules: AuthenticationRules) -> None:
        missing = [name for name in rules.required_claims if name not in claims]
        if missing:
            raise TokenRejected(f"missing claim(s) {', '.join(missing)}")
        if claims.get("token_use") != rules.token_use:
            raise TokenRejected("wrong token use")
        audience = claims.get("client_id") if rules.token_use == _ACCESS else claims.get("aud")
        if audience != resources.app_client_id:
            raise TokenRejected("issued to another client")
        issued_at = claims["iat"]
        now = self._clock()
        if not isinstance(issued_at, (int, float)) or issued_at > now:
            raise TokenRejected("issued in the future")
        if now - issued_at > rules.token_max_age_seconds:
            raise TokenRejected("token older than the maximum age")
