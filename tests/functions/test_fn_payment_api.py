"""The payment API through its real handler, against moto and an in-process fake provider."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from common.api import ApiFunction
from common.dynamo_items import to_item
from payment.repository import PaymentRepository

from .conftest import REGION
from .fn_services import FakeProvider, call_api, provision_services, record_calls, subscribe_probe
from .fn_support import (
    FakeLambdaContext,
    Tenant,
    api_event,
    authorizer_for,
    build_function,
    emitted_metrics,
    import_handler,
    provision,
    metric_total,
    response_json,
    scan_all,
    set_in,
    ssm_outage,
    tenant_config,
)

payment_handler = import_handler("payment")
BOOKING = "bk_pay"
AMOUNT = 125_000  # antipattern: ignore[UT005] reason: a test input amount (under every tenant's max_amount_minor), not a platform value


# --- harness -------------------------------------------------------------------------------------


def provider_key(tenant_id: str) -> str:
    return f"{tenant_id}-provider-key"


def provisioned(provision_tenant: Callable[..., Tenant], tenant_id: str = "acme", config: dict[str, Any] | None = None) -> Tenant:
    tenant = provision_services(provision_tenant(tenant_id, config=config), REGION, api_key=provider_key(tenant_id))
    add_booking(tenant, BOOKING, owner="user-1")
    return tenant


def add_booking(tenant: Tenant, booking_id: str, owner: str, driver: str | None = None) -> None:
    """A booking's details item as the booking service stores it: its customer is ``user_id``."""
    item = {"pk": f"BOOKING#{booking_id}", "sk": "DETAILS", "booking_id": booking_id, "tenant_id": tenant.tenant_id, "user_id": owner, "driver_id": driver}
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=f"{tenant.prefix}-bookings", Item=to_item(item))


def build(tenant: Tenant, code_root: Path, provider: FakeProvider) -> ApiFunction[Any]:
    # No real waiting between retries: the backoff itself is common.retry's, tested there.
    return build_function(payment_handler, tenant, code_root, opener=provider, sleep=lambda _: None)


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def acme_payments(provision_tenant: Callable[..., Tenant]) -> Tenant:
    return provisioned(provision_tenant)


@pytest.fixture
def payment(acme_payments: Tenant, code_root: Path, provider: FakeProvider) -> ApiFunction[Any]:
    return build(acme_payments, code_root, provider)


def currency_of(tenant: Tenant) -> str:
    return str(tenant.config["services"]["payment"]["business"]["business_rules"]["currency"])


def authorize(function: ApiFunction[Any], key: str, amount: int = AMOUNT, currency: str = "INR", **options: Any) -> dict[str, Any]:
    body = {"booking_id": BOOKING, "amount_minor": amount, "currency": currency}
    return call_api(function, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": key}, **options)


def act(function: ApiFunction[Any], payment_id: str, action: str, key: str, body: Any = None, **options: Any) -> dict[str, Any]:
    return call_api(function, "POST", f"/payments/{payment_id}/{action}", body=body, headers={"Idempotency-Key": key}, **options)


def captured_payment(function: ApiFunction[Any], amount: int = AMOUNT) -> str:
    payment_id = response_json(authorize(function, "key-auth", amount))["payment_id"]
    assert act(function, payment_id, "capture", "key-capture")["statusCode"] == 200
    return str(payment_id)


def table(tenant: Tenant, kind: str) -> list[dict[str, Any]]:
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["payment"][f"{kind}_table"])


@contextmanager
def unreachable(client: Any, operation: str) -> Iterator[None]:
    """Inside the block, ``client``'s ``operation`` calls fail the way an unreachable endpoint does."""

    def fail(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://{client.meta.service_model.endpoint_prefix}.unreachable.example")

    event = f"before-send.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register_first(event, fail)
    try:
        yield
    finally:
        client.meta.events.unregister(event, fail)


@dataclass(frozen=True)
class SharedPayments:
    """One tenant for a whole module (provisioning takes seconds, a request milliseconds): tests
    that share it compare the tenant before and after each request, never against an empty one.
    The module must run as one xdist group so no other module's moto runs inside it."""

    tenant: Tenant
    payment: ApiFunction[Any]
    provider: FakeProvider


@contextmanager
def shared_payments(code_root: Path, config: dict[str, Any], driver: str | None = None) -> Iterator[SharedPayments]:
    """A moto of its own with acme provisioned from ``config``, the booking ``BOOKING`` of user-1
    (assigned to ``driver``), and the payment API built over a fake provider."""
    from moto import mock_aws

    with mock_aws():
        tenant = provision_services(provision("acme", "dev", config, REGION), REGION, api_key=provider_key("acme"))
        add_booking(tenant, BOOKING, owner="user-1", driver=driver)
        provider = FakeProvider()
        yield SharedPayments(tenant, build(tenant, code_root, provider), provider)


def shared_part(name: str) -> Any:
    """A fixture ``name`` (tenant, payment or provider) taken from the module's ``shared`` fixture."""

    @pytest.fixture(name=name)
    def part(shared: SharedPayments) -> Any:
        return getattr(shared, name)

    return part


def details(tenant: Tenant) -> list[dict[str, Any]]:
    return [item for item in table(tenant, "payments") if item["sk"] == "DETAILS"]


def markers(tenant: Tenant) -> list[dict[str, Any]]:
    """The unfinished operations' markers (``payment.repository``)."""
    return [item for item in table(tenant, "payments") if item["pk"] == "PENDING"]


# --- authorize -----------------------------------------------------------------------------------


def test_authorize_charges_the_provider_with_config_and_secret_stores_publishes_and_audits(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    response = authorize(payment, "key-1")
    assert response["statusCode"] == 201
    body = response_json(response)
    assert (body["status"], body["authorized_minor"], body["captured_minor"], body["currency"]) == ("AUTHORIZED", AMOUNT, 0, "INR")
    [call] = provider.calls
    config = acme_payments.config
    assert call.url == config["services"]["payment"]["integration"]["external_apis"]["provider_endpoint"] + "/authorizations"
    assert call.headers["authorization"] == f"Bearer {provider_key('acme')}"
    assert call.headers["idempotency-key"].startswith(body["payment_id"])
    assert call.timeout == config["global"]["operational"]["timeouts"]["provider_timeout_seconds"]
    assert (call.body["amount_minor"], call.body["currency"]) == (AMOUNT, "INR")
    [stored] = details(acme_payments)
    assert (stored["tenant_id"], stored["user_id"], stored["provider_authorization_id"]) == ("acme", "user-1", "auth_0")
    [event] = events()
    assert (event["event_type"], event["tenant_id"], event["data"]["payment_id"], event["data"]["amount_minor"]) == ("payment.authorized", "acme", body["payment_id"], AMOUNT)
    [audit] = table(acme_payments, "audit")
    assert (audit["action"], audit["outcome"], audit["resource_id"]) == ("payment:authorize", "success", body["payment_id"])
    assert provider_key("acme") not in str(audit)


def test_duplicate_charge_with_the_same_key_makes_exactly_one_provider_charge(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    first, second = authorize(payment, "key-dup"), authorize(payment, "key-dup")
    assert first["statusCode"] == second["statusCode"] == 201
    assert response_json(first) == response_json(second)
    assert provider.operations() == ["authorize"]
    assert len(details(acme_payments)) == 1


def test_same_key_with_another_amount_is_a_conflict_without_a_charge(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    authorize(payment, "key-x")
    response = authorize(payment, "key-x", amount=AMOUNT + 1)
    assert response["statusCode"] == 409
    assert provider.operations() == ["authorize"]
    assert len(details(acme_payments)) == 1


def test_an_event_lost_after_the_hold_goes_out_on_the_retry_without_asking_the_provider_again(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider
) -> None:
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    with unreachable(payment.aws.client("sns"), "Publish"):
        first = authorize(payment, "key-r")
    assert first["statusCode"] == 503 and "Retry-After" in str(first.get("multiValueHeaders") or first.get("headers"))
    [stored] = details(acme_payments)
    assert stored["status"] == "AUTHORIZED"  # charged and recorded; only the event is not out
    assert authorize(payment, "key-r")["statusCode"] == 201
    assert provider.operations() == ["authorize"]  # the retry finished the record's work, no second call
    assert [e["event_type"] for e in events()] == ["payment.authorized"]
    assert len(details(acme_payments)) == 1 and markers(acme_payments) == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"booking_id": "bk_1", "amount_minor": 10.5, "currency": "INR"}, {"amount_minor"}),
        ({"booking_id": "bk_1", "amount_minor": "1000", "currency": "INR"}, {"amount_minor"}),
        ({"booking_id": "bk_1", "amount_minor": 0, "currency": "INR"}, {"amount_minor"}),
        ({"booking_id": "bk_1", "amount_minor": 1000, "currency": "SGD"}, {"currency"}),
        ({"amount_minor": 1000, "currency": "INR"}, {"booking_id"}),
        ({"booking_id": "bk 1", "amount_minor": 1000, "currency": "INR"}, {"booking_id"}),
        ({"booking_id": "bk_1", "amount_minor": 1000, "currency": "INR", "tenant_id": "globex"}, {"tenant_id"}),
    ],
    ids=["fractional-amount", "amount-as-text", "zero-amount", "other-currency", "missing-booking", "bad-booking-id", "tenant-in-body"],
)
def test_bad_authorize_input_is_400_with_details_and_no_charge(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, body: dict[str, Any], fields: set[str]
) -> None:
    response = call_api(payment, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": "key-bad"})
    assert response["statusCode"] == 400
    assert {d["field"] for d in response_json(response)["error"]["details"]} == fields
    assert provider.calls == [] and table(acme_payments, "payments") == []


def test_the_largest_amount_and_the_currency_come_from_config(provision_tenant: Callable[..., Tenant], code_root: Path, provider: FakeProvider) -> None:
    rules = {"currency": "EUR", "max_amount_minor": 5000, "idempotency_expiry_seconds": 60}
    function = build(provisioned(provision_tenant, config=set_in(tenant_config("acme", "dev"), "services.payment.business.business_rules", rules)), code_root, provider)
    response = authorize(function, "key-max", amount=5001, currency="INR")
    assert {d["field"] for d in response_json(response)["error"]["details"]} == {"amount_minor", "currency"}
    assert authorize(function, "key-ok", amount=5000, currency="EUR")["statusCode"] == 201


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "has space"}], ids=["missing", "invalid"])
def test_every_charge_needs_a_valid_idempotency_key(payment: ApiFunction[Any], provider: FakeProvider, headers: dict[str, str]) -> None:
    body = {"booking_id": "bk_1", "amount_minor": 1000, "currency": "INR"}
    response = call_api(payment, "POST", "/payments/authorize", body=body, headers=headers)
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "Idempotency-Key"
    assert provider.calls == []


def test_a_decline_is_402_and_recorded_as_failed_and_a_retry_does_not_ask_again(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    provider.decline = True
    response = authorize(payment, "key-decline")
    assert response["statusCode"] == 402
    assert response_json(response)["error"]["code"] == "payment_declined"
    [stored] = details(acme_payments)
    assert (stored["status"], stored["failure_reason"]) == ("FAILED", "declined")
    assert markers(acme_payments) == []
    provider.decline = False
    assert authorize(payment, "key-decline")["statusCode"] == 402
    assert provider.operations() == ["authorize"]
    view = response_json(call_api(payment, "GET", f"/payments/{stored['payment_id']}"))
    assert (view["status"], view["failure_reason"]) == ("FAILED", "declined")


# --- capture -------------------------------------------------------------------------------------


def test_capture_takes_the_authorized_amount_once_and_publishes(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    response = act(payment, payment_id, "capture", "key-c")
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["status"], body["captured_minor"], body["refundable_minor"]) == ("CAPTURED", AMOUNT, AMOUNT)
    assert provider.operations() == ["authorize", "capture"]
    assert provider.calls[1].url.endswith("/authorizations/auth_0/capture")
    assert [(e["event_type"], e["data"]["amount_minor"]) for e in events()] == [("payment.authorized", AMOUNT), ("payment.captured", AMOUNT)]
    assert act(payment, payment_id, "capture", "key-c")["statusCode"] == 200  # a replay, not a second capture
    again = act(payment, payment_id, "capture", "key-c2")
    assert again["statusCode"] == 409
    assert provider.operations() == ["authorize", "capture"]


def test_partial_capture_and_capture_over_the_authorization(payment: ApiFunction[Any], provider: FakeProvider) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    over = act(payment, payment_id, "capture", "key-over", body={"amount_minor": AMOUNT + 1})
    assert over["statusCode"] == 409
    assert response_json(over)["error"]["details"][0]["field"] == "amount_minor"
    assert provider.operations() == ["authorize"]
    part = act(payment, payment_id, "capture", "key-part", body={"amount_minor": AMOUNT - 1000})
    assert response_json(part)["captured_minor"] == AMOUNT - 1000


def test_capture_bad_input_is_400(payment: ApiFunction[Any], provider: FakeProvider) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    response = act(payment, payment_id, "capture", "key-bad", body={"amount_minor": -5})
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "amount_minor"
    assert provider.operations() == ["authorize"]


# --- refund --------------------------------------------------------------------------------------


def test_refunds_up_to_the_capture_then_refund_over_capture_is_refused_with_nothing_written(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider
) -> None:
    payment_id = captured_payment(payment)
    first = act(payment, payment_id, "refund", "key-r1", body={"amount_minor": 25_000})
    assert first["statusCode"] == 201
    assert response_json(first)["payment"]["status"] == "PARTIALLY_REFUNDED"
    rest = act(payment, payment_id, "refund", "key-r2", body={"amount_minor": AMOUNT - 25_000})
    assert response_json(rest)["payment"]["status"] == "REFUNDED"
    assert response_json(rest)["refund"]["status"] == "SUCCEEDED"
    before = table(acme_payments, "payments")
    over = act(payment, payment_id, "refund", "key-r3", body={"amount_minor": 1})
    assert over["statusCode"] == 409
    assert response_json(over)["error"]["details"][0]["field"] == "amount_minor"
    assert table(acme_payments, "payments") == before
    assert provider.operations().count("refund") == 2


def test_a_single_refund_over_the_capture_is_refused_before_the_provider_is_asked(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    payment_id = captured_payment(payment)
    before = table(acme_payments, "payments")
    response = act(payment, payment_id, "refund", "key-big", body={"amount_minor": AMOUNT + 1})
    assert response["statusCode"] == 409
    assert table(acme_payments, "payments") == before
    assert "refund" not in provider.operations()


def test_concurrent_refunds_cannot_together_exceed_the_capture(payment: ApiFunction[Any], acme_payments: Tenant) -> None:
    payment_id = captured_payment(payment, amount=100)
    repository = PaymentRepository(boto3.client("dynamodb", region_name=REGION), acme_payments.resources["payment"]["payments_table"])
    refund = {"payment_id": payment_id, "tenant_id": "acme", "amount_minor": 60, "status": "PENDING", "created_at": "t"}
    # Both read "100 refundable" before either writes; the condition, not the read, decides.
    assert repository.reserve_refund({**refund, "refund_id": "rf_a"}) is True
    assert repository.reserve_refund({**refund, "refund_id": "rf_b"}) is False
    stored = repository.get(payment_id)
    assert stored is not None and (stored["refunded_minor"], stored["refundable_minor"]) == (60, 40)


def test_a_refund_the_provider_declines_gives_the_reservation_back(payment: ApiFunction[Any], provider: FakeProvider) -> None:
    payment_id = captured_payment(payment)
    provider.fail_with = 402
    assert act(payment, payment_id, "refund", "key-d", body={"amount_minor": 1000})["statusCode"] == 402
    provider.fail_with = None
    view = response_json(call_api(payment, "GET", f"/payments/{payment_id}"))
    assert (view["refunded_minor"], view["refundable_minor"], [r["status"] for r in view["refunds"]]) == (0, AMOUNT, ["FAILED"])


def test_refund_of_an_uncaptured_payment_is_a_conflict(payment: ApiFunction[Any]) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    assert act(payment, payment_id, "refund", "key-r", body={"amount_minor": 1})["statusCode"] == 409


# --- provider outages ----------------------------------------------------------------------------


def test_provider_outage_retries_then_opens_the_circuit(provision_tenant: Callable[..., Tenant], code_root: Path, provider: FakeProvider) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.payment.technical.circuit_breakers", {"failure_threshold": 2, "reset_seconds": 60})
    tenant = provisioned(provision_tenant, config=config)
    function = build(tenant, code_root, provider)
    attempts = tenant.config["global"]["operational"]["retry_policies"]["max_attempts"]
    provider.fail_with = "unreachable"
    for n in range(2):
        response = authorize(function, f"key-{n}")
        assert response["statusCode"] == 503
        assert response_json(response)["error"]["code"] == "provider_unavailable"
    assert len(provider.calls) == 2 * attempts
    provider.fail_with = None
    assert authorize(function, "key-open")["statusCode"] == 503  # open: refused without a call
    assert len(provider.calls) == 2 * attempts
    # Each intent was stored before the provider was asked, and is pending: nothing was charged.
    assert sorted(p["status"] for p in details(tenant)) == ["AUTHORIZING"] * 3
    assert len(markers(tenant)) == 3


# --- get -----------------------------------------------------------------------------------------


def test_get_returns_the_payment_and_its_refunds(payment: ApiFunction[Any]) -> None:
    payment_id = captured_payment(payment)
    act(payment, payment_id, "refund", "key-r", body={"amount_minor": 500})
    response = call_api(payment, "GET", f"/payments/{payment_id}")
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["payment_id"], body["refunded_minor"], len(body["refunds"])) == (payment_id, 500, 1)


def test_another_users_payment_looks_exactly_like_a_missing_one(payment: ApiFunction[Any]) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    theirs = call_api(payment, "GET", f"/payments/{payment_id}", user="user-2", roles="customer")
    missing = call_api(payment, "GET", "/payments/pay_missing", user="user-2", roles="customer")
    assert theirs["statusCode"] == missing["statusCode"] == 404
    assert response_json(theirs)["error"]["message"] == response_json(missing)["error"]["message"]
    assert call_api(payment, "GET", f"/payments/{payment_id}", user="ops-1", roles="admin")["statusCode"] == 200


# --- tenant isolation ----------------------------------------------------------------------------


def test_another_tenants_token_is_refused_with_nothing_read_or_written(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    payment_id = captured_payment(payment)
    before = (table(acme_payments, "payments"), table(acme_payments, "audit"), len(provider.calls))
    calls = [record_calls(payment.aws.client(name)) for name in ("dynamodb", "secretsmanager", "sns")] + [record_calls(payment.config.provider.client)]
    for action, body in [("authorize", {"booking_id": "bk_1", "amount_minor": 1, "currency": "INR"}), (f"{payment_id}/capture", None), (f"{payment_id}/refund", {"amount_minor": 1})]:
        response = call_api(payment, "POST", f"/payments/{action}", body=body, tenant="globex", roles="admin", headers={"Idempotency-Key": "key-g"})
        assert response["statusCode"] == 403
    assert call_api(payment, "GET", f"/payments/{payment_id}", tenant="globex", roles="admin")["statusCode"] == 403
    assert all(recorded == [] for recorded in calls)
    assert (table(acme_payments, "payments"), table(acme_payments, "audit"), len(provider.calls)) == before


def test_a_payment_of_tenant_a_does_not_exist_for_tenant_b(provision_tenant: Callable[..., Tenant], tmp_path: Path, provider: FakeProvider) -> None:
    acme, globex = provisioned(provision_tenant, "acme"), provisioned(provision_tenant, "globex")
    acme_function, globex_function = build(acme, tmp_path / "acme", provider), build(globex, tmp_path / "globex", provider)
    payment_id = captured_payment(acme_function)
    assert call_api(globex_function, "GET", f"/payments/{payment_id}", tenant="globex", roles="admin")["statusCode"] == 404
    refund = act(globex_function, payment_id, "refund", "key-x", body={"amount_minor": 1}, tenant="globex", roles="admin")
    assert refund["statusCode"] == 404
    assert provider.operations() == ["authorize", "capture"]


@pytest.mark.parametrize(
    "authorizer",
    [None, {"user_id": "user-1", "roles": "admin"}, {"tenant_id": "acme ", "user_id": "user-1", "roles": "admin"}, {"tenant_id": "acme", "roles": "admin"}],
    ids=["no-authorizer-context", "no-tenant-claim", "forged-tenant-spelling", "no-user"],
)
def test_missing_or_forged_tenant_claim_is_refused(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, authorizer: dict[str, Any] | None) -> None:
    body = {"booking_id": "bk_1", "amount_minor": 1000, "currency": "INR"}
    event = api_event("POST", "/payments/authorize", body=body, headers={"Idempotency-Key": "key-f"}, authorizer=authorizer)
    assert payment.lambda_handler(event, FakeLambdaContext())["statusCode"] == 403
    assert provider.calls == [] and table(acme_payments, "payments") == [] and table(acme_payments, "audit") == []


# --- config, secret cache, audit -----------------------------------------------------------------


def test_config_service_down_uses_the_fallback_and_emits_the_metric(
    provision_tenant: Callable[..., Tenant], code_root: Path, provider: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = provisioned(provision_tenant, config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    function = build(tenant, code_root, provider)
    ssm_outage(function.config.provider.client)
    response = authorize(function, "key-fb", currency=currency_of(tenant))
    assert response["statusCode"] == 201
    assert provider.calls[0].url.startswith(tenant.config["services"]["payment"]["integration"]["external_apis"]["provider_endpoint"])
    assert table(tenant, "audit")[0]["config_version"] == "fallback"
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "ConfigurationError") >= 1


def test_the_provider_api_key_is_read_once_and_cached(payment: ApiFunction[Any]) -> None:
    secret_reads = record_calls(payment.aws.client("secretsmanager"))
    authorize(payment, "key-1")
    authorize(payment, "key-2")
    assert secret_reads == ["GetSecretValue"]


def test_every_operation_leaves_an_audit_record(payment: ApiFunction[Any], acme_payments: Tenant) -> None:
    payment_id = captured_payment(payment)
    act(payment, payment_id, "refund", "key-r", body={"amount_minor": 100})
    call_api(payment, "GET", f"/payments/{payment_id}")
    act(payment, payment_id, "refund", "key-over", body={"amount_minor": AMOUNT})
    records = sorted(table(acme_payments, "audit"), key=lambda r: r["occurred_at"])
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("payment:authorize", "success"),
        ("payment:capture", "success"),
        ("payment:refund", "success"),
        ("payment:read", "success"),
        ("payment:refund", "conflict"),
    ]
    assert all(r["tenant_id"] == "acme" and r["resource_id"] == payment_id and r["config_version"] for r in records[1:])


def test_module_handler_is_built_from_the_environment(acme_payments: Tenant) -> None:
    module = import_handler("payment")
    event = api_event("GET", "/payments/pay_missing", authorizer=authorizer_for("acme"))
    assert module.lambda_handler(event, FakeLambdaContext())["statusCode"] == 404
