"""Authorization: least privilege, and tenant roles confined to the tenant.

Checklist: "Authorization checks implemented" (and "Multi-tenant isolation verified" for the
role scope).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .aws import IDENTITY_POLICY_TYPES, STRINGS, arn_service_and_type, identity_documents, parse_document, policy_param
from .base import RuleSpec, Subject, names_tenant

AREA = "authorization"

UNSCOPED_PARAM = policy_param("unscoped_actions", STRINGS, "Actions AWS offers no resource-level permission for; the only ones allowed on '*'.")


def _wide_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def check_no_wildcards(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    unscoped = set(config["unscoped_actions"])
    for path, document in identity_documents(subject.type, subject.props):
        for st in parse_document(document, path):
            if not st.allows:
                continue
            if st.not_actions:
                yield f"{path} statement {st.index} allows NotAction: everything but a list is far from least privilege"
            if any(_wide_action(a) for a in st.actions):
                yield f"{path} statement {st.index} allows a wildcard action ('*' or '<service>:*')"
            if ("*" in st.resources or st.not_resources) and not set(st.actions) <= unscoped:
                yield f"{path} statement {st.index} allows '*' resources for actions that can be scoped (only {sorted(unscoped)} may use '*')"


def check_own_arns(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    facts = subject.stack
    unscoped = set(config["unscoped_actions"])
    opaque = set(config["opaque_arn_types"])
    region = (subject.provider_props or {}).get("region")
    for path, document in identity_documents(subject.type, subject.props):
        for st in parse_document(document, path):
            if not st.allows:
                continue
            for i, resource in enumerate(st.resources):
                if resource == "*" and set(st.actions) <= unscoped:
                    continue
                service, arn_region, _, kind = arn_service_and_type(resource)
                if f"{service}:{kind}" in opaque and (not region or arn_region == region):
                    continue
                if not names_tenant(resource, facts):
                    yield f"{path} statement {st.index} resource {i} does not name this tenant's resources (expected '{facts.prefix}-…' or '/{facts.tenant_id}/…')"


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="iam-no-wildcards",
        check=check_no_wildcards,
        area=AREA,
        description="No IAM statement allows '*' actions, or '*' resources except for actions AWS cannot scope.",
        severity="critical",
        remediation="List the actions the service needs and the ARNs it needs them on (components.iam.Grant).",
        params={"unscoped_actions": UNSCOPED_PARAM},
        types=IDENTITY_POLICY_TYPES,
    ),
    RuleSpec(
        name="tenant-roles-own-arns",
        check=check_own_arns,
        area=AREA,
        description="Tenant roles reference only their own tenant's ARNs.",
        severity="critical",
        remediation="Scope every statement to ARNs named '<tenant>-<env>-…' or under '/<tenant>/' (TenantContext.arn / table_arn).",
        params={
            "unscoped_actions": UNSCOPED_PARAM,
            "opaque_arn_types": policy_param("opaque_arn_types", STRINGS, "'<service>:<type>' ARNs with opaque ids (KMS keys), accepted in the stack's region."),
        },
        types=IDENTITY_POLICY_TYPES,
        tenant_only=True,
    ),
)
