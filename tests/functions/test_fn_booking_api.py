"""The booking API through its real handler, with API Gateway proxy events carrying authorizer context."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from booking.pricing import quote as price_quote
from booking.config_schema import PricingModels
from booking.models import QuoteRequest
from common import clock
from common.api import ApiFunction
from common.environment import FunctionEnvironment

from .conftest import REGION
from .fn_services import call_api as send
from .fn_services import record_calls
from .fn_support import (
    FakeLambdaContext,
    Tenant,
    api_event,
    authorizer_for,
    build_function,
    emitted_metrics,
    import_handler,
    load_yaml,
    metric_names,
    metric_total,
    response_json,
    scan_all,
    set_in,
    ssm_outage,
    subscribe_to_events,
    tenant_config,
    write_parameters,
)

booking_handler = import_handler("booking")
CASES = load_yaml(Path(__file__).with_name("pricing_cases.yaml"))


# --- harness -------------------------------------------------------------------------------------


def build(tenant: Tenant, code_root: Path) -> ApiFunction[Any]:
    return build_function(booking_handler, tenant, code_root)


@pytest.fixture
def booking(acme: Tenant, code_root: Path) -> ApiFunction[Any]:
    return build(acme, code_root)


def shipment(**overrides: Any) -> dict[str, Any]:
    body = {
        "distance_km": "12.5",
        "weight_kg": "800",
        "surcharges": ["night"],
        "pickup": {"lat": 19.076, "lon": 72.8777},
        "dropoff": {"lat": 18.5204, "lon": 73.8567},
        "pickup_at": (clock.utc_now() + timedelta(days=1)).isoformat(),
    }
    body.update(overrides)
    return body


def create(function: ApiFunction[Any], key: str, user: str = "user-1", body: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    return send(function, "POST", "/bookings", body=body or shipment(**overrides), user=user, headers={"Idempotency-Key": key})


def table(tenant: Tenant, kind: str) -> list[dict[str, Any]]:
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["booking"][f"{kind}_table"])


def details(tenant: Tenant) -> list[dict[str, Any]]:
    return [item for item in table(tenant, "bookings") if item["sk"] == "DETAILS"]


def subscribe(tenant: Tenant) -> Callable[[], list[dict[str, Any]]]:
    return subscribe_to_events(tenant, REGION)


def pricing_of(tenant: Tenant) -> PricingModels:
    return PricingModels.model_validate(tenant.config["services"]["booking"]["business"]["pricing_models"])


# --- quote ---------------------------------------------------------------------------------------


def test_quote_prices_from_the_tenant_config_and_stores_nothing(booking: ApiFunction[Any], acme: Tenant) -> None:
    response = send(booking, "POST", "/bookings/quote", body={"distance_km": "12.5", "weight_kg": "800", "surcharges": ["night"]})
    assert response["statusCode"] == 200
    body = response_json(response)
    expected = price_quote(QuoteRequest(distance_km="12.5", weight_kg="800", surcharges=["night"]), pricing_of(acme))
    assert body["quote"] == json.loads(json.dumps(expected.as_dict()))
    assert body["config_version"] == booking.config.service_config().version
    assert table(acme, "bookings") == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"distance_km": -1, "weight_kg": 10}, {"distance_km"}),
        ({"weight_kg": 10}, {"distance_km"}),
        ({"distance_km": 1, "weight_kg": 10, "surcharges": ["teleport"]}, {"surcharges"}),
        ({"distance_km": 1, "weight_kg": "many"}, {"weight_kg"}),
        ({"distance_km": 1, "weight_kg": 1, "tenant_id": "globex"}, {"tenant_id"}),
    ],
    ids=["negative-distance", "missing-distance", "unknown-surcharge", "non-numeric-weight", "tenant-in-body"],
)
def test_quote_bad_input_is_400_with_details(booking: ApiFunction[Any], body: dict[str, Any], fields: set[str]) -> None:
    response = send(booking, "POST", "/bookings/quote", body=body)
    assert response["statusCode"] == 400
    assert {d["field"] for d in response_json(response)["error"]["details"]} == fields


def test_quote_limits_follow_business_rules_config(booking: ApiFunction[Any], acme: Tenant) -> None:
    rules = acme.config["services"]["booking"]["business"]["business_rules"]
    response = send(booking, "POST", "/bookings/quote", body={"distance_km": rules["max_distance_km"] + 1, "weight_kg": rules["max_weight_kg"] + 1})
    assert response["statusCode"] == 400
    assert {d["field"] for d in response_json(response)["error"]["details"]} == {"distance_km", "weight_kg"}


def test_the_booking_horizon_comes_from_config(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.business.business_rules.max_advance_booking_days", 2)
    function = build(provision_tenant("acme", config=config), code_root)
    now = clock.utc_now()
    assert create(function, "key-near", pickup_at=(now + timedelta(days=1)).isoformat())["statusCode"] == 201
    refused = create(function, "key-far", pickup_at=(now + timedelta(days=3)).isoformat())
    assert refused["statusCode"] == 400
    [detail] = response_json(refused)["error"]["details"]
    assert (detail["field"], "2 days" in detail["message"]) == ("pickup_at", True)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda case: f"{case['config']}-{case['total_minor']}")
def test_quote_through_the_api_matches_hand_computed_fares(provision_tenant: Callable[..., Tenant], code_root: Path, case: dict[str, Any]) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.business.pricing_models", CASES["configs"][case["config"]])
    function = build(provision_tenant("acme", config=config), code_root)
    response = send(function, "POST", "/bookings/quote", body={k: case[k] for k in ("distance_km", "weight_kg", "surcharges")})
    assert response["statusCode"] == 200
    fare = response_json(response)["quote"]
    assert (fare["subtotal_minor"], fare["tax_minor"], fare["total_minor"]) == (case["subtotal_minor"], case["tax_minor"], case["total_minor"])
    assert fare["currency"] == CASES["configs"][case["config"]]["currency"]


def test_changing_config_changes_the_price_without_a_deployment(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.technical.cache", {"max_age_seconds": 0})
    config = set_in(config, "services.booking.business.pricing_models", CASES["configs"]["inr_standard"])
    tenant = provision_tenant("acme", config=config)
    function = build(tenant, code_root)
    body = {"distance_km": "12", "weight_kg": "1000", "surcharges": ["night"]}
    before = response_json(send(function, "POST", "/bookings/quote", body=body))["quote"]["total_minor"]
    tenant.config = set_in(tenant.config, "services.booking.business.pricing_models", {**CASES["configs"]["inr_standard"], "surcharges": {"night": 0}, "tax_rate_basis_points": 0})
    write_parameters(tenant, REGION)
    after = response_json(send(function, "POST", "/bookings/quote", body=body))["quote"]["total_minor"]
    assert (before, after) == (107380, 90000)


# --- create --------------------------------------------------------------------------------------


def test_create_stores_the_booking_publishes_an_event_and_audits(booking: ApiFunction[Any], acme: Tenant) -> None:
    events = subscribe(acme)
    response = create(booking, "key-1")
    assert response["statusCode"] == 201
    body = response_json(response)
    assert body["status"] == "PENDING"
    assert body["price"]["total_minor"] == price_quote(QuoteRequest(distance_km="12.5", weight_kg="800", surcharges=["night"]), pricing_of(acme)).total_minor
    items = table(acme, "bookings")
    assert sorted(item["pk"].split("#")[0] for item in items) == ["BOOKING", "OWNER", "TENANT"]
    retention_days = acme.config["global"]["compliance"]["data_retention"]["days"]
    [stored] = details(acme)
    assert stored["tenant_id"] == "acme" and stored["user_id"] == "user-1"
    assert all(item["expires_at"] == stored["expires_at"] for item in items)
    assert stored["expires_at"] - int(clock.utc_now().timestamp()) == pytest.approx(retention_days * 86_400, abs=60)
    [event] = events()
    assert (event["event_type"], event["tenant_id"], event["data"]["booking_id"]) == ("booking.created", "acme", body["booking_id"])
    [audit] = table(acme, "audit")
    assert (audit["action"], audit["outcome"], audit["resource_id"]) == ("booking:create", "success", body["booking_id"])


def test_duplicate_create_with_the_same_key_makes_exactly_one_booking(booking: ApiFunction[Any], acme: Tenant) -> None:
    events = subscribe(acme)
    body = shipment()
    first = create(booking, "key-dup", body=body)
    second = create(booking, "key-dup", body=body)
    assert first["statusCode"] == second["statusCode"] == 201
    assert response_json(first) == response_json(second)
    assert len(details(acme)) == 1
    assert len(events()) == 1
    assert [a["outcome"] for a in table(acme, "audit")] == ["success", "success"]


def test_same_key_with_a_different_body_is_a_conflict(booking: ApiFunction[Any], acme: Tenant) -> None:
    body = shipment()
    create(booking, "key-x", body=body)
    response = create(booking, "key-x", body={**body, "distance_km": "99"})
    assert response["statusCode"] == 409
    assert len(details(acme)) == 1


def test_retry_after_a_half_finished_create_lands_on_the_same_booking(booking: ApiFunction[Any], acme: Tenant) -> None:
    events = subscribe(acme)
    sns = booking.aws.client("sns")

    def unreachable(**_: Any) -> None:
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="https://sns.unreachable.example")

    sns.meta.events.register_first("before-send.sns.Publish", unreachable)
    body = shipment()
    failed = create(booking, "key-retry", body=body)
    assert failed["statusCode"] == 503  # a dependency outage, not a bug
    assert len(details(acme)) == 1  # stored, but not yet announced
    sns.meta.events.unregister("before-send.sns.Publish", unreachable)
    retried = create(booking, "key-retry", body=body)
    assert retried["statusCode"] == 201
    assert len(details(acme)) == 1
    assert [e["data"]["booking_id"] for e in events()] == [response_json(retried)["booking_id"]]


def test_retry_completes_a_create_interrupted_between_its_writes(booking: ApiFunction[Any], acme: Tenant) -> None:
    dynamodb = booking.aws.client("dynamodb")
    puts: list[str] = []

    def fail_first_summary(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == acme.resources["booking"]["bookings_table"]:
            puts.append(params["Item"]["pk"]["S"])
            if len(puts) == 2:  # the details item went in; the first summary does not
                from botocore.exceptions import EndpointConnectionError

                raise EndpointConnectionError(endpoint_url="https://dynamodb.unreachable.example")

    dynamodb.meta.events.register("before-parameter-build.dynamodb.PutItem", fail_first_summary)
    body = shipment()
    assert create(booking, "key-half", body=body)["statusCode"] == 503
    assert sorted(item["pk"].split("#")[0] for item in table(acme, "bookings")) == ["BOOKING"]
    dynamodb.meta.events.unregister("before-parameter-build.dynamodb.PutItem", fail_first_summary)
    retried = create(booking, "key-half", body=body)
    assert retried["statusCode"] == 201
    assert sorted(item["pk"].split("#")[0] for item in table(acme, "bookings")) == ["BOOKING", "OWNER", "TENANT"]
    listed = response_json(send(booking, "GET", "/bookings"))["items"]
    assert [item["booking_id"] for item in listed] == [response_json(retried)["booking_id"]]


@pytest.mark.parametrize(("headers", "detail"), [({}, "Idempotency-Key"), ({"Idempotency-Key": "has space"}, "Idempotency-Key")], ids=["missing", "invalid"])
def test_create_needs_a_valid_idempotency_key(booking: ApiFunction[Any], acme: Tenant, headers: dict[str, str], detail: str) -> None:
    response = send(booking, "POST", "/bookings", body=shipment(), headers=headers)
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == detail
    assert table(acme, "bookings") == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"pickup_at": "2000-01-01T00:00:00+00:00"}, "pickup_at"), ({"pickup_at": "2999-01-01T00:00:00"}, "pickup_at"), ({"pickup": {"lat": 91, "lon": 0}}, "pickup.lat")],
    ids=["past-pickup", "naive-time", "bad-latitude"],
)
def test_create_bad_input_is_400(booking: ApiFunction[Any], acme: Tenant, overrides: dict[str, Any], field: str) -> None:
    response = create(booking, "key-bad", **overrides)
    assert response["statusCode"] == 400
    assert field in {d["field"] for d in response_json(response)["error"]["details"]}
    assert table(acme, "bookings") == []


# --- get and list --------------------------------------------------------------------------------


def test_get_returns_the_callers_booking(booking: ApiFunction[Any]) -> None:
    created = response_json(create(booking, "key-g"))
    response = send(booking, "GET", f"/bookings/{created['booking_id']}")
    assert response["statusCode"] == 200
    assert response_json(response) == created


def test_another_users_booking_looks_exactly_like_a_missing_one(booking: ApiFunction[Any]) -> None:
    created = response_json(create(booking, "key-o", user="user-1"))
    theirs = send(booking, "GET", f"/bookings/{created['booking_id']}", user="user-2")
    missing = send(booking, "GET", "/bookings/bk_aaaaaaaaaaaaaaaaaaaaaaaa", user="user-2")
    assert theirs["statusCode"] == missing["statusCode"] == 404
    assert response_json(theirs)["error"]["message"] == response_json(missing)["error"]["message"]
    malformed = send(booking, "GET", "/bookings/not-an-id")  # the id's shape is public: a 400 says nothing
    assert malformed["statusCode"] == 400
    assert [d["field"] for d in response_json(malformed)["error"]["details"]] == ["booking_id"]


def test_a_role_with_booking_manage_sees_every_booking_of_the_tenant(booking: ApiFunction[Any]) -> None:
    created = response_json(create(booking, "key-m", user="user-1"))
    response = send(booking, "GET", f"/bookings/{created['booking_id']}", user="dispatch-1", roles="dispatcher")
    assert response["statusCode"] == 200


def test_list_pages_through_own_bookings_newest_first(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.business.business_rules.page_size_default", 2)
    function = build(provision_tenant("acme", config=config), code_root)
    made = [response_json(create(function, f"key-{n}"))["booking_id"] for n in range(5)]
    create(function, "key-other", user="user-2")
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        response = send(function, "GET", "/bookings", query={"cursor": cursor} if cursor else None)
        assert response["statusCode"] == 200
        page = response_json(response)
        sizes.append(len(page["items"]))
        seen.extend(item["booking_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes[:3] == [2, 2, 1]
    assert seen == list(reversed(made))


def test_list_rejects_bad_limits_cursors_and_scopes(booking: ApiFunction[Any], acme: Tenant) -> None:
    page_max = acme.config["services"]["booking"]["business"]["business_rules"]["page_size_max"]
    assert send(booking, "GET", "/bookings", query={"limit": str(page_max + 1)})["statusCode"] == 400
    assert send(booking, "GET", "/bookings", query={"limit": "0"})["statusCode"] == 400
    assert send(booking, "GET", "/bookings", query={"cursor": "bm90LWEtY3Vyc29y"})["statusCode"] == 400
    assert send(booking, "GET", "/bookings", query={"scope": "everyone"})["statusCode"] == 400


def test_listing_the_whole_tenant_needs_booking_manage(booking: ApiFunction[Any]) -> None:
    create(booking, "key-t1", user="user-1")
    create(booking, "key-t2", user="user-2")
    assert send(booking, "GET", "/bookings", query={"scope": "tenant"}, roles="customer")["statusCode"] == 403
    response = send(booking, "GET", "/bookings", query={"scope": "tenant"}, user="dispatch-1", roles="dispatcher")
    assert {item["user_id"] for item in response_json(response)["items"]} == {"user-1", "user-2"}


def test_cursor_from_one_user_is_refused_for_another(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.business.business_rules.page_size_default", 1)
    function = build(provision_tenant("acme", config=config), code_root)
    create(function, "k1", user="user-1")
    create(function, "k2", user="user-1")
    cursor = response_json(send(function, "GET", "/bookings", user="user-1"))["next_cursor"]
    assert cursor
    assert send(function, "GET", "/bookings", user="user-2", query={"cursor": cursor})["statusCode"] == 400


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_inside_the_free_window_costs_nothing(booking: ApiFunction[Any], acme: Tenant) -> None:
    events = subscribe(acme)
    booking_id = response_json(create(booking, "key-c"))["booking_id"]
    events()
    response = send(booking, "POST", f"/bookings/{booking_id}/cancel")
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["status"] == "CANCELLED"
    assert (body["cancellation"]["free"], body["cancellation"]["fee_minor"]) == (True, 0)
    assert {item["status"] for item in table(acme, "bookings")} == {"CANCELLED"}
    assert [e["event_type"] for e in events()] == ["booking.cancelled"]
    again = send(booking, "POST", f"/bookings/{booking_id}/cancel")
    assert again["statusCode"] == 409


def test_cancel_after_the_window_charges_the_configured_fee(booking: ApiFunction[Any], acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    created = response_json(create(booking, "key-late"))
    sla = acme.config["services"]["booking"]["business"]["sla_definitions"]
    later = clock.utc_now() + timedelta(minutes=sla["free_cancellation_minutes"], seconds=5)
    monkeypatch.setattr(clock, "utc_now", lambda: later)
    response = send(booking, "POST", f"/bookings/{created['booking_id']}/cancel")
    assert response["statusCode"] == 200
    fee = response_json(response)["cancellation"]["fee_minor"]
    total = created["price"]["total_minor"]
    assert fee == (total * sla["cancellation_fee_basis_points"] + 5_000) // 10_000  # half-up
    assert fee > 0


def test_a_status_outside_the_sla_cannot_be_cancelled(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.business.sla_definitions.max_cancellable_status", ["CONFIRMED"])
    function = build(provision_tenant("acme", config=config), code_root)
    booking_id = response_json(create(function, "key-s"))["booking_id"]
    assert send(function, "POST", f"/bookings/{booking_id}/cancel")["statusCode"] == 409


def test_another_customer_cannot_cancel_and_learns_nothing(booking: ApiFunction[Any], acme: Tenant) -> None:
    booking_id = response_json(create(booking, "key-n", user="user-1"))["booking_id"]
    response = send(booking, "POST", f"/bookings/{booking_id}/cancel", user="user-2")
    assert response["statusCode"] == 404
    assert {item["status"] for item in table(acme, "bookings")} == {"PENDING"}


def test_a_role_without_cancel_is_denied(booking: ApiFunction[Any]) -> None:
    booking_id = response_json(create(booking, "key-d", user="user-1"))["booking_id"]
    assert send(booking, "POST", f"/bookings/{booking_id}/cancel", user="user-1", roles="driver")["statusCode"] == 403


# --- tenant isolation ----------------------------------------------------------------------------


def test_another_tenants_token_is_refused_with_nothing_read_or_written(booking: ApiFunction[Any], acme: Tenant) -> None:
    created = response_json(create(booking, "key-i"))
    before = (table(acme, "bookings"), table(acme, "audit"))
    dynamodb_calls = record_calls(booking.aws.client("dynamodb"))
    ssm_calls = record_calls(booking.config.provider.client)
    for method, path, body in [
        ("GET", f"/bookings/{created['booking_id']}", None),
        ("GET", "/bookings", None),
        ("POST", f"/bookings/{created['booking_id']}/cancel", None),
        ("POST", "/bookings", shipment()),
        ("POST", "/bookings/quote", {"distance_km": 1, "weight_kg": 1}),
    ]:
        response = send(booking, method, path, body=body, tenant="globex", roles="admin", headers={"Idempotency-Key": "key-i"})
        assert response["statusCode"] == 403
        assert created["booking_id"] not in response["body"]
    assert dynamodb_calls == [] and ssm_calls == []
    assert (table(acme, "bookings"), table(acme, "audit")) == before


def test_a_booking_of_tenant_a_does_not_exist_for_tenant_b(acme: Tenant, globex: Tenant, tmp_path: Path) -> None:
    acme_function = build(acme, tmp_path / "acme")
    globex_function = build(globex, tmp_path / "globex")
    booking_id = response_json(create(acme_function, "key-ab"))["booking_id"]
    response = send(globex_function, "GET", f"/bookings/{booking_id}", tenant="globex", roles="admin")
    assert response["statusCode"] == 404
    assert send(globex_function, "POST", f"/bookings/{booking_id}/cancel", tenant="globex", roles="admin")["statusCode"] == 404
    assert response_json(send(globex_function, "GET", "/bookings", query={"scope": "tenant"}, tenant="globex", roles="admin"))["items"] == []
    assert {item["status"] for item in table(acme, "bookings")} == {"PENDING"}


@pytest.mark.parametrize(
    "authorizer",
    [None, {"user_id": "user-1", "roles": "admin"}, {"tenant_id": "Acme", "user_id": "user-1", "roles": "admin"}, {"tenant_id": "acme", "roles": "admin"}],
    ids=["no-authorizer-context", "no-tenant-claim", "forged-tenant-spelling", "no-user"],
)
def test_missing_or_forged_tenant_claim_is_refused(booking: ApiFunction[Any], acme: Tenant, authorizer: dict[str, Any] | None) -> None:
    event = api_event("POST", "/bookings", body=shipment(), headers={"Idempotency-Key": "key-f"}, authorizer=authorizer)
    response = booking.lambda_handler(event, FakeLambdaContext())
    assert response["statusCode"] == 403
    assert table(acme, "bookings") == [] and table(acme, "audit") == []


# --- config service down, audit of every operation -----------------------------------------------


def test_config_service_down_uses_the_fallback_and_emits_the_metric(provision_tenant: Callable[..., Tenant], code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    function = build(tenant, code_root)
    ssm_outage(function.config.provider.client)
    response = send(function, "POST", "/bookings/quote", body={"distance_km": "12", "weight_kg": "100"})
    assert response["statusCode"] == 200
    assert response_json(response)["config_version"] == "fallback"
    expected = price_quote(QuoteRequest(distance_km="12", weight_kg="100"), pricing_of(tenant))
    assert response_json(response)["quote"]["total_minor"] == expected.total_minor
    assert table(tenant, "audit")[0]["config_version"] == "fallback"
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "ConfigurationError") >= 1


def test_every_operation_leaves_an_audit_record(booking: ApiFunction[Any], acme: Tenant) -> None:
    send(booking, "POST", "/bookings/quote", body={"distance_km": 1, "weight_kg": 1})
    booking_id = response_json(create(booking, "key-a"))["booking_id"]
    send(booking, "GET", f"/bookings/{booking_id}")
    send(booking, "GET", "/bookings")
    send(booking, "POST", f"/bookings/{booking_id}/cancel")
    send(booking, "POST", "/bookings/quote", body={"distance_km": -1, "weight_kg": 1})
    records = sorted(table(acme, "audit"), key=lambda r: r["occurred_at"])
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("booking:quote", "success"),
        ("booking:create", "success"),
        ("booking:read", "success"),
        ("booking:read", "success"),
        ("booking:cancel", "success"),
        ("booking:quote", "rejected"),
    ]
    assert all(r["tenant_id"] == "acme" and r["user_id"] == "user-1" and r["request_id"] and r["config_version"] for r in records)
    assert all("distance_km" not in json.dumps(r) for r in records)  # no payload in the audit trail


def test_metrics_carry_tenant_and_configured_namespace(booking: ApiFunction[Any], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    send(booking, "POST", "/bookings/quote", body={"distance_km": 1, "weight_kg": 1})
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == acme.config["services"]["observability"]["technical"]["metrics"]["namespace"]
    assert blob["tenant_id"] == "acme"
    assert "OperationSuccess" in metric_names(json.dumps(blob))


def test_module_handler_is_built_from_the_environment(acme: Tenant) -> None:
    module = import_handler("booking")  # imported as Lambda would, with AWS (moto) up
    assert module.function.env == FunctionEnvironment("booking", "dev", "acme", "INFO")
    event = api_event("POST", "/bookings/quote", body={"distance_km": 1, "weight_kg": 1}, authorizer=authorizer_for("acme"))
    assert module.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200
