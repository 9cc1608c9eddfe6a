"""Lambda entry point of the payment service: ``payment.handler.lambda_handler``.

Its routes are declared in ``payment.routes``; each names the ``PaymentService`` method here that
serves it.

The function is built once per cold start from its environment; its provider client (and the
circuit breaker's state) lives as long as the warm environment. ``build`` makes one for any
environment and code root; ``opener`` and ``sleep`` replace the HTTPS transport and the backoff
wait (tests pass an in-process fake provider).
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Callable

from common.api import ApiFunction
from common.environment import FunctionEnvironment

from .circuit_breaker import CircuitBreaker
from .config_schema import PaymentConfig
from .provider import Opener, ProviderClient
from .routes import ROUTES
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
    function.add_routes(
        ROUTES, {"authorize": service.authorize, "capture": service.capture, "refund": service.refund, "get": service.get}
    )
    return function


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
