"""The secrets service: the tenant's Secrets Manager secrets, under the tenant key, rotated.

The registry names each secret (``secrets.<key>.secret_name``) and never holds its value: the
secret is created empty. Platform-managed secrets (``rotation: password|api_key``) get every
version from the rotation function; ``external`` ones (issued by a third party) get theirs
from an operator and are never rotated here. Physical names are
``<tenant>-<env>/<secret_name>`` so that a tenant's dev and prod stacks, which share an account
in the offline plan and may in production, never claim the same name. Services find a secret
by its registry key in this service's published resources (``{key: ARN}``), not by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import secrets_schema
from ubertruck.registry.model import SecretRef

from .config_params import publish_resources
from .context import TenantContext, child
from .function import ServiceFunction, ServiceFunctionArgs
from .iam import Grant, ServiceRole, ServiceRoleArgs

SERVICE = "secrets"
#: What the four rotation steps (createSecret, setSecret, testSecret, finishSecret) call.
ROTATION_SECRET_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
#: Writing a new version encrypts it under the tenant key (reading it back needs Decrypt,
#: which every service role has).
ROTATION_KEY_ACTIONS = ("kms:GenerateDataKey",)


#: AWS offers no resource-level permission for generating random values.
RANDOM_ACTIONS = ("secretsmanager:GetRandomPassword",)
#: Tag the rotation function reads to pick a secret's generation profile.
PROFILE_TAG = "rotation_profile"
EXTERNAL = "external"


@dataclass(frozen=True)
class SecretsServiceArgs:
    ctx: TenantContext
    #: The tenant's audit table: the rotation function records every step there.
    audit_table: aws.dynamodb.Table


def secret_physical_name(ctx: TenantContext, ref: SecretRef) -> str:
    """``acme/payment/provider-api-key`` in ``acme-dev`` → ``acme-dev/acme/payment/provider-api-key``."""
    return f"{ctx.prefix}/{ref.secret_name}"


class SecretsService(pulumi.ComponentResource):
    """``ubertruck:secrets:SecretsService`` — secrets, rotation function, rotation schedules."""

    secrets: dict[str, aws.secretsmanager.Secret]
    #: Registry key → secret ARN, for the services that read a secret (``PaymentServiceArgs.secret_arns``).
    secret_arns: dict[str, pulumi.Output[str]]
    #: The same mapping, resolved, as published in this service's ``integration/resources``.
    published: pulumi.Output[dict[str, str]]
    role: ServiceRole | None
    rotation: ServiceFunction | None
    outputs: dict[str, pulumi.Input[object]]

    def __init__(self, name: str, args: SecretsServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:secrets:SecretsService", name, None, opts)
        ctx = args.ctx
        refs = dict(sorted(ctx.settings.tenant.secrets.items()))
        self.secrets = {
            key: aws.secretsmanager.Secret(
                ctx.name("secret", key),
                name=secret_physical_name(ctx, ref),
                description=ref.description or f"UberTruck secret '{key}' of tenant {ctx.tenant_id}",
                kms_key_id=ctx.key_arn,
                recovery_window_in_days=ctx.settings.env.secret_recovery_window_days,
                tags={**ctx.tags, PROFILE_TAG: ref.rotation},
                opts=child(self),
            )
            for key, ref in refs.items()
        }
        self.secret_arns = {key: secret.arn for key, secret in self.secrets.items()}
        self.published = publish_resources(ctx, SERVICE, {"audit_table": args.audit_table.name, **self.secret_arns}, self)
        self.role = self.rotation = None
        rotated = {key: self.secrets[key] for key, ref in refs.items() if ref.rotation != EXTERNAL}
        if rotated:
            self._rotation(ctx, rotated, args.audit_table)
        self.outputs = {"secret_arns": pulumi.Output.all(**self.secret_arns) if self.secret_arns else {}}
        self.register_outputs(self.outputs)

    def _rotation(self, ctx: TenantContext, rotated: dict[str, aws.secretsmanager.Secret], audit_table: aws.dynamodb.Table) -> None:
        """One rotation function for the tenant's platform-managed secrets, allowed to touch exactly them."""
        arns = [secret.arn for secret in rotated.values()]
        self.role = ServiceRole(
            ctx.name(SERVICE, "role"),
            ServiceRoleArgs(
                ctx,
                SERVICE,
                grants=[
                    Grant(ROTATION_SECRET_ACTIONS, arns),
                    Grant(ROTATION_KEY_ACTIONS, [ctx.key_arn]),
                    Grant(RANDOM_ACTIONS, ["*"]),
                    Grant(("dynamodb:PutItem",), [audit_table.arn]),
                ],
            ),
            opts=child(self),
        )
        self.rotation = ServiceFunction(
            ctx.name(SERVICE, "rotation"),
            ServiceFunctionArgs(ctx, SERVICE, "rotation", self.role.arn, self.published),
            opts=child(self),
        )
        schedule_days = ctx.service_config(SERVICE, secrets_schema.SecretsConfig).technical.rotation.schedule_days
        for key, secret in rotated.items():
            # Secrets Manager may invoke the function for this secret only.
            permission = aws.lambda_.Permission(
                ctx.name("secret", key, "rotation-invoke"),
                action="lambda:InvokeFunction",
                function=self.rotation.function.name,
                principal="secretsmanager.amazonaws.com",
                source_arn=secret.arn,
                source_account=ctx.account_id,
                opts=child(self),
            )
            aws.secretsmanager.SecretRotation(
                ctx.name("secret", key, "rotation"),
                secret_id=secret.id,
                rotation_lambda_arn=self.rotation.function.arn,
                rotation_rules={"automatically_after_days": schedule_days},
                opts=child(self, depends_on=[permission]),
            )
