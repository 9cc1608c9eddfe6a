"""The reconciler: settles payment operations that were left unfinished.

An operation is unfinished when its marker is still in the payments table (``payment.repository``):
the process answering the request died, timed out, or lost the provider's answer or the table
between storing the intent and finishing. For each marker started before a cut-off, oldest first:

- the record is still pending (``AUTHORIZING``, ``CAPTURING``, a ``PENDING`` refund): the provider
  is asked again under the stored idempotency key, which answers with the original result when the
  first request reached it (the hold is found, not made twice) and carries the request out when it
  did not; the record is completed, or failed on a definite no (``payment.settlement``);
- the record is settled already (the API finished it, but its event or marker was left): the event
  is published (a duplicate by id, dropped by consumers) and the marker dropped.

Completions are conditional on the record still being pending, so a reconciler racing an API
retry (or another reconciler) changes nothing the second time, and a refund's reservation is
released at most once. A provider that is still unreachable leaves the operation for the next
run. With ``dry_run`` nothing is asked or written: the report says what would be settled.

The scheduled function (``payment.reconciler``) and ``platformctl payments reconcile`` both run
``Reconciler.run``; each builds the ``Settlement`` from the tenant's config.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from common import clock
from common.config_schema import GlobalConfig
from common.errors import ServiceError
from common.events import DomainEvent, EventPublisher

from .api_key import ProviderApiKey
from .config_schema import PaymentConfig
from .provider import ProviderClient, provider_call
from .repository import AUTHORIZE, AUTHORIZING, CAPTURE, CAPTURING, MARKER_ATTRIBUTE, REFUND, REFUND_PENDING, Marker, PaymentRepository
from .settlement import Publish, Settlement

SETTLED, STILL_PENDING, FINISHED, ORPHANED = "settled", "still pending", "finished", "orphaned"
WOULD_SETTLE, WOULD_FINISH = "would settle", "would finish"


@dataclass(frozen=True)
class Outcome:
    """What the reconciler did with one unfinished operation."""

    payment_id: str
    operation: str
    started_at: str
    #: ``settled`` (asked the provider and completed or failed the record), ``finished`` (the
    #: record was settled already; event and marker handled), ``still pending`` (the provider
    #: could not answer), ``orphaned`` (a marker without its record), or a dry run's ``would ...``.
    action: str
    #: The record's status afterwards (the refund's, for a refund).
    status: str
    refund_id: str | None = None
    detail: str = ""


class Reconciler:
    """Settles the markers of one tenant's payments table through one ``Settlement``."""

    def __init__(self, settlement: Settlement) -> None:
        self._settlement = settlement
        self._repository = settlement.repository

    def run(self, *, now: datetime, older_than: timedelta, limit: int, dry_run: bool = False, keep_going: Callable[[], bool] = lambda: True) -> list[Outcome]:
        """Settle up to ``limit`` operations started before ``now - older_than``; one outcome each.

        ``keep_going`` is asked before each operation (the scheduled function stops while it
        still has time to finish the one it is on)."""
        outcomes = []
        for marker in self._repository.markers_before(now - older_than, limit):
            if not keep_going():
                break
            outcomes.append(self.settle(marker, dry_run=dry_run))
        return outcomes

    def settle(self, marker: Marker, *, dry_run: bool = False) -> Outcome:
        """Carry one unfinished operation to its end (or say what that would take)."""
        payment = self._repository.get(marker.payment_id)
        refund = self._repository.get_refund(marker.payment_id, marker.refund_id) if marker.refund_id else None
        record = refund if marker.operation == REFUND else payment
        if payment is None or record is None:
            if not dry_run:
                self._repository.drop_marker(marker.sort_key)
            return _outcome(marker, WOULD_FINISH if dry_run else ORPHANED, "missing")
        # Pending for this marker: a later operation's pending state (a capture begun after an
        # authorization whose marker was left) is that operation's marker's to settle.
        pending = _is_pending(marker.operation, record) and record.get(MARKER_ATTRIBUTE) == marker.sort_key
        if dry_run:
            return _outcome(marker, WOULD_SETTLE if pending else WOULD_FINISH, str(record["status"]))
        try:
            if pending:
                record = self._drive(marker.operation, payment, record)
                payment = self._repository.get(marker.payment_id) or payment
        except ServiceError as exc:
            return _outcome(marker, STILL_PENDING, str(record["status"]), f"{exc.code}: {exc.message}")
        if marker.operation == REFUND:
            self._settlement.finish_refund(payment, record, marker.sort_key)
        else:
            self._settlement.finish_payment(payment, marker.operation, marker.sort_key)
        return _outcome(marker, SETTLED if pending else FINISHED, str(record["status"]))

    def _drive(self, operation: str, payment: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        if operation == AUTHORIZE:
            return self._settlement.drive_authorization(payment)
        if operation == CAPTURE:
            return self._settlement.drive_capture(payment)
        return self._settlement.drive_refund(payment, record)


def _is_pending(operation: str, record: Mapping[str, Any]) -> bool:
    status = record["status"]
    return (operation, status) in ((AUTHORIZE, AUTHORIZING), (CAPTURE, CAPTURING), (REFUND, REFUND_PENDING))


def _outcome(marker: Marker, action: str, status: str, detail: str = "") -> Outcome:
    return Outcome(marker.payment_id, marker.operation, marker.started_at, action, status, marker.refund_id, detail)


def event_publisher(sns_client: Any, tenant_id: str, config: PaymentConfig, config_version: str, clock: Callable[[], datetime]) -> Publish:
    """``publish`` for a reconciler: the tenant's events topic, stamped with the config version used."""
    publisher = EventPublisher(sns_client)

    def publish(event_type: str, subject_id: str, data: Mapping[str, Any]) -> None:
        event = DomainEvent(f"{subject_id}:{event_type}", event_type, tenant_id, clock(), config_version, data)
        publisher.publish(config.integration.resources.events_topic_arn, event)

    return publish


@dataclass(frozen=True)
class TenantPayments:
    """Where one tenant's payments are and how its provider is reached: its validated config and
    the clients the reconciler uses (any boto3 clients: a Lambda's, or an operator's session's)."""

    tenant_id: str
    config: PaymentConfig
    global_config: GlobalConfig
    config_version: str
    dynamodb: Any
    sns: Any
    api_key: ProviderApiKey
    provider: ProviderClient


def tenant_reconciler(payments: TenantPayments) -> Reconciler:
    """The reconciler of ``payments``' table, asking its provider and publishing on its topic."""
    config, global_config = payments.config, payments.global_config

    def post(path: str, body: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return payments.provider.post(provider_call(config, global_config, payments.api_key), path, body, idempotency_key)

    repository = PaymentRepository(payments.dynamodb, config.integration.resources.payments_table)
    publish = event_publisher(payments.sns, payments.tenant_id, config, payments.config_version, clock.utc_now)
    return Reconciler(Settlement(repository, post, publish))
