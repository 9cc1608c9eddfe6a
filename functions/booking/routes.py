"""The booking service's routes: the one declaration its component, handler and tests read.

``handler`` names the endpoint ``booking.handler.build`` registers for the route (a method of
``BookingService``); ``operation`` is what the caller's roles must grant; ``access`` who may act
on the route's booking; ``body``/``query`` the request model the endpoint parses and
``response`` the model of its success answer (``booking.models``, ``booking.views``).
"""

from __future__ import annotations

from common.routes import NO_OBJECT, AccessRule, ApiRoute, RouteManifest

#: The operation that makes a caller an operator of the tenant's bookings (every booking, and the
#: tenant-wide list).
MANAGE_BOOKINGS = "booking:manage"
#: Who may act on one booking: its customer, the driver assigned to it, and operators.
VIEW_BOOKING = AccessRule(object="booking", manage=MANAGE_BOOKINGS, owner=True, assigned_driver=True)
#: Cancelling is the customer's (or an operator's) decision, never the driver's.
CHANGE_BOOKING = AccessRule(object="booking", manage=MANAGE_BOOKINGS, owner=True)
#: Dispatching (assigning a driver) is for operators only.
DISPATCH_BOOKING = AccessRule(object="booking", manage=MANAGE_BOOKINGS)

BOOKING = "views:BookingView"

ROUTES = RouteManifest(
    "booking",
    (
        ApiRoute("POST", "/bookings/quote", "booking:quote", "quote", access=NO_OBJECT, body="models:QuoteRequest", response="views:QuoteView"),
        # Idempotent on the Idempotency-Key header.
        ApiRoute("POST", "/bookings", "booking:create", "create", access=NO_OBJECT, body="models:CreateBookingRequest", response=BOOKING),
        # The tenant-wide list (?scope=tenant) needs booking:manage (in the service).
        ApiRoute(
            "GET", "/bookings", "booking:read", "list_bookings", access=NO_OBJECT, query="models:ListBookingsQuery", response="views:BookingPageView"
        ),
        ApiRoute("GET", "/bookings/{booking_id}", "booking:read", "get", access=VIEW_BOOKING, response=BOOKING),
        ApiRoute("POST", "/bookings/{booking_id}/cancel", "booking:cancel", "cancel", access=CHANGE_BOOKING, response=BOOKING),
        # Body {"driver_id": ...}: a pending booking is confirmed; a cancelled one is a 409.
        ApiRoute(
            "POST", "/bookings/{booking_id}/assign", "booking:assign", "assign", access=DISPATCH_BOOKING, body="models:AssignDriverRequest", response=BOOKING
        ),
    ),
)
