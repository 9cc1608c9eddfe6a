"""The checklist's rules, one module per area, and the two packs they make up.

* ``security`` pack: authentication, authorization, encryption, secrets, isolation.
* ``platform`` pack: configuration, monitoring, compliance, governance (exemptions).

Importing this package starts nothing; see :mod:`policies.rules.sdk` for turning rules into
SDK policies.
"""

from __future__ import annotations

from . import authn, authz, compliance, config_rules, encryption, governance, isolation, monitoring, secrets
from .base import RuleSpec

SECURITY_RULES: tuple[RuleSpec, ...] = (*authn.RULES, *authz.RULES, *encryption.RULES, *secrets.RULES, *isolation.RULES)
PLATFORM_RULES: tuple[RuleSpec, ...] = (*config_rules.RULES, *monitoring.RULES, *compliance.RULES, *governance.RULES)

#: Pack name → its rules. The pack directories are policies/<name>.
PACKS: dict[str, tuple[RuleSpec, ...]] = {"security": SECURITY_RULES, "platform": PLATFORM_RULES}
PACK_NAMES = {"security": "ubertruck-security", "platform": "ubertruck-platform"}
PACK_DESCRIPTIONS = {
    "security": "UberTruck security checks: authentication, authorization, encryption, secrets, multi-tenant isolation.",
    "platform": "UberTruck platform checks: configuration, monitoring, compliance, exemptions in force.",
}

ALL_RULES: tuple[RuleSpec, ...] = (*SECURITY_RULES, *PLATFORM_RULES)


def rule(name: str) -> RuleSpec:
    """The rule called ``name``."""
    for spec in ALL_RULES:
        if spec.name == name:
            return spec
    raise KeyError(name)
