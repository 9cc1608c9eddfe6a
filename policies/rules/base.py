"""The rule framework: what a rule is, what it sees, and how it reports.

A rule is a plain function over plain data plus its metadata (:class:`RuleSpec`). It never
touches the Pulumi policy SDK directly, so tests and benchmarks can call it in-process;
:mod:`policies.rules.sdk` turns rules into SDK policies for the packs.

Two gaps between the SDK's defaults and what the checklist needs are closed here:

* **Unknown values.** Reading an unknown value (a real preview, before the resource it
  depends on exists) raises :class:`Unknown`. For a security property that is a violation,
  not the SDK's advisory "can't run during preview".
* **Values in messages.** Messages name properties, never their values: secrets reach the
  analyzer in plain text. :func:`label` is the one way a key (an env var name, say) gets
  into a message, and only when it looks like an identifier.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

UNKNOWNS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$")


class Unknown(Exception):
    """A property the rule needs is not known yet (preview of a resource that depends on
    another one's outputs)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWNS


def get(props: Mapping[str, Any], *path: str | int, default: Any = None) -> Any:
    """``props[path[0]][path[1]]...``; ``default`` when a step is missing; :class:`Unknown`
    when a step is unknown. Missing and null are the same thing to a rule."""
    value: Any = props
    for i, step in enumerate(path):
        if is_unknown(value):
            raise Unknown(_dotted(path[:i]))
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return default
            value = value[step]
        else:
            if not isinstance(value, Mapping) or value.get(step) is None:
                return default
            value = value[step]
    if is_unknown(value):
        raise Unknown(_dotted(path))
    return value


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(properties)"


def label(key: Any) -> str:
    """A map key fit for a message: identifiers as they are, anything else anonymised."""
    return f"'{key}'" if isinstance(key, str) and _IDENTIFIER.match(key) else "an entry"


def strings(value: Any) -> Iterator[str]:
    """Every known string inside ``value`` (keys excluded), depth first."""
    if isinstance(value, str):
        if value not in UNKNOWNS:
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)
    else:
        text = getattr(value, "text", None)  # a StringAsset inside an archive
        if isinstance(text, str):
            yield text
        for item in (getattr(value, "assets", None) or {}).values():
            yield from strings(item)


@dataclass(frozen=True)
class StackFacts:
    """What a rule knows about the stack: its name, and for a tenant stack, the tenant.

    The stack name comes from the resource's URN, so it cannot be misconfigured: the same
    rule run by ``pulumi preview`` and by ``platformctl plan`` sees the same tenant.
    """

    stack: str
    environment: str
    tenant_id: str | None

    @property
    def prefix(self) -> str:
        """``<tenant>-<env>``: every resource name of a tenant stack starts with it."""
        return f"{self.tenant_id}-{self.environment}" if self.tenant_id else self.stack

    @classmethod
    def from_urn(cls, urn: str, environments: Sequence[str]) -> "StackFacts":
        stack = urn.split("::", 1)[0].rsplit(":", 1)[-1] if urn.startswith("urn:pulumi:") else ""
        if stack in environments:
            return cls(stack=stack, environment=stack, tenant_id=None)
        tenant, _, env = stack.rpartition("-")
        if tenant and env in environments:
            return cls(stack=stack, environment=env, tenant_id=tenant)
        return cls(stack=stack, environment="", tenant_id=None)


def names_tenant(text: str, facts: StackFacts) -> bool:
    """True when ``text`` names this tenant stack: a ``<tenant>-<env>`` name, or a ``/<tenant>``
    path segment, its root included (so tenant ``acme`` never accepts ``acme-corp``'s names)."""
    prefix, tenant = re.escape(facts.prefix), re.escape(facts.tenant_id or "")
    return re.search(rf"(^|[^A-Za-z0-9_-])({prefix}([^A-Za-z0-9_]|$)|{tenant}(/|$))", text) is not None


@dataclass(frozen=True)
class Subject:
    """One resource as a rule sees it: plain properties (secrets in clear, unknowns as the
    SDK's sentinels), its provider's properties and the stack."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    stack: StackFacts
    provider_type: str = ""
    provider_props: Mapping[str, Any] | None = None
    parent: str = ""


@dataclass(frozen=True)
class Param:
    """A rule parameter: JSON schema, and where its default comes from.

    ``source`` reads the default from the defaults documents (``{"platform": <defaults.yaml>,
    "policy": <defaults.yaml policy section>}``), so no parameter value lives in rule code.
    """

    schema: Mapping[str, Any]
    source: Callable[[Mapping[str, Any]], Any]
    description: str


Finding = tuple[str, str]
"""``(urn, message)``; an empty urn means the stack as a whole."""

ResourceCheck = Callable[[Subject, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Sequence[Subject], Mapping[str, Any], StackFacts], Iterable[Finding]]


@dataclass(frozen=True)
class RuleSpec:
    """A rule: a checklist item the resource graph can show.

    ``types`` restricts a resource rule to those resource types (empty: every resource);
    ``tenant_only`` rules do nothing on shared platform stacks. ``unknown_is_violation``
    is true for every rule guarding a security property. A rule that is not ``exemptible``
    has no ``exemptions`` parameter, so nothing can waive it.
    """

    name: str
    area: str
    description: str
    severity: str
    remediation: str
    params: Mapping[str, Param] = field(default_factory=dict)
    types: tuple[str, ...] = ()
    tenant_only: bool = False
    unknown_is_violation: bool = True
    enforcement: str = "mandatory"
    exemptible: bool = True
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None

    @property
    def is_stack_rule(self) -> bool:
        return self.stack_check is not None

    def applies_to(self, type_: str) -> bool:
        return not self.types or type_ in self.types


# ----------------------------------------------------------------------------------------
# Exemptions: a named rule waived for a resource (or the whole stack) for a reason, until a
# date. They arrive in each rule's config; see policies/rules/exemptions.py for matching.
# ----------------------------------------------------------------------------------------


def glob_matches(pattern: str, urn: str, name: str) -> bool:
    """An exemption's ``resource`` matches a resource's URN or its logical name."""
    return fnmatch.fnmatchcase(urn, pattern) or fnmatch.fnmatchcase(name, pattern)
