"""Physical names the planned stacks claim, and the claims two resources make on one name.

AWS refuses (or, worse, lets two stacks fight over) a second resource of a kind under a name
already taken in the same namespace. What that namespace is depends on the kind:

* most names are unique per **account and region** (SSM parameters, tables, log groups, KMS
  aliases, functions, layers, queues, topics, secrets, alarms, pipelines, build projects, …);
* IAM names and CloudWatch dashboards are unique per **account** (they have no region);
* S3 bucket names are unique across **every account** of the partition, and Cognito domain
  prefixes across every account of a region;
* some names are unique only **within a parent** (an inline role policy within its role, a
  user group within its pool, a stage within its API, a permission within its function);
* and some resources are the one configuration of their target (a bucket's policy, a topic's
  policy, a secret's rotation): two of them on one target claim the same thing.

A resource with no explicit name input is auto-named by Pulumi (a random suffix), so it claims
nothing. The account and region of a claim are those of the provider the resource is created
through (``providers.py``); a provider that pins no account is taken to be in the stack's
default account, the one its credentials are in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .capture import CapturedResource
from .providers import facts_for, provider_facts

#: How far a name is unique.
REGIONAL, ACCOUNT, PARTITION, PARTITION_REGION = "regional", "account", "partition", "partition-region"


@dataclass(frozen=True)
class Namespace:
    """Where a kind's names live: the input holding the name, how far it is unique, and (for
    names unique only within a parent) the input naming that parent."""

    name_input: str
    scope: str = REGIONAL
    within: str = ""
    #: The kind, when several resource types share one namespace (a bucket's V1 and V2 types).
    kind: str = ""


_BUCKET = "aws:s3/bucket"
#: Resource type → its namespace. Types not listed claim nothing (no physical name of their own).
NAMESPACES: dict[str, Namespace] = {
    "aws:ssm/parameter:Parameter": Namespace("name"),
    "aws:dynamodb/table:Table": Namespace("name"),
    "aws:cloudwatch/logGroup:LogGroup": Namespace("name"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Namespace("name"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": Namespace("alarmName"),
    "aws:cloudwatch/dashboard:Dashboard": Namespace("dashboardName", ACCOUNT),
    "aws:cloudwatch/eventRule:EventRule": Namespace("name", within="eventBusName"),
    "aws:cloudwatch/eventBus:EventBus": Namespace("name"),
    "aws:scheduler/schedule:Schedule": Namespace("name", within="groupName"),
    "aws:kms/alias:Alias": Namespace("name"),
    "aws:lambda/function:Function": Namespace("name"),
    "aws:lambda/layerVersion:LayerVersion": Namespace("layerName"),
    "aws:lambda/permission:Permission": Namespace("statementId", within="function"),
    "aws:sqs/queue:Queue": Namespace("name"),
    "aws:sns/topic:Topic": Namespace("name"),
    "aws:secretsmanager/secret:Secret": Namespace("name"),
    "aws:cognito/userPool:UserPool": Namespace("name"),
    "aws:cognito/userPoolDomain:UserPoolDomain": Namespace("domain", PARTITION_REGION),
    "aws:cognito/userGroup:UserGroup": Namespace("name", within="userPoolId"),
    "aws:apigateway/restApi:RestApi": Namespace("name"),
    "aws:apigateway/usagePlan:UsagePlan": Namespace("name"),
    "aws:apigateway/apiKey:ApiKey": Namespace("name"),
    "aws:apigateway/authorizer:Authorizer": Namespace("name", within="restApi"),
    "aws:apigateway/stage:Stage": Namespace("stageName", within="restApi"),
    "aws:apigateway/domainName:DomainName": Namespace("domainName"),
    "aws:codebuild/project:Project": Namespace("name"),
    "aws:codepipeline/pipeline:Pipeline": Namespace("name"),
    "aws:iam/role:Role": Namespace("name", ACCOUNT),
    "aws:iam/policy:Policy": Namespace("name", ACCOUNT),
    "aws:iam/user:User": Namespace("name", ACCOUNT),
    "aws:iam/instanceProfile:InstanceProfile": Namespace("name", ACCOUNT),
    "aws:iam/rolePolicy:RolePolicy": Namespace("name", ACCOUNT, within="role"),
    "aws:s3/bucket:Bucket": Namespace("bucket", PARTITION, kind=_BUCKET),
    "aws:s3/bucketV2:BucketV2": Namespace("bucket", PARTITION, kind=_BUCKET),
    # The one configuration of their target: a second one on the same target fights the first.
    "aws:s3/bucketPolicy:BucketPolicy": Namespace("bucket", PARTITION),
    "aws:s3/bucketVersioning:BucketVersioning": Namespace("bucket", PARTITION),
    "aws:s3/bucketVersioningV2:BucketVersioningV2": Namespace("bucket", PARTITION),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Namespace("bucket", PARTITION),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Namespace("bucket", PARTITION),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": Namespace("bucket", PARTITION),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": Namespace("bucket", PARTITION),
    "aws:sns/topicPolicy:TopicPolicy": Namespace("arn"),
    "aws:sqs/queuePolicy:QueuePolicy": Namespace("queueUrl"),
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": Namespace("queueUrl"),
    "aws:secretsmanager/secretRotation:SecretRotation": Namespace("secretId"),
}


@dataclass(frozen=True)
class NameClaim:
    """One resource's claim on a physical name."""

    stack: str
    urn: str
    type: str
    #: Empty where the namespace spans accounts (S3 buckets).
    account: str
    #: Empty where the namespace spans regions (IAM, dashboards, S3 buckets).
    region: str
    #: The kind, plus the parent for names unique only within one.
    namespace: str
    name: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.namespace, self.name)

    def describe(self) -> str:
        where = ", ".join(p for p in (f"account {self.account}" if self.account else "", f"region {self.region}" if self.region else "") if p)
        return f"{self.namespace} '{self.name}' ({where or 'every account'})"


@dataclass(frozen=True)
class Collision:
    """Two or more resources claiming one name in one namespace."""

    key: tuple[str, str, str, str]
    claims: tuple[NameClaim, ...]

    def describe(self) -> str:
        return f"{self.claims[0].describe()} is claimed by " + ", ".join(f"{c.stack} ({c.urn})" for c in self.claims)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def stack_claims(stack: str, resources: Iterable[CapturedResource], default_account: str, default_region: str) -> list[NameClaim]:
    """Every physical name ``stack``'s resources claim.

    ``default_account`` and ``default_region`` stand for a provider that pins no account or sets
    no region (the engine's default provider): the account the stack's credentials are in and
    the region of its stack config.
    """
    captured = list(resources)
    providers = provider_facts(captured)
    claims: list[NameClaim] = []
    for resource in captured:
        namespace = NAMESPACES.get(resource.type)
        if namespace is None or not resource.custom or resource.read:
            continue
        inputs = resource.inputs
        name = _text(inputs.get(namespace.name_input))
        if name is None:
            continue  # auto-named: Pulumi adds a random suffix
        facts = facts_for(resource, providers)
        account = (facts.account if facts is not None else None) or default_account
        region = (facts.region if facts is not None else None) or default_region
        kind = namespace.kind or resource.type
        if namespace.within:
            kind = f"{kind} in {namespace.within} '{_text(inputs.get(namespace.within)) or ''}'"
        claims.append(
            NameClaim(
                stack=stack,
                urn=resource.urn,
                type=resource.type,
                account="" if namespace.scope in (PARTITION, PARTITION_REGION) else account,
                region="" if namespace.scope in (ACCOUNT, PARTITION) else region,
                namespace=kind,
                name=name,
            )
        )
    return claims


def collisions(claims: Iterable[NameClaim]) -> list[Collision]:
    """Names claimed by more than one resource in one namespace, in a stable order."""
    by_key: dict[tuple[str, str, str, str], list[NameClaim]] = {}
    for claim in claims:
        by_key.setdefault(claim.key, []).append(claim)
    return [Collision(key, tuple(found)) for key, found in sorted(by_key.items()) if len(found) > 1]
