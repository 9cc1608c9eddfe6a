"""Physical ids and ARNs the mock runtime hands back, shaped like the ones AWS returns.

Policies compare ARNs (a tenant role may only name its own tenant's tables), so the offline
engine fabricates them from the physical name, region and account exactly as AWS formats them.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Callable

Fabricator = Callable[[str, str, str, str, dict[str, Any]], dict[str, Any]]


def _short_id(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _kms_key(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, seed))
    return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}


def _lambda_function(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return {
        "arn": arn,
        "qualifiedArn": f"{arn}:1",
        "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "version": "1",
    }


def _layer(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    layer_arn = f"arn:aws:lambda:{region}:{account}:layer:{inputs.get('layerName', name)}"
    return {"layerArn": layer_arn, "arn": f"{layer_arn}:1", "version": "1"}


def _user_pool(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    pool_id = f"{region}_{_short_id(seed, 9)}"
    return {
        "id": pool_id,
        "arn": f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}",
        "endpoint": f"cognito-idp.{region}.amazonaws.com/{pool_id}",
    }


def _rest_api(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    api_id = _short_id(seed, 10)
    return {
        "id": api_id,
        "rootResourceId": _short_id(seed + "/", 10),
        "executionArn": f"arn:aws:execute-api:{region}:{account}:{api_id}",
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api_id}",
    }


def _stage(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    api_id, stage = inputs.get("restApi", ""), inputs.get("stageName", name)
    return {
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}",
        "executionArn": f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}",
        "invokeUrl": f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
    }


def _queue(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:sqs:{region}:{account}:{name}",
        "url": f"https://sqs.{region}.amazonaws.com/{account}/{name}",
        "id": f"https://sqs.{region}.amazonaws.com/{account}/{name}",
    }


def _secret(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
    arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{_short_id(seed, 6)}"
    return {"arn": arn, "id": arn}


def _simple(pattern: str) -> Fabricator:
    def fabricate(region: str, account: str, name: str, seed: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"arn": pattern.format(region=region, account=account, name=name)}

    return fabricate


_BY_TYPE: dict[str, Fabricator] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _simple("arn:aws:kms:{region}:{account}:{name}"),
    "aws:dynamodb/table:Table": _simple("arn:aws:dynamodb:{region}:{account}:table/{name}"),
    "aws:ssm/parameter:Parameter": _simple("arn:aws:ssm:{region}:{account}:parameter{name}"),
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/layerVersion:LayerVersion": _layer,
    "aws:iam/role:Role": _simple("arn:aws:iam::{account}:role/{name}"),
    "aws:iam/policy:Policy": _simple("arn:aws:iam::{account}:policy/{name}"),
    "aws:sqs/queue:Queue": _queue,
    "aws:sns/topic:Topic": _simple("arn:aws:sns:{region}:{account}:{name}"),
    "aws:cloudwatch/logGroup:LogGroup": _simple("arn:aws:logs:{region}:{account}:log-group:{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _simple("arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
    "aws:cloudwatch/dashboard:Dashboard": _simple("arn:aws:cloudwatch::{account}:dashboard/{name}"),
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/stage:Stage": _stage,
    "aws:apigateway/usagePlan:UsagePlan": _simple("arn:aws:apigateway:{region}::/usageplans/{name}"),
    "aws:s3/bucket:Bucket": _simple("arn:aws:s3:::{name}"),
    "aws:s3/bucketV2:BucketV2": _simple("arn:aws:s3:::{name}"),
    "aws:codebuild/project:Project": _simple("arn:aws:codebuild:{region}:{account}:project/{name}"),
    "aws:codepipeline/pipeline:Pipeline": _simple("arn:aws:codepipeline:{region}:{account}:{name}"),
    "aws:cloudwatch/eventRule:EventRule": _simple("arn:aws:events:{region}:{account}:rule/{name}"),
}

#: Input property that holds the physical name, where it is not ``name``.
_NAME_PROPERTY = {
    "aws:lambda/layerVersion:LayerVersion": "layerName",
    "aws:kms/alias:Alias": "name",
    "aws:apigateway/stage:Stage": "stageName",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:s3/bucket:Bucket": "bucket",
}


def physical_name(type_: str, logical_name: str, inputs: dict[str, Any]) -> str:
    """The name AWS would know the resource by: the explicit name input, else the logical name."""
    value = inputs.get(_NAME_PROPERTY.get(type_, "name"))
    return value if isinstance(value, str) and value else logical_name


def fabricate_state(type_: str, logical_name: str, urn: str, region: str, account: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return ``(id, outputs)`` for a newly registered resource: its inputs plus computed outputs."""
    name = physical_name(type_, logical_name, inputs)
    module = type_.split(":")[1].split("/")[0] if type_.count(":") >= 2 else "resource"
    fabricate = _BY_TYPE.get(type_, _simple(f"arn:aws:{module}:{{region}}:{{account}}:{type_.rsplit(':', 1)[-1].lower()}/{{name}}"))
    computed = fabricate(region, account, name, urn, inputs)
    resource_id = str(computed.pop("id", name))
    state = {**inputs, "name": inputs.get("name", name), **computed, "id": resource_id}
    return resource_id, state
