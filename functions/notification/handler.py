"""Lambda entry point of the notification consumer: ``notification.handler.lambda_handler``.

Invoked by the SQS event source mapping of ``<tenant>-<env>-notifications`` with
``ReportBatchItemFailures``; returns ``{"batchItemFailures": [...]}``. ``build`` makes the function
for any environment and code root (tests build one per tenant).
"""

from __future__ import annotations

from pathlib import Path

from common.environment import FunctionEnvironment
from common.runtime import FunctionRuntime

from .config_schema import NotificationConfig
from .consumer import NotificationConsumer

# The function's code root (LAMBDA_TASK_ROOT in Lambda): where fallback.json is packaged.
CODE_ROOT = Path(__file__).resolve().parent.parent


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT) -> FunctionRuntime[NotificationConfig]:
    """The notification consumer function for ``env``."""
    runtime = FunctionRuntime(env, NotificationConfig, code_root=code_root)
    runtime.serve(NotificationConsumer(runtime).handle)
    return runtime


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
