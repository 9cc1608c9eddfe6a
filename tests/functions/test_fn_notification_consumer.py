"""The notification consumer through its real handler: SQS batches of booking and payment events.

Exactly-once delivery is in ``test_fn_notification_delivery``, recipients in
``test_fn_notification_recipients``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from common import clock
from common.events import DomainEvent, EventPublisher
from common.runtime import FunctionRuntime

from .conftest import REGION
from .fn_notification import (
    SENDER,
    audit,
    build,
    consume,
    customer,
    email_destinations,
    envelope,
    failed_ids,
    provisioned,
    put_booking,
    sqs_event,
    templates_of,
)
from .fn_services import record_calls, subscribe_probe
from .fn_support import FakeLambdaContext, Tenant, emitted_metrics, import_handler, metric_total, set_in, ssm_outage, tenant_config, write_parameters

# --- harness -------------------------------------------------------------------------------------


@pytest.fixture
def acme_notify(provision_tenant: Callable[..., Tenant]) -> Tenant:
    return provisioned(provision_tenant)


@pytest.fixture
def user(acme_notify: Tenant) -> str:
    """A customer of acme with a verified e-mail address and phone number."""
    return customer(acme_notify)


@pytest.fixture
def consumer(acme_notify: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    return build(acme_notify, code_root)


@pytest.fixture
def outbound(acme_notify: Tenant) -> Callable[[], list[dict[str, Any]]]:
    return subscribe_probe(acme_notify.resources["notification"]["outbound_topic_arn"], REGION)


# --- sending -------------------------------------------------------------------------------------


def test_a_booking_event_is_rendered_from_config_sent_on_sns_and_audited(
    consumer: FunctionRuntime[Any], acme_notify: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]]
) -> None:
    event = envelope(user, booking_id="bk_42", total_minor=107380)
    response = consume(consumer, sqs_event(event))
    assert response == {"batchItemFailures": []}
    [message] = outbound()
    template = templates_of(acme_notify)["booking_created"]
    assert message["subject"] == template["subject"].format(booking_id="bk_42")
    assert message["body"] == template["body"].format(booking_id="bk_42", fare_display="₹1,073.80")
    assert (message["tenant_id"], message["user_id"], message["event_id"]) == ("acme", user, event["event_id"])
    [record] = audit(acme_notify)
    assert (record["action"], record["outcome"], record["resource_id"], record["user_id"]) == ("notification:booking_created", "success", event["event_id"], user)


def test_a_payment_event_shows_its_amount_in_the_configured_currency_format(
    consumer: FunctionRuntime[Any], user: str, outbound: Callable[[], list[dict[str, Any]]]
) -> None:
    consume(consumer, sqs_event(envelope(user, "payment.captured", amount_minor=250000, currency="INR")))
    [message] = outbound()
    assert "₹2,500.00" in message["body"] and "bk_1" in message["body"]


def test_a_bad_record_fails_alone_while_the_rest_are_sent(
    consumer: FunctionRuntime[Any], acme_notify: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    good = [envelope(user, booking_id="bk_a"), envelope(user, "booking.cancelled", booking_id="bk_b")]
    no_amount = envelope(user, booking_id="bk_c", total_minor=None)  # the template needs {fare_display}
    event = sqs_event(good[0], "{not json", no_amount, good[1])
    records = event["Records"]
    response = consume(consumer, event)
    assert failed_ids(response) == [records[1]["messageId"], records[2]["messageId"]]
    assert sorted(m["event_id"] for m in outbound()) == sorted(e["event_id"] for e in good)
    outcomes = sorted(r["outcome"] for r in audit(acme_notify))
    assert outcomes == ["rejected", "rejected", "success", "success"]
    blobs = emitted_metrics(capsys.readouterr().out)
    assert sum(metric_total(blob, "NotificationFailed") for blob in blobs) == 2
    assert sum(metric_total(blob, "NotificationSent") for blob in blobs) == 2


def test_an_event_of_another_tenant_is_refused_and_nothing_is_sent(
    consumer: FunctionRuntime[Any], acme_notify: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = envelope(user, booking_id="bk_ours"), envelope(user, tenant_id="globex", booking_id="bk_theirs")
    event = sqs_event(ours, theirs)
    response = consume(consumer, event)
    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    assert [m["event_id"] for m in outbound()] == [ours["event_id"]]
    assert sorted(r["outcome"] for r in audit(acme_notify)) == ["denied", "success"]
    assert "bk_theirs" not in json.dumps(audit(acme_notify))
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "TenantMismatch") == 1


def test_a_batch_that_fails_entirely_reports_every_record(consumer: FunctionRuntime[Any]) -> None:
    event = sqs_event("[]", "{}")
    assert sorted(failed_ids(consume(consumer, event))) == sorted(r["messageId"] for r in event["Records"])


def test_an_event_type_without_a_template_is_acknowledged_without_sending(
    consumer: FunctionRuntime[Any], acme_notify: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]]
) -> None:
    assert "payment_authorized" not in templates_of(acme_notify)
    response = consume(consumer, sqs_event(envelope(user, "payment.authorized", amount_minor=1000)))
    assert response == {"batchItemFailures": []}
    assert outbound() == []
    assert [r["outcome"] for r in audit(acme_notify)] == ["skipped"]


# --- config drives the text and the channels -----------------------------------------------------


def test_changing_a_template_in_config_changes_the_text_without_a_deployment(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    tenant = provisioned(provision_tenant, config=set_in(tenant_config("acme", "dev"), "services.notification.technical.cache", {"max_age_seconds": 0}))
    function = build(tenant, code_root)
    drain = subscribe_probe(tenant.resources["notification"]["outbound_topic_arn"], REGION)
    user = customer(tenant)
    consume(function, sqs_event(envelope(user, booking_id="bk_1")))
    before = drain()[0]["body"]
    tenant.config = set_in(tenant.config, "services.notification.business.templates.booking_created.body", "Truck for {booking_id} booked, {fare_display} due.")
    write_parameters(tenant, REGION)
    consume(function, sqs_event(envelope(user, booking_id="bk_1")))
    after = drain()[0]["body"]
    assert before != after
    assert after == "Truck for bk_1 booked, ₹1,073.80 due."


def test_ses_is_used_where_a_sender_is_configured_and_the_recipient_has_an_email_address(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.notification.integration.service_endpoints.ses_sender", SENDER)
    config = set_in(config, "services.notification.business.channels.booking_created", ["sns", "ses"])
    config = set_in(config, "services.notification.business.recipients.sources", ["booking_contact"])
    tenant = provisioned(provision_tenant, config=config)
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress=SENDER)
    put_booking(tenant, "bk_1", {"email": "customer@example.com", "phone": "+919800000009"})
    put_booking(tenant, "bk_2", {"phone": "+919800000008"})
    function = build(tenant, code_root)
    drain = subscribe_probe(tenant.resources["notification"]["outbound_topic_arn"], REGION)
    destinations = email_destinations(function)
    response = consume(function, sqs_event(envelope("nobody", booking_id="bk_1"), envelope("nobody", booking_id="bk_2")))
    assert response == {"batchItemFailures": []}
    assert destinations == [["customer@example.com"]]  # the booking with a phone only went out on SNS only
    assert ses.get_send_quota()["SentLast24Hours"] == 1
    assert len(drain()) == 2


def test_without_a_configured_sender_ses_is_never_called(
    consumer: FunctionRuntime[Any], acme_notify: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert acme_notify.config["services"]["notification"]["integration"]["service_endpoints"]["ses_sender"] == ""
    acme_notify.config = set_in(acme_notify.config, "services.notification.business.channels.booking_created", ["sns", "ses"])
    write_parameters(acme_notify, REGION)
    ses_calls = record_calls(consumer.aws.client("ses"))
    consume(consumer, sqs_event(envelope(user)))
    assert ses_calls == []
    assert len(outbound()) == 1
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "NotificationChannelSkipped") == 1  # ses was asked for, and skipped


# --- the queue contract, config outage, module ---------------------------------------------------


def test_events_published_by_the_services_arrive_through_the_queue_and_are_sent(
    consumer: FunctionRuntime[Any], acme_notify: Tenant, user: str, outbound: Callable[[], list[dict[str, Any]]]
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = acme_notify.resources["notification"]["queue_url"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = acme_notify.resources["payment"]["events_topic_arn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    data = {"payment_id": "pay_1", "booking_id": "bk_9", "user_id": user, "amount_minor": 5000, "currency": "INR"}
    EventPublisher(boto3.client("sns", region_name=REGION)).publish(topic, DomainEvent("pay_1:payment.captured", "payment.captured", "acme", clock.utc_now(), "v1", data))
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": [{**sqs_event(m["Body"])["Records"][0], "messageId": m["MessageId"]} for m in messages]}
    assert consume(consumer, event) == {"batchItemFailures": []}
    [message] = outbound()
    assert "₹50.00" in message["body"] and "bk_9" in message["body"]


def test_config_service_down_uses_the_fallback_and_emits_the_metric(
    provision_tenant: Callable[..., Tenant], code_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = provisioned(provision_tenant, config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    drain = subscribe_probe(tenant.resources["notification"]["outbound_topic_arn"], REGION)
    function = build(tenant, code_root)
    user = customer(tenant)
    ssm_outage(function.config.provider.client)
    assert consume(function, sqs_event(envelope(user))) == {"batchItemFailures": []}
    assert len(drain()) == 1
    assert audit(tenant)[0]["config_version"] == "fallback"
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "ConfigurationError") >= 1


def test_module_handler_is_built_from_the_environment(acme_notify: Tenant, user: str) -> None:
    drain = subscribe_probe(acme_notify.resources["notification"]["outbound_topic_arn"], REGION)
    module = import_handler("notification")
    assert module.lambda_handler(sqs_event(envelope(user)), FakeLambdaContext()) == {"batchItemFailures": []}
    assert [m["user_id"] for m in drain()] == [user]
