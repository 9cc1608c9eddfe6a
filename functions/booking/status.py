"""The lifecycle of a booking. Which statuses may still be cancelled is config (``sla_definitions``).

Assigning a driver is part of the lifecycle itself: a pending booking becomes confirmed (a truck
is assigned, see ``CONFIRMED``); a confirmed one may get another driver (a truck breaks down);
once it is under way, delivered or cancelled, its driver no longer changes.

>>> BookingStatus("PENDING") is BookingStatus.PENDING
True
>>> ensure_assignable(BookingStatus.PENDING)
<BookingStatus.CONFIRMED: 'CONFIRMED'>
"""

from __future__ import annotations

from enum import Enum

from common.errors import Conflict


class BookingStatus(str, Enum):
    PENDING = "PENDING"  # created, not yet confirmed by dispatch
    CONFIRMED = "CONFIRMED"  # a truck is assigned
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


#: Status before an assignment -> status after it.
_ASSIGNMENT = {BookingStatus.PENDING: BookingStatus.CONFIRMED, BookingStatus.CONFIRMED: BookingStatus.CONFIRMED}


def ensure_assignable(status: BookingStatus) -> BookingStatus:
    """The status a booking in ``status`` has once a driver is assigned; ``Conflict`` when it cannot get one."""
    after = _ASSIGNMENT.get(status)
    if after is None:
        raise Conflict(f"a booking in status {status.value} cannot be assigned a driver")
    return after
