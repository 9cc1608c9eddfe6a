"""Lambda entry point of the payment service: ``payment.handler.lambda_handler``.

    POST /payments/authorize                  payment:authorize   (Idempotency-Key header)
    POST /payments/{payment_id}/capture       payment:capture     (Idempotency-Key header)
    POST /payments/{payment_id}/refund        payment:refund      (Idempotency-Key header)
    GET  /payments/{payment_id}               payment:read

The function is built once per cold start from its environment; its provider client (and the
circuit breaker's state) lives as long as the warm environment. ``build`` makes one for any
environment and code root; ``opener`` and ``sleep`` replace the HTTPS transport and the backoff
wait (tests pass an in-process fake provider).

>>> function = build(FunctionEnvironment("payment", "dev", "acme"), code_root=CODE_ROOT)    # doctest: +SKIP
>>> function.lambda_handler(api_gateway_event, lambda_context)                            # doctest: +SKIP
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Callable

from common.api import ApiFunction, Route
from common.environment import FunctionEnvironment

from .circuit_breaker import CircuitBreaker
from .config_schema import PaymentConfig
from .provider import Opener, ProviderClient
from .service import PaymentService

# The function's code root (LAMBDA_TASK_ROOT in Lambda): where fallback.json is packaged.
CODE_ROOT = Path(__file__).resolve().parent.parent


def build(
    env: FunctionEnvironment,
    code_root: Path = CODE_ROOT,
    *,
    opener: Opener = urllib.request.urlopen,
    sleep: Callable[[float], None] = time.sleep,
) -> ApiFunction[PaymentConfig]:
    """The payment API function for ``env``."""
    function = ApiFunction(env, PaymentConfig, code_root=code_root)
    service = PaymentService(function.aws, ProviderClient(breaker=CircuitBreaker(), opener=opener, sleep=sleep))
    for route in (
        Route("POST", "/payments/authorize", "payment:authorize", service.authorize),
        Route("POST", "/payments/<payment_id>/capture", "payment:capture", service.capture),
        Route("POST", "/payments/<payment_id>/refund", "payment:refund", service.refund),
        Route("GET", "/payments/<payment_id>", "payment:read", service.get),
    ):
        function.add_route(route)
    return function


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
