"""Plan reports: a table per stack, the documented JSON shape, and the summary both share.

JSON shape (other tools rely on it)::

    {"stacks": [{"stack", "tenant", "environment",
                 "resources": [{"urn", "type", "name", "parent",
                                "provider": {"urn", "account", "region"} | null,
                                "inputs"}],
                 "violations": [{"pack", "policy", "level", "urn", "message"}]}],
     "summary": {"stacks", "resources", "mandatory", "advisory"}}

A resource's ``provider`` says where it lands: the provider's URN, the one account it is pinned
to (``allowedAccountIds``; null when it pins none) and its region (null for the engine's default
provider, which the program does not configure). Components have no provider (null).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from .capture import CapturedResource
from .plan import PlannedStack
from .providers import facts_for, provider_facts

if TYPE_CHECKING:
    from ..policy.runner import PolicyContext

MANDATORY, ADVISORY = "mandatory", "advisory"


def count_levels(stacks: Iterable[PlannedStack]) -> dict[str, int]:
    counts = {MANDATORY: 0, ADVISORY: 0}
    for stack in stacks:
        for violation in stack.violations:
            counts[violation["level"]] = counts.get(violation["level"], 0) + 1
    return counts


def summary(stacks: list[PlannedStack]) -> dict[str, int]:
    levels = count_levels(stacks)
    return {
        "stacks": len(stacks),
        "resources": sum(s.resource_count for s in stacks),
        MANDATORY: levels[MANDATORY],
        ADVISORY: levels[ADVISORY],
    }


def _violation_view(violation: dict[str, Any]) -> dict[str, Any]:
    return {k: violation.get(k, "") for k in ("pack", "policy", "level", "urn", "message")}


def resource_views(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each captured resource (``CapturedResource.to_dict()``) in the report's shape, with the
    account and region of its provider."""
    captured = [CapturedResource.from_dict(r) for r in resources]
    providers = provider_facts(captured)
    views = []
    for resource in captured:
        facts = facts_for(resource, providers)
        views.append(resource.report_view(facts.view() if facts is not None else None))
    return views


def to_json(stacks: list[PlannedStack]) -> dict[str, Any]:
    """The documented JSON document for ``stacks``."""
    return {
        "stacks": [
            {
                "stack": s.ref.name,
                "tenant": s.ref.tenant_id,
                "environment": s.ref.environment,
                "resources": resource_views(s.resources),
                "violations": [_violation_view(v) for v in s.violations],
                "exemptions": s.exemptions,
            }
            for s in stacks
        ],
        "summary": summary(stacks),
    }


def render_json(stacks: list[PlannedStack]) -> str:
    return json.dumps(to_json(stacks), indent=1, sort_keys=False)


TABLE_COLUMNS = ("stack", "tenant", "env", "resources", "mandatory", "advisory", "exemptions", "cached")
_COUNTS = frozenset({"resources", "mandatory", "advisory", "exemptions"})


def table(stacks: list[PlannedStack]) -> str:
    """A summary row per stack, as aligned plain text (counts right-aligned).

    Plain text rather than a rich table: a thousand-tenant plan has a thousand rows, and laying
    them out with rich took longer than re-planning the tenant that changed."""
    rows = []
    for s in stacks:
        levels = count_levels([s])
        rows.append((
            s.ref.name,
            s.ref.tenant_id or "(shared)",
            s.ref.environment,
            str(s.resource_count),
            str(levels[MANDATORY]),
            str(levels[ADVISORY]),
            str(len(s.exemptions)),
            "yes" if s.cached else "",
        ))
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(TABLE_COLUMNS)]

    def line(cells: Iterable[str]) -> str:
        return "  ".join(
            cell.rjust(width) if name in _COUNTS else cell.ljust(width) for name, cell, width in zip(TABLE_COLUMNS, cells, widths)
        ).rstrip()

    return "\n".join(["Offline plan", line(TABLE_COLUMNS), line("-" * width for width in widths), *map(line, rows)])


def violation_lines(stacks: list[PlannedStack], level: str | None = None) -> list[str]:
    """One line per violation (of ``level`` only, when given): ``stack: LEVEL pack/policy urn: message``."""
    return [
        f"{s.ref.name}: {v['level'].upper()} {v['pack']}/{v['policy']} {v['urn']}: {v['message']}"
        for s in stacks
        for v in s.violations
        if level is None or v["level"] == level
    ]


def render_sarif(stacks: list[PlannedStack], context: "PolicyContext | None") -> str:
    """SARIF 2.1.0 for code scanning: one run per policy pack, results located in the tenant's
    registry file (or the component source of a shared stack)."""
    from ..policy.runner import ExemptionUse, PolicySession, StackPolicyResult, Violation
    from ..policy.sarif import to_sarif
    from .runner import StackRun

    if context is None:
        raise ValueError("SARIF needs the policy packs' rule metadata; plan with the policy gate on")
    results = {
        s.ref.name: StackPolicyResult(
            stack=s.ref.name,
            violations=[Violation(**_violation_view(v)) for v in s.violations],
            exemptions=[ExemptionUse(**{**e, "urns": tuple(e.get("urns", ()))}) for e in s.exemptions],
        )
        for s in stacks
    }
    runs = [StackRun(stack=s.ref.name, resources=[CapturedResource.from_dict(r) for r in s.resources]) for s in stacks]
    with PolicySession(context) as session:  # rule metadata comes from the packs themselves
        document = to_sarif(results, session.infos, context, runs)
    return json.dumps(document, indent=1, sort_keys=True)
