"""Bookings made through the real booking handler, for the services that act on a booking's behalf.

Tracking (and payment) check every request against the booking's parties: its customer (the
owner, who created it) and the driver dispatch assigned to it. ``Dispatch`` makes such bookings
the way production does: the customer creates one (``POST /bookings``), a dispatcher assigns a
driver (``POST /bookings/{id}/assign``).

``shared_dispatch`` provisions one tenant in a moto of its own, for a module whose tests each make
their own bookings and compare the tables before and after: provisioning is most of a test's
time, and such a module runs in one xdist group so it is done once.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import boto3
from moto import mock_aws

from common import clock

from .conftest import REGION
from .fn_services import call_api
from .fn_support import Tenant, build_function, import_handler, provision, response_json, scan_all, tenant_config

booking_handler = import_handler("booking")
#: The principals of the tests: a booking's customer, its driver, someone else of each kind, dispatch.
OWNER, OTHER_CUSTOMER = "customer-1", "customer-2"
DRIVER, OTHER_DRIVER = "driver-1", "driver-2"
DISPATCHER = "dispatch-1"


def shipment(**overrides: Any) -> dict[str, Any]:
    """A valid create request, picked up tomorrow."""
    body = {
        "distance_km": "12.5",
        "weight_kg": "800",
        "pickup": {"lat": 19.076, "lon": 72.8777},
        "dropoff": {"lat": 18.5204, "lon": 73.8567},
        "pickup_at": (clock.utc_now() + timedelta(days=1)).isoformat(),
    }
    body.update(overrides)
    return body


@dataclass
class Dispatch:
    """The booking API of one tenant, driven as its customers and dispatchers drive it."""

    function: Any
    tenant: Tenant
    _keys: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    def of(cls, tenant: Tenant, code_root: Path) -> Dispatch:
        return cls(build_function(booking_handler, tenant, code_root), tenant)

    def send(self, method: str, path: str, *, user: str = OWNER, roles: str = "customer", **options: Any) -> dict[str, Any]:
        """A request to the booking API as ``user`` with ``roles`` of this tenant; the raw response."""
        return call_api(self.function, method, path, user=user, roles=roles, tenant=self.tenant.tenant_id, **options)

    def book(self, owner: str = OWNER, **overrides: Any) -> str:
        """A new pending booking of ``owner``; its id."""
        response = call_api(self.function, "POST", "/bookings", body=shipment(**overrides), user=owner, tenant=self.tenant.tenant_id, headers={"Idempotency-Key": f"key-{next(self._keys)}"})
        assert response["statusCode"] == 201, response["body"]
        return str(response_json(response)["booking_id"])

    def assign(self, booking_id: str, driver: str, *, user: str = DISPATCHER, roles: str = "dispatcher") -> dict[str, Any]:
        """``POST /bookings/{booking_id}/assign`` as ``user``; the raw response."""
        return call_api(self.function, "POST", f"/bookings/{booking_id}/assign", body={"driver_id": driver}, user=user, roles=roles, tenant=self.tenant.tenant_id)

    def booked(self, owner: str = OWNER, driver: str | None = DRIVER) -> str:
        """A booking of ``owner``, assigned to ``driver`` (left pending when ``None``); its id."""
        booking_id = self.book(owner)
        if driver is not None:
            response = self.assign(booking_id, driver)
            assert response["statusCode"] == 200, response["body"]
        return booking_id


def booking_items(tenant: Tenant) -> list[dict[str, Any]]:
    """Every item of the tenant's bookings table (details and list summaries)."""
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["booking"]["bookings_table"])


def details_of(tenant: Tenant, booking_id: str) -> dict[str, Any]:
    """The stored details item of ``booking_id``."""
    [item] = [item for item in booking_items(tenant) if item["pk"] == f"BOOKING#{booking_id}"]
    return item


def items_of(tenant: Tenant, booking_id: str) -> list[dict[str, Any]]:
    """The stored items of ``booking_id``: its details and its list summaries."""
    return [item for item in booking_items(tenant) if item.get("booking_id") == booking_id]


@contextmanager
def shared_dispatch(root: Path, config: dict[str, Any] | None = None, tenant_id: str = "acme") -> Iterator[Dispatch]:
    """``tenant_id`` (with ``config``, the defaults' by default) in a moto of its own, for a whole module."""
    with mock_aws():
        tenant = provision(tenant_id, "dev", config if config is not None else tenant_config(tenant_id, "dev"), REGION)
        yield Dispatch.of(tenant, root)
