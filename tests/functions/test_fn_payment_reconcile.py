"""Write-ahead payments and the reconciler, through the real API handler and the real scheduled
reconciler handler, against moto and the in-process fake provider.

The provider fails at each step of each operation: before it acts (unreachable), during (it acts,
and the answer is lost), after (it acts and answers, and completing the record fails). Each time
the API answers honestly (503 with ``Retry-After``, the pending record visible in ``GET``), and
the reconciler then settles the record against the provider's own result for the idempotency
key: the hold, capture or refund is made once, never twice. An intent that cannot be stored
means the provider is never called.
"""

from __future__ import annotations

import importlib
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import boto3
import pytest

from common import clock
from common.api import ApiFunction

from .conftest import REGION
from .fn_services import FakeProvider, call_api, subscribe_probe
from .fn_support import FakeLambdaContext, Tenant, build_function, import_handler, patched_environ, response_json, set_in, tenant_config
from .test_fn_payment_api import AMOUNT, act, authorize, build, captured_payment, details, markers, provisioned, table, unreachable

#: Far enough in the future that every intent a test made is older than the config's cut-off.
LATER = timedelta(days=1)


def import_reconciler() -> ModuleType:
    """``payment.reconciler`` imported under the environment its Lambda function has."""
    import_handler("payment")  # makes ``payment`` the function package, as in Lambda
    with patched_environ({"SERVICE_NAME": "payment", "ENVIRONMENT": "dev", "CONFIG_SERVICE_URL": "ssm:///acme"}):
        return importlib.reload(importlib.import_module("payment.reconciler"))


reconciler_module = import_reconciler()


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def acme_payments(provision_tenant: Callable[..., Tenant]) -> Tenant:
    return provisioned(provision_tenant)


@pytest.fixture
def payment(acme_payments: Tenant, code_root: Path, provider: FakeProvider) -> ApiFunction[Any]:
    return build(acme_payments, code_root, provider)


@pytest.fixture
def reconcile(acme_payments: Tenant, tmp_path: Path, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Run the scheduled reconciler function once, ``later`` from now (its own clients and breaker)."""
    from payment.circuit_breaker import CircuitBreaker
    from payment.provider import ProviderClient

    function = build_function(reconciler_module, acme_payments, tmp_path / "reconciler", provider=ProviderClient(breaker=CircuitBreaker(), opener=provider, sleep=lambda _: None))

    def run(later: timedelta = LATER, context: Any = None) -> dict[str, Any]:
        moved = clock.utc_now() + later
        with monkeypatch.context() as patch:
            patch.setattr(clock, "utc_now", lambda: moved)
            return dict(function.lambda_handler({"source": "aws.events"}, context or FakeLambdaContext()))

    return run


def fail_step(step: str, function: ApiFunction[Any], provider: FakeProvider) -> Callable[[], None]:
    """Arrange the provider (or the store) to fail at ``step``; returns what puts it right."""
    if step == "before":
        provider.fail_with = "unreachable"
        return lambda: setattr(provider, "fail_with", None)
    if step == "during":
        provider.lose_answers = True
        return lambda: setattr(provider, "lose_answers", False)
    outage = ExitStack()
    outage.enter_context(unreachable(function.aws.client("dynamodb"), "UpdateItem"))
    return outage.close


def assert_unavailable(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503
    assert "Retry-After" in (response.get("multiValueHeaders") or response.get("headers") or {})


def get(function: ApiFunction[Any], payment_id: str) -> dict[str, Any]:
    response = call_api(function, "GET", f"/payments/{payment_id}")
    assert response["statusCode"] == 200
    return dict(response_json(response))


# --- authorize -----------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["before", "during", "after"])
def test_an_authorization_cut_short_is_pending_and_the_reconciler_completes_it_with_one_hold(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]], step: str
) -> None:
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    restore = fail_step(step, payment, provider)
    assert_unavailable(authorize(payment, "key-a"))
    restore()
    [pending] = details(acme_payments)
    assert get(payment, pending["payment_id"])["status"] == "AUTHORIZING"
    assert provider.effects() == ([] if step == "before" else [f"{pending['payment_id']}:authorize"])
    assert len(markers(acme_payments)) == 1 and events() == []

    assert reconcile() == {"operations": 1, "still_pending": 0}

    view = get(payment, pending["payment_id"])
    assert (view["status"], view["authorized_minor"]) == ("AUTHORIZED", AMOUNT)
    assert provider.effects() == [f"{pending['payment_id']}:authorize"]  # one hold, found again by its key
    [stored] = details(acme_payments)
    assert stored["provider_authorization_id"] == "auth_0"
    assert markers(acme_payments) == []
    [event] = events()
    assert (event["event_type"], event["event_id"], event["data"]["amount_minor"]) == ("payment.authorized", f"{pending['payment_id']}:payment.authorized", AMOUNT)
    audit = [r for r in table(acme_payments, "audit") if r["action"] == "payment:reconcile"]
    assert [(r["outcome"], r["resource_id"], r["user_id"]) for r in audit] == [("success", pending["payment_id"], "events.amazonaws.com")]
    assert reconcile() == {"operations": 0, "still_pending": 0}


def test_an_authorization_the_provider_declines_when_reconciled_is_failed_without_an_event(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]
) -> None:
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    provider.fail_with = "unreachable"
    assert_unavailable(authorize(payment, "key-a"))
    provider.fail_with, provider.decline = None, True
    assert reconcile() == {"operations": 1, "still_pending": 0}
    [stored] = details(acme_payments)
    assert (stored["status"], stored["failure_reason"]) == ("FAILED", "declined")
    assert markers(acme_payments) == [] and events() == [] and provider.effects() == []


def test_an_authorization_still_unreachable_stays_pending_for_the_next_run(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]
) -> None:
    provider.fail_with = "unreachable"
    assert_unavailable(authorize(payment, "key-a"))
    assert reconcile() == {"operations": 1, "still_pending": 1}
    assert [p["status"] for p in details(acme_payments)] == ["AUTHORIZING"] and len(markers(acme_payments)) == 1
    audit = [r for r in table(acme_payments, "audit") if r["action"] == "payment:reconcile"]
    assert [r["outcome"] for r in audit] == ["error"]


def test_the_client_retry_with_the_same_key_completes_it_too_and_the_reconciler_then_finds_nothing(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]
) -> None:
    provider.lose_answers = True
    assert_unavailable(authorize(payment, "key-a"))
    provider.lose_answers = False
    retry = authorize(payment, "key-a")
    assert retry["statusCode"] == 201 and response_json(retry)["status"] == "AUTHORIZED"
    assert len(provider.effects()) == 1
    assert reconcile() == {"operations": 0, "still_pending": 0}


def test_a_young_intent_is_left_to_its_own_request(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]) -> None:
    provider.fail_with = "unreachable"
    assert_unavailable(authorize(payment, "key-a"))
    provider.fail_with = None
    minutes = acme_payments.config["services"]["payment"]["technical"]["reconciliation"]["settle_after_minutes"]
    assert reconcile(later=timedelta(minutes=minutes) - timedelta(seconds=1)) == {"operations": 0, "still_pending": 0}
    assert [p["status"] for p in details(acme_payments)] == ["AUTHORIZING"]
    assert reconcile(later=timedelta(minutes=minutes) + timedelta(seconds=1)) == {"operations": 1, "still_pending": 0}


def test_a_run_short_of_time_starts_nothing(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]) -> None:
    provider.fail_with = "unreachable"
    assert_unavailable(authorize(payment, "key-a"))
    provider.fail_with = None
    calls = len(provider.calls)
    assert reconcile(context=FakeLambdaContext(remaining_millis=1)) == {"operations": 0, "still_pending": 0}
    assert len(provider.calls) == calls and [p["status"] for p in details(acme_payments)] == ["AUTHORIZING"]


@pytest.mark.parametrize(
    ("operation", "action"),
    [("authorize", None), ("capture", "capture"), ("refund", "refund")],
)
def test_an_intent_that_cannot_be_stored_never_reaches_the_provider(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, operation: str, action: str | None
) -> None:
    payment_id = captured_payment(payment) if operation == "refund" else response_json(authorize(payment, "key-first"))["payment_id"]
    calls, before = len(provider.calls), table(acme_payments, "payments")
    with unreachable(payment.aws.client("dynamodb"), "TransactWriteItems"):
        if action is None:
            response = authorize(payment, "key-new")
        else:
            response = act(payment, payment_id, action, "key-new", body={"amount_minor": 1000} if action == "refund" else None)
    assert_unavailable(response)
    assert len(provider.calls) == calls  # the provider was never asked
    assert table(acme_payments, "payments") == before  # and nothing was written


# --- capture -------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["before", "during", "after"])
def test_a_capture_cut_short_is_pending_and_the_reconciler_completes_it_once(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]], step: str
) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    restore = fail_step(step, payment, provider)
    assert_unavailable(act(payment, payment_id, "capture", "key-c", body={"amount_minor": AMOUNT - 5}))
    restore()
    view = get(payment, payment_id)
    assert (view["status"], view["pending_capture_minor"], view["captured_minor"]) == ("CAPTURING", AMOUNT - 5, 0)
    captures = [k for k in provider.effects() if k.endswith(":capture")]
    assert len(captures) == (0 if step == "before" else 1)

    assert reconcile() == {"operations": 1, "still_pending": 0}

    view = get(payment, payment_id)
    assert (view["status"], view["captured_minor"], view["refundable_minor"], view["pending_capture_minor"]) == ("CAPTURED", AMOUNT - 5, AMOUNT - 5, None)
    assert len([k for k in provider.effects() if k.endswith(":capture")]) == 1
    assert markers(acme_payments) == []
    assert [(e["event_type"], e["data"]["amount_minor"]) for e in events()] == [("payment.captured", AMOUNT - 5)]


def test_a_capture_the_provider_refuses_when_reconciled_goes_back_to_authorized(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]
) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    provider.fail_with = "unreachable"
    assert_unavailable(act(payment, payment_id, "capture", "key-c"))
    provider.fail_with = 400
    assert reconcile() == {"operations": 1, "still_pending": 0}
    view = get(payment, payment_id)
    assert (view["status"], view["captured_minor"], view["pending_capture_minor"]) == ("AUTHORIZED", 0, None)
    provider.fail_with = None
    assert act(payment, payment_id, "capture", "key-c2")["statusCode"] == 200  # a new capture may go ahead


def test_another_capture_while_one_is_pending_is_a_conflict(payment: ApiFunction[Any], provider: FakeProvider) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    provider.fail_with = "unreachable"
    assert_unavailable(act(payment, payment_id, "capture", "key-c"))
    provider.fail_with = None
    assert act(payment, payment_id, "capture", "key-other")["statusCode"] == 409
    assert act(payment, payment_id, "capture", "key-c")["statusCode"] == 200  # the retry of the pending one


# --- refund --------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["before", "during", "after"])
def test_a_refund_cut_short_keeps_its_reservation_and_the_reconciler_pays_it_out_once(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]], step: str
) -> None:
    payment_id = captured_payment(payment)
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    restore = fail_step(step, payment, provider)
    assert_unavailable(act(payment, payment_id, "refund", "key-r", body={"amount_minor": 1000}))
    restore()
    view = get(payment, payment_id)
    assert (view["refunded_minor"], view["refundable_minor"], [r["status"] for r in view["refunds"]]) == (1000, AMOUNT - 1000, ["PENDING"])

    assert reconcile() == {"operations": 1, "still_pending": 0}

    view = get(payment, payment_id)
    assert (view["refunded_minor"], view["refundable_minor"], [r["status"] for r in view["refunds"]]) == (1000, AMOUNT - 1000, ["SUCCEEDED"])
    assert len([k for k in provider.effects() if k.endswith(":refund")]) == 1
    assert markers(acme_payments) == []
    [event] = events()
    assert (event["event_type"], event["data"]["amount_minor"]) == ("payment.refunded", 1000)


def test_a_refund_refused_when_reconciled_is_released_exactly_once(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]
) -> None:
    payment_id = captured_payment(payment)
    provider.fail_with = "unreachable"
    assert_unavailable(act(payment, payment_id, "refund", "key-r", body={"amount_minor": 1000}))
    provider.fail_with = 402
    assert reconcile() == {"operations": 1, "still_pending": 0}
    view = get(payment, payment_id)
    assert (view["refunded_minor"], view["refundable_minor"], [r["status"] for r in view["refunds"]]) == (0, AMOUNT, ["FAILED"])
    # The same key again: the refund failed for good, nothing is released a second time.
    provider.fail_with = None
    assert act(payment, payment_id, "refund", "key-r", body={"amount_minor": 1000})["statusCode"] == 409
    assert reconcile() == {"operations": 0, "still_pending": 0}
    view = get(payment, payment_id)
    assert (view["refunded_minor"], view["refundable_minor"]) == (0, AMOUNT)


def test_settling_a_released_refund_again_releases_nothing(payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider) -> None:
    """Two reconcilers (or a reconciler and a retry) on one refund: the second changes nothing."""
    from payment.repository import PaymentRepository

    payment_id = captured_payment(payment)
    provider.fail_with = "unreachable"
    assert_unavailable(act(payment, payment_id, "refund", "key-r", body={"amount_minor": 1000}))
    repository = PaymentRepository(boto3.client("dynamodb", region_name=REGION), acme_payments.resources["payment"]["payments_table"])
    [refund] = repository.refunds(payment_id)
    assert repository.release_refund(payment_id, refund["refund_id"], 1000, "refused") is True
    assert repository.release_refund(payment_id, refund["refund_id"], 1000, "refused") is False
    stored = repository.get(payment_id)
    assert stored is not None and (stored["refunded_minor"], stored["refundable_minor"]) == (0, AMOUNT)


def test_config_sets_how_many_operations_one_run_settles(provision_tenant: Callable[..., Tenant], code_root: Path, tmp_path: Path, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    from payment.circuit_breaker import CircuitBreaker
    from payment.provider import ProviderClient

    config = set_in(tenant_config("acme", "dev"), "services.payment.technical.reconciliation.max_operations_per_run", 2)
    tenant = provisioned(provision_tenant, config=config)
    function = build(tenant, code_root, provider)
    provider.fail_with = "unreachable"
    for n in range(3):
        assert_unavailable(authorize(function, f"key-{n}"))
    provider.fail_with = None
    scheduled = build_function(reconciler_module, tenant, tmp_path / "r", provider=ProviderClient(breaker=CircuitBreaker(), opener=provider, sleep=lambda _: None))
    moved: datetime = clock.utc_now() + LATER
    monkeypatch.setattr(clock, "utc_now", lambda: moved)
    assert scheduled.lambda_handler({}, FakeLambdaContext()) == {"operations": 2, "still_pending": 0}
    assert scheduled.lambda_handler({}, FakeLambdaContext()) == {"operations": 1, "still_pending": 0}
    assert sorted(p["status"] for p in details(tenant)) == ["AUTHORIZED"] * 3


def test_an_event_lost_after_the_record_was_completed_is_published_by_the_reconciler(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]
) -> None:
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    with unreachable(payment.aws.client("sns"), "Publish"):
        assert_unavailable(authorize(payment, "key-a"))
    [stored] = details(acme_payments)
    assert stored["status"] == "AUTHORIZED" and len(markers(acme_payments)) == 1
    calls = len(provider.calls)
    assert reconcile() == {"operations": 1, "still_pending": 0}
    assert len(provider.calls) == calls  # settled already: the provider is not asked again
    assert [e["event_type"] for e in events()] == ["payment.authorized"]
    assert markers(acme_payments) == []


def test_a_marker_whose_record_is_gone_is_dropped(acme_payments: Tenant, reconcile: Callable[..., dict[str, Any]]) -> None:
    from payment.repository import Marker, PaymentRepository

    repository = PaymentRepository(boto3.client("dynamodb", region_name=REGION), acme_payments.resources["payment"]["payments_table"])
    marker = Marker.start(clock.utc_now(), "pay_gone", "authorize")
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=acme_payments.resources["payment"]["payments_table"], Item=marker.item())
    assert reconcile() == {"operations": 1, "still_pending": 0}
    assert repository.markers_before(clock.utc_now() + LATER, 10) == [] and markers(acme_payments) == []


def test_a_retry_of_a_pending_capture_with_another_amount_is_a_conflict(payment: ApiFunction[Any], provider: FakeProvider) -> None:
    payment_id = response_json(authorize(payment, "key-a"))["payment_id"]
    provider.fail_with = "unreachable"
    assert_unavailable(act(payment, payment_id, "capture", "key-c", body={"amount_minor": 1000}))
    provider.fail_with = None
    assert act(payment, payment_id, "capture", "key-c", body={"amount_minor": 2000})["statusCode"] == 409
    assert get(payment, payment_id)["pending_capture_minor"] == 1000
    assert response_json(act(payment, payment_id, "capture", "key-c", body={"amount_minor": 1000}))["captured_minor"] == 1000


def test_each_operation_settles_its_own_marker_when_an_authorization_and_a_capture_are_both_unfinished(
    payment: ApiFunction[Any], acme_payments: Tenant, provider: FakeProvider, reconcile: Callable[..., dict[str, Any]]
) -> None:
    events = subscribe_probe(acme_payments.resources["payment"]["events_topic_arn"], REGION)
    with unreachable(payment.aws.client("sns"), "Publish"):
        assert_unavailable(authorize(payment, "key-a"))  # authorized; its event (and marker) left
    [stored] = details(acme_payments)
    provider.fail_with = "unreachable"
    assert_unavailable(act(payment, stored["payment_id"], "capture", "key-c"))
    provider.fail_with = None
    # The authorization retried once its idempotency record is gone: it leaves the capture alone.
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for item in dynamodb.scan(TableName=acme_payments.resources["payment"]["idempotency_table"])["Items"]:
        dynamodb.delete_item(TableName=acme_payments.resources["payment"]["idempotency_table"], Key={"id": item["id"]})
    assert authorize(payment, "key-a")["statusCode"] == 201
    assert sorted(m["operation"] for m in markers(acme_payments)) == ["authorize", "capture"]
    calls = len(provider.calls)
    assert reconcile() == {"operations": 2, "still_pending": 0}
    assert len(provider.calls) == calls + 1  # the capture, asked once: for its own marker only
    assert get(payment, stored["payment_id"])["status"] == "CAPTURED"
    assert sorted(e["event_type"] for e in events()) == ["payment.authorized", "payment.captured"]
    assert markers(acme_payments) == []

