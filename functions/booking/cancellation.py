"""Cancellation terms from ``business/sla_definitions``.

A booking may be cancelled while its status is one of ``max_cancellable_status``. Within
``free_cancellation_minutes`` of being booked (inclusive) it is free; after that the fee is
``cancellation_fee_basis_points`` of the booking's total, rounded half-up to minor units.

>>> sla = SlaDefinitions(free_cancellation_minutes=30, cancellation_fee_basis_points=1000, max_cancellable_status=["PENDING"])
>>> booked = datetime.fromisoformat("2024-05-01T12:00:00+00:00")
>>> cancellation_terms(107380, booked, booked + timedelta(minutes=30), sla).fee_minor
0
>>> cancellation_terms(107380, booked, booked + timedelta(minutes=31), sla).fee_minor
10738
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from common.errors import Conflict
from common.money import basis_points_of

from .config_schema import SlaDefinitions


@dataclass(frozen=True)
class CancellationTerms:
    """What cancelling now costs."""

    free: bool
    fee_minor: int
    fee_basis_points: int


def ensure_cancellable(status: str, sla: SlaDefinitions) -> None:
    """``Conflict`` unless a booking in ``status`` may be cancelled."""
    if status not in sla.max_cancellable_status:
        raise Conflict(f"a booking in status {status} can no longer be cancelled")


def cancellation_terms(total_minor: int, booked_at: datetime, now: datetime, sla: SlaDefinitions) -> CancellationTerms:
    """The fee for cancelling at ``now`` a booking of ``total_minor`` made at ``booked_at``."""
    if now - booked_at <= timedelta(minutes=sla.free_cancellation_minutes):
        return CancellationTerms(free=True, fee_minor=0, fee_basis_points=0)
    return CancellationTerms(
        free=False,
        fee_minor=basis_points_of(total_minor, sla.cancellation_fee_basis_points),
        fee_basis_points=sla.cancellation_fee_basis_points,
    )
