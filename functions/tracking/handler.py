"""Lambda entry point of the tracking service: ``tracking.handler.lambda_handler``.

Its routes are declared in ``tracking.routes``; each names the ``TrackingService`` method here
that serves it.

The function is built once per cold start from its environment; ``build`` makes one for any
environment and code root (tests build one per tenant).
"""

from __future__ import annotations

from pathlib import Path

from common.api import ApiFunction
from common.environment import FunctionEnvironment

from .config_schema import TrackingConfig
from .routes import ROUTES
from .service import TrackingService

# The function's code root (LAMBDA_TASK_ROOT in Lambda): where fallback.json is packaged.
CODE_ROOT = Path(__file__).resolve().parent.parent


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT) -> ApiFunction[TrackingConfig]:
    """The tracking API function for ``env``."""
    function = ApiFunction(env, TrackingConfig, code_root=code_root)
    service = TrackingService(function.aws)
    function.add_routes(ROUTES, {"ingest": service.ingest, "latest": service.latest, "history": service.history})
    return function


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
