"""The payment provider's HTTPS API: authorize, capture, refund, with retries and a circuit breaker.

    POST {endpoint}/authorizations                  {"amount_minor", "currency", "reference"}
    POST {endpoint}/authorizations/{id}/capture     {"amount_minor"}
    POST {endpoint}/authorizations/{id}/refunds     {"amount_minor", "reference"}

Every request carries the API key (``Authorization: Bearer``) and an ``Idempotency-Key`` derived
from our own ids, so a retried request (ours, or a client's retry after a lost answer) is one
charge at the provider. That is what makes retrying a POST safe here.

Timeout and retries come from ``global/operational`` (``common.retry`` backoff); connection
failures, timeouts, 429 and 5xx are retried, a 402 is a decline and other 4xx answers are the
provider refusing the request. Failures that mean "provider unavailable" count towards the
circuit breaker; declines do not.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable, Mapping

from common.config_schema import GlobalConfig, OperationalConfig
from common.retry import backoff_seconds

from .api_key import ProviderApiKey
from .circuit_breaker import CircuitBreaker
from .config_schema import CircuitBreakerSettings, PaymentConfig
from .errors import PaymentDeclined, ProviderAnswerUnreadable, ProviderError, ProviderUnavailable

Opener = Callable[..., Any]
_RETRYABLE = {HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.GATEWAY_TIMEOUT}
_UNAVAILABLE = "payment provider unavailable, retry later with the same Idempotency-Key"


@dataclass(frozen=True)
class ProviderCall:
    """What one request to the provider is made with: where, with which key, under which limits."""

    endpoint: str
    api_key: str
    operational: OperationalConfig
    breaker_settings: CircuitBreakerSettings


def provider_call(config: PaymentConfig, global_config: GlobalConfig, api_key: ProviderApiKey) -> ProviderCall:
    """How the tenant's provider is called under ``config``: its endpoint, the API key from its
    secret (cached for ``technical/cache.max_age_seconds``), timeouts, retries and breaker."""
    integration, technical = config.integration, config.technical
    return ProviderCall(
        endpoint=integration.external_apis.provider_endpoint,
        api_key=api_key.get(integration.resources.provider_secret_arn, integration.external_apis.provider_api_key_field, technical.cache.max_age_seconds),
        operational=global_config.operational,
        breaker_settings=technical.circuit_breakers,
    )


class _Retryable(Exception):
    """A failure another attempt may cure."""


class ProviderClient:
    """Posts JSON to the provider; ``opener`` and ``sleep`` are replaceable (tests, other transports)."""

    def __init__(self, *, breaker: CircuitBreaker, opener: Opener = urllib.request.urlopen, sleep: Callable[[float], None] = time.sleep) -> None:
        self.breaker = breaker
        self._opener = opener
        self._sleep = sleep

    def post(self, call: ProviderCall, path: str, body: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST ``body`` to ``path`` under the endpoint; the provider's JSON answer.

        Raises ``PaymentDeclined`` (402), ``ProviderError`` (other 4xx, or an answer that is not a
        JSON object with an id: ``ProviderAnswerUnreadable``) or ``ProviderUnavailable`` (retries
        exhausted, or the circuit is open).
        """
        if not self.breaker.allows(call.breaker_settings):
            raise ProviderUnavailable(_UNAVAILABLE)
        request = urllib.request.Request(
            call.endpoint.rstrip("/") + path,
            data=json.dumps(body, separators=(",", ":")).encode(),
            headers={"Authorization": f"Bearer {call.api_key}", "Idempotency-Key": idempotency_key, "Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        policy = call.operational.retry_policies
        for attempt in range(1, policy.max_attempts + 1):
            try:
                answer = self._attempt(request, call.operational.timeouts.provider_timeout_seconds)
            except _Retryable:
                if attempt < policy.max_attempts:
                    self._sleep(backoff_seconds(policy, attempt))
                continue
            except (PaymentDeclined, ProviderError):
                self.breaker.record_success()  # the provider answered: it is up
                raise
            self.breaker.record_success()
            return answer
        self.breaker.record_failure(call.breaker_settings)
        raise ProviderUnavailable(_UNAVAILABLE)

    def _attempt(self, request: urllib.request.Request, timeout_seconds: float) -> dict[str, Any]:
        try:
            with self._opener(request, timeout=timeout_seconds) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code in _RETRYABLE:
                raise _Retryable(str(exc.code)) from None
            if exc.code == HTTPStatus.PAYMENT_REQUIRED:
                raise PaymentDeclined("the payment provider declined this payment") from None
            raise ProviderError(f"the payment provider refused the request (HTTP {exc.code})") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise _Retryable(type(exc).__name__) from None
        except (ValueError, RecursionError):
            # RecursionError: an answer nested deeper than json.loads recurses is no answer we use.
            raise ProviderAnswerUnreadable("the payment provider's answer is not JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise ProviderAnswerUnreadable("the payment provider's answer has no id")
        return answer
