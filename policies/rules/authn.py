"""Authentication: every endpoint goes through an authorizer.

Checklist: "Authentication on all endpoints".
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .aws import FUNCTION_URL, METHOD, PERMISSION, STRINGS, policy_param
from .base import RuleSpec, Subject, get

AREA = "authentication"


def check_method_authorizer(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    method = get(subject.props, "httpMethod")
    if isinstance(method, str) and method.upper() in config["unauthenticated_methods"]:
        return
    authorization = get(subject.props, "authorization")
    if authorization not in config["authorization_types"]:
        yield f"property 'authorization' is not one of {config['authorization_types']}: the method is open to anyone"
    elif authorization != "AWS_IAM" and not get(subject.props, "authorizerId"):
        yield "property 'authorizerId' is empty: the method names no authorizer"


def check_function_url(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    if get(subject.props, "authorizationType") != "AWS_IAM":
        yield "property 'authorizationType' is not AWS_IAM: the function URL accepts unauthenticated calls"


def check_permission_source(subject: Subject, config: Mapping[str, Any]) -> Iterator[str]:
    principal = get(subject.props, "principal")
    if isinstance(principal, str) and principal.endswith(config["service_principal_suffix"]) and not get(subject.props, "sourceArn"):
        yield "property 'sourceArn' is empty: any resource of that service, in any account, could invoke the function"


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="apigw-method-authorizer",
        check=check_method_authorizer,
        area=AREA,
        description="Every API Gateway method except CORS preflight has an authorizer.",
        severity="critical",
        remediation="Route the method through the tenant's Lambda authorizer (authorization CUSTOM with authorizer_id).",
        params={
            "authorization_types": policy_param("authorization_types", STRINGS, "Authorization types that mean an authorizer checks the caller."),
            "unauthenticated_methods": policy_param("unauthenticated_methods", STRINGS, "HTTP methods that may go without an authorizer."),
        },
        types=(METHOD,),
    ),
    RuleSpec(
        name="lambda-url-auth",
        check=check_function_url,
        area=AREA,
        description="No Lambda function URL has authorization NONE.",
        severity="critical",
        remediation="Set authorization_type='AWS_IAM' on the function URL, or expose the function through the API instead.",
        types=(FUNCTION_URL,),
    ),
    RuleSpec(
        name="lambda-permission-source-arn",
        check=check_permission_source,
        area=AREA,
        description="Every Lambda permission for a service principal names a source ARN.",
        severity="high",
        remediation="Set source_arn to the API's execution ARN (or the rule/topic/bucket that invokes the function).",
        params={"service_principal_suffix": policy_param("service_principal_suffix", {"type": "string"}, "Suffix of AWS service principals.")},
        types=(PERMISSION,),
    ),
)
