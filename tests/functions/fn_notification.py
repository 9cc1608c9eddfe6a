"""Test support for the notification consumer: tenants with its resources, events, SQS batches.

A provisioned tenant has the notification service's queue, topics, user pool and tables
(``fn_services.provision_services``). Recipients are real records: a user added to the pool
(``fn_services.add_user``) or a booking's details item written with the booking service's own
key layout (``put_booking``).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Callable

import boto3

from booking.repository import booking_key
from common import clock
from common.dynamo_items import to_item
from common.runtime import FunctionRuntime

from .conftest import REGION
from .fn_services import add_user, provision_services
from .fn_support import FakeLambdaContext, Tenant, build_function, import_handler, scan_all

notification_handler = import_handler("notification")
SENDER = "notify@acme.example"


def provisioned(provision_tenant: Callable[..., Tenant], tenant_id: str = "acme", config: dict[str, Any] | None = None) -> Tenant:
    return provision_services(provision_tenant(tenant_id, config=config), REGION, api_key=f"{tenant_id}-provider-key")


def build(tenant: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    return build_function(notification_handler, tenant, code_root)


def customer(tenant: Tenant, email: str = "asha@example.com", phone: str | None = "+919800000001", verified: bool = True) -> str:
    """A user of ``tenant``'s pool with ``email`` (and ``phone``), verified or not; returns the ``sub``."""
    flag = "true" if verified else "false"
    attributes = {"email": email, "email_verified": flag}
    if phone is not None:
        attributes.update(phone_number=phone, phone_number_verified=flag)
    return add_user(tenant, REGION, attributes)


def put_booking(tenant: Tenant, booking_id: str, contact: Any = None, owner_tenant: str | None = None) -> None:
    """Store booking ``booking_id`` of ``owner_tenant`` (default: ``tenant``), with ``contact`` when given."""
    item: dict[str, Any] = {"booking_id": booking_id, "tenant_id": owner_tenant or tenant.tenant_id, "user_id": "someone", "status": "PENDING"}
    if contact is not None:
        item["contact"] = contact
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=tenant.resources["booking"]["bookings_table"], Item=to_item({**item, **booking_key(booking_id)}))


def envelope(user_id: str, event_type: str = "booking.created", tenant_id: str = "acme", **data: Any) -> dict[str, Any]:
    values = {"booking_id": "bk_1", "user_id": user_id, "total_minor": 107380, "currency": "INR", **data}
    return {
        "event_id": f"{values['booking_id']}:{event_type}:{uuid.uuid4().hex[:6]}",
        "event_type": event_type,
        "tenant_id": tenant_id,
        "occurred_at": clock.utc_now().isoformat(),
        "config_version": "v1",
        "data": values,
    }


def sqs_event(*bodies: Any) -> dict[str, Any]:
    """A Lambda SQS event with one record per body (a dict is sent as JSON, a string as it is).

    Each record gets a message id of its own, so the same body twice is a redelivery."""
    records = []
    for body in bodies:
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "sns", "ApproximateFirstReceiveTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:acme-dev-notifications",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def consume(function: FunctionRuntime[Any], event: dict[str, Any]) -> dict[str, Any]:
    assert function.lambda_handler is not None
    return function.lambda_handler(event, FakeLambdaContext())


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def audit(tenant: Tenant) -> list[dict[str, Any]]:
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["notification"]["audit_table"])


def templates_of(tenant: Tenant) -> dict[str, Any]:
    return tenant.config["services"]["notification"]["business"]["templates"]


def email_destinations(function: FunctionRuntime[Any]) -> list[list[str]]:
    """The ``ToAddresses`` of every e-mail ``function`` sends through SES from now on."""
    destinations: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        destinations.append(list(params["Destination"]["ToAddresses"]))

    function.aws.client("ses").meta.events.register("provide-client-params.ses.SendEmail", record)
    return destinations
