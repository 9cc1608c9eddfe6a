"""Object-level authorization: may this caller act on this booking, payment or position?

The route's ``AccessRule`` (declared in the service's ``routes.py``) names the object kind and who
may act on it; the endpoint loads the object's parties (``ObjectParties``) and calls
``check_access``. A caller granted the rule's ``manage`` operation is an operator and may act on
every object of the tenant (tenant isolation is already enforced before any route runs).
Otherwise the owner may act when the rule allows owners, and the driver assigned to the object's
booking when it allows assigned drivers. A refusal is a ``NotFound``, worded like a missing
object, so a caller cannot probe which ids exist.

>>> from common.config_schema import AuthorizationPolicies
>>> from common.routes import AccessRule
>>> rule = AccessRule(object="booking", manage="booking:manage", owner=True, assigned_driver=True)
>>> policies = AuthorizationPolicies(roles={"customer": ["booking:read"], "dispatcher": ["booking:*"]})
>>> may_act(rule, Caller("u-2", ("customer",)), ObjectParties(owner_id="u-1"), policies)
False
>>> may_act(rule, Caller("u-9", ("dispatcher",)), ObjectParties(owner_id="u-1"), policies)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .authorization import is_allowed
from .config_schema import AuthorizationPolicies
from .errors import NotFound
from .request_scope import RequestScope
from .routes import AccessRule


@dataclass(frozen=True)
class ObjectParties:
    """Who an object belongs to: the customer who owns it, and the driver assigned to its booking."""

    owner_id: str
    driver_id: str | None = None


@dataclass(frozen=True)
class Caller:
    """The verified caller: user id and roles from the authorizer context."""

    user_id: str
    roles: tuple[str, ...]


def may_act(rule: AccessRule, caller: Caller, parties: ObjectParties, policies: AuthorizationPolicies) -> bool:
    """Whether ``caller`` may act on an object with ``parties`` under ``rule``."""
    if not rule.per_object:
        return True
    if rule.manage is not None and is_allowed(caller.roles, rule.manage, policies):
        return True
    if rule.owner and parties.owner_id == caller.user_id:
        return True
    return rule.assigned_driver and parties.driver_id is not None and parties.driver_id == caller.user_id


def check_access(scope: RequestScope[Any], parties: ObjectParties | None, missing: str) -> None:
    """Raise ``NotFound(missing)`` unless the object exists and the caller may act on it.

    ``parties`` is None when the object does not exist; both cases answer the same.
    """
    scope.access_checked = True
    caller = Caller(scope.tenant.user_id, scope.tenant.roles)
    if parties is None or not may_act(scope.access, caller, parties, scope.global_config.security.authorization_policies):
        raise NotFound(missing)
