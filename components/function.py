"""One Lambda function of a service, with its log group, alarms and fallback values.

The function's environment holds only the allowed variables; everything else — table names,
thresholds, prices — it reads from the configuration service. Its code archive is the handler's
zip as ``platformctl package`` built it (``ctx.artifacts``) plus ``fallback.json``: the merged
config it falls back to when the config service is unreachable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ubertruck.artifacts import LambdaArtifacts, program_path
from ubertruck.contracts import common_schema
from ubertruck.errors import UserError

from .context import TenantContext, child, known_after
from .observability import SERVICE as OBSERVABILITY, alarm_defaults, error_rate_queries

#: The key under which the built zip sits in the function's archive: its root, so the zip's
#: ``<service>/`` folder and ``fallback.json`` end up side by side at the code root.
CODE_ROOT = "."


@dataclass(frozen=True)
class ServiceFunctionArgs:
    ctx: TenantContext
    service: str
    #: Short name of this function within the service ("api", "authorizer", "rotation"...).
    function: str
    role_arn: pulumi.Input[str]
    #: The service's published ``integration/resources`` (see ``config_params.publish_resources``).
    resources: pulumi.Input[dict[str, str]] = None  # type: ignore[assignment]
    #: Module inside the service package holding ``lambda_handler``.
    handler_module: str = "handler"


def config_service_url(ctx: TenantContext) -> str:
    """Where functions find their config: the tenant's namespace in SSM Parameter Store."""
    return f"ssm:///{ctx.tenant_id}"


def function_environment(ctx: TenantContext, service: str) -> dict[str, str]:
    """The whole environment of a platform function: the allowed names, nothing else."""
    return {
        "SERVICE_NAME": service,
        "ENVIRONMENT": ctx.environment,
        "CONFIG_SERVICE_URL": config_service_url(ctx),
        "LOG_LEVEL": ctx.settings.env.log_level,
    }


def stack_artifacts(ctx: TenantContext) -> LambdaArtifacts:
    """The built artifacts, which must be for the runtime and architecture the functions declare."""
    platform = ctx.settings.defaults.platform
    artifacts = ctx.artifacts
    if artifacts is None:
        raise UserError(ctx.settings.source, "no Lambda artifacts were given to the tenant platform; run `platformctl package`")
    if (artifacts.runtime, artifacts.architecture) != (platform.lambda_runtime, platform.lambda_architecture):
        raise UserError(
            str(artifacts.root),
            f"built for {artifacts.runtime}/{artifacts.architecture}, but functions run {platform.lambda_runtime}/{platform.lambda_architecture} "
            "(defaults.yaml platform); run `platformctl package` without --arch",
        )
    return artifacts


def code_archive(
    ctx: TenantContext, service: str, resources: pulumi.Input[dict[str, str]] | None, handler_module: str = "handler"
) -> pulumi.Output[pulumi.AssetArchive]:
    """The handler's built zip plus its ``fallback.json``: the merged config, with the service's
    published resources, that the function uses when the config service is unreachable.

    The archive's hash is the engine's hash of its contents (names and bytes, no timestamps): it
    changes only when the zip's content or the fallback values do, so an unchanged function is
    not redeployed."""
    package = pulumi.FileArchive(program_path(stack_artifacts(ctx).function_zip(f"{service}.{handler_module}")))

    def build(resolved: dict[str, str] | None) -> pulumi.AssetArchive:
        # Validated against the service's schema on the way: a fallback the function would
        # refuse fails the plan instead of the function's first outage.
        document = ctx.settings.fallback_document(service, resolved or None)
        return pulumi.AssetArchive(
            {
                CODE_ROOT: package,
                "fallback.json": pulumi.StringAsset(json.dumps(document, sort_keys=True, indent=1)),
            }
        )

    return pulumi.Output.from_input(resources).apply(build)


class ServiceFunction(pulumi.ComponentResource):
    """``ubertruck:function:ServiceFunction`` — function, log group, error and latency alarms."""

    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    #: The function's unqualified ARN, known in a preview (see ``known_after``).
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:function:ServiceFunction", name, None, opts)
        ctx, service = args.ctx, args.service
        defaults = ctx.settings.defaults.platform
        scaling = ctx.service_config(service, common_schema.ServiceContract).technical.scaling_policies
        timeouts = ctx.settings.global_config.operational.timeouts
        function_name = ctx.name(service, args.function)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{function_name}-logs",
            name=f"/ubertruck/{ctx.prefix}/{service}/{args.function}",
            retention_in_days=ctx.settings.log_retention_days,
            kms_key_id=ctx.key_arn,
            tags=ctx.tags,
            opts=child(self),
        )
        self.function = aws.lambda_.Function(
            function_name,
            name=function_name,
            role=args.role_arn,
            runtime=defaults.lambda_runtime,
            architectures=[defaults.lambda_architecture],
            handler=f"{service}.{args.handler_module}.lambda_handler",
            code=code_archive(ctx, service, args.resources, args.handler_module),
            layers=[ctx.layer_arn],
            memory_size=scaling.memory_mb,
            reserved_concurrent_executions=scaling.reserved_concurrency,
            timeout=timeouts.function_timeout_seconds,
            environment={"variables": function_environment(ctx, service)},
            kms_key_arn=ctx.key_arn,
            tracing_config={"mode": "Active"},
            logging_config={"log_format": "JSON", "log_group": self.log_group.name},
            tags=ctx.tags,
            opts=child(self, depends_on=[self.log_group]),
        )
        self.arn = known_after(self.function, ctx.function_arn(function_name))
        self._alarms(ctx, service, function_name)
        self.register_outputs({"arn": self.arn, "name": self.function.name})

    def _alarms(self, ctx: TenantContext, service: str, function_name: str) -> None:
        period = ctx.service_config(OBSERVABILITY, common_schema.ObservabilityServiceConfig).technical.alarms.period_seconds
        thresholds = ctx.service_config(service, common_schema.ServiceContract).technical.performance_thresholds
        common = alarm_defaults(ctx)
        aws.cloudwatch.MetricAlarm(
            f"{function_name}-errors",
            name=f"{function_name}-errors",
            alarm_description=f"{function_name}: errors above {thresholds.error_rate_percent:g}% of invocations",
            metric_queries=error_rate_queries("AWS/Lambda", period, {"FunctionName": function_name}, "Errors", ("invocations", "Invocations")),
            threshold=thresholds.error_rate_percent,
            **common,
            opts=child(self),
        )
        aws.cloudwatch.MetricAlarm(
            f"{function_name}-latency",
            name=f"{function_name}-latency",
            alarm_description=f"{function_name}: p99 duration above {thresholds.p99_latency_ms:g} ms",
            namespace="AWS/Lambda",
            metric_name="Duration",
            dimensions={"FunctionName": self.function.name},
            period=period,
            extended_statistic="p99",
            threshold=thresholds.p99_latency_ms,
            **common,
            opts=child(self),
        )
