"""``TenantPlatform``: everything one tenant runs in one environment.

Order follows the seed's service generation order: foundation (key, config, auth, secrets),
then the business services, then the API over all their routes, then observability over all
their functions.
"""

from __future__ import annotations

import pulumi

from ubertruck.artifacts import LambdaArtifacts
from ubertruck.settings import TenantSettings

from .api import ApiGateway, ApiGatewayArgs
from .auth import AuthService, AuthServiceArgs
from .booking import BookingService, BookingServiceArgs
from .configuration import ConfigurationService, ConfigurationServiceArgs
from .context import TenantContext, child, pinned_provider
from .function import ServiceFunction
from .layer import CommonLayer
from .notification import NotificationService, NotificationServiceArgs
from .observability import TenantObservability, TenantObservabilityArgs
from .payment import PaymentService, PaymentServiceArgs
from .secrets import SecretsService, SecretsServiceArgs
from .tables import TenantDataStores
from .tenant_key import TenantKey, TenantKeyArgs
from .tracking import TrackingService, TrackingServiceArgs


def shared_stack_reference(settings: TenantSettings, parent: pulumi.Resource) -> pulumi.StackReference:
    """The shared platform stack of this environment (alarm topics, dashboards, pipeline)."""
    config = pulumi.Config(settings.defaults.platform.project)
    organization = config.get("sharedStackOrganization") or settings.defaults.offline.organization
    name = f"{organization}/{settings.defaults.platform.project}/{settings.environment}"
    return pulumi.StackReference(name, opts=child(parent))


class TenantPlatform(pulumi.ComponentResource):
    """``ubertruck:tenant:TenantPlatform`` — the tenant stack's root component."""

    def __init__(self, settings: TenantSettings, artifacts: LambdaArtifacts, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:tenant:TenantPlatform", settings.prefix, None, opts)
        prefix = settings.prefix
        # Tenant stacks have no per-stack file, so no stack config can pin the default provider:
        # every resource goes through this one, whose region comes from the registry and which
        # works only in the environment's account. That account is therefore the one the
        # credentials are in, and the ARNs below can name it without asking AWS.
        account_id = settings.env.account_id
        provider = pinned_provider(f"{prefix}-aws", settings.region, account_id, self, settings.tags)
        scoped = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        shared = shared_stack_reference(settings, self)
        key = TenantKey(f"{prefix}-key", TenantKeyArgs(settings, account_id), opts=scoped)
        # The program builds the artifacts and passes them in (__main__.py): a component reads no files.
        layer = CommonLayer(f"{prefix}-layer", settings, artifacts, opts=scoped)
        # Alarms can only notify a topic in their own region; the shared stack has one per region.
        region = settings.region
        ctx = TenantContext(
            settings=settings,
            account_id=account_id,
            key_arn=key.arn,
            alarm_topic_arn=shared.get_output("alarm_topic_arns").apply(lambda arns: arns[region]),
            layer_arn=layer.arn,
            artifacts=artifacts,
        )
        stores = TenantDataStores(f"{prefix}-data", ctx, opts=scoped)

        configuration = ConfigurationService(f"{prefix}-configuration", ConfigurationServiceArgs(ctx, stores.audit), opts=scoped)
        auth = AuthService(f"{prefix}-auth", AuthServiceArgs(ctx), opts=scoped)
        secrets = SecretsService(f"{prefix}-secrets", SecretsServiceArgs(ctx, stores.audit), opts=scoped)

        booking = BookingService(f"{prefix}-booking", BookingServiceArgs(ctx, stores), opts=scoped)
        tracking = TrackingService(f"{prefix}-tracking", TrackingServiceArgs(ctx, stores, bookings_table=booking.table), opts=scoped)
        payment = PaymentService(f"{prefix}-payment", PaymentServiceArgs(ctx, stores, secrets.secret_arns, bookings_table=booking.table), opts=scoped)
        notification = NotificationService(
            f"{prefix}-notification",
            NotificationServiceArgs(
                ctx,
                stores,
                {"booking-events": booking.events_topic, "payment-events": payment.events_topic},
                bookings_table=booking.table,
                user_pool=auth.user_pool,
            ),
            opts=scoped,
        )

        routes = [*configuration.routes, *booking.routes, *tracking.routes, *payment.routes]
        api = ApiGateway(f"{prefix}-api", ApiGatewayArgs(ctx, auth.authorizer, routes), opts=scoped)

        functions: list[ServiceFunction] = [
            configuration.function,
            auth.authorizer,
            auth.pre_token,
            *([secrets.rotation] if secrets.rotation is not None else []),
            booking.function,
            tracking.function,
            payment.function,
            payment.reconciler,
            notification.function,
        ]
        observability = TenantObservability(
            ctx.name("observability"),
            TenantObservabilityArgs(ctx, [f.function.name for f in functions], api_name=api.rest_api.name, api_stage=api.stage.stage_name),
            opts=scoped,
        )
        self.outputs: dict[str, pulumi.Input[object]] = {
            "tenant_id": settings.tenant_id,
            "environment": settings.environment,
            "kms_key_arn": key.arn,
            "audit_table": stores.audit.name,
            "dashboard_name": observability.dashboard.dashboard_name,
            **configuration.outputs,
            **auth.outputs,
            **secrets.outputs,
            **api.outputs,
            **booking.outputs,
            **tracking.outputs,
            **payment.outputs,
            **notification.outputs,
        }
        self.register_outputs(self.outputs)
