"""Which failures are a dependency's, not a bug: throttling, 5xx, connection and timeout errors.

A call to DynamoDB, SSM, SNS, EventBridge, Secrets Manager or Cognito that fails this way says
nothing about the request: the client should try again later (503 with ``Retry-After``). Any other
exception is a bug (500). Libraries wrap botocore's errors (Powertools Parameters raises
``GetParameterError`` from inside its ``except``; the idempotency utility raises its own error
``from`` the original), so the whole cause chain is looked at.

>>> from botocore.exceptions import ClientError, EndpointConnectionError
>>> throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutItem")
>>> is_dependency_failure(throttled), is_dependency_failure(EndpointConnectionError(endpoint_url="https://dynamodb"))
(True, True)
>>> is_dependency_failure(ClientError({"Error": {"Code": "ValidationException"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutItem"))
False
"""

from __future__ import annotations

from http import HTTPStatus

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, ReadTimeoutError

#: Error codes AWS services answer when they throttle the caller or fail on their side with a 4xx
#: status (DynamoDB, SSM, SNS, EventBridge, Secrets Manager, Cognito, KMS use these names).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "LimitExceededException",
        "SlowDown",
        "InternalServerError",
        "InternalFailure",
        "InternalErrorException",
        "InternalServiceError",
        "InternalServiceErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSInternalException",
        "DependencyTimeoutException",
    }
)

#: Transport failures: the endpoint could not be reached, the connection dropped, or it timed out.
TRANSPORT_ERRORS = (ConnectionError, HTTPClientError, ReadTimeoutError)


def is_dependency_failure(exc: BaseException) -> bool:
    """Whether ``exc``, or any exception it was raised from or during, is a dependency's failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_own_failure(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_own_failure(exc: BaseException) -> bool:
    if isinstance(exc, TRANSPORT_ERRORS):
        return True
    if not isinstance(exc, ClientError):
        return False
    if exc.response.get("Error", {}).get("Code") in THROTTLING_CODES:
        return True
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return isinstance(status, int) and status >= HTTPStatus.INTERNAL_SERVER_ERROR
