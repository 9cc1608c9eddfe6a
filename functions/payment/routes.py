"""The payment service's routes: the one declaration its component, handler and tests read.

``handler`` names the endpoint ``payment.handler.build`` registers for the route (a method of
``PaymentService``); ``operation`` is what the caller's roles must grant.
"""

from __future__ import annotations

from common.routes import ApiRoute, RouteManifest

ROUTES = RouteManifest(
    "payment",
    (
        # authorize, capture and refund are idempotent on the Idempotency-Key header.
        ApiRoute("POST", "/payments/authorize", "payment:authorize", "authorize"),
        ApiRoute("POST", "/payments/{payment_id}/capture", "payment:capture", "capture"),
        ApiRoute("POST", "/payments/{payment_id}/refund", "payment:refund", "refund"),
        ApiRoute("GET", "/payments/{payment_id}", "payment:read", "get"),
    ),
)
