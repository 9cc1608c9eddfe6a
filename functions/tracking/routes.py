"""The tracking service's routes: the one declaration its component, handler and tests read.

``handler`` names the endpoint ``tracking.handler.build`` registers for the route (a method of
``TrackingService``); ``operation`` is what the caller's roles must grant; ``access`` who may act
on the route's booking; ``body``/``query`` the request model the endpoint parses and
``response`` the model of its success answer (``tracking.models``, ``tracking.views``).
"""

from __future__ import annotations

from common.routes import AccessRule, ApiRoute, RouteManifest

#: Positions belong to their booking: only the driver assigned to it (or an operator) reports them.
REPORT_POSITION = AccessRule(object="booking", manage="booking:manage", assigned_driver=True)
#: The booking's customer, its assigned driver and operators follow it.
FOLLOW_BOOKING = AccessRule(object="booking", manage="booking:manage", owner=True, assigned_driver=True)

POSITION = "views:PositionView"

ROUTES = RouteManifest(
    "tracking",
    (
        ApiRoute(
            "POST", "/tracking/{booking_id}/positions", "tracking:write", "ingest", access=REPORT_POSITION, body="models:PositionUpdate", response=POSITION
        ),
        ApiRoute("GET", "/tracking/{booking_id}/latest", "tracking:read", "latest", access=FOLLOW_BOOKING, response=POSITION),
        ApiRoute(
            "GET",
            "/tracking/{booking_id}/history",
            "tracking:read",
            "history",
            access=FOLLOW_BOOKING,
            query="models:HistoryQuery",
            response="views:PositionHistoryView",
        ),
    ),
)
