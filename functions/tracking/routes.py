"""The tracking service's routes: the one declaration its component, handler and tests read.

``handler`` names the endpoint ``tracking.handler.build`` registers for the route (a method of
``TrackingService``); ``operation`` is what the caller's roles must grant.
"""

from __future__ import annotations

from common.routes import ApiRoute, RouteManifest

ROUTES = RouteManifest(
    "tracking",
    (
        ApiRoute("POST", "/tracking/{booking_id}/positions", "tracking:write", "ingest"),
        ApiRoute("GET", "/tracking/{booking_id}/latest", "tracking:read", "latest"),
        # ?limit=&cursor=
        ApiRoute("GET", "/tracking/{booking_id}/history", "tracking:read", "history"),
    ),
)
