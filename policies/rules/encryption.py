"""Encryption at rest (tenant key, rotation) and in transit (TLS).

Checklist: "Encryption at rest and transit".
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

from .aws import (
    BUCKET,
    BUCKET_POLICY,
    BUCKET_V2,
    DOMAIN,
    DOMAIN_V2,
    KEY,
    LOG_GROUP,
    PARAMETER,
    QUEUE,
    SECRET,
    STRINGS,
    TABLE,
    TOPIC,
    parse_document,
    policy_param,
)
from .base import Param, RuleSpec, StackFacts, Subject, get

AREA = "encryption"

MANAGED_PARAM = policy_param("aws_managed_key_prefix", {"type": "string"}, "Alias prefix of AWS-managed keys.")
SYMMETRIC = "SYMMETRIC_DEFAULT"


def _customer_key(key: Any, config: Mapping[str, Any]) -> bool:
    return isinstance(key, str) and bool(key) and not key.split(":")[-1].startswith(config["aws_managed_key_prefix"])


def _key_check(*path: str, customer: bool = True) -> Any:
    """A check that the key property at ``path`` is set (and, with ``customer``, that it is
    not an AWS-managed key)."""
    prop = ".".join(path)

    def check(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
        key = get(subject.props, *path)
        if not key:
            yield f"property '{prop}' is empty: the data is not encrypted with a key the platform controls"
        elif customer and not _customer_key(key, config):
            yield f"property '{prop}' names an AWS-managed key; use the tenant's customer-managed key"

    return check


def check_table(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if get(subject.props, "serverSideEncryption", "enabled") is not True:
        yield "property 'serverSideEncryption.enabled' is not true: the table is encrypted with an AWS-owned key"
        return
    yield from _key_check("serverSideEncryption", "kmsKeyArn")(subject, config)


def check_secure_string(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if get(subject.props, "type") == "SecureString":
        yield from _key_check("keyId")(subject, config)


def check_queue(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if not get(subject.props, "kmsMasterKeyId") and get(subject.props, "sqsManagedSseEnabled") is not True:
        yield "neither 'kmsMasterKeyId' nor 'sqsManagedSseEnabled' is set: messages are stored unencrypted"


def check_rotation(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    spec = get(subject.props, "customerMasterKeySpec") or get(subject.props, "keySpec") or SYMMETRIC
    if spec == SYMMETRIC and get(subject.props, "enableKeyRotation") is not True:
        yield "property 'enableKeyRotation' is not true"


def _tls_ok(policy: Any, config: Mapping[str, Any]) -> bool:
    order = list(config["tls_policies"])
    minimum = config["tls_minimum_version"]
    return policy in order and minimum in order and order.index(policy) >= order.index(minimum)


def check_domain_tls(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    path = ("securityPolicy",) if subject.type == DOMAIN else ("domainNameConfiguration", "securityPolicy")
    if not _tls_ok(get(subject.props, *path), config):
        yield f"property '{'.'.join(path)}' is below the TLS minimum {config['tls_minimum_version']} (or unset)"


def _denies_plain_http(document: Any, path: str, config: Mapping[str, Any]) -> bool:
    key = config["tls_condition_key"]
    for st in parse_document(document, path):
        if st.effect != "Deny":
            continue
        for operator, conditions in st.condition.items():
            if operator.startswith("Bool") and isinstance(conditions, Mapping) and str(conditions.get(key)).lower() == "false":
                return True
    return False


def check_tls_only_buckets(subjects: Sequence[Subject], config: Mapping[str, Any], facts: StackFacts) -> Iterable[tuple[str, str]]:
    protected = {
        get(s.props, "bucket")
        for s in subjects
        if s.type == BUCKET_POLICY and _denies_plain_http(get(s.props, "policy"), f"{s.name}.policy", config)
    }
    for s in subjects:
        if s.type in (BUCKET, BUCKET_V2) and (get(s.props, "bucket") or s.name) not in protected:
            yield s.urn, "the bucket has no policy denying requests without TLS (aws:SecureTransport false)"


def _tls_minimum(documents: Mapping[str, Any]) -> str:
    return documents["platform"]["tenant_config"]["global"]["security"]["encryption_settings"]["tls_minimum_version"]


def _rule(name: str, types: tuple[str, ...], check: Any, description: str, remediation: str, **extra: Any) -> RuleSpec:
    return RuleSpec(name=name, check=check, area=AREA, description=description, severity=extra.pop("severity", "high"),
                    remediation=remediation, types=types, **extra)


RULES: tuple[RuleSpec, ...] = (
    _rule("dynamodb-tenant-cmk", (TABLE,), check_table,
          "DynamoDB tables are encrypted with the tenant's customer-managed key.",
          "Use components.tables.tenant_table, which sets server_side_encryption with the tenant key.",
          params={"aws_managed_key_prefix": MANAGED_PARAM}, severity="critical"),
    _rule("ssm-securestring-tenant-cmk", (PARAMETER,), check_secure_string,
          "SecureString parameters are encrypted with the tenant's customer-managed key.",
          "Set key_id to the tenant key (components.config_params.config_parameter does).",
          params={"aws_managed_key_prefix": MANAGED_PARAM}, severity="critical"),
    _rule("secretsmanager-cmk", (SECRET,), _key_check("kmsKeyId"),
          "Secrets Manager secrets are encrypted with the tenant's customer-managed key.",
          "Set kms_key_id to the tenant key.", params={"aws_managed_key_prefix": MANAGED_PARAM}, severity="critical"),
    _rule("sqs-encryption", (QUEUE,), check_queue,
          "SQS queues are encrypted at rest.", "Set kms_master_key_id to the tenant key."),
    _rule("sns-encryption", (TOPIC,), _key_check("kmsMasterKeyId", customer=False),
          "SNS topics are encrypted at rest.", "Set kms_master_key_id to the tenant key (or alias/aws/sns on shared topics)."),
    _rule("logs-encryption", (LOG_GROUP,), _key_check("kmsKeyId", customer=False),
          "CloudWatch log groups are encrypted with a KMS key.", "Set kms_key_id to the tenant key."),
    _rule("kms-rotation", (KEY,), check_rotation,
          "Symmetric KMS keys rotate automatically.", "Set enable_key_rotation=True (tenant_config.global.security.encryption_settings).",
          severity="medium"),
    _rule("apigw-domain-tls12", (DOMAIN, DOMAIN_V2), check_domain_tls,
          "Custom domains require TLS 1.2 or later.", "Set security_policy to TLS_1_2 (or a TLS 1.3 policy).",
          params={
              "tls_minimum_version": Param({"type": "string"}, _tls_minimum, "Weakest acceptable security policy (tenant encryption settings)."),
              "tls_policies": policy_param("tls_policies", STRINGS, "Security policies, weakest first."),
          }),
    RuleSpec(
        name="s3-tls-only",
        stack_check=check_tls_only_buckets,
        area=AREA,
        description="Every bucket has a policy that denies requests without TLS.",
        severity="high",
        remediation="Attach a bucket policy with a Deny statement on aws:SecureTransport = false.",
        params={"tls_condition_key": policy_param("tls_condition_key", {"type": "string"}, "Condition key that tells TLS requests apart.")},
    ),
)
