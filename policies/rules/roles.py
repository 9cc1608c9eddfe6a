"""Which identity policies apply to which role, across a stack's resources."""

from __future__ import annotations

from typing import Any, Sequence

from .aws import IAM_POLICY, ROLE, ROLE_POLICY
from .base import Subject, get

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def _role_name(value: Any) -> str:
    """A role given by name or by ARN → its name."""
    return value.rsplit("/", 1)[-1] if isinstance(value, str) else ""


def role_documents(subjects: Sequence[Subject]) -> dict[str, list[tuple[str, Any]]]:
    """Role name → ``(where, document)`` of each identity policy the stack gives it:
    inline role policies, the role's ``inlinePolicies`` and attached in-stack policies."""
    by_role: dict[str, list[tuple[str, Any]]] = {}
    policies_by_name = {get(s.props, "name") or s.name: s for s in subjects if s.type == IAM_POLICY}
    for s in subjects:
        if s.type == ROLE_POLICY:
            by_role.setdefault(_role_name(get(s.props, "role")), []).append((f"{s.name}.policy", get(s.props, "policy")))
        elif s.type == ROLE:
            for i, entry in enumerate(get(s.props, "inlinePolicies", default=[]) or []):
                by_role.setdefault(get(s.props, "name") or s.name, []).append((f"{s.name}.inlinePolicies[{i}]", get(entry, "policy")))
        elif s.type == ATTACHMENT:
            policy = policies_by_name.get(_role_name(get(s.props, "policyArn")))
            if policy is not None:
                by_role.setdefault(_role_name(get(s.props, "role")), []).append((f"{policy.name}.policy", get(policy.props, "policy")))
    return by_role
