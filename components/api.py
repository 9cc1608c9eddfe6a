"""The tenant's REST API: one resource tree built from every service's routes.

Every method but OPTIONS is ``CUSTOM``-authorized by the tenant's Lambda authorizer (a REQUEST
authorizer on the ``Authorization`` header). OPTIONS exists only to answer CORS preflights: a
MOCK integration, no authorization, echoing the request's origin only when it is one the
config allows. Integrations are Lambda proxies; each Lambda permission names the one method and
path (and stage) it serves. The stage is the environment, with X-Ray and JSON access logs, and
throttling and a usage plan sized by the tenant's tier.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

import pulumi
import pulumi_aws as aws

from ubertruck.contracts import common_schema

from .context import TenantContext, child
from .function import ServiceFunction
from .log_groups import service_log_group
from .routes import Route, arn_path

SERVICE = "api"
#: API Gateway reads the authorizer's identity from here (the REQUEST authorizer gets the whole
#: request; this is also the cache key of its result).
IDENTITY_SOURCE = "method.request.header.Authorization"
#: One JSON line per request: who (tenant, user from the authorizer's context), what, outcome.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "ip": "$context.identity.sourceIp",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "tenantId": "$context.authorizer.tenant_id",
        "userId": "$context.authorizer.user_id",
        "authorizerError": "$context.authorizer.error",
        "xrayTraceId": "$context.xrayTraceId",
    },
    separators=(",", ":"),
)
_CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary")
_JSON = "application/json"


@dataclass(frozen=True)
class ApiGatewayArgs:
    ctx: TenantContext
    #: The auth service's authorizer function (``AuthService.authorizer``).
    authorizer: ServiceFunction
    #: Every service's routes.
    routes: Sequence[Route]


def cors_origin_template(allowed_origins: Sequence[str]) -> str:
    """Preflight response template: ``Access-Control-Allow-Origin`` is the request's origin when
    it is allowed, absent otherwise (the header takes one origin, the config may list several)."""
    return "\n".join(
        [
            "#set($origin = $input.params().header.get('Origin'))",
            "#if(!$origin)#set($origin = $input.params().header.get('origin'))#end",
            f"#set($allowed = {json.dumps(list(allowed_origins))})",
            "#if($origin && $allowed.contains($origin))",
            "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)",
            "#end",
        ]
    )


def routes_fingerprint(routes: Sequence[Route], settings: dict[str, Any]) -> pulumi.Output[str]:
    """What the deployed API depends on (routes, the functions behind them, CORS and authorizer
    settings): a new deployment is made exactly when this changes."""

    def digest(function_names: list[str]) -> str:
        described = [(r.method, r.path, r.operation, r.authorized, fn) for r, fn in zip(routes, function_names)]
        text = json.dumps({"routes": described, "settings": settings}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    return pulumi.Output.all(*[r.function.function.name for r in routes]).apply(digest)


def check_routes(routes: Sequence[Route]) -> list[Route]:
    """The routes in a stable order; two services claiming one method and path is an error."""
    seen: dict[str, Route] = {}
    for route in routes:
        if route.key in seen:
            raise ValueError(f"API route {route.key} is claimed twice ({seen[route.key].operation} and {route.operation})")
        seen[route.key] = route
    return [seen[k] for k in sorted(seen)]


class ApiGateway(pulumi.ComponentResource):
    """``ubertruck:api:ApiGateway`` — REST API, authorizer, routes, CORS, stage, usage plan."""

    rest_api: aws.apigateway.RestApi
    authorizer: aws.apigateway.Authorizer
    stage: aws.apigateway.Stage
    access_logs: aws.cloudwatch.LogGroup
    usage_plan: aws.apigateway.UsagePlan
    outputs: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: ApiGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ubertruck:api:ApiGateway", name, None, opts)
        ctx = args.ctx
        routes = check_routes(args.routes)
        self._base = ctx.name(SERVICE)
        self._stage_name = ctx.environment
        self.rest_api = aws.apigateway.RestApi(
            self._base,
            name=self._base,
            description=f"UberTruck API of tenant {ctx.tenant_id} ({ctx.environment})",
            endpoint_configuration={"types": "REGIONAL"},
            tags=ctx.tags,
            opts=child(self),
        )
        ttl = ctx.settings.global_config.operational.timeouts.authorizer_ttl_seconds
        self.authorizer = self._authorizer(ctx, args.authorizer, ttl)
        resources = self._resource_tree(routes)
        cors = ctx.service_config(SERVICE, common_schema.ApiConfig).technical.cors
        members: list[pulumi.Resource] = []
        by_path: dict[str, list[Route]] = defaultdict(list)
        for route in routes:
            members += self._route(ctx, route, resources[route.path])
            by_path[route.path].append(route)
        for path, path_routes in sorted(by_path.items()):
            members += self._preflight(path, resources[path], [r.method for r in path_routes], cors)
        deployment = aws.apigateway.Deployment(
            f"{self._base}-deployment",
            rest_api=self.rest_api.id,
            description=f"Routes of {ctx.prefix}",
            triggers={"routes": routes_fingerprint(routes, {"cors": cors.model_dump(), "authorizer_ttl_seconds": ttl})},
            opts=child(self, depends_on=members),
        )
        self._stage(ctx, deployment)
        self.outputs = {
            "api_id": self.rest_api.id,
            "api_url": self.stage.invoke_url,
            "api_execution_arn": self.rest_api.execution_arn,
        }
        self.register_outputs(self.outputs)

    def _source_arn(self, suffix: str) -> pulumi.Output[str]:
        return self.rest_api.execution_arn.apply(lambda arn: f"{arn}/{suffix}")

    def _authorizer(self, ctx: TenantContext, function: ServiceFunction, ttl: int) -> aws.apigateway.Authorizer:
        authorizer = aws.apigateway.Authorizer(
            f"{self._base}-authorizer",
            name=f"{self._base}-authorizer",
            rest_api=self.rest_api.id,
            type="REQUEST",
            authorizer_uri=function.function.invoke_arn,
            identity_source=IDENTITY_SOURCE,
            authorizer_result_ttl_in_seconds=ttl,
            opts=child(self),
        )
        # API Gateway may call the authorizer for this API's authorizer only.
        aws.lambda_.Permission(
            f"{self._base}-authorizer-invoke",
            action="lambda:InvokeFunction",
            function=function.function.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.all(self.rest_api.execution_arn, authorizer.id).apply(lambda v: f"{v[0]}/authorizers/{v[1]}"),
            source_account=ctx.account_id,
            opts=child(self),
        )
        return authorizer

    def _resource_tree(self, routes: Sequence[Route]) -> dict[str, pulumi.Output[str]]:
        """One ``aws.apigateway.Resource`` per path prefix; returns path → resource id."""
        ids: dict[str, pulumi.Output[str]] = {}
        prefixes = sorted({"/" + "/".join(r.segments[: i + 1]) for r in routes for i in range(len(r.segments))})
        for path in prefixes:
            parent_path, _, part = path.rpartition("/")
            resource = aws.apigateway.Resource(
                f"{self._base}{path}",
                rest_api=self.rest_api.id,
                parent_id=ids[parent_path] if parent_path else self.rest_api.root_resource_id,
                path_part=part,
                opts=child(self),
            )
            ids[path] = resource.id
        return ids

    def _route(self, ctx: TenantContext, route: Route, resource_id: pulumi.Output[str]) -> list[pulumi.Resource]:
        label = f"{self._base}-{route.method}{route.path}"
        method = aws.apigateway.Method(
            label,
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method=route.method,
            # The manifest says whether the route is behind the authorizer; the policy packs
            # refuse a plan with any method that is not.
            authorization="CUSTOM" if route.authorized else "NONE",
            authorizer_id=self.authorizer.id if route.authorized else None,
            operation_name=route.operation,
            request_parameters={f"method.request.path.{p}": True for p in route.parameters} or None,
            opts=child(self),
        )
        integration = aws.apigateway.Integration(
            f"{label}-integration",
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=route.function.function.invoke_arn,
            opts=child(self),
        )
        aws.lambda_.Permission(
            f"{label}-invoke",
            action="lambda:InvokeFunction",
            function=route.function.function.name,
            principal="apigateway.amazonaws.com",
            source_arn=self._source_arn(f"{self._stage_name}/{route.method}{arn_path(route.path)}"),
            source_account=ctx.account_id,
            opts=child(self),
        )
        return [method, integration]

    def _preflight(self, path: str, resource_id: pulumi.Output[str], methods: list[str], cors: common_schema.CorsSettings) -> list[pulumi.Resource]:
        """OPTIONS for CORS only: MOCK, unauthenticated, answering allowed origins."""
        label = f"{self._base}-OPTIONS{path}"
        method = aws.apigateway.Method(
            label, http_method="OPTIONS", authorization="NONE", rest_api=self.rest_api.id, resource_id=resource_id, opts=child(self)
        )
        integration = aws.apigateway.Integration(
            f"{label}-integration",
            http_method=method.http_method,
            type="MOCK",
            request_templates={_JSON: json.dumps({"statusCode": 200})},
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            opts=child(self),
        )
        response = aws.apigateway.MethodResponse(
            f"{label}-response",
            http_method=method.http_method,
            status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in _CORS_HEADERS},
            response_models={_JSON: "Empty"},
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            opts=child(self),
        )
        static = {
            "Access-Control-Allow-Methods": ",".join(sorted([*methods, "OPTIONS"])),
            "Access-Control-Allow-Headers": ",".join(cors.allow_headers),
            "Access-Control-Max-Age": str(cors.max_age_seconds),
            "Vary": "Origin",
        }
        integration_response = aws.apigateway.IntegrationResponse(
            f"{label}-integration-response",
            http_method=method.http_method,
            status_code=response.status_code,
            response_parameters={f"method.response.header.{h}": f"'{v}'" for h, v in static.items()},
            response_templates={_JSON: cors_origin_template(cors.allow_origins)},
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            opts=child(self, depends_on=[integration]),
        )
        return [method, integration, response, integration_response]

    def _stage(self, ctx: TenantContext, deployment: aws.apigateway.Deployment) -> None:
        tier = ctx.settings.tier
        self.access_logs = service_log_group(ctx, SERVICE, "access", self)
        self.stage = aws.apigateway.Stage(
            f"{self._base}-stage",
            rest_api=self.rest_api.id,
            deployment=deployment.id,
            stage_name=self._stage_name,
            xray_tracing_enabled=True,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            tags=ctx.tags,
            opts=child(self),
        )
        aws.apigateway.MethodSettings(
            f"{self._base}-method-settings",
            rest_api=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings={
                "throttling_rate_limit": tier.throttle_rate_limit,
                "throttling_burst_limit": tier.throttle_burst_limit,
                "metrics_enabled": True,
                # Request and response bodies carry personal data; they stay out of the logs.
                "data_trace_enabled": False,
            },
            opts=child(self),
        )
        self.usage_plan = aws.apigateway.UsagePlan(
            f"{self._base}-plan",
            name=f"{self._base}-plan",
            description=f"{ctx.tenant_id} ({ctx.settings.tenant.tier} tier)",
            api_stages=[{"api_id": self.rest_api.id, "stage": self.stage.stage_name}],
            throttle_settings={"rate_limit": tier.throttle_rate_limit, "burst_limit": tier.throttle_burst_limit},
            quota_settings={"limit": tier.quota_limit, "period": tier.quota_period},
            tags=ctx.tags,
            opts=child(self),
        )
