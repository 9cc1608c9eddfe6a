"""AWS resource type tokens and IAM document reading, shared by the rule modules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from .base import Param, Unknown, is_unknown

FUNCTION = "aws:lambda/function:Function"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
PERMISSION = "aws:lambda/permission:Permission"
PARAMETER = "aws:ssm/parameter:Parameter"
TABLE = "aws:dynamodb/table:Table"
SECRET = "aws:secretsmanager/secret:Secret"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
STAGE = "aws:apigateway/stage:Stage"
METHOD = "aws:apigateway/method:Method"
DOMAIN = "aws:apigateway/domainName:DomainName"
DOMAIN_V2 = "aws:apigatewayv2/domainName:DomainName"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
AWS_PROVIDER = "pulumi:providers:aws"

#: Identity policies (not key or bucket policies, whose "*" resource means "this resource").
IDENTITY_POLICY_TYPES = (ROLE_POLICY, IAM_POLICY, ROLE)


def policy_param(key: str, schema: Mapping[str, Any], description: str) -> Param:
    """A parameter whose default lives in the ``policy`` section of ``defaults.yaml`` under ``key``."""
    return Param(schema, lambda d: d["policy"][key], description)


def platform_param(path: tuple[str, ...], schema: Mapping[str, Any], description: str) -> Param:
    """A parameter whose default lives in the project's ``defaults.yaml`` at ``path``."""

    def source(documents: Mapping[str, Any]) -> Any:
        value: Any = documents["platform"]
        for step in path:
            value = value[step]
        return value

    return Param(schema, source, description)


STRINGS = {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Statement:
    """One IAM statement, lists normalised."""

    index: int
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: Mapping[str, tuple[str, ...]]
    condition: Mapping[str, Any]

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"


def _listed(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if is_unknown(value):
        raise Unknown(path)
    items = value if isinstance(value, list) else [value]
    for item in items:
        if is_unknown(item):
            raise Unknown(path)
    return tuple(str(i) for i in items)


def parse_document(document: Any, path: str) -> list[Statement]:
    """Statements of a policy document given as JSON text or a mapping.

    Unparseable text is an empty document with no statements; the caller decides whether
    that is a finding. Unknown text raises :class:`Unknown`.
    """
    if document is None:
        return []
    if is_unknown(document):
        raise Unknown(path)
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    raw = document.get("Statement") or []
    raw = raw if isinstance(raw, list) else [raw]
    statements = []
    for i, s in enumerate(raw):
        if not isinstance(s, Mapping):
            continue
        principal = s.get("Principal")
        principals: dict[str, tuple[str, ...]] = {}
        if isinstance(principal, Mapping):
            principals = {k: _listed(v, f"{path}.Statement[{i}].Principal") for k, v in principal.items()}
        elif principal is not None:
            principals = {"*": _listed(principal, f"{path}.Statement[{i}].Principal")}
        statements.append(
            Statement(
                index=i,
                effect=str(s.get("Effect", "")),
                actions=_listed(s.get("Action"), f"{path}.Statement[{i}].Action"),
                not_actions=_listed(s.get("NotAction"), f"{path}.Statement[{i}].NotAction"),
                resources=_listed(s.get("Resource"), f"{path}.Statement[{i}].Resource"),
                not_resources=_listed(s.get("NotResource"), f"{path}.Statement[{i}].NotResource"),
                principals=principals,
                condition=s.get("Condition") or {},
            )
        )
    return statements


def identity_documents(type_: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(property path, document)`` of every identity policy a resource carries."""
    if type_ in (ROLE_POLICY, IAM_POLICY):
        yield "policy", props.get("policy")
    elif type_ == ROLE:
        inline = props.get("inlinePolicies")
        if is_unknown(inline):
            raise Unknown("inlinePolicies")
        for i, entry in enumerate(inline or []):
            if isinstance(entry, Mapping):
                yield f"inlinePolicies[{i}].policy", entry.get("policy")


def arn_service_and_type(arn: str) -> tuple[str, str, str, str]:
    """``(service, region, account, resource-type)`` of an ARN; empty parts when absent."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "", "", "", ""
    resource = parts[5]
    kind = resource.split("/", 1)[0] if "/" in resource else resource.split(":", 1)[0]
    return parts[2], parts[3], parts[4], kind
