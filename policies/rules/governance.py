"""Governance: the exemptions themselves.

Issue 3: "An expired exemption is a violation." A rule's own exemptions only come to light
when one fails to suppress a finding; an exemption whose resource has since been fixed would
sit in a registry file forever. This stack rule sees every exemption that applies to the
stack (registry ``policy.exemptions`` and pack-config exemptions of every policy, collected
into ``exemptions_in_force`` by ``platformctl``, or by ``platformctl policy config`` for
``pulumi preview``) and reports each expired one, found or not.

It cannot itself be exempted: an exemption from it would hide the expired ones.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterator, Mapping, Sequence

from .base import Param, RuleSpec, StackFacts, Subject
from .exemptions import EXEMPTION_SCHEMA, Exemption

AREA = "governance"

#: The parameter carrying every exemption in force for the stack, each naming its policy.
IN_FORCE = "exemptions_in_force"

IN_FORCE_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        **EXEMPTION_SCHEMA,
        "properties": {**EXEMPTION_SCHEMA["properties"], "policy": {"type": "string", "description": "The policy it exempts from."}},
        "required": [*EXEMPTION_SCHEMA["required"], "policy"],
    },
}


def _scope(exemption: Exemption) -> str:
    # JSON quoting keeps a glob readable and any control character escaped (one-line messages).
    return f"resource {json.dumps(exemption.resource)}" if exemption.resource else "the whole stack"


def check_exemptions_current(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterator[tuple[str, str]]:
    today = dt.date.today()
    for raw in config[IN_FORCE]:
        exemption = Exemption.parse(raw)
        if exemption.environments is not None and facts.environment not in exemption.environments:
            continue
        if not exemption.active(today):
            yield "", (
                f"the exemption from {json.dumps(str(raw['policy']))} for {_scope(exemption)} expired on "
                f"{exemption.expires.isoformat()} ({exemption.source}): renew it with a reason and a new date, or remove it"
            )


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="exemptions-current",
        stack_check=check_exemptions_current,
        area=AREA,
        description="No exemption that applies to the stack has expired.",
        severity="high",
        remediation=(
            "Remove the expired exemption from the tenant's registry file (policy.exemptions) or the pack config and fix "
            "what it covered, or renew it with a current reason and a new expiry date."
        ),
        params={IN_FORCE: Param(IN_FORCE_SCHEMA, lambda d: [], "Every exemption that applies to the stack, each naming the policy it exempts from.")},
        exemptible=False,
    ),
)
