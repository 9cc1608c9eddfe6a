"""The tracking API through its real handler, with API Gateway proxy events carrying authorizer context."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from common import clock
from common.api import ApiFunction

from .conftest import REGION
from .fn_services import call_api, provision_services, record_calls
from .fn_support import (
    FakeLambdaContext,
    Tenant,
    api_event,
    authorizer_for,
    build_function,
    emitted_metrics,
    import_handler,
    metric_total,
    response_json,
    scan_all,
    set_in,
    ssm_outage,
    tenant_config,
)

tracking_handler = import_handler("tracking")
BOOKING = "bk_trackme"
SECONDS_PER_DAY = 86_400


# --- harness -------------------------------------------------------------------------------------


def provisioned(provision_tenant: Callable[..., Tenant], tenant_id: str = "acme", config: dict[str, Any] | None = None) -> Tenant:
    return provision_services(provision_tenant(tenant_id, config=config), REGION, api_key=f"{tenant_id}-provider-key")


def build(tenant: Tenant, code_root: Path) -> ApiFunction[Any]:
    return build_function(tracking_handler, tenant, code_root)


@pytest.fixture
def acme_tracking(provision_tenant: Callable[..., Tenant]) -> Tenant:
    return provisioned(provision_tenant)


@pytest.fixture
def tracking(acme_tracking: Tenant, code_root: Path) -> ApiFunction[Any]:
    return build(acme_tracking, code_root)


def send(function: ApiFunction[Any], method: str, path: str, *, roles: str = "driver", **options: Any) -> dict[str, Any]:
    return call_api(function, method, path, user="driver-1", roles=roles, **options)


def position(at: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"lat": 19.076, "lon": 72.8777, "speed_kmh": 54.5, "heading_deg": 90, "recorded_at": (at or clock.utc_now()).isoformat()}
    body.update(overrides)
    return body


def post(function: ApiFunction[Any], body: dict[str, Any], booking_id: str = BOOKING, **options: Any) -> dict[str, Any]:
    return send(function, "POST", f"/tracking/{booking_id}/positions", body=body, **options)


def table(tenant: Tenant, kind: str) -> list[dict[str, Any]]:
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["tracking"][f"{kind}_table"])


def rules_of(tenant: Tenant) -> dict[str, Any]:
    return tenant.config["services"]["tracking"]["business"]["business_rules"]


# --- ingest --------------------------------------------------------------------------------------


def test_ingest_stores_the_position_with_retention_ttl_and_audits(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    recorded = clock.utc_now() - timedelta(minutes=1)
    response = post(tracking, position(recorded))
    assert response["statusCode"] == 201
    body = response_json(response)
    assert (body["booking_id"], body["lat"], body["lon"], body["speed_kmh"], body["reported_by"]) == (BOOKING, 19.076, 72.8777, 54.5, "driver-1")
    [stored] = table(acme_tracking, "tracking")
    retention_days = acme_tracking.config["global"]["compliance"]["data_retention"]["days"]
    assert stored["tenant_id"] == "acme"
    assert stored["expires_at"] == int(recorded.timestamp()) + retention_days * SECONDS_PER_DAY
    [audit] = table(acme_tracking, "audit")
    assert (audit["action"], audit["outcome"], audit["resource_id"], audit["user_id"]) == ("tracking:write", "success", BOOKING, "driver-1")


def test_resending_the_same_position_stores_it_once(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    body = position()
    assert post(tracking, body)["statusCode"] == post(tracking, body)["statusCode"] == 201
    assert len(table(acme_tracking, "tracking")) == 1


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"lat": 90.5}, {"lat"}),
        ({"lon": -180.01}, {"lon"}),
        ({"speed_kmh": -1}, {"speed_kmh"}),
        ({"recorded_at": "2024-05-01T12:00:00"}, {"recorded_at"}),
        ({"lat": "north"}, {"lat"}),
        ({"heading_deg": 360}, {"heading_deg"}),
        ({"tenant_id": "globex"}, {"tenant_id"}),
    ],
    ids=["latitude-over-90", "longitude-under-180", "negative-speed", "naive-timestamp", "non-numeric-latitude", "heading-360", "tenant-in-body"],
)
def test_bad_position_is_400_with_details_and_nothing_stored(tracking: ApiFunction[Any], acme_tracking: Tenant, overrides: dict[str, Any], fields: set[str]) -> None:
    response = post(tracking, position(**overrides))
    assert response["statusCode"] == 400
    assert {d["field"] for d in response_json(response)["error"]["details"]} == fields
    assert table(acme_tracking, "tracking") == []


def test_speed_and_clock_skew_limits_come_from_config(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    rules = rules_of(acme_tracking)
    ahead = clock.utc_now() + timedelta(seconds=rules["max_clock_skew_seconds"] + 30)
    response = post(tracking, position(ahead, speed_kmh=rules["max_speed_kmh"] + 1))
    assert response["statusCode"] == 400
    assert {d["field"] for d in response_json(response)["error"]["details"]} == {"speed_kmh", "recorded_at"}
    within = clock.utc_now() + timedelta(seconds=rules["max_clock_skew_seconds"] - 30)
    assert post(tracking, position(within, speed_kmh=rules["max_speed_kmh"]))["statusCode"] == 201
    assert len(table(acme_tracking, "tracking")) == 1


def test_changing_the_speed_limit_in_config_changes_what_is_accepted(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.tracking.business.business_rules.max_speed_kmh", 40)
    function = build(provisioned(provision_tenant, config=config), code_root)
    response = post(function, position(speed_kmh=54.5))
    assert response["statusCode"] == 400
    assert "40 km/h" in response_json(response)["error"]["details"][0]["message"]


def test_a_position_older_than_the_retention_is_refused(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    retention_days = acme_tracking.config["global"]["compliance"]["data_retention"]["days"]
    response = post(tracking, position(clock.utc_now() - timedelta(days=retention_days, minutes=1)))
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "recorded_at"
    assert table(acme_tracking, "tracking") == []


def test_a_malformed_booking_id_is_400(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    response = post(tracking, position(), booking_id="bk%3Bdrop")
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "booking_id"
    assert table(acme_tracking, "tracking") == []


def test_a_customer_may_not_report_positions(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    assert post(tracking, position(), roles="customer")["statusCode"] == 403
    assert table(acme_tracking, "tracking") == []


# --- latest and history --------------------------------------------------------------------------


def test_latest_is_the_most_recently_recorded_not_the_last_received(tracking: ApiFunction[Any]) -> None:
    now = clock.utc_now()
    post(tracking, position(now - timedelta(minutes=1), lat=10.0))
    post(tracking, position(now - timedelta(minutes=5), lat=11.0))  # a buffered, older update arrives late
    response = send(tracking, "GET", f"/tracking/{BOOKING}/latest", roles="customer")
    assert response["statusCode"] == 200
    assert response_json(response)["lat"] == 10.0


def test_latest_of_a_booking_without_positions_is_404(tracking: ApiFunction[Any]) -> None:
    assert send(tracking, "GET", "/tracking/bk_nothing/latest")["statusCode"] == 404


def test_history_pages_newest_first_with_the_configured_page_size(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.tracking.business.business_rules.history_page_size", 2)
    function = build(provisioned(provision_tenant, config=config), code_root)
    start = clock.utc_now() - timedelta(hours=1)
    times = [(start + timedelta(minutes=n)).isoformat() for n in range(5)]
    for at in times:
        post(function, position(datetime.fromisoformat(at)))
    post(function, position(), booking_id="bk_other")
    seen: list[datetime] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        response = send(function, "GET", f"/tracking/{BOOKING}/history", query={"cursor": cursor} if cursor else None)
        assert response["statusCode"] == 200
        page = response_json(response)
        sizes.append(len(page["items"]))
        seen.extend(datetime.fromisoformat(item["recorded_at"]) for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes[:3] == [2, 2, 1]
    assert seen == [datetime.fromisoformat(at) for at in reversed(times)]


def test_history_rejects_limits_above_the_page_size_and_foreign_cursors(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    page_size = rules_of(acme_tracking)["history_page_size"]
    assert send(tracking, "GET", f"/tracking/{BOOKING}/history", query={"limit": str(page_size + 1)})["statusCode"] == 400
    assert send(tracking, "GET", f"/tracking/{BOOKING}/history", query={"limit": "0"})["statusCode"] == 400
    post(tracking, position(clock.utc_now() - timedelta(minutes=2)), booking_id="bk_a")
    post(tracking, position(clock.utc_now() - timedelta(minutes=1)), booking_id="bk_a")
    cursor = response_json(send(tracking, "GET", "/tracking/bk_a/history", query={"limit": "1"}))["next_cursor"]
    assert cursor
    response = send(tracking, "GET", "/tracking/bk_b/history", query={"cursor": cursor})
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "cursor"


# --- tenant isolation ----------------------------------------------------------------------------


def test_another_tenants_token_is_refused_with_nothing_read_or_written(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    post(tracking, position())
    before = (table(acme_tracking, "tracking"), table(acme_tracking, "audit"))
    dynamodb_calls = record_calls(tracking.aws.client("dynamodb"))
    ssm_calls = record_calls(tracking.config.provider.client)
    for method, path, body in [
        ("POST", f"/tracking/{BOOKING}/positions", position()),
        ("GET", f"/tracking/{BOOKING}/latest", None),
        ("GET", f"/tracking/{BOOKING}/history", None),
    ]:
        response = send(tracking, method, path, body=body, tenant="globex", roles="admin")
        assert response["statusCode"] == 403
        assert "19.076" not in response["body"]
    assert dynamodb_calls == [] and ssm_calls == []
    assert (table(acme_tracking, "tracking"), table(acme_tracking, "audit")) == before


def test_tenant_a_positions_do_not_exist_for_tenant_b(provision_tenant: Callable[..., Tenant], tmp_path: Path) -> None:
    acme, globex = provisioned(provision_tenant, "acme"), provisioned(provision_tenant, "globex")
    acme_function, globex_function = build(acme, tmp_path / "acme"), build(globex, tmp_path / "globex")
    post(acme_function, position())
    assert send(globex_function, "GET", f"/tracking/{BOOKING}/latest", tenant="globex", roles="admin")["statusCode"] == 404
    assert response_json(send(globex_function, "GET", f"/tracking/{BOOKING}/history", tenant="globex", roles="admin"))["items"] == []


@pytest.mark.parametrize(
    "authorizer",
    [None, {"user_id": "driver-1", "roles": "admin"}, {"tenant_id": "ACME", "user_id": "driver-1", "roles": "admin"}, {"tenant_id": "acme", "roles": "admin"}],
    ids=["no-authorizer-context", "no-tenant-claim", "forged-tenant-spelling", "no-user"],
)
def test_missing_or_forged_tenant_claim_is_refused(tracking: ApiFunction[Any], acme_tracking: Tenant, authorizer: dict[str, Any] | None) -> None:
    event = api_event("POST", f"/tracking/{BOOKING}/positions", body=position(), authorizer=authorizer)
    assert tracking.lambda_handler(event, FakeLambdaContext())["statusCode"] == 403
    assert table(acme_tracking, "tracking") == [] and table(acme_tracking, "audit") == []


# --- config service down, audit ------------------------------------------------------------------


def test_config_service_down_uses_the_fallback_and_emits_the_metric(provision_tenant: Callable[..., Tenant], code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = provisioned(provision_tenant, config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    function = build(tenant, code_root)
    ssm_outage(function.config.provider.client)
    speed_limit = rules_of(tenant)["max_speed_kmh"]
    assert post(function, position(speed_kmh=speed_limit + 1))["statusCode"] == 400  # the fallback's limit applies
    assert post(function, position())["statusCode"] == 201
    assert {record["config_version"] for record in table(tenant, "audit")} == {"fallback"}
    blobs = emitted_metrics(capsys.readouterr().out)
    assert sum(metric_total(blob, "ConfigurationError") for blob in blobs) >= 1


def test_every_operation_leaves_an_audit_record(tracking: ApiFunction[Any], acme_tracking: Tenant) -> None:
    post(tracking, position())
    send(tracking, "GET", f"/tracking/{BOOKING}/latest")
    send(tracking, "GET", f"/tracking/{BOOKING}/history")
    post(tracking, position(lat=123))
    records = sorted(table(acme_tracking, "audit"), key=lambda r: r["occurred_at"])
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("tracking:write", "success"),
        ("tracking:read", "success"),
        ("tracking:read", "success"),
        ("tracking:write", "rejected"),
    ]
    assert all(r["tenant_id"] == "acme" and r["request_id"] and r["config_version"] for r in records)
    assert all("72.8777" not in str(r) for r in records)  # no payload in the audit trail


def test_module_handler_is_built_from_the_environment(acme_tracking: Tenant) -> None:
    module = import_handler("tracking")
    event = api_event("POST", f"/tracking/{BOOKING}/positions", body=position(), authorizer=authorizer_for("acme", "driver-1", "driver"))
    assert module.lambda_handler(event, FakeLambdaContext())["statusCode"] == 201
