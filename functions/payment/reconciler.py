"""Lambda entry point of the scheduled reconciler: ``payment.reconciler.lambda_handler``.

An EventBridge rule (``components/payment.py``, every ``technical/reconciliation.schedule_minutes``)
invokes it; each run settles the tenant's unfinished payment operations started more than
``settle_after_minutes`` ago, at most ``max_operations_per_run`` of them
(``payment.reconciliation``). It stops taking new operations while it still has the time one
provider request can take, so a run never dies half-way through a settlement (and if it did,
the next run would finish it).

Each settled operation is counted (``PaymentsReconciled``; ``PaymentsStillPending`` when the
provider could not answer) and audited as ``payment:reconcile`` on the payment, by the scheduler.
``build`` makes one for any environment and code root, and provider client.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from common import clock
from common.audit import ERROR, SUCCESS
from common.environment import FunctionEnvironment
from common.runtime import FunctionRuntime

from .api_key import ProviderApiKey
from .circuit_breaker import CircuitBreaker
from .config_schema import PaymentConfig
from .provider import ProviderClient
from .reconciliation import STILL_PENDING, Outcome, TenantPayments, tenant_reconciler

CODE_ROOT = Path(__file__).resolve().parent.parent
OPERATION = "payment:reconcile"
#: Who acts when the reconciler settles: the schedule, not a user.
SCHEDULER_CALLER = "events.amazonaws.com"
RECONCILED_METRIC, STILL_PENDING_METRIC = "PaymentsReconciled", "PaymentsStillPending"
_MILLIS = 1000


class ScheduledReconciler:
    """One tenant's reconciler run per scheduled invocation."""

    def __init__(self, runtime: FunctionRuntime[PaymentConfig], provider: ProviderClient) -> None:
        self._runtime = runtime
        self._provider = provider
        self._api_key: ProviderApiKey | None = None

    def handle(self, event: Any, context: Any) -> dict[str, int]:
        """The Lambda handler body: how many operations were settled and how many are still pending."""
        runtime = self._runtime
        runtime.obs.annotate(tenant_id=runtime.env.tenant_id, operation=OPERATION)
        service, global_snapshot = runtime.config.service_config(), runtime.config.global_config()
        if self._api_key is None:
            self._api_key = ProviderApiKey(runtime.aws.client("secretsmanager"))
        payments = TenantPayments(
            tenant_id=runtime.env.tenant_id,
            config=service.model,
            global_config=global_snapshot.model,
            config_version=service.version,
            dynamodb=runtime.aws.client("dynamodb"),
            sns=runtime.aws.client("sns"),
            api_key=self._api_key,
            provider=self._provider,
        )
        rules = service.model.technical.reconciliation
        operational = global_snapshot.model.operational
        # The longest one settlement can wait on the provider: every attempt's timeout and backoff.
        reserve_ms = operational.retry_policies.max_attempts * (operational.timeouts.provider_timeout_seconds * _MILLIS + operational.retry_policies.max_delay_ms)
        outcomes = tenant_reconciler(payments).run(
            now=clock.utc_now(),
            older_than=timedelta(minutes=rules.settle_after_minutes),
            limit=rules.max_operations_per_run,
            keep_going=lambda: context is None or context.get_remaining_time_in_millis() > reserve_ms,
        )
        request_id = str(getattr(context, "aws_request_id", "") or "scheduled")
        for outcome in outcomes:
            self._record(outcome, request_id)
        pending = sum(1 for outcome in outcomes if outcome.action == STILL_PENDING)
        runtime.logger.info("reconciled", extra={"operations": len(outcomes), "still_pending": pending})
        return {"operations": len(outcomes), "still_pending": pending}

    def _record(self, outcome: Outcome, request_id: str) -> None:
        still_pending = outcome.action == STILL_PENDING
        self._runtime.obs.count(STILL_PENDING_METRIC if still_pending else RECONCILED_METRIC)
        self._runtime.record_audit(
            action=OPERATION, user_id=SCHEDULER_CALLER, request_id=request_id, outcome=ERROR if still_pending else SUCCESS, resource_id=outcome.payment_id
        )


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT, provider: ProviderClient | None = None) -> FunctionRuntime[PaymentConfig]:
    """The scheduled reconciler function for ``env`` (its handler is ``.lambda_handler``); its
    provider client over HTTPS unless another is given (tests pass one over a fake provider)."""
    runtime = FunctionRuntime(env, PaymentConfig, code_root=code_root)
    runtime.serve(ScheduledReconciler(runtime, provider or ProviderClient(breaker=CircuitBreaker())).handle)
    return runtime


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
