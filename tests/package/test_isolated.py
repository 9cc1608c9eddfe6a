"""Every packaged function imports from its own zip and the layer alone, in an interpreter with
no site-packages (``python -I -S``), and answers one request against ``moto_server``.

The layer ships boto3/botocore (see functions/requirements.txt), so nothing stands in for the
Lambda runtime's own SDK: the interpreter's path is the code root, the layer and the standard
library. AWS is moto's server on 127.0.0.1; the tenant is seeded by the function tests' own
helpers (tests/functions/fn_support.py, fn_services.py), pointed at it by ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from platformctl.package import BuildReport
from tests.functions.fn_services import add_user, provision_services
from tests.functions.fn_support import Tenant, api_event, authorizer_for, patched_environ, provision, tenant_config

REGION = "ap-south-1"
#: A role that may read config (customers may not).
CONFIG_READER = "dispatcher"
RUNNER = Path(__file__).with_name("isolated_runner.py")
MARKER = "RESULT "
#: How long moto_server may take to start listening, and one function to answer.
SERVER_START_SECONDS = 30
INVOKE_SECONDS = 60
#: One connection attempt while waiting for the server, and its shutdown.
PROBE_SECONDS = 1
SERVER_STOP_SECONDS = 10
#: What the fake payment provider's key secret holds (a test value, never a real key).
PROVIDER_KEY_VALUE = "-".join(("test", "provider", "key"))
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # No X-Ray daemon here; the SDK is still imported (the probe below checks where from).
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + SERVER_START_SECONDS
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=PROBE_SECONDS).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=SERVER_STOP_SECONDS)


@pytest.fixture(scope="module")
def acme(moto_endpoint: str) -> Iterator[Tenant]:
    """Tenant acme in dev, provisioned in moto_server by the function tests' helpers."""
    with patched_environ({**AWS_ENV, "AWS_ENDPOINT_URL": moto_endpoint}):
        tenant = provision("acme", "dev", tenant_config("acme", "dev"), REGION)
        yield provision_services(tenant, REGION, PROVIDER_KEY_VALUE)


@pytest.fixture(scope="module")
def layer_dir(host_build: BuildReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("layer")
    with zipfile.ZipFile(host_build.artifacts.layer) as archive:
        archive.extractall(target)
    return target / "python"


def invoke(host_build: BuildReport, layer: Path, tenant: Tenant, endpoint: str, name: str, event: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """Unpack ``name``'s zip with the tenant's fallback.json and run its handler in isolation."""
    service = name.split(".")[0]
    code_root = tmp / name
    with zipfile.ZipFile(host_build.artifacts.function_zip(name)) as archive:
        archive.extractall(code_root)
    tenant.write_fallback(code_root, service)
    job = tmp / f"{name}.json"
    job.write_text(json.dumps({"code_root": str(code_root), "layer": str(layer), "handler": f"{name}.lambda_handler", "event": event}))
    env = {
        **AWS_ENV,
        "AWS_ENDPOINT_URL": endpoint,
        "SERVICE_NAME": service,
        "ENVIRONMENT": tenant.environment,
        "CONFIG_SERVICE_URL": f"ssm:///{tenant.tenant_id}",
        "LOG_LEVEL": "INFO",
    }
    done = subprocess.run([sys.executable, "-I", "-S", str(RUNNER), str(job)], env=env, capture_output=True, text=True, timeout=INVOKE_SECONDS)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    assert done.returncode == 0 and lines, f"{name} failed in isolation:\n{done.stderr[-3000:]}"
    answer = json.loads(lines[-1][len(MARKER) :])
    # Nothing was importable but the standard library before the two folders went first...
    assert not [p for p in answer["inherited_path"] if "site-packages" in p]
    # ...and every module that is not the standard library's came from them.
    stdlib = Path(os.__file__).parent
    allowed = (stdlib, code_root, layer)
    outside = [f for f in answer["loaded"] if f != str(RUNNER) and not any(Path(f).is_relative_to(root) for root in allowed)]
    assert outside == []
    for module, origin in answer["origins"].items():
        assert Path(origin).is_relative_to(layer), f"{module} came from {origin}"
    return answer


def _api(method: str, url: str, resource: str, roles: str = "customer", **parameters: str) -> dict[str, Any]:
    return api_event(method, url, resource=resource, path_parameters=parameters or None, authorizer=authorizer_for("acme", "user-1", roles))


def _status(answer: dict[str, Any]) -> tuple[int, Any]:
    assert "result" in answer, answer.get("traceback")
    return answer["result"]["statusCode"], json.loads(answer["result"]["body"])


@pytest.fixture
def run(host_build: BuildReport, layer_dir: Path, acme: Tenant, moto_endpoint: str, tmp_path: Path) -> Any:
    return lambda name, event: invoke(host_build, layer_dir, acme, moto_endpoint, name, event, tmp_path)


def test_configuration_reads_the_tenants_config(run: Any) -> None:
    status, body = _status(run("configuration.handler", _api("GET", "/config/global/compliance", "/config/{path+}", roles=CONFIG_READER, path="global/compliance")))
    assert status == 200 and body


def test_booking_lists_the_callers_bookings(run: Any) -> None:
    status, body = _status(run("booking.handler", _api("GET", "/bookings", "/bookings")))
    assert status == 200, body


def test_tracking_answers_for_an_unknown_booking(run: Any) -> None:
    status, _ = _status(run("tracking.handler", _api("GET", "/tracking/bk_unknown/latest", "/tracking/{booking_id}/latest", booking_id="bk_unknown")))
    assert status == 404


def test_payment_answers_for_an_unknown_payment(run: Any) -> None:
    status, _ = _status(run("payment.handler", _api("GET", "/payments/pay_unknown", "/payments/{payment_id}", payment_id="pay_unknown")))
    assert status == 404


def test_authorizer_denies_a_request_without_a_token(run: Any) -> None:
    event = {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:123456789012:api/dev/GET/bookings",
        "resource": "/bookings", "path": "/bookings", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": {}, "pathParameters": {}, "stageVariables": {},
        "requestContext": {"requestId": "req-1", "stage": "dev", "httpMethod": "GET", "resourcePath": "/bookings"},
    }  # fmt: skip
    answer = run("auth.handler", event)
    [statement] = answer["result"]["policyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"


def test_pre_token_adds_the_tenant_claim(run: Any) -> None:
    event = {
        "version": "2", "triggerSource": "TokenGeneration_Authentication", "region": REGION, "userPoolId": f"{REGION}_pool",
        "userName": "user-1", "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client-1"},
        "request": {
            "userAttributes": {"sub": "user-1", "custom:tenant_id": "acme"},
            "groupConfiguration": {"groupsToOverride": ["customer"], "iamRolesToOverride": [], "preferredRole": None},
            "scopes": [],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }  # fmt: skip
    details = run("auth.pre_token", event)["result"]["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["claimsToAddOrOverride"] == {"custom:tenant_id": "acme"}


def test_rotation_refuses_a_secret_without_rotation_and_audits_it(run: Any, acme: Tenant, moto_endpoint: str) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint, **_credentials())
    arn = secrets.create_secret(Name=f"acme/{uuid.uuid4().hex[:8]}", SecretString="p", Tags=[{"Key": "tenant_id", "Value": "acme"}])["ARN"]
    answer = run("secrets.handler", {"Step": "createSecret", "SecretId": arn, "ClientRequestToken": str(uuid.uuid4())})
    assert "rotation is not enabled" in answer["error"]
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_endpoint, **_credentials())
    items = dynamodb.scan(TableName=f"{acme.prefix}-audit")["Items"]
    assert any(item["action"] == {"S": "secrets:createSecret"} for item in items)


def test_notification_sends_a_booking_event(run: Any, acme: Tenant, moto_endpoint: str) -> None:
    with patched_environ({**AWS_ENV, "AWS_ENDPOINT_URL": moto_endpoint}):
        user_id = add_user(acme, REGION, {"email": "ops@acme.example", "email_verified": "true"})
    envelope = {
        "event_id": "bk_1:booking.created:1", "event_type": "booking.created", "tenant_id": "acme",
        "occurred_at": "2026-01-01T00:00:00+00:00", "config_version": "v1",
        "data": {"booking_id": "bk_1", "user_id": user_id, "total_minor": 107380, "currency": "INR"},
    }  # fmt: skip
    record = {
        "messageId": "m-1", "receiptHandle": "r-1", "body": json.dumps(envelope), "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:acme-dev-notifications", "awsRegion": REGION,
    }  # fmt: skip
    assert run("notification.handler", {"Records": [record]})["result"] == {"batchItemFailures": []}
    # Sent to the user the pool knows, not acknowledged as unresolved.
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_endpoint, **_credentials())
    outcomes = [item["outcome"]["S"] for item in dynamodb.scan(TableName=f"{acme.prefix}-audit")["Items"] if item["action"]["S"].startswith("notification:")]
    assert outcomes == ["success"]


def _credentials() -> dict[str, str]:
    return {"aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"]}
