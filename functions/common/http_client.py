"""JSON over HTTPS with the timeout and retries of ``global/operational`` config.

Only ``https://`` URLs are fetched. Connection failures, timeouts, 429 and 5xx answers are
retried with jittered exponential backoff (``common.retry``); other 4xx answers are not, since
asking again would not change them.

>>> client = RetryingHttpClient(timeout_seconds=5, retry=RetryPolicies(max_attempts=3, base_delay_ms=100, max_delay_ms=2000))
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from typing import Any, Callable

from .config_schema import RetryPolicies
from .retry import backoff_seconds

Opener = Callable[..., Any]
_RETRYABLE_STATUS = {HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.GATEWAY_TIMEOUT, HTTPStatus.INTERNAL_SERVER_ERROR}


class HttpFailure(Exception):
    """The request failed for good: after all retries, or with an answer retrying cannot change."""


class RetryingHttpClient:
    """A small HTTPS JSON client; ``opener`` and ``sleep`` can be replaced (tests, other transports)."""

    def __init__(
        self,
        timeout_seconds: float,
        retry: RetryPolicies,
        *,
        opener: Opener = urllib.request.urlopen,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.retry = retry
        self._opener = opener
        self._sleep = sleep

    def get_json(self, url: str) -> Any:
        """GET ``url`` and decode its JSON body."""
        if not url.startswith("https://"):
            raise HttpFailure(f"refusing to fetch a non-HTTPS URL: {url}")
        request = urllib.request.Request(url, headers={"Accept": "application/json"}, method="GET")
        last_error = "no attempt made"
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                with self._opener(request, timeout=self.timeout_seconds) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code not in _RETRYABLE_STATUS:
                    raise HttpFailure(f"GET {url}: HTTP {exc.code}") from None
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last_error = type(exc).__name__
            except (ValueError, RecursionError):
                # RecursionError: an answer nested deeper than json.loads recurses is no JSON we use.
                raise HttpFailure(f"GET {url}: the answer is not JSON") from None
            if attempt < self.retry.max_attempts:
                self._sleep(backoff_seconds(self.retry, attempt))
        raise HttpFailure(f"GET {url}: failed after {self.retry.max_attempts} attempt(s), last: {last_error}")
