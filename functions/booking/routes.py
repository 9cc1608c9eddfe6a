"""The booking service's routes: the one declaration its component, handler and tests read.

``handler`` names the endpoint ``booking.handler.build`` registers for the route (a method of
``BookingService``); ``operation`` is what the caller's roles must grant.
"""

from __future__ import annotations

from common.routes import NO_OBJECT, AccessRule, ApiRoute, RouteManifest

#: Who may act on one booking: its customer, the driver assigned to it, and operators.
VIEW_BOOKING = AccessRule(object="booking", manage="booking:manage", owner=True, assigned_driver=True)
#: Cancelling is the customer's (or an operator's) decision, never the driver's.
CHANGE_BOOKING = AccessRule(object="booking", manage="booking:manage", owner=True)

ROUTES = RouteManifest(
    "booking",
    (
        ApiRoute("POST", "/bookings/quote", "booking:quote", "quote", access=NO_OBJECT),
        # Idempotent on the Idempotency-Key header.
        ApiRoute("POST", "/bookings", "booking:create", "create", access=NO_OBJECT),
        # ?scope=mine|tenant&limit=&cursor=; the tenant-wide list needs booking:manage (in the service).
        ApiRoute("GET", "/bookings", "booking:read", "list_bookings", access=NO_OBJECT),
        ApiRoute("GET", "/bookings/{booking_id}", "booking:read", "get", access=VIEW_BOOKING),
        ApiRoute("POST", "/bookings/{booking_id}/cancel", "booking:cancel", "cancel", access=CHANGE_BOOKING),
    ),
)
