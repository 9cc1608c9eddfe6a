"""Observability: the tenant's overview dashboard and standard alarms, and the shared platform's
alarm topic, platform key and platform dashboard.

* ``TenantObservability`` (tenant stack) — dashboard ``<tenant>-<env>-overview`` over the tenant's
  functions, its API stage and the seed's business/security metrics, plus the seed's
  ``standard_alarms`` (``error_rate_high``, ``latency_high``) for the tenant as a whole, with
  actions to the shared alarm topic.
* ``PlatformObservability`` (shared stack) — the platform CMK (rotation on), the alarm topic
  ``ubertruck-<env>-alarms`` encrypted with it and its e-mail subscription, and the dashboard
  ``ubertruck-<env>-platform``. CloudWatch alarms notify only topics in their own region, so every
  region the environment's tenants run in gets its own key and topic of the same names; tenant
  stacks read ``alarm_topic_arns[<their region>]``.

Thresholds, periods, metric names and retention all come from ``defaults.yaml`` (tenant values
through ``TenantSettings``). Dashboard layout numbers (the 24-column grid, widget sizes) are
CloudWatch's geometry, not platform settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import common_schema
from ubertruck.defaults import PlatformDefaults
from ubertruck.settings import default_service_config

from .context import TenantContext, child, pinned_provider
from .tenant_key import KEY_USE_ACTIONS, account_administers, account_root, log_groups_use_key

SERVICE = "observability"

#: CloudWatch dashboards lay widgets on a 24-column grid; two graphs per row.
GRID_COLUMNS = 24
WIDGET_WIDTH = GRID_COLUMNS // 2
WIDGET_HEIGHT = 6
TEXT_HEIGHT = 1

#: The seed's standard alarms, as suffixes of the tenant-level alarm names.
ERROR_RATE_HIGH = "error-rate-high"
LATENCY_HIGH = "latency-high"


def tenant_alarm_names(prefix: str) -> list[str]:
    """Names of a tenant stack's standard alarms (``<tenant>-<env>-error-rate-high`` …).

    The deployment pipeline watches exactly these after deploying the stack, so both sides
    derive them here.
    """
    return [f"{prefix}-{ERROR_RATE_HIGH}", f"{prefix}-{LATENCY_HIGH}"]


# --------------------------------------------------------------------------- dashboard widgets


def _graph(title: str, metrics: list[list[Any]], region: str, period: int, stat: str = "Sum", **extra: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": WIDGET_WIDTH,
        "height": WIDGET_HEIGHT,
        "properties": {"title": title, "metrics": metrics, "region": region, "period": period, "stat": stat, "view": "timeSeries", **extra},
    }


def _text(markdown: str) -> dict[str, Any]:
    return {"type": "text", "width": GRID_COLUMNS, "height": TEXT_HEIGHT, "properties": {"markdown": markdown}}


def _per_function(metric: str, functions: Sequence[str], stat: str) -> list[list[Any]]:
    return [["AWS/Lambda", metric, "FunctionName", fn, {"stat": stat, "label": fn}] for fn in functions]


def layout(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Place widgets left to right, top to bottom, on the dashboard grid."""
    x = y = row_height = 0
    placed = []
    for widget in widgets:
        if x + widget["width"] > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append({**widget, "x": x, "y": y})
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return placed


def tenant_dashboard_body(
    tenant_id: str,
    environment: str,
    region: str,
    period: int,
    metrics: common_schema.MetricsConfig,
    functions: Sequence[str],
    api_name: str,
    api_stage: str,
    alarm_arns: Sequence[str],
) -> str:
    """The overview dashboard of one tenant stack, as CloudWatch's dashboard JSON."""
    api = ["ApiName", api_name, "Stage", api_stage]
    widgets = [
        _text(f"# {tenant_id} ({environment}) overview"),
        _graph("Invocations", _per_function("Invocations", functions, "Sum"), region, period),
        _graph("Errors", _per_function("Errors", functions, "Sum"), region, period),
        _graph("Duration p50 (ms)", _per_function("Duration", functions, "p50"), region, period, stat="p50"),
        _graph("Duration p99 (ms)", _per_function("Duration", functions, "p99"), region, period, stat="p99"),
        _graph("Throttles", _per_function("Throttles", functions, "Sum"), region, period),
        _graph(
            f"API {api_name} ({api_stage}) requests",
            [["AWS/ApiGateway", name, *api, {"stat": "Sum"}] for name in ("Count", "4XXError", "5XXError")],
            region,
            period,
        ),
        _graph(
            f"API {api_name} ({api_stage}) latency (ms)",
            [["AWS/ApiGateway", "Latency", *api, {"stat": stat, "label": stat}] for stat in ("p50", "p99")],
            region,
            period,
            stat="p99",
        ),
        _graph(
            "Business",
            [[metrics.namespace, name, metrics.dimension, tenant_id] for name in metrics.business],
            region,
            period,
        ),
        _graph(
            "Security",
            [[metrics.namespace, name, metrics.dimension, tenant_id] for name in metrics.security],
            region,
            period,
        ),
        {
            "type": "alarm",
            "width": GRID_COLUMNS,
            "height": WIDGET_HEIGHT // 2,
            "properties": {"title": "Standard alarms", "alarms": list(alarm_arns)},
        },
    ]
    return json.dumps({"widgets": layout(widgets)}, sort_keys=True)


# --------------------------------------------------------------------------- alarms


def alarm_defaults(ctx: TenantContext) -> dict[str, Any]:
    """``MetricAlarm`` arguments every tenant alarm shares: the configured evaluation periods,
    a breach above the threshold, actions to the environment's alarm topic, the tenant's tags."""
    alarms = ctx.service_config(SERVICE, common_schema.ObservabilityServiceConfig).technical.alarms
    return {
        "evaluation_periods": alarms.evaluation_periods,
        "comparison_operator": "GreaterThanThreshold",
        # No traffic is not an outage: the function-level alarms cover silent failures.
        "treat_missing_data": "notBreaching",
        "alarm_actions": [ctx.alarm_topic_arn],
        "ok_actions": [ctx.alarm_topic_arn],
        "tags": ctx.tags,
    }


def error_rate_queries(
    namespace: str, period: int, dimensions: dict[str, pulumi.Input[str]], errors: str, total: tuple[str, str]
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
    """Metric math for an alarm on an error percentage: ``100 * errors / MAX([total, 1])`` over
    the Sum of metric ``errors`` and of ``total`` (``(query id, metric name)``); only the rate
    returns data, so the alarm's threshold is a percentage and no traffic reads as 0 %."""
    total_id, total_metric = total

    def metric(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
        return {"id": query_id, "metric": {"metric_name": metric_name, "namespace": namespace, "period": period, "stat": "Sum", "dimensions": dimensions}}

    return [
        metric("errors", errors),
        metric(total_id, total_metric),
        {"id": "error_rate", "expression": f"100 * errors / MAX([{total_id}, 1])", "label": "Error rate (%)", "return_data": True},
    ]


# --------------------------------------------------------------------------- tenant stack


@dataclass(frozen=True)
class TenantObservabilityArgs:
    ctx: TenantContext
    #: Physical names of every function of the tenant stack (``ServiceFunction.function.name``).
    function_names: Sequence[pulumi.Input[str]]
    #: The tenant's REST API and stage (``ApiGateway.rest_api.name``, ``.stage.stage_name``): every
    #: request of the tenant passes through it, so the tenant-level alarms watch it.
    api_name: pulumi.Input[str]
    api_stage: pulumi.Input[str]


class TenantObservability(pulumi.ComponentResource):
    """``ubertruck:observability:TenantObservability`` — overview dashboard and standard alarms."""

    dashboard: aws.cloudwatch.Dashboard
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: TenantObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:observability:TenantObservability", name, None, opts)
        ctx = args.ctx
        config = ctx.service_config(SERVICE, common_schema.ObservabilityServiceConfig).technical
        alarms = config.alarms
        error_name, latency_name = tenant_alarm_names(ctx.prefix)
        api_dimensions = {"ApiName": args.api_name, "Stage": args.api_stage}
        period = alarms.period_seconds
        common = alarm_defaults(ctx)
        error_rate = aws.cloudwatch.MetricAlarm(
            error_name,
            name=error_name,
            alarm_description=f"{ctx.prefix}: API 5XX responses above {alarms.error_rate_threshold:g}% of requests (seed standard alarm error_rate_high)",
            metric_queries=error_rate_queries("AWS/ApiGateway", period, api_dimensions, "5XXError", ("requests", "Count")),
            threshold=alarms.error_rate_threshold,
            **common,
            opts=child(self),
        )
        latency = aws.cloudwatch.MetricAlarm(
            latency_name,
            name=latency_name,
            alarm_description=f"{ctx.prefix}: API p99 latency above {alarms.latency_threshold_ms:g} ms (seed standard alarm latency_high)",
            namespace="AWS/ApiGateway",
            metric_name="Latency",
            dimensions=api_dimensions,
            extended_statistic="p99",
            period=period,
            threshold=alarms.latency_threshold_ms,
            **common,
            opts=child(self),
        )
        self.alarms = [error_rate, latency]
        metrics = config.metrics
        dashboard_period = ctx.settings.defaults.shared.dashboard_period_seconds
        body = pulumi.Output.all(
            pulumi.Output.all(*args.function_names), args.api_name, args.api_stage, error_rate.arn, latency.arn
        ).apply(
            lambda v: tenant_dashboard_body(
                ctx.tenant_id, ctx.environment, ctx.region, dashboard_period, metrics, v[0], v[1], v[2], [v[3], v[4]]
            )
        )
        dashboard_name = ctx.name("overview")
        # CloudWatch dashboards take no tags.
        self.dashboard = aws.cloudwatch.Dashboard(dashboard_name, dashboard_name=dashboard_name, dashboard_body=body, opts=child(self))
        self.register_outputs({"dashboard_name": self.dashboard.dashboard_name, "alarm_names": [a.name for a in self.alarms]})


# --------------------------------------------------------------------------- shared stack


@dataclass(frozen=True)
class PlatformContext:
    """The shared stack's facts: environment, defaults, account and region.
    """

    environment: str
    defaults: PlatformDefaults
    account_id: str
    region: str

    @classmethod
    def current(cls, environment: str, defaults: PlatformDefaults) -> "PlatformContext":
        """The environment's account (``defaults.yaml``) and the stack's region (stack config
        ``aws:region``). ``SharedPlatform`` pins its providers to exactly these, so they are the
        account and region the stack deploys to, known without asking AWS."""
        region = pulumi.Config("aws").require("region")
        return cls(environment, defaults, defaults.environments[environment].account_id, region)

    @property
    def prefix(self) -> str:
        """``ubertruck-<env>``: ``ubertruck`` is a reserved tenant id, so no tenant name collides."""
        return f"{self.defaults.platform.project}-{self.environment}"

    @property
    def tags(self) -> dict[str, str]:
        return {"environment": self.environment, "platform": self.defaults.platform.project}

    def name(self, *parts: str) -> str:
        return "-".join([self.prefix, *parts])

    def arn(self, service: str, resource: str, region: str | None = None, regional: bool = True) -> str:
        """An ARN in this account, in ``region`` (default: the stack's) unless not ``regional``."""
        return f"arn:aws:{service}:{(region or self.region) if regional else ''}:{self.account_id}:{resource}"

    def role_arn(self, role_name: str) -> str:
        return self.arn("iam", f"role/{role_name}", regional=False)

    @property
    def log_group_prefix(self) -> str:
        """Log groups of the shared stack live under ``/ubertruck/ubertruck-<env>/``."""
        return f"/{self.defaults.platform.project}/{self.prefix}"


def platform_key_alias(platform: PlatformContext) -> str:
    """``alias/ubertruck/ubertruck-<env>-platform``: the tenant keys' alias form, for the platform."""
    return f"alias/{platform.defaults.platform.project}/{platform.name(platform.defaults.shared.platform_key_suffix)}"


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def platform_key_policy(platform: PlatformContext, region: str, key_user_role_arns: Sequence[str]) -> str:
    """Key policy of the platform CMK.

    In a key policy ``"Resource": "*"`` means *this key*; AWS requires that form. The account root
    administers; only the named roles (the pipeline's, the deploy role) use the key, matched by
    exact ARN in a condition so the roles need not exist yet; CloudWatch (alarms publishing to the
    encrypted topic) and CloudWatch Logs (the shared stack's log groups) act for this account only.
    """
    statements: list[dict[str, Any]] = [
        account_administers(platform.account_id),
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": platform.account_id}},
        },
        log_groups_use_key("PlatformLogGroupsUseKey", region, platform.account_id, f"{platform.log_group_prefix}/*"),
    ]
    if key_user_role_arns:
        statements.insert(
            1,
            {
                "Sid": "PlatformRolesUseKey",
                "Effect": "Allow",
                "Principal": {"AWS": account_root(platform.account_id)},
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": sorted(key_user_role_arns)}},
            },
        )
    return policy_document(statements)


def alarm_topic_policy(platform: PlatformContext, topic_arn: str, publisher_role_arns: Sequence[str]) -> str:
    """Topic policy: CloudWatch alarms of this account and the named roles publish; TLS only."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": platform.account_id}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]
    if publisher_role_arns:
        statements.insert(
            1,
            {
                "Sid": "PlatformRolesPublish",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(publisher_role_arns)},
                "Action": "sns:Publish",
                "Resource": topic_arn,
            },
        )
    return policy_document(statements)


def platform_dashboard_body(platform: PlatformContext, metrics: common_schema.MetricsConfig, topic_name: str) -> str:
    """The platform dashboard: account-wide Lambda health, every tenant's standard metrics, and
    the alarm topic's deliveries."""
    region, period = platform.region, platform.defaults.shared.dashboard_period_seconds

    def per_tenant(metric: str) -> list[list[Any]]:
        # SEARCH draws one line per tenant without the dashboard knowing the tenants.
        search = f"SEARCH('{{{metrics.namespace},{metrics.dimension}}} MetricName=\"{metric}\"', 'Sum', {period})"
        return [[{"expression": search, "label": metric, "id": "tenants"}]]

    widgets = [
        _text(f"# UberTruck platform ({platform.environment})"),
        _graph("Lambda invocations and errors (account)", [["AWS/Lambda", m, {"stat": "Sum"}] for m in ("Invocations", "Errors")], region, period),
        _graph("Lambda throttles and concurrency (account)", [["AWS/Lambda", "Throttles", {"stat": "Sum"}], ["AWS/Lambda", "ConcurrentExecutions", {"stat": "Maximum"}]], region, period),
        _graph("Lambda duration p99 (account)", [["AWS/Lambda", "Duration", {"stat": "p99"}]], region, period, stat="p99"),
        _graph(
            f"Alarm topic {topic_name}",
            [["AWS/SNS", m, "TopicName", topic_name, {"stat": "Sum"}] for m in ("NumberOfMessagesPublished", "NumberOfNotificationsFailed")],
            region,
            period,
        ),
    ]
    for name in (*metrics.business, *metrics.security):
        widgets.append(_graph(f"{name} by tenant", per_tenant(name), region, period))
    return json.dumps({"widgets": layout(widgets)}, sort_keys=True)


@dataclass(frozen=True)
class PlatformObservabilityArgs:
    platform: PlatformContext
    #: Stack config ``ubertruck:alarmEmail``: who is told when an alarm fires.
    alarm_email: str
    #: Roles that use the platform key and publish to the topic (the pipeline's roles, the deploy
    #: role): see ``components.pipeline.pipeline_key_users``.
    key_user_role_arns: Sequence[str] = field(default_factory=tuple)
    #: Regions the environment's tenants run in. CloudWatch alarms notify only topics in their own
    #: region, so each of these gets its own key and alarm topic (same names, that region).
    tenant_regions: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class RegionalAlarms:
    """The platform key and alarm topic of one region."""

    key: aws.kms.Key
    topic: aws.sns.Topic


class PlatformObservability(pulumi.ComponentResource):
    """``ubertruck:observability:PlatformObservability`` — platform keys, alarm topics, dashboard.

    The stack's own region holds the main key (pipeline artifacts and logs too), topic and the
    platform dashboard, through the provider the component inherits from ``SharedPlatform``;
    every other tenant region gets a key and a topic of the same names, through a provider of
    that region pinned to the same account.
    """

    regions: dict[str, RegionalAlarms]
    dashboard: aws.cloudwatch.Dashboard
    key_arn: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    #: ``{region: topic ARN}``; tenant stacks pick their own region's topic.
    alarm_topic_arns: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: PlatformObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:observability:PlatformObservability", name, None, opts)
        platform = args.platform
        shared = platform.defaults.shared
        others = sorted(set(args.tenant_regions) - {platform.region})
        self.regions = {platform.region: self._regional(args, platform.region, None)}
        for region in others:
            # Pinned like the stack's own provider: another region, never another account.
            provider = pinned_provider(platform.name("aws", region), region, platform.account_id, self, platform.tags)
            self.regions[region] = self._regional(args, region, provider)
        home = self.regions[platform.region]
        # The environment's defaults: the platform dashboard charts every tenant alike.
        metrics = default_service_config(platform.defaults, platform.environment, SERVICE, common_schema.ObservabilityServiceConfig).technical.metrics
        dashboard_name = platform.name(shared.dashboard_suffix)
        self.dashboard = aws.cloudwatch.Dashboard(
            dashboard_name,
            dashboard_name=dashboard_name,
            dashboard_body=platform_dashboard_body(platform, metrics, platform.name(shared.alarm_topic_suffix)),
            opts=child(self),
        )
        self.key_arn = home.key.arn
        self.alarm_topic_arn = home.topic.arn
        self.alarm_topic_arns = pulumi.Output.all(*(r.topic.arn for r in self.regions.values())).apply(
            lambda arns: dict(zip(self.regions, arns))
        )
        self.register_outputs(
            {"alarm_topic_arn": self.alarm_topic_arn, "alarm_topic_arns": self.alarm_topic_arns, "key_arn": self.key_arn, "dashboard_name": self.dashboard.dashboard_name}
        )

    def _regional(self, args: PlatformObservabilityArgs, region: str, provider: aws.Provider | None) -> RegionalAlarms:
        """Key (rotation on), alias, encrypted topic, its policy and e-mail subscription in ``region``."""
        platform = args.platform
        shared = platform.defaults.shared
        env = platform.defaults.environments[platform.environment]
        # Physical names are the same in every region; logical names carry non-home regions.
        suffix = [] if provider is None else [region]
        opts = child(self, provider=provider)
        key_name = platform.name(shared.platform_key_suffix)
        key = aws.kms.Key(
            "-".join([key_name, *suffix]),
            description=f"UberTruck platform key ({platform.environment}, {region}): alarm topic, pipeline artifacts, build logs",
            enable_key_rotation=True,
            deletion_window_in_days=env.kms_deletion_window_days,
            policy=platform_key_policy(platform, region, args.key_user_role_arns),
            tags=platform.tags,
            opts=opts,
        )
        aws.kms.Alias("-".join([key_name, *suffix, "alias"]), name=platform_key_alias(platform), target_key_id=key.key_id, opts=opts)
        topic_name = platform.name(shared.alarm_topic_suffix)
        topic = aws.sns.Topic("-".join([topic_name, *suffix]), name=topic_name, kms_master_key_id=key.arn, tags=platform.tags, opts=opts)
        aws.sns.TopicPolicy(
            "-".join([topic_name, *suffix, "policy"]),
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: alarm_topic_policy(platform, arn, args.key_user_role_arns)),
            opts=opts,
        )
        aws.sns.TopicSubscription("-".join([topic_name, *suffix, "email"]), topic=topic.arn, protocol="email", endpoint=args.alarm_email, opts=opts)
        return RegionalAlarms(key, topic)
