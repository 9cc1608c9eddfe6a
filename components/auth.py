"""The auth service: the tenant's Cognito user pool, its app client and role groups, and the
Lambda authorizer every API method goes through.

Users carry ``custom:tenant_id``. It is immutable and the app client cannot write it, so only
an administrator creating the user sets it; the authorizer rejects a token whose claim is not
this stack's tenant. Roles are Cognito groups named after
``global.security.authorization_policies.roles``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

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


@dataclass(frozen=True)
class AuthServiceArgs:
    ctx: TenantContext


def issuer_url(region: str, user_pool_id: str) -> str:
    """The ``iss`` claim of the pool's tokens."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def jwks_url(issuer: str) -> str:
    """Where the pool publishes the keys its tokens are signed with."""
    return f"{issuer}/.well-known/jwks.json"


def password_policy(pool: dict[str, Any]) -> dict[str, Any]:
    """The pool's password policy from ``technical.user_pool``."""
    required = set(pool["password_require"])
    return {
        "minimum_length": int(pool["password_minimum_length"]),
        "require_lowercase": "lowercase" in required,
        "require_uppercase": "uppercase" in required,
        "require_numbers": "numbers" in required,
        "require_symbols": "symbols" in required,
        "temporary_password_validity_days": int(pool["temporary_password_validity_days"]),
    }


class AuthService(pulumi.ComponentResource):
    """``ubertruck:auth:AuthService`` — user pool, app client, role groups, Lambda authorizer."""

    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    groups: dict[str, aws.cognito.UserGroup]
    role: ServiceRole
    authorizer: ServiceFunction
    issuer: pulumi.Output[str]
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: AuthServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:auth:AuthService", name, None, opts)
        ctx = args.ctx
        self.user_pool = self._user_pool(ctx)
        self.client = self._client(ctx)
        roles = ctx.settings.global_section("security")["authorization_policies"]["roles"]
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
        # The authorizer fetches the pool's public keys over HTTPS; it needs no AWS API beyond
        # what every service role already grants (its config, its logs, X-Ray).
        self.role = ServiceRole(ctx.name(SERVICE, "role"), ServiceRoleArgs(ctx, SERVICE), opts=child(self))
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

    def _user_pool(self, ctx: TenantContext) -> aws.cognito.UserPool:
        pool = ctx.technical(SERVICE, "user_pool")
        mfa = str(pool["mfa_configuration"])
        return aws.cognito.UserPool(
            ctx.name("users"),
            name=ctx.name("users"),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            # Users are created by the tenant's administrators, who set the tenant claim.
            admin_create_user_config={"allow_admin_create_user_only": True},
            password_policy=password_policy(pool),
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
        pool = ctx.technical(SERVICE, "user_pool")
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
            access_token_validity=int(pool["access_token_validity_minutes"]),
            id_token_validity=int(pool["id_token_validity_minutes"]),
            refresh_token_validity=int(pool["refresh_token_validity_days"]),
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            opts=child(self),
        )
