"""ApiGateway: authorizer on every method, CORS-only OPTIONS, scoped permissions, stage, plan."""

from __future__ import annotations

import json

import pytest

from components.api import check_routes, cors_origin_template
from components.routes import Route, arn_path
from tests.components.conftest import DEV_ACCOUNT, Plan
from ubertruck.contracts import load_function_module

METHOD = "aws:apigateway/method:Method"
PERMISSION = "aws:lambda/permission:Permission"
COMPONENT = "ubertruck:api:ApiGateway"


def test_every_method_but_options_goes_through_the_authorizer(any_plan: Plan) -> None:
    (authorizer,) = any_plan.of_type("aws:apigateway/authorizer:Authorizer")
    methods = any_plan.of_type(METHOD)
    guarded = [m for m in methods if m.inputs["httpMethod"] != "OPTIONS"]
    assert guarded
    for method in guarded:
        assert method.inputs["authorization"] == "CUSTOM"
        assert method.inputs["authorizerId"] == authorizer.name


def test_authorizer_is_a_request_authorizer_on_the_authorization_header(acme_dev: Plan) -> None:
    (authorizer,) = acme_dev.of_type("aws:apigateway/authorizer:Authorizer")
    ttl = acme_dev.settings.global_section("operational")["timeouts"]["authorizer_ttl_seconds"]
    assert authorizer.inputs["type"] == "REQUEST"
    assert authorizer.inputs["identitySource"] == "method.request.header.Authorization"
    assert authorizer.inputs["authorizerResultTtlInSeconds"] == ttl
    assert ":function:acme-dev-auth-authorizer/" in authorizer.inputs["authorizerUri"]


def test_options_only_answers_cors_preflights(acme_dev: Plan) -> None:
    options = [m for m in acme_dev.of_type(METHOD) if m.inputs["httpMethod"] == "OPTIONS"]
    assert options
    integrations = {(i.inputs["resourceId"], i.inputs["httpMethod"]): i for i in acme_dev.of_type("aws:apigateway/integration:Integration")}
    for method in options:
        assert method.inputs["authorization"] == "NONE"
        assert integrations[(method.inputs["resourceId"], "OPTIONS")].inputs["type"] == "MOCK"


def test_preflight_allows_only_configured_origins(acme_dev: Plan) -> None:
    cors = acme_dev.settings.technical("api", "cors")
    responses = acme_dev.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
    # One preflight per path of the API.
    assert len(responses) == len([m for m in acme_dev.of_type(METHOD) if m.inputs["httpMethod"] == "OPTIONS"])
    for response in responses:
        template = response.inputs["responseTemplates"]["application/json"]
        assert json.dumps(cors["allow_origins"]) in template, response.name
        headers = response.inputs["responseParameters"]
        assert "method.response.header.Access-Control-Allow-Origin" not in headers, "never a static (wildcard) origin"
        assert headers["method.response.header.Access-Control-Max-Age"] == f"'{cors['max_age_seconds']}'"
    # The config path serves GET only, so its preflight allows exactly GET and OPTIONS.
    config = acme_dev.named("aws:apigateway/integrationResponse:IntegrationResponse", "acme-dev-api-OPTIONS/config/{path+}-integration-response")
    assert config.inputs["responseParameters"]["method.response.header.Access-Control-Allow-Methods"] == "'GET,OPTIONS'"


def test_routes_are_lambda_proxy_integrations(acme_dev: Plan) -> None:
    proxies = [i for i in acme_dev.of_type("aws:apigateway/integration:Integration") if i.inputs["httpMethod"] != "OPTIONS"]
    assert proxies
    for integration in proxies:
        assert integration.inputs["type"] == "AWS_PROXY"
        assert integration.inputs["integrationHttpMethod"] == "POST"


def test_every_api_permission_is_scoped_to_this_api(any_plan: Plan) -> None:
    execution_arn = any_plan.outputs["api_execution_arn"]
    permissions = [p for p in any_plan.under(COMPONENT) if p.type == PERMISSION]
    routes = [m for m in any_plan.of_type(METHOD) if m.inputs["httpMethod"] != "OPTIONS"]
    assert len(permissions) == len(routes) + 1, "one per route and the authorizer"
    for permission in permissions:
        assert permission.inputs["principal"] == "apigateway.amazonaws.com"
        assert permission.inputs["sourceArn"].startswith(f"{execution_arn}/")


def test_route_permission_names_stage_method_and_path(acme_dev: Plan) -> None:
    permission = acme_dev.named(PERMISSION, "acme-dev-api-GET/config/{path+}-invoke")
    assert permission.inputs["sourceArn"] == f"{acme_dev.outputs['api_execution_arn']}/dev/GET/config/*"
    assert permission.inputs["function"] == "acme-dev-configuration-api"


def test_authorizer_permission_names_the_authorizer(acme_dev: Plan) -> None:
    permission = acme_dev.named(PERMISSION, "acme-dev-api-authorizer-invoke")
    assert permission.inputs["sourceArn"] == f"{acme_dev.outputs['api_execution_arn']}/authorizers/acme-dev-api-authorizer"
    assert permission.inputs["function"] == "acme-dev-auth-authorizer"


def test_every_lambda_permission_in_the_stack_has_a_source_arn(any_plan: Plan) -> None:
    for permission in any_plan.of_type(PERMISSION):
        assert permission.inputs.get("sourceArn"), permission.name
        assert permission.inputs["sourceAccount"] == DEV_ACCOUNT


def test_stage_is_the_environment_with_xray_and_access_logs(any_plan: Plan) -> None:
    (stage,) = any_plan.of_type("aws:apigateway/stage:Stage")
    assert stage.inputs["stageName"] == any_plan.settings.environment
    assert stage.inputs["xrayTracingEnabled"] is True
    log_group = any_plan.named("aws:cloudwatch/logGroup:LogGroup", f"{any_plan.settings.prefix}-api-access-logs")
    assert stage.inputs["accessLogSettings"]["destinationArn"].endswith(f":log-group:{log_group.inputs['name']}")
    assert "$context.authorizer.tenant_id" in stage.inputs["accessLogSettings"]["format"]
    assert log_group.inputs["retentionInDays"] == any_plan.settings.log_retention_days
    assert log_group.inputs["kmsKeyId"] == any_plan.outputs["kms_key_arn"]


def test_throttling_and_usage_plan_follow_the_tier(any_plan: Plan) -> None:
    tier = any_plan.settings.tier
    (settings,) = any_plan.of_type("aws:apigateway/methodSettings:MethodSettings")
    assert settings.inputs["settings"]["throttlingRateLimit"] == tier.throttle_rate_limit
    assert settings.inputs["settings"]["throttlingBurstLimit"] == tier.throttle_burst_limit
    assert settings.inputs["settings"]["dataTraceEnabled"] is False
    (plan,) = any_plan.of_type("aws:apigateway/usagePlan:UsagePlan")
    assert plan.inputs["throttleSettings"] == {"rateLimit": tier.throttle_rate_limit, "burstLimit": tier.throttle_burst_limit}
    assert plan.inputs["quotaSettings"] == {"limit": tier.quota_limit, "period": tier.quota_period}
    assert plan.inputs["apiStages"] == [{"apiId": any_plan.outputs["api_id"], "stage": any_plan.settings.environment}]


def test_tiers_differ_between_tenants(acme_dev: Plan, initech_dev: Plan) -> None:
    def rate(plan: Plan) -> float:
        return plan.of_type("aws:apigateway/usagePlan:UsagePlan")[0].inputs["throttleSettings"]["rateLimit"]

    assert rate(acme_dev) > rate(initech_dev), "enterprise acme gets more than basic initech"


def test_deployment_waits_for_every_method_and_carries_a_route_fingerprint(acme_dev: Plan, globex_dev: Plan) -> None:
    (deployment,) = acme_dev.of_type("aws:apigateway/deployment:Deployment")
    fingerprint = deployment.inputs["triggers"]["routes"]
    assert len(fingerprint) == 64
    method_urns = {m.urn for m in acme_dev.of_type(METHOD)}
    assert method_urns <= set(deployment.dependencies)
    # Same routes, other functions (globex's): another fingerprint, so another deployment.
    (other,) = globex_dev.of_type("aws:apigateway/deployment:Deployment")
    assert other.inputs["triggers"]["routes"] != fingerprint


def test_outputs_name_the_api(acme_dev: Plan) -> None:
    api_id = acme_dev.outputs["api_id"]
    assert acme_dev.outputs["api_url"] == f"https://{api_id}.execute-api.ap-south-1.amazonaws.com/dev"
    assert acme_dev.outputs["api_execution_arn"] == f"arn:aws:execute-api:ap-south-1:{DEV_ACCOUNT}:{api_id}"


_routes = load_function_module("common", "routes")
ApiRoute, NO_OBJECT = _routes.ApiRoute, _routes.NO_OBJECT


def test_route_paths_map_to_execute_api_arns() -> None:
    assert arn_path("/config/{path+}") == "/config/*"
    assert arn_path("/bookings/{id}/cancel") == "/bookings/*/cancel"
    assert Route(ApiRoute("GET", "/bookings/{id}/items/{item+}", "booking:read", "get", access=NO_OBJECT), None).parameters == ("id", "item")  # type: ignore[arg-type]


@pytest.mark.parametrize("path, method", [("config", "GET"), ("/config/", "GET"), ("/a//b", "GET"), ("/config", "get"), ("/config", "OPTIONS")])
def test_malformed_routes_are_refused(path: str, method: str) -> None:
    with pytest.raises(ValueError, match="route"):
        ApiRoute(method, path, "config:read", "read", access=NO_OBJECT)


def test_two_services_cannot_claim_one_route() -> None:
    routes = [Route(ApiRoute("GET", "/x", "a:read", "read", access=NO_OBJECT), None), Route(ApiRoute("GET", "/x", "b:read", "read", access=NO_OBJECT), None)]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="claimed twice"):
        check_routes(routes)


def test_origin_template_echoes_only_listed_origins() -> None:
    template = cors_origin_template(["https://a.example", "https://b.example"])
    assert '["https://a.example", "https://b.example"]' in template
    assert "$allowed.contains($origin)" in template
