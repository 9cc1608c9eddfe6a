"""The tracking API through its real handler, with API Gateway proxy events carrying authorizer context.

Each test tracks a booking made through the booking handler (``fn_tracking.Tracked``): its
customer ``OWNER``, its driver ``DRIVER``. Who else may act on it is in ``test_fn_tracking_access``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from common import clock

from .fn_bookings import DRIVER, OWNER
from .fn_services import record_calls
from .fn_support import (
    FakeLambdaContext,
    Tenant,
    api_event,
    authorizer_for,
    emitted_metrics,
    import_handler,
    metric_total,
    response_json,
    set_in,
    ssm_outage,
    tenant_config,
)
from .fn_tracking import Tracked, position, provisioned

SECONDS_PER_DAY = 86_400


@pytest.fixture
def tracked(provision_tenant: Callable[..., Tenant], tmp_path: Path) -> Tracked:
    return Tracked.of(provisioned(provision_tenant), tmp_path)


def tracked_with(provision_tenant: Callable[..., Tenant], tmp_path: Path, config: dict[str, Any]) -> Tracked:
    return Tracked.of(provisioned(provision_tenant, config=config), tmp_path)


def tracking_audit(tracked: Tracked) -> list[dict[str, Any]]:
    """The tracking function's audit records (the booking handler that made the bookings audits too)."""
    return [record for record in tracked.table("audit") if record["action"].startswith("tracking:")]


# --- ingest --------------------------------------------------------------------------------------


def test_ingest_stores_the_position_with_retention_ttl_and_audits(tracked: Tracked) -> None:
    recorded = clock.utc_now() - timedelta(minutes=1)
    response = tracked.post(position(recorded))
    assert response["statusCode"] == 201
    body = response_json(response)
    assert (body["booking_id"], body["lat"], body["lon"], body["speed_kmh"], body["reported_by"]) == (tracked.booking_id, 19.076, 72.8777, 54.5, DRIVER)
    [stored] = tracked.table("tracking")
    retention_days = tracked.tenant.config["global"]["compliance"]["data_retention"]["days"]
    assert stored["tenant_id"] == "acme"
    assert stored["expires_at"] == int(recorded.timestamp()) + retention_days * SECONDS_PER_DAY
    [audit] = tracking_audit(tracked)
    assert (audit["action"], audit["outcome"], audit["resource_id"], audit["user_id"]) == ("tracking:write", "success", tracked.booking_id, DRIVER)


def test_resending_the_same_position_stores_it_once(tracked: Tracked) -> None:
    body = position()
    assert tracked.post(body)["statusCode"] == tracked.post(body)["statusCode"] == 201
    assert len(tracked.table("tracking")) == 1


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
def test_bad_position_is_400_with_details_and_nothing_stored(tracked: Tracked, overrides: dict[str, Any], fields: set[str]) -> None:
    response = tracked.post(position(**overrides))
    assert response["statusCode"] == 400
    assert {d["field"] for d in response_json(response)["error"]["details"]} == fields
    assert tracked.table("tracking") == []


def test_speed_and_clock_skew_limits_come_from_config(tracked: Tracked) -> None:
    rules = tracked.rules()
    ahead = clock.utc_now() + timedelta(seconds=rules["max_clock_skew_seconds"] + 30)
    response = tracked.post(position(ahead, speed_kmh=rules["max_speed_kmh"] + 1))
    assert response["statusCode"] == 400
    assert {d["field"] for d in response_json(response)["error"]["details"]} == {"speed_kmh", "recorded_at"}
    within = clock.utc_now() + timedelta(seconds=rules["max_clock_skew_seconds"] - 30)
    assert tracked.post(position(within, speed_kmh=rules["max_speed_kmh"]))["statusCode"] == 201
    assert len(tracked.table("tracking")) == 1


def test_changing_the_speed_limit_in_config_changes_what_is_accepted(provision_tenant: Callable[..., Tenant], tmp_path: Path) -> None:
    tracked = tracked_with(provision_tenant, tmp_path, set_in(tenant_config("acme", "dev"), "services.tracking.business.business_rules.max_speed_kmh", 40))
    response = tracked.post(position(speed_kmh=54.5))
    assert response["statusCode"] == 400
    assert "40 km/h" in response_json(response)["error"]["details"][0]["message"]


def test_a_position_older_than_the_retention_is_refused(tracked: Tracked) -> None:
    retention_days = tracked.tenant.config["global"]["compliance"]["data_retention"]["days"]
    response = tracked.post(position(clock.utc_now() - timedelta(days=retention_days, minutes=1)))
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "recorded_at"
    assert tracked.table("tracking") == []


def test_a_malformed_booking_id_is_400(tracked: Tracked) -> None:
    response = tracked.post(position(), booking_id="bk%3Bdrop")
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "booking_id"
    assert tracked.table("tracking") == []


def test_a_customer_may_not_report_positions(tracked: Tracked) -> None:
    assert tracked.post(position(), user=OWNER, roles="customer")["statusCode"] == 403
    assert tracked.table("tracking") == []


# --- latest and history --------------------------------------------------------------------------


def test_latest_is_the_most_recently_recorded_not_the_last_received(tracked: Tracked) -> None:
    now = clock.utc_now()
    tracked.post(position(now - timedelta(minutes=1), lat=10.0))
    tracked.post(position(now - timedelta(minutes=5), lat=11.0))  # a buffered, older update arrives late
    response = tracked.latest(user=OWNER, roles="customer")
    assert response["statusCode"] == 200
    assert response_json(response)["lat"] == 10.0


def test_latest_of_a_booking_without_positions_is_404(tracked: Tracked) -> None:
    response = tracked.latest()
    assert response["statusCode"] == 404
    assert response_json(response)["error"]["message"] == "no position recorded for this booking"


def test_history_pages_newest_first_with_the_configured_page_size(provision_tenant: Callable[..., Tenant], tmp_path: Path) -> None:
    tracked = tracked_with(provision_tenant, tmp_path, set_in(tenant_config("acme", "dev"), "services.tracking.business.business_rules.history_page_size", 2))
    start = clock.utc_now() - timedelta(hours=1)
    times = [(start + timedelta(minutes=n)).isoformat() for n in range(5)]
    for at in times:
        tracked.post(position(datetime.fromisoformat(at)))
    tracked.post(position(), booking_id=tracked.booking())
    seen: list[datetime] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        response = tracked.history(query={"cursor": cursor} if cursor else None)
        assert response["statusCode"] == 200
        page = response_json(response)
        sizes.append(len(page["items"]))
        seen.extend(datetime.fromisoformat(item["recorded_at"]) for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes[:3] == [2, 2, 1]
    assert seen == [datetime.fromisoformat(at) for at in reversed(times)]


def test_history_rejects_limits_above_the_page_size_and_foreign_cursors(tracked: Tracked) -> None:
    page_size = tracked.rules()["history_page_size"]
    assert tracked.history(query={"limit": str(page_size + 1)})["statusCode"] == 400
    assert tracked.history(query={"limit": "0"})["statusCode"] == 400
    first, second = tracked.booking_id, tracked.booking()
    tracked.post(position(clock.utc_now() - timedelta(minutes=2)), booking_id=first)
    tracked.post(position(clock.utc_now() - timedelta(minutes=1)), booking_id=first)
    cursor = response_json(tracked.history(first, query={"limit": "1"}))["next_cursor"]
    assert cursor
    response = tracked.history(second, query={"cursor": cursor})
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "cursor"


# --- tenant isolation ----------------------------------------------------------------------------


def test_another_tenants_token_is_refused_with_nothing_read_or_written(tracked: Tracked) -> None:
    tracked.post(position())
    before = (tracked.table("tracking"), tracked.table("audit"))
    dynamodb_calls = record_calls(tracked.function.aws.client("dynamodb"))
    ssm_calls = record_calls(tracked.function.config.provider.client)
    for method, path, body in [
        ("POST", f"/tracking/{tracked.booking_id}/positions", position()),
        ("GET", f"/tracking/{tracked.booking_id}/latest", None),
        ("GET", f"/tracking/{tracked.booking_id}/history", None),
    ]:
        response = tracked.send(method, path, body=body, tenant="globex", roles="admin")
        assert response["statusCode"] == 403
        assert "19.076" not in response["body"]
    assert dynamodb_calls == [] and ssm_calls == []
    assert (tracked.table("tracking"), tracked.table("audit")) == before


def test_tenant_a_bookings_and_positions_do_not_exist_for_tenant_b(provision_tenant: Callable[..., Tenant], tmp_path: Path) -> None:
    acme = Tracked.of(provisioned(provision_tenant, "acme"), tmp_path / "acme")
    globex = Tracked.of(provisioned(provision_tenant, "globex"), tmp_path / "globex")
    acme.post(position())
    for response in (globex.latest(acme.booking_id, tenant="globex", roles="admin"), globex.history(acme.booking_id, tenant="globex", roles="admin")):
        assert response["statusCode"] == 404
        assert acme.booking_id not in response["body"]
    assert globex.post(position(), booking_id=acme.booking_id, tenant="globex", roles="admin")["statusCode"] == 404
    assert globex.table("tracking") == [] and len(acme.table("tracking")) == 1


@pytest.mark.parametrize(
    "authorizer",
    [None, {"user_id": DRIVER, "roles": "admin"}, {"tenant_id": "ACME", "user_id": DRIVER, "roles": "admin"}, {"tenant_id": "acme", "roles": "admin"}],
    ids=["no-authorizer-context", "no-tenant-claim", "forged-tenant-spelling", "no-user"],
)
def test_missing_or_forged_tenant_claim_is_refused(tracked: Tracked, authorizer: dict[str, Any] | None) -> None:
    audit_before = tracked.table("audit")
    event = api_event("POST", f"/tracking/{tracked.booking_id}/positions", body=position(), authorizer=authorizer)
    assert tracked.function.lambda_handler(event, FakeLambdaContext())["statusCode"] == 403
    assert tracked.table("tracking") == [] and tracked.table("audit") == audit_before


# --- config service down, audit ------------------------------------------------------------------


def test_config_service_down_uses_the_fallback_and_emits_the_metric(provision_tenant: Callable[..., Tenant], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tracked = tracked_with(provision_tenant, tmp_path, set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    ssm_outage(tracked.function.config.provider.client)
    speed_limit = tracked.rules()["max_speed_kmh"]
    assert tracked.post(position(speed_kmh=speed_limit + 1))["statusCode"] == 400  # the fallback's limit applies
    assert tracked.post(position())["statusCode"] == 201
    assert {record["config_version"] for record in tracking_audit(tracked)} == {"fallback"}
    blobs = emitted_metrics(capsys.readouterr().out)
    assert sum(metric_total(blob, "ConfigurationError") for blob in blobs) >= 1


def test_every_operation_leaves_an_audit_record(tracked: Tracked) -> None:
    tracked.post(position())
    tracked.latest()
    tracked.history()
    tracked.post(position(lat=123))
    records = sorted(tracking_audit(tracked), key=lambda r: r["occurred_at"])
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("tracking:write", "success"),
        ("tracking:read", "success"),
        ("tracking:read", "success"),
        ("tracking:write", "rejected"),
    ]
    assert all(r["tenant_id"] == "acme" and r["request_id"] and r["config_version"] for r in records)
    assert all("72.8777" not in str(r) for r in records)  # no payload in the audit trail


def test_module_handler_is_built_from_the_environment(tracked: Tracked) -> None:
    module = import_handler("tracking")
    event = api_event("POST", f"/tracking/{tracked.booking_id}/positions", body=position(), authorizer=authorizer_for("acme", DRIVER, "driver"))
    assert module.lambda_handler(event, FakeLambdaContext())["statusCode"] == 201
