"""The function template: Powertools Logger, Metrics and Tracer plus config, for any function.

``FunctionRuntime`` holds what a function builds once per cold start (config client, AWS
clients, observability) and ``wrap`` turns a plain ``(event, context)`` function into the Lambda
handler: log context, tracing, and one metrics flush under the namespace from config.
HTTP functions use ``common.api.ApiFunction``, which builds on this.

>>> runtime = FunctionRuntime(FunctionEnvironment.from_os(), SecretsConfig, code_root=CODE_ROOT)   # doctest: +SKIP
>>> lambda_handler = runtime.wrap(rotate)                                                          # doctest: +SKIP
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from .aws_clients import AwsClients
from .config_client import ConfigurationClient
from .config_schema import OperationalConfig, ServiceConfig
from .environment import FunctionEnvironment
from .errors import ConfigurationError
from .fallback import fallback_path
from .observability import Observability
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
        # Set per invocation: whether config may be read to find the metrics namespace. A
        # request refused for its tenant must not cause any read on the function's behalf.
        self._may_read_config = True

    def wrap(self, handler: Handler[ResultT], *, correlation_id_path: str | None = None) -> Handler[ResultT]:
        """The Lambda handler for ``handler``: log context, tracing and the metrics flush."""

        @functools.wraps(handler)
        def lambda_handler(event: Any, context: Any) -> ResultT:  # noqa: ANN401
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

    def _operational_config(self) -> OperationalConfig | None:
        try:
            return self.config.global_config().model.operational
        except ConfigurationError:
            return None
