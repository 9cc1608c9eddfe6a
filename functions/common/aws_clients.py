"""boto3 clients whose timeouts and retries come from ``global/operational`` config.

botocore's own defaults (a 60 s read timeout, legacy retries) would otherwise decide how long a
function waits on AWS. Clients are created once per process, on first use, from the config that
is current then; a later config change reaches them at the next cold start.

>>> cfg = botocore_config(OperationalConfig.model_validate({
...     "timeouts": {"function_timeout_seconds": 10, "provider_timeout_seconds": 5, "authorizer_ttl_seconds": 300},
...     "retry_policies": {"max_attempts": 3, "base_delay_ms": 100, "max_delay_ms": 2000},
...     "request_limits": {"body_max_bytes": 65536, "body_max_depth": 16}, "dependency_outage": {"retry_after_seconds": 5}}))
>>> cfg.read_timeout, cfg.retries["total_max_attempts"]
(5.0, 3)
"""

from __future__ import annotations

from typing import Any, Callable

import boto3
from botocore.config import Config

from .config_schema import OperationalConfig

# botocore's "standard" retry mode: exponential backoff with jitter on throttling and transient errors.
_RETRY_MODE = "standard"


def botocore_config(operational: OperationalConfig | None) -> Config | None:
    """The botocore ``Config`` for ``operational``; ``None`` (botocore defaults) when unknown."""
    if operational is None:
        return None
    seconds = operational.timeouts.provider_timeout_seconds
    return Config(
        connect_timeout=seconds,
        read_timeout=seconds,
        retries={"total_max_attempts": operational.retry_policies.max_attempts, "mode": _RETRY_MODE},
    )


class AwsClients:
    """Lazily created low-level boto3 clients, one per AWS service, sharing one botocore config.

    >>> clients = AwsClients(lambda: None)
    """

    def __init__(self, operational: Callable[[], OperationalConfig | None]) -> None:
        self._operational = operational
        self._clients: dict[str, Any] = {}

    def client(self, service_name: str) -> Any:
        existing = self._clients.get(service_name)
        if existing is None:
            existing = boto3.client(service_name, config=botocore_config(self._operational()))
            self._clients[service_name] = existing
        return existing

    def reset(self) -> None:
        """Forget the clients, so the next use builds them from current config."""
        self._clients.clear()
