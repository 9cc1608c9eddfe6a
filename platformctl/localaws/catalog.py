"""What the stand-in knows of each AWS resource type: its name input and what AWS cannot change.

These are facts of the AWS APIs (as pulumi-aws 7 exposes them), not settings: a DynamoDB table
cannot be renamed, a Lambda permission cannot be edited at all. Types the program does not use
fall back to :data:`GENERIC`, which treats ``name`` as an autonamed, replace-on-change name.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TypeFacts:
    """How one resource type behaves towards change."""

    #: Input holding the physical name AWS knows the resource by, if it has one.
    name_property: str | None = "name"
    #: Whether the provider invents that name when the program leaves it out.
    autonamed: bool = True
    #: Input that asks AWS to invent the name from a prefix (``namePrefix``), if the type has one.
    prefix_property: str | None = None
    #: Inputs AWS cannot change in place: a change replaces the resource.
    replace_on_change: frozenset[str] = field(default_factory=frozenset)
    #: Every input replaces the resource (immutable types such as Lambda layer versions).
    immutable: bool = False
    #: Input naming the parent whose namespace the name lives in (a Cognito group lives in its
    #: pool): the id is ``<parent>/<name>``, as AWS's is, so two parents may hold one name.
    parent_property: str | None = None


def _facts(
    name: str | None = "name",
    autonamed: bool = True,
    prefix: str | None = None,
    replaces: tuple[str, ...] = (),
    name_updatable: bool = False,
    immutable: bool = False,
    parent: str | None = None,
) -> TypeFacts:
    # Most AWS names are identities (renaming means a new resource); the prefix goes with them.
    fixed = {name, prefix} if name and not name_updatable else set()
    return TypeFacts(name, autonamed and name is not None, prefix, frozenset(replaces) | frozenset(p for p in fixed if p), immutable, parent)


GENERIC = _facts()

_API_METHOD = ("restApi", "resourceId", "httpMethod")

TYPES: dict[str, TypeFacts] = {
    # API Gateway: names of APIs, plans and authorizers are labels, editable in place.
    "aws:apigateway/restApi:RestApi": _facts(name_updatable=True),
    "aws:apigateway/usagePlan:UsagePlan": _facts(name_updatable=True),
    "aws:apigateway/authorizer:Authorizer": _facts(name_updatable=True, replaces=("restApi",), parent="restApi"),
    "aws:apigateway/deployment:Deployment": _facts(None, False, replaces=("restApi", "triggers")),
    "aws:apigateway/resource:Resource": _facts(None, False, replaces=("restApi",)),
    "aws:apigateway/method:Method": _facts(None, False, replaces=_API_METHOD),
    "aws:apigateway/methodResponse:MethodResponse": _facts(None, False, replaces=(*_API_METHOD, "statusCode")),
    "aws:apigateway/integration:Integration": _facts(None, False, replaces=_API_METHOD),
    "aws:apigateway/integrationResponse:IntegrationResponse": _facts(None, False, replaces=(*_API_METHOD, "statusCode")),
    "aws:apigateway/methodSettings:MethodSettings": _facts(None, False, replaces=("restApi", "stageName", "methodPath")),
    "aws:apigateway/stage:Stage": _facts("stageName", False, replaces=("restApi",), parent="restApi"),
    # CloudWatch
    "aws:cloudwatch/dashboard:Dashboard": _facts("dashboardName", False),
    "aws:cloudwatch/logGroup:LogGroup": _facts(prefix="namePrefix"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _facts(),
    "aws:cloudwatch/eventRule:EventRule": _facts(prefix="namePrefix"),
    # A target lives on its rule (and bus); AWS names it by targetId, which it cannot rename.
    "aws:cloudwatch/eventTarget:EventTarget": _facts(None, False, replaces=("rule", "eventBusName", "targetId")),
    # Build and deploy
    "aws:codebuild/project:Project": _facts(),
    "aws:codepipeline/pipeline:Pipeline": _facts(),
    # Cognito: a user pool's sign-in attributes and schema are fixed at creation.
    "aws:cognito/userPool:UserPool": _facts(replaces=("aliasAttributes", "usernameAttributes", "schemas")),
    "aws:cognito/userGroup:UserGroup": _facts(autonamed=False, replaces=("userPoolId",), parent="userPoolId"),
    "aws:cognito/userPoolClient:UserPoolClient": _facts(name_updatable=True, replaces=("userPoolId", "generateSecret"), parent="userPoolId"),
    # DynamoDB: the key schema and local indexes are fixed at creation (key attributes: see behaviours).
    "aws:dynamodb/table:Table": _facts(replaces=("hashKey", "rangeKey", "localSecondaryIndexes")),
    # IAM
    "aws:iam/role:Role": _facts(prefix="namePrefix", replaces=("path",)),
    "aws:iam/rolePolicy:RolePolicy": _facts(prefix="namePrefix", replaces=("role",), parent="role"),
    "aws:iam/policy:Policy": _facts(prefix="namePrefix", replaces=("path",)),
    # KMS: an alias is its name; a key's spec and usage are fixed.
    "aws:kms/alias:Alias": _facts(prefix="namePrefix"),
    "aws:kms/key:Key": _facts(None, False, replaces=("customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion")),
    # Lambda: a layer version and a permission can only be replaced, never edited.
    "aws:lambda/function:Function": _facts(replaces=("packageType",)),
    "aws:lambda/layerVersion:LayerVersion": _facts("layerName", immutable=True),
    "aws:lambda/permission:Permission": _facts(None, False, immutable=True),
    "aws:lambda/eventSourceMapping:EventSourceMapping": _facts(None, False, replaces=("eventSourceArn", "startingPosition", "startingPositionTimestamp", "selfManagedEventSource")),
    # S3: a bucket is its name; every bucket sub-resource belongs to one bucket for life.
    "aws:s3/bucket:Bucket": _facts("bucket", prefix="bucketPrefix", replaces=("objectLockEnabled",)),
    "aws:s3/bucketV2:BucketV2": _facts("bucket", prefix="bucketPrefix", replaces=("objectLockEnabled",)),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _facts(None, False, replaces=("bucket", "expectedBucketOwner")),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _facts(None, False, replaces=("bucket",)),
    "aws:s3/bucketPolicy:BucketPolicy": _facts(None, False, replaces=("bucket",)),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _facts(None, False, replaces=("bucket",)),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _facts(None, False, replaces=("bucket", "expectedBucketOwner")),
    "aws:s3/bucketVersioning:BucketVersioning": _facts(None, False, replaces=("bucket", "expectedBucketOwner")),
    # Secrets Manager
    "aws:secretsmanager/secret:Secret": _facts(prefix="namePrefix"),
    "aws:secretsmanager/secretRotation:SecretRotation": _facts(None, False, replaces=("secretId",)),
    # SNS and SQS: a topic or queue is its name; FIFO-ness is fixed.
    "aws:sns/topic:Topic": _facts(prefix="namePrefix", replaces=("fifoTopic",)),
    "aws:sns/topicPolicy:TopicPolicy": _facts(None, False, replaces=("arn",)),
    "aws:sns/topicSubscription:TopicSubscription": _facts(None, False, replaces=("topic", "protocol", "endpoint")),
    "aws:sqs/queue:Queue": _facts(prefix="namePrefix", replaces=("fifoQueue",)),
    "aws:sqs/queuePolicy:QueuePolicy": _facts(None, False, replaces=("queueUrl",)),
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": _facts(None, False, replaces=("queueUrl",)),
    # SSM: a parameter is its name.
    "aws:ssm/parameter:Parameter": _facts(),
}


def facts_for(type_: str) -> TypeFacts:
    """The facts of ``type_``; :data:`GENERIC` for a type this module does not list."""
    return TYPES.get(type_, GENERIC)
