"""Multi-tenant isolation, as stack policies: tags, names, references, key policies.

Checklist: "Multi-tenant isolation verified". Each rule sees the whole stack, so it can tell
this tenant's resources from anything else.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterable, Mapping, Sequence

from .aws import KEY, STRINGS, parse_document, platform_param, policy_param
from .base import Param, RuleSpec, StackFacts, Subject, get, names_tenant, strings

AREA = "isolation"

#: Engine-owned resources (the stack itself, stack references) carry no tenant name.
#: Resources the engine itself registers and names: the stack, stack references, and the default
#: provider of its builtin package (``pulumi:providers:pulumi::default``, made for a StackReference).
ENGINE_TYPES = ("pulumi:pulumi:", "pulumi:providers:pulumi")
ACCOUNT_ROOT = re.compile(r"^(arn:aws:iam::\d{12}:root|\d{12})$")


def check_tags(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    tag = config["tenant_tag"]
    taggable = set(config["taggable_types"])
    for s in subjects:
        if s.type not in taggable:
            continue
        tags = get(s.props, "tags", default={}) or {}
        if tags.get(tag) != facts.tenant_id:
            yield s.urn, f"tag '{tag}' is missing or does not name this stack's tenant"


def check_names(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    for s in subjects:
        if s.type.startswith(ENGINE_TYPES):
            continue
        if s.name != facts.prefix and not s.name.startswith(f"{facts.prefix}-"):
            yield s.urn, f"the resource name does not start with the stack prefix '{facts.prefix}'"
        if s.type in config["parent_scoped_name_types"]:
            continue
        for prop in config["name_properties"]:
            value = get(s.props, prop)
            if isinstance(value, str) and not names_tenant(value, facts):
                yield s.urn, f"property '{prop}' does not carry the tenant ('{facts.prefix}-…' or '/{facts.tenant_id}/…')"


#: A name-like run: another tenant's stack prefix can only start where one starts.
_NAME_RUN = re.compile(r"[A-Za-z0-9_-]+")
#: A ``/<segment>`` followed by ``/`` at a name boundary: another tenant's config namespace.
_NAMESPACE = re.compile(r"(?<![A-Za-z0-9_-])/([A-Za-z0-9_-]+)(?=/)")


class OtherTenants:
    """Finds another tenant's stack prefix (``globex-dev``, alone or followed by ``-…``) or
    namespace (``/globex/``) in a string.

    Set look-ups on the string's name runs, not one regex alternation over every tenant id:
    a registry of a thousand tenants would make that alternation the slowest rule of the plan.
    """

    def __init__(self, others: Sequence[str], environments: Sequence[str]) -> None:
        self.ids = frozenset(others)
        self.prefixes = frozenset(f"{t}-{e}" for t in others for e in environments)

    def found_in(self, text: str) -> bool:
        for run in _NAME_RUN.findall(text):
            parts = run.split("-")
            # "<tenant>-<env>" is the whole run or is followed by "-" within it.
            if any("-".join(parts[: k + 1]) in self.prefixes for k in range(1, len(parts))):
                return True
        return any(segment in self.ids for segment in _NAMESPACE.findall(text))


def check_references(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    others = [t for t in config["other_tenant_ids"] if t != facts.tenant_id]
    if not others:
        return
    matcher = OtherTenants(others, config["environments"])
    for s in subjects:
        if any(matcher.found_in(text) for text in strings(s.props)) or matcher.found_in(s.name):
            yield s.urn, "an input references another tenant's resources (a name or ARN of another tenant's stack)"


def _grants_usage(actions: Sequence[str], usage: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(u, a) for a in actions for u in usage)


def _principal_arn_conditions(condition: Mapping[str, Any]) -> list[str]:
    values: list[str] = []
    for operator, entries in condition.items():
        if isinstance(entries, Mapping):
            for key, value in entries.items():
                if key.lower() == "aws:principalarn":
                    values += value if isinstance(value, list) else [value]
    return [str(v) for v in values]


def key_policy_findings(policy: Any, path: str, facts: StackFacts, usage: Sequence[str]) -> Iterable[str]:
    for st in parse_document(policy, path):
        if not st.allows:
            continue
        where = f"key policy statement {st.index}"
        for kind, principals in st.principals.items():
            for principal in principals:
                if kind == "Service":
                    if not st.condition:
                        yield f"{where} lets a service principal use the key with no condition tying it to this account or tenant"
                elif principal == "*":
                    yield f"{where} names '*' as principal"
                elif ACCOUNT_ROOT.match(principal):
                    narrowed = _principal_arn_conditions(st.condition)
                    if _grants_usage(st.actions, usage) and (not narrowed or not all(names_tenant(v, facts) for v in narrowed)):
                        yield f"{where} lets every principal of the account use the key; narrow it with aws:PrincipalArn to '{facts.prefix}-*' roles"
                elif not names_tenant(principal, facts):
                    yield f"{where} names a principal that is not one of this tenant's roles"


def check_key_policies(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    for s in subjects:
        if s.type != KEY:
            continue
        policy = get(s.props, "policy")
        if not policy:
            yield s.urn, "the key has no key policy: the account default lets every principal with IAM permission use it"
            continue
        for message in key_policy_findings(policy, "policy", facts, config["key_usage_actions"]):
            yield s.urn, message


def _stack_rule(name: str, check: Any, description: str, remediation: str, params: Mapping[str, Any]) -> RuleSpec:
    return RuleSpec(name=name, stack_check=check, area=AREA, description=description, severity="critical",
                    remediation=remediation, params=params, tenant_only=True)


RULES: tuple[RuleSpec, ...] = (
    _stack_rule("tenant-tag", check_tags, "Every taggable resource carries tenant_id equal to the stack's tenant.",
                "Pass tags=ctx.tags to every taggable resource.",
                {"tenant_tag": platform_param(("platform", "tenant_tag"), {"type": "string"}, "Tag that carries the tenant."),
                 "taggable_types": policy_param("taggable_types", STRINGS, "Resource types that accept tags.")}),
    _stack_rule("tenant-name-prefix", check_names, "Resource names carry the tenant prefix.",
                "Name resources with ctx.name(...) so they start with '<tenant>-<env>'.",
                {"name_properties": policy_param("name_properties", STRINGS, "Inputs that hold a physical name."),
                 "parent_scoped_name_types": policy_param("parent_scoped_name_types", STRINGS, "Types whose names are scoped inside a tenant resource.")}),
    _stack_rule("no-cross-tenant-references", check_references, "No input references another tenant's names or ARNs.",
                "Build names and ARNs from the stack's TenantContext only; never from another tenant's settings.",
                {"other_tenant_ids": Param(STRINGS, lambda d: [], "Ids of every other tenant of the registry (platformctl fills them in).")}),
    _stack_rule("kms-key-policy-tenant-principals", check_key_policies, "KMS key policies name only the tenant's principals.",
                "Use components.tenant_key.key_policy: account root administers, tenant roles (by aws:PrincipalArn) use.",
                {"key_usage_actions": policy_param("key_usage_actions", STRINGS, "KMS actions that use (not administer) a key.")}),
)
