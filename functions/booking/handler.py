"""Lambda entry point of the booking service: ``booking.handler.lambda_handler``.

    POST /bookings/quote                   booking:quote
    POST /bookings                         booking:create   (Idempotency-Key header)
    GET  /bookings                         booking:read     (?scope=mine|tenant&limit=&cursor=)
    GET  /bookings/{booking_id}            booking:read
    POST /bookings/{booking_id}/cancel     booking:cancel

The function is built once per cold start from its environment (``SERVICE_NAME``,
``ENVIRONMENT``, ``CONFIG_SERVICE_URL``, ``LOG_LEVEL``); ``build`` makes one for any environment
and code root (tests build one per tenant).

>>> function = build(FunctionEnvironment("booking", "dev", "acme"), code_root=CODE_ROOT)    # doctest: +SKIP
>>> function.lambda_handler(api_gateway_event, lambda_context)                           # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from common.api import ApiFunction, Route
from common.environment import FunctionEnvironment

from .config_schema import BookingConfig
from .service import BookingService

# The function's code root (LAMBDA_TASK_ROOT in Lambda): where fallback.json is packaged.
CODE_ROOT = Path(__file__).resolve().parent.parent


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT) -> ApiFunction[BookingConfig]:
    """The booking API function for ``env``."""
    function = ApiFunction(env, BookingConfig, code_root=code_root)
    service = BookingService(function.aws)
    for route in (
        Route("POST", "/bookings/quote", "booking:quote", service.quote),
        Route("POST", "/bookings", "booking:create", service.create),
        Route("GET", "/bookings", "booking:read", service.list_bookings),
        Route("GET", "/bookings/<booking_id>", "booking:read", service.get),
        Route("POST", "/bookings/<booking_id>/cancel", "booking:cancel", service.cancel),
    ):
        function.add_route(route)
    return function


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
