"""Lambda entry point of the rotation function: ``secrets.handler.lambda_handler``.

Receives Secrets Manager rotation events (``SecretId``, ``ClientRequestToken``, ``Step``), runs the
step (``secrets.rotation``), writes one audit record per step (the secret's name and the outcome,
never a value) and counts ``OperationSuccess`` or ``RotationFailed`` (``TenantMismatch`` for
another tenant's secret). A failed step raises, which is how Secrets Manager learns of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from common.audit import DENIED, ERROR, SUCCESS
from common.environment import FunctionEnvironment
from common.observability import OPERATION_SUCCESS, TENANT_MISMATCH
from common.runtime import FunctionRuntime

from .config_schema import SecretsConfig
from .rotation import ForeignSecret, SecretRotation

CODE_ROOT = Path(__file__).resolve().parent.parent
ROTATION_FAILED = "RotationFailed"
# Who asks for a rotation: the Secrets Manager service itself.
ROTATION_CALLER = "secretsmanager.amazonaws.com"


class RotationHandler:
    """Runs one rotation step per invocation and accounts for it."""

    def __init__(self, runtime: FunctionRuntime[SecretsConfig]) -> None:
        self._runtime = runtime

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, str]:
        step, secret_id, token = (str(event.get(key, "")) for key in ("Step", "SecretId", "ClientRequestToken"))
        obs = self._runtime.obs
        obs.annotate(tenant_id=self._runtime.env.tenant_id, operation=f"secrets:{step}")
        config = self._runtime.config.service_config()
        rotation = SecretRotation(self._runtime.aws.client("secretsmanager"), self._runtime.env.tenant_id, config.model.technical)
        request_id = str(getattr(context, "aws_request_id", ""))
        outcome = ERROR
        try:
            done = rotation.run(step, secret_id, token)
        except ForeignSecret as exc:
            outcome = DENIED
            obs.count(TENANT_MISMATCH)
            self._runtime.logger.warning("rotation refused", extra={"step": step, "reason": str(exc)})
            raise
        except Exception as exc:
            obs.count(ROTATION_FAILED)
            self._runtime.logger.error("rotation step failed", extra={"step": step, "reason": str(exc), "error_type": type(exc).__name__})
            raise
        else:
            outcome = SUCCESS
            obs.count(OPERATION_SUCCESS)
            self._runtime.logger.info("rotation step done", extra={"step": step, "result": done})
            return {"step": step, "result": done}
        finally:
            self._runtime.record_audit(
                action=f"secrets:{step}", user_id=ROTATION_CALLER, request_id=request_id, outcome=outcome, resource_id=secret_id, service_snapshot=config
            )


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT) -> FunctionRuntime[SecretsConfig]:
    """The rotation function for ``env``."""
    runtime = FunctionRuntime(env, SecretsConfig, code_root=code_root)
    runtime.serve(RotationHandler(runtime).handle)
    return runtime


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
