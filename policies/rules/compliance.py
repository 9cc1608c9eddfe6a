"""Compliance: retention, recovery, deletion protection, audit store, data residency.

Checklist: "Audit logging complete", "Data retention configured", "GDPR compliance checked"
(residency), plus point-in-time recovery and deletion protection for the tenant's data.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

from .aws import AWS_PROVIDER, LOG_GROUP, STRINGS, TABLE, platform_param, policy_param
from .base import Param, RuleSpec, StackFacts, Subject, get

AREA = "compliance"


def check_log_retention(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    days = get(subject.props, "retentionInDays")
    # No retention (or 0) means CloudWatch keeps the logs forever, which meets any minimum.
    if days and days < config["data_retention_days"]:
        yield f"property 'retentionInDays' keeps logs for less than the tenant's data retention of {config['data_retention_days']} days"


def check_pitr(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if get(subject.props, "pointInTimeRecovery", "enabled") is not True:
        yield "property 'pointInTimeRecovery.enabled' is not true"


def check_deletion_protection(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if subject.stack.environment in config["protected_environments"] and get(subject.props, "deletionProtectionEnabled") is not True:
        yield f"property 'deletionProtectionEnabled' is not true in {subject.stack.environment}"


def check_audit_store(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    wanted = {f"{facts.prefix}-{suffix}" for suffix in config["audit_table_suffixes"]}
    if not any(s.type == TABLE and (get(s.props, "name") or s.name) in wanted for s in subjects):
        yield "", f"the stack has no audit table ({' or '.join(sorted(wanted))})"


def check_region(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if subject.type == AWS_PROVIDER:
        region = get(subject.props, "region")
    elif not subject.type.startswith("aws:"):
        return
    elif subject.provider_props is None:
        yield "the resource has no provider, so its region cannot be checked"
        return
    else:
        region = get(subject.provider_props, "region")
    if region not in config["allowed_regions"]:
        yield f"the provider's region is not one of the tenant's allowed regions {config['allowed_regions']}"


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="log-retention-meets-data-retention",
        check=check_log_retention,
        area=AREA,
        description="Log retention meets the tenant's data-retention setting.",
        severity="high",
        remediation="Use TenantSettings.log_retention_days (the tenant's data retention rounded up to a CloudWatch value).",
        params={
            "data_retention_days": platform_param(
                ("compliance", "default_data_retention_days"), {"type": "integer", "minimum": 1},
                "The tenant's data retention in days (registry compliance.data_retention_days).",
            ),
        },
        types=(LOG_GROUP,),
    ),
    RuleSpec(
        name="dynamodb-pitr",
        check=check_pitr,
        area=AREA,
        description="Every table has point-in-time recovery.",
        severity="high",
        remediation="Set point_in_time_recovery={'enabled': True} (components.tables.tenant_table does).",
        types=(TABLE,),
    ),
    RuleSpec(
        name="dynamodb-deletion-protection",
        check=check_deletion_protection,
        area=AREA,
        description="Tables have deletion protection in protected environments (prod).",
        severity="high",
        remediation="Set deletion_protection_enabled from the environment's settings (defaults.yaml environments.<env>.deletion_protection).",
        params={
            "protected_environments": Param(
                STRINGS,
                lambda d: sorted(env for env, s in d["platform"]["environments"].items() if s.get("deletion_protection")),
                "Environments whose tables must have deletion protection.",
            )
        },
        types=(TABLE,),
    ),
    RuleSpec(
        name="audit-store-per-tenant",
        stack_check=check_audit_store,
        area=AREA,
        description="Every tenant stack has its audit table.",
        severity="high",
        remediation="Create the tenant's data stores (components.tables.TenantDataStores) in the tenant platform.",
        params={"audit_table_suffixes": policy_param("audit_table_suffixes", STRINGS, "Name suffixes of the tenant's audit table.")},
        tenant_only=True,
    ),
    RuleSpec(
        name="allowed-regions",
        check=check_region,
        area=AREA,
        description="Resources stay in the tenant's allowed regions.",
        severity="critical",
        remediation="Create resources through the tenant platform's provider, whose region is the tenant's registry region.",
        params={"allowed_regions": platform_param(("platform", "supported_regions"), STRINGS, "Regions the stack's resources may live in (registry compliance.residency).")},
    ),
)
