"""Logger, Metrics and Tracer for one function, set up the way every platform function uses them.

- Logger: JSON lines with the function's own ``tenant_id`` on every line.
- Metrics: CloudWatch EMF under the namespace from config
  (``services/observability/{env}/technical/metrics``), with ``service``, ``tenant_id`` and
  ``environment`` as dimensions. Metrics are buffered during the invocation and flushed once.
- Tracer: X-Ray, annotated with the tenant and the operation.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from .environment import FunctionEnvironment

# Metric names every function may emit (alarms and dashboards are built on these names).
OPERATION_SUCCESS = "OperationSuccess"
TENANT_MISMATCH = "TenantMismatch"
AUDIT_WRITE_FAILED = "AuditWriteFailed"

TENANT_DIMENSION = "tenant_id"
ENVIRONMENT_DIMENSION = "environment"


class Observability:
    """The Powertools trio for one function, plus the flush that applies config-driven settings."""

    def __init__(self, env: FunctionEnvironment) -> None:
        self.env = env
        self.logger = Logger(service=env.service, level=env.log_level)
        self.logger.append_keys(tenant_id=env.tenant_id)
        self.metrics = Metrics(service=env.service)
        self.tracer = Tracer(service=env.service)

    def count(self, name: str) -> None:
        """Add one to the counter ``name`` for this invocation."""
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)

    def annotate(self, **annotations: str) -> None:
        """Add searchable X-Ray annotations to the current segment."""
        for key, value in annotations.items():
            self.tracer.put_annotation(key=key, value=value)

    def bind_request(self) -> None:
        """Put the function's own tenant back on every log line (keys are process-wide in Powertools)."""
        self.logger.append_keys(tenant_id=self.env.tenant_id)

    def flush(self, namespace: str | None) -> None:
        """Write this invocation's metrics under ``namespace``; without one they cannot be published."""
        if not self.metrics.metric_set:
            return
        if namespace is None:
            # EMF needs a namespace; rather than fail the invocation, say loudly what was lost.
            self.logger.error("metrics dropped: no metrics namespace in config or fallback", extra={"metrics": sorted(self.metrics.metric_set)})
            self.metrics.clear_metrics()
            return
        self.metrics.namespace = namespace
        self.metrics.add_dimension(name=TENANT_DIMENSION, value=self.env.tenant_id)
        self.metrics.add_dimension(name=ENVIRONMENT_DIMENSION, value=self.env.environment)
        self.metrics.flush_metrics()
