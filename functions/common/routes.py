"""Route manifests: the one declaration of what a service's REST API offers.

Each API service keeps its manifest in ``<service>/routes.py``. Three parties read it, so they
cannot drift apart:

- the service's component creates one API Gateway method per route (``components.routes``);
- the service's handler registers one endpoint per route (``common.api.ApiFunction.add_routes``);
- the tests compare both against it.

This module imports only the standard library: the infrastructure loads it without the functions'
AWS dependencies (``ubertruck.contracts``).

>>> OWN_BOOKING = AccessRule(object="booking", manage="booking:manage", owner=True, assigned_driver=True)
>>> BOOKING = RouteManifest("booking", (ApiRoute("GET", "/bookings/{booking_id}", "booking:read", "get", access=OWN_BOOKING),))
>>> BOOKING.routes[0].parameters
('booking_id',)
>>> BOOKING.routes[0].router_rule
'/bookings/<booking_id>'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: A path parameter segment: ``{id}``, or greedy ``{path+}`` (spans the rest of the path).
_PARAMETER = re.compile(r"^\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<greedy>\+?)\}$")
#: A literal segment: what API Gateway accepts as a resource's path part, minus the braces.
_LITERAL = re.compile(r"^[A-Za-z0-9._~-]+$")
#: A Python identifier: a handler is named the way its endpoint function is.
_HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: ``module:Class`` inside the service's package: a route's request or response model.
_MODEL_REF = re.compile(r"^[a-z_][a-z0-9_]*:[A-Z][A-Za-z0-9_]*$")
#: ``service:action``, the name the authorization policies grant (``booking:read``).
_OPERATION = re.compile(r"^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$")
#: The methods a route may use; OPTIONS is the API's own, for CORS preflights only.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: The Powertools rule of a greedy parameter: any rest of the path. The endpoint reads the value
#: from the event's path parameters (the request path may carry a custom domain's base path).
_GREEDY_RULE = ".+"


@dataclass(frozen=True)
class AccessRule:
    """Who may act on the one object a route reads or writes (OWASP API1, object-level authorization).

    The route's ``operation`` says what a caller's roles must grant at all; this rule says on
    *which* objects. ``object`` names the kind of object (``booking``, ``payment``); a caller
    granted ``manage`` is an operator and may act on every such object of the tenant; otherwise
    the object's ``owner`` (the customer who created it) and, where allowed, the driver assigned
    to its booking may act on it; a rule allowing neither is for operators only. The endpoint loads the object's parties and calls
    ``common.access.check_access``; a refusal reads exactly like a missing object.

    A route that acts on no single object (a quote, a create, the caller's own list, the config
    namespace) declares ``NO_OBJECT``.
    """

    object: str | None
    manage: str | None = None
    owner: bool = False
    assigned_driver: bool = False

    def __post_init__(self) -> None:
        if self.object is None:
            if self.manage is not None or self.owner or self.assigned_driver:
                raise ValueError("an access rule without an object grants nothing per object")
            return
        if self.manage is None or not _OPERATION.match(self.manage):
            raise ValueError(f"access rule for {self.object}: manage must be an operation like booking:manage")

    @property
    def per_object(self) -> bool:
        """Whether the route must check the caller against its object's parties."""
        return self.object is not None


#: The rule of a route that reads or writes no single object.
NO_OBJECT = AccessRule(object=None)


def parameter_of(segment: str) -> tuple[str, bool] | None:
    """``(name, greedy)`` when ``segment`` is a path parameter, else None.

    >>> parameter_of("{path+}"), parameter_of("bookings")
    (('path', True), None)
    """
    match = _PARAMETER.match(segment)
    return (match.group("name"), bool(match.group("greedy"))) if match else None


@dataclass(frozen=True)
class ApiRoute:
    """``method path``, performing ``operation``, served by the endpoint called ``handler``.

    ``path`` is the API Gateway template (``/bookings/{booking_id}``). ``authorized`` routes go
    through the tenant's Lambda authorizer; the policy packs refuse any route that does not.
    ``access`` is required (keyword): each route says, next to its path, who may act on its object.
    ``body``, ``query`` and ``response`` name the route's pydantic models as ``module:Class`` in the
    service's package (``models:CreateBookingRequest``): the typed contract its endpoint parses and
    answers with, which the fuzz suite drives every route from.
    """

    method: str
    path: str
    operation: str
    handler: str
    authorized: bool = True
    access: AccessRule = field(kw_only=True)
    body: str | None = field(default=None, kw_only=True)
    query: str | None = field(default=None, kw_only=True)
    response: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        where = f"route {self.method} {self.path}"
        if self.method not in METHODS:
            raise ValueError(f"{where}: expected one of {list(METHODS)} (the API adds OPTIONS for CORS)")
        if not self.path.startswith("/") or self.path.endswith("/") or "//" in self.path:
            raise ValueError(f"{where}: expected a path like /config/{{path+}} (leading '/', no trailing '/')")
        for index, segment in enumerate(self.segments):
            parameter = parameter_of(segment)
            if parameter is None and not _LITERAL.match(segment):
                raise ValueError(f"{where}: segment {segment!r} is neither a literal nor a parameter like {{id}}")
            if parameter is not None and parameter[1] and index != len(self.segments) - 1:
                raise ValueError(f"{where}: a greedy parameter {{{parameter[0]}+}} must be the last segment")
        if len(set(self.parameters)) != len(self.parameters):
            raise ValueError(f"{where}: a parameter name appears twice")
        if not _OPERATION.match(self.operation):
            raise ValueError(f"{where}: operation {self.operation!r}; expected service:action, like booking:read")
        if not _HANDLER.match(self.handler):
            raise ValueError(f"{where}: handler {self.handler!r}; expected the endpoint's Python name")
        for role, ref in (("body", self.body), ("query", self.query), ("response", self.response)):
            if ref is not None and not _MODEL_REF.match(ref):
                raise ValueError(f"{where}: {role} model {ref!r}; expected module:Class in the service's package")

    @property
    def key(self) -> str:
        """``GET /config/{path+}``: identifies the route in the API."""
        return f"{self.method} {self.path}"

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    @property
    def parameters(self) -> tuple[str, ...]:
        """The path parameters' names, in path order: ``/bookings/{id}`` → ``("id",)``."""
        found = (parameter_of(s) for s in self.segments)
        return tuple(p[0] for p in found if p is not None)

    @property
    def router_rule(self) -> str:
        """The path as a Powertools resolver rule: ``{id}`` becomes ``<id>`` (passed to the
        endpoint by name); a greedy ``{path+}`` matches the rest of the path."""
        parts = []
        for segment in self.segments:
            parameter = parameter_of(segment)
            if parameter is None:
                parts.append(segment)
            else:
                parts.append(_GREEDY_RULE if parameter[1] else f"<{parameter[0]}>")
        return "/" + "/".join(parts)


@dataclass(frozen=True)
class RouteManifest:
    """Every route of one service, each method and path once."""

    service: str
    routes: tuple[ApiRoute, ...]

    def __post_init__(self) -> None:
        if not self.routes:
            raise ValueError(f"route manifest of {self.service}: no routes; a service without an API has no manifest")
        keys = [r.key for r in self.routes]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"route manifest of {self.service}: {twice} declared twice")

    @property
    def handlers(self) -> frozenset[str]:
        """The endpoint names the service's handler must provide, exactly."""
        return frozenset(r.handler for r in self.routes)
