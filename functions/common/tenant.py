"""The caller's tenant, user and roles, from the API Gateway authorizer context only.

The authorizer has verified the token and put ``tenant_id``, ``user_id`` and ``roles``
(comma-joined) into ``requestContext.authorizer``. Nothing in the body, path or query can name a
tenant. A request whose tenant is not the function's own (its ``CONFIG_SERVICE_URL`` tenant) is
refused before anything is read or written.

>>> event = {"requestContext": {"authorizer": {"tenant_id": "acme", "user_id": "u-1", "roles": "customer,driver"}}}
>>> tenant_context(event, own_tenant="acme").roles
('customer', 'driver')
>>> tenant_context(event, own_tenant="globex")
Traceback (most recent call last):
...
common.tenant.TenantRefused: the caller's tenant is not this function's tenant
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

ROLE_SEPARATOR = ","


class TenantRefused(Exception):
    """The request carries no usable tenant context, or another tenant's."""


@dataclass(frozen=True)
class TenantContext:
    """Who is calling: set by the authorizer, checked against the function's own tenant."""

    tenant_id: str
    user_id: str
    roles: tuple[str, ...]


def authorizer_context(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``requestContext.authorizer`` of a REST proxy event, or an empty mapping."""
    request_context = event.get("requestContext")
    if not isinstance(request_context, Mapping):
        return {}
    authorizer = request_context.get("authorizer")
    return authorizer if isinstance(authorizer, Mapping) else {}


def tenant_context(event: Mapping[str, Any], own_tenant: str) -> TenantContext:
    """The caller's context; ``TenantRefused`` unless it is complete and names ``own_tenant``."""
    authorizer = authorizer_context(event)
    tenant = authorizer.get("tenant_id")
    user = authorizer.get("user_id")
    roles = authorizer.get("roles", "")
    if not isinstance(tenant, str) or not tenant:
        raise TenantRefused("no tenant in the authorizer context")
    if tenant != own_tenant:
        raise TenantRefused("the caller's tenant is not this function's tenant")
    if not isinstance(user, str) or not user:
        raise TenantRefused("no user in the authorizer context")
    if not isinstance(roles, str):
        raise TenantRefused("roles in the authorizer context are not a comma-joined string")
    return TenantContext(tenant_id=tenant, user_id=user, roles=tuple(r.strip() for r in roles.split(ROLE_SEPARATOR) if r.strip()))
