"""The payment service's routes: the one declaration its component, handler and tests read.

``handler`` names the endpoint ``payment.handler.build`` registers for the route (a method of
``PaymentService``); ``operation`` is what the caller's roles must grant; ``body`` and
``response`` the pydantic models it parses and answers with (a capture's body may be left out:
capture the whole authorization).
"""

from __future__ import annotations

from common.routes import AccessRule, ApiRoute, RouteManifest

#: Authorizing pays for a booking: the booking's customer (or an operator) may.
PAY_FOR_BOOKING = AccessRule(object="booking", manage="payment:manage", owner=True)
#: A payment is its payer's; operators reach every payment of the tenant.
OWN_PAYMENT = AccessRule(object="payment", manage="payment:manage", owner=True)

ROUTES = RouteManifest(
    "payment",
    (
        # authorize, capture and refund are idempotent on the Idempotency-Key header.
        ApiRoute("POST", "/payments/authorize", "payment:authorize", "authorize", access=PAY_FOR_BOOKING, body="models:AuthorizeRequest", response="views:PaymentView"),
        ApiRoute("POST", "/payments/{payment_id}/capture", "payment:capture", "capture", access=OWN_PAYMENT, body="models:CaptureRequest", response="views:PaymentView"),
        ApiRoute("POST", "/payments/{payment_id}/refund", "payment:refund", "refund", access=OWN_PAYMENT, body="models:RefundRequest", response="views:RefundAnswer"),
        ApiRoute("GET", "/payments/{payment_id}", "payment:read", "get", access=OWN_PAYMENT, response="views:PaymentView"),
    ),
)
