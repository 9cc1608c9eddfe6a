"""What a service offers the tenant's REST API: one ``Route`` per method and path.

Services build their routes next to the functions that serve them; ``ApiGateway`` takes the
routes of every service and builds one API from them, so a service never touches the API's
resources itself.

>>> Route("/config/{path+}", "GET", config_api, "config:read")   # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .function import ServiceFunction

#: A path parameter segment: ``{id}``, or greedy ``{path+}``.
_PARAMETER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\+?\}$")


@dataclass(frozen=True)
class Route:
    """``method path`` served by ``function``; ``operation`` is the name the authorization
    policies use (``booking:create``), recorded as the method's operation name."""

    path: str
    method: str
    function: ServiceFunction
    operation: str

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or self.path.endswith("/") or "//" in self.path:
            raise ValueError(f"route {self.method} {self.path}: expected a path like /config/{{path+}} (leading '/', no trailing '/')")
        if self.method != self.method.upper() or self.method == "OPTIONS":
            raise ValueError(f"route {self.method} {self.path}: expected an upper-case HTTP method other than OPTIONS (the API adds OPTIONS for CORS)")

    @property
    def segments(self) -> list[str]:
        return self.path.strip("/").split("/")

    @property
    def key(self) -> str:
        """``GET /config/{path+}``: identifies the route in the API."""
        return f"{self.method} {self.path}"


def path_parameters(path: str) -> list[str]:
    """The parameter names of ``path``: ``/bookings/{id}`` → ``["id"]``."""
    names = []
    for segment in path.strip("/").split("/"):
        match = _PARAMETER.match(segment)
        if match:
            names.append(match.group(1))
    return names


def arn_path(path: str) -> str:
    """``path`` as it appears in an execute-api ARN: parameters become ``*`` (requests carry
    the actual values, and ``*`` also spans the segments of a greedy ``{path+}``)."""
    return "/".join("*" if _PARAMETER.match(s) else s for s in path.split("/"))
