"""The function template: Powertools Logger, Metrics and Tracer plus config, for any function.

``FunctionRuntime`` holds what a function builds once per cold start (config client, AWS
clients, observability) and ``wrap`` turns a plain ``(event, context)`` function into the Lambda
handler: log context, tracing, and one metrics flush under the namespace from config.
HTTP functions use ``common.api.ApiFunction``, which builds on this.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from .audit import AuditRecord, AuditTrail
from .aws_clients import AwsClients
from .clock import utc_now
from .config_client import ConfigSnapshot, ConfigurationClient
from .config_schema import GlobalConfig, OperationalConfig, ServiceConfig
from .environment import FunctionEnvironment
from .errors import ConfigurationError
from .fallback import fallback_path
from .observability import AUDIT_WRITE_FAILED, Observability
from .ssm_provider import DescribedSSMProvider

ServiceT = TypeVar("ServiceT", bound=ServiceConfig)
ResultT = TypeVar("ResultT")
Handler = Callable[[Any, Any], ResultT]


class FunctionRuntime(Generic[ServiceT]):
    """Everything one function builds at cold start, and the wrapper that makes its handler."""

    def __init__(
        self,
        env: FunctionEnvironment,
        schema: type[ServiceT],
        *,
        code_root: Path,
        provider: DescribedSSMProvider | None = None,
    ) -> None:
        self.env = env
        self.obs = Observability(env)
        self.logger = self.obs.logger
        self.config: ConfigurationClient[ServiceT] = ConfigurationClient(
            env.service,
            env.environment,
            schema=schema,
            tenant_id=env.tenant_id,
            fallback_file=fallback_path(code_root),
            provider=provider,
            metrics=self.obs.metrics,
            logger=self.obs.logger,
        )
        self.aws = AwsClients(self._operational_config)
        self.lambda_handler: Handler[Any] | None = None
        # Set per invocation: whether config may be read to find the metrics namespace. A
        # request refused for its tenant must not cause any read on the function's behalf.
        self._may_read_config = True

    def serve(self, handler: Handler[ResultT], *, correlation_id_path: str | None = None) -> Handler[ResultT]:
        """Make ``handler`` this function's Lambda handler (``self.lambda_handler``) and return it."""
        wrapped = self.wrap(handler, correlation_id_path=correlation_id_path)
        self.lambda_handler = wrapped
        return wrapped

    def wrap(self, handler: Handler[ResultT], *, correlation_id_path: str | None = None) -> Handler[ResultT]:
        """The Lambda handler for ``handler``: log context, tracing and the metrics flush."""

        @functools.wraps(handler)
        def lambda_handler(event: Any, context: Any) -> ResultT:
            self.obs.bind_request()
            self._may_read_config = True
            try:
                return handler(event, context)
            finally:
                self.obs.flush(self.metrics_namespace())

        # clear_state drops the previous request's keys; bind_request then puts the tenant back.
        logged = self.logger.inject_lambda_context(lambda_handler, correlation_id_path=correlation_id_path, clear_state=True)
        # Responses stay out of traces: they may carry customer data.
        return self.obs.tracer.capture_lambda_handler(logged, capture_response=False)

    def refuse_config_reads(self) -> None:
        """For the rest of this invocation, read no config (only cached or packaged values)."""
        self._may_read_config = False

    def metrics_namespace(self) -> str | None:
        """The namespace from config, or, when config may not or cannot be read, the known one."""
        if self._may_read_config:
            try:
                return self.config.observability_config().model.technical.metrics.namespace
            except ConfigurationError:
                pass
        return self.config.known_metrics_namespace()

    def record_audit(
        self,
        *,
        action: str,
        user_id: str,
        request_id: str,
        outcome: str,
        status_code: int | None = None,
        resource_id: str | None = None,
        service_snapshot: ConfigSnapshot[ServiceT] | None = None,
        global_snapshot: ConfigSnapshot[GlobalConfig] | None = None,
    ) -> None:
        """Write one audit record to the audit table in ``integration/resources.audit_table``.

        Uses the snapshots the operation ran with when given (so the record names the config
        version actually used), else the current config. Honours
        ``global/compliance/audit_requirements``. A record that cannot be written is logged and
        counted (``AuditWriteFailed``) and does not fail the operation.
        """
        try:
            settings = global_snapshot or self.config.global_config()
            service = service_snapshot or self.config.service_config()
            compliance = settings.model.compliance
            if not compliance.audit_requirements.enabled:
                return
            record = AuditRecord(
                action=action,
                tenant_id=self.env.tenant_id,
                user_id=user_id,
                request_id=request_id,
                config_version=service.version,
                global_config_version=settings.version,
                outcome=outcome,
                status_code=status_code,
                occurred_at=utc_now(),
                service=self.env.service,
                environment=self.env.environment,
                resource_id=resource_id,
            )
            AuditTrail(self.aws.client("dynamodb")).write(
                record,
                table=service.model.integration.resources.audit_table,  # type: ignore[attr-defined]
                retention_days=compliance.data_retention.days,
                include_config_version=compliance.audit_requirements.include_config_version,
            )
        except Exception:
            self.obs.count(AUDIT_WRITE_FAILED)
            self.logger.exception("audit record not written", extra={"request_id": request_id, "action": action})

    def _operational_config(self) -> OperationalConfig | None:
        try:
            return self.config.global_config().model.operational
        except ConfigurationError:
            return None
