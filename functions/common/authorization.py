"""Role-based authorization from ``global/security/authorization_policies``.

Each role maps to operation patterns; ``*`` matches any run of characters, so ``booking:*``
grants every booking operation and ``*`` grants everything. A caller may perform an operation
when any of its roles has a matching pattern. Unknown roles grant nothing.

>>> policies = AuthorizationPolicies(roles={"customer": ["booking:quote", "booking:read"], "admin": ["*"]})
>>> is_allowed(("customer",), "booking:read", policies), is_allowed(("customer",), "booking:cancel", policies)
(True, False)
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Iterable

from .config_schema import AuthorizationPolicies
from .errors import Forbidden


def is_allowed(roles: Iterable[str], operation: str, policies: AuthorizationPolicies) -> bool:
    """Whether any of ``roles`` is granted ``operation``."""
    return any(fnmatchcase(operation, pattern) for role in roles for pattern in policies.roles.get(role, ()))


def require(roles: Iterable[str], operation: str, policies: AuthorizationPolicies) -> None:
    """Raise ``Forbidden`` unless one of ``roles`` is granted ``operation``."""
    if not is_allowed(roles, operation, policies):
        raise Forbidden("you are not allowed to perform this operation")
