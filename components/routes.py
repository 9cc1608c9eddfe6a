"""What a service offers the tenant's REST API: its route manifest, bound to the function serving it.

A service declares its routes once, in ``functions/<service>/routes.py`` (see
``functions/common/routes.py``); its handler registers its endpoints from the same manifest. The
service's component binds each manifest route to its function (``service_routes``), and
``ApiGateway`` builds one API from every service's routes, so a service never touches the API's
resources itself and never spells a path of its own.

>>> [r.key for r in route_manifest("configuration").routes]
['GET /config/{path+}']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ubertruck.contracts import load_function_module

from .function import ServiceFunction

if TYPE_CHECKING:
    # The same classes the loader returns: the manifests' own ``common.routes`` (mypy finds
    # ``common`` through typings/, as Lambda finds it on the layer).
    from common.routes import ApiRoute, RouteManifest

#: The manifest module of a service package, and the name it binds its manifest to.
ROUTES_MODULE = "routes"
MANIFEST_NAME = "ROUTES"

_manifest_types = load_function_module("common", ROUTES_MODULE)


def route_manifest(service: str) -> RouteManifest:
    """``functions/<service>/routes.py``'s manifest, checked to be the service's own."""
    manifest = getattr(load_function_module(service, ROUTES_MODULE), MANIFEST_NAME, None)
    if not isinstance(manifest, _manifest_types.RouteManifest):
        raise TypeError(f"functions/{service}/{ROUTES_MODULE}.py: expected {MANIFEST_NAME} = RouteManifest(...)")
    if manifest.service != service:
        raise ValueError(f"functions/{service}/{ROUTES_MODULE}.py: the manifest names service '{manifest.service}'; expected '{service}'")
    return manifest


@dataclass(frozen=True)
class Route:
    """A manifest route served by ``function``; ``operation`` is the name the authorization
    policies use (``booking:create``), recorded as the method's operation name."""

    spec: ApiRoute
    function: ServiceFunction

    @property
    def path(self) -> str:
        return self.spec.path

    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def operation(self) -> str:
        return self.spec.operation

    @property
    def authorized(self) -> bool:
        return self.spec.authorized

    @property
    def segments(self) -> list[str]:
        return list(self.spec.segments)

    @property
    def parameters(self) -> tuple[str, ...]:
        return self.spec.parameters

    @property
    def key(self) -> str:
        """``GET /config/{path+}``: identifies the route in the API."""
        return self.spec.key


def service_routes(service: str, function: ServiceFunction) -> list[Route]:
    """Every route of ``service``'s manifest, served by ``function``."""
    return [Route(spec, function) for spec in route_manifest(service).routes]


def arn_path(path: str) -> str:
    """``path`` as it appears in an execute-api ARN: parameters become ``*`` (requests carry
    the actual values, and ``*`` also spans the segments of a greedy ``{path+}``)."""
    return "/".join("*" if _manifest_types.parameter_of(s) else s for s in path.split("/"))
