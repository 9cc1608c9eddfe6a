"""Whose a booking is: the parties tracking checks every request against (OWASP API1).

Positions belong to a booking. Tracking reads the booking's details item from the tenant's
bookings table (one ``GetItem``, the only access its role has to that table) and takes its owner
(the customer, ``user_id``) and its assigned driver (``driver_id``, set when dispatch assigns
one). The item layout is the booking service's (``functions/booking/repository.py``).

>>> details_key("bk_1")
{'pk': {'S': 'BOOKING#bk_1'}, 'sk': {'S': 'DETAILS'}}
"""

from __future__ import annotations

from typing import Any

from common.access import ObjectParties
from common.dynamo_items import from_item

# The booking service's details item: ``BOOKING#<id>`` / ``DETAILS``.
BOOKING_PK_PREFIX, DETAILS_SK = "BOOKING#", "DETAILS"
OWNER_FIELD, DRIVER_FIELD, TENANT_FIELD = "user_id", "driver_id", "tenant_id"


def details_key(booking_id: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"{BOOKING_PK_PREFIX}{booking_id}"}, "sk": {"S": DETAILS_SK}}


def booking_parties(client: Any, table: str, booking_id: str, tenant_id: str) -> ObjectParties | None:
    """The owner and driver of booking ``booking_id`` of ``tenant_id``, or ``None`` when there is none."""
    answer = client.get_item(
        TableName=table,
        Key=details_key(booking_id),
        ProjectionExpression="#owner, #driver, #tenant",
        ExpressionAttributeNames={"#owner": OWNER_FIELD, "#driver": DRIVER_FIELD, "#tenant": TENANT_FIELD},
        ConsistentRead=True,
    )
    if "Item" not in answer:
        return None
    booking = from_item(answer["Item"])
    # The table is the tenant's own; the tenant id on the item is a second guard.
    if booking.get(TENANT_FIELD) != tenant_id or not isinstance(booking.get(OWNER_FIELD), str):
        return None
    driver = booking.get(DRIVER_FIELD)
    return ObjectParties(owner_id=booking[OWNER_FIELD], driver_id=driver if isinstance(driver, str) else None)
