"""Test support for the tracking, payment and notification functions.

``provision_services`` gives a tenant provisioned by ``fn_support.provision`` what the tracking,
payment and notification components add: the payment events topic and provider secret, the
notification queue, its DLQ and the outbound topic, a user pool the notification service looks
recipients up in (``add_user``), each service's ``integration/resources`` entry.
``FakeProvider`` stands in for the payment provider's HTTPS API in-process: it is handed
to the payment function as its ``opener``, so no request ever leaves the test process.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Callable

import boto3

from .fn_support import FakeLambdaContext, Tenant, api_event, authorizer_for, write_parameters


def provision_services(tenant: Tenant, region: str, api_key: str) -> Tenant:
    """Add the tracking, payment and notification resources to ``tenant`` and publish them."""
    sns = boto3.client("sns", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    secrets = boto3.client("secretsmanager", region_name=region)
    payment_topic = sns.create_topic(Name=f"{tenant.prefix}-payment-events")["TopicArn"]
    outbound_topic = sns.create_topic(Name=f"{tenant.prefix}-notifications-out")["TopicArn"]
    field_name = tenant.config["services"]["payment"]["integration"]["external_apis"]["provider_api_key_field"]
    secret_arn = secrets.create_secret(
        Name=f"{tenant.prefix}/payment/provider-api-key", SecretString=json.dumps({field_name: api_key}), KmsKeyId=tenant.kms_key_id
    )["ARN"]
    dlq_url = sqs.create_queue(QueueName=f"{tenant.prefix}-notifications-dlq")["QueueUrl"]
    queue_url = sqs.create_queue(QueueName=f"{tenant.prefix}-notifications")["QueueUrl"]
    audit = f"{tenant.prefix}-audit"
    tenant.resources["tracking"] = {"tracking_table": f"{tenant.prefix}-tracking", "audit_table": audit, "bookings_table": f"{tenant.prefix}-bookings"}
    tenant.resources["payment"] = {
        "payments_table": f"{tenant.prefix}-payments",
        "audit_table": audit,
        "idempotency_table": f"{tenant.prefix}-idempotency",
        "events_topic_arn": payment_topic,
        "provider_secret_arn": secret_arn,
        "bookings_table": f"{tenant.prefix}-bookings",
    }
    tenant.resources["notification"] = {
        "queue_url": queue_url,
        "dlq_url": dlq_url,
        "outbound_topic_arn": outbound_topic,
        "audit_table": audit,
        "idempotency_table": f"{tenant.prefix}-idempotency",
        "bookings_table": f"{tenant.prefix}-bookings",
        "user_pool_id": user_pool(tenant, region),
    }
    write_parameters(tenant, region)
    return tenant


def user_pool(tenant: Tenant, region: str) -> str:
    """A user pool shaped like the tenant's (users sign in by e-mail, so each username is the
    user's ``sub``); returns its id."""
    cognito = boto3.client("cognito-idp", region_name=region)
    return str(cognito.create_user_pool(PoolName=f"{tenant.prefix}-users", UsernameAttributes=["email"])["UserPool"]["Id"])


def add_user(tenant: Tenant, region: str, attributes: dict[str, str]) -> str:
    """Create a user with ``attributes`` (``email`` at least) in the notification service's pool,
    as an administrator does; returns the user's ``sub``, the id tokens and events carry."""
    cognito = boto3.client("cognito-idp", region_name=region)
    user = cognito.admin_create_user(
        UserPoolId=tenant.resources["notification"]["user_pool_id"],
        Username=attributes["email"],
        UserAttributes=[{"Name": name, "Value": value} for name, value in attributes.items()],
        MessageAction="SUPPRESS",
    )["User"]
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def call_api(
    function: Any,
    method: str,
    path: str,
    *,
    body: Any = None,
    user: str = "user-1",
    roles: str = "customer",
    tenant: str | None = "acme",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Invoke ``function``'s Lambda handler with a proxy event from ``tenant``'s authorizer."""
    context = authorizer if authorizer is not None else authorizer_for(tenant, user, roles)
    return function.lambda_handler(api_event(method, path, body=body, headers=headers, query=query, authorizer=context), FakeLambdaContext())


def record_calls(client: Any) -> list[str]:
    """Collect the name of every API call ``client`` (a boto3 client) makes from now on."""
    calls: list[str] = []
    client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    return calls


def subscribe_probe(topic_arn: str, region: str) -> Callable[[], list[dict[str, Any]]]:
    """Subscribe a fresh SQS queue (raw delivery) to ``topic_arn``; returns ``drain()`` -> message bodies."""
    sqs = boto3.client("sqs", region_name=region)
    name = topic_arn.rsplit(":", 1)[-1]
    url = sqs.create_queue(QueueName=f"{name}-probe-{next(_probe_numbers)}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=region).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})

    def drain() -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                bodies.append(json.loads(message["Body"]))

    return drain


_probe_numbers = itertools.count()


# --- the payment provider, faked in-process ------------------------------------------------------


@dataclass
class ProviderCall:
    """One request the payment function made to the provider."""

    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    timeout: float


@dataclass
class FakeProvider:
    """A payment provider behind ``urllib.request.urlopen``'s signature, answering from memory.

    Routes (relative to the configured endpoint):
        POST /authorizations                      -> {"id", "status": "authorized"}
        POST /authorizations/{id}/capture         -> {"id", "status": "captured"}
        POST /authorizations/{id}/refunds         -> {"id", "status": "refunded"}
    ``fail_with`` makes the next calls fail before the provider acts: an HTTP status, or
    ``"unreachable"`` for a connection error. ``lose_answers`` makes it act and then time out, as
    when the answer is lost on the way back. ``decline`` makes authorizations answer 402.

    Like real providers, it is idempotent on the ``Idempotency-Key`` header: a request with a key
    it has acted on (or declined) gets the original answer again, and ``effects`` counts each key
    once: the holds, captures and refunds it really made.
    """

    calls: list[ProviderCall] = field(default_factory=list)
    fail_with: int | str | None = None
    lose_answers: bool = False
    decline: bool = False
    _ids: Any = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _results: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def __call__(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        body = json.loads(request.data or b"{}")
        headers = {name.lower(): value for name, value in request.header_items()}
        key = headers.get("idempotency-key", "")
        with self._lock:
            self.calls.append(ProviderCall(request.get_method(), request.full_url, headers, body, timeout))
            if self.fail_with == "unreachable":
                raise urllib.error.URLError("connection refused")
            if isinstance(self.fail_with, int):
                raise urllib.error.HTTPError(request.full_url, self.fail_with, "provider failure", Message(), io.BytesIO(b"{}"))
            if key not in self._results:
                self._results[key] = self._act(request.full_url.split("/authorizations", 1)[1], next(self._ids))
            result = self._results[key]
        if self.lose_answers:
            raise TimeoutError("the answer was lost")
        if result is None:
            raise urllib.error.HTTPError(request.full_url, 402, "declined", Message(), io.BytesIO(b'{"error": "card_declined"}'))
        return _answer(result)

    def _act(self, path: str, number: int) -> dict[str, Any] | None:
        if path == "":
            return None if self.decline else {"id": f"auth_{number}", "status": "authorized"}
        if path.endswith("/capture"):
            return {"id": path.split("/")[1], "status": "captured"}
        return {"id": f"refund_{number}", "status": "refunded"}

    def effects(self) -> list[str]:
        """The keys the provider acted on (a hold, a capture or a refund each), declines left out."""
        return [key for key, result in self._results.items() if result is not None]

    def operations(self) -> list[str]:
        """``authorize``, ``capture`` or ``refund`` for each call, in order."""
        names = []
        for call in self.calls:
            path = call.url.split("/authorizations", 1)[1]
            names.append("authorize" if path == "" else "capture" if path.endswith("/capture") else "refund")
        return names


def _answer(document: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps(document).encode())
