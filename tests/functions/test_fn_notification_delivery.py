"""Each event goes out at most once per channel: redeliveries, failed sends, concurrent deliveries,
and deliveries that crashed mid-send.

Through the real handler on moto, with the tenant's idempotency table holding the send claims.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from common import clock
from common.idempotency import IdempotentCall
from common.runtime import FunctionRuntime

from .conftest import REGION
from .fn_notification import SENDER, audit, build, consume, customer, email_destinations, envelope, failed_ids, provisioned, sqs_event
from .fn_services import subscribe_probe
from .fn_support import DEFAULTS, FakeLambdaContext, Tenant, emitted_metrics, metric_total, scan_all, set_in, tenant_config, write_parameters


class Crash(BaseException):
    """The invocation dies (a timeout, the runtime killed): no handler of the function runs."""


def retention_of(tenant: Tenant) -> int:
    return int(tenant.config["services"]["notification"]["business"]["sent_record_retention_seconds"])


@pytest.fixture
def tenant(provision_tenant: Callable[..., Tenant]) -> Tenant:
    """acme with both channels for new bookings, an SES sender and a retention of its own."""
    config = set_in(tenant_config("acme", "dev"), "services.notification.integration.service_endpoints.ses_sender", SENDER)
    config = set_in(config, "services.notification.business.channels.booking_created", ["sns", "ses"])
    kept = int(DEFAULTS["tenant_config"]["services"]["notification"]["business"]["sent_record_retention_seconds"]) + 3600
    config = set_in(config, "services.notification.business.sent_record_retention_seconds", kept)
    return provisioned(provision_tenant, config=config)


@pytest.fixture
def user(tenant: Tenant) -> str:
    return customer(tenant, email="ravi@example.com")


@pytest.fixture
def function(tenant: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    return build(tenant, code_root)


@pytest.fixture
def outbound(tenant: Tenant) -> Callable[[], list[dict[str, Any]]]:
    return subscribe_probe(tenant.resources["notification"]["outbound_topic_arn"], REGION)


def verify_sender() -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)


def send_records(tenant: Tenant) -> list[dict[str, Any]]:
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["notification"]["idempotency_table"])


def test_a_redelivered_event_sends_nothing_the_second_time_on_either_channel(
    function: FunctionRuntime[Any], tenant: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    verify_sender()
    emails = email_destinations(function)
    event = envelope(user, booking_id="bk_7")
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    capsys.readouterr()
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    assert [m["event_id"] for m in outbound()] == [event["event_id"]]
    assert emails == [["ravi@example.com"]]
    assert sorted(r["outcome"] for r in audit(tenant)) == ["repeated", "success"]
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "NotificationRepeatSuppressed") == 2
    assert metric_total(blob, "NotificationSent") == 0


def test_the_same_event_twice_in_one_batch_is_sent_once(function: FunctionRuntime[Any], user: str, outbound: Callable[[], list[dict[str, Any]]]) -> None:
    verify_sender()
    emails = email_destinations(function)
    event = envelope(user)
    assert consume(function, sqs_event(event, event)) == {"batchItemFailures": []}
    assert len(outbound()) == 1
    assert len(emails) == 1


def test_a_failed_send_is_retried_and_then_sent_once_while_the_channel_that_went_out_is_not_repeated(
    function: FunctionRuntime[Any], tenant: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    # The sender is not verified yet, so SES rejects the e-mail after SNS has gone out.
    emails = email_destinations(function)
    event = envelope(user, booking_id="bk_8")
    first = sqs_event(event)
    assert failed_ids(consume(function, first)) == [first["Records"][0]["messageId"]]
    assert len(outbound()) == 1
    verify_sender()
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    assert outbound() == []  # SNS had gone out on the first delivery
    assert len(emails) == 2  # the rejected attempt, then the one that went out
    assert boto3.client("ses", region_name=REGION).get_send_quota()["SentLast24Hours"] == 1
    assert [r["outcome"] for r in sorted(audit(tenant), key=lambda r: r["occurred_at"])] == ["error", "success", "repeated"]
    blobs = emitted_metrics(capsys.readouterr().out)
    assert sum(metric_total(blob, "NotificationSent") for blob in blobs) == 2  # sns, then ses


def test_a_delivery_that_finds_the_send_in_progress_fails_the_record_for_a_later_retry(
    function: FunctionRuntime[Any], tenant: Tenant, user: str, code_root: Path, outbound: Callable[[], list[dict[str, Any]]]
) -> None:
    """Two instances get the same event at once: the second finds the first's claim on SNS."""
    verify_sender()
    tenant.config = set_in(tenant.config, "services.notification.business.channels.booking_created", ["sns"])
    write_parameters(tenant, REGION)
    other = build(tenant, code_root)
    event = envelope(user, booking_id="bk_9")
    concurrent = sqs_event(event)
    answers: list[dict[str, Any]] = []

    def deliver_elsewhere(**_: Any) -> None:
        if not answers:
            answers.append(consume(other, concurrent))

    function.aws.client("sns").meta.events.register("before-call.sns.Publish", deliver_elsewhere)
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    assert answers == [{"batchItemFailures": [{"itemIdentifier": concurrent["Records"][0]["messageId"]}]}]
    assert consume(other, sqs_event(event)) == {"batchItemFailures": []}  # SQS's retry, after the send
    assert [m["event_id"] for m in outbound()] == [event["event_id"]]
    assert sorted(r["outcome"] for r in audit(tenant)) == ["in_progress", "repeated", "success"]


def test_send_records_are_per_event_and_channel_and_kept_for_the_configured_retention(
    function: FunctionRuntime[Any], tenant: Tenant, user: str
) -> None:
    verify_sender()
    before = int(time.time())
    consume(function, sqs_event(envelope(user, booking_id="bk_1"), envelope(user, booking_id="bk_2")))
    after = int(time.time())
    records = send_records(tenant)
    assert len(records) == 4  # two events, two channels each
    assert {r["status"] for r in records} == {"COMPLETED"}
    kept = retention_of(tenant)
    for record in records:
        assert before + kept <= record["expiration"] <= after + kept + 1


def crash_after_publish(function: FunctionRuntime[Any], event: dict[str, Any]) -> None:
    """Deliver ``event`` and die right after SNS accepted the message, before its claim is marked sent."""

    def crash(**_: Any) -> None:
        raise Crash()

    events = function.aws.client("sns").meta.events
    events.register("after-call.sns.Publish", crash)
    try:
        with pytest.raises(Crash):
            consume(function, sqs_event(event))
    finally:
        events.unregister("after-call.sns.Publish", crash)


def test_a_delivery_that_crashed_mid_send_is_not_sent_again_but_audited_unknown_counted_and_acknowledged(
    function: FunctionRuntime[Any],
    tenant: Tenant,
    user: str,
    outbound: Callable[[], list[dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verify_sender()
    emails = email_destinations(function)
    event = envelope(user, booking_id="bk_10")
    crash_after_publish(function, event)
    assert [m["event_id"] for m in outbound()] == [event["event_id"]]  # it did go out
    [claim] = send_records(tenant)
    assert claim["status"] == "INPROGRESS"
    audited_before = {r["request_id"] for r in audit(tenant)}
    # The crashed invocation has certainly ended: its whole remaining time has passed.
    ended = clock.utc_now() + timedelta(milliseconds=FakeLambdaContext().remaining_millis + 1)
    monkeypatch.setattr(clock, "utc_now", lambda: ended)
    capsys.readouterr()
    caplog.clear()
    redelivery, later = sqs_event(event), sqs_event(event)
    assert consume(function, redelivery) == {"batchItemFailures": []}
    assert consume(function, later) == {"batchItemFailures": []}  # the claim is kept: the same answer
    assert outbound() == []  # SNS is not sent a second time
    assert emails == [["ravi@example.com"]]  # SES had not been tried: it goes out, once
    outcomes = {r["request_id"]: r["outcome"] for r in audit(tenant) if r["request_id"] not in audited_before}
    assert outcomes == {redelivery["Records"][0]["messageId"]: "unknown", later["Records"][0]["messageId"]: "unknown"}
    blobs = emitted_metrics(capsys.readouterr().out)
    assert sum(metric_total(blob, "NotificationOutcomeUnknown") for blob in blobs) == 2
    assert sum(metric_total(blob, "NotificationSent") for blob in blobs) == 1
    unknown = [(r.__dict__["channel"], r.__dict__["event_id"]) for r in caplog.records if r.levelname == "WARNING"]
    assert unknown == [("sns", event["event_id"])] * 2
    assert not any("ravi@example.com" in str(r.__dict__) for r in caplog.records)
    assert {r["status"] for r in send_records(tenant)} == {"INPROGRESS", "COMPLETED"}  # sns unknown, ses sent


def test_a_claim_whose_invocation_may_still_run_fails_the_record_and_sends_nothing(
    function: FunctionRuntime[Any], tenant: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]]
) -> None:
    verify_sender()
    emails = email_destinations(function)
    event = envelope(user, booking_id="bk_11")
    crash_after_publish(function, event)
    outbound()
    retry = sqs_event(event)
    assert failed_ids(consume(function, retry)) == [retry["Records"][0]["messageId"]]
    assert outbound() == []
    assert emails == []  # SNS comes first and holds the record back
    [claim] = send_records(tenant)
    assert claim["status"] == "INPROGRESS"
    assert [r["outcome"] for r in audit(tenant) if r["request_id"] == retry["Records"][0]["messageId"]] == ["in_progress"]


def test_a_send_claimed_by_the_earlier_powertools_consumer_is_not_sent_again(
    function: FunctionRuntime[Any], tenant: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]]
) -> None:
    """Claims written before the conditional writes (Powertools idempotency, same key prefix) are honoured."""
    verify_sender()
    emails = email_destinations(function)
    event = envelope(user, booking_id="bk_12")
    legacy = IdempotentCall(boto3.client("dynamodb", region_name=REGION), key_prefix="notification.send")
    for channel in ("sns", "ses"):
        key = {"event_id": event["event_id"], "channel": channel}
        legacy.run(
            lambda _: {"channel": channel, "status": "sent"},
            table=tenant.resources["notification"]["idempotency_table"],
            key=key,
            payload=key,
            expires_after_seconds=retention_of(tenant),
            lambda_context=FakeLambdaContext(),
        )
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    assert outbound() == [] and emails == []
    assert [r["outcome"] for r in audit(tenant)] == ["repeated"]


def test_a_send_whose_claim_could_not_be_marked_sent_is_not_sent_again(
    function: FunctionRuntime[Any], tenant: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message went out but the table refused the completion: the claim stays in progress."""
    verify_sender()
    event = envelope(user, booking_id="bk_13")

    def table_down(**_: Any) -> None:
        raise RuntimeError("the idempotency table is unreachable")

    events = function.aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.UpdateItem", table_down)
    first = sqs_event(event)
    try:
        assert failed_ids(consume(function, first)) == [first["Records"][0]["messageId"]]
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", table_down)
    assert len(outbound()) == 1
    ended = clock.utc_now() + timedelta(milliseconds=FakeLambdaContext().remaining_millis + 1)
    monkeypatch.setattr(clock, "utc_now", lambda: ended)
    retry = sqs_event(event)
    assert consume(function, retry) == {"batchItemFailures": []}
    assert outbound() == []
    assert [r["outcome"] for r in audit(tenant) if r["request_id"] == retry["Records"][0]["messageId"]] == ["unknown"]
