"""The only environment a platform function reads: SERVICE_NAME, ENVIRONMENT, CONFIG_SERVICE_URL, LOG_LEVEL.

``CONFIG_SERVICE_URL`` is ``ssm:///<tenant_id>``: the root of the function's own tenant config
namespace in SSM Parameter Store. The function's own tenant id is read from it, and every request
is checked against that tenant.

>>> env = FunctionEnvironment.from_mapping(
...     {"SERVICE_NAME": "booking", "ENVIRONMENT": "dev", "CONFIG_SERVICE_URL": "ssm:///acme"})
>>> env.tenant_id, env.service_namespace
('acme', '/acme/services/booking/dev')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

CONFIG_URL_SCHEME = "ssm://"
# A tenant id is a DNS label (the registry enforces the same rule); checking it here keeps a
# mistyped URL from ever becoming part of an SSM path or a DynamoDB key.
_TENANT_ID = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class InvalidEnvironment(ValueError):
    """The function's environment is missing a variable or holds a malformed one."""


@dataclass(frozen=True)
class FunctionEnvironment:
    """What the function knows about itself before it reads any config."""

    service: str
    environment: str
    tenant_id: str
    log_level: str | None = None

    @staticmethod
    def parse_config_url(url: str) -> str:
        """The tenant id of a ``ssm:///<tenant_id>`` URL.

        >>> FunctionEnvironment.parse_config_url("ssm:///globex")
        'globex'
        """
        if not url.startswith(CONFIG_URL_SCHEME):
            raise InvalidEnvironment(f"CONFIG_SERVICE_URL: expected ssm:///<tenant_id>, got {url!r}")
        path = url[len(CONFIG_URL_SCHEME) :]
        tenant = path.strip("/")
        if not path.startswith("/") or not _TENANT_ID.match(tenant):
            raise InvalidEnvironment(f"CONFIG_SERVICE_URL: expected ssm:///<tenant_id> with a DNS-label tenant id, got {url!r}")
        return tenant

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> FunctionEnvironment:
        """Parse the variables from ``env`` (``os.environ`` in Lambda)."""
        missing = [name for name in ("SERVICE_NAME", "ENVIRONMENT", "CONFIG_SERVICE_URL") if not env.get(name)]
        if missing:
            raise InvalidEnvironment(f"missing environment variable(s): {', '.join(missing)}")
        for name in ("SERVICE_NAME", "ENVIRONMENT"):
            if not _NAME.match(env[name]):
                raise InvalidEnvironment(f"{name}: expected lowercase letters, digits, '-' or '_', got {env[name]!r}")
        return cls(
            service=env["SERVICE_NAME"],
            environment=env["ENVIRONMENT"],
            tenant_id=cls.parse_config_url(env["CONFIG_SERVICE_URL"]),
            log_level=env.get("LOG_LEVEL") or None,
        )

    @classmethod
    def from_os(cls) -> FunctionEnvironment:
        """Parse the running process's environment."""
        return cls.from_mapping(os.environ)

    @property
    def config_root(self) -> str:
        """``/<tenant_id>``: the root of the tenant's config namespace."""
        return f"/{self.tenant_id}"

    @property
    def global_namespace(self) -> str:
        return f"/{self.tenant_id}/global"

    @property
    def service_namespace(self) -> str:
        return self.namespace_of(self.service)

    def namespace_of(self, service: str) -> str:
        """``/<tenant>/services/<service>/<env>``: a service's config namespace in this environment."""
        return f"/{self.tenant_id}/services/{service}/{self.environment}"
