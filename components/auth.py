"""The auth service: the tenant's Cognito user pool, its app client and role groups, and the
Lambda authorizer every API method goes through.

Users carry ``custom:tenant_id``. It is immutable and the app client cannot write it, so only
an administrator creating the user sets it; the authorizer rejects a token whose claim is not
this stack's tenant. Roles are Cognito groups named after
``global.security.authorization_policies.roles``.

Cognito writes custom attributes into ID tokens only, and the authorizer verifies access tokens:
the pool's pre token generation trigger (event ``V2_0``, which needs the ESSENTIALS feature plan
or higher) copies the tenant claim into both tokens and refuses users of no or another tenant.
The trigger function exists before the pool (the pool names it), and Cognito's permission to
invoke it after (the permission names the pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import auth_schema

from .config_params import publish_resources
from .context import TenantContext, child
from .function import ServiceFunction, ServiceFunctionArgs
from .iam import ServiceRole, ServiceRoleArgs

SERVICE = "auth"
#: The claim the authorizer checks against the stack's tenant.
TENANT_ATTRIBUTE = "tenant_id"
TENANT_CLAIM = f"custom:{TENANT_ATTRIBUTE}"
#: Standard attributes users may maintain themselves through the app client. The tenant claim
#: is deliberately absent: a self-service write must never move a user to another tenant.
CLIENT_WRITE_ATTRIBUTES = ("email", "name", "phone_number")
CLIENT_READ_ATTRIBUTES = (*CLIENT_WRITE_ATTRIBUTES, "email_verified", "phone_number_verified", TENANT_CLAIM)
#: SRP sign-in and refresh only; no plain-password flow.
CLIENT_AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
#: The trigger event version that may add claims to access tokens, and the feature plans offering
#: it (the auth schema holds the list, since it refuses the other plans).
PRE_TOKEN_EVENT_VERSION = "V2_0"
ACCESS_TOKEN_CUSTOMIZATION_TIERS = auth_schema.ACCESS_TOKEN_CUSTOMIZATION_TIERS


@dataclass(frozen=True)
class AuthServiceArgs:
    ctx: TenantContext


def issuer_url(region: str, user_pool_id: str) -> str:
    """The ``iss`` claim of the pool's tokens."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def jwks_url(issuer: str) -> str:
    """Where the pool publishes the keys its tokens are signed with."""
    return f"{issuer}/.well-known/jwks.json"


def pool_tier(pool: auth_schema.UserPoolSettings | Mapping[str, Any]) -> str:
    """The pool's feature plan from ``technical.user_pool.tier`` (the validated settings, or a raw
    entry being tried out); one without access token customization is refused, since no access
    token would then carry the tenant claim. The auth schema refuses such a plan too, so a
    registry file naming one fails validation before it reaches here."""
    tier = pool.tier if isinstance(pool, auth_schema.UserPoolSettings) else pool["tier"]
    if tier not in ACCESS_TOKEN_CUSTOMIZATION_TIERS:
        raise ValueError(
            f"auth.technical.user_pool.tier {tier!r}: the pre token generation trigger {PRE_TOKEN_EVENT_VERSION} "
            f"needs one of {', '.join(ACCESS_TOKEN_CUSTOMIZATION_TIERS)}"
        )
    return tier


def password_policy(pool: auth_schema.UserPoolSettings) -> aws.cognito.UserPoolPasswordPolicyArgsDict:
    """The pool's password policy from ``technical.user_pool``."""
    required = set(pool.password_require)
    return {
        "minimum_length": pool.password_minimum_length,
        "require_lowercase": "lowercase" in required,
        "require_uppercase": "uppercase" in required,
        "require_numbers": "numbers" in required,
        "require_symbols": "symbols" in required,
        "temporary_password_validity_days": pool.temporary_password_validity_days,
    }


class AuthService(pulumi.ComponentResource):
    """``ubertruck:auth:AuthService`` — user pool with its pre token generation trigger, app
    client, role groups, Lambda authorizer."""

    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    groups: dict[str, aws.cognito.UserGroup]
    role: ServiceRole
    authorizer: ServiceFunction
    pre_token: ServiceFunction
    issuer: pulumi.Output[str]
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: AuthServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:auth:AuthService", name, None, opts)
        ctx = args.ctx
        # Both functions fetch nothing from AWS beyond what every service role already grants
        # (their config, their logs, X-Ray): the authorizer gets the pool's keys over HTTPS.
        self.role = ServiceRole(ctx.name(SERVICE, "role"), ServiceRoleArgs(ctx, SERVICE), opts=child(self))
        # No published resources: they name the pool, which is created after its trigger. The
        # function reads none of them.
        self.pre_token = ServiceFunction(
            ctx.name(SERVICE, "pre-token"),
            ServiceFunctionArgs(ctx, SERVICE, "pre-token", self.role.arn, handler_module="pre_token"),
            opts=child(self),
        )
        self.user_pool = self._user_pool(ctx, self.pre_token.function.arn)
        aws.lambda_.Permission(
            ctx.name(SERVICE, "pre-token-invoke"),
            action="lambda:InvokeFunction",
            function=self.pre_token.function.name,
            principal="cognito-idp.amazonaws.com",
            source_arn=self.user_pool.arn,
            source_account=ctx.account_id,
            opts=child(self),
        )
        self.client = self._client(ctx)
        roles = ctx.settings.global_config.security.authorization_policies.roles
        self.groups = {
            role: aws.cognito.UserGroup(
                ctx.name(SERVICE, "group", role),
                name=role,
                user_pool_id=self.user_pool.id,
                description=f"UberTruck {role} of tenant {ctx.tenant_id}: {', '.join(operations)}",
                # Cognito needs a precedence to pick the token's role claim; the config's order is it.
                precedence=position,
                opts=child(self),
            )
            for position, (role, operations) in enumerate(roles.items())
        }
        self.issuer = self.user_pool.id.apply(lambda pool_id: issuer_url(ctx.region, pool_id))
        resources = publish_resources(
            ctx,
            SERVICE,
            {
                "user_pool_id": self.user_pool.id,
                "app_client_id": self.client.id,
                "issuer": self.issuer,
                "jwks_url": self.issuer.apply(jwks_url),
            },
            self,
        )
        self.authorizer = ServiceFunction(
            ctx.name(SERVICE, "authorizer"),
            ServiceFunctionArgs(ctx, SERVICE, "authorizer", self.role.arn, resources),
            opts=child(self),
        )
        self.outputs = {
            "user_pool_id": self.user_pool.id,
            "app_client_id": self.client.id,
            "issuer": self.issuer,
        }
        self.register_outputs(self.outputs)

    def _user_pool(self, ctx: TenantContext, pre_token_arn: pulumi.Input[str]) -> aws.cognito.UserPool:
        pool = ctx.service_config(SERVICE, auth_schema.AuthConfig).technical.user_pool
        mfa = pool.mfa_configuration
        return aws.cognito.UserPool(
            ctx.name("users"),
            name=ctx.name("users"),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            # Users are created by the tenant's administrators, who set the tenant claim.
            admin_create_user_config={"allow_admin_create_user_only": True},
            password_policy=password_policy(pool),
            user_pool_tier=pool_tier(pool),
            lambda_config={"pre_token_generation_config": {"lambda_arn": pre_token_arn, "lambda_version": PRE_TOKEN_EVENT_VERSION}},
            mfa_configuration=mfa,
            software_token_mfa_configuration={"enabled": True} if mfa != "OFF" else None,
            account_recovery_setting={"recovery_mechanisms": [{"name": "verified_email", "priority": 1}]},
            schemas=[
                {
                    "name": TENANT_ATTRIBUTE,
                    "attribute_data_type": "String",
                    "mutable": False,
                    "developer_only_attribute": False,
                    "required": False,
                    "string_attribute_constraints": {
                        "min_length": "1",
                        "max_length": str(ctx.settings.defaults.platform.tenant_id_max_length),
                    },
                }
            ],
            deletion_protection="ACTIVE" if ctx.settings.env.deletion_protection else "INACTIVE",
            tags=ctx.tags,
            opts=child(self),
        )

    def _client(self, ctx: TenantContext) -> aws.cognito.UserPoolClient:
        pool = ctx.service_config(SERVICE, auth_schema.AuthConfig).technical.user_pool
        return aws.cognito.UserPoolClient(
            ctx.name(SERVICE, "client"),
            name=ctx.name(SERVICE, "client"),
            user_pool_id=self.user_pool.id,
            generate_secret=False,
            explicit_auth_flows=list(CLIENT_AUTH_FLOWS),
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            read_attributes=list(CLIENT_READ_ATTRIBUTES),
            write_attributes=list(CLIENT_WRITE_ATTRIBUTES),
            access_token_validity=pool.access_token_validity_minutes,
            id_token_validity=pool.id_token_validity_minutes,
            refresh_token_validity=pool.refresh_token_validity_days,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            opts=child(self),
        )
