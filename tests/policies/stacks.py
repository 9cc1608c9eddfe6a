"""Captured stacks for the policy tests: a synthetic compliant tenant stack holding one of
every resource kind the rules look at, and helpers to build and change captured resources.

The synthetic stack is ``acme-prod`` (acme allows only ap-south-1, keeps data 400 days; prod
needs deletion protection), so every rule has something to check in it.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Iterable

from platformctl.engine.capture import ARCHIVE_SIG, ASSET_SIG, SECRET_SIG, SIG_KEY, CapturedResource
from platformctl.engine.runner import StackRun
from policies.rules import aws
from ubertruck.defaults import load_defaults

STACK, TENANT, ENV, REGION = "acme-prod", "acme", "prod", "ap-south-1"
#: The prod account (defaults.yaml): the synthetic stack's provider pins it and its ARNs name it.
ACCOUNT = load_defaults().environments[ENV].account_id
PREFIX = f"{TENANT}-{ENV}"
PROJECT = "ubertruck"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:aws::{PREFIX}-aws"
PROVIDER_REF = f"{PROVIDER_URN}::{PREFIX}-aws-id"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f2c7f6e-4a1b-4f6c-9a7d-2b1e3c4d5e6f"
ALARM_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:ubertruck-{ENV}-alarms"
TAGS = {"tenant_id": TENANT, "environment": ENV, "platform": PROJECT}


def urn_of(type_: str, name: str, stack: str = STACK) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def resource(type_: str, name: str, props: dict[str, Any], stack: str = STACK, provider: str = PROVIDER_REF) -> CapturedResource:
    """A captured custom resource of the synthetic stack."""
    return CapturedResource(
        urn=urn_of(type_, name, stack), type=type_, name=name, parent="", custom=True,
        provider=provider if not type_.startswith("pulumi:") else "", dependencies=[], property_dependencies={},
        wire_inputs=props,
    )


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def archive(files: dict[str, str]) -> dict[str, Any]:
    return {SIG_KEY: ARCHIVE_SIG, "assets": {name: {SIG_KEY: ASSET_SIG, "text": text} for name, text in files.items()}}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def fallback(service: str) -> str:
    return json.dumps({"service": service, "environment": ENV, "tenant_id": TENANT, "version": "fallback", "global": {}, "service_config": {}})


def function_env(service: str) -> dict[str, str]:
    return {"SERVICE_NAME": service, "ENVIRONMENT": ENV, "CONFIG_SERVICE_URL": f"ssm:///{TENANT}", "LOG_LEVEL": "INFO"}


def key_policy() -> str:
    root = f"arn:aws:iam::{ACCOUNT}:root"
    return document(
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": root}, "Action": ["kms:Create*", "kms:Describe*", "kms:Put*"], "Resource": "*"},
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": root}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-*"}}},
        {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": f"logs.{REGION}.amazonaws.com"}, "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}},
    )


def role_policy() -> str:
    ssm = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{TENANT}"
    return document(
        {"Sid": "Config", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParametersByPath"], "Resource": [f"{ssm}/global/*", f"{ssm}/services/booking/{ENV}/*"]},
        {"Sid": "Key", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_ARN]},
        {"Sid": "Audit", "Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-audit"]},
        {"Sid": "Xray", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": ["*"]},
    )


def compliant_resources() -> list[CapturedResource]:
    """One compliant resource of every kind the rules check."""
    fn = f"{PREFIX}-booking-api"
    log_group = f"/ubertruck/{PREFIX}/booking/api"
    return [
        # The AWS SDK sends list-valued provider inputs JSON-encoded, as here.
        resource(aws.AWS_PROVIDER, f"{PREFIX}-aws", {"region": REGION, "allowedAccountIds": json.dumps([ACCOUNT])}),
        resource(aws.KEY, f"{PREFIX}-key", {"enableKeyRotation": True, "policy": key_policy(), "tags": dict(TAGS)}),
        resource(aws.TABLE, f"{PREFIX}-audit", {
            "name": f"{PREFIX}-audit", "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
            "pointInTimeRecovery": {"enabled": True}, "deletionProtectionEnabled": True, "tags": dict(TAGS)}),
        resource(aws.LOG_GROUP, f"{fn}-logs", {"name": log_group, "retentionInDays": 400, "kmsKeyId": KEY_ARN, "tags": dict(TAGS)}),
        resource(aws.FUNCTION, fn, {
            "name": fn, "role": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-booking", "environment": {"variables": function_env("booking")},
            "tracingConfig": {"mode": "Active"}, "loggingConfig": {"logGroup": log_group, "logFormat": "JSON"},
            "code": archive({"fallback.json": fallback("booking")}), "tags": dict(TAGS)}),
        resource(aws.ROLE, f"{PREFIX}-booking", {"name": f"{PREFIX}-booking", "assumeRolePolicy": document(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}), "tags": dict(TAGS)}),
        resource(aws.ROLE_POLICY, f"{PREFIX}-booking-policy", {"name": f"{PREFIX}-booking-policy", "role": f"{PREFIX}-booking", "policy": role_policy()}),
        resource(aws.ALARM, f"{fn}-errors", {
            "name": f"{fn}-errors", "alarmActions": [ALARM_TOPIC], "tags": dict(TAGS), "metricQueries": [
                {"id": "errors", "metric": {"metricName": "Errors", "namespace": "AWS/Lambda", "dimensions": {"FunctionName": fn}}}]}),
        resource(aws.ALARM, f"{fn}-latency", {
            "name": f"{fn}-latency", "alarmActions": [ALARM_TOPIC], "tags": dict(TAGS), "metricName": "Duration", "dimensions": {"FunctionName": fn}}),
        resource(aws.PARAMETER, f"{PREFIX}-config-global-operational-timeouts", {
            "name": f"/{TENANT}/global/operational/timeouts", "type": "String", "value": '{"function_timeout_seconds":15}', "tags": dict(TAGS)}),
        resource(aws.PARAMETER, f"{PREFIX}-config-global-security-encryption_settings", {
            "name": f"/{TENANT}/global/security/encryption_settings", "type": "SecureString", "keyId": KEY_ARN,
            "value": secret('{"kms_key_rotation":true}'), "tags": dict(TAGS)}),
        resource(aws.SECRET, f"{PREFIX}-payment-provider-api-key", {"name": f"{PREFIX}-payment-provider-api-key", "kmsKeyId": KEY_ARN, "tags": dict(TAGS)}),
        resource(aws.QUEUE, f"{PREFIX}-notification", {"name": f"{PREFIX}-notification", "kmsMasterKeyId": KEY_ARN, "tags": dict(TAGS)}),
        resource(aws.TOPIC, f"{PREFIX}-booking-events", {"name": f"{PREFIX}-booking-events", "kmsMasterKeyId": KEY_ARN, "tags": dict(TAGS)}),
        resource(aws.STAGE, f"{PREFIX}-api-stage", {
            "stageName": ENV, "restApi": "a1b2c3", "deployment": "d1", "xrayTracingEnabled": True, "tags": dict(TAGS),
            "accessLogSettings": {"destinationArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ubertruck/{PREFIX}/api/access", "format": "{}"}}),
        resource(aws.METHOD, f"{PREFIX}-api-bookings-get", {"restApi": "a1b2c3", "resourceId": "r1", "httpMethod": "GET", "authorization": "CUSTOM", "authorizerId": "z1"}),
        resource(aws.METHOD, f"{PREFIX}-api-bookings-options", {"restApi": "a1b2c3", "resourceId": "r1", "httpMethod": "OPTIONS", "authorization": "NONE"}),
        resource(aws.FUNCTION_URL, f"{PREFIX}-booking-url", {"functionName": fn, "authorizationType": "AWS_IAM"}),
        resource(aws.PERMISSION, f"{PREFIX}-booking-apigw", {
            "function": fn, "action": "lambda:InvokeFunction", "principal": "apigateway.amazonaws.com",
            "sourceArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3/*"}),
        resource(aws.DOMAIN, f"{PREFIX}-domain", {"domainName": "acme.api.ubertruck.example", "securityPolicy": "TLS_1_2", "tags": dict(TAGS)}),
        resource(aws.BUCKET_V2, f"{PREFIX}-artifacts", {"bucket": f"{PREFIX}-artifacts", "tags": dict(TAGS)}),
        resource(aws.BUCKET_POLICY, f"{PREFIX}-artifacts-tls", {"bucket": f"{PREFIX}-artifacts", "policy": document(
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{PREFIX}-artifacts/*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}})}),
    ]


def compliant_run() -> StackRun:
    return StackRun(stack=STACK, resources=compliant_resources())


def copy_run(run: StackRun) -> StackRun:
    return StackRun(stack=run.stack, resources=copy.deepcopy(run.resources), outputs=run.outputs)


def of_type(run: StackRun, *types: str) -> list[CapturedResource]:
    return [r for r in run.resources if r.type in types]


def named(run: StackRun, name: str) -> CapturedResource:
    return next(r for r in run.resources if r.name == name)


def without(run: StackRun, names: Iterable[str]) -> StackRun:
    drop = set(names)
    return StackRun(stack=run.stack, resources=[r for r in run.resources if r.name not in drop])
