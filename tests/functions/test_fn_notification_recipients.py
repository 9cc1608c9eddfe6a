"""Who a notification goes to: the tenant's user pool and the booking's contact, never the event.

Through the real handler on moto, with SES and the outbound topic as the channels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from common.runtime import FunctionRuntime

from .conftest import REGION
from .fn_notification import SENDER, audit, build, consume, customer, email_destinations, envelope, provisioned, put_booking, sqs_event
from .fn_services import record_calls, subscribe_probe
from .fn_support import Tenant, emitted_metrics, metric_total, set_in, tenant_config, write_parameters

Outbound = Callable[[], list[dict[str, Any]]]


def configured(provision_tenant: Callable[..., Tenant], **business: Any) -> Tenant:
    """acme sending new bookings on SNS and SES, with ``business`` entries changed (dotted below ``business``)."""
    config = set_in(tenant_config("acme", "dev"), "services.notification.integration.service_endpoints.ses_sender", SENDER)
    config = set_in(config, "services.notification.business.channels.booking_created", ["sns", "ses"])
    for path, value in business.items():
        config = set_in(config, f"services.notification.business.{path.replace('__', '.')}", value)
    tenant = provisioned(provision_tenant, config=config)
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
    return tenant


@pytest.fixture
def tenant(provision_tenant: Callable[..., Tenant]) -> Tenant:
    return configured(provision_tenant)


@pytest.fixture
def function(tenant: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    return build(tenant, code_root)


@pytest.fixture
def outbound(tenant: Tenant) -> Outbound:
    return subscribe_probe(tenant.resources["notification"]["outbound_topic_arn"], REGION)


def test_the_recipient_comes_from_the_user_directory(function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound) -> None:
    user = customer(tenant, email="meera@example.com", phone="+919800000002")
    emails = email_destinations(function)
    assert consume(function, sqs_event(envelope(user))) == {"batchItemFailures": []}
    assert emails == [["meera@example.com"]]
    [message] = outbound()
    assert message["recipient"] == {"email": "meera@example.com", "phone": "+919800000002"}


def test_the_recipient_comes_from_the_booking_contact_when_the_directory_has_none(
    function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound
) -> None:
    put_booking(tenant, "bk_5", {"email": "depot@example.com", "phone": "+919800000005"})
    emails = email_destinations(function)
    assert consume(function, sqs_event(envelope("not-a-user", booking_id="bk_5"))) == {"batchItemFailures": []}
    assert emails == [["depot@example.com"]]
    [message] = outbound()
    assert message["recipient"] == {"email": "depot@example.com", "phone": "+919800000005"}


def test_each_kind_of_address_comes_from_the_first_source_that_has_it(function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound) -> None:
    user = customer(tenant, email="kiran@example.com", phone=None)
    put_booking(tenant, "bk_6", {"email": "other@example.com", "phone": "+919800000006"})
    consume(function, sqs_event(envelope(user, booking_id="bk_6")))
    [message] = outbound()
    assert message["recipient"] == {"email": "kiran@example.com", "phone": "+919800000006"}


def test_the_order_of_the_sources_is_config(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    tenant = configured(provision_tenant, recipients__sources=["booking_contact", "user_directory"])
    user = customer(tenant, email="kiran@example.com")
    put_booking(tenant, "bk_6", {"email": "site@example.com"})
    function = build(tenant, code_root)
    emails = email_destinations(function)
    consume(function, sqs_event(envelope(user, booking_id="bk_6")))
    assert emails == [["site@example.com"]]


def test_an_unverified_directory_address_is_not_used(function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound) -> None:
    user = customer(tenant, email="changed@example.com", verified=False)
    put_booking(tenant, "bk_3", {"email": "booked@example.com"})
    emails = email_destinations(function)
    consume(function, sqs_event(envelope(user, booking_id="bk_3")))
    assert emails == [["booked@example.com"]]
    assert outbound()[0]["recipient"] == {"email": "booked@example.com"}


def test_unverified_addresses_are_used_when_config_allows_them(provision_tenant: Callable[..., Tenant], code_root: Path) -> None:
    tenant = configured(provision_tenant, recipients__verified_only=False)
    user = customer(tenant, email="unconfirmed@example.com", verified=False)
    function = build(tenant, code_root)
    emails = email_destinations(function)
    consume(function, sqs_event(envelope(user)))
    assert emails == [["unconfirmed@example.com"]]


def test_an_address_in_the_event_is_ignored(function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound) -> None:
    user = customer(tenant, email="owner@example.com", phone=None)
    planted = {"email": "attacker@evil.example", "recipient_email": "attacker@evil.example", "phone": "+10000000000"}
    event = envelope(user, booking_id="bk_none", contact={"email": "attacker@evil.example"}, **planted)
    emails = email_destinations(function)
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    assert emails == [["owner@example.com"]]
    [message] = outbound()
    assert message["recipient"] == {"email": "owner@example.com"}
    assert "evil.example" not in str(message) and "+10000000000" not in str(message)


def test_an_event_with_no_resolvable_recipient_is_recorded_counted_and_acknowledged(
    function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound, capsys: pytest.CaptureFixture[str]
) -> None:
    # An address in the event itself does not make it resolvable.
    event = envelope("not-a-user", booking_id="bk_missing", email="someone@example.com")
    ses_calls = record_calls(function.aws.client("ses"))
    response = consume(function, sqs_event(event))
    assert response == {"batchItemFailures": []}  # acknowledged: a retry would not find anyone
    assert outbound() == [] and ses_calls == []
    [record] = audit(tenant)
    assert (record["outcome"], record["resource_id"]) == ("unresolved", event["event_id"])
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "NotificationRecipientUnresolved") == 1
    assert metric_total(blob, "NotificationFailed") == 0


def test_a_booking_without_a_usable_contact_or_of_another_tenant_gives_no_recipient(
    function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound
) -> None:
    put_booking(tenant, "bk_absent")
    put_booking(tenant, "bk_not_a_map", "depot@example.com")
    put_booking(tenant, "bk_wrong_types", {"email": 42, "phone": ""})
    put_booking(tenant, "bk_other_fields", {"fax": "+919800000000"})
    put_booking(tenant, "bk_foreign", {"email": "elsewhere@example.com"}, owner_tenant="globex")
    bookings = ("bk_absent", "bk_not_a_map", "bk_wrong_types", "bk_other_fields", "bk_foreign")
    assert consume(function, sqs_event(*(envelope("not-a-user", booking_id=b) for b in bookings))) == {"batchItemFailures": []}
    assert outbound() == []
    assert [r["outcome"] for r in audit(tenant)] == ["unresolved"] * len(bookings)


def test_ids_no_store_could_hold_give_no_recipient_instead_of_an_error(function: FunctionRuntime[Any], tenant: Tenant) -> None:
    event = envelope("u" * 129, booking_id="b" * 2100)
    assert consume(function, sqs_event(event)) == {"batchItemFailures": []}
    assert [r["outcome"] for r in audit(tenant)] == ["unresolved"]


def test_a_directory_error_fails_the_record_for_a_retry(function: FunctionRuntime[Any], tenant: Tenant, outbound: Outbound) -> None:
    user = customer(tenant)
    tenant.resources["notification"]["user_pool_id"] = f"{REGION}_gone"  # the pool answers ResourceNotFoundException
    write_parameters(tenant, REGION)
    event = sqs_event(envelope(user))
    assert [f["itemIdentifier"] for f in consume(function, event)["batchItemFailures"]] == [event["Records"][0]["messageId"]]
    assert outbound() == []
