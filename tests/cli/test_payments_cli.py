"""`platformctl payments reconcile`: the real command, against moto (the tenant's config in SSM,
its payments table, provider secret and events topic) and a fake payment provider over HTTP.

Dangling operations are written the way the payment API writes its intents (the same
``payment.repository`` calls); the command then settles them through the reconciler the scheduled
function runs. The fake provider is a real HTTP server, idempotent on ``Idempotency-Key`` like
the real one; the command's HTTPS transport is pointed at it (``payments.provider_opener``).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import boto3
import pytest

from platformctl.commands import payments as payments_command
from tests.functions.fn_services import provision_services, subscribe_probe
from tests.functions.fn_support import Tenant, provision, scan_all, tenant_config
from tests.registry.support import run_cli
from ubertruck.contracts import load_function_module

REGION = "ap-south-1"
PROVIDER_KEY_VALUE = "cli-test-provider-key"
AMOUNT = 4200  # antipattern: ignore[UT005] reason: a test input amount, not a platform value
repository_module = load_function_module("payment", "repository")


class FakeProviderServer(ThreadingHTTPServer):
    """The provider's API on 127.0.0.1: answers from memory, once per Idempotency-Key."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProviderHandler)
        self.results: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.failing_status: int | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProviderHandler(BaseHTTPRequestHandler):
    server: FakeProviderServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers["Idempotency-Key"]
        server = self.server
        with server.lock:
            server.requests.append((self.path, key))
            if self.headers["Authorization"] != f"Bearer {PROVIDER_KEY_VALUE}":
                status, answer = HTTPStatus.UNAUTHORIZED, {"error": "bad key"}
            elif server.failing_status is not None:
                status, answer = server.failing_status, {"error": "failing"}
            else:
                if key not in server.results:
                    number = len(server.results)
                    kind = "auth" if self.path.endswith("/authorizations") else "cap" if self.path.endswith("/capture") else "refund"
                    server.results[key] = (HTTPStatus.OK, {"id": f"{kind}_{number}", "amount_minor": body["amount_minor"]})
                status, answer = server.results[key]
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for every column of the table on one line (Rich reads COLUMNS)."""
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviderServer]:
    server = FakeProviderServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = tenant_config("acme", "dev")["services"]["payment"]["integration"]["external_apis"]["provider_endpoint"]

    def opener(request: urllib.request.Request, timeout: float) -> Any:
        # The configured HTTPS endpoint, reached on the local server instead.
        local = urllib.request.Request(
            request.full_url.replace(endpoint.rsplit("/", 1)[0], server.url), data=request.data, headers=dict(request.header_items()), method=request.get_method()
        )
        return urllib.request.urlopen(local, timeout=timeout)

    monkeypatch.setattr(payments_command, "provider_opener", opener)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield provision_services(provision("acme", "dev", tenant_config("acme", "dev"), REGION), REGION, api_key=PROVIDER_KEY_VALUE)


def repository(tenant: Tenant) -> Any:
    return repository_module.PaymentRepository(boto3.client("dynamodb", region_name=REGION), tenant.resources["payment"]["payments_table"])


def dangling_authorization(tenant: Tenant, payment_id: str, started: datetime) -> None:
    """What the API stores before it asks the provider to hold the amount."""
    payment = {
        "payment_id": payment_id,
        "booking_id": "bk_1",
        "tenant_id": "acme",
        "user_id": "user-1",
        "currency": "INR",
        "authorized_minor": AMOUNT,
        "captured_minor": 0,
        "refunded_minor": 0,
        "refundable_minor": 0,
        "provider_idempotency_key": f"{payment_id}:authorize",
        "created_at": started.isoformat(),
        "config_version": "v",
    }
    assert repository(tenant).begin_authorization(payment, repository_module.Marker.start(started, payment_id, "authorize"))


def dangling_refund(tenant: Tenant, payment_id: str, refund_id: str, started: datetime) -> None:
    """A captured payment, and a refund reserved (and stored) before the provider was asked."""
    repo = repository(tenant)
    dangling_authorization(tenant, payment_id, started)
    assert repo.complete_authorization(payment_id, "auth_x", started.isoformat())
    table = tenant.resources["payment"]["payments_table"]
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=table,
        Key={"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "DETAILS"}},
        UpdateExpression="SET #s = :c, captured_minor = :a, refundable_minor = :a REMOVE pending_marker",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "CAPTURED"}, ":a": {"N": str(AMOUNT)}},
    )
    for marker in repo.markers_before(started + timedelta(seconds=1), 10):
        if marker.payment_id == payment_id:  # the authorization is over
            repo.drop_marker(marker.sort_key)
    refund = {
        "refund_id": refund_id,
        "payment_id": payment_id,
        "tenant_id": "acme",
        "user_id": "user-1",
        "amount_minor": 1000,
        "currency": "INR",
        "status": "PENDING",
        "provider_idempotency_key": f"{refund_id}:refund",
        "created_at": started.isoformat(),
    }
    assert repo.reserve_refund(refund, repository_module.Marker.start(started, payment_id, "refund", refund_id))


def an_hour_ago() -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=1)


def test_reconcile_finds_the_hold_the_provider_made_and_completes_the_record(acme: Tenant, provider: FakeProviderServer) -> None:
    events = subscribe_probe(acme.resources["payment"]["events_topic_arn"], REGION)
    dangling_authorization(acme, "pay_lost", an_hour_ago())
    provider.results["pay_lost:authorize"] = (HTTPStatus.OK, {"id": "auth_made_before"})  # the answer that was lost
    result = run_cli("payments", "reconcile", "--stack", "acme-dev")
    assert result.code == 0, result.stderr
    assert "pay_lost" in result.stdout and "settled" in result.stdout and "AUTHORIZED" in result.stdout
    stored = repository(acme).get("pay_lost")
    assert (stored["status"], stored["provider_authorization_id"]) == ("AUTHORIZED", "auth_made_before")
    assert provider.requests == [("/v1/authorizations", "pay_lost:authorize")] and len(provider.results) == 1
    assert [e["event_type"] for e in events()] == ["payment.authorized"]
    assert [i for i in scan_all(boto3.client("dynamodb", region_name=REGION), acme.resources["payment"]["payments_table"]) if i["pk"] == "PENDING"] == []


def test_reconcile_releases_a_refund_the_provider_refuses(acme: Tenant, provider: FakeProviderServer) -> None:
    dangling_refund(acme, "pay_r", "rf_1", an_hour_ago())
    provider.failing_status = HTTPStatus.BAD_REQUEST
    result = run_cli("payments", "reconcile", "--stack", "acme-dev")
    assert result.code == 0, result.stderr
    repo = repository(acme)
    assert repo.get_refund("pay_r", "rf_1")["status"] == "FAILED"
    stored = repo.get("pay_r")
    assert (stored["refunded_minor"], stored["refundable_minor"]) == (0, AMOUNT)
    assert run_cli("payments", "reconcile", "--stack", "acme-dev").stdout.strip() == "no unfinished payment operations to settle"
    assert repo.get("pay_r")["refundable_minor"] == AMOUNT  # released once


def test_dry_run_changes_nothing_and_asks_the_provider_nothing(acme: Tenant, provider: FakeProviderServer) -> None:
    dangling_authorization(acme, "pay_dry", an_hour_ago())
    result = run_cli("payments", "reconcile", "--stack", "acme-dev", "--dry-run")
    assert result.code == 0, result.stderr
    assert "would settle" in result.stdout and "dry run" in result.stdout
    assert provider.requests == [] and repository(acme).get("pay_dry")["status"] == "AUTHORIZING"


def test_a_provider_still_down_leaves_the_operation_pending_and_exits_1(acme: Tenant, provider: FakeProviderServer) -> None:
    dangling_authorization(acme, "pay_down", an_hour_ago())
    provider.failing_status = HTTPStatus.SERVICE_UNAVAILABLE
    result = run_cli("payments", "reconcile", "--stack", "acme-dev")
    assert result.code == 1
    assert "still pending" in result.stdout and "provider_unavailable" in result.stdout
    assert repository(acme).get("pay_down")["status"] == "AUTHORIZING"


def test_older_than_defaults_to_the_config_and_can_be_lowered(acme: Tenant, provider: FakeProviderServer) -> None:
    dangling_authorization(acme, "pay_new", datetime.now(timezone.utc))
    assert run_cli("payments", "reconcile", "--stack", "acme-dev").stdout.strip() == "no unfinished payment operations to settle"
    assert provider.requests == []
    assert run_cli("payments", "reconcile", "--stack", "acme-dev", "--older-than", "0").code == 0
    assert repository(acme).get("pay_new")["status"] == "AUTHORIZED"


@pytest.mark.parametrize(
    ("stack", "message"),
    [("dev", "is a shared stack"), ("nobody-dev", "unknown tenant 'nobody'"), ("acme", "is neither a shared stack")],
    ids=["shared-stack", "unknown-tenant", "not-a-stack"],
)
def test_a_stack_that_holds_no_payments_is_one_line_and_exit_2(stack: str, message: str) -> None:
    result = run_cli("payments", "reconcile", "--stack", stack)
    assert result.code == 2
    [line] = result.error_lines
    assert message in line


def test_config_missing_from_ssm_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():  # an account where the stack was never deployed
        result = run_cli("payments", "reconcile", "--stack", "acme-dev")
    assert result.code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: stack 'acme-dev'") and "config unavailable" in line


def test_one_run_settles_operations_of_every_kind_and_lists_each(acme: Tenant, provider: FakeProviderServer) -> None:
    dangling_authorization(acme, "pay_a", an_hour_ago())
    dangling_refund(acme, "pay_b", "rf_b", an_hour_ago())
    result = run_cli("payments", "reconcile", "--stack", "acme-dev")
    assert result.code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "pay_" in line]
    assert len(rows) == 2 and "AUTHORIZED" in rows[0] and "SUCCEEDED" in rows[1]
    assert result.stdout.splitlines()[-1] == "2 operation(s): 2 settled"
    assert sorted(key for _, key in provider.requests) == ["pay_a:authorize", "rf_b:refund"]
