"""What one API request carries from the runtime to its route: caller, config, operation.

The runtime builds the scope after the tenant check; the route wrapper fills in the operation and
the config snapshots; the endpoint may name the resource it touched; the runtime then writes the
audit record from it.

>>> scope = RequestScope(tenant=TenantContext("acme", "u-1", ("customer",)), request_id="r-1", event={}, lambda_context=None)
>>> scope.operation is None
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Mapping, TypeVar

from .config_client import ConfigSnapshot
from .config_schema import GlobalConfig, ServiceConfig
from .errors import ConfigurationError
from .routes import NO_OBJECT, AccessRule
from .tenant import TenantContext

ServiceT = TypeVar("ServiceT", bound=ServiceConfig)


@dataclass
class RequestScope(Generic[ServiceT]):
    """One request's caller and the config it was served with."""

    tenant: TenantContext
    request_id: str
    event: Mapping[str, Any]
    lambda_context: Any
    operation: str | None = None
    #: The route's object-level rule, and whether the endpoint has checked the caller against it.
    access: AccessRule = NO_OBJECT
    access_checked: bool = False
    resource_id: str | None = None
    service_snapshot: ConfigSnapshot[ServiceT] | None = None
    global_snapshot: ConfigSnapshot[GlobalConfig] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def config(self) -> ServiceT:
        """The service's validated config for this request."""
        if self.service_snapshot is None:
            raise ConfigurationError("service config was not loaded for this request")
        return self.service_snapshot.model

    @property
    def global_config(self) -> GlobalConfig:
        if self.global_snapshot is None:
            raise ConfigurationError("global config was not loaded for this request")
        return self.global_snapshot.model

    @property
    def config_version(self) -> str:
        """The version of the service config this request used ("" before it was loaded)."""
        return self.service_snapshot.version if self.service_snapshot is not None else ""

    @property
    def global_config_version(self) -> str:
        return self.global_snapshot.version if self.global_snapshot is not None else ""

    def header(self, name: str) -> str | None:
        """A request header, matched without regard to case (API Gateway keeps the client's case)."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None
