"""The configuration service's routes: the one declaration its component, handler and tests read.

``GET /config/{path+}`` lists or returns entries of the caller's own tenant namespace; ``path`` is
relative to the tenant root (``/config/global/compliance``).
"""

from __future__ import annotations

from common.routes import NO_OBJECT, ApiRoute, RouteManifest

#: The greedy parameter that carries the namespace path.
PATH_PARAMETER = "path"
#: What precedes the namespace path in a request path.
ROUTE_PREFIX = "/config/"

ROUTES = RouteManifest(
    "configuration",
    (ApiRoute("GET", f"{ROUTE_PREFIX}{{{PATH_PARAMETER}+}}", "config:read", "read", access=NO_OBJECT, response="views:ConfigListingView"),),
)
