"""Dependency failures through the real handlers on moto: 503 with Retry-After, never 500.

Each AWS dependency is made to throttle, fail with a 5xx, refuse the connection or time out
(``fn_hostile.fail_calls``, answered where botocore lets a hook stand in for AWS), and config is
made unloadable; every such request answers 503 with ``Retry-After`` from
``global/operational/dependency_outage``, counts ``DependencyUnavailable`` and never
``UnexpectedError``, and its body is an ``ErrorResponse``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from common.api import ApiFunction
from common.environment import FunctionEnvironment
from common.errors import ErrorResponse, ServiceError, ServiceUnavailable

from .conftest import REGION
from .fn_hostile import InjectedFailure, Platform, fail_calls, handlers, retry_after, shared_platform, to_table
from .fn_support import FakeLambdaContext, Tenant, api_event, authorizer_for, build_function, metric_names, response_json, set_in, ssm_outage, tenant_config
from .test_fn_api_template import READ_ONLY_ROUTES, DemoConfig
from .test_fn_booking_api import shipment
from .test_fn_payment_api import add_booking

MODULES = handlers()
FAILURES = ("throttled", "server_error", "unreachable", "timeout")

pytestmark = pytest.mark.xdist_group("fn_dependency_outage")


def outage_config() -> dict[str, Any]:
    """Defaults, with one attempt per AWS call (botocore would otherwise back off between retries)."""
    return set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with shared_platform(tmp_path_factory.mktemp("outage"), REGION, MODULES, config=outage_config()) as platform:
        yield platform


@pytest.fixture
def inject() -> Iterator[Callable[..., InjectedFailure]]:
    """``fail_calls`` whose failures end with the test (the platform is shared)."""
    started: list[InjectedFailure] = []

    def start(client: Any, failure: str, **options: Any) -> InjectedFailure:
        started.append(fail_calls(client, failure, **options))
        return started[-1]

    yield start
    for injected in started:
        injected.stop()


def own_booking_function(platform: Platform, code_root: Path) -> ApiFunction[Any]:
    """A booking function of its own on the shared tenant, for a test that breaks its config."""
    return build_function(MODULES["booking"], platform.tenant, code_root)


def assert_unavailable(response: dict[str, Any], tenant: Tenant, output: str) -> None:
    seconds = tenant.config["global"]["operational"]["dependency_outage"]["retry_after_seconds"]
    assert response["statusCode"] == 503
    assert retry_after(response) == str(seconds)
    error = ErrorResponse.model_validate(response_json(response)).error
    assert (error.code, error.retry_after_seconds) == ("service_unavailable", seconds)
    names = metric_names(output)
    assert "DependencyUnavailable" in names and "UnexpectedError" not in names
    assert "Traceback" not in output


def bookings_table(platform: Platform) -> str:
    return str(platform.tenant.resources["booking"]["bookings_table"])


@pytest.mark.parametrize("failure", FAILURES)
def test_dynamodb_failure_on_a_read_answers_503(platform: Platform, inject: Callable[..., InjectedFailure], failure: str, capsys: pytest.CaptureFixture[str]) -> None:
    injected = inject(platform.functions["booking"].aws.client("dynamodb"), failure, unless=to_table(bookings_table(platform)))
    response = platform.call("booking", "GET", "/bookings", roles="customer")
    assert injected.failed, "the bookings table was never called"
    assert_unavailable(response, platform.tenant, capsys.readouterr().out)


@pytest.mark.parametrize("failure", ["throttled", "unreachable"])
def test_dynamodb_failure_on_a_write_answers_503_and_leaves_nothing(platform: Platform, inject: Callable[..., InjectedFailure], failure: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = platform.state()
    inject(platform.functions["booking"].aws.client("dynamodb"), failure, unless=to_table(bookings_table(platform)))
    response = platform.call("booking", "POST", "/bookings", body=shipment(), headers={"Idempotency-Key": f"k-{failure}"}, roles="customer")
    assert_unavailable(response, platform.tenant, capsys.readouterr().out)
    after = platform.state()
    assert after.items == before.items and after.events == []


def test_sns_throttling_answers_503(platform: Platform, inject: Callable[..., InjectedFailure], capsys: pytest.CaptureFixture[str]) -> None:
    injected = inject(platform.functions["booking"].aws.client("sns"), "throttled")
    response = platform.call("booking", "POST", "/bookings", body=shipment(), headers={"Idempotency-Key": "k-sns"}, roles="customer")
    assert injected.failed, "the booking was created without publishing its event"
    assert_unavailable(response, platform.tenant, capsys.readouterr().out)


def test_secrets_manager_throttling_answers_503(platform: Platform, inject: Callable[..., InjectedFailure], capsys: pytest.CaptureFixture[str]) -> None:
    add_booking(platform.tenant, "bk_outage", owner="user-1")
    injected = inject(platform.functions["payment"].aws.client("secretsmanager"), "throttled")
    currency = platform.tenant.config["services"]["payment"]["business"]["business_rules"]["currency"]
    body = {"booking_id": "bk_outage", "amount_minor": 1000, "currency": currency}
    response = platform.call("payment", "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": "k-secret"}, roles="customer")
    assert injected.failed, "the provider key was never read"
    assert_unavailable(response, platform.tenant, capsys.readouterr().out)
    assert platform.provider.effects() == []


def test_config_that_cannot_be_loaded_answers_503_with_the_fallbacks_retry_after(platform: Platform, code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    function = own_booking_function(platform, code_root)
    # The packaged fallback's service tree is unusable; its global tree is fine.
    document = platform.tenant.fallback_document("booking")
    document["service_config"]["business"] = {}
    (code_root / "fallback.json").write_text(json.dumps(document), encoding="utf-8")
    function.config.clear_cache()
    ssm_outage(function.config.provider.client)
    response = function.lambda_handler(booking_list_event(platform), FakeLambdaContext())
    output = capsys.readouterr().out
    assert_unavailable(response, platform.tenant, output)
    assert "ConfigurationError" in metric_names(output)


def test_without_any_fallback_the_last_loaded_config_gives_retry_after(platform: Platform, code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    function = own_booking_function(platform, code_root)
    (code_root / "fallback.json").unlink()
    function.config.clear_cache()
    assert function.config.fallback_document is None
    assert function.lambda_handler(booking_list_event(platform), FakeLambdaContext())["statusCode"] == 200
    ssm_outage(function.config.provider.client)
    # As when the cache age has passed: the next request must read SSM again.
    function.config.provider.clear_cache()
    capsys.readouterr()
    response = function.lambda_handler(booking_list_event(platform), FakeLambdaContext())
    assert_unavailable(response, platform.tenant, capsys.readouterr().out)


def booking_list_event(platform: Platform) -> dict[str, Any]:
    return api_event("GET", "/bookings", authorizer=authorizer_for(platform.tenant.tenant_id, "user-1", "customer"))


class BusyUpstream(ServiceError, status_code=503, code="upstream_busy", metric="UpstreamBusy"):
    """A service's own 503 that is not a ServiceUnavailable (as a service may declare one)."""


def test_every_503_says_when_to_retry(platform: Platform, code_root: Path) -> None:
    platform.tenant.write_fallback(code_root, "booking")
    function = ApiFunction(FunctionEnvironment("booking", "dev", platform.tenant.tenant_id), DemoConfig, code_root=code_root)

    def read_item(scope: Any, item_id: str) -> tuple[dict[str, Any], int]:
        if item_id == "busy":
            raise BusyUpstream("upstream busy")
        raise ServiceUnavailable("later", retry_after_seconds=17)

    function.add_routes(READ_ONLY_ROUTES, {"read_item": read_item})

    def get(item: str) -> dict[str, Any]:
        event = api_event("GET", f"/items/{item}", resource="/items/{item_id}", authorizer=authorizer_for(platform.tenant.tenant_id, "user-1", "customer"))
        return dict(function.lambda_handler(event, FakeLambdaContext()))

    busy = get("busy")
    configured = platform.tenant.config["global"]["operational"]["dependency_outage"]["retry_after_seconds"]
    assert (busy["statusCode"], retry_after(busy)) == (503, str(configured))
    assert ErrorResponse.model_validate(response_json(busy)).error.code == "upstream_busy"
    explicit = get("other")
    assert (explicit["statusCode"], retry_after(explicit)) == (503, "17")
    assert ErrorResponse.model_validate(response_json(explicit)).error.retry_after_seconds == 17
