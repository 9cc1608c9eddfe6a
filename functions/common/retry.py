"""Backoff delays from ``global/operational/retry_policies``.

Exponential backoff with "full jitter": attempt ``n`` (1-based) waits a random time between zero
and ``min(max_delay, base_delay * 2**(n-1))``, which spreads retries of many clients apart.

>>> policy = RetryPolicies(max_attempts=3, base_delay_ms=100, max_delay_ms=2000)
>>> [backoff_ceiling_ms(policy, attempt) for attempt in (1, 2, 3, 10)]
[100, 200, 400, 2000]
"""

from __future__ import annotations

import random

from .config_schema import RetryPolicies

MILLISECONDS_PER_SECOND = 1000


def backoff_ceiling_ms(policy: RetryPolicies, attempt: int) -> int:
    """The longest wait before retrying after failed attempt ``attempt``."""
    return min(policy.max_delay_ms, policy.base_delay_ms * (2 ** (attempt - 1)))


def backoff_seconds(policy: RetryPolicies, attempt: int, rng: random.Random | None = None) -> float:
    """A jittered wait in seconds before retrying after failed attempt ``attempt``."""
    return (rng or random).uniform(0, backoff_ceiling_ms(policy, attempt)) / MILLISECONDS_PER_SECOND
