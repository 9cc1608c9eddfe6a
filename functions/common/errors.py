"""The error standard: what a function raises, and the status, code and metric each maps to.

    400 BadRequest     validation details, one entry per field
    403 Forbidden      no detail that would tell whether another tenant's item exists
    404 NotFound       the same message whether the item is missing or belongs to someone else
    409 Conflict       the request clashes with the current state (status, idempotency key)
    413 PayloadTooLarge the body is larger than ``global/operational/request_limits`` allows
    503 ServiceUnavailable a dependency (DynamoDB, SSM, SNS, ...) is throttling or down, or no
                       config can be loaded; answered with ``Retry-After``
    500 (anything else) a bug: the request id, never a stack trace

``ConfigurationUnavailable`` is raised by the config client when neither SSM nor the fallback
document yields valid values; it becomes a 503. Every error body has the shape of ``ErrorResponse``.

>>> err = BadRequest("invalid request body", [FieldError("distance_km", "must be greater than 0")])
>>> err.status_code, err.metric, err.body("req-1")["error"]["details"][0]["field"]
(400, 'ValidationError', 'distance_km')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Sequence

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field: where, what is wrong and (optionally) what was expected."""

    field: str
    message: str
    type: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class ServiceError(Exception):
    """An expected failure with a client-facing status code.

    Subclasses name their status, error code and metric in the class statement.
    """

    status_code: ClassVar[int]
    code: ClassVar[str]
    metric: ClassVar[str]

    def __init_subclass__(cls, *, status_code: int, code: str, metric: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.status_code, cls.code, cls.metric = status_code, code, metric

    def __init__(self, message: str, details: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body of the error response."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "request_id": request_id}
        if self.details:
            error["details"] = [detail.as_dict() for detail in self.details]
        return {"error": error}


class BadRequest(ServiceError, status_code=400, code="validation_error", metric="ValidationError"):
    """The input is malformed or breaks a rule; ``details`` says which fields and why."""


class Forbidden(ServiceError, status_code=403, code="forbidden", metric="AccessDenied"):
    """The caller may not do this (or is not of this function's tenant)."""


class NotFound(ServiceError, status_code=404, code="not_found", metric="NotFound"):
    """There is nothing here the caller may see."""


class Conflict(ServiceError, status_code=409, code="conflict", metric="Conflict"):
    """The request clashes with the current state."""


class PayloadTooLarge(ServiceError, status_code=413, code="payload_too_large", metric="PayloadTooLarge"):
    """The request body is larger than the tenant's request limits allow."""


class ServiceUnavailable(ServiceError, status_code=503, code="service_unavailable", metric="DependencyUnavailable"):
    """A dependency cannot serve the request now; the client may retry after ``retry_after_seconds``.

    Raised without a delay, the API template fills it in from ``global/operational/dependency_outage``.
    """

    def __init__(self, message: str, details: Sequence[FieldError] = (), retry_after_seconds: int | None = None) -> None:
        super().__init__(message, details)
        self.retry_after_seconds = retry_after_seconds

    def body(self, request_id: str) -> dict[str, Any]:
        body = super().body(request_id)
        if self.retry_after_seconds is not None:
            body["error"]["retry_after_seconds"] = self.retry_after_seconds
        return body


class ConfigurationError(Exception):
    """Config could not be read or used (a missing entry, config not loaded for a request)."""

    metric: ClassVar[str] = "ConfigurationError"


class ConfigurationUnavailable(ConfigurationError):
    """Neither SSM nor the fallback document yields valid values for a config tree: a 503."""


INTERNAL_ERROR_STATUS = 500
INTERNAL_ERROR_CODE = "internal_error"
UNEXPECTED_ERROR_METRIC = "UnexpectedError"


def internal_error_body(request_id: str) -> dict[str, Any]:
    """The body of every 500: a fixed message and the request id to quote to support."""
    return {"error": {"code": INTERNAL_ERROR_CODE, "message": "internal server error", "request_id": request_id}}


class ErrorDetail(BaseModel):
    """One ``FieldError`` as the client sees it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    field: str
    message: str
    type: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # A service may add its own errors (``payment_declined``); each is a snake_case code.
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    message: str = Field(min_length=1)
    request_id: str = Field(min_length=1)
    details: list[ErrorDetail] | None = Field(default=None, min_length=1)
    retry_after_seconds: int | None = Field(default=None, ge=0)


class ErrorResponse(BaseModel):
    """The one shape of every 4xx and 5xx body the API template answers with."""

    model_config = ConfigDict(extra="forbid", strict=True)

    error: ErrorBody
