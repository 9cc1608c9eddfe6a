"""The common library's pure parts: environment, tenant context, authorization, money, cursors,
validation, retries, the HTTPS client, audit records and the fallback document."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from common.audit import AuditRecord, outcome_for
from common.authorization import is_allowed, require
from common.config_schema import AuthorizationPolicies, RetryPolicies
from common.environment import FunctionEnvironment, InvalidEnvironment
from common.bounds import ID_MAX_LENGTH, BoundedId, bounded_decimal, bounded_float, bounded_int, page_size, utf8_fits
from common.config_schema import RequestLimits
from common.dependencies import is_dependency_failure
from common.errors import (
    BadRequest,
    Conflict,
    ErrorResponse,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
    internal_error_body,
)
from common.fallback import FallbackDocument, FallbackUnavailable
from common.http_client import HttpFailure, RetryingHttpClient
from common.money import basis_points_of, round_half_up
from common.pagination import decode_cursor, encode_cursor
from common.retry import backoff_ceiling_ms, backoff_seconds
from common.tenant import TenantRefused, tenant_context
from common.validation import check_body_limits, json_body, json_depth_exceeds, parse_body, parse_model

from .fn_support import DEFAULTS, api_event, authorizer_for

ROLES = DEFAULTS["tenant_config"]["global"]["security"]["authorization_policies"]["roles"]
RETRY = RetryPolicies.model_validate(DEFAULTS["tenant_config"]["global"]["operational"]["retry_policies"])
TIMEOUTS = DEFAULTS["tenant_config"]["global"]["operational"]["timeouts"]


# --- environment ---------------------------------------------------------------------------------


def test_environment_reads_the_four_variables_and_derives_the_tenant() -> None:
    env = FunctionEnvironment.from_mapping({"SERVICE_NAME": "booking", "ENVIRONMENT": "prod", "CONFIG_SERVICE_URL": "ssm:///globex", "LOG_LEVEL": "INFO"})
    assert (env.service, env.environment, env.tenant_id, env.log_level) == ("booking", "prod", "globex", "INFO")
    assert env.global_namespace == "/globex/global"
    assert env.service_namespace == "/globex/services/booking/prod"


@pytest.mark.parametrize("url", ["", "ssm://acme", "https:///acme", "ssm:///", "ssm:///Acme", "ssm:///acme/../globex", "ssm:///-acme"])
def test_malformed_config_service_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidEnvironment, match="CONFIG_SERVICE_URL"):
        FunctionEnvironment.parse_config_url(url)


def test_missing_variables_are_named() -> None:
    with pytest.raises(InvalidEnvironment, match="SERVICE_NAME, CONFIG_SERVICE_URL"):
        FunctionEnvironment.from_mapping({"ENVIRONMENT": "dev"})


# --- tenant context ------------------------------------------------------------------------------


def test_tenant_context_comes_from_the_authorizer_only() -> None:
    event = api_event("POST", "/x", body={"tenant_id": "globex", "user_id": "intruder"}, query={"tenant_id": "globex"}, authorizer=authorizer_for("acme", "u-7", "customer, dispatcher"))
    context = tenant_context(event, own_tenant="acme")
    assert (context.tenant_id, context.user_id, context.roles) == ("acme", "u-7", ("customer", "dispatcher"))


@pytest.mark.parametrize(
    "authorizer",
    [None, {}, authorizer_for(None), authorizer_for(""), authorizer_for("globex"), authorizer_for("acme", user_id=None), authorizer_for("ACME")],
    ids=["no-authorizer", "empty", "no-tenant", "blank-tenant", "other-tenant", "no-user", "case-variant"],
)
def test_incomplete_or_foreign_tenant_context_is_refused(authorizer: Any) -> None:
    with pytest.raises(TenantRefused):
        tenant_context(api_event("GET", "/x", authorizer=authorizer), own_tenant="acme")


# --- authorization -------------------------------------------------------------------------------


def test_roles_grant_operations_from_config_patterns() -> None:
    policies = AuthorizationPolicies.model_validate({"roles": ROLES})
    assert is_allowed(("customer",), "booking:create", policies)
    assert is_allowed(("dispatcher",), "booking:manage", policies)  # booking:* in config
    assert is_allowed(("admin",), "config:read", policies)  # * in config
    assert not is_allowed(("driver",), "booking:cancel", policies)
    assert not is_allowed(("no-such-role",), "booking:read", policies)
    with pytest.raises(Forbidden):
        require(("customer",), "config:read", policies)


def test_changing_the_policy_changes_the_decision() -> None:
    policies = AuthorizationPolicies.model_validate({"roles": {**ROLES, "driver": ["booking:cancel"]}})
    assert is_allowed(("driver",), "booking:cancel", policies)


# --- money ---------------------------------------------------------------------------------------


def test_rounding_is_half_up() -> None:
    assert [round_half_up(Decimal(v)) for v in ("0.5", "1.5", "2.5", "2.4999", "-0.5")] == [1, 2, 3, 2, -1]
    assert basis_points_of(12345, 1800) == 2222  # 2222.1
    assert basis_points_of(25, 1000) == 3  # 2.5 rounds up


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**5))
def test_basis_points_match_exact_arithmetic(amount: int, basis_points: int) -> None:
    exact = Decimal(amount) * basis_points / 10_000
    assert abs(basis_points_of(amount, basis_points) - exact) <= Decimal("0.5")


# --- cursors -------------------------------------------------------------------------------------


def test_cursor_round_trips_within_its_partition() -> None:
    key = {"pk": {"S": "TENANT#acme#USER#u-1"}, "sk": {"S": "BOOKING#2024#b"}}
    assert decode_cursor(encode_cursor(key), partition="TENANT#acme#USER#u-1") == key


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !!",
        encode_cursor({"pk": {"S": "TENANT#acme#USER#u-2"}, "sk": {"S": "x"}}),
        encode_cursor({"pk": {"S": "TENANT#acme#USER#u-1"}}),
        encode_cursor({"pk": {"N": "1"}, "sk": {"S": "x"}}),
        encode_cursor({"pk": {"S": "TENANT#acme#USER#u-1"}, "sk": {"S": "x"}, "extra": {"S": "y"}}),
        "W10",  # "[]"
        base64.urlsafe_b64encode(b"[" * 9000).decode(),  # deeper than json.loads can recurse
    ],
    ids=["garbage", "other-partition", "missing-sort-key", "wrong-type", "extra-attribute", "not-an-object", "deep-nesting"],
)
def test_foreign_or_malformed_cursor_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor, partition="TENANT#acme#USER#u-1")
    assert raised.value.details[0].field == "cursor"


# --- validation ----------------------------------------------------------------------------------


class Shipment(BaseModel):
    distance_km: Decimal = Field(gt=0)
    weight_kg: Decimal = Field(gt=0)


def test_body_validation_reports_every_field() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_body(Shipment, api_event("POST", "/x", body={"distance_km": -1}))
    assert {d.field for d in raised.value.details} == {"distance_km", "weight_kg"}
    body = raised.value.body("r-1")["error"]
    assert body["code"] == "validation_error" and body["request_id"] == "r-1"


@pytest.mark.parametrize("raw", ["", "{not json", "\xff"])
def test_missing_or_malformed_body_is_a_bad_request(raw: str) -> None:
    with pytest.raises(BadRequest):
        json_body(api_event("POST", "/x", raw_body=raw))


def test_base64_bodies_are_decoded() -> None:
    assert json_body(api_event("POST", "/x", body={"a": 1}, base64_body=True)) == {"a": 1}


# --- retries and HTTPS ---------------------------------------------------------------------------


def test_backoff_grows_exponentially_up_to_the_configured_ceiling() -> None:
    ceilings = [backoff_ceiling_ms(RETRY, attempt) for attempt in range(1, 12)]
    assert ceilings[0] == RETRY.base_delay_ms
    assert ceilings == sorted(ceilings)
    assert max(ceilings) == RETRY.max_delay_ms
    assert all(0 <= backoff_seconds(RETRY, attempt) <= RETRY.max_delay_ms / 1000 for attempt in range(1, 12))


class _Answer(io.BytesIO):
    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scripted_opener(script: list[Any]) -> tuple[Any, list[float]]:
    """An opener answering from ``script`` (bytes, or an exception to raise), recording timeouts."""
    timeouts: list[float] = []

    def opener(request: Any, **kwargs: Any) -> _Answer:
        timeouts.append(kwargs["timeout"])
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return _Answer(step)

    return opener, timeouts


def _http_error(code: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("https://example.test", code, "error", {}, None)  # type: ignore[arg-type]


def test_https_client_retries_transient_failures_with_the_configured_timeout() -> None:
    opener, timeouts = scripted_opener([urllib.error.URLError("reset"), _http_error(503), b'{"keys": []}'])
    sleeps: list[float] = []
    client = RetryingHttpClient(TIMEOUTS["provider_timeout_seconds"], RETRY, opener=opener, sleep=sleeps.append)
    assert client.get_json("https://example.test/jwks.json") == {"keys": []}
    assert timeouts == [TIMEOUTS["provider_timeout_seconds"]] * 3
    assert len(sleeps) == 2


def test_https_client_gives_up_after_the_configured_attempts() -> None:
    opener, timeouts = scripted_opener([TimeoutError()] * RETRY.max_attempts)
    client = RetryingHttpClient(TIMEOUTS["provider_timeout_seconds"], RETRY, opener=opener, sleep=lambda _: None)
    with pytest.raises(HttpFailure, match=f"after {RETRY.max_attempts} attempt"):
        client.get_json("https://example.test/jwks.json")
    assert len(timeouts) == RETRY.max_attempts


def test_https_client_does_not_retry_client_errors_or_plain_http() -> None:
    opener, timeouts = scripted_opener([_http_error(404)])
    client = RetryingHttpClient(TIMEOUTS["provider_timeout_seconds"], RETRY, opener=opener, sleep=lambda _: None)
    with pytest.raises(HttpFailure, match="HTTP 404"):
        client.get_json("https://example.test/jwks.json")
    assert len(timeouts) == 1
    with pytest.raises(HttpFailure, match="non-HTTPS"):
        client.get_json("http://example.test/jwks.json")


@pytest.mark.parametrize("answer", [b"{not json", b"[" * 100_000], ids=["malformed", "nested-beyond-the-parser"])
def test_https_client_reports_an_unreadable_answer(answer: bytes) -> None:
    opener, _ = scripted_opener([answer])
    client = RetryingHttpClient(TIMEOUTS["provider_timeout_seconds"], RETRY, opener=opener, sleep=lambda _: None)
    with pytest.raises(HttpFailure, match="not JSON"):
        client.get_json("https://example.test/jwks.json")


# --- audit records -------------------------------------------------------------------------------


def test_audit_item_holds_identifiers_outcome_and_retention_ttl() -> None:
    record = AuditRecord(
        action="booking:create", tenant_id="acme", user_id="u-1", request_id="r-1", config_version="c1", global_config_version="g1",
        outcome=outcome_for(201), status_code=201, occurred_at=datetime(2024, 5, 1, 23, 59, tzinfo=timezone.utc), service="booking",
        environment="dev", resource_id="b-1",
    )
    days = DEFAULTS["tenant_config"]["global"]["compliance"]["data_retention"]["days"]
    item = record.item(retention_days=days, include_config_version=True)
    assert item["pk"] == "AUDIT#booking#2024-05-01"
    assert item["expires_at"] - item["occurred_epoch"] == days * 86_400
    assert (item["outcome"], item["config_version"], item["resource_id"]) == ("success", "c1", "b-1")
    assert "config_version" not in record.item(retention_days=days, include_config_version=False)


def test_outcomes_follow_the_status() -> None:
    assert [outcome_for(s) for s in (200, 201, 400, 403, 404, 409, 500, 503)] == ["success", "success", "rejected", "denied", "not_found", "conflict", "error", "error"]


# --- fallback document ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [[], {"global": {}, "service_config": {}}, {"version": "f", "global": [], "service_config": {}}, {"version": "f", "global": {}, "service_config": {}, "observability": 3}],
    ids=["not-object", "no-version", "global-not-object", "observability-not-object"],
)
def test_malformed_fallback_documents_are_refused(document: Any) -> None:
    with pytest.raises(FallbackUnavailable):
        FallbackDocument.from_mapping(document)


def test_fallback_file_problems_are_reported_not_raised_raw(tmp_path: Any) -> None:
    with pytest.raises(FallbackUnavailable, match="not JSON"):
        bad = tmp_path / "fallback.json"
        bad.write_text("{")
        FallbackDocument.load(bad)
    with pytest.raises(FallbackUnavailable):
        FallbackDocument.load(tmp_path / "absent.json")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"version": "fallback", "global": {}, "service_config": {}, "tenant_id": "acme"}))
    assert FallbackDocument.load(good).version == "fallback"


# --- bounds --------------------------------------------------------------------------------------


class Reading(BaseModel):
    speed: bounded_float(ge=0, le=300)  # type: ignore[valid-type]
    count: bounded_int(ge=1, le=1000)  # type: ignore[valid-type]
    amount: bounded_decimal(max_digits=12, decimal_places=2, gt=0)  # type: ignore[valid-type]
    ref: BoundedId


READING = {"speed": 12.5, "count": 3, "amount": 10.25, "ref": "bk-1"}


@pytest.mark.parametrize("field", ["speed", "count", "amount"])
@pytest.mark.parametrize("value", [True, False, "12", 10**40, float("nan"), float("inf")], ids=["true", "false", "text", "40-digits", "nan", "inf"])
def test_numbers_are_bounded_json_numbers_never_booleans_or_text(field: str, value: Any) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_model(Reading, {**READING, field: value})
    assert [d.field for d in raised.value.details] == [field]


def test_a_decimal_keeps_the_number_as_written() -> None:
    assert parse_model(Reading, {**READING, "amount": 0.1}).amount == Decimal("0.1")


@pytest.mark.parametrize("ref", ["", "b" * (ID_MAX_LENGTH + 1), "bk 1", "bk/1", 7], ids=["empty", "too-long", "space", "slash", "number"])
def test_ids_are_bounded_strings_of_the_id_pattern(ref: Any) -> None:
    with pytest.raises(BadRequest):
        parse_model(Reading, {**READING, "ref": ref})
    assert parse_model(Reading, {**READING, "ref": "b" * ID_MAX_LENGTH}).ref == "b" * ID_MAX_LENGTH


@pytest.mark.parametrize("raw", ["²", "٣", "１", "9" * 5000, "0", "-1", "+1", "1.0", "1e2", " 1", "", "101"])
def test_page_size_takes_ascii_digits_within_the_maximum_only(raw: str) -> None:
    with pytest.raises(BadRequest) as raised:
        page_size(raw, maximum=100)
    assert raised.value.details[0].field == "limit"


@given(st.integers(min_value=1, max_value=10_000))
def test_page_size_accepts_every_whole_number_up_to_the_maximum(size: int) -> None:
    assert page_size(str(size), maximum=10_000) == size


def test_page_size_defaults_when_absent() -> None:
    assert (page_size(None, maximum=50, default=20), page_size(None, maximum=50)) == (20, 50)


@given(st.text(max_size=50))
def test_utf8_fits_agrees_with_the_encoded_length(text: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    assert utf8_fits(text, size) and (size == 0 or not utf8_fits(text, size - 1))


# --- body caps -----------------------------------------------------------------------------------

LIMITS = RequestLimits.model_validate(DEFAULTS["tenant_config"]["global"]["operational"]["request_limits"])


#: Strings full of the characters the scan must not mistake for structure.
TRICKY_TEXT = st.text(alphabet='[]{}"\\ab', max_size=4)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_the_linear_depth_scan_agrees_with_the_parsed_nesting(value: Any) -> None:
    text = json.dumps(value)
    depth = nesting(value)
    assert not json_depth_exceeds(text, depth)
    assert json_depth_exceeds(text, depth - 1) == (depth > 0)


def nesting(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((nesting(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((nesting(item) for item in value.values()), default=0)
    return 0


def test_a_body_over_the_size_cap_is_413_and_one_at_it_is_accepted() -> None:
    at_cap = json.dumps("x" * (LIMITS.body_max_bytes - 2))
    check_body_limits(api_event("POST", "/x", raw_body=at_cap), LIMITS)
    with pytest.raises(PayloadTooLarge) as raised:
        check_body_limits(api_event("POST", "/x", raw_body=json.dumps("é" * LIMITS.body_max_bytes)), LIMITS)
    assert raised.value.status_code == 413 and raised.value.details[0].field == "body"
    with pytest.raises(PayloadTooLarge):
        check_body_limits(api_event("POST", "/x", raw_body=at_cap + " ", base64_body=True), LIMITS)


@pytest.mark.parametrize("text", ["[" * 100_000, "{" * 50_000, '{"a":' * 40_000])
def test_deep_bodies_are_400_and_the_parser_never_recurses_too_deep(text: str) -> None:
    with pytest.raises(BadRequest) as raised:
        check_body_limits(api_event("POST", "/x", raw_body=text), LIMITS)
    assert raised.value.details[0].type == "json_too_deep"
    # An endpoint that parses without the template's check still gets a 400, not a RecursionError.
    with pytest.raises(BadRequest):
        json_body(api_event("POST", "/x", raw_body="[" * 100_000 + "]" * 100_000))


# --- dependency failures -------------------------------------------------------------------------


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Operation")


@pytest.mark.parametrize(
    "exc",
    [
        client_error("ProvisionedThroughputExceededException"),  # DynamoDB
        client_error("ThrottlingException"),  # DynamoDB, SSM, Secrets Manager, EventBridge
        client_error("Throttling"),  # SNS
        client_error("TooManyRequestsException"),  # Cognito
        client_error("InternalErrorException", 500),  # Cognito
        client_error("InternalServerError", 500),  # DynamoDB
        client_error("SomethingNew", 503),  # any 5xx
        EndpointConnectionError(endpoint_url="https://ssm"),
        ConnectTimeoutError(endpoint_url="https://sns"),
        ReadTimeoutError(endpoint_url="https://dynamodb"),
    ],
    ids=lambda exc: type(exc).__name__ + (f"-{exc.response['Error']['Code']}" if isinstance(exc, ClientError) else ""),
)
def test_throttling_5xx_connection_and_timeouts_are_dependency_failures(exc: Exception) -> None:
    assert is_dependency_failure(exc)
    try:
        try:
            raise exc
        except Exception:
            raise GetParameterError("wrapped by Powertools") from None
    except GetParameterError as wrapped:
        assert is_dependency_failure(wrapped)


@pytest.mark.parametrize("exc", [client_error("ValidationException"), client_error("ConditionalCheckFailedException"), client_error("AccessDeniedException", 403), KeyError("x")])
def test_client_mistakes_and_bugs_are_not_dependency_failures(exc: Exception) -> None:
    assert not is_dependency_failure(exc)


# --- the error model -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        BadRequest("invalid request", [FieldError("a", "b")]),
        Forbidden("forbidden"),
        NotFound("gone"),
        Conflict("clash"),
        PayloadTooLarge("big", [FieldError("body", "too big", "too_large")]),
        ServiceUnavailable("later", retry_after_seconds=5),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_error_body_matches_the_error_model(error: ServiceError) -> None:
    ErrorResponse.model_validate(error.body("req-1"))


def test_the_500_body_matches_the_error_model() -> None:
    assert ErrorResponse.model_validate(internal_error_body("req-1")).error.code == "internal_error"
