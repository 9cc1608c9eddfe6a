"""A circuit breaker for the payment provider, set by ``technical/circuit_breakers``.

Closed: calls go through; ``failure_threshold`` consecutive failures open the circuit. Open: calls
are refused at once for ``reset_seconds``, so a provider outage costs the caller nothing but a fast
503 instead of every retry's timeout. Then half-open: one trial call goes through; its success
closes the circuit, its failure opens it again. The state lives in the function's process (one
per warm Lambda environment); the settings are read on every call, so a config change applies
at once.

>>> breaker = CircuitBreaker(clock=lambda: 0.0)
>>> settings = CircuitBreakerSettings(failure_threshold=2, reset_seconds=30)
>>> breaker.record_failure(settings); breaker.record_failure(settings)
>>> breaker.allows(settings)
False
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from .config_schema import CircuitBreakerSettings


class CircuitBreaker:
    """Consecutive-failure circuit breaker; ``clock`` is monotonic seconds (replaceable in tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    def allows(self, settings: CircuitBreakerSettings) -> bool:
        """Whether a call may go to the provider now (in half-open state: only the one trial)."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._clock() - self._opened_at < settings.reset_seconds or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial_running = 0, None, False

    def record_failure(self, settings: CircuitBreakerSettings) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= settings.failure_threshold:
                self._opened_at, self._trial_running = self._clock(), False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None
