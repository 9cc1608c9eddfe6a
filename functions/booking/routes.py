"""The booking service's routes: the one declaration its component, handler and tests read.

``handler`` names the endpoint ``booking.handler.build`` registers for the route (a method of
``BookingService``); ``operation`` is what the caller's roles must grant.
"""

from __future__ import annotations

from common.routes import ApiRoute, RouteManifest

ROUTES = RouteManifest(
    "booking",
    (
        ApiRoute("POST", "/bookings/quote", "booking:quote", "quote"),
        # Idempotent on the Idempotency-Key header.
        ApiRoute("POST", "/bookings", "booking:create", "create"),
        # ?scope=mine|tenant&limit=&cursor=
        ApiRoute("GET", "/bookings", "booking:read", "list_bookings"),
        ApiRoute("GET", "/bookings/{booking_id}", "booking:read", "get"),
        ApiRoute("POST", "/bookings/{booking_id}/cancel", "booking:cancel", "cancel"),
    ),
)
