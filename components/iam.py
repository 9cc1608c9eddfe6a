"""Least-privilege roles for the tenant's functions.

Every role is named ``<tenant>-<env>-<service>`` so the key policy and the isolation policies can
recognise the tenant's principals, and every statement names this tenant's ARNs. The only
``"*"`` resources are for the actions AWS does not scope to a resource (X-Ray segments).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import pulumi
import pulumi_aws as aws

from .context import TenantContext, child, known_after

#: AWS offers no resource-level permission for these; they are the documented exception.
UNSCOPED_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


@dataclass(frozen=True)
class Grant:
    """Allow ``actions`` on ``resources`` (ARNs, possibly Outputs)."""

    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class ServiceRoleArgs:
    ctx: TenantContext
    service: str
    grants: Sequence[Grant] = field(default_factory=tuple)
    #: Read the tenant's whole config namespace (configuration service) instead of just the
    #: service's own namespace and the global sections.
    whole_namespace: bool = False
    assume_service: str = "lambda.amazonaws.com"


def config_read_grants(ctx: TenantContext, service: str, whole_namespace: bool) -> list[Grant]:
    """SSM read on the tenant's global sections and the service's own namespace, plus decrypt."""
    read = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    if whole_namespace:
        paths = [ctx.arn("ssm", f"parameter/{ctx.tenant_id}"), ctx.config_namespace_arn()]
    else:
        ns = ctx.settings.service_namespace(service)
        metrics = ctx.settings.service_namespace("observability") + "/technical/metrics"
        # GetParametersByPath is authorised against the path's own ARN, GetParameter(s) against
        # each parameter's: both forms, for the global sections and the service's namespace.
        paths = [
            ctx.arn("ssm", f"parameter/{ctx.tenant_id}/global"),
            ctx.arn("ssm", f"parameter/{ctx.tenant_id}/global/*"),
            ctx.arn("ssm", f"parameter{ns}"),
            ctx.arn("ssm", f"parameter{ns}/*"),
            # Every function's metrics namespace and dimensions come from the observability config.
            ctx.arn("ssm", f"parameter{metrics}"),
        ]
    return [Grant(read, paths), Grant(["kms:Decrypt"], [ctx.key_arn])]


def _policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class ServiceRole(pulumi.ComponentResource):
    """``ubertruck:iam:ServiceRole`` — the execution role of one service's functions."""

    role: aws.iam.Role
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:iam:ServiceRole", name, None, opts)
        ctx = args.ctx
        role_name = ctx.name(args.service)
        assume = _policy_document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": args.assume_service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
                }
            ]
        )
        self.role = aws.iam.Role(role_name, name=role_name, assume_role_policy=assume, tags=ctx.tags, opts=child(self))
        log_groups = ctx.arn("logs", f"log-group:/ubertruck/{ctx.prefix}/{args.service}/*")
        grants = [
            *config_read_grants(ctx, args.service, args.whole_namespace),
            Grant(["logs:CreateLogStream", "logs:PutLogEvents"], [log_groups, f"{log_groups}:*"]),
            Grant(list(UNSCOPED_ACTIONS), ["*"]),
            *args.grants,
        ]
        resources = [pulumi.Output.all(*g.resources) for g in grants]
        document = pulumi.Output.all(*resources).apply(
            lambda resolved: _policy_document(
                [
                    {"Sid": f"Grant{i}", "Effect": "Allow", "Action": list(g.actions), "Resource": list(r)}
                    for i, (g, r) in enumerate(zip(grants, resolved))
                ]
            )
        )
        # The role's name (its id in AWS, but an input, so known in a preview: the packs find a
        # role's policies through it).
        aws.iam.RolePolicy(f"{role_name}-policy", role=self.role.name, name=f"{role_name}-policy", policy=document, opts=child(self))
        # Built from the name and the environment's account, so a first preview knows it (the
        # packs link each function to its role through it); using it still waits for the role.
        self.arn = known_after(self.role, ctx.role_arn(role_name))
        self.register_outputs({"arn": self.arn})
