"""TenantObservability and PlatformObservability under the offline engine."""

from __future__ import annotations

import json
from typing import Any

from components.observability import layout, tenant_alarm_names
from platformctl.engine.runner import stack_config
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.registry.loader import load_tenant, tenant_file
from ubertruck.settings import tenant_settings

from .conftest import DEV_ACCOUNT, Plan, policy_of

TENANT_OBS = "ubertruck:observability:TenantObservability"
PLATFORM_OBS = "ubertruck:observability:PlatformObservability"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"


def _settings(tenant_id: str, env: str) -> Any:
    return tenant_settings(load_tenant(tenant_file(tenant_id)), env, load_defaults())


def _metric_names(body: dict[str, Any]) -> set[str]:
    names = set()
    for widget in body["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            if isinstance(metric[0], str):
                names.add(metric[1])
    return names


# --------------------------------------------------------------------------- tenant stack


def test_tenant_dashboard_is_valid_json_naming_every_function(globex_dev: Plan) -> None:
    (dashboard,) = [r for r in globex_dev.under(TENANT_OBS) if r.type == DASHBOARD]
    assert dashboard.inputs["dashboardName"] == "globex-dev-overview"
    body = json.loads(dashboard.inputs["dashboardBody"])
    text = json.dumps(body)
    functions = {f.inputs["name"] for f in globex_dev.of_type("aws:lambda/function:Function")}
    assert {"globex-dev-configuration-api", "globex-dev-auth-authorizer"} <= functions
    for function in functions:
        assert function.startswith("globex-dev-") and function in text
    assert "acme" not in text and "initech" not in text


def test_tenant_dashboard_has_the_standard_widgets(globex_dev: Plan) -> None:
    (dashboard,) = [r for r in globex_dev.under(TENANT_OBS) if r.type == DASHBOARD]
    body = json.loads(dashboard.inputs["dashboardBody"])
    titles = {w["properties"].get("title") for w in body["widgets"]}
    assert {"Invocations", "Errors", "Duration p50 (ms)", "Duration p99 (ms)", "Throttles", "Business", "Security"} <= titles
    metrics = load_defaults().tenant_config["services"]["observability"]["technical"]["metrics"]
    assert set(metrics["business"]) | set(metrics["security"]) <= _metric_names(body)
    business = next(w for w in body["widgets"] if w["properties"].get("title") == "Business")
    for metric in business["properties"]["metrics"]:
        assert metric[0] == metrics["namespace"] and metric[2:4] == [metrics["dimension"], "globex"]
    api = [w for w in body["widgets"] if "API globex-dev-api (dev)" in w["properties"].get("title", "")]
    assert len(api) == 2


def test_dashboard_widgets_fit_the_grid(globex_dev: Plan) -> None:
    (dashboard,) = [r for r in globex_dev.under(TENANT_OBS) if r.type == DASHBOARD]
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    assert all(w["x"] + w["width"] <= 24 for w in widgets)
    cells = [(w["x"], w["y"]) for w in widgets]
    assert len(cells) == len(set(cells))


def test_layout_wraps_to_a_new_row() -> None:
    placed = layout([{"width": 12, "height": 6}, {"width": 12, "height": 6}, {"width": 12, "height": 3}])
    assert [(w["x"], w["y"]) for w in placed] == [(0, 0), (12, 0), (0, 6)]


def test_standard_alarms_use_the_configured_thresholds(globex_dev: Plan) -> None:
    alarms = {r.name: r.inputs for r in globex_dev.under(TENANT_OBS) if r.type == ALARM}
    assert set(alarms) == set(tenant_alarm_names("globex-dev"))
    config = _settings("globex", "dev").technical("observability", "alarms")
    error, latency = alarms["globex-dev-error-rate-high"], alarms["globex-dev-latency-high"]
    assert error["threshold"] == config["error_rate_threshold"]
    assert latency["threshold"] == config["latency_threshold_ms"]
    assert latency["period"] == config["period_seconds"]
    assert latency["extendedStatistic"] == "p99"
    assert all(q["metric"]["period"] == config["period_seconds"] for q in error["metricQueries"] if "metric" in q)
    assert [q["id"] for q in error["metricQueries"] if q.get("returnData")] == ["error_rate"]
    assert {a["evaluationPeriods"] for a in alarms.values()} == {config["evaluation_periods"]}


def test_standard_alarms_notify_the_alarm_topic_of_the_tenant_region(globex_dev: Plan, shared_dev: Plan) -> None:
    region = _settings("globex", "dev").region
    topic = shared_dev.outputs["alarm_topic_arns"][region]
    assert f":{region}:" in topic
    for alarm in (r for r in globex_dev.under(TENANT_OBS) if r.type == ALARM):
        assert alarm.inputs["alarmActions"] == [topic]
        assert alarm.inputs["okActions"] == [topic]


def test_tenant_alarms_watch_the_tenant_api(globex_dev: Plan) -> None:
    latency = globex_dev.named(ALARM, "globex-dev-latency-high").inputs
    assert latency["namespace"] == "AWS/ApiGateway"
    assert latency["dimensions"] == {"ApiName": "globex-dev-api", "Stage": "dev"}


def test_tenant_alarms_are_tagged_with_the_tenant(globex_dev: Plan) -> None:
    for alarm in (r for r in globex_dev.under(TENANT_OBS) if r.type == ALARM):
        assert alarm.inputs["tags"]["tenant_id"] == "globex"


# --------------------------------------------------------------------------- shared stack


def test_shared_stack_exports_the_alarm_topic(shared_dev: Plan) -> None:
    assert shared_dev.outputs["alarm_topic_arn"] == f"arn:aws:sns:ap-south-1:{DEV_ACCOUNT}:ubertruck-dev-alarms"
    # Every region a dev tenant runs in has a topic.
    assert set(shared_dev.outputs["alarm_topic_arns"]) == {"ap-south-1", "ap-southeast-1", "eu-west-1"}


def test_every_alarm_topic_is_encrypted_with_a_rotating_platform_cmk(shared_dev: Plan) -> None:
    topics = [r for r in shared_dev.under(PLATFORM_OBS) if r.type == TOPIC]
    assert len(topics) == 3
    keys = {r.urn: r for r in shared_dev.under(PLATFORM_OBS) if r.type == KEY}
    for topic in topics:
        assert topic.inputs["name"] == "ubertruck-dev-alarms"
        key_arn = topic.inputs["kmsMasterKeyId"]
        assert key_arn.startswith("arn:aws:kms:") and "alias/aws" not in key_arn
        (key_urn,) = topic.property_dependencies["kmsMasterKeyId"]
        key = keys[key_urn]
        assert key.inputs["enableKeyRotation"] is True
        # The topic's key lives with the topic: same provider, hence same region.
        assert key.provider == topic.provider


def test_platform_key_policy_names_only_the_pipeline_roles(shared_dev: Plan) -> None:
    key = shared_dev.named(KEY, "ubertruck-dev-platform")
    statements = {s["Sid"]: s for s in policy_of(key)["Statement"]}
    users = statements["PlatformRolesUseKey"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert sorted(users) == users
    deploy_role = stack_config(PROJECT_ROOT, "dev")["ubertruck:deployRoleArn"]
    assert all(":role/ubertruck-dev-pipeline" in u or u == deploy_role for u in users)
    assert statements["CloudWatchAlarmsPublish"]["Condition"] == {"StringEquals": {"aws:SourceAccount": DEV_ACCOUNT}}


def test_alarm_topic_has_an_email_subscription_from_config(shared_dev: Plan) -> None:
    subscriptions = [r for r in shared_dev.under(PLATFORM_OBS) if r.type == "aws:sns/topicSubscription:TopicSubscription"]
    assert len(subscriptions) == 3
    assert {s.inputs["protocol"] for s in subscriptions} == {"email"}
    assert {s.inputs["endpoint"] for s in subscriptions} == {"platform-alerts-dev@ubertruck.example"}


def test_alarm_topic_policy_lets_cloudwatch_publish_over_tls_only(shared_dev: Plan) -> None:
    policy = policy_of(shared_dev.named("aws:sns/topicPolicy:TopicPolicy", "ubertruck-dev-alarms-policy"))
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["CloudWatchAlarmsPublish"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_platform_dashboard_is_valid_json_with_every_standard_metric(shared_dev: Plan) -> None:
    dashboard = shared_dev.named(DASHBOARD, "ubertruck-dev-platform")
    body = json.loads(dashboard.inputs["dashboardBody"])
    metrics = load_defaults().tenant_config["services"]["observability"]["technical"]["metrics"]
    text = json.dumps(body)
    for name in (*metrics["business"], *metrics["security"]):
        assert f'MetricName=\\"{name}\\"' in text
    assert "ubertruck-dev-alarms" in text


def test_prod_shared_stack_has_topics_only_where_prod_tenants_run(shared_prod: Plan) -> None:
    prod = shared_prod
    # initech runs in dev only; its region (eu-west-1) gets no prod topic.
    assert set(prod.outputs["alarm_topic_arns"]) == {"ap-south-1", "ap-southeast-1"}
