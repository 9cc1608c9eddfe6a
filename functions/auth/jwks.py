"""The user pool's signing keys (JWKS), fetched over HTTPS and cached.

Keys are kept for the auth service's ``technical.cache.max_age_seconds``. A token signed with a
key id that is not in the cached set is rejected, not answered with a refetch, so random key ids
cannot make the authorizer hammer the JWKS endpoint; a rotated pool key is picked up when the
cache age runs out. If a refetch fails while an expired set is at hand, the expired set is used
(and said so in the log): Cognito keys change rarely, and locking every user out because the
JWKS endpoint blinked would be worse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

from common.http_client import HttpFailure


class JwksUnavailable(Exception):
    """No signing keys could be obtained."""


@dataclass(frozen=True)
class _KeySet:
    url: str
    keys: dict[str, PyJWK]
    fetched_at: float


class JwksCache:
    """Signing keys by key id, per JWKS URL, refreshed after ``max_age`` seconds."""

    def __init__(self, fetch: Callable[[str], Any], clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._current: _KeySet | None = None
        self.stale_uses = 0

    def signing_key(self, url: str, kid: str, max_age: int) -> PyJWK | None:
        """The key ``kid`` of the set at ``url``, or ``None`` when the set has no such key."""
        return self._key_set(url, max_age).keys.get(kid)

    def _key_set(self, url: str, max_age: int) -> _KeySet:
        now = self._clock()
        current = self._current
        if current is not None and current.url == url and now - current.fetched_at < max_age:
            return current
        try:
            document = self._fetch(url)
            keys = {key.key_id: key for key in PyJWKSet.from_dict(document).keys if key.key_id}
        except (HttpFailure, PyJWKError, PyJWKSetError, TypeError, KeyError) as exc:
            if current is not None and current.url == url:
                self.stale_uses += 1
                return current
            raise JwksUnavailable(f"signing keys unavailable: {type(exc).__name__}") from None
        self._current = _KeySet(url=url, keys=keys, fetched_at=now)
        return self._current
