"""Exemptions: a named rule waived for one resource (or a whole stack), with a reason, until
a date.

They reach a rule through its config (``exemptions``: a list of ``{resource, reason,
expires, environments, source}``), put there by ``platformctl`` from the tenant's registry
file (``policy.exemptions``) or by whoever writes the pack config. So the same exemption
works offline and under ``pulumi preview --policy-pack-config``.

* An **active** exemption suppresses the rule's findings on what it matches. The rule then
  marks itself not applicable with a reason starting with :data:`MARKER` followed by JSON
  naming every exemption it used, which is how ``platformctl plan`` lists exemptions in
  use (the Analyzer protocol has no other channel for it).
* An **expired** exemption suppresses nothing, and the finding says the exemption expired.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .base import StackFacts, glob_matches

#: Prefix of a not-applicable reason that reports exemptions in use.
MARKER = "exempted:"

#: JSON schema of one exemption in a rule's config.
EXEMPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "resource": {"type": ["string", "null"], "description": "Glob over the URN or logical name; omitted: the whole stack."},
        "reason": {"type": "string", "minLength": 10},
        "expires": {"type": "string", "format": "date", "description": "Last day the exemption holds (YYYY-MM-DD)."},
        "environments": {"type": ["array", "null"], "items": {"type": "string"}},
        "source": {"type": "string", "description": "Where the exemption was declared (registry file or pack config)."},
    },
    "required": ["reason", "expires"],
}


@dataclass(frozen=True)
class Exemption:
    resource: str | None
    reason: str
    expires: dt.date
    environments: tuple[str, ...] | None
    source: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> "Exemption":
        envs = raw.get("environments")
        return cls(
            resource=raw.get("resource") or None,
            reason=str(raw["reason"]),
            expires=dt.date.fromisoformat(str(raw["expires"])),
            environments=tuple(envs) if envs else None,
            source=str(raw.get("source") or "pack config"),
        )

    def covers(self, facts: StackFacts, urn: str, name: str) -> bool:
        if self.environments is not None and facts.environment not in self.environments:
            return False
        return self.resource is None or glob_matches(self.resource, urn, name)

    def active(self, today: dt.date) -> bool:
        return today <= self.expires

    def as_report(self, urns: Sequence[str]) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "source": self.source,
            "urns": sorted(set(urns)),
        }


@dataclass
class Settlement:
    """What to report after exemptions: findings still standing, and exemptions used."""

    report: list[tuple[str, str]]
    used: list[dict[str, Any]]

    def marker(self) -> str | None:
        return MARKER + json.dumps(self.used, sort_keys=True) if self.used else None


def settle(
    findings: Iterable[tuple[str, str, str]],
    raw_exemptions: Sequence[Mapping[str, Any]],
    facts: StackFacts,
    today: dt.date | None = None,
) -> Settlement:
    """Apply exemptions to ``(urn, name, message)`` findings."""
    today = today or dt.date.today()
    exemptions = [Exemption.parse(e) for e in raw_exemptions]
    standing: list[tuple[str, str]] = []
    used: dict[int, list[str]] = {}
    for urn, name, message in findings:
        matching = [(i, e) for i, e in enumerate(exemptions) if e.covers(facts, urn, name)]
        active = [(i, e) for i, e in matching if e.active(today)]
        if active:
            used.setdefault(active[0][0], []).append(urn)
            continue
        if matching:
            expired = max(e.expires for _, e in matching)
            message = f"{message} (its exemption expired on {expired.isoformat()}: renew it with a reason, or fix the resource)"
        standing.append((urn, message))
    return Settlement(report=standing, used=[exemptions[i].as_report(urns) for i, urns in sorted(used.items())])


def parse_marker(reason: str) -> list[dict[str, Any]]:
    """The exemptions a not-applicable reason reports (empty when it is not ours)."""
    if not reason.startswith(MARKER):
        return []
    return list(json.loads(reason[len(MARKER):]))
