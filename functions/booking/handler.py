"""Lambda entry point of the booking service: ``booking.handler.lambda_handler``.

Its routes are declared in ``booking.routes``; each names the ``BookingService`` method here that
serves it.

The function is built once per cold start from its environment (``SERVICE_NAME``,
``ENVIRONMENT``, ``CONFIG_SERVICE_URL``, ``LOG_LEVEL``); ``build`` makes one for any environment
and code root (tests build one per tenant).
"""

from __future__ import annotations

from pathlib import Path

from common.api import ApiFunction
from common.environment import FunctionEnvironment

from .config_schema import BookingConfig
from .routes import ROUTES
from .service import BookingService

# The function's code root (LAMBDA_TASK_ROOT in Lambda): where fallback.json is packaged.
CODE_ROOT = Path(__file__).resolve().parent.parent


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT) -> ApiFunction[BookingConfig]:
    """The booking API function for ``env``."""
    function = ApiFunction(env, BookingConfig, code_root=code_root)
    service = BookingService(function.aws)
    function.add_routes(
        ROUTES,
        {
            "quote": service.quote,
            "create": service.create,
            "list_bookings": service.list_bookings,
            "get": service.get,
            "cancel": service.cancel,
            "assign": service.assign,
        },
    )
    return function


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
